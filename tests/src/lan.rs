//! A simulated LAN for tests: N hosts (network namespaces) on one private
//! bridge, 10.77.x.x addresses, multicast on; or a routed one ([`Lan::routed`]):
//! several subnets, each its own bridge, joined by a router namespace that
//! forwards unicast and not multicast, with a firewall ([`Lan::filter`]). The namespaces are made and
//! removed by `scripts/lan-sim`, so a person can build the very same LAN by
//! hand; this module only names them uniquely and cleans up on drop.

use anyhow::{bail, Context};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_LAN: AtomicU32 = AtomicU32::new(0);

fn lan_sim() -> PathBuf {
    crate::workspace_root().join("scripts/lan-sim")
}

fn run_lan_sim(args: &[&str]) -> anyhow::Result<String> {
    run_lan_sim_as(Command::new(lan_sim()), args)
}

/// `cmd` is lan-sim with its environment set.
fn run_lan_sim_as(mut cmd: Command, args: &[&str]) -> anyhow::Result<String> {
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running scripts/lan-sim")?;
    if !out.status.success() {
        bail!(
            "lan-sim {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// One host of a [`Lan`]: a network namespace with `eth0` on the bridge.
#[derive(Debug, Clone)]
pub struct Host {
    /// Network namespace name (`ip netns exec <netns> …`).
    pub netns: String,
    /// The host's address on the LAN (on `eth0`).
    pub ip: Ipv4Addr,
    /// 1-based number of the host in its LAN.
    pub index: usize,
}

impl Host {
    /// A command that runs `program` inside this host.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns]).arg(program);
        c
    }

    /// The interface on the bridge, inside the host.
    pub fn iface(&self) -> &'static str {
        "eth0"
    }
}

/// What a routed LAN's router drops between subnets (see [`Lan::filter`]).
#[derive(Debug, Clone, Copy)]
pub enum Filter {
    None,
    Udp,
    /// Drop UDP between subnets except to and from this address.
    UdpBut(Ipv4Addr),
    AllBut(Ipv4Addr),
}

/// A LAN of hosts, removed (with every process left inside) on drop.
#[derive(Debug)]
pub struct Lan {
    pub name: String,
    pub hosts: Vec<Host>,
}

impl Lan {
    /// Creates a LAN of `n` hosts with a name unique to this process and call.
    /// LANs left by a crashed earlier test run are removed first.
    pub fn new(n: usize) -> anyhow::Result<Lan> {
        let name = Self::create(&[], n)?;
        let mut lan = Lan {
            name,
            hosts: Vec::new(),
        };
        for i in 1..=n {
            lan.hosts.push(Self::host_of(&lan.name, i));
        }
        Ok(lan)
    }

    /// Creates a routed LAN: `subnets` subnets (10.77.s.0/24) of `per_subnet`
    /// hosts each, joined by a router that forwards unicast, not multicast.
    /// Hosts are in subnet order: `host(0..per_subnet)` are in subnet 1.
    pub fn routed(subnets: usize, per_subnet: usize) -> anyhow::Result<Lan> {
        let name = Self::create(&["--routed", &subnets.to_string()], per_subnet)?;
        let mut hosts = Vec::new();
        for s in 1..=subnets {
            for j in 1..=per_subnet {
                let index = hosts.len() + 1;
                hosts.push(Host {
                    netns: format!("{name}-h{index}"),
                    ip: Ipv4Addr::new(10, 77, s as u8, j as u8),
                    index,
                });
            }
        }
        Ok(Lan { name, hosts })
    }

    fn create(extra: &[&str], n: usize) -> anyhow::Result<String> {
        let _ = run_lan_sim(&["destroy", "--stale"]);
        let pid = std::process::id();
        let seq = NEXT_LAN.fetch_add(1, Ordering::Relaxed);
        let name = format!("dt{pid}-{seq}");
        let (pid, n) = (pid.to_string(), n.to_string());
        let mut args = vec!["create", "--name", &name, "--owner", &pid];
        args.extend_from_slice(extra);
        args.push(&n);
        run_lan_sim(&args)?;
        Ok(name)
    }

    /// On a routed LAN, sets the router's firewall: [`Filter::None`] forwards
    /// everything, [`Filter::Udp`] drops UDP between subnets ([`Filter::UdpBut`]:
    /// except to and from one address),
    /// [`Filter::AllBut`] drops everything between subnets except to and
    /// from one address.
    pub fn filter(&self, filter: Filter) -> anyhow::Result<()> {
        let ip;
        let args: Vec<&str> = match filter {
            Filter::None => vec!["none"],
            Filter::Udp => vec!["udp"],
            Filter::UdpBut(addr) => {
                ip = addr.to_string();
                vec!["udp", &ip]
            }
            Filter::AllBut(addr) => {
                ip = addr.to_string();
                vec!["direct", &ip]
            }
        };
        let mut all = vec!["filter", self.name.as_str()];
        all.extend(args);
        run_lan_sim(&all).map(|_| ())
    }

    fn host_of(lan: &str, i: usize) -> Host {
        let (hi, lo) = ((i - 1) / 250, (i - 1) % 250 + 1);
        Host {
            netns: format!("{lan}-h{i}"),
            ip: Ipv4Addr::new(10, 77, hi as u8, lo as u8),
            index: i,
        }
    }

    /// Adds one more host to the LAN.
    pub fn add_host(&mut self) -> anyhow::Result<Host> {
        run_lan_sim(&["add-host", &self.name])?;
        let host = Self::host_of(&self.name, self.hosts.len() + 1);
        self.hosts.push(host.clone());
        Ok(host)
    }

    /// The `i`-th host, 0-based.
    pub fn host(&self, i: usize) -> &Host {
        &self.hosts[i]
    }

    /// Drops `percent` % of `host`'s UDP packets at random, each way (mDNS
    /// spared; nftables in the host); 0 removes the loss. Simulates a lossy
    /// link for the media, which is the only UDP a call sends (besides
    /// QUIC, which libp2p retransmits).
    pub fn set_loss(&self, host: &Host, percent: u32) -> anyhow::Result<()> {
        let (i, p) = (host.index.to_string(), percent.to_string());
        run_lan_sim(&["loss", &self.name, &i, &p]).map(|_| ())
    }

    /// Delays each of the host's UDP packets, each way, by `delay_ms` ±
    /// `jitter_ms` (uniform; mDNS spared): `lan-sim jitter`, nftables
    /// queueing to the `net-jitter` helper beside the duet binary under test
    /// (or `LAN_SIM_JITTER_BIN`). `jitter_ms` 0 removes it.
    pub fn set_jitter(&self, host: &Host, jitter_ms: u32, delay_ms: u32) -> anyhow::Result<()> {
        let helper = crate::node::duet_bin().with_file_name("net-jitter");
        let mut cmd = Command::new(lan_sim());
        if std::env::var_os("LAN_SIM_JITTER_BIN").is_none() && helper.exists() {
            cmd.env("LAN_SIM_JITTER_BIN", helper);
        }
        let (i, j, d) = (
            host.index.to_string(),
            jitter_ms.to_string(),
            delay_ms.to_string(),
        );
        run_lan_sim_as(cmd, &["jitter", &self.name, &i, &j, &d]).map(|_| ())
    }

    /// Plugs (`true`) or unplugs a host's cable, to simulate network loss.
    pub fn set_link(&self, host: &Host, up: bool) -> anyhow::Result<()> {
        let state = if up { "up" } else { "down" };
        run_lan_sim(&["link", &self.name, &host.index.to_string(), state]).map(|_| ())
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        if let Err(e) = run_lan_sim(&["destroy", &self.name]) {
            eprintln!("warning: could not remove LAN {}: {e:#}", self.name);
        }
    }
}

/// Inside [`in_host`]: adds one more host to the LAN of `host` (removed
/// with that LAN).
pub fn add_host_beside(host: &Host) -> anyhow::Result<Host> {
    let lan = host
        .netns
        .rsplit_once("-h")
        .map(|(lan, _)| lan.to_string())
        .context("not a lan-sim host")?;
    let netns = run_lan_sim(&["add-host", &lan])?;
    let index: usize = netns
        .rsplit_once("-h")
        .and_then(|(_, i)| i.parse().ok())
        .context("lan-sim add-host printed no host")?;
    Ok(Lan::host_of(&lan, index))
}

const IN_HOST_ENV: &str = "DUET_TEST_IN_HOST";
const HOST_NETNS_ENV: &str = "DUET_TEST_HOST_NETNS";

/// Inside [`in_host`]: the host the test body runs in (so it can start
/// `duet` processes beside itself). `None` elsewhere.
pub fn current_host() -> Option<Host> {
    let netns = std::env::var(HOST_NETNS_ENV).ok()?;
    Some(Lan::host_of(netns.strip_suffix("-h1")?, 1))
}

/// Runs `body` inside a fresh host of a LAN of its own.
///
/// libnice gathers no candidates on loopback, so an in-process media test
/// needs a real (veth) interface. A namespace is per thread in Linux and
/// GStreamer starts threads of its own, so instead of switching namespaces
/// in-process this re-executes the test binary, filtered to `test_name`
/// (the test's full path as libtest prints it), inside the host, and fails
/// if that run fails. Inside, the call runs `body` directly.
#[allow(clippy::panic)] // failing the calling test is its job
pub fn in_host(test_name: &str, body: impl FnOnce()) {
    if std::env::var(IN_HOST_ENV).as_deref() == Ok(test_name) {
        body();
        return;
    }
    if let Err(e) = rerun_in_host(test_name) {
        panic!("{test_name} in its own network namespace: {e:#}");
    }
}

fn rerun_in_host(test_name: &str) -> anyhow::Result<()> {
    let lan = Lan::new(1)?;
    let exe = std::env::current_exe().context("finding the test binary")?;
    let status = lan
        .host(0)
        .command(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(IN_HOST_ENV, test_name)
        .env(HOST_NETNS_ENV, &lan.host(0).netns)
        .stdin(Stdio::null())
        .status()
        .context("running the test inside the namespace")?;
    if !status.success() {
        bail!("failed inside host {} ({status})", lan.host(0).netns);
    }
    Ok(())
}
