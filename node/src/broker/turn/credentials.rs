//! TURN credentials the broker issues to admitted nodes, in the TURN REST
//! style: the username says until when and for whom, the password is an
//! HMAC of the username under a secret drawn at random when the broker
//! starts and kept only in its memory. The TURN server checks a username
//! by recomputing its password: no credential is stored anywhere, and a
//! restart revokes every one.
//!
//! Username `<expiry>-<PeerId>` (Unix seconds), password the hex of
//! HMAC-SHA256(secret, username): only URL-safe characters, so the
//! `turn://user:pass@host:port` URI webrtcbin parses needs no escaping
//! (libnice splits user and password at the first `:`).
//!
//! A credential is good until its expiry, or for as long as the node it was
//! issued to stays admitted and connected to the broker: a relayed call
//! keeps refreshing its allocation with the credentials it started with,
//! and must not be cut when they age.

use hmac::{Hmac, KeyInit, Mac};
use libp2p::PeerId;
use sha2::Sha256;
use std::time::Duration;

/// How long a credential is good for a node that has left the broker.
pub const LIFETIME: Duration = Duration::from_secs(600);

/// A username and password for the broker's TURN server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// Unix seconds.
    pub expires: u64,
}

/// Why a username is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("malformed TURN username")]
    Malformed,
    #[error("TURN credentials of {0} expired")]
    Expired(PeerId),
}

/// The per-start secret. Its Debug shows nothing of it.
pub struct TurnSecret([u8; 32]);

impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TurnSecret(…)")
    }
}

impl TurnSecret {
    pub fn random() -> Self {
        Self(rand::random())
    }

    fn password(&self, username: &str) -> String {
        // HMAC takes keys of any length; this cannot fail for 32 bytes.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(username.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Credentials for `peer`, good until `now + LIFETIME` (Unix seconds).
    pub fn issue(&self, peer: &PeerId, now: u64) -> Credentials {
        let expires = now + LIFETIME.as_secs();
        let username = format!("{expires}-{peer}");
        Credentials {
            password: self.password(&username),
            username,
            expires,
        }
    }

    /// The password of `username` if it is still good at `now`; `live`
    /// says whether its node is still admitted and connected.
    pub fn check(
        &self,
        username: &str,
        now: u64,
        live: impl Fn(&PeerId) -> bool,
    ) -> Result<String, CredentialError> {
        let (expires, peer) = username.split_once('-').ok_or(CredentialError::Malformed)?;
        let expires: u64 = expires.parse().map_err(|_| CredentialError::Malformed)?;
        let peer: PeerId = peer.parse().map_err(|_| CredentialError::Malformed)?;
        if now >= expires && !live(&peer) {
            return Err(CredentialError::Expired(peer));
        }
        Ok(self.password(username))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn issued_credentials_check_out_and_are_url_safe() {
        let s = TurnSecret::random();
        let p = PeerId::random();
        let c = s.issue(&p, 1000);
        assert_eq!(c.expires, 1000 + LIFETIME.as_secs());
        assert!(c.username.ends_with(&p.to_string()));
        let safe = |x: &str| x.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
        assert!(safe(&c.username) && safe(&c.password), "{c:?}");
        assert_eq!(s.check(&c.username, 1001, |_| false), Ok(c.password));
    }

    #[test]
    fn another_secret_gives_another_password() {
        let c = TurnSecret::random().issue(&PeerId::random(), 1000);
        let other = TurnSecret::random().check(&c.username, 1001, |_| false);
        assert_ne!(other, Ok(c.password));
    }

    #[test]
    fn expired_credentials_hold_only_while_their_node_is_live() {
        let s = TurnSecret::random();
        let p = PeerId::random();
        let c = s.issue(&p, 1000);
        let later = c.expires + 1;
        assert_eq!(
            s.check(&c.username, later, |_| false),
            Err(CredentialError::Expired(p))
        );
        assert_eq!(s.check(&c.username, later, |q| *q == p), Ok(c.password));
    }

    #[test]
    fn malformed_usernames_are_refused() {
        let s = TurnSecret::random();
        for u in ["", "x", "12", "12-", "a-12D3KooW", "-", "99-notapeer"] {
            assert_eq!(
                s.check(u, 0, |_| true),
                Err(CredentialError::Malformed),
                "{u}"
            );
        }
    }
}
