//! Who is answered without a person: the answer policy of a node and the
//! fact the node supplies about each caller ([`CallerTrust`]). A kiosk
//! auto-answers only callers on its allow-list; others ring as usual, or
//! are turned away with `not-allowed` when nobody is there to answer.
//! Do-not-disturb, the node's status, turns every new caller away `busy`.

use super::CallMachine;

/// How this node treats incoming calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerPolicy {
    /// Answer allowed callers at once (`--auto-answer`).
    pub auto_answer: bool,
    /// Turn away callers who are not allowed (`--reject-others`).
    pub reject_others: bool,
}

/// What the node knows about a caller, from its allow-list (`--accept-from`)
/// and its contacts (a name is pinned to the PeerId it was first seen with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerTrust {
    /// On the allow-list, and not a known name with a new key.
    Allowed,
    /// Not on the allow-list, or its identity changed: never auto-answered.
    NotAllowed,
}

/// What becomes of an invite that finds this node idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteDecision {
    /// Ring and wait for a person.
    Ring,
    /// Ring, then answer at once.
    AutoAnswer,
    /// Decline with `not-allowed`.
    Reject,
}

impl AnswerPolicy {
    pub fn decide(&self, trust: CallerTrust) -> InviteDecision {
        match trust {
            CallerTrust::Allowed if self.auto_answer => InviteDecision::AutoAnswer,
            CallerTrust::Allowed => InviteDecision::Ring,
            CallerTrust::NotAllowed if self.reject_others => InviteDecision::Reject,
            CallerTrust::NotAllowed => InviteDecision::Ring,
        }
    }
}

impl<P> CallMachine<P> {
    /// Do-not-disturb on or off: while on, an invite that finds no call is
    /// answered `busy` (one that crosses our own outgoing call still
    /// merges with it).
    pub fn set_dnd(&mut self, dnd: bool) {
        self.dnd = dnd;
    }
}
