//! A real `duet up` process inside a host of a simulated LAN, with its own
//! data dir and control socket (in a temp dir), for end-to-end tests and
//! benchmarks. Killed on drop. Client subcommands (`duet peers --json`,
//! `duet events --json`, later `duet call …`) run against its control
//! socket; Unix sockets are reachable from outside the namespace.
//!
//! The binary is `$DUET_BIN`, else `target/debug/duet`, which is built once
//! per test process (`cargo build -p duet-node --bin duet`) so plain
//! `cargo test` works.

use crate::lan::Host;
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Once};

pub use crate::events::{EventStream, NodeEvent};
use std::time::{Duration, Instant};

/// How long a node may take to answer on its control socket after start.
pub const READY_DEADLINE: Duration = Duration::from_secs(20);

static BUILD: Once = Once::new();

/// The `duet` binary under test.
/// `duet up` flags of a node that answers every call by itself.
pub const AUTO_ANSWER_ANY: [&str; 3] = ["--auto-answer", "--accept-from", "any"];

pub fn duet_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("DUET_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let root = crate::workspace_root();
    BUILD.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "duet-node", "--bin", "duet"])
            .current_dir(&root)
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "warning: `cargo build -p duet-node` failed ({status:?}); using what is there"
            );
        }
    });
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("debug/duet")
}

/// A peer as listed by `duet peers --json` and carried by events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Peer {
    pub name: String,
    pub peer_id: String,
    #[serde(default)]
    pub short_id: String,
    pub status: String,
    pub addrs: Vec<String>,
    #[serde(default)]
    pub via: Vec<String>,
}

/// `duet status --json`.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeStatus {
    pub name: String,
    pub peer_id: String,
    pub listen_addrs: Vec<String>,
    pub status: String,
    pub call: Value,
    #[serde(default)]
    pub brokers: Vec<Value>,
}

/// How to start a node. `data_dir: None` makes a fresh one.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    pub name: String,
    pub data_dir: Option<PathBuf>,
    /// Extra `duet up` arguments (e.g. `--no-mdns`).
    pub args: Vec<String>,
    /// RUST_LOG for the node [default: $DUET_TEST_LOG, else info,duet_node=debug].
    pub rust_log: Option<String>,
    /// Extra environment variables of the node.
    pub env: Vec<(String, String)>,
    /// An X display (e.g. an [`crate::xvfb::Xvfb`]'s): the node runs in
    /// window mode (`--display window`) on it.
    pub x_display: Option<String>,
}

impl NodeOptions {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }

    pub fn args<const N: usize>(mut self, args: [&str; N]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn data_dir(mut self, d: &Path) -> Self {
        self.data_dir = Some(d.to_path_buf());
        self
    }

    /// Window mode on X display `display`.
    pub fn window(mut self, display: &str) -> Self {
        self.x_display = Some(display.to_string());
        self.arg("--display").arg("window")
    }
}

pub struct DuetNode {
    pub name: String,
    pub host: Host,
    pub data_dir: PathBuf,
    pub control: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for DuetNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DuetNode({} on {})", self.name, self.host.netns)
    }
}

/// Test camera and microphone, no window (there is no display here),
/// unless the test chose otherwise (or gave a config file).
fn media_defaults(args: &[String]) -> Vec<&'static str> {
    [
        ("--video", "test"),
        ("--audio", "test"),
        ("--display", "none"),
    ]
    .into_iter()
    .filter(|(flag, _)| !args.iter().any(|a| a == flag || a == "--config"))
    .flat_map(|(flag, value)| [flag, value])
    .collect()
}

/// `--name NAME`, unless the name is left to a config file (empty).
fn name_arg(name: &str) -> Vec<&str> {
    if name.is_empty() {
        Vec::new()
    } else {
        vec!["--name", name]
    }
}

impl DuetNode {
    /// Starts `duet up --name NAME` in `host` and waits for its control socket.
    pub fn start(host: &Host, name: &str) -> anyhow::Result<Self> {
        Self::start_with(host, NodeOptions::named(name))
    }

    pub fn start_with(host: &Host, opts: NodeOptions) -> anyhow::Result<Self> {
        let node = Self::spawn(host, opts)?;
        node.wait_ready(READY_DEADLINE)?;
        Ok(node)
    }

    /// Starts the process without waiting (benchmarks time from here).
    pub fn spawn(host: &Host, opts: NodeOptions) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("duet-node-").tempdir()?;
        let data_dir = opts.data_dir.unwrap_or_else(|| dir.path().join("data"));
        let control = dir.path().join("control.sock");
        let log = dir.path().join("node.log");
        let log_file = std::fs::File::create(&log)?;
        let rust_log = opts.rust_log.clone().unwrap_or_else(|| {
            std::env::var("DUET_TEST_LOG").unwrap_or_else(|_| "info,duet_node=debug".into())
        });
        let mut command = host.command(duet_bin());
        match &opts.x_display {
            Some(d) => command.env("DISPLAY", d),
            None => command.env_remove("DISPLAY"),
        };
        let child = command
            .arg("up")
            .args(name_arg(&opts.name))
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--control")
            .arg(&control)
            .args(media_defaults(&opts.args))
            .args(&opts.args)
            .env("RUST_LOG", rust_log)
            .env("NO_COLOR", "1")
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .with_context(|| format!("starting {} in {}", duet_bin().display(), host.netns))?;
        Ok(Self {
            name: opts.name,
            host: host.clone(),
            data_dir,
            control,
            log,
            child: Some(child),
            _dir: dir,
        })
    }

    /// Waits until the control socket answers `status`.
    pub fn wait_ready(&self, deadline: Duration) -> anyhow::Result<()> {
        let what = format!("{} to answer on its control socket", self.name);
        crate::wait_until(&what, deadline, || {
            if let Some(code) = self.exited()? {
                bail!("node exited early ({code}); log:\n{}", self.logs());
            }
            Ok(self.request(&serde_json::json!({"cmd": "status"})).ok())
        })
        .map(|_| ())
    }

    fn exited(&self) -> anyhow::Result<Option<ExitStatus>> {
        // try_wait needs &mut; peek through /proc instead.
        let Some(pid) = self.child.as_ref().map(Child::id) else {
            return Ok(None);
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next());
        if state == Some("Z") || stat.is_empty() {
            bail!("process {pid} is gone");
        }
        Ok(None)
    }

    /// The process id of `duet up` (`ip netns exec` execs it in place).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// One raw request line on the control socket, one reply line back.
    pub fn request(&self, request: &Value) -> anyhow::Result<Value> {
        let mut s = UnixStream::connect(&self.control)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        writeln!(s, "{request}")?;
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line)?;
        Ok(serde_json::from_str(&line)?)
    }

    /// A `duet` client command aimed at this node (`--control` set).
    pub fn cli(&self) -> Command {
        let mut c = Command::new(duet_bin());
        c.env("DUET_CONTROL", &self.control)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    fn cli_json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> anyhow::Result<T> {
        let out = self.cli().args(args).output()?;
        if !out.status.success() {
            bail!(
                "duet {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        serde_json::from_slice(&out.stdout).with_context(|| {
            format!(
                "duet {} printed {:?}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `duet peers --json`.
    pub fn peers(&self) -> anyhow::Result<Vec<Peer>> {
        self.cli_json(&["peers", "--json"])
    }

    /// `duet status --json`.
    pub fn status(&self) -> anyhow::Result<NodeStatus> {
        self.cli_json(&["status", "--json"])
    }

    pub fn peer_id(&self) -> anyhow::Result<String> {
        Ok(self.status()?.peer_id)
    }

    /// Waits until this node and `other` list each other.
    pub fn wait_to_meet(&self, other: &DuetNode, deadline: Duration) -> anyhow::Result<()> {
        let (mine, theirs) = (self.peer_id()?, other.peer_id()?);
        self.wait_for_peers(&[&theirs], deadline)?;
        other.wait_for_peers(&[&mine], deadline)?;
        Ok(())
    }

    /// alice on `lan`'s first host and bob, answering anyone's call by
    /// himself, on its second; returned once each lists the other.
    pub fn alice_and_answering_bob(
        lan: &crate::Lan,
        deadline: Duration,
    ) -> anyhow::Result<(DuetNode, DuetNode)> {
        let alice = DuetNode::start(lan.host(0), "alice")?;
        let bob =
            DuetNode::start_with(lan.host(1), NodeOptions::named("bob").args(AUTO_ANSWER_ANY))?;
        alice.wait_to_meet(&bob, deadline)?;
        Ok((alice, bob))
    }

    /// Waits until `duet peers` lists exactly the given PeerIds (any order).
    pub fn wait_for_peers(&self, ids: &[&str], deadline: Duration) -> anyhow::Result<Vec<Peer>> {
        let mut want: Vec<&str> = ids.to_vec();
        want.sort();
        let what = format!("{} to list {want:?}", self.name);
        crate::wait_until(&what, deadline, || {
            let peers = self.peers()?;
            let mut got: Vec<&str> = peers.iter().map(|p| p.peer_id.as_str()).collect();
            got.sort();
            Ok((got == want).then(|| peers.clone()))
        })
    }

    /// `duet events --json`, read on a thread; subscribed when this returns.
    pub fn events(&self) -> anyhow::Result<EventStream> {
        let mut child = self
            .cli()
            .args(["events", "--json"])
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let at = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(NodeEvent { at, value: v }).is_err() {
                        break;
                    }
                }
            }
        });
        let stream = EventStream::new(child, rx);
        // The first line says the subscription is live: nothing is missed after it.
        stream.wait_for("the event stream to start", READY_DEADLINE, |e| {
            e.kind() == "subscribed"
        })?;
        Ok(stream)
    }

    /// SIGTERM, then waits for the exit (10 s, then SIGKILL).
    pub fn stop(&mut self) -> anyhow::Result<ExitStatus> {
        let child = self.child.as_mut().context("node not running")?;
        signal(child.id(), nix::sys::signal::Signal::SIGTERM)?;
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status);
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                bail!("{} did not exit within 10 s of SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL (a crash): no goodbye.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DuetNode {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- log of {} ({}) ----\n{}",
                self.name,
                self.host.netns,
                self.logs()
            );
        }
    }
}

fn signal(pid: u32, sig: nix::sys::signal::Signal) -> anyhow::Result<()> {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid)?);
    nix::sys::signal::kill(pid, sig)?;
    Ok(())
}
