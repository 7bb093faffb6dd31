//! Web invites: with a network key, a browser needs a token to use the
//! WebSocket. A token is stateless — `EXPIRY.MAC`, the Unix time it stops
//! being valid and a truncated HMAC under the network key — so any holder of
//! the key (`duet broker invite`, the broker at start) can mint one and the
//! broker keeps nothing. It cannot be revoked before it expires except by
//! changing the network key.

use crate::network_key::NetworkKey;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LABEL: &[u8] = b"duet-web-invite/1";
/// Bytes of the MAC kept in a token (128 bits).
const MAC_BYTES: usize = 16;
/// Longest token accepted (the expiry's digits, a dot, 32 hex digits).
const MAX_TOKEN: usize = 64;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn mac_hex(key: &NetworkKey, expiry: u64) -> String {
    key.tag(LABEL, expiry.to_string().as_bytes())
        .iter()
        .take(MAC_BYTES)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A token valid for `valid` from now.
pub fn mint(key: &NetworkKey, valid: Duration) -> String {
    mint_at(key, now_secs().saturating_add(valid.as_secs()))
}

fn mint_at(key: &NetworkKey, expiry: u64) -> String {
    format!("{expiry}.{}", mac_hex(key, expiry))
}

/// Why a token was refused (shown to the browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("this broker needs an invite: open the link you were given (…/?invite=…)")]
    Missing,
    #[error("the invite is not valid for this network")]
    Invalid,
    #[error("the invite has expired: ask for a new one")]
    Expired,
}

/// Checks a token (the MAC in constant time).
pub fn check(key: &NetworkKey, token: Option<&str>) -> Result<(), InviteError> {
    check_at(key, token, now_secs())
}

fn check_at(key: &NetworkKey, token: Option<&str>, now: u64) -> Result<(), InviteError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(InviteError::Missing)?;
    if token.len() > MAX_TOKEN {
        return Err(InviteError::Invalid);
    }
    let (expiry, mac) = token.split_once('.').ok_or(InviteError::Invalid)?;
    let expiry: u64 = expiry.parse().map_err(|_| InviteError::Invalid)?;
    let want = mac_hex(key, expiry);
    let same = want.len() == mac.len()
        && want
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(InviteError::Invalid);
    }
    if expiry <= now {
        return Err(InviteError::Expired);
    }
    Ok(())
}

/// The value of `name` in a URL query (`a=1&invite=…`), percent-decoding
/// nothing: tokens are plain ASCII.
pub fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn tokens_are_bound_to_the_key_and_expire() {
        let (key, other) = (NetworkKey::random(), NetworkKey::random());
        let t = mint_at(&key, 1000);
        assert_eq!(check_at(&key, Some(&t), 999), Ok(()));
        assert_eq!(check_at(&key, Some(&t), 1000), Err(InviteError::Expired));
        assert_eq!(check_at(&other, Some(&t), 999), Err(InviteError::Invalid));
        let later = t.replacen("1000", "9000", 1);
        assert_eq!(check_at(&key, Some(&later), 999), Err(InviteError::Invalid));
        assert_eq!(check_at(&key, None, 1), Err(InviteError::Missing));
        assert_eq!(check_at(&key, Some("x"), 1), Err(InviteError::Invalid));
        assert_eq!(
            check_at(&key, Some(&"9".repeat(500)), 1),
            Err(InviteError::Invalid)
        );
        assert!(check(&key, Some(&mint(&key, Duration::from_secs(60)))).is_ok());
    }

    #[test]
    fn finds_the_invite_in_a_query() {
        assert_eq!(query_param("a=1&invite=12.ab", "invite"), Some("12.ab"));
        assert_eq!(query_param("invite", "invite"), None);
        assert_eq!(query_param("", "invite"), None);
    }
}
