//! The broker's web page as tests and benches use it, through the element
//! ids it promises (`#name`, `#join`, `#my-id`, `#peers li[data-name]
//! button.call`, `#incoming`, `#answer`, `#reject`, `#hangup`, `#status`,
//! `video#remote`), in a [`Chromium`].

use crate::broker::DuetBroker;
use crate::chromium::Chromium;
use crate::lan::Host;
use crate::NodeOptions;
use std::time::Duration;

/// The HTTPS port `duet broker` serves the page on by default.
pub const WEB_PORT: u16 = 7443;

/// The page's URL on a broker running in `host`.
pub fn page_url(host: &Host) -> String {
    format!("https://{}:{WEB_PORT}/", host.ip)
}

/// `duet up` options of a node that uses `broker` (so web users can reach
/// it), plus `extra`; the harness makes it headless with test sources.
pub fn node_options(name: &str, broker: &DuetBroker, extra: &[&str]) -> NodeOptions {
    let mut o = NodeOptions::named(name).args(["--no-console", "--broker", &broker.addr]);
    for a in extra {
        o = o.arg(a);
    }
    o
}

fn sel_name(name: &str) -> anyhow::Result<String> {
    Ok(format!(
        "#peers li[data-name={}] button.call",
        serde_json::to_string(name)?
    ))
}

/// Opens the page at `url`, joins as `name`, and returns the id the broker
/// gave (`web:…`).
pub fn open_and_join(page: &mut Chromium, url: &str, name: &str) -> anyhow::Result<String> {
    page.navigate(url)?;
    let n = serde_json::to_string(name)?;
    page.eval(&format!("document.querySelector('#name').value = {n}"))?;
    page.click("#join")?;
    let id = page.wait_js(
        &format!("the page to join as {name}"),
        Duration::from_secs(20),
        "document.querySelector('#my-id').textContent",
    )?;
    Ok(id.as_str().unwrap_or("").to_string())
}

/// Waits until `name` is listed with a call button, then clicks it.
pub fn call(page: &mut Chromium, name: &str, deadline: Duration) -> anyhow::Result<()> {
    let sel = sel_name(name)?;
    let q = serde_json::to_string(&sel)?;
    page.wait_js(
        &format!("{name} listed on the page"),
        deadline,
        &format!("!!document.querySelector({q}) && !document.querySelector({q}).disabled"),
    )?;
    page.click(&sel)
}

/// Waits until `#status` reads `want`.
pub fn wait_status(page: &mut Chromium, want: &str, deadline: Duration) -> anyhow::Result<()> {
    let w = serde_json::to_string(want)?;
    page.wait_js(
        &format!("#status to read {want}"),
        deadline,
        &format!("document.querySelector('#status').textContent === {w}"),
    )
    .map(|_| ())
    .map_err(|e| {
        let now = page.status().unwrap_or_default();
        let msg = page
            .eval("document.querySelector('#message').textContent")
            .unwrap_or_default();
        anyhow::anyhow!("{e:#}\n(#status: {now:?}, #message: {msg})")
    })
}

/// Waits until `video#remote` has decoded `more` frames beyond what it had.
pub fn wait_remote_frames(
    page: &mut Chromium,
    more: u64,
    deadline: Duration,
) -> anyhow::Result<u64> {
    let start = page.remote_frames()?;
    crate::wait_until(
        &format!("video#remote to decode {more} more frames (had {start})"),
        deadline,
        || {
            let n = page.remote_frames()?;
            Ok((n >= start + more).then_some(n))
        },
    )
}
