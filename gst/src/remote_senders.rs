//! The SSRCs the peer's media came from: the RTP that reached our
//! depayloaders. Only a BYE for one of them means the peer's media ended
//! (see `remote_bye`, which fills and reads this list).

use std::sync::Mutex;

/// At most this many of the peer's SSRCs are kept (one per stream, a new one
/// after an SSRC collision): a peer cannot grow it without bound.
const MAX_SENDERS: usize = 16;

/// The SSRCs the peer's media came from (RTP seen at our depayloaders).
#[derive(Debug, Default)]
pub(crate) struct RemoteSenders {
    ssrcs: Mutex<Vec<u32>>,
}

impl RemoteSenders {
    pub(crate) fn note(&self, ssrc: u32) {
        if let Ok(mut g) = self.ssrcs.lock() {
            if !g.contains(&ssrc) && g.len() < MAX_SENDERS {
                g.push(ssrc);
            }
        }
    }

    pub(crate) fn contains(&self, ssrc: u32) -> bool {
        self.ssrcs.lock().is_ok_and(|g| g.contains(&ssrc))
    }
}

/// The SSRC of an RTP packet (version 2, at least the fixed 12-byte header).
pub(crate) fn rtp_ssrc(header: &[u8]) -> Option<u32> {
    let fixed = header.get(..12)?;
    if fixed[0] >> 6 != 2 {
        return None;
    }
    Some(u32::from_be_bytes([
        fixed[8], fixed[9], fixed[10], fixed[11],
    ]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_ssrc_is_read_from_a_version_2_rtp_header_only() {
        let mut packet = [0u8; 12];
        packet[0] = 0x80;
        packet[8..12].copy_from_slice(&0xeadf_4cc6u32.to_be_bytes());
        assert_eq!(rtp_ssrc(&packet), Some(0xeadf_4cc6));
        assert_eq!(rtp_ssrc(&packet[..11]), None);
        packet[0] = 0x40;
        assert_eq!(rtp_ssrc(&packet), None);
    }

    #[test]
    fn only_noted_ssrcs_are_the_peers_senders_and_the_list_is_bounded() {
        let senders = RemoteSenders::default();
        senders.note(7);
        senders.note(7);
        assert!(senders.contains(7));
        assert!(!senders.contains(8));
        for ssrc in 100..200 {
            senders.note(ssrc);
        }
        assert_eq!(senders.ssrcs.lock().unwrap().len(), MAX_SENDERS);
    }
}
