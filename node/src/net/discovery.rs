//! LAN discovery with DNS-SD (mdns-sd): registers `_duet._udp.local.` and
//! browses the same type. Standard browsers (avahi-browse, python-zeroconf)
//! list the node by its display name.
//!
//! Instance names are "<name> [<PeerId suffix>]": DNS-SD requires unique
//! instance names on a link, and names are labels (two nodes may both be
//! "bob"). Because the suffix makes the name unique, the RFC 6762 probe
//! (~850 ms here) is skipped and the record is announced at once. Host names
//! are derived from the PeerId too: test namespaces share one kernel host
//! name, and clashing A records would mix nodes' addresses.
//!
//! Records are untrusted input: a missing or invalid `peer_id`, `proto` or
//! `name` is logged once (the first [`MAX_WARNED`] names; past that, in
//! periodic summaries) and the record ignored; names with control, bidi or
//! invisible characters are invalid (see [`crate::proto::text`]). Whether the node at the
//! advertised address really holds the claimed PeerId is checked by the
//! event loop when it dials (Noise).

use super::rate_limit::Throttle;
use super::NetError;
use crate::proto::text::escape;
use crate::proto::{DisplayName, PROTO_VERSION};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use mdns_sd::{IfKind, ResolvedService, ServiceDaemon, ServiceEvent, ServiceInfo};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc;

pub const SERVICE_TYPE: &str = "_duet._udp.local.";
const SUFFIX_LEN: usize = 6;
const GOODBYE_WAIT: Duration = Duration::from_secs(1);
/// Malformed records logged one by one; past that, counted in summaries.
const MAX_WARNED: usize = 64;
/// Addresses kept per record (one node has a few interfaces).
pub const MAX_RECORD_ADDRS: usize = 8;

/// A parsed, well-formed (not yet verified) DNS-SD record of a Duet node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub fullname: String,
    pub peer: PeerId,
    pub name: DisplayName,
    pub addrs: Vec<Multiaddr>,
}

#[derive(Debug, Clone)]
pub enum DiscoveryEvent {
    Resolved(Record),
    Removed { fullname: String },
}

pub struct Discovery {
    daemon: ServiceDaemon,
    local: PeerId,
    registered: Option<String>,
}

impl Discovery {
    /// Starts the mDNS daemon (limited to `interfaces` if any) and browsing;
    /// parsed records are sent to `events`.
    pub fn start(
        local: PeerId,
        interfaces: &[String],
        events: mpsc::Sender<DiscoveryEvent>,
    ) -> Result<Self, NetError> {
        let daemon = ServiceDaemon::new().map_err(|e| NetError::Mdns(e.to_string()))?;
        if !interfaces.is_empty() {
            warn_unknown_interfaces(interfaces);
            daemon
                .disable_interface(IfKind::All)
                .and_then(|_| {
                    daemon.enable_interface(
                        interfaces
                            .iter()
                            .map(|i| IfKind::Name(i.clone()))
                            .collect::<Vec<_>>(),
                    )
                })
                .map_err(|e| NetError::Mdns(e.to_string()))?;
        }
        let browse = daemon
            .browse(SERVICE_TYPE)
            .map_err(|e| NetError::Mdns(e.to_string()))?;
        tokio::spawn(forward(browse, events));
        Ok(Self {
            daemon,
            local,
            registered: None,
        })
    }

    /// Announces this node. `ips` are the addresses to advertise.
    pub fn register(
        &mut self,
        name: &DisplayName,
        ips: &[IpAddr],
        tcp: Option<u16>,
        quic: Option<u16>,
    ) -> Result<(), NetError> {
        let peer = self.local.to_string();
        let mut props = HashMap::new();
        props.insert("peer_id".to_string(), peer.clone());
        props.insert("proto".to_string(), PROTO_VERSION.to_string());
        props.insert("name".to_string(), name.to_string());
        if let Some(p) = tcp {
            props.insert("tcp".to_string(), p.to_string());
        }
        if let Some(p) = quic {
            props.insert("quic".to_string(), p.to_string());
        }
        let port = tcp.or(quic).unwrap_or(0);
        let host = format!("duet-{}.local.", suffix(&peer, 12).to_lowercase());
        let mut info = ServiceInfo::new(
            SERVICE_TYPE,
            &instance_name(name, &self.local),
            &host,
            ips,
            port,
            props,
        )
        .map_err(|e| NetError::Mdns(e.to_string()))?;
        info.set_requires_probe(false);
        let fullname = info.get_fullname().to_string();
        self.daemon
            .register(info)
            .map_err(|e| NetError::Mdns(e.to_string()))?;
        tracing::info!("announced {fullname} on {ips:?}");
        self.registered = Some(fullname);
        Ok(())
    }

    /// Unregisters (sends DNS-SD goodbye packets) and stops the daemon.
    pub async fn goodbye(self) {
        if let Some(fullname) = &self.registered {
            match self.daemon.unregister(fullname) {
                Ok(rx) => {
                    if tokio::time::timeout(GOODBYE_WAIT, rx.recv_async())
                        .await
                        .is_err()
                    {
                        tracing::warn!("mDNS goodbye not confirmed in {GOODBYE_WAIT:?}");
                    }
                }
                Err(e) => tracing::warn!("mDNS unregister: {e}"),
            }
        }
        if let Ok(rx) = self.daemon.shutdown() {
            let _ = tokio::time::timeout(GOODBYE_WAIT, rx.recv_async()).await;
        }
    }
}

/// Forwards browse results, parsed, from the mdns-sd thread to the loop.
async fn forward(browse: mdns_sd::Receiver<ServiceEvent>, events: mpsc::Sender<DiscoveryEvent>) {
    let mut warned = HashSet::new();
    let mut more = Throttle::default();
    while let Ok(event) = browse.recv_async().await {
        let out = match event {
            ServiceEvent::ServiceResolved(svc) => match parse_record(&svc) {
                Ok(r) => DiscoveryEvent::Resolved(r),
                Err(e) => {
                    let fullname = escape(&svc.fullname);
                    if warned.len() < MAX_WARNED {
                        if warned.insert(svc.fullname.clone()) {
                            tracing::warn!("ignoring DNS-SD record \"{fullname}\": {e}");
                        }
                    } else if let Some(n) = more.hit(std::time::Instant::now()) {
                        tracing::warn!("ignored {n} more malformed DNS-SD record(s), the last \"{fullname}\": {e}");
                    }
                    continue;
                }
            },
            ServiceEvent::ServiceRemoved(_, fullname) => DiscoveryEvent::Removed { fullname },
            _ => continue,
        };
        if events.send(out).await.is_err() {
            break;
        }
    }
}

/// "<name> [<last 6 characters of the PeerId>]".
pub fn instance_name(name: &DisplayName, peer: &PeerId) -> String {
    format!("{name} [{}]", suffix(&peer.to_string(), SUFFIX_LEN))
}

fn suffix(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}

/// Checks a resolved record and turns it into dialable addresses.
pub fn parse_record(svc: &ResolvedService) -> Result<Record, String> {
    let txt = |k: &str| svc.get_property_val_str(k);
    let peer: PeerId = txt("peer_id")
        .ok_or("no peer_id in TXT")?
        .parse()
        .map_err(|e| format!("invalid peer_id: {e}"))?;
    match txt("proto") {
        Some(PROTO_VERSION) => {}
        Some(v) => return Err(format!("unsupported proto version {v:?}")),
        None => return Err("no proto in TXT".to_string()),
    }
    let name = DisplayName::new(txt("name").ok_or("no name in TXT")?).map_err(|e| e.to_string())?;
    let port = |k: &str| -> Result<Option<u16>, String> {
        txt(k)
            .map(|v| {
                v.parse::<u16>()
                    .map_err(|_| format!("invalid {k} port {v:?}"))
            })
            .transpose()
    };
    let tcp = port("tcp")?.or(Some(svc.get_port()).filter(|p| *p != 0));
    let quic = port("quic")?;
    let mut addrs = Vec::new();
    for ip in svc.get_addresses().iter().map(|a| a.to_ip_addr()) {
        if !usable(&ip) {
            continue;
        }
        let base = Multiaddr::empty().with(match ip {
            IpAddr::V4(v4) => Protocol::Ip4(v4),
            IpAddr::V6(v6) => Protocol::Ip6(v6),
        });
        if let Some(p) = tcp {
            addrs.push(base.clone().with(Protocol::Tcp(p)));
        }
        if let Some(p) = quic {
            addrs.push(base.with(Protocol::Udp(p)).with(Protocol::QuicV1));
        }
    }
    addrs.sort();
    addrs.truncate(MAX_RECORD_ADDRS);
    if addrs.is_empty() {
        return Err("no usable address".to_string());
    }
    Ok(Record {
        fullname: svc.fullname.clone(),
        peer,
        name,
        addrs,
    })
}

/// Addresses worth dialing or advertising: not unspecified, and no IPv6
/// link-local (those need a scope id that multiaddrs cannot carry).
fn usable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !v4.is_unspecified(),
        IpAddr::V6(v6) => !v6.is_unspecified() && !v6.is_unicast_link_local(),
    }
}

/// The IPs to advertise: those of the listen addresses, minus loopback, and
/// only on `interfaces` when given.
pub fn advertised_ips(listen: &[Multiaddr], interfaces: &[String]) -> Vec<IpAddr> {
    let allowed: Option<HashSet<IpAddr>> = (!interfaces.is_empty()).then(|| {
        if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| interfaces.contains(&i.name))
            .map(|i| i.ip())
            .collect()
    });
    let mut ips: Vec<IpAddr> = listen
        .iter()
        .filter_map(|a| {
            a.iter().find_map(|p| match p {
                Protocol::Ip4(v4) => Some(IpAddr::V4(v4)),
                Protocol::Ip6(v6) => Some(IpAddr::V6(v6)),
                _ => None,
            })
        })
        .filter(|ip| usable(ip) && !ip.is_loopback())
        .filter(|ip| allowed.as_ref().is_none_or(|a| a.contains(ip)))
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

fn warn_unknown_interfaces(interfaces: &[String]) {
    let known: HashSet<String> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.name)
        .collect();
    for i in interfaces.iter().filter(|i| !known.contains(*i)) {
        tracing::warn!("--interface {i}: no such interface with an address (yet)");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn resolved(props: &[(&str, &str)]) -> ResolvedService {
        let map: HashMap<String, String> = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServiceInfo::new(
            SERVICE_TYPE,
            "bob [abcdef]",
            "h.local.",
            "10.77.0.2",
            4001,
            map,
        )
        .unwrap()
        .as_resolved_service()
    }

    #[test]
    fn good_record_gives_tcp_and_quic_addresses() {
        let peer = PeerId::random().to_string();
        let svc = resolved(&[
            ("peer_id", &peer),
            ("proto", "1"),
            ("name", "bob"),
            ("quic", "5000"),
        ]);
        let r = parse_record(&svc).unwrap();
        assert_eq!(r.peer.to_string(), peer);
        assert_eq!(r.name.as_str(), "bob");
        let a: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
        assert!(a.contains(&"/ip4/10.77.0.2/tcp/4001".to_string()), "{a:?}");
        assert!(
            a.contains(&"/ip4/10.77.0.2/udp/5000/quic-v1".to_string()),
            "{a:?}"
        );
    }

    #[test]
    fn malformed_records_are_rejected() {
        let peer = PeerId::random().to_string();
        assert!(parse_record(&resolved(&[("proto", "1"), ("name", "x")])).is_err());
        assert!(parse_record(&resolved(&[
            ("peer_id", "nope"),
            ("proto", "1"),
            ("name", "x")
        ]))
        .is_err());
        assert!(parse_record(&resolved(&[
            ("peer_id", &peer),
            ("proto", "9"),
            ("name", "x")
        ]))
        .is_err());
        assert!(parse_record(&resolved(&[("peer_id", &peer), ("proto", "1")])).is_err());
        let bad_port = [
            ("peer_id", peer.as_str()),
            ("proto", "1"),
            ("name", "x"),
            ("quic", "99999"),
        ];
        assert!(parse_record(&resolved(&bad_port)).is_err());
        for evil in ["eve\u{1b}[2J", "ali\u{202E}ecb", "b\u{200B}ob"] {
            let txt = [("peer_id", peer.as_str()), ("proto", "1"), ("name", evil)];
            assert!(parse_record(&resolved(&txt)).is_err(), "{evil:?}");
        }
    }

    #[test]
    fn instance_names_keep_the_display_name() {
        let p = PeerId::random();
        let n = instance_name(&DisplayName::new("bob").unwrap(), &p);
        assert!(n.starts_with("bob ["));
        assert!(n.ends_with(&format!("{}]", suffix(&p.to_string(), 6))));
        assert!(n.len() <= 63);
    }

    #[test]
    fn advertised_ips_skip_loopback_and_unspecified() {
        let listen: Vec<Multiaddr> = [
            "/ip4/127.0.0.1/tcp/1",
            "/ip4/10.77.0.3/tcp/1",
            "/ip4/0.0.0.0/tcp/1",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let ips = advertised_ips(&listen, &[]);
        assert_eq!(ips, vec!["10.77.0.3".parse::<IpAddr>().unwrap()]);
    }
}
