#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Where the control socket may live: the shared fallback directory
//! (`$TMPDIR/duet-<uid>`, normally under /tmp) must be the user's own with
//! mode 0700, and a file at the control path that is not a socket is never
//! removed. Real `duet up` processes, each in a namespace of its own.

use duet_tests::node::duet_bin;
use duet_tests::{Host, Lan};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `duet up` with `args`, `TMPDIR=tmp` and no XDG_RUNTIME_DIR; returns
/// (exited successfully, stderr), killing it if it runs on.
fn up(host: &Host, tmp: &Path, args: &[&str]) -> (bool, String) {
    let stderr = tmp.join(format!("stderr-{}", rand::random::<u32>()));
    let mut child = host
        .command(duet_bin())
        .args(["up", "--name", "ctl", "--display", "none"])
        .args(["--video", "test", "--audio", "test", "--no-mdns"])
        .arg("--data-dir")
        .arg(tmp.join("data"))
        .args(args)
        .env("TMPDIR", tmp)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DUET_CONTROL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let status = duet_tests::wait_until("duet up to exit", Duration::from_secs(30), || {
        Ok(child.try_wait()?)
    });
    let status = status.unwrap_or_else(|e| {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{e:#}: {}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        )
    });
    (
        status.success(),
        std::fs::read_to_string(&stderr).unwrap_or_default(),
    )
}

fn refused(host: &Host, tmp: &Path, want: &str) {
    let (ok, err) = up(host, tmp, &[]);
    assert!(!ok, "duet up started in an unsafe directory");
    assert!(
        err.contains("refusing the control socket directory") && err.contains(want),
        "{err}"
    );
}

#[test]
fn fallback_control_directory_must_be_private() {
    let lan = Lan::new(1).unwrap();
    let host = lan.host(0);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp
        .path()
        .join(format!("duet-{}", nix::unistd::getuid().as_raw()));
    let mode = |m| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(m)).unwrap();

    std::fs::create_dir(&dir).unwrap();
    mode(0o755);
    refused(host, tmp.path(), "its mode is 0755, not 0700");

    mode(0o700);
    std::os::unix::fs::chown(&dir, Some(4242), Some(4242)).unwrap();
    refused(host, tmp.path(), "owned by uid 4242");
    // The client does not talk to a socket there either.
    let out = Command::new(duet_bin())
        .args(["status"])
        .env("TMPDIR", tmp.path())
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DUET_CONTROL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("owned by uid 4242"));
    std::fs::remove_dir(&dir).unwrap();

    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
    refused(host, tmp.path(), "not a directory");
    std::fs::remove_file(&dir).unwrap();

    // Made by the node itself: private, and the node runs.
    let mut node = host
        .command(duet_bin())
        .args(["up", "--name", "ctl", "--display", "none"])
        .args(["--video", "test", "--audio", "test", "--no-mdns"])
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .env("TMPDIR", tmp.path())
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DUET_CONTROL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let answered = duet_tests::wait_until("the node to answer", Duration::from_secs(30), || {
        let out = Command::new(duet_bin())
            .args(["status", "--json"])
            .env("TMPDIR", tmp.path())
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("DUET_CONTROL")
            .output()?;
        Ok(out.status.success().then_some(()))
    });
    let _ = node.kill();
    let _ = node.wait();
    answered.unwrap();
    let m = std::fs::symlink_metadata(&dir).unwrap();
    assert!(m.is_dir());
    assert_eq!(m.permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_file_at_the_control_path_is_never_removed() {
    let lan = Lan::new(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "do not eat me\n").unwrap();
    let (ok, err) = up(
        lan.host(0),
        tmp.path(),
        &["--control", notes.to_str().unwrap()],
    );
    assert!(!ok, "duet up took a regular file as its socket");
    assert!(err.contains("is not a socket"), "{err}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "do not eat me\n");
}
