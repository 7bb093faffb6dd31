//! A real `duet broker` process inside a host of a simulated LAN, with its
//! own data dir (kept across [`DuetBroker::restart`], so its PeerId stays).
//! Killed on drop; its log is printed if the test panics.

use crate::lan::Host;
use crate::node::duet_bin;
use anyhow::{bail, Context};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The WebSocket port the tests' brokers listen on (namespaces make it free).
pub const WS_PORT: u16 = 7170;

pub struct DuetBroker {
    pub host: Host,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    /// Extra `duet broker` arguments.
    pub args: Vec<String>,
    /// The address nodes use: `/ip4/<host ip>/tcp/7170/ws/p2p/<PeerId>`.
    pub addr: String,
    /// The first page URL it printed (`web: https://…`), if the web endpoint is on.
    pub web_url: Option<String>,
    /// Its web certificate's SHA-256 (`AB:CD:…`), as printed.
    pub web_fingerprint: Option<String>,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for DuetBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DuetBroker({})", self.host.netns)
    }
}

impl DuetBroker {
    /// Starts `duet broker` in `host` and waits for it to print its address.
    pub fn start(host: &Host, args: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("duet-broker-").tempdir()?;
        let mut broker = Self {
            host: host.clone(),
            data_dir: dir.path().join("data"),
            log: dir.path().join("broker.log"),
            args: args.iter().map(|a| a.to_string()).collect(),
            addr: String::new(),
            web_url: None,
            web_fingerprint: None,
            child: None,
            _dir: dir,
        };
        broker.launch()?;
        Ok(broker)
    }

    fn launch(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut child = self
            .host
            .command(duet_bin())
            .arg("broker")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen", &format!("/ip4/0.0.0.0/tcp/{WS_PORT}/ws")])
            .args(&self.args)
            .env("RUST_LOG", "info,duet_node=debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting duet broker")?;
        let stdout = child.stdout.take().context("no stdout")?;
        self.child = Some(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let want = format!("/ip4/{}/tcp/{WS_PORT}/ws/p2p/", self.host.ip);
        loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.starts_with(&want) => {
                    self.addr = line;
                    return Ok(());
                }
                Ok(line) if line.starts_with("web: certificate sha256 ") => {
                    self.web_fingerprint = line.rsplit(' ').next().map(String::from);
                }
                Ok(line) if line.starts_with("web: https://") && self.web_url.is_none() => {
                    self.web_url = line.strip_prefix("web: ").map(String::from);
                }
                Ok(_) => {}
                Err(_) => bail!("broker printed no {want}… line; log:\n{}", self.logs()),
            }
        }
    }

    /// SIGKILL: gone without a word, as a crash or a power cut.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts it again with the same identity, port and arguments.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill()?;
        let before = self.addr.clone();
        self.launch()?;
        if self.addr != before {
            bail!("broker came back as {} (was {before})", self.addr);
        }
        Ok(())
    }

    /// SIGTERM and the exit status (10 s, then SIGKILL).
    pub fn stop(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let child = self.child.as_mut().context("broker not running")?;
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
        let status = crate::wait_until("the broker to exit", Duration::from_secs(10), || {
            Ok(child.try_wait()?)
        })?;
        self.child = None;
        Ok(status)
    }

    /// `IP:PORT` of the web endpoint, from the URL it printed.
    pub fn web_addr(&self) -> Option<String> {
        let url = self.web_url.as_deref()?.strip_prefix("https://")?;
        Some(url.split('/').next()?.to_string())
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DuetBroker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- log of the broker ({}) ----\n{}",
                self.host.netns,
                self.logs()
            );
        }
    }
}
