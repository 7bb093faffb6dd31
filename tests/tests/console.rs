#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `duet up` in a terminal: a real pseudo-terminal (util-linux `script`)
//! runs the node; the test reads what a person would see and types answers.

use duet_tests::node::{duet_bin, DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// A node whose stdin and stdout are a terminal.
struct Terminal {
    child: Child,
    stdin: ChildStdin,
    screen: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Terminal {
    fn start(lan: &Lan, i: usize, name: &str) -> Terminal {
        let dir = tempfile::tempdir().unwrap();
        let up = format!(
            "{} up --name {name} --data-dir {} --control {} --video test --audio test --display none",
            duet_bin().display(),
            dir.path().join("data").display(),
            dir.path().join("control.sock").display()
        );
        let mut child = lan
            .host(i)
            .command("script")
            .args(["-q", "-f", "-e", "-c", &up, "/dev/null"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            let mut line = Vec::new();
            while out.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&line));
                line.clear();
            }
        });
        Terminal {
            child,
            stdin,
            screen,
            _dir: dir,
        }
    }

    fn control(&self) -> std::path::PathBuf {
        self._dir.path().join("control.sock")
    }

    fn type_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn wait_for(&self, text: &str) {
        wait_until(&format!("the terminal to show {text:?}"), DEADLINE, || {
            Ok(self.screen.lock().unwrap().contains(text).then_some(()))
        })
        .unwrap_or_else(|e| panic!("{e:#}\nscreen:\n{}", self.screen.lock().unwrap()));
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn terminal_shows_peers_and_incoming_calls_and_takes_commands() {
    let lan = Lan::new(2).unwrap();
    let mut alice = Terminal::start(&lan, 0, "alice");
    alice.wait_for("duet is up");
    let bob = DuetNode::start_with(lan.host(1), NodeOptions::named("bob")).unwrap();
    let bob_id = bob.peer_id().unwrap();
    alice.wait_for("up       bob");
    alice.type_line("peers");
    alice.wait_for(&bob_id[bob_id.len() - 6..]);

    wait_until("bob to list alice", DEADLINE, || {
        Ok(bob.peers()?.iter().any(|p| p.name == "alice").then_some(()))
    })
    .unwrap();
    // bob calls; alice sees the prompt and answers with "y".
    let call = bob
        .cli()
        .args(["call", "alice"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    alice.wait_for("is calling — answer? [y/N]");
    assert!(alice.screen.lock().unwrap().contains("bob (12D3"));
    alice.type_line("y");
    let out = call.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    alice.wait_for("connected bob");

    // Mute from the console: bob hears of it; a kind is required.
    alice.type_line("mute video");
    alice.wait_for("muted video");
    wait_until("bob to see alice's camera off", DEADLINE, || {
        Ok((bob.status()?.call["remote_muted"]["video"] == true).then_some(()))
    })
    .unwrap();
    alice.type_line("unmute");
    alice.wait_for("unmute what?");

    alice.type_line("status");
    alice.wait_for("video frames");
    alice.type_line("hangup");
    alice.wait_for("hung up");
    wait_until("bob to have no call", DEADLINE, || {
        Ok(bob.status()?.call.is_null().then_some(()))
    })
    .unwrap();

    alice.type_line("nonsense");
    alice.wait_for("unknown command `nonsense`");
    let control = alice.control();
    alice.type_line("quit");
    let status = wait_until("the node to exit on quit", DEADLINE, || {
        Ok(alice.child.try_wait()?)
    })
    .unwrap();
    assert!(status.success(), "{status}");
    // It said goodbye: the control socket is gone.
    assert!(!control.exists());
}
