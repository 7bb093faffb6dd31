//! Binding the media's DTLS certificate to the signalled SDP fingerprint.
//!
//! webrtcbin 1.22 does not compare the certificate the peer shows in the
//! DTLS handshake with the `a=fingerprint` of its SDP: with every
//! fingerprint altered, two sessions still connect. Since the SDP travels
//! over the authenticated signalling, this check is what ties the media to
//! the authenticated peer; without it a man in the middle on the LAN could
//! terminate DTLS towards both sides.
//!
//! - A remote SDP with an audio/video m-line that has no usable fingerprint
//!   (media-level, else session-level; sha-1/256/384/512) is refused at
//!   `set_remote_description` ([`expected`]).
//! - Every buffer crossing webrtcbin's pads, both ways, is dropped ([`gate`])
//!   until every DTLS transport is connected and its remote certificate's
//!   hash equals a fingerprint of its m-line ([`verify`]): nothing decoded
//!   reaches a sink, and nothing we capture is sent, before the check passes.
//! - A mismatch is [`MediaError::Untrusted`]; the gate then stays shut.

use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_sdp as gst_sdp;
use gstreamer_webrtc as gst_webrtc;
use sha2::Digest;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// Hash functions of `a=fingerprint` we can check (RFC 8122).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn parse(name: &str) -> Option<HashAlg> {
        match name.to_ascii_lowercase().as_str() {
            "sha-1" => Some(HashAlg::Sha1),
            "sha-256" => Some(HashAlg::Sha256),
            "sha-384" => Some(HashAlg::Sha384),
            "sha-512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    pub(crate) fn digest(self, der: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha1 => sha1::Sha1::digest(der).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(der).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(der).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(der).to_vec(),
        }
    }
}

/// A digest as `a=fingerprint` writes it: `AB:CD:…`.
pub(crate) fn colon_hex(digest: &[u8]) -> String {
    let bytes: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    bytes.join(":")
}

/// One `a=fingerprint:<alg> <hex:hex:…>` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub alg: HashAlg,
    pub digest: Vec<u8>,
}

/// Parses a fingerprint value; `None` for an unknown hash or bad hex.
pub(crate) fn parse_fingerprint(value: &str) -> Option<Fingerprint> {
    let (alg, hex) = value.trim().split_once(' ')?;
    let alg = HashAlg::parse(alg.trim())?;
    let digest = hex
        .trim()
        .split(':')
        .map(|b| {
            (b.len() == 2)
                .then(|| u8::from_str_radix(b, 16).ok())
                .flatten()
        })
        .collect::<Option<Vec<u8>>>()?;
    (digest.len() == alg.digest(&[]).len()).then_some(Fingerprint { alg, digest })
}

/// The fingerprints each m-line of a remote description accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Expected {
    per_mline: Vec<Vec<Fingerprint>>,
}

fn fingerprints<'a>(values: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Fingerprint> {
    values
        .filter(|(k, _)| *k == "fingerprint")
        .filter_map(|(_, v)| parse_fingerprint(v))
        .collect()
}

/// What a remote SDP says the peer's DTLS certificate is; refuses an
/// audio/video m-line without a fingerprint we can check.
pub(crate) fn expected(msg: &gst_sdp::SDPMessageRef) -> Result<Expected, MediaError> {
    let session = fingerprints(msg.attributes().map(|a| (a.key(), a.value().unwrap_or(""))));
    let mut per_mline = Vec::new();
    for (i, m) in msg.medias().enumerate() {
        let own = fingerprints(m.attributes().map(|a| (a.key(), a.value().unwrap_or(""))));
        let fps = if own.is_empty() { session.clone() } else { own };
        if fps.is_empty() && matches!(m.media(), Some("audio" | "video")) {
            return Err(MediaError::Untrusted(format!(
                "the remote SDP's m-line {i} has no a=fingerprint \
                 (sha-1, sha-256, sha-384 or sha-512): its media could not be authenticated"
            )));
        }
        per_mline.push(fps);
    }
    Ok(Expected { per_mline })
}

/// Does the PEM certificate hash to one of `fps`?
pub(crate) fn matches(pem_text: &str, fps: &[Fingerprint]) -> Result<bool, String> {
    let cert = pem::parse(pem_text).map_err(|e| format!("remote certificate: {e}"))?;
    Ok(fps
        .iter()
        .any(|fp| fp.alg.digest(cert.contents()) == fp.digest))
}

/// The session's trust state, shared with the pad probes.
#[derive(Debug, Default)]
pub(crate) struct Trust {
    /// 0: undecided, 1: trusted, 2: untrusted.
    verdict: AtomicU8,
    expected: Mutex<Option<Expected>>,
    /// `ConnectionState::Connected` was told to the owner.
    announced: AtomicBool,
    /// DTLS transports whose state changes wake the check.
    watched: Mutex<Vec<gst_webrtc::WebRTCDTLSTransport>>,
}

const UNDECIDED: u8 = 0;
const TRUSTED: u8 = 1;
const UNTRUSTED: u8 = 2;

/// What the service thread does after [`Trust::step`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Not decided yet (or nothing new): `wake` will be called on changes.
    Wait,
    /// Fatal: the media is not the signalled peer's.
    Untrusted(String),
    /// Trusted and connected: tell the owner Connected, ask for key frames
    /// (those sent before were dropped). Returned once.
    Announce,
}

/// The outcome of one look at the transports.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pending,
    Trusted,
    Untrusted(String),
}

impl Trust {
    pub(crate) fn is_trusted(&self) -> bool {
        self.verdict.load(Ordering::Acquire) == TRUSTED
    }

    pub(crate) fn is_undecided(&self) -> bool {
        self.verdict.load(Ordering::Acquire) == UNDECIDED
    }

    /// Remembers what the remote description expects (refusing as [`expected`]).
    pub(crate) fn expect(&self, msg: &gst_sdp::SDPMessageRef) -> Result<(), MediaError> {
        let e = expected(msg)?;
        if let Ok(mut g) = self.expected.lock() {
            *g = Some(e);
        }
        Ok(())
    }

    /// Looks at webrtcbin's DTLS transports; records a final verdict.
    fn check(&self, webrtc: &gst::Element) -> Verdict {
        let Some(expected) = self.expected.lock().ok().and_then(|g| g.clone()) else {
            return Verdict::Pending;
        };
        let v = verify(webrtc, &expected);
        match &v {
            Verdict::Trusted => self.verdict.store(TRUSTED, Ordering::Release),
            Verdict::Untrusted(_) => self.verdict.store(UNTRUSTED, Ordering::Release),
            Verdict::Pending => {}
        }
        v
    }

    /// Checks the transports until decided (watching their state so that a
    /// change calls `wake`); `connected`: webrtcbin's connection state is.
    pub(crate) fn step(
        &self,
        webrtc: &gst::Element,
        connected: bool,
        wake: impl Fn() + Clone + Send + Sync + 'static,
    ) -> Step {
        if self.is_undecided() {
            match self.check(webrtc) {
                Verdict::Trusted => tracing::debug!("peer's DTLS certificate matches its SDP"),
                Verdict::Untrusted(why) => return Step::Untrusted(why),
                Verdict::Pending => {
                    if let Ok(mut watched) = self.watched.lock() {
                        watch_transports(webrtc, &mut watched, wake);
                    }
                    return Step::Wait;
                }
            }
        }
        if connected && self.is_trusted() && !self.announced.swap(true, Ordering::AcqRel) {
            Step::Announce
        } else {
            Step::Wait
        }
    }
}

type Transceiver = (
    gst_webrtc::WebRTCRTPTransceiver,
    Option<gst_webrtc::WebRTCDTLSTransport>,
);

/// webrtcbin's transceivers, each with its DTLS transport once it has one.
fn transceivers(webrtc: &gst::Element) -> Vec<Transceiver> {
    let mut all = Vec::new();
    for i in 0..64i32 {
        let Some(t) = webrtc
            .emit_by_name::<Option<gst_webrtc::WebRTCRTPTransceiver>>("get-transceiver", &[&i])
        else {
            break;
        };
        let transport = t
            .receiver()
            .and_then(|r| r.transport())
            .or_else(|| t.sender().and_then(|s| s.transport()));
        all.push((t, transport));
    }
    all
}

/// Calls `wake` whenever the state of a DTLS transport not yet in
/// `watched` changes (so the check runs the moment DTLS is up).
fn watch_transports(
    webrtc: &gst::Element,
    watched: &mut Vec<gst_webrtc::WebRTCDTLSTransport>,
    wake: impl Fn() + Clone + Send + Sync + 'static,
) {
    for (_, transport) in transceivers(webrtc) {
        let Some(transport) = transport else { continue };
        if !watched.contains(&transport) {
            let wake = wake.clone();
            transport.connect_state_notify(move |_| wake());
            watched.push(transport);
        }
    }
}

/// Every transceiver's DTLS transport must be connected with a certificate
/// matching its m-line's fingerprints.
pub(crate) fn verify(webrtc: &gst::Element, expected: &Expected) -> Verdict {
    let mut checked = 0;
    for (t, transport) in transceivers(webrtc) {
        let Some(transport) = transport else {
            return Verdict::Pending;
        };
        match transport.state() {
            gst_webrtc::WebRTCDTLSTransportState::Connected => {}
            gst_webrtc::WebRTCDTLSTransportState::New
            | gst_webrtc::WebRTCDTLSTransportState::Connecting => return Verdict::Pending,
            // Closed/failed: the connection state ends the call.
            _ => return Verdict::Pending,
        }
        let mline = t.mlineindex() as usize;
        let Some(fps) = expected.per_mline.get(mline) else {
            return Verdict::Untrusted(format!("no fingerprint for m-line {mline}"));
        };
        let Some(pem) = transport.remote_certificate() else {
            return Verdict::Untrusted("the peer's DTLS certificate is not known".into());
        };
        match matches(&pem, fps) {
            Ok(true) => checked += 1,
            Ok(false) => {
                return Verdict::Untrusted(format!(
                    "the peer's DTLS certificate (m-line {mline}) does not match \
                     the fingerprint of its SDP"
                ))
            }
            Err(e) => return Verdict::Untrusted(e),
        }
    }
    if checked == 0 {
        Verdict::Pending
    } else {
        Verdict::Trusted
    }
}

/// Drops every buffer crossing `pad` until the session is trusted.
///
/// `Handled` (the probe consumed the buffer, the binding frees it) rather
/// than `Drop`: on webrtcbin's sink pads `Drop` makes GStreamer 1.22 unref
/// the buffer a second time (a CRITICAL per buffer).
pub(crate) fn gate(pad: &gst::Pad, trust: &Arc<Trust>) {
    let trust = Arc::downgrade(trust);
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, _| match trust.upgrade() {
            Some(t) if t.is_trusted() => gst::PadProbeReturn::Ok,
            _ => gst::PadProbeReturn::Handled,
        },
    );
}

/// Gates webrtcbin's existing pads and every pad it gets later.
pub(crate) fn install(webrtc: &gst::Element, trust: &Arc<Trust>) {
    for pad in webrtc.pads() {
        gate(&pad, trust);
    }
    let t = trust.clone();
    webrtc.connect_pad_added(move |_, pad| gate(pad, &t));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // A tiny stand-in for a DER certificate: the check hashes bytes.
    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgc=\n-----END CERTIFICATE-----\n";

    #[test]
    fn fingerprints_parse_and_match_each_hash() {
        let der = [0u8, 1, 2, 3, 4, 5, 6, 7];
        for (name, alg) in [
            ("sha-1", HashAlg::Sha1),
            ("sha-256", HashAlg::Sha256),
            ("SHA-384", HashAlg::Sha384),
            ("sha-512", HashAlg::Sha512),
        ] {
            let fp =
                parse_fingerprint(&format!("{name} {}", colon_hex(&alg.digest(&der)))).unwrap();
            assert_eq!(fp.alg, alg);
            assert!(matches(PEM, std::slice::from_ref(&fp)).unwrap());
            let mut bad = fp;
            bad.digest[0] ^= 1;
            assert!(!matches(PEM, &[bad]).unwrap());
        }
        assert!(parse_fingerprint("md5 00:11").is_none());
        assert!(parse_fingerprint("sha-256 00:11").is_none());
        assert!(parse_fingerprint("sha-256 zz").is_none());
        assert!(matches("not pem", &[]).is_err());
    }

    #[test]
    fn media_or_session_level_fingerprints_are_required() {
        gst::init().unwrap();
        let fp = format!("sha-256 {}", colon_hex(&[7u8; 32]));
        let head = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
        let m = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n";
        let parse = |t: &str| gst_sdp::SDPMessage::parse_buffer(t.as_bytes()).unwrap();
        let none = parse(&format!("{head}{m}"));
        assert!(matches!(expected(&none), Err(MediaError::Untrusted(_))));
        let session = parse(&format!("{head}a=fingerprint:{fp}\r\n{m}"));
        assert_eq!(expected(&session).unwrap().per_mline[0].len(), 1);
        let media = parse(&format!("{head}{m}a=fingerprint:{fp}\r\n"));
        assert_eq!(
            expected(&media).unwrap().per_mline[0][0].digest,
            vec![7u8; 32]
        );
        let unknown = parse(&format!("{head}{m}a=fingerprint:md5 00:11\r\n"));
        assert!(expected(&unknown).is_err());
    }
}
