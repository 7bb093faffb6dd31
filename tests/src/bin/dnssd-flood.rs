//! `dnssd-flood IDS_FILE IP PORT`: announces one well-formed but fake
//! `_duet._udp` service per PeerId in IDS_FILE (one a line), all pointing
//! at IP:PORT, where no node listens. Prints `registered N` once they are
//! all handed to the mDNS daemon, then runs until killed. Used by the
//! DNS-SD flood test inside a simulated LAN host; never on a real network.

use anyhow::Context;
use mdns_sd::{ServiceDaemon, ServiceInfo};
use std::collections::HashMap;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ids, ip, port] = &args[..] else {
        anyhow::bail!("usage: dnssd-flood IDS_FILE IP PORT");
    };
    let port: u16 = port.parse().context("PORT")?;
    let ids = std::fs::read_to_string(ids).context("reading IDS_FILE")?;
    let daemon = ServiceDaemon::new()?;
    let mut n = 0;
    for (i, id) in ids.lines().filter(|l| !l.is_empty()).enumerate() {
        let props = HashMap::from([
            ("peer_id".to_string(), id.to_string()),
            ("proto".to_string(), "1".to_string()),
            ("name".to_string(), format!("fake{i}")),
        ]);
        let mut info = ServiceInfo::new(
            "_duet._udp.local.",
            &format!("fake{i}"),
            &format!("fake{i}.local."),
            ip.as_str(),
            port,
            props,
        )?;
        info.set_requires_probe(false);
        // The daemon's command queue is bounded: wait for room.
        let mut tries = 0;
        while let Err(e) = daemon.register(info.clone()) {
            tries += 1;
            if tries > 1000 {
                anyhow::bail!("registering fake{i}: {e}");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        n += 1;
    }
    println!("registered {n}");
    loop {
        std::thread::park();
    }
}
