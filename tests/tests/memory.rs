#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Memory per call (issue 12): 20 consecutive calls between the same two
//! `duet up` nodes (test sources, headless, auto-answer) leave each node
//! with no more than 1.1× the VmRSS it had with no call after the first
//! call, and with as many open fds and threads. The curve over 100 calls is
//! `scripts/bench memory`. On failure the message has each node's
//! footprint after every call, so a node that jumped (and when) shows.

use duet_tests::memory::{footprint, settled_footprint, Caller, Footprint};
use duet_tests::node::DuetNode;
use duet_tests::{wait_until, Lan};
use std::fmt::Write;
use std::time::Duration;

const CALLS: usize = 20;

/// Within the goal: VmRSS ≤ 1.1× after the first call, fds the same,
/// threads at most 2 more (tokio keeps idle blocking threads for a while).
fn flat(first: &Footprint, now: &Footprint) -> bool {
    now.rss_kib <= first.rss_kib * 1.1 && now.fds <= first.fds && now.threads <= first.threads + 2
}

/// One line per call: VmRSS and RssAnon (MiB), fds and threads of each node
/// as soon as neither has a call (settled after call 1 only: a row with
/// more fds is a session still tearing down).
fn table(rows: &[[Footprint; 2]]) -> String {
    let mut t =
        String::from("call: alice VmRSS/RssAnon MiB fds thr | bob VmRSS/RssAnon MiB fds thr\n");
    for (i, [a, b]) in rows.iter().enumerate() {
        let _ = writeln!(
            t,
            "{:>4}: {:5.1}/{:4.1} {} {} | {:5.1}/{:4.1} {} {}",
            i + 1,
            a.rss_mib(),
            a.anon_mib(),
            a.fds,
            a.threads,
            b.rss_mib(),
            b.anon_mib(),
            b.fds,
            b.threads
        );
    }
    t
}

#[test]
fn twenty_calls_leave_memory_fds_and_threads_flat() {
    let lan = Lan::new(2).unwrap();
    let (alice, bob) = DuetNode::alice_and_answering_bob(&lan, Duration::from_secs(30)).unwrap();
    let pids = [alice.pid().unwrap(), bob.pid().unwrap()];
    let now = || pids.map(|p| footprint(p).unwrap());

    let mut caller = Caller::default();
    caller.cycle(&alice, &bob, "bob", Duration::ZERO).unwrap();
    let first = [
        settled_footprint(&alice).unwrap(),
        settled_footprint(&bob).unwrap(),
    ];
    let mut rows = vec![first];
    for i in 2..=CALLS {
        caller
            .cycle(&alice, &bob, "bob", Duration::ZERO)
            .unwrap_or_else(|e| panic!("call {i}: {e:#}\n{}", table(&rows)));
        rows.push(now());
    }
    eprint!("{}", table(&rows));
    for ((node, pid), first) in [&alice, &bob].into_iter().zip(pids).zip(&first) {
        // A closed session's threads and memory go a little after the call.
        let last = wait_until(
            &format!(
                "{} to be back near its footprint after call 1 ({first:?})",
                node.name
            ),
            Duration::from_secs(20),
            || {
                let now = footprint(pid)?;
                Ok(flat(first, &now).then_some(now))
            },
        )
        .unwrap_or_else(|e| panic!("{e:#}; now {:?}\n{}", footprint(pid), table(&rows)));
        eprintln!(
            "{}: after call 1 {first:?}, after call {CALLS} {last:?} ({:.2}× VmRSS)",
            node.name,
            last.rss_kib / first.rss_kib
        );
    }
}
