//! A virtual X server per test node (window mode), and what tests read
//! off it: screenshots and region statistics, the window list, key presses.
//!
//! Xvfb runs outside the namespaces; X over its Unix path socket reaches
//! into them, so a `duet up` in a host with `DISPLAY` set shows its window
//! here. `-displayfd` lets Xvfb pick a free display number.

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

/// A virtual X server, killed on drop.
pub struct Xvfb {
    child: Child,
    /// `:N`, for `DISPLAY`.
    pub display: String,
}

impl std::fmt::Debug for Xvfb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Xvfb({})", self.display)
    }
}

impl Xvfb {
    /// Starts a 1280x720 screen with a black root window (`-br`), so an
    /// empty screen is one colour.
    pub fn start() -> anyhow::Result<Xvfb> {
        Self::start_with_depth(24)
    }

    /// [`Xvfb::start`] with `depth` bits per pixel (24, or 16 as on some
    /// small displays and remote desktops).
    pub fn start_with_depth(depth: u32) -> anyhow::Result<Xvfb> {
        let screen = format!("1280x720x{depth}");
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                &screen,
                "-br",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb (package xvfb)")?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("Xvfb stdout")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let Ok(n) = line.trim().parse::<u32>() else {
            let _ = child.kill();
            bail!("Xvfb printed {line:?} instead of a display number");
        };
        Ok(Xvfb {
            child,
            display: format!(":{n}"),
        })
    }

    /// Saves a PNG of the whole screen.
    pub fn screenshot(&self, png: &str) -> anyhow::Result<()> {
        screenshot(&self.display, png)
    }

    /// `xwininfo -root -tree` (every window with its name and geometry).
    pub fn tree(&self) -> String {
        Command::new("xwininfo")
            .args(["-root", "-tree", "-display", &self.display])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// `xdotool ARGS…` on this display.
    pub fn xdotool(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .context("running xdotool (package xdotool)")?;
        if !out.status.success() {
            bail!(
                "xdotool {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Xvfb {
    /// The id of the (first) window titled `title` (non-ASCII characters
    /// match any: the title's encoding on the wire is the X server's).
    pub fn window(&self, title: &str) -> anyhow::Result<String> {
        let pattern: String = title
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    ".*".into()
                }
            })
            .collect();
        let out = self.xdotool(&["search", "--name", &format!("^{pattern}$")])?;
        out.lines()
            .next()
            .map(str::to_string)
            .context("no such window")
    }

    /// Presses `key` (an X key name: `h`, `Escape`) in the window titled
    /// `title`, focused first (keys go to the focused window).
    pub fn key(&self, title: &str, key: &str) -> anyhow::Result<()> {
        let id = self.window(title)?;
        self.xdotool(&["windowfocus", &id])?;
        self.xdotool(&["key", key])?;
        Ok(())
    }

    /// Closes the window titled `title` as a window manager's close button
    /// does: a WM_DELETE_WINDOW client message (python3-xlib).
    pub fn close(&self, title: &str) -> anyhow::Result<()> {
        let id = self.window(title)?;
        let script = r#"
import sys
from Xlib import display, X, protocol
d = display.Display(sys.argv[1])
w = d.create_resource_object("window", int(sys.argv[2]))
proto = d.intern_atom("WM_PROTOCOLS")
delete = d.intern_atom("WM_DELETE_WINDOW")
ev = protocol.event.ClientMessage(window=w, client_type=proto, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
w.send_event(ev, event_mask=X.NoEventMask)
d.flush()
"#;
        // Debian's python3, where the package python3-xlib installs.
        let out = Command::new("/usr/bin/python3")
            .args(["-c", script, &self.display, &id])
            .output()
            .context("python3 (package python3-xlib)")?;
        if !out.status.success() {
            bail!("closing {title}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

/// Where a window is and its size, as `xdotool getwindowgeometry` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl Xvfb {
    /// The screen's size (1280x720, see [`Xvfb::start`]).
    pub const SCREEN: (u32, u32) = (1280, 720);

    /// The geometry of window `id` (decimal, as [`Xvfb::window`] returns).
    pub fn geometry(&self, id: &str) -> anyhow::Result<Geometry> {
        let out = self.xdotool(&["getwindowgeometry", "--shell", id])?;
        let field = |k: &str| -> anyhow::Result<i64> {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .with_context(|| format!("no {k} in {out:?}"))?
                .trim()
                .parse()
                .with_context(|| format!("{k} in {out:?}"))
        };
        Ok(Geometry {
            x: field("X")? as i32,
            y: field("Y")? as i32,
            width: field("WIDTH")? as u32,
            height: field("HEIGHT")? as u32,
        })
    }

    /// Moves the pointer to (x, y) and counts the non-transparent pixels
    /// of the cursor shown there (XFixes GetCursorImage, python3-xlib):
    /// 0 when the cursor is hidden.
    pub fn cursor_pixels_at(&self, x: u32, y: u32) -> anyhow::Result<usize> {
        self.xdotool(&["mousemove", &x.to_string(), &y.to_string()])?;
        let script = r#"
import sys
from Xlib import display
d = display.Display(sys.argv[1])
d.xfixes_query_version()
img = d.xfixes_get_cursor_image(None)
print(sum(1 for p in img.cursor_image if (p >> 24) & 0xff))
"#;
        let out = Command::new("/usr/bin/python3")
            .args(["-c", script, &self.display])
            .output()
            .context("python3 (package python3-xlib)")?;
        if !out.status.success() {
            bail!("cursor image: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves a PNG of the whole screen of X display `display`.
pub fn screenshot(display: &str, png: &str) -> anyhow::Result<()> {
    let xwd = Command::new("xwd")
        .args(["-root", "-silent", "-display", display])
        .output()?;
    if !xwd.status.success() {
        bail!("xwd: {}", String::from_utf8_lossy(&xwd.stderr));
    }
    let mut convert = Command::new("convert")
        .args(["xwd:-", &format!("png:{png}")])
        .stdin(Stdio::piped())
        .spawn()?;
    convert
        .stdin
        .take()
        .context("convert stdin")?
        .write_all(&xwd.stdout)?;
    if !convert.wait()?.success() {
        bail!("convert failed");
    }
    Ok(())
}

/// Statistics of a rectangle of a PNG: mean R, G, B (0..1), the standard
/// deviation (0..1) and the number of unique colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub r: f64,
    pub g: f64,
    pub b: f64,
    pub stddev: f64,
    pub colours: u64,
}

/// Statistics of `w`x`h` at (`x`, `y`) of `png` (ImageMagick `convert`).
pub fn region(png: &str, x: u32, y: u32, w: u32, h: u32) -> anyhow::Result<Region> {
    let out = Command::new("convert")
        .args([
            png,
            "-crop",
            &format!("{w}x{h}+{x}+{y}"),
            "+repage",
            "-format",
            "%[fx:mean.r] %[fx:mean.g] %[fx:mean.b] %[fx:standard_deviation] %k",
            "info:",
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Vec<f64> = text
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    let [r, g, b, stddev, colours] = v[..] else {
        bail!(
            "convert printed {text:?} ({})",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    Ok(Region {
        r,
        g,
        b,
        stddev,
        colours: colours as u64,
    })
}
