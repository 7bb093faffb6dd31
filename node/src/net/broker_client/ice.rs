//! A broker's STUN/TURN server as ICE server URLs for webrtcbin: the host
//! the node reached the broker at, the port and credentials the broker
//! handed out with the registration. Every new call's webrtcbin gets the
//! URLs of every broker that currently has this node registered.

use crate::proto::broker::TurnOffer;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The host part of a URI for the broker at `addr`, if it names one.
fn host(addr: &Multiaddr) -> Option<String> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(ip.to_string()),
        Protocol::Ip6(ip) => Some(format!("[{ip}]")),
        Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => Some(h.to_string()),
        _ => None,
    })
}

/// `stun:` and `turn:` URLs (as `duet_gst::MediaConfig::ice_servers` takes
/// them) for the broker at `addr`.
pub fn urls(addr: &Multiaddr, offer: &TurnOffer) -> Vec<String> {
    let Some(host) = host(addr) else {
        return Vec::new();
    };
    vec![
        format!("stun:{host}:{}", offer.port),
        format!(
            "turn:{}:{}@{host}:{}",
            escape(&offer.username),
            escape(&offer.password),
            offer.port
        ),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn offer(username: &str) -> TurnOffer {
        TurnOffer {
            port: 3478,
            username: username.into(),
            password: "ab12".into(),
            expires: 0,
        }
    }

    #[test]
    fn urls_name_the_broker_host_and_escape_credentials() {
        let a: Multiaddr = "/ip4/10.0.0.5/tcp/7170/ws".parse().unwrap();
        assert_eq!(
            urls(&a, &offer("1700000000-12D3Koo")),
            vec![
                "stun:10.0.0.5:3478".to_string(),
                "turn:1700000000-12D3Koo:ab12@10.0.0.5:3478".to_string()
            ]
        );
        let u = urls(&a, &offer("a:b/c@d"));
        assert_eq!(u[1], "turn:a%3Ab%2Fc%40d:ab12@10.0.0.5:3478");
        let v6: Multiaddr = "/ip6/fd00::1/tcp/7171".parse().unwrap();
        assert_eq!(urls(&v6, &offer("u"))[0], "stun:[fd00::1]:3478");
        let dns: Multiaddr = "/dns4/broker.lan/tcp/7171".parse().unwrap();
        assert_eq!(urls(&dns, &offer("u"))[0], "stun:broker.lan:3478");
        let none: Multiaddr = "/memory/5".parse().unwrap();
        assert!(urls(&none, &offer("u")).is_empty());
    }
}
