//! The allow-list of `--accept-from`: who may be auto-answered (or, with
//! `--reject-others`, may call at all). A PeerId entry pins a key; a name
//! entry matches only the PeerId that name is pinned to in the contacts;
//! `web:NAME` names a browser caller (reserved for web callers, which a
//! libp2p peer never matches); `any` allows every caller whose name has not
//! changed keys.

use super::Contacts;
use crate::call::machine::CallerTrust;
use libp2p::PeerId;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptEntry {
    Any,
    Peer(PeerId),
    Name(String),
    Web(String),
}

impl FromStr for AcceptEntry {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("--accept-from needs a name, a PeerId, web:NAME or any".into());
        }
        if s == "any" {
            return Ok(AcceptEntry::Any);
        }
        if let Some(name) = s.strip_prefix("web:") {
            if name.is_empty() {
                return Err("web: needs a name (web:NAME)".into());
            }
            return Ok(AcceptEntry::Web(name.to_string()));
        }
        // A PeerId is a long base58 string starting 12D3Koo (Ed25519) or Qm.
        if s.len() > 40 {
            if let Ok(p) = s.parse::<PeerId>() {
                return Ok(AcceptEntry::Peer(p));
            }
        }
        Ok(AcceptEntry::Name(s.to_string()))
    }
}

impl fmt::Display for AcceptEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcceptEntry::Any => f.write_str("any"),
            AcceptEntry::Peer(p) => write!(f, "{p}"),
            AcceptEntry::Name(n) => f.write_str(n),
            AcceptEntry::Web(n) => write!(f, "web:{n}"),
        }
    }
}

/// What the allow-list says of one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub trust: CallerTrust,
    /// The caller's name is pinned to another key.
    pub identity_changed: bool,
}

/// The caller `peer` named `name` (if known), judged against `list` and
/// `contacts`. A known name with a new key is never allowed, whatever the
/// list says (even `any`, even its new PeerId listed: the name is taken).
pub fn judge(
    list: &[AcceptEntry],
    contacts: &Contacts,
    peer: &PeerId,
    name: Option<&str>,
) -> Verdict {
    let identity_changed = name.is_some_and(|n| contacts.changed(n, peer));
    let allowed = !identity_changed
        && list.iter().any(|e| match e {
            AcceptEntry::Any => true,
            AcceptEntry::Peer(p) => p == peer,
            AcceptEntry::Name(n) => contacts.get(n) == Some(*peer),
            AcceptEntry::Web(_) => false,
        });
    Verdict {
        trust: if allowed {
            CallerTrust::Allowed
        } else {
            CallerTrust::NotAllowed
        },
        identity_changed,
    }
}

/// Whether `list` names the web user a node lists as `shown`
/// (`web:alice via <broker>`): an entry `web:alice`. Only for peers the
/// node knows are web users (a node may call itself anything).
pub fn allows_web(list: &[AcceptEntry], shown: &str) -> bool {
    list.iter().any(|e| match e {
        AcceptEntry::Web(n) => shown
            .strip_prefix("web:")
            .and_then(|rest| rest.strip_prefix(n.as_str()))
            .is_some_and(|rest| rest.starts_with(" via ")),
        _ => false,
    })
}

#[cfg(test)]
mod web_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn web_entries_name_web_users_only_by_their_whole_name() {
        let list: Vec<AcceptEntry> = vec!["web:alice".parse().unwrap(), "bob".parse().unwrap()];
        assert!(allows_web(&list, "web:alice via 3xYz9Q"));
        assert!(!allows_web(&list, "web:alice-2 via 3xYz9Q"));
        assert!(!allows_web(&list, "web:bob via 3xYz9Q"));
        assert!(!allows_web(&list, "alice"));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn entries(s: &[&str]) -> Vec<AcceptEntry> {
        s.iter().map(|e| e.parse().unwrap()).collect()
    }

    #[test]
    fn entries_parse() {
        let p = PeerId::random();
        assert_eq!("any".parse(), Ok(AcceptEntry::Any));
        assert_eq!(p.to_string().parse(), Ok(AcceptEntry::Peer(p)));
        assert_eq!("alice".parse(), Ok(AcceptEntry::Name("alice".into())));
        assert_eq!("web:desk".parse(), Ok(AcceptEntry::Web("desk".into())));
        assert!("web:".parse::<AcceptEntry>().is_err());
        assert!("".parse::<AcceptEntry>().is_err());
    }

    #[test]
    fn a_name_allows_only_its_pinned_key() {
        let (alice, mallory, carol) = (PeerId::random(), PeerId::random(), PeerId::random());
        let mut c = Contacts::default();
        c.seen("alice", alice);
        c.seen("carol", carol);
        let list = entries(&["alice"]);
        let v = judge(&list, &c, &alice, Some("alice"));
        assert_eq!(v.trust, CallerTrust::Allowed);
        assert!(!v.identity_changed);
        let v = judge(&list, &c, &mallory, Some("alice"));
        assert_eq!(v.trust, CallerTrust::NotAllowed);
        assert!(v.identity_changed);
        let v = judge(&list, &c, &carol, Some("carol"));
        assert_eq!(v.trust, CallerTrust::NotAllowed);
        assert!(!v.identity_changed);
        // A name not yet seen allows nobody.
        let v = judge(&entries(&["dave"]), &c, &carol, Some("carol"));
        assert_eq!(v.trust, CallerTrust::NotAllowed);
    }

    #[test]
    fn a_peer_id_pins_and_any_allows_all_but_changed_names() {
        let (alice, mallory) = (PeerId::random(), PeerId::random());
        let mut c = Contacts::default();
        c.seen("alice", alice);
        let list = entries(&[&mallory.to_string()]);
        assert_eq!(
            judge(&list, &c, &mallory, Some("mallory")).trust,
            CallerTrust::Allowed
        );
        assert_eq!(
            judge(&list, &c, &alice, Some("alice")).trust,
            CallerTrust::NotAllowed
        );
        let any = entries(&["any"]);
        assert_eq!(
            judge(&any, &c, &alice, Some("alice")).trust,
            CallerTrust::Allowed
        );
        assert_eq!(judge(&any, &c, &mallory, None).trust, CallerTrust::Allowed);
        assert_eq!(
            judge(&any, &c, &mallory, Some("alice")).trust,
            CallerTrust::NotAllowed
        );
        // Web entries never match a libp2p caller.
        let web = entries(&["web:alice"]);
        assert_eq!(
            judge(&web, &c, &alice, Some("alice")).trust,
            CallerTrust::NotAllowed
        );
    }
}
