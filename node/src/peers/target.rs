//! Who `duet call TARGET` means. A target is a PeerId, a PeerId suffix (as
//! `duet peers` shows it), or a display name. Names are labels, not
//! identities: a name two peers share is ambiguous and must be told apart
//! by ID, and an unknown target lists who can be called. An ID suffix of
//! short-ID length always means that ID, never a peer that took it as its
//! name; a shorter suffix that is also some peer's name is ambiguous.

use super::{PeerView, MIN_SHORT_ID};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("cannot call yourself")]
    SelfCall,
    #[error("no peer called \"{target}\" on the LAN{}", known_list(.known))]
    Unknown { target: String, known: Vec<String> },
    #[error("\"{target}\" is ambiguous; call one of these by its ID:{}", candidates_list(.candidates))]
    Ambiguous {
        target: String,
        candidates: Vec<String>,
    },
}

impl TargetError {
    /// The reason word of a call that could not be placed.
    pub fn reason(&self) -> &'static str {
        match self {
            TargetError::SelfCall => "self",
            TargetError::Unknown { .. } => "not-found",
            TargetError::Ambiguous { .. } => "ambiguous",
        }
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (no peers found yet: see `duet peers`)".into()
    } else {
        format!("; peers: {}", known.join(", "))
    }
}

fn candidates_list(c: &[String]) -> String {
    c.iter().map(|s| format!("\n  {s}")).collect()
}

fn label(p: &PeerView) -> String {
    format!("{} ({})", p.name, p.peer_id)
}

/// Resolves `target` among `peers`; `me` is this node's (PeerId, name).
pub fn resolve<'a>(
    peers: &'a [PeerView],
    me: (&str, &str),
    target: &str,
) -> Result<&'a PeerView, TargetError> {
    let target = target.trim();
    let (my_id, my_name) = me;
    if target == my_id {
        return Err(TargetError::SelfCall);
    }
    if let Some(p) = peers.iter().find(|p| p.peer_id == target) {
        return Ok(p);
    }
    let by = |f: &dyn Fn(&PeerView) -> bool| peers.iter().filter(|p| f(p)).collect::<Vec<_>>();
    let by_id = by(&|p| p.peer_id.ends_with(target));
    // A suffix as long as a short ID is an ID, whatever names peers chose:
    // a peer named like another's short ID cannot capture `duet call <id>`.
    let mut found = if target.len() >= MIN_SHORT_ID && !by_id.is_empty() {
        by_id
    } else {
        let mut names = by(&|p| p.name == target);
        if names.is_empty() {
            names = by(&|p| p.name.to_lowercase() == target.to_lowercase());
        }
        if names.is_empty() && target.starts_with("web:") {
            // `web:alice` names the web user `web:alice via <broker>`.
            let prefix = format!("{target} via ");
            names = by(&|p| p.kind == "web" && p.name.starts_with(&prefix));
        }
        names
    };
    if target.len() >= 4 && target.len() < MIN_SHORT_ID {
        // A shorter suffix must be unique among names and IDs alike.
        for p in by(&|p| p.peer_id.ends_with(target)) {
            if !found.iter().any(|f| f.peer_id == p.peer_id) {
                found.push(p);
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(one),
        [] if target == my_name || (target.len() >= 4 && my_id.ends_with(target)) => {
            Err(TargetError::SelfCall)
        }
        [] => Err(TargetError::Unknown {
            target: target.into(),
            known: peers.iter().map(label).collect(),
        }),
        many => Err(TargetError::Ambiguous {
            target: target.into(),
            candidates: many.iter().map(|p| label(p)).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::proto::Status;

    fn peer(name: &str, id: &str) -> PeerView {
        PeerView {
            name: name.into(),
            peer_id: id.into(),
            short_id: id[id.len() - 6..].into(),
            status: Status::Available,
            addrs: vec![],
            identity_changed: false,
            via: vec![],
            kind: "node".into(),
        }
    }

    #[test]
    fn resolves_by_name_id_and_suffix() {
        let peers = vec![
            peer("alice", "12D3KooWaaaa111111"),
            peer("Bob", "12D3KooWbbbb222222"),
        ];
        let me = ("12D3KooWmmmm000000", "carol");
        assert_eq!(resolve(&peers, me, "alice").unwrap().name, "alice");
        assert_eq!(
            resolve(&peers, me, "bob").unwrap().name,
            "Bob",
            "case-insensitive fallback"
        );
        assert_eq!(
            resolve(&peers, me, "12D3KooWbbbb222222").unwrap().name,
            "Bob"
        );
        assert_eq!(resolve(&peers, me, "222222").unwrap().name, "Bob");
    }

    #[test]
    fn same_name_is_ambiguous_and_lists_ids() {
        let peers = vec![
            peer("bob", "12D3KooWaaaa111111"),
            peer("bob", "12D3KooWbbbb222222"),
        ];
        let err = resolve(&peers, ("12D3KooWmmmm000000", "carol"), "bob").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, TargetError::Ambiguous { .. }));
        assert!(
            text.contains("12D3KooWaaaa111111") && text.contains("12D3KooWbbbb222222"),
            "{text}"
        );
        assert_eq!(
            resolve(&peers, ("x", "carol"), "111111").unwrap().peer_id,
            "12D3KooWaaaa111111"
        );
    }

    #[test]
    fn unknown_and_self() {
        let peers = vec![peer("alice", "12D3KooWaaaa111111")];
        let me = ("12D3KooWmmmm000000", "carol");
        let err = resolve(&peers, me, "dave").unwrap_err();
        assert!(
            err.to_string().contains("alice (12D3KooWaaaa111111)"),
            "{err}"
        );
        assert_eq!(resolve(&peers, me, "carol"), Err(TargetError::SelfCall));
        assert_eq!(
            resolve(&peers, me, "12D3KooWmmmm000000"),
            Err(TargetError::SelfCall)
        );
        assert!(resolve(&[], me, "x")
            .unwrap_err()
            .to_string()
            .contains("no peers found yet"));
        // Another peer with my name is callable by that name.
        let peers = vec![peer("carol", "12D3KooWcccc333333")];
        assert_eq!(
            resolve(&peers, me, "carol").unwrap().peer_id,
            "12D3KooWcccc333333"
        );
    }

    #[test]
    fn a_name_cannot_capture_a_short_id() {
        let peers = vec![
            peer("bob", "12D3KooWaaaa111111"),
            peer("111111", "12D3KooWbbbb222222"),
            peer("1111", "12D3KooWcccc333333"),
        ];
        let me = ("12D3KooWmmmm000000", "carol");
        assert_eq!(
            resolve(&peers, me, "111111").unwrap().peer_id,
            "12D3KooWaaaa111111",
            "the short ID wins over a peer named like it"
        );
        let err = resolve(&peers, me, "1111").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, TargetError::Ambiguous { .. }), "{text}");
        assert!(
            text.contains("12D3KooWaaaa111111") && text.contains("12D3KooWcccc333333"),
            "{text}"
        );
        // A name that is no one's ID suffix still works.
        let peers = vec![peer("zzzzzz", "12D3KooWaaaa111111")];
        assert_eq!(resolve(&peers, me, "zzzzzz").unwrap().name, "zzzzzz");
    }
}
