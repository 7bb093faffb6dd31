//! An independent DNS-SD browser (python3-zeroconf, not mdns-sd) run in a
//! host, to check that standard tools see Duet nodes with their names.

use crate::lan::Host;
use anyhow::bail;
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;

/// Runs tests/scripts/dnssd-browse.py (python3-zeroconf, an independent
/// DNS-SD implementation) in `host` until `expect` `_duet._udp` services
/// are resolved or `timeout` passes; returns what it saw.
pub fn dnssd_browse(host: &Host, expect: usize, timeout: Duration) -> anyhow::Result<Vec<Value>> {
    let script = crate::workspace_root().join("tests/scripts/dnssd-browse.py");
    let out = host
        .command("/usr/bin/python3")
        .arg(script)
        .args([
            "--expect",
            &expect.to_string(),
            "--timeout",
            &timeout.as_secs().to_string(),
        ])
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "dnssd-browse.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}
