#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `duet devices` and the start-up check of named devices, with the real
//! binary. This machine has no camera, microphone or speaker, so the list
//! is probably empty; what is asserted is its shape, and that a device
//! that does not exist stops `duet up` at once with a pointer to `duet devices`.

use duet_tests::node::duet_bin;
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn devices_json_is_an_array_of_devices() {
    let out = Command::new(duet_bin())
        .args(["devices", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().expect("a JSON array");
    for d in list {
        assert!(
            ["camera", "microphone", "speaker"].contains(&d["kind"].as_str().unwrap()),
            "{d}"
        );
        for key in ["name", "device", "caps"] {
            assert!(d[key].is_string(), "{key} in {d}");
        }
    }
    let human = Command::new(duet_bin()).arg("devices").output().unwrap();
    assert!(human.status.success());
    assert_eq!(
        String::from_utf8_lossy(&human.stdout).lines().count(),
        list.len().max(1)
    );
}

#[test]
fn a_device_that_does_not_exist_stops_duet_up_naming_duet_devices() {
    // In a namespace of its own: were the check broken, the node would run
    // (and announce itself) there, not on this machine's network.
    let lan = Lan::new(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (flag, device, what) in [
        ("--video", "/dev/video9", "camera /dev/video9"),
        ("--audio", "hw:97,0", "microphone hw:97,0"),
        ("--speaker", "hw:97,0", "speaker hw:97,0"),
    ] {
        let mut child = lan
            .host(0)
            .command(duet_bin())
            .args(["up", "--name", "d", "--display", "none", "--no-console"])
            .args(
                [("--video", "test"), ("--audio", "test"), (flag, device)]
                    .iter()
                    .filter(|(f, v)| *f != flag || *v == device)
                    .flat_map(|(f, v)| [*f, *v]),
            )
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--control")
            .arg(dir.path().join("c.sock"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let exited = wait_until("duet up to stop", Duration::from_secs(20), || {
            Ok(child.try_wait()?)
        });
        if exited.is_err() {
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(exited.is_ok(), "{flag} {device}: still running; {err}");
        assert!(!out.status.success(), "{flag} {device}: {err}");
        assert!(
            err.contains(what) && err.contains("`duet devices`"),
            "{flag} {device}: {err}"
        );
    }
}
