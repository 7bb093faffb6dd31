//! The memory curve as an SVG (plotters): VmRSS and RssAnon of both nodes
//! against the number of calls made. Labels use DejaVu Sans
//! (fonts-dejavu-core, which scripts/install-deps installs).

use anyhow::anyhow;
use duet_tests::memory::Footprint;
use plotters::prelude::*;
use std::path::Path;

/// A line: its legend, the node (0 alice, 1 bob), the figure, the colour.
type Series = (&'static str, usize, fn(&Footprint) -> f64, RGBColor);

/// Draws `curve` (index = calls made so far) into `path`.
pub fn draw(path: &Path, curve: &[[Footprint; 2]]) -> anyhow::Result<()> {
    duet_tests::measure::register_plot_font()?;
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing {}: {e}", path.display());
    let n = curve.len().saturating_sub(1).max(1);
    let top = curve
        .iter()
        .flat_map(|f| f.iter().map(Footprint::rss_mib))
        .fold(0.0, f64::max)
        * 1.15;
    let root = SVGBackend::new(path, (800, 450)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "duet up: memory with no call, after each call",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0usize..n, 0.0..top.max(1.0))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("calls made")
        .y_desc("MiB")
        .draw()
        .map_err(|e| err(&e))?;
    let series: [Series; 4] = [
        ("VmRSS alice (caller)", 0, Footprint::rss_mib, RED),
        ("VmRSS bob (callee)", 1, Footprint::rss_mib, BLUE),
        (
            "RssAnon alice",
            0,
            Footprint::anon_mib,
            RGBColor(240, 150, 150),
        ),
        (
            "RssAnon bob",
            1,
            Footprint::anon_mib,
            RGBColor(150, 150, 240),
        ),
    ];
    for (label, side, value, color) in series {
        chart
            .draw_series(LineSeries::new(
                curve.iter().enumerate().map(|(i, f)| (i, value(&f[side]))),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
