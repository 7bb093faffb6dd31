//! Placing and timing calls between the two nodes: how they are started,
//! one `duet call bob` from the client process to a first remote frame on
//! both sides (with the log lines each side wrote meanwhile), and the
//! hangup that leaves both without a call for the next one.

use crate::{num, phases, DEADLINE};
use anyhow::bail;
use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::wait_until;
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `duet up` options of a bench node; bob answers at once if `auto`. With
/// an X display the node runs in window mode on it, else headless.
pub fn node_opts(name: &str, log: &str, codec: &str, x: Option<&str>, auto: bool) -> NodeOptions {
    let mut o = match x {
        Some(d) => NodeOptions::named(name).window(d),
        None => NodeOptions::named(name).arg("--display").arg("none"),
    };
    for a in [
        "--video",
        "test",
        "--audio",
        "test",
        "--latency-probe",
        "--codec",
        codec,
        "--no-console",
    ] {
        o = o.arg(a);
    }
    if name == "bob" && auto {
        o = o.arg("--auto-answer").arg("--accept-from").arg("any");
    }
    NodeOptions {
        rust_log: Some(log.into()),
        ..o
    }
}

/// One call's first-frame figures, ms from starting `duet call` (or
/// `duet answer` when bob rings).
pub struct CallRun {
    pub connected: f64,
    pub caller: f64,
    pub callee: f64,
    /// `first_frame_ms` of each side (from its own media start).
    pub caller_media: f64,
    pub callee_media: f64,
    /// (side, message) -> ms after the start of `duet call`.
    pub phases: Vec<(String, f64)>,
    /// `stats.route` of both sides (`direct`, `relay`; `caller/callee` if
    /// they differ), read after the first frames.
    pub route: String,
}

impl CallRun {
    pub fn both(&self) -> f64 {
        self.caller.max(self.callee)
    }
}

/// The `call` object of `duet status --json` (null with no call).
pub fn call_of(node: &DuetNode) -> anyhow::Result<Value> {
    Ok(node.status()?.call)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn wait_no_call(nodes: &[&DuetNode]) -> anyhow::Result<()> {
    for n in nodes {
        wait_until(&format!("{} to have no call", n.name), DEADLINE, || {
            let s = n.status()?;
            Ok((s.call.is_null() && s.status == "available").then_some(()))
        })?;
    }
    Ok(())
}

/// Waits until `node`'s call is connected and has a first frame; returns the call.
fn wait_first_frame(node: &DuetNode) -> anyhow::Result<Value> {
    wait_until(
        &format!("{} to show a first remote frame", node.name),
        DEADLINE,
        || {
            let c = call_of(node)?;
            let ok = c["state"] == "connected" && c["stats"]["first_frame_at"].is_f64();
            Ok(ok.then_some(c))
        },
    )
}

fn log_len(node: &DuetNode) -> u64 {
    std::fs::metadata(&node.log).map(|m| m.len()).unwrap_or(0)
}

/// alice calls bob by name; timed until both sides show a first remote
/// frame. With `ring`, bob rings that long and the timing starts at
/// `duet answer` on bob.
pub fn one_call(
    alice: &DuetNode,
    bob: &DuetNode,
    ring: Option<Duration>,
) -> anyhow::Result<CallRun> {
    wait_no_call(&[alice, bob])?;
    let (la, lb) = (log_len(alice), log_len(bob));
    let mut t0 = unix_now();
    let call = alice
        .cli()
        .args(["call", "bob"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(ring) = ring {
        wait_until("bob to ring", DEADLINE, || {
            Ok((call_of(bob)?["state"] == "ringing").then_some(()))
        })?;
        std::thread::sleep(ring);
        t0 = unix_now();
        let out = bob.cli().arg("answer").output()?;
        if !out.status.success() {
            bail!(
                "duet answer failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let out = call.wait_with_output()?;
    let connected = (unix_now() - t0) * 1000.0;
    if !out.status.success() {
        bail!(
            "duet call bob failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ca = wait_first_frame(alice)?;
    let cb = wait_first_frame(bob)?;
    let route = format_route(&wait_route(alice)?, &wait_route(bob)?);
    let mut ph = phases::phases(alice, la, t0);
    ph.extend(phases::phases(bob, lb, t0));
    Ok(CallRun {
        connected,
        caller: (num(&ca["stats"]["first_frame_at"]) - t0) * 1000.0,
        callee: (num(&cb["stats"]["first_frame_at"]) - t0) * 1000.0,
        caller_media: num(&ca["stats"]["first_frame_ms"]),
        callee_media: num(&cb["stats"]["first_frame_ms"]),
        phases: ph,
        route,
    })
}

/// Waits until `node`'s call reports the route of its media.
fn wait_route(node: &DuetNode) -> anyhow::Result<String> {
    wait_until(
        &format!("{}'s call to report its route", node.name),
        DEADLINE,
        || Ok(call_of(node)?["stats"]["route"].as_str().map(String::from)),
    )
}

/// One word when both sides agree, `caller/callee` when not.
fn format_route(caller: &str, callee: &str) -> String {
    if caller == callee {
        caller.to_string()
    } else {
        format!("{caller}/{callee}")
    }
}

/// `duet hangup` on alice, then both nodes have no call.
pub fn hang_up(alice: &DuetNode, bob: &DuetNode) -> anyhow::Result<()> {
    let out = alice.cli().arg("hangup").output()?;
    if !out.status.success() {
        bail!("duet hangup: {}", String::from_utf8_lossy(&out.stderr));
    }
    wait_no_call(&[alice, bob])
}
