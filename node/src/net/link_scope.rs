//! ICE candidates that can only work on one link (IPv6 `fe80::/10`, IPv4
//! `169.254/16`) are kept between peers on the same link and left out
//! between the others.
//!
//! Every host has an IPv6 link-local address, so webrtcbin offers a
//! link-local host candidate beside the IPv4 one. Between peers on two
//! subnets (found through a broker) the pairs it forms can never connect,
//! yet ICE paces their checks among the good ones and keeps retrying them:
//! measured on a routed simulated LAN, ICE reached `connected` ~1–6 ms
//! later and `completed` only after ~2 s of failing checks, against the
//! same calls with IPv6 off. A peer counts as on our link when it sent a
//! DNS-SD record we resolved (mDNS does not cross a router); candidates
//! are filtered both ways, so a node that still sends them costs nothing.

use crate::proto::call::CallSignal;
use std::net::IpAddr;

/// Whether `signal` carries a candidate whose address is link-local.
pub fn is_link_local_candidate(signal: &CallSignal) -> bool {
    let CallSignal::Ice { candidate, .. } = signal else {
        return false;
    };
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ …
    let address = candidate.split_whitespace().nth(4);
    match address.and_then(|a| a.parse::<IpAddr>().ok()) {
        Some(IpAddr::V6(ip)) => ip.is_unicast_link_local(),
        Some(IpAddr::V4(ip)) => ip.is_link_local(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ice(candidate: &str) -> CallSignal {
        CallSignal::Ice {
            call_id: "c".into(),
            mline: 0,
            candidate: candidate.into(),
        }
    }

    #[test]
    fn link_local_candidates_are_told_apart() {
        let scoped = [
            "candidate:2 1 UDP 2015363327 fe80::b461:e0ff:fef7:fa35 40431 typ host",
            "candidate:3 1 UDP 2015363327 FE80::1 40431 typ host",
            "candidate:4 1 UDP 2015363327 169.254.10.1 40431 typ host",
        ];
        for c in scoped {
            assert!(is_link_local_candidate(&ice(c)), "{c}");
        }
        let routable = [
            "candidate:1 1 UDP 2015363583 10.77.1.2 40431 typ host",
            "candidate:5 1 UDP 2015363327 fd00::2 40431 typ host",
            "candidate:6 1 UDP 1677721855 10.77.1.1 50000 typ relay raddr 10.77.1.2 rport 40431",
            "",
            "candidate:7 1 UDP 1 not-an-address 1 typ host",
        ];
        for c in routable {
            assert!(!is_link_local_candidate(&ice(c)), "{c}");
        }
        let mute = CallSignal::Mute {
            call_id: "c".into(),
            audio: true,
            video: false,
        };
        assert!(!is_link_local_candidate(&mute));
    }
}
