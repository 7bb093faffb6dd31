//! One level: set the loss and jitter, place a call, time it to a first
//! frame on both sides, measure a window, hang up; or a call's setup only.

use anyhow::{bail, Context};
use duet_tests::measure::{clock_ticks, cpu_percent, process_ticks};
use duet_tests::node::DuetNode;
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a call may take to connect and show frames under loss.
const DEADLINE: Duration = Duration::from_secs(60);
/// After the first frames, before the window.
const SETTLE: Duration = Duration::from_secs(2);

/// One side's figures over the window.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub fps: f64,
    pub freezes: u64,
    /// The longest gap between two frames since the first one (ms).
    pub longest_gap_ms: f64,
    /// Glass-to-glass over the window's last 10 s (the node's `recent`).
    pub g2g_median: f64,
    pub g2g_p95: f64,
    /// p95 over every frame since the call began (its first seconds too).
    pub g2g_p95_call: f64,
    /// Received bitrate over the window (kbit/s, all media).
    pub rx_kbps: f64,
    /// The encoder's target at the end (kbit/s).
    pub target_kbps: f64,
    pub packets_lost: u64,
    /// The node's CPU over the window (% of one core).
    pub cpu: f64,
}

/// The network a level runs on: random loss and jitter on the callee's
/// host, each way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Net {
    pub loss: u32,
    /// Each packet is delayed `jitter` ± `jitter` ms (0 to 2×), each way.
    pub jitter_ms: u32,
}

impl Net {
    pub fn loss(loss: u32) -> Net {
        Net { loss, jitter_ms: 0 }
    }

    pub fn label(&self) -> String {
        match (self.loss, self.jitter_ms) {
            (l, 0) => format!("{l} % loss"),
            (0, j) => format!("jitter {j} ± {j} ms"),
            (l, j) => format!("{l} % loss, jitter {j} ± {j} ms"),
        }
    }

    fn apply(&self, lan: &Lan) -> anyhow::Result<()> {
        lan.set_loss(lan.host(1), self.loss)?;
        lan.set_jitter(lan.host(1), self.jitter_ms, self.jitter_ms)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Level {
    pub net: Net,
    /// `duet call` → first remote frame on both sides (ms).
    pub setup_ms: f64,
    /// `duet call` → the client returns (connected, ms).
    pub connect_ms: f64,
    /// caller, callee.
    pub sides: [Side; 2],
    /// The call was still up at the end of the window.
    pub up: bool,
    pub window_s: f64,
    /// What the caller's host sent on the wire over the window (kbit/s:
    /// media, copies, FEC, RTX, RTCP; its host drops nothing, so this is
    /// all a node sends — the received figures count each packet once).
    pub caller_wire_kbps: f64,
}

/// Bytes the host's interface has sent so far.
fn wire_tx_bytes(lan: &Lan, i: usize) -> u64 {
    lan.host(i)
        .command("cat")
        .arg("/sys/class/net/eth0/statistics/tx_bytes")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn call_of(node: &DuetNode) -> anyhow::Result<Value> {
    Ok(node.status()?.call)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn wait_no_call(node: &DuetNode) -> anyhow::Result<()> {
    wait_until(&format!("{} to have no call", node.name), DEADLINE, || {
        let s = node.status()?;
        Ok((s.call.is_null() && s.status == "available").then_some(()))
    })
}

/// A call placed and shown on both sides.
struct Placed {
    t0: f64,
    connect_ms: f64,
    first_at: f64,
}

/// `duet call bob` from alice under `net`, up to the first frame on both
/// sides.
fn place(lan: &Lan, alice: &DuetNode, bob: &DuetNode, net: Net) -> anyhow::Result<Placed> {
    wait_no_call(alice)?;
    wait_no_call(bob)?;
    net.apply(lan)?;
    let t0 = unix_now();
    let out = alice
        .cli()
        .args(["call", "bob"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    let connect_ms = (unix_now() - t0) * 1000.0;
    if !out.status.success() {
        bail!(
            "duet call bob at {}: {}{}",
            net.label(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut first_at: f64 = 0.0;
    for node in [alice, bob] {
        let c = wait_until(&format!("{}'s first frame", node.name), DEADLINE, || {
            let c = call_of(node)?;
            Ok(c["stats"]["first_frame_at"].is_f64().then_some(c))
        })?;
        first_at = first_at.max(f(&c["stats"]["first_frame_at"]));
    }
    Ok(Placed {
        t0,
        connect_ms,
        first_at,
    })
}

/// Back to a clean network, the call hung up (if `up`) and gone on both sides.
fn hang_up(lan: &Lan, alice: &DuetNode, bob: &DuetNode, up: bool) -> anyhow::Result<()> {
    Net::default().apply(lan)?;
    if up {
        let out = alice.cli().arg("hangup").output()?;
        if !out.status.success() {
            bail!("duet hangup: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    wait_no_call(alice).context("after the level")?;
    wait_no_call(bob)
}

/// One call's setup only: (`duet call` → connected, → first frame on both
/// sides), in ms.
pub fn setup_only(
    lan: &Lan,
    alice: &DuetNode,
    bob: &DuetNode,
    net: Net,
) -> anyhow::Result<(f64, f64)> {
    let p = place(lan, alice, bob, net)?;
    hang_up(lan, alice, bob, true)?;
    Ok((p.connect_ms, (p.first_at - p.t0) * 1000.0))
}

/// Runs one level: `net` on bob's host, a call from alice, a window of
/// `window` seconds.
pub fn run(
    lan: &Lan,
    alice: &DuetNode,
    bob: &DuetNode,
    net: Net,
    window: Duration,
) -> anyhow::Result<Level> {
    let placed = place(lan, alice, bob, net)?;
    std::thread::sleep(SETTLE);
    let start = [call_of(alice)?, call_of(bob)?];
    let ticks = |n: &DuetNode| n.pid().and_then(process_ticks).unwrap_or(0);
    let ticks0 = [ticks(alice), ticks(bob)];
    let wire0 = wire_tx_bytes(lan, 0);
    let t = Instant::now();
    // The window: polled, so a call that ends is seen when it ends.
    let mut up = true;
    while t.elapsed() < window && up {
        std::thread::sleep(Duration::from_millis(500));
        up = [alice, bob]
            .iter()
            .all(|n| call_of(n).is_ok_and(|c| c["state"] == "connected"));
    }
    let secs = t.elapsed().as_secs_f64();
    let end = [call_of(alice)?, call_of(bob)?];
    let ticks1 = [ticks(alice), ticks(bob)];
    let wire1 = wire_tx_bytes(lan, 0);
    let hz = clock_ticks()?;
    let mut sides: [Side; 2] = Default::default();
    for i in 0..2 {
        let (a, b) = (&start[i]["stats"], &end[i]["stats"]);
        if end[i].is_null() {
            continue;
        }
        sides[i] = Side {
            fps: (u(&b["video_frames_received"]).saturating_sub(u(&a["video_frames_received"])))
                as f64
                / secs,
            freezes: u(&b["video_freezes"]).saturating_sub(u(&a["video_freezes"])),
            longest_gap_ms: f(&b["longest_freeze_ms"]),
            g2g_median: f(&b["glass_to_glass_ms"]["recent"]["median"]),
            g2g_p95: f(&b["glass_to_glass_ms"]["recent"]["p95"]),
            g2g_p95_call: f(&b["glass_to_glass_ms"]["p95"]),
            rx_kbps: (u(&b["bytes_received"]).saturating_sub(u(&a["bytes_received"]))) as f64 * 8.0
                / 1000.0
                / secs,
            target_kbps: f(&b["video_bitrate_kbps"]),
            packets_lost: u(&b["packets_lost"]).saturating_sub(u(&a["packets_lost"])),
            cpu: cpu_percent(ticks1[i].saturating_sub(ticks0[i]), hz, secs),
        };
    }
    hang_up(lan, alice, bob, up)?;
    Ok(Level {
        net,
        setup_ms: (placed.first_at - placed.t0) * 1000.0,
        connect_ms: placed.connect_ms,
        sides,
        up,
        window_s: secs,
        caller_wire_kbps: wire1.saturating_sub(wire0) as f64 * 8.0 / 1000.0 / secs,
    })
}
