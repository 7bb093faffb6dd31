//! The bench's plot (SVG, plotters): video fps decoded and glass-to-glass
//! median against loss, caller and callee, the pair's glass-to-glass as the
//! floor.

use crate::level::{Level, Side};
use crate::Floor;
use plotters::prelude::*;
use std::path::Path;

pub fn write(path: &Path, levels: &[Level], floor: Option<&Floor>) -> anyhow::Result<()> {
    duet_tests::measure::register_plot_font()?;
    // Loss levels only: the jitter levels are in the table.
    let levels: Vec<&Level> = levels.iter().filter(|l| l.net.jitter_ms == 0).collect();
    let max_loss = levels.iter().map(|l| l.net.loss).max().unwrap_or(0).max(1) as f64;
    let root = SVGBackend::new(path, (960, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let series = |side: usize, y: &dyn Fn(&Side) -> f64| -> Vec<(f64, f64)> {
        levels
            .iter()
            .map(|l| (f64::from(l.net.loss), y(&l.sides[side])))
            .filter(|(_, v)| v.is_finite())
            .collect()
    };
    let mut fps = ChartBuilder::on(&left)
        .caption("video fps decoded vs loss each way", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..max_loss, 0f64..32f64)?;
    fps.configure_mesh()
        .x_desc("loss (%)")
        .y_desc("fps")
        .draw()?;
    let max_g2g = levels
        .iter()
        .flat_map(|l| l.sides.iter().map(|s| s.g2g_median))
        .filter(|v| v.is_finite())
        .fold(40.0f64, f64::max)
        * 1.2;
    let mut g2g = ChartBuilder::on(&right)
        .caption("glass-to-glass median vs loss", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..max_loss, 0f64..max_g2g)?;
    g2g.configure_mesh()
        .x_desc("loss (%)")
        .y_desc("ms")
        .draw()?;
    for (side, name, color) in [(0, "caller", BLUE), (1, "callee", RED)] {
        fps.draw_series(LineSeries::new(
            series(side, &|s| s.fps),
            color.stroke_width(2),
        ))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        g2g.draw_series(LineSeries::new(
            series(side, &|s| s.g2g_median),
            color.stroke_width(2),
        ))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
    }
    if let Some(f) = floor {
        let line = vec![(0.0, f.g2g_median), (max_loss, f.g2g_median)];
        g2g.draw_series(LineSeries::new(line, BLACK.stroke_width(1)))?
            .label("in-process pair, no loss")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK));
    }
    for chart in [&mut fps, &mut g2g] {
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .position(SeriesLabelPosition::LowerLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
