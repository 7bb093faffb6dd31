//! The DTLS certificate of this process's calls: ECDSA P-256, self-signed,
//! made once (at [`crate::warm_up`], else by the first call) and kept in
//! memory only — never written to disk; a restarted node has a new one.
//!
//! Why not webrtcbin's own: GStreamer 1.22's `dtlsdec` generates an RSA
//! 2048 key, whose signature in the handshake (ServerKeyExchange, the
//! client's CertificateVerify) costs 1–3 ms per side on a busy machine and
//! whose certificate and signatures fill ~3 more 256-byte DTLS fragments
//! each way. An ECDSA P-256 signature is a few tens of µs. (GStreamer 1.28
//! made ECDSA P-256 its default.)
//!
//! How it is used: each DTLS transport's `dtlssrtpdec` gets the PEM
//! (certificate and PKCS#8 key) in its `pem` property as webrtcbin adds it
//! ([`install`], from `deep-element-added`), before webrtcbin writes the
//! SDP: the transport's `certificate` property reads that same element, so
//! the `a=fingerprint` of our SDP is this certificate's — what the peer's
//! [`crate::dtls_trust`] compares. Should making it fail, webrtcbin's RSA
//! certificate is used as before (its fingerprint is then that one's).
//!
//! One catch, fixed in [`true_fingerprint`]: webrtcbin 1.22 computes the
//! `a=fingerprint` over every base64 line of that PEM — the key's too — so
//! for a PEM that carries its key it writes sha-256(certificate ‖ key), which
//! no peer can match (the peer's check refuses it, as it must). Our local
//! description gets the certificate's own sha-256 in its place before it is
//! set and sent.

use crate::dtls_trust::{colon_hex, parse_fingerprint, HashAlg};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_sdp as gst_sdp;
use gstreamer_webrtc as gst_webrtc;
use std::sync::OnceLock;

/// A certificate and its key, as `dtlsdec` reads them.
#[derive(Debug)]
pub(crate) struct DtlsCert {
    /// The certificate (PEM) followed by its PKCS#8 private key (PEM).
    pub pem: String,
    /// The certificate's DER bytes (what an `a=fingerprint` hashes).
    pub der: Vec<u8>,
    /// sha-256 of every PEM block's bytes, certificate then key: what
    /// webrtcbin 1.22 writes as our fingerprint.
    webrtcbin_digest: Vec<u8>,
}

impl DtlsCert {
    /// Our `a=fingerprint` value: `sha-256 AB:CD:…` of the certificate.
    pub(crate) fn fingerprint(&self) -> String {
        format!("sha-256 {}", colon_hex(&HashAlg::Sha256.digest(&self.der)))
    }
}

static CERT: OnceLock<Option<DtlsCert>> = OnceLock::new();

/// The process's certificate, made on first use (`None` if that failed).
pub(crate) fn get() -> Option<&'static DtlsCert> {
    CERT.get_or_init(|| match generate() {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("no ECDSA DTLS certificate ({e}): webrtcbin's RSA one is used");
            None
        }
    })
    .as_ref()
}

/// The `a=fingerprint` value (`sha-256 AB:CD:…`) of the ECDSA certificate
/// this process's calls present in DTLS; `None` if it could not be made
/// (calls then use webrtcbin's own).
pub fn dtls_fingerprint() -> Option<String> {
    get().map(DtlsCert::fingerprint)
}

fn generate() -> Result<DtlsCert, rcgen::Error> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "duet");
    params.distinguished_name = dn;
    let cert = params.self_signed(&key)?;
    let der = cert.der().to_vec();
    let webrtcbin_digest = HashAlg::Sha256.digest(&[der.as_slice(), key.serialized_der()].concat());
    Ok(DtlsCert {
        pem: format!("{}{}", cert.pem(), key.serialize_pem()),
        der,
        webrtcbin_digest,
    })
}

/// `sdp` with each `a=fingerprint` webrtcbin computed over our PEM
/// (certificate and key) replaced by the certificate's own; any other
/// line, and any other fingerprint, unchanged. `None`: nothing to replace.
fn replace_fingerprints(sdp: &str, cert: &DtlsCert) -> Option<String> {
    let ours = format!("a=fingerprint:{}", cert.fingerprint());
    let mut changed = false;
    let lines: Vec<&str> = sdp
        .split("\r\n")
        .map(|line| {
            let wrong = line
                .strip_prefix("a=fingerprint:")
                .and_then(parse_fingerprint)
                .is_some_and(|fp| fp.alg == HashAlg::Sha256 && fp.digest == cert.webrtcbin_digest);
            changed |= wrong;
            if wrong {
                ours.as_str()
            } else {
                line
            }
        })
        .collect();
    changed.then(|| lines.join("\r\n"))
}

/// Our local description with the certificate's true fingerprint (see the
/// module doc); unchanged when webrtcbin wrote another certificate's.
pub(crate) fn true_fingerprint(
    desc: gst_webrtc::WebRTCSessionDescription,
) -> gst_webrtc::WebRTCSessionDescription {
    let Some(cert) = get() else { return desc };
    let Some(fixed) = desc
        .sdp()
        .as_text()
        .ok()
        .and_then(|text| replace_fingerprints(&text, cert))
    else {
        return desc;
    };
    match gst_sdp::SDPMessage::parse_buffer(fixed.as_bytes()) {
        Ok(msg) => gst_webrtc::WebRTCSessionDescription::new(desc.type_(), msg),
        Err(e) => {
            tracing::warn!("local SDP with our fingerprint does not parse: {e}");
            desc
        }
    }
}

/// Gives a `dtlssrtpdec` (one per DTLS transport) our certificate.
pub(crate) fn install(dtlssrtpdec: &gst::Element) {
    if let Some(c) = get() {
        if dtlssrtpdec.find_property("pem").is_some() {
            dtlssrtpdec.set_property("pem", c.pem.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_ecdsa_p256_certificate_per_process() {
        let c = get().unwrap();
        assert!(std::ptr::eq(c, get().unwrap()), "made once");
        let parsed = pem::parse_many(&c.pem).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].tag(), "CERTIFICATE");
        assert_eq!(parsed[0].contents(), c.der.as_slice());
        assert_eq!(parsed[1].tag(), "PRIVATE KEY");
        // id-ecPublicKey (1.2.840.10045.2.1) with prime256v1 (1.2.840.10045.3.1.7).
        let ec_public_key = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        let p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(has(&c.der, &ec_public_key) && has(&c.der, &p256));
        assert!(c.der.len() < 600, "{} bytes", c.der.len());
    }

    #[test]
    fn webrtcbins_fingerprint_of_our_pem_is_replaced_and_no_other() {
        let c = get().unwrap();
        // What webrtcbin 1.22 computes: every base64 line of the PEM, decoded.
        let all: Vec<u8> = pem::parse_many(&c.pem)
            .unwrap()
            .iter()
            .flat_map(|p| p.contents().to_vec())
            .collect();
        let wrong = format!("sha-256 {}", colon_hex(&HashAlg::Sha256.digest(&all)));
        let other = format!("sha-256 {}", colon_hex(&[7u8; 32]));
        let sdp = |fp: &str| {
            format!(
                "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
                 m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:{fp}\r\na=setup:actpass\r\n\
                 m=audio 9 UDP/TLS/RTP/SAVPF 97\r\na=fingerprint:{fp}\r\n"
            )
        };
        let fixed = replace_fingerprints(&sdp(&wrong), c).unwrap();
        assert_eq!(fixed, sdp(&c.fingerprint()));
        assert!(replace_fingerprints(&sdp(&other), c).is_none());
        let fp = parse_fingerprint(&c.fingerprint()).unwrap();
        assert_eq!(fp.digest, HashAlg::Sha256.digest(&c.der));
    }

    /// A real webrtcbin, hooked as the session hooks it: its DTLS transport
    /// holds our certificate and the offer (as sent) names its fingerprint.
    #[test]
    fn webrtcbin_offers_our_certificate() {
        gst::init().unwrap();
        let pipeline = gst::Pipeline::new();
        let webrtc = gst::ElementFactory::make("webrtcbin").build().unwrap();
        webrtc.set_property_from_str("bundle-policy", "max-bundle");
        webrtc.connect("deep-element-added", false, |v| {
            let e = v[2].get::<gst::Element>().unwrap();
            if e.factory().is_some_and(|f| f.name() == "dtlssrtpdec") {
                install(&e);
            }
            None
        });
        pipeline.add(&webrtc).unwrap();
        let caps = gst::Caps::builder("application/x-rtp")
            .field("media", "video")
            .field("encoding-name", "VP8")
            .field("payload", 96i32)
            .field("clock-rate", 90000i32)
            .build();
        let t = webrtc.emit_by_name::<gst_webrtc::WebRTCRTPTransceiver>(
            "add-transceiver",
            &[&gst_webrtc::WebRTCRTPTransceiverDirection::Sendrecv, &caps],
        );
        pipeline.set_state(gst::State::Ready).unwrap();
        let promise = gst::Promise::new();
        webrtc.emit_by_name::<()>("create-offer", &[&None::<gst::Structure>, &promise]);
        promise.wait();
        let offer = promise
            .get_reply()
            .unwrap()
            .get::<gst_webrtc::WebRTCSessionDescription>("offer")
            .unwrap();
        let sent = true_fingerprint(offer).sdp().as_text().unwrap();
        let c = get().unwrap();
        let fps: Vec<&str> = sent
            .lines()
            .filter_map(|l| l.strip_prefix("a=fingerprint:"))
            .collect();
        assert_eq!(fps, vec![c.fingerprint().as_str()], "{sent}");
        let transport = t.sender().and_then(|s| s.transport()).unwrap();
        let pem = transport.certificate().unwrap();
        assert_eq!(
            pem::parse_many(pem.as_str()).unwrap()[0].contents(),
            c.der.as_slice()
        );
        pipeline.set_state(gst::State::Null).unwrap();
    }
}
