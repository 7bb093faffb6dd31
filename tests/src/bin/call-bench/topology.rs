//! Where the two bench nodes sit: on one subnet (the LAN as without a
//! broker), or on two subnets joined by a router with a `duet broker`
//! beside alice, the router forwarding everything (direct media), no UDP
//! but to the broker (media through its TURN), or nothing but to the broker
//! (signalling over its relay circuit too). Each topology is its own
//! simulated LAN, removed when its [`Setup`] drops.

use crate::args::Args;
use crate::calls::node_opts;
use crate::DEADLINE;
use anyhow::bail;
use duet_tests::broker::DuetBroker;
use duet_tests::node::DuetNode;
use duet_tests::xvfb::Xvfb;
use duet_tests::{Filter, Lan};

/// A place for the two nodes; see the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// One bridge, no broker: mDNS, host candidates.
    Same,
    /// One bridge, with a broker: what the broker's STUN/TURN servers add.
    SameBroker,
    /// Two subnets, a router that forwards unicast, a broker.
    Routed,
    /// As `Routed`, the router dropping UDP between the subnets except to
    /// and from the broker: media through TURN.
    Relay,
    /// As `Routed`, the router dropping all traffic between the subnets
    /// except to and from the broker: signalling over the relay circuit,
    /// media through TURN.
    Circuit,
}

impl Topology {
    pub const ALL: [Topology; 5] = [
        Topology::Same,
        Topology::SameBroker,
        Topology::Routed,
        Topology::Relay,
        Topology::Circuit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Topology::Same => "same",
            Topology::SameBroker => "same-broker",
            Topology::Routed => "routed",
            Topology::Relay => "relay",
            Topology::Circuit => "circuit",
        }
    }

    /// `same,routed,relay` (or `all`: every topology) as a list.
    pub fn parse_list(s: &str) -> anyhow::Result<Vec<Topology>> {
        if s == "all" {
            return Ok(Self::ALL.to_vec());
        }
        let mut out = Vec::new();
        for w in s.split(',') {
            let Some(t) = Self::ALL.into_iter().find(|t| t.name() == w) else {
                bail!("unknown topology {w:?} (same, same-broker, routed, relay, circuit, all)");
            };
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// One sentence for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Topology::Same => "one subnet (one bridge), no broker: mDNS discovery",
            Topology::SameBroker => {
                "one subnet, both nodes also `--broker` to a broker on it (its STUN/TURN in ICE)"
            }
            Topology::Routed => {
                "two subnets joined by a router (unicast forwarded, not mDNS); broker beside \
                 alice on subnet 1, bob on subnet 2, both `--broker`: direct media"
            }
            Topology::Relay => {
                "as routed, the router dropping UDP between the subnets except to and from \
                 the broker: media through the broker's TURN"
            }
            Topology::Circuit => {
                "as routed, the router dropping all traffic between the subnets except to \
                 and from the broker: signalling over its relay circuit, media through its TURN"
            }
        }
    }

    fn broker(self) -> bool {
        self != Topology::Same
    }

    fn filter(self, lan: &Lan) -> Option<Filter> {
        let ip = lan.host(0).ip;
        match self {
            Topology::Relay => Some(Filter::UdpBut(ip)),
            Topology::Circuit => Some(Filter::AllBut(ip)),
            _ => None,
        }
    }
}

/// A topology's LAN, broker, X servers and the two nodes, ready to call.
pub struct Setup {
    pub topology: Topology,
    pub alice: DuetNode,
    pub bob: DuetNode,
    // Dropped after the nodes (fields drop in order): they run on these.
    _broker: Option<DuetBroker>,
    _xs: Option<[Xvfb; 2]>,
    _lan: Lan,
}

impl Setup {
    /// Builds the topology and starts both nodes; returns once they list
    /// each other (and, with a broker, both hold its TURN credentials).
    pub fn start(topology: Topology, args: &Args) -> anyhow::Result<Setup> {
        let routed = matches!(
            topology,
            Topology::Routed | Topology::Relay | Topology::Circuit
        );
        // Host 0 is the broker's (unused without one); alice is host 1 and
        // bob host 2 — on subnet 2 when routed.
        let lan = if routed {
            Lan::routed(2, 2)?
        } else {
            Lan::new(3)?
        };
        if let Some(f) = topology.filter(&lan) {
            lan.filter(f)?;
        }
        let broker = if topology.broker() {
            Some(DuetBroker::start(lan.host(0), &[])?)
        } else {
            None
        };
        let xs = if args.display == "window" {
            Some([Xvfb::start()?, Xvfb::start()?])
        } else {
            None
        };
        let x = |i: usize| xs.as_ref().map(|xs| xs[i].display.as_str());
        let auto = args.ring_ms == 0;
        let start = |i: usize, name: &str| {
            let mut o = node_opts(name, &args.log, &args.codec, x(i - 1), auto);
            if let Some(f) = &args.video_fec {
                o = o.arg("--video-fec").arg(f);
            }
            if let Some(b) = &broker {
                o = o.arg("--broker").arg(&b.addr);
            }
            DuetNode::start_with(lan.host(i), o)
        };
        let alice = start(1, "alice")?;
        let bob = start(2, "bob")?;
        alice.wait_to_meet(&bob, DEADLINE)?;
        if broker.is_some() {
            for n in [&alice, &bob] {
                duet_tests::wait_until(
                    &format!("{} to hold TURN credentials", n.name),
                    DEADLINE,
                    || {
                        let s = n.status()?;
                        Ok(s.brokers.iter().any(|b| b["turn"] == true).then_some(()))
                    },
                )?;
            }
        }
        Ok(Setup {
            topology,
            alice,
            bob,
            _broker: broker,
            _xs: xs,
            _lan: lan,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn topology_lists() {
        assert_eq!(Topology::parse_list("same").unwrap(), vec![Topology::Same]);
        assert_eq!(
            Topology::parse_list("same,relay,same").unwrap(),
            vec![Topology::Same, Topology::Relay]
        );
        assert_eq!(Topology::parse_list("all").unwrap().len(), 5);
        assert!(Topology::parse_list("same,bogus").is_err());
        assert!(Topology::parse_list("").is_err());
    }
}
