//! The few packets whose loss costs most, sent more than once.
//!
//! - **DTLS handshake records** (content types 20–22), three copies. A lost
//!   handshake datagram is retried by OpenSSL's timer, 1 s for the first
//!   retry and doubling after, and GStreamer 1.22's dtls elements offer no
//!   way to shorten it: at 5 % loss each way about a third of the calls lost
//!   one of the ~6–8 datagrams and connected after ≥ 1 s. With three copies
//!   a datagram is lost only if all three are (5 % loss: 1 in 8,000).
//!   Duplicates are harmless to DTLS: a record whose sequence number was
//!   seen is dropped by the record layer's replay check.
//! - **Retransmissions (RTX) and RTCP**, two copies. A packet lost on a
//!   lossy link is recovered only if the NACK (RTCP) and the retransmission
//!   both arrive, within the jitterbuffer's short window: at 10 % loss
//!   each way one recovery in five failed, and the frame with it until the
//!   next key frame. Sent twice, each is lost only if both copies are. Both
//!   are a small share of the traffic (RTX ≈ the loss rate of the video).
//!   The receiver's SRTP replay check drops the second copy of a packet
//!   that arrived.
//! - **Media (RTP)**, two copies while the bitrate controller says so
//!   (`crate::congestion`: a few percent of random loss and more, with no
//!   sign of a queue). A repetition code: a packet is then lost only if
//!   both copies are (10 % loss: 1 %), and NACK/RTX recovers most of the
//!   rest, without waiting a round trip. It doubles the media's rate, so
//!   it is only on under loss and off at the first sign of congestion.
//!
//! Done on the transport's sink (`nicesink`), after DTLS and SRTP: the
//! copies are of the very datagram (SRTP refuses to protect one packet
//! index twice, so copying before it would not work). RTP and SRTCP
//! headers are in the clear, so the kind of each packet can be told.

use gstreamer as gst;
use gstreamer::prelude::*;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// What a datagram on the transport is, as far as sending it again goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A DTLS handshake, ChangeCipherSpec or alert record.
    DtlsHandshake,
    /// (S)RTCP: receiver/sender reports, NACKs, PLIs.
    Rtcp,
    /// An RTP retransmission (its payload type is an RTX one).
    Rtx,
    /// Any other RTP packet: audio and video.
    Media,
    /// DTLS application data, STUN, anything else: sent once.
    Other,
}

impl Kind {
    /// How many times a datagram of this kind goes out (`media`: media is
    /// sent twice for now).
    pub(crate) fn copies(self, media: bool) -> usize {
        match self {
            Kind::DtlsHandshake => 3,
            Kind::Rtcp | Kind::Rtx => 2,
            Kind::Media if media => 2,
            Kind::Media | Kind::Other => 1,
        }
    }
}

/// What the probe of one call goes by: the RTX payload types, and whether
/// media goes twice now.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) rtx: RtxTypes,
    media: AtomicBool,
}

impl State {
    /// Media sent twice from now on, or not; true when that changed.
    pub(crate) fn set_media(&self, twice: bool) -> bool {
        self.media.swap(twice, Ordering::Relaxed) != twice
    }

    fn media(&self) -> bool {
        self.media.load(Ordering::Relaxed)
    }
}

/// The RTX payload types in use (a bit per payload type 0–127), learnt
/// from webrtcbin's `rtprtxsend` elements.
#[derive(Debug, Default)]
pub(crate) struct RtxTypes([AtomicU64; 2]);

impl RtxTypes {
    pub(crate) fn insert(&self, pt: u8) {
        if pt < 128 {
            self.0[usize::from(pt / 64)].fetch_or(1 << (pt % 64), Ordering::Relaxed);
        }
    }

    pub(crate) fn contains(&self, pt: u8) -> bool {
        pt < 128 && self.0[usize::from(pt / 64)].load(Ordering::Relaxed) & (1 << (pt % 64)) != 0
    }
}

/// Tells a datagram's kind from its first bytes (RFC 7983's
/// demultiplexing: DTLS 20–63, RTP/RTCP 128–191; RFC 5761: RTCP packet
/// types 192–223 in the second byte).
pub(crate) fn classify(data: &[u8], rtx: &RtxTypes) -> Kind {
    match data {
        [20..=22, ..] => Kind::DtlsHandshake,
        [128..=191, second, ..] if (192..=223).contains(second) => Kind::Rtcp,
        [128..=191, second, ..] if data.len() >= 12 && rtx.contains(second & 0x7f) => Kind::Rtx,
        [128..=191, ..] if data.len() >= 12 => Kind::Media,
        _ => Kind::Other,
    }
}

thread_local! {
    /// Set while a copy is being pushed, so the probe lets it through.
    static COPYING: Cell<bool> = const { Cell::new(false) };
}

/// Sends the datagrams `classify` picks more than once through `sink`
/// (the transport's sink element): a probe on its sink pad chains the
/// copies before the original.
pub(crate) fn install(sink: &gst::Element, state: Arc<State>) {
    let Some(pad) = sink.static_pad("sink") else {
        return;
    };
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        if COPYING.with(Cell::get) {
            return gst::PadProbeReturn::Ok;
        }
        let Some(buffer) = info.buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let copies = match buffer.map_readable() {
            Ok(map) => classify(map.as_slice(), &state.rtx).copies(state.media()),
            Err(_) => 1,
        };
        if copies > 1 {
            let buffer = buffer.clone();
            COPYING.with(|c| c.set(true));
            for _ in 1..copies {
                if pad.chain(buffer.clone()).is_err() {
                    break;
                }
            }
            COPYING.with(|c| c.set(false));
        }
        gst::PadProbeReturn::Ok
    });
}

/// Learns the RTX payload types of an `rtprtxsend` (its
/// `payload-type-map`: media type → RTX type), now and when it changes.
pub(crate) fn watch_rtx_sender(rtxsend: &gst::Element, state: Arc<State>) {
    if rtxsend.find_property("payload-type-map").is_none() {
        return;
    }
    let learn = move |e: &gst::Element| {
        let map = e.property::<Option<gst::Structure>>("payload-type-map");
        for (_, value) in map.iter().flat_map(|s| s.iter()) {
            if let Ok(pt) = value.get::<u32>() {
                state.rtx.insert(pt.min(255) as u8);
            }
        }
    };
    learn(rtxsend);
    rtxsend.connect_notify(Some("payload-type-map"), move |e, _| learn(e));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use gstreamer_app as gst_app;

    fn rtx_97() -> RtxTypes {
        let t = RtxTypes::default();
        t.insert(97);
        t
    }

    #[test]
    fn kinds_come_from_the_first_bytes() {
        let rtx = rtx_97();
        // DTLS 1.2 handshake / ChangeCipherSpec / alert records; application data.
        assert_eq!(classify(&[22, 254, 253, 0], &rtx), Kind::DtlsHandshake);
        assert_eq!(classify(&[20, 254, 253], &rtx), Kind::DtlsHandshake);
        assert_eq!(classify(&[21, 254, 253], &rtx), Kind::DtlsHandshake);
        assert_eq!(classify(&[23, 254, 253], &rtx), Kind::Other);
        // RTCP receiver report (201), RTPFB (205); RTP with the marker bit.
        assert_eq!(classify(&[0x81, 201, 0, 7], &rtx), Kind::Rtcp);
        assert_eq!(classify(&[0x81, 205, 0, 3], &rtx), Kind::Rtcp);
        let mut rtp = [0u8; 12];
        rtp[0] = 0x80;
        rtp[1] = 0x80 | 97;
        assert_eq!(classify(&rtp, &rtx), Kind::Rtx);
        rtp[1] = 96;
        assert_eq!(classify(&rtp, &rtx), Kind::Media);
        // STUN, too short, empty.
        assert_eq!(classify(&[0, 1, 0, 0], &rtx), Kind::Other);
        assert_eq!(classify(&[0x80, 97], &rtx), Kind::Other);
        assert_eq!(classify(&[], &rtx), Kind::Other);
        assert!(!rtx.contains(200) && !rtx.contains(96));
    }

    /// Real buffers through a real pipeline: appsrc → appsink with the
    /// probe on the sink's pad; what arrives is counted per kind, with
    /// media sent once, then twice.
    #[test]
    fn the_probe_sends_handshakes_thrice_rtcp_and_rtx_twice_media_as_told() {
        gst::init().unwrap();
        let pipeline = gst::Pipeline::new();
        let src = gst_app::AppSrc::builder().format(gst::Format::Time).build();
        let sink = gst_app::AppSink::builder().sync(false).build();
        pipeline
            .add_many([src.upcast_ref::<gst::Element>(), sink.upcast_ref()])
            .unwrap();
        src.link(&sink).unwrap();
        let state = Arc::new(State::default());
        state.rtx.insert(97);
        install(sink.upcast_ref(), state.clone());
        pipeline.set_state(gst::State::Playing).unwrap();
        let mut rtp_rtx = vec![0x80u8, 97];
        rtp_rtx.resize(40, 1);
        let mut media = vec![0x80u8, 96];
        media.resize(1200, 2);
        let mut media2 = media.clone();
        media2[2] = 1;
        let sent: [Vec<u8>; 5] = [
            vec![22, 254, 253, 0, 0],
            vec![0x81, 201, 0, 1],
            rtp_rtx,
            media,
            media2.clone(),
        ];
        let pull = |n: usize| -> Vec<Vec<u8>> {
            (0..n)
                .map_while(|_| sink.pull_sample().ok())
                .map(|s| s.buffer().unwrap().map_readable().unwrap().to_vec())
                .collect()
        };
        for data in &sent[..4] {
            src.push_buffer(gst::Buffer::from_slice(data.clone()))
                .unwrap();
        }
        let mut got = pull(7);
        assert!(state.set_media(true));
        assert!(!state.set_media(true));
        src.push_buffer(gst::Buffer::from_slice(media2)).unwrap();
        src.end_of_stream().unwrap();
        got.extend(pull(usize::MAX));
        pipeline.set_state(gst::State::Null).unwrap();
        let count = |d: &Vec<u8>| got.iter().filter(|g| *g == d).count();
        let counts: Vec<usize> = sent.iter().map(count).collect();
        assert_eq!(counts, [3, 2, 2, 1, 2]);
        assert_eq!(got.len(), 10);
    }
}
