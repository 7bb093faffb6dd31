//! The network key: a shared secret that admits nodes to a broker
//! (`duet network-key new FILE`, then `--network-key FILE` on the broker and
//! on every node of the network).
//!
//! libp2p's pnet would be the obvious tool but does not work with QUIC, so
//! admission is a small proof instead: an HMAC-SHA256 of the key over a role
//! label and both PeerIds. Noise already authenticates both PeerIds on the
//! connection, so a proof bound to (broker, node) is useless to anyone else
//! and needs no challenge round-trip; the broker answers with the mirror
//! proof, so a node also knows the broker holds the key. The namespace a
//! network registers in is derived from the key too, so two networks never
//! see each other even on one open broker.

use hmac::{Hmac, KeyInit, Mac};
use libp2p::PeerId;
use sha2::Sha256;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const KEY_BYTES: usize = 32;
/// The namespace of nodes without a network key.
pub const OPEN_NAMESPACE: &str = "duet/open";

#[derive(Debug, thiserror::Error)]
pub enum NetworkKeyError {
    #[error("cannot read network key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write network key {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("network key {0} is not 64 hex digits (make one with `duet network-key new FILE`)")]
    Format(PathBuf),
}

/// Whose proof: the roles are labelled so a node's proof is never a valid
/// broker proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Node,
    Broker,
}

#[derive(Clone, PartialEq, Eq)]
pub struct NetworkKey([u8; KEY_BYTES]);

impl std::fmt::Debug for NetworkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkKey(..)")
    }
}

impl NetworkKey {
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// Parses the file format: 64 hex digits, surrounding whitespace ignored.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != KEY_BYTES * 2 || !text.is_ascii() {
            return None;
        }
        let mut key = [0u8; KEY_BYTES];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(key))
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn load(path: &Path) -> Result<Self, NetworkKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| NetworkKeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    "network key {} is readable by others; chmod 600 it",
                    path.display()
                );
            }
        }
        Self::parse(&text).ok_or_else(|| NetworkKeyError::Format(path.to_path_buf()))
    }

    /// Writes a new random key to `path` (0600); refuses to overwrite.
    pub fn create(path: &Path) -> Result<Self, NetworkKeyError> {
        let key = Self::random();
        let write = |source| NetworkKeyError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(write)?;
        writeln!(f, "{}", key.to_hex()).map_err(write)?;
        Ok(key)
    }

    fn mac(&self, label: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail for 32 bytes.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(label);
        mac
    }

    fn proof_mac(&self, role: Role, broker: &PeerId, node: &PeerId) -> Hmac<Sha256> {
        let label: &[u8] = match role {
            Role::Node => b"duet-admission/1 node",
            Role::Broker => b"duet-admission/1 broker",
        };
        let mut mac = self.mac(label);
        for id in [broker, node] {
            let bytes = id.to_bytes();
            mac.update(&(bytes.len() as u32).to_be_bytes());
            mac.update(&bytes);
        }
        mac
    }

    /// The proof that `role` holds the key, on the connection between
    /// `broker` and `node`.
    pub fn proof(&self, role: Role, broker: &PeerId, node: &PeerId) -> Vec<u8> {
        self.proof_mac(role, broker, node)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Checks a proof in constant time.
    pub fn verify(&self, role: Role, broker: &PeerId, node: &PeerId, proof: &[u8]) -> bool {
        self.proof_mac(role, broker, node)
            .verify_slice(proof)
            .is_ok()
    }

    /// An HMAC-SHA256 tag under the key of `label` then `message`, for
    /// other stateless tokens (the broker's web invites); labels keep the
    /// uses apart.
    pub fn tag(&self, label: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = self.mac(label);
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    /// The namespace this network registers in at a broker.
    pub fn namespace(&self) -> String {
        let tag = self.mac(b"duet-namespace/1").finalize().into_bytes();
        let hex: String = tag.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("duet/{hex}")
    }
}

/// The namespace for an optional key.
pub fn namespace(key: Option<&NetworkKey>) -> String {
    key.map_or_else(|| OPEN_NAMESPACE.to_string(), NetworkKey::namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers() -> (PeerId, PeerId) {
        (PeerId::random(), PeerId::random())
    }

    #[test]
    fn proof_verifies_only_for_its_key_role_and_peers() {
        let (b, n) = peers();
        let key = NetworkKey::random();
        let proof = key.proof(Role::Node, &b, &n);
        assert!(key.verify(Role::Node, &b, &n, &proof));
        assert!(!key.verify(Role::Broker, &b, &n, &proof));
        assert!(!key.verify(Role::Node, &n, &b, &proof));
        assert!(!key.verify(Role::Node, &b, &PeerId::random(), &proof));
        assert!(!NetworkKey::random().verify(Role::Node, &b, &n, &proof));
        assert!(!key.verify(Role::Node, &b, &n, &proof[..31]));
        assert!(!key.verify(Role::Node, &b, &n, b""));
    }

    #[test]
    fn parse_round_trips_and_rejects_garbage() {
        let key = NetworkKey::random();
        assert_eq!(
            NetworkKey::parse(&format!(" {}\n", key.to_hex())),
            Some(key)
        );
        assert_eq!(NetworkKey::parse("abc"), None);
        assert_eq!(NetworkKey::parse(&"zz".repeat(32)), None);
        assert_eq!(NetworkKey::parse(&"é".repeat(32)), None);
    }

    #[test]
    fn namespaces_differ_per_key_and_from_open() {
        let (a, b) = (NetworkKey::random(), NetworkKey::random());
        assert_ne!(a.namespace(), b.namespace());
        assert_eq!(a.namespace(), a.clone().namespace());
        assert_eq!(namespace(None), OPEN_NAMESPACE);
        assert!(a.namespace().len() <= crate::proto::broker::MAX_NAMESPACE);
    }

    #[test]
    fn create_refuses_to_overwrite_and_load_reads_it_back() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let path = dir.path().join("net.key");
        let key = NetworkKey::create(&path).ok();
        assert!(key.is_some());
        assert!(NetworkKey::create(&path).is_err());
        assert_eq!(NetworkKey::load(&path).ok(), key);
    }
}
