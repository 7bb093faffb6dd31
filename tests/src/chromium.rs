//! Headless Chromium (Debian's `chromium`) for browser tests, driven over
//! the DevTools protocol (CDP).
//!
//! The transport is `--remote-debugging-pipe` (JSON messages separated by
//! NUL bytes on file descriptors 3 and 4), not a DevTools port: a port
//! lives on the loopback of the test's network namespace, which the test
//! process outside it cannot reach, while a pipe crosses `ip netns exec`
//! unchanged. It also needs no WebSocket client: the whole client is this
//! file, std and serde_json (chromiumoxide was weighed and left out: its
//! generated protocol types take minutes to compile on two cores, for the
//! five commands tests use).
//!
//! Chromium runs with a fake camera and microphone (a moving test pattern
//! and a beep), grants media permissions without asking, accepts the
//! broker's self-signed certificate, and gets a fresh profile per process.

use crate::lan::Host;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one DevTools command may take.
const COMMAND_DEADLINE: Duration = Duration::from_secs(30);

/// A running headless Chromium with one page (tab) attached.
pub struct Chromium {
    child: Child,
    to_browser: ChildStdin,
    from_browser: Receiver<Value>,
    next_id: u64,
    session: String,
    console: Arc<Mutex<Vec<String>>>,
    /// Chromium's own stderr.
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Chromium {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Chromium(pid {})", self.child.id())
    }
}

/// The command-line flags of a test browser (besides the profile dir).
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--ignore-certificate-errors",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--window-size=1280,800",
];

impl Chromium {
    /// Starts Chromium inside `host` (or in the current namespace: `None`)
    /// and opens one blank page.
    pub fn launch(host: Option<&Host>) -> anyhow::Result<Chromium> {
        Self::launch_with(host, &[])
    }

    /// [`Chromium::launch`] with more flags (a later flag overrides one of
    /// [`FLAGS`], e.g. `--use-fake-ui-for-media-stream=deny`).
    pub fn launch_with(host: Option<&Host>, extra: &[&str]) -> anyhow::Result<Chromium> {
        let dir = tempfile::Builder::new()
            .prefix("duet-chromium-")
            .tempdir()?;
        let log = dir.path().join("chromium.log");
        let profile = dir.path().join("profile");
        // fds 3 and 4 are the DevTools pipe: our stdin/stdout pipes, moved.
        let script = r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#;
        let mut cmd = match host {
            Some(h) => h.command("sh"),
            None => Command::new("sh"),
        };
        cmd.args(["-c", script, "chromium"])
            .args(FLAGS)
            .args(extra)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log)?));
        let mut child = cmd
            .spawn()
            .context("starting chromium (install it: scripts/install-deps)")?;
        let to_browser = child.stdin.take().context("no pipe to chromium")?;
        let mut from = child.stdout.take().context("no pipe from chromium")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            while let Ok(n) = from.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut browser = Chromium {
            child,
            to_browser,
            from_browser: rx,
            next_id: 1,
            session: String::new(),
            console: Arc::default(),
            log,
            _dir: dir,
        };
        let target = browser
            .command(None, "Target.createTarget", json!({"url": "about:blank"}))
            .context("chromium did not answer on its DevTools pipe")?;
        let target_id = target["targetId"]
            .as_str()
            .context("no targetId")?
            .to_string();
        let attached = browser.command(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        )?;
        browser.session = attached["sessionId"]
            .as_str()
            .context("no sessionId")?
            .to_string();
        browser.call("Runtime.enable", json!({}))?;
        browser.call("Page.enable", json!({}))?;
        Ok(browser)
    }

    fn command(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg)?;
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .with_context(|| format!("sending {method} to chromium"))?;
        let start = Instant::now();
        loop {
            let left = COMMAND_DEADLINE.saturating_sub(start.elapsed());
            let v = self
                .from_browser
                .recv_timeout(left)
                .with_context(|| format!("no answer to {method} (chromium gone?)"))?;
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    bail!("{method}: {e}");
                }
                return Ok(v["result"].clone());
            }
            self.note_event(&v);
        }
    }

    fn note_event(&self, v: &Value) {
        let line = match v["method"].as_str() {
            Some("Runtime.consoleAPICalled") => {
                let args: Vec<String> = v["params"]["args"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| match &x["value"] {
                                Value::String(s) => s.clone(),
                                Value::Null => x["description"].as_str().unwrap_or("").to_string(),
                                other => other.to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                format!(
                    "console.{}: {}",
                    v["params"]["type"].as_str().unwrap_or("log"),
                    args.join(" ")
                )
            }
            Some("Runtime.exceptionThrown") => format!(
                "exception: {}",
                v["params"]["exceptionDetails"]["exception"]["description"]
                    .as_str()
                    .unwrap_or_else(|| v["params"]["exceptionDetails"]["text"]
                        .as_str()
                        .unwrap_or("?"))
            ),
            _ => return,
        };
        if let Ok(mut c) = self.console.lock() {
            c.push(line);
        }
    }

    /// A DevTools command on the page.
    pub fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        let session = self.session.clone();
        self.command(Some(&session), method, params)
    }

    /// Opens `url` in the page and waits until its document has loaded.
    pub fn navigate(&mut self, url: &str) -> anyhow::Result<()> {
        let r = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(e) = r.get("errorText") {
            bail!("navigating to {url}: {e}");
        }
        self.wait_js(
            &format!("{url} to load"),
            Duration::from_secs(20),
            "document.readyState === 'complete'",
        )?;
        Ok(())
    }

    /// Evaluates `js` in the page (awaiting a promise, as a user gesture)
    /// and returns its value.
    pub fn eval(&mut self, js: &str) -> anyhow::Result<Value> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "awaitPromise": true, "returnByValue": true, "userGesture": true}),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            let what = e["exception"]["description"]
                .as_str()
                .or_else(|| e["text"].as_str())
                .unwrap_or("exception");
            bail!("`{js}` threw: {what}");
        }
        Ok(r["result"]["value"].clone())
    }

    /// Polls `js` until it returns a truthy value, and returns that value.
    pub fn wait_js(&mut self, what: &str, deadline: Duration, js: &str) -> anyhow::Result<Value> {
        crate::wait_until(what, deadline, || {
            let v = self.eval(js)?;
            let truthy = match &v {
                Value::Null | Value::Bool(false) => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            Ok(truthy.then_some(v))
        })
        .map_err(|e| anyhow::anyhow!("{e:#}\n--- page console:\n{}", self.console().join("\n")))
    }

    /// Clicks the element `selector` (an error if there is none or it is
    /// disabled or hidden).
    pub fn click(&mut self, selector: &str) -> anyhow::Result<()> {
        let sel = serde_json::to_string(selector)?;
        let r = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); \
             if (!e) return 'missing'; if (e.disabled) return 'disabled'; \
             if (e.closest('[hidden]')) return 'hidden'; e.click(); return 'ok'; }})()"
        ))?;
        match r.as_str() {
            Some("ok") => Ok(()),
            other => bail!("cannot click {selector}: {}", other.unwrap_or("?")),
        }
    }

    /// The text of `#status` (the page's call state).
    pub fn status(&mut self) -> anyhow::Result<String> {
        Ok(self
            .eval("document.querySelector('#status')?.textContent ?? ''")?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// Frames the page's `video#remote` decoded so far.
    pub fn remote_frames(&mut self) -> anyhow::Result<u64> {
        Ok(self
            .eval("document.querySelector('video#remote')?.getVideoPlaybackQuality().totalVideoFrames ?? 0")?
            .as_u64()
            .unwrap_or(0))
    }

    /// A PNG of the page as shown (1280x800 unless resized).
    pub fn screenshot(&mut self, path: &Path) -> anyhow::Result<()> {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}))?;
        let data = r["data"].as_str().context("no screenshot data")?;
        std::fs::write(path, base64_decode(data)?)?;
        Ok(())
    }

    /// Emulates a screen of `width` x `height` CSS pixels (`mobile`: a
    /// phone's viewport and touch), e.g. to see the page as on a phone.
    pub fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) -> anyhow::Result<()> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )?;
        Ok(())
    }

    /// What the page logged (console calls, uncaught exceptions).
    pub fn console(&self) -> Vec<String> {
        self.console.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Closing the pipe ends Chromium; kill the wrapper's child tree too.
        let _ = self.command(None, "Browser.close", json!({}));
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- page console ----\n{}", self.console().join("\n"));
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("---- chromium stderr (last lines) ----");
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// A bare RTCPeerConnection in a page, for media interop tests without the
/// broker: `h.start()` opens the fake camera and microphone, `h.offer()`,
/// `h.answer(sdp)`, `h.remote(type, sdp)`, `h.add(mline, candidate)`;
/// local candidates queue in `h.ice` for the test to collect; `h.frames()`
/// counts decoded remote frames and `h.firstFrameAt` is the time (ms since
/// the epoch) of the first. (A candidate that arrives before the remote
/// description waits for it.)
pub const PEER_HARNESS: &str = include_str!("chromium/peer_harness.js");

/// Serves `html` at `http://127.0.0.1:PORT/` (a secure context, as camera
/// access needs) from a thread of this process, in its network namespace,
/// for as long as the process lives. Returns the URL.
pub fn serve_local_page(html: &'static str) -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/", listener.local_addr()?);
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut head = [0u8; 4096];
            let _ = conn.read(&mut head);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                html.len()
            );
        }
    });
    Ok(url)
}

/// Standard base64 (what CDP uses for binary data).
fn base64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => bail!("not base64: {c:#x}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes() {
        assert_eq!(
            super::base64_decode("aGVsbG8=").ok(),
            Some(b"hello".to_vec())
        );
        assert_eq!(super::base64_decode("YWJj").ok(), Some(b"abc".to_vec()));
        assert!(super::base64_decode("a*b").is_err());
    }
}
