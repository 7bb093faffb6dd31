//! [`MediaKind`]: audio or video. At the bottom of the crate because the
//! error type names it ([`crate::MediaError::NoSuchMedia`]) as well as the
//! configuration; re-exported as `config::MediaKind`.

use serde::{Deserialize, Serialize};

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Audio,
    Video,
}
