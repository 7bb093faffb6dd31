//! Contacts: which PeerId each display name was first seen with, kept in
//! the data dir (`contacts.json`), and the allow-list of `--accept-from`
//! (in [`accept`]). Names are labels anyone can take; pinning a name to the
//! first key it came with lets a kiosk trust "alice" without trusting
//! whoever calls themselves alice next, and lets the node flag a known name
//! that shows up with a new key.
//!
//! `duet contacts add|remove` edit the file while the node runs; the node
//! rereads it when it changes.

pub mod accept;

use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const FILE: &str = "contacts.json";
/// Most names pinned automatically: a peer cycling through names cannot
/// grow the file without bound (`duet contacts add` still pins past it).
pub const MAX_CONTACTS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ContactsError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a contacts file: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{0:?} is not a PeerId")]
    BadPeerId(String),
    #[error("no contact named {0:?}")]
    Unknown(String),
}

/// One name and the PeerId it is pinned to (`duet contacts --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub peer_id: String,
}

/// What a name seen with a PeerId means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First time: now pinned.
    New,
    /// The pinned key.
    Known,
    /// A known name with another key: not the peer first seen.
    Changed(PeerId),
    /// New, but the contacts are full: not pinned (so not allowed by name).
    Full,
}

/// Names pinned to PeerIds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    pinned: BTreeMap<String, PeerId>,
}

impl Contacts {
    pub fn get(&self, name: &str) -> Option<PeerId> {
        self.pinned.get(name).copied()
    }

    /// Whether `name` is pinned to a key other than `peer`.
    pub fn changed(&self, name: &str, peer: &PeerId) -> bool {
        self.get(name).is_some_and(|p| &p != peer)
    }

    /// `name` was seen with `peer`: pins it the first time.
    pub fn seen(&mut self, name: &str, peer: PeerId) -> Seen {
        match self.get(name) {
            None if self.pinned.len() >= MAX_CONTACTS => Seen::Full,
            None => {
                self.pinned.insert(name.to_string(), peer);
                Seen::New
            }
            Some(p) if p == peer => Seen::Known,
            Some(p) => Seen::Changed(p),
        }
    }

    /// Pins `name` to `peer`, replacing what was there (the user's word).
    pub fn add(&mut self, name: &str, peer: PeerId) {
        self.pinned.insert(name.to_string(), peer);
    }

    pub fn remove(&mut self, name: &str) -> Result<(), ContactsError> {
        self.pinned
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| ContactsError::Unknown(name.to_string()))
    }

    pub fn list(&self) -> Vec<Contact> {
        self.pinned
            .iter()
            .map(|(name, p)| Contact {
                name: name.clone(),
                peer_id: p.to_string(),
            })
            .collect()
    }

    fn from_list(list: Vec<Contact>) -> Self {
        let pinned = list
            .into_iter()
            .filter_map(|c| Some((c.name, c.peer_id.parse().ok()?)))
            .collect();
        Contacts { pinned }
    }
}

/// Parses a PeerId given by the user.
pub fn parse_peer_id(s: &str) -> Result<PeerId, ContactsError> {
    s.parse()
        .map_err(|_| ContactsError::BadPeerId(s.to_string()))
}

/// The contacts file of a data dir, reread when it changes on disk.
#[derive(Debug)]
pub struct ContactsFile {
    path: PathBuf,
    mtime: Option<SystemTime>,
    contacts: Contacts,
}

impl ContactsFile {
    pub fn open(data_dir: &Path) -> Result<Self, ContactsError> {
        let mut f = ContactsFile {
            path: data_dir.join(FILE),
            mtime: None,
            contacts: Contacts::default(),
        };
        f.reload()?;
        Ok(f)
    }

    fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
    }

    fn reload(&mut self) -> Result<(), ContactsError> {
        self.mtime = self.modified();
        self.contacts = match std::fs::read(&self.path) {
            Ok(bytes) => {
                let list: Vec<Contact> =
                    serde_json::from_slice(&bytes).map_err(|source| ContactsError::Parse {
                        path: self.path.clone(),
                        source,
                    })?;
                Contacts::from_list(list)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Contacts::default(),
            Err(source) => {
                return Err(ContactsError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        Ok(())
    }

    /// The contacts, reread first if the file changed (a bad file keeps
    /// the last good contacts, with a warning).
    pub fn contacts(&mut self) -> &Contacts {
        if self.modified() != self.mtime {
            if let Err(e) = self.reload() {
                tracing::warn!("keeping the contacts read before: {e}");
            }
        }
        &self.contacts
    }

    /// Changes the contacts and writes them back (atomically: a temp file
    /// renamed over the old one).
    pub fn update<T>(
        &mut self,
        f: impl FnOnce(&mut Contacts) -> Result<T, ContactsError>,
    ) -> Result<T, ContactsError> {
        self.contacts();
        let before = self.contacts.clone();
        let out = f(&mut self.contacts)?;
        if self.contacts != before {
            self.save()?;
        }
        Ok(out)
    }

    fn save(&mut self) -> Result<(), ContactsError> {
        let io = |source| ContactsError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(&self.contacts.list()).unwrap_or_default();
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        self.mtime = self.modified();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_name_is_pinned_to_the_first_key() {
        let mut c = Contacts::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        assert_eq!(c.seen("alice", a), Seen::New);
        assert_eq!(c.seen("alice", a), Seen::Known);
        assert_eq!(c.seen("alice", b), Seen::Changed(a));
        assert!(c.changed("alice", &b) && !c.changed("alice", &a));
        c.add("alice", b);
        assert_eq!(c.seen("alice", b), Seen::Known);
        assert!(c.remove("alice").is_ok());
        assert!(c.remove("alice").is_err());
    }

    #[test]
    fn automatic_pins_are_bounded() {
        let mut c = Contacts::default();
        for i in 0..MAX_CONTACTS {
            assert_eq!(c.seen(&format!("n{i}"), PeerId::random()), Seen::New);
        }
        assert_eq!(c.seen("one-more", PeerId::random()), Seen::Full);
        assert_eq!(c.get("one-more"), None);
        assert_eq!(c.list().len(), MAX_CONTACTS);
    }

    #[test]
    fn the_file_round_trips_and_is_reread_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let a = PeerId::random();
        let mut f = ContactsFile::open(dir.path()).unwrap();
        f.update(|c| Ok(c.seen("alice", a))).unwrap();
        let mut g = ContactsFile::open(dir.path()).unwrap();
        assert_eq!(g.contacts().get("alice"), Some(a));
        g.update(|c| c.remove("alice")).unwrap();
        // Another writer changed it; a different mtime is needed to notice.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        let file = std::fs::File::options()
            .write(true)
            .open(dir.path().join(FILE))
            .unwrap();
        file.set_modified(later).unwrap();
        assert_eq!(f.contacts().get("alice"), None);
    }

    #[test]
    fn a_broken_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "{nope").unwrap();
        assert!(ContactsFile::open(dir.path()).is_err());
    }
}
