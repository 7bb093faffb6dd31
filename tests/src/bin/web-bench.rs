//! `scripts/bench web`: a browser calls a node through the broker's page,
//! beside a bare Chromium ↔ webrtcbin pair in the same run. Prints Markdown
//! (copy it into BENCHMARKS.md).
//!
//! - page → node: headless Chromium joins the page of a real `duet
//!   broker`, clicks `call` on a real `duet up --auto-answer` node. From the
//!   click (the page's own `Date.now()` in its handler) to the first remote
//!   frame on each side: the page's `video#remote` (its first
//!   `requestVideoFrameCallback`) and the node's `first_frame_at` (`duet
//!   status --json`). Then `#hangup`, and both have no call. The first call
//!   is reported on its own (warm-up); the others give median and p95.
//! - bare pair: one duet-gst MediaSession (answerer, in this process, in a
//!   namespace of its own) and one RTCPeerConnection in Chromium (offerer),
//!   SDP/ICE carried over DevTools: from the page opening its camera and
//!   making the offer to the first frame on each side — what the same two
//!   media engines cost with no broker, node or page around them.
//!
//! - page → page: two Chromiums on the same page; alice clicks `call`, the
//!   bench clicks bob's `#answer` as soon as it shows; first remote frame
//!   on each page from alice's click.
//!
//! Options: --calls N (11: 1 warm-up + 10; 0: only the bare pair),
//! --bare N (11).

use anyhow::{bail, Context};
use duet_tests::broker::DuetBroker;
use duet_tests::chromium::{serve_local_page, Chromium, PEER_HARNESS};
use duet_tests::measure::{loadavg, machine_line, median, percentile, table_head};
use duet_tests::web_page::{call, node_options, open_and_join, page_url, wait_status};
use duet_tests::{wait_until, DuetNode, Lan};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEADLINE: Duration = Duration::from_secs(30);
const BARE_INNER: &str = "--bare-inner";

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn arg_of(args: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .context("missing value")?
            .parse()
            .with_context(|| name.to_string()),
        None => Ok(default),
    }
}

/// First-frame times of one call, ms from the start.
struct Run {
    browser: f64,
    duet: f64,
}

/// The pause between two calls: the broker, like a node, takes one invite
/// a second from a client after a burst of 8 (docs/web-protocol.md).
const BETWEEN_CALLS: Duration = Duration::from_millis(1100);

/// One call page → node, timed from the click.
fn page_call(page: &mut Chromium, node: &DuetNode) -> anyhow::Result<Run> {
    call(page, "kiosk", DEADLINE)?;
    wait_status(page, "connected", DEADLINE)?;
    let st = page.wait_js(
        "the page's first remote frame",
        DEADLINE,
        "duet.stats.remoteFirstFrameAt && duet.stats",
    )?;
    let c = wait_until("the node's first frame", DEADLINE, || {
        let c = node.status()?.call;
        Ok(c["stats"]["first_frame_at"].as_f64().map(|t| t * 1000.0))
    })?;
    let t0 = st["callClickedAt"].as_f64().context("no click time")?;
    let browser = st["remoteFirstFrameAt"].as_f64().context("no frame time")? - t0;
    page.click("#hangup")?;
    wait_status(page, "hangup", DEADLINE)?;
    wait_until("the node to have no call", DEADLINE, || {
        let s = node.status()?;
        Ok((s.call.is_null() && s.status == "available").then_some(()))
    })?;
    Ok(Run {
        browser,
        duet: c - t0,
    })
}

fn page_to_node(calls: usize) -> anyhow::Result<Vec<Run>> {
    let lan = Lan::new(3)?;
    let broker = DuetBroker::start(lan.host(0), &[])?;
    let node = DuetNode::start_with(
        lan.host(1),
        node_options("kiosk", &broker, &duet_tests::node::AUTO_ANSWER_ANY),
    )?;
    let mut page = Chromium::launch(Some(lan.host(2)))?;
    open_and_join(&mut page, &page_url(lan.host(0)), "bench")?;
    let mut runs = Vec::new();
    for i in 0..calls {
        std::thread::sleep(BETWEEN_CALLS);
        let r = page_call(&mut page, &node).with_context(|| format!("call {}", i + 1))?;
        eprintln!(
            "page → node call {:2}: first frame page {:6.1} ms, node {:6.1} ms",
            i + 1,
            r.browser,
            r.duet
        );
        runs.push(r);
    }
    Ok(runs)
}

/// One call page → page: alice clicks `call`, bob's page is answered as
/// soon as `#incoming` shows (by this bench, over DevTools).
fn pages_call(alice: &mut Chromium, bob: &mut Chromium) -> anyhow::Result<Run> {
    call(alice, "bob", DEADLINE)?;
    bob.wait_js(
        "#incoming on bob's page",
        DEADLINE,
        "!document.querySelector('#incoming').hidden",
    )?;
    bob.click("#answer")?;
    let frame = "duet.stats.remoteFirstFrameAt && duet.stats";
    let a = alice.wait_js("alice's first remote frame", DEADLINE, frame)?;
    let b = bob.wait_js("bob's first remote frame", DEADLINE, frame)?;
    let t0 = a["callClickedAt"].as_f64().context("no click time")?;
    let at = |v: &Value| v["remoteFirstFrameAt"].as_f64().unwrap_or(f64::NAN) - t0;
    let run = Run {
        browser: at(&a),
        duet: at(&b),
    };
    alice.click("#hangup")?;
    wait_status(alice, "hangup", DEADLINE)?;
    wait_status(bob, "remote-hangup", DEADLINE)?;
    Ok(run)
}

fn page_to_page(calls: usize) -> anyhow::Result<Vec<Run>> {
    let lan = Lan::new(3)?;
    let _broker = DuetBroker::start(lan.host(0), &[])?;
    let url = page_url(lan.host(0));
    let mut alice = Chromium::launch(Some(lan.host(1)))?;
    let mut bob = Chromium::launch(Some(lan.host(2)))?;
    open_and_join(&mut alice, &url, "alice")?;
    open_and_join(&mut bob, &url, "bob")?;
    let mut runs = Vec::new();
    for i in 0..calls {
        std::thread::sleep(BETWEEN_CALLS);
        let r = pages_call(&mut alice, &mut bob).with_context(|| format!("call {}", i + 1))?;
        eprintln!(
            "page → page call {:2}: first frame caller {:6.1} ms, callee {:6.1} ms",
            i + 1,
            r.browser,
            r.duet
        );
        runs.push(r);
    }
    Ok(runs)
}

/// Inside a namespace: `runs` bare calls; prints one JSON line.
fn bare_inner(runs: usize) -> anyhow::Result<()> {
    duet_gst::init()?;
    duet_gst::warm_up(&duet_gst::MediaConfig::test());
    let url = serve_local_page("<!doctype html><title>bench</title>")?;
    let mut page = Chromium::launch(None)?;
    let (mut browser, mut duet) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        page.navigate(&url)?;
        page.eval(PEER_HARNESS)?;
        let (session, mut events) =
            duet_gst::MediaSession::start(duet_gst::MediaConfig::test(), duet_gst::Role::Answerer)?;
        let t0 = now_ms();
        page.eval("h.start()")?;
        let offer = page.eval("h.offer()")?;
        session.set_remote_description(duet_gst::SdpKind::Offer, offer.as_str().unwrap_or(""))?;
        let mut ours = None;
        let theirs = wait_until("first frames of the bare pair", DEADLINE, || {
            for ev in duet_tests::browser_pair::pump(&mut page, &session, &mut events)? {
                if matches!(ev, duet_gst::MediaEvent::FirstRemoteVideoFrame { .. }) {
                    ours.get_or_insert(now_ms());
                }
            }
            let t = page.eval("h.firstFrameAt")?.as_f64();
            Ok(t.filter(|_| ours.is_some()))
        })?;
        browser.push(theirs - t0);
        duet.push(ours.unwrap_or(f64::NAN) - t0);
        eprintln!(
            "bare pair: first frame Chromium {:6.1} ms, webrtcbin {:6.1} ms",
            theirs - t0,
            ours.unwrap_or(f64::NAN) - t0
        );
        session.close_blocking();
    }
    println!(
        "{}",
        serde_json::json!({"browser_ms": browser, "duet_ms": duet})
    );
    Ok(())
}

fn bare_pair(runs: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let lan = Lan::new(1)?;
    let out = lan
        .host(0)
        .command(std::env::current_exe()?)
        .args([BARE_INNER, &runs.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!("bare pair failed: {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.lines().last().context("no output")?)?;
    let list = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    Ok((list("browser_ms"), list("duet_ms")))
}

fn row(what: &str, side: &str, v: &[f64]) -> String {
    let rest = v.get(1..).unwrap_or(&[]);
    format!(
        "| {what} | {side} | {:.0} | {:.0} | {:.0} | {} |",
        v.first().copied().unwrap_or(f64::NAN),
        median(rest),
        percentile(rest, 0.95),
        rest.len()
    )
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(BARE_INNER) {
        return bare_inner(arg_of(&args, BARE_INNER, 11)?);
    }
    // --calls 0: only the bare pair.
    let calls = arg_of(&args, "--calls", 11)?;
    let bare = arg_of(&args, "--bare", 11)?.max(2);
    let load0 = loadavg();
    let machine = machine_line();
    eprintln!("bare pair: {bare} calls…");
    let (bare_browser, bare_duet) = bare_pair(bare)?;
    eprintln!("page → node: {calls} calls…");
    // A broker without its bridge to nodes lists none: say so, measure the rest.
    let runs = if calls > 0 {
        page_to_node(calls.max(2)).unwrap_or_else(|e| {
            eprintln!("page → node not measured: {e:#}");
            Vec::new()
        })
    } else {
        Vec::new()
    };
    eprintln!("page → page: {calls} calls…");
    let pages = if calls > 0 {
        page_to_page(calls.max(2))?
    } else {
        Vec::new()
    };
    let load1 = loadavg();
    let page: Vec<f64> = runs.iter().map(|r| r.browser).collect();
    let node: Vec<f64> = runs.iter().map(|r| r.duet).collect();
    println!("{machine}");
    println!("load average before: {load0}; after: {load1}\n");
    println!(
        "{}",
        table_head(&[
            "pair",
            "first frame at",
            "warm-up ms",
            "median ms",
            "p95 ms",
            "n"
        ])
    );
    println!("{}", row("page → node (click `call`)", "browser", &page));
    println!("{}", row("page → node (click `call`)", "node", &node));
    let caller: Vec<f64> = pages.iter().map(|r| r.browser).collect();
    let callee: Vec<f64> = pages.iter().map(|r| r.duet).collect();
    println!(
        "{}",
        row(
            "page → page (click `call`, bench answers)",
            "caller",
            &caller
        )
    );
    println!(
        "{}",
        row(
            "page → page (click `call`, bench answers)",
            "callee",
            &callee
        )
    );
    println!(
        "{}",
        row(
            "bare Chromium → webrtcbin (offer)",
            "browser",
            &bare_browser
        )
    );
    println!(
        "{}",
        row("bare Chromium → webrtcbin (offer)", "webrtcbin", &bare_duet)
    );
    let worst = median(page.get(1..).unwrap_or(&[])).max(median(node.get(1..).unwrap_or(&[])));
    if !runs.is_empty() {
        println!(
            "\ntarget ≤ 300 ms median on both sides (page → node): {} ({worst:.0} ms)",
            duet_tests::measure::verdict(worst <= 300.0)
        );
    }
    Ok(())
}
