//! A Swarm stand-in for the dial rules' unit tests: records the dials,
//! answers `is_connected` from a set.

use super::dialer::Links;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, DialError};
use libp2p::PeerId;
use std::collections::HashSet;

pub struct FakeLinks {
    pub local: PeerId,
    pub connected: HashSet<PeerId>,
    /// Each dial: the peer and its id.
    pub dials: Vec<(PeerId, ConnectionId)>,
    /// Each dial's options as `Debug` prints them (they keep their
    /// addresses private): which addresses it tries.
    pub dialed: Vec<String>,
}

impl FakeLinks {
    pub fn new(local: PeerId) -> FakeLinks {
        FakeLinks {
            local,
            connected: HashSet::new(),
            dials: Vec::new(),
            dialed: Vec::new(),
        }
    }
}

impl Links for FakeLinks {
    fn local_peer(&self) -> PeerId {
        self.local
    }
    fn is_connected(&self, peer: &PeerId) -> bool {
        self.connected.contains(peer)
    }
    fn dial(&mut self, opts: DialOpts) -> Result<(), DialError> {
        let peer = opts.get_peer_id().ok_or(DialError::Aborted)?;
        self.dials.push((peer, opts.connection_id()));
        self.dialed.push(format!("{opts:?}"));
        Ok(())
    }
}

/// Two PeerIds, the smaller first.
pub fn ordered() -> (PeerId, PeerId) {
    let (a, b) = (PeerId::random(), PeerId::random());
    if a < b {
        (a, b)
    } else {
        (b, a)
    }
}
