//! Memory per call: what a `duet up` process holds between calls (VmRSS,
//! RssAnon, open fds, threads, from /proc) and one paced call cycle between
//! two nodes, shared by the 20-call test (`tests/tests/memory.rs`) and
//! `scripts/bench memory` so both measure the same thing.
//!
//! A cycle is `duet call bob` (returns when connected), a first remote video
//! frame on both sides, an optional hold, `duet hangup`, then no call on
//! either node. Cycles start at least [`CALL_SPACING`] apart: the callee
//! takes 8 invites at once, then one a second, from one peer, and refuses
//! the rest (`rate-limited`).

use crate::node::DuetNode;
use crate::wait_until;
use anyhow::{bail, Context};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The least time between two calls' starts: just over the callee's steady
/// invite rate (1/s).
pub const CALL_SPACING: Duration = Duration::from_millis(1100);

/// How long a call may take to connect, show frames, or end.
const DEADLINE: Duration = Duration::from_secs(30);

/// What a process holds at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    pub rss_kib: f64,
    /// Private anonymous memory (heap, thread stacks): RssAnon.
    pub anon_kib: f64,
    pub fds: usize,
    pub threads: usize,
}

impl Footprint {
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib / 1024.0
    }
    pub fn anon_mib(&self) -> f64 {
        self.anon_kib / 1024.0
    }
}

/// The footprint of process `pid`.
pub fn footprint(pid: u32) -> anyhow::Result<Footprint> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let kb = |key: &str| {
        crate::measure::parse_status_kb(&status, key)
            .with_context(|| format!("no {key} in /proc/{pid}/status"))
    };
    let count =
        |what: &str| std::fs::read_dir(format!("/proc/{pid}/{what}")).map_or(0, Iterator::count);
    Ok(Footprint {
        rss_kib: kb("VmRSS:")?,
        anon_kib: kb("RssAnon:")?,
        fds: count("fd"),
        threads: count("task"),
    })
}

/// The footprint of a node once its thread count has settled (a closed
/// session's threads end a little after the call does): two readings
/// 300 ms apart with the same threads and fds, or the last after 5 s.
pub fn settled_footprint(node: &DuetNode) -> anyhow::Result<Footprint> {
    let pid = node.pid().context("node not running")?;
    let start = Instant::now();
    let mut last = footprint(pid)?;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = footprint(pid)?;
        let same = now.threads == last.threads && now.fds == last.fds;
        if same || start.elapsed() > Duration::from_secs(5) {
            return Ok(now);
        }
        last = now;
    }
}

/// Places calls from one node to another, no two closer than [`CALL_SPACING`].
#[derive(Debug, Default)]
pub struct Caller {
    last_start: Option<Instant>,
}

impl Caller {
    /// One cycle: `caller` calls `target` by name, both sides show a remote
    /// frame, the call is held for `hold`, `caller` hangs up, neither node
    /// has a call.
    pub fn cycle(
        &mut self,
        caller: &DuetNode,
        callee: &DuetNode,
        target: &str,
        hold: Duration,
    ) -> anyhow::Result<()> {
        if let Some(t) = self.last_start {
            let next = t + CALL_SPACING;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        self.last_start = Some(Instant::now());
        let out = caller
            .cli()
            .args(["call", target])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()?;
        if !out.status.success() {
            bail!(
                "duet call {target} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for n in [caller, callee] {
            wait_until(
                &format!("{} to show a remote frame", n.name),
                DEADLINE,
                || {
                    let c = n.status()?.call;
                    Ok(
                        (c["state"] == "connected" && c["stats"]["first_frame_at"].is_f64())
                            .then_some(()),
                    )
                },
            )?;
        }
        std::thread::sleep(hold);
        let out = caller.cli().arg("hangup").output()?;
        if !out.status.success() {
            bail!("duet hangup: {}", String::from_utf8_lossy(&out.stderr));
        }
        for n in [caller, callee] {
            wait_until(&format!("{} to have no call", n.name), DEADLINE, || {
                let s = n.status()?;
                Ok((s.call.is_null() && s.status == "available").then_some(()))
            })?;
        }
        Ok(())
    }
}
