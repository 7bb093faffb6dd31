//! `net-jitter`: delays the packets of one NFQUEUE by a random time each,
//! so a simulated host's UDP sees network jitter (and the reordering that
//! comes with it). This kernel has no netem; nftables queues packets to
//! user space (`queue num N bypass`, set up by `scripts/lan-sim jitter`),
//! and this process, run inside the host's namespace, gives each one its
//! verdict — accept — only after its delay. Verdicts may be given in any
//! order, so a packet held longer than the next one is overtaken, as on a
//! network with jitter.
//!
//! Each packet waits `delay` ± `jitter` ms (uniform, at least 0). Timers
//! are a 0.5 ms poll: the delays are good to about a millisecond, which is
//! well under the jitter simulated.
//!
//! Usage: net-jitter --queue N --jitter MS [--delay MS] [--seed S]

use anyhow::{bail, Context};
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

const USAGE: &str = "net-jitter --queue N --jitter MS [--delay MS] [--seed S]";
const POLL: Duration = Duration::from_micros(500);

struct Held {
    due: Instant,
    msg: nfq::Message,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        self.due == o.due
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    /// Earliest due first in a max-heap.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.due.cmp(&self.due)
    }
}

fn main() -> anyhow::Result<()> {
    let mut queue_num = None;
    let (mut delay_ms, mut jitter_ms) = (0.0f64, None);
    let mut seed = duet_tests::jitter::seed_from_clock();
    let mut args = std::env::args().skip(1);
    while let Some(k) = args.next() {
        let v = args
            .next()
            .with_context(|| format!("{k} needs a value\n{USAGE}"))?;
        match k.as_str() {
            "--queue" => queue_num = Some(v.parse::<u16>()?),
            "--delay" => delay_ms = v.parse()?,
            "--jitter" => jitter_ms = Some(v.parse::<f64>()?),
            "--seed" => seed = v.parse()?,
            _ => bail!("unknown option {k}\n{USAGE}"),
        }
    }
    let (Some(num), Some(jitter_ms)) = (queue_num, jitter_ms) else {
        bail!("{USAGE}");
    };
    let mut delays = duet_tests::jitter::Delays::new(delay_ms, jitter_ms, seed)?;
    let mut q = nfq::Queue::open().context("opening the netfilter queue socket")?;
    q.bind(num)
        .with_context(|| format!("binding queue {num}"))?;
    q.set_copy_range(num, 0)?;
    q.set_queue_max_len(num, 4096)?;
    q.set_fail_open(num, true)?;
    q.set_nonblocking(true);
    let mut held = BinaryHeap::new();
    loop {
        loop {
            match q.recv() {
                Ok(mut msg) => {
                    msg.set_verdict(nfq::Verdict::Accept);
                    let due = Instant::now() + delays.next_delay();
                    held.push(Held { due, msg });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("receiving from the queue"),
            }
        }
        let now = Instant::now();
        while held.peek().is_some_and(|h: &Held| h.due <= now) {
            if let Some(h) = held.pop() {
                q.verdict(h.msg).context("giving a verdict")?;
            }
        }
        std::thread::sleep(POLL);
    }
}
