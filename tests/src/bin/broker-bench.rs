//! `scripts/bench broker`: one `duet broker` process and N light in-process
//! libp2p clients (TCP + Noise + Yamux, ping, `/duet/broker/1`; no media,
//! no gossipsub) on loopback. Prints Markdown (copy it into BENCHMARKS.md).
//!
//! - register: from sending `register` to its answer, each client once,
//!   at most `--parallel` connecting and registering at a time;
//! - discover: with all N registered, `--samples` clients one after the
//!   other ask for the whole list (N-1 peers, in pages), then as many
//!   ask with the cursor of their last answer (what changed since: nothing);
//! - meanwhile every client asks what changed every 2 s, as nodes do;
//! - the broker's VmRSS and VmHWM with N registered, and its CPU over the run.
//!
//! Options: --nodes N (default 1000), --parallel P (50), --samples S (200).

use anyhow::{bail, Context};
use duet_node::net::broker_proto;
use duet_node::network_key;
use duet_node::proto::broker::{BrokerRequest, BrokerResponse};
use duet_tests::measure::{
    clock_ticks, cpu_percent, loadavg, machine_line, median, percentile, process_ticks, status_kb,
    table_head, verdict,
};
use duet_tests::node::duet_bin;
use futures::StreamExt;
use libp2p::request_response;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{noise, ping, tcp, yamux, Multiaddr, PeerId, Swarm};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};

const DEADLINE: Duration = Duration::from_secs(30);

#[derive(NetworkBehaviour)]
struct Client {
    ping: ping::Behaviour,
    broker: broker_proto::Behaviour,
}

struct Args {
    nodes: usize,
    parallel: usize,
    samples: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        nodes: 1000,
        parallel: 50,
        samples: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--nodes" => a.nodes = v.parse()?,
            "--parallel" => a.parallel = v.parse()?,
            "--samples" => a.samples = v.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    Ok(a)
}

/// Starts the broker on loopback; returns it and its address line.
fn start_broker(dir: &std::path::Path) -> anyhow::Result<(Child, Multiaddr)> {
    let mut child = std::process::Command::new(duet_bin())
        .arg("broker")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
        .args(["--turn-listen", "127.0.0.1:0"])
        // Its default configuration, on ports that cannot clash.
        .args(["--web", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting duet broker")?;
    let stdout = child.stdout.take().context("no stdout")?;
    // The web endpoint's lines come first; the libp2p address starts with '/'.
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines.next().context("the broker printed no address")??;
        if line.starts_with('/') {
            return Ok((child, line.trim().parse()?));
        }
    }
}

async fn build() -> anyhow::Result<Swarm<Client>> {
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| Client {
            ping: ping::Behaviour::new(ping::Config::new()),
            broker: broker_proto::behaviour(false),
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build())
}

/// Sends `request` and drives the swarm until its answer.
async fn ask(
    swarm: &mut Swarm<Client>,
    broker: PeerId,
    request: BrokerRequest,
) -> anyhow::Result<(BrokerResponse, Duration)> {
    let start = Instant::now();
    let id = swarm.behaviour_mut().broker.send_request(&broker, request);
    loop {
        if let SwarmEvent::Behaviour(ClientEvent::Broker(event)) = swarm.select_next_some().await {
            match event {
                request_response::Event::Message {
                    message:
                        request_response::Message::Response {
                            request_id,
                            response,
                        },
                    ..
                } if request_id == id => return Ok((response, start.elapsed())),
                request_response::Event::OutboundFailure {
                    request_id, error, ..
                } if request_id == id => bail!("request failed: {error}"),
                _ => {}
            }
        }
    }
}

/// `true`: ask for the whole list; `false`: what changed since the cursor.
type Probe = (bool, oneshot::Sender<anyhow::Result<(Duration, usize)>>);

const DISCOVER_EVERY: Duration = Duration::from_secs(2);

/// One client: connect, register (reports the latency), then answer
/// discovery probes until the probe channel closes.
async fn client(
    i: usize,
    addr: Multiaddr,
    broker: PeerId,
    permits: Arc<Semaphore>,
    registered: mpsc::Sender<anyhow::Result<Duration>>,
    mut probes: mpsc::Receiver<Probe>,
) {
    let (mut swarm, mut cursor) = {
        let _permit = permits.acquire().await;
        let r = async {
            let mut swarm = build().await?;
            swarm.dial(addr)?;
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { .. } => break,
                    SwarmEvent::OutgoingConnectionError { error, .. } => bail!("{error}"),
                    _ => {}
                }
            }
            let (a, b) = ((i / 250) as u8, (i % 250 + 1) as u8);
            let request = BrokerRequest::Register {
                namespace: network_key::OPEN_NAMESPACE.into(),
                addrs: vec![
                    format!("/ip4/10.77.{a}.{b}/tcp/40000").parse()?,
                    format!("/ip4/10.77.{a}.{b}/udp/40000/quic-v1").parse()?,
                ],
                ttl_secs: 60,
                proof: None,
                since: None,
            };
            let (response, took) = ask(&mut swarm, broker, request).await?;
            let BrokerResponse::Registered { delta, .. } = response else {
                bail!("not registered: {response:?}");
            };
            Ok(((swarm, delta.cursor), took))
        }
        .await;
        match r {
            Ok((swarm, took)) => {
                let _ = registered.send(Ok(took)).await;
                swarm
            }
            Err(e) => {
                let _ = registered.send(Err(e)).await;
                return;
            }
        }
    };
    // Every node asks what changed every 2 s, from a random phase.
    let phase = Duration::from_millis(rand::random_range(0..2000));
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + phase, DISCOVER_EVERY);
    loop {
        tokio::select! {
            probe = probes.recv() => {
                let Some((full, reply)) = probe else { return };
                // The whole list comes in pages: time them all.
                let start = Instant::now();
                let mut since = (!full).then_some(cursor).flatten();
                let mut n = 0;
                let r = loop {
                    match discover(&mut swarm, broker, since).await {
                        Ok((_, k, c, more)) => {
                            n += k;
                            since = c;
                            cursor = c;
                            if !more {
                                break Ok((start.elapsed(), n));
                            }
                        }
                        Err(e) => break Err(e),
                    }
                };
                let _ = reply.send(r);
            }
            _ = every.tick() => {
                if let Ok((_, _, c, _)) = discover(&mut swarm, broker, cursor).await {
                    cursor = c;
                }
            }
            _ = swarm.select_next_some() => {}
        }
    }
}

/// Asks for the others (what changed since `since`); returns the latency,
/// the number of peers in the answer, the new cursor and whether more follows.
async fn discover(
    swarm: &mut Swarm<Client>,
    broker: PeerId,
    since: Option<u64>,
) -> anyhow::Result<(Duration, usize, Option<u64>, bool)> {
    let request = BrokerRequest::Discover {
        namespace: network_key::OPEN_NAMESPACE.into(),
        proof: None,
        since,
    };
    match ask(swarm, broker, request).await? {
        (BrokerResponse::Peers { peers, delta }, took) => {
            Ok((took, peers.len(), delta.cursor, delta.more))
        }
        (other, _) => bail!("unexpected answer {other:?}"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(what: &str, v: &[f64], target: &str, ok: Option<bool>) -> String {
    let verdict = ok.map(verdict).unwrap_or("");
    format!(
        "| {what} | {} | {:.1} | {:.1} | {:.1} | {target} {verdict} |",
        v.len(),
        median(v),
        percentile(v, 0.95),
        percentile(v, 1.0)
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let (mut broker_proc, addr) = start_broker(dir.path())?;
    let broker = match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(p)) => p,
        _ => bail!("broker address {addr} has no /p2p"),
    };
    let pid = broker_proc.id();
    let rss0 = status_kb(pid, "VmRSS:")? / 1024.0;
    let (hz, ticks0, t0) = (
        clock_ticks()?,
        process_ticks(pid).unwrap_or(0),
        Instant::now(),
    );
    let permits = Arc::new(Semaphore::new(args.parallel.max(1)));
    let (reg_tx, mut reg_rx) = mpsc::channel(args.nodes.max(1));
    let mut probes = Vec::new();
    for i in 0..args.nodes {
        let (tx, rx) = mpsc::channel(1);
        probes.push(tx);
        let (addr, permits, reg_tx) = (addr.clone(), permits.clone(), reg_tx.clone());
        tokio::spawn(client(i, addr, broker, permits, reg_tx, rx));
    }
    drop(reg_tx);
    let mut register = Vec::new();
    for _ in 0..args.nodes {
        let r = tokio::time::timeout(DEADLINE, reg_rx.recv()).await?;
        register.push(ms(r.context("clients gone")??));
    }
    let all_registered = t0.elapsed();
    let rss = status_kb(pid, "VmRSS:")? / 1024.0;
    let mut discover = Vec::new();
    let mut changes = Vec::new();
    for full in [true, false] {
        for probe in probes.iter().take(args.samples) {
            let (tx, rx) = oneshot::channel();
            probe.send((full, tx)).await.context("client gone")?;
            let (took, n) = tokio::time::timeout(DEADLINE, rx).await???;
            if full && n + 1 != args.nodes {
                bail!("discover returned {n} peers, not {}", args.nodes - 1);
            }
            if !full && n != 0 {
                bail!("discover since the last answer returned {n} peers, not 0");
            }
            if full {
                discover.push(ms(took));
            } else {
                changes.push(ms(took));
            }
        }
    }
    let rss_steady = status_kb(pid, "VmRSS:")? / 1024.0;
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_percent(
        process_ticks(pid).unwrap_or(0).saturating_sub(ticks0),
        hz,
        secs,
    );
    let hwm = status_kb(pid, "VmHWM:")? / 1024.0;
    let idle_ticks = process_ticks(pid).unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = cpu_percent(
        process_ticks(pid).unwrap_or(0).saturating_sub(idle_ticks),
        hz,
        5.0,
    );
    drop(probes);
    let _ = broker_proc.kill();
    let _ = broker_proc.wait();

    println!("Measured on {} (load {}).\n", machine_line(), loadavg());
    println!(
        "{} in-process clients against one `duet broker` on loopback (TCP), {} connecting at a time; \
         all registered after {:.1} s.\n",
        args.nodes,
        args.parallel,
        all_registered.as_secs_f64()
    );
    println!(
        "{}",
        table_head(&["what", "n", "median ms", "p95 ms", "max ms", "target"])
    );
    println!(
        "{}",
        row("register (request → answer)", &register, "", None)
    );
    println!(
        "{}",
        row(
            &format!(
                "discover, whole list (all pages), at {} registered",
                args.nodes
            ),
            &discover,
            "",
            None
        )
    );
    let d_ok = median(&changes) <= 50.0;
    println!(
        "{}",
        row(
            &format!(
                "discover since the last answer (as nodes ask, every 2 s) at {} registered",
                args.nodes
            ),
            &changes,
            "≤ 50 ms median",
            Some(d_ok)
        )
    );
    println!();
    println!("{}", table_head(&["broker", "value", "target"]));
    println!(
        "| VmRSS with {} registered | {rss:.1} MiB | ≤ 64 MiB {} |",
        args.nodes,
        verdict(rss <= 64.0)
    );
    println!(
        "| VmRSS after the discover samples (all asking every 2 s) | {rss_steady:.1} MiB | ≤ 64 MiB {} |",
        verdict(rss_steady <= 64.0)
    );
    println!("| VmRSS at start (no client) | {rss0:.1} MiB | |");
    println!(
        "| per connected, registered node | {:.0} KiB | |",
        (rss - rss0) * 1024.0 / args.nodes.max(1) as f64
    );
    println!("| VmHWM (peak) | {hwm:.1} MiB | |");
    println!("| CPU over the run ({secs:.1} s) | {cpu:.1} % of one core | |");
    println!(
        "| CPU with {} connected, each asking what changed every 2 s (5 s) | {idle:.1} % of one core | |",
        args.nodes
    );
    Ok(())
}
