//! The node's identity: an Ed25519 keypair created on first start and kept
//! in the data dir (protobuf encoding, owner-only file). Its PeerId is the
//! node's ID; Noise proves it to every peer, so it cannot be spoofed.
//! A corrupt key file is an error, never silently replaced: replacing it
//! would change who this node is.

use libp2p::identity::Keypair;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "identity.key";
const NAME_FILE: &str = "name";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot create data dir {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} is corrupt ({reason}); move it away to create a new identity")]
    Corrupt { path: PathBuf, reason: String },
}

/// Loads the keypair from `dir`, creating dir (0700) and key (0600) if absent.
pub fn load_or_create(dir: &Path) -> Result<Keypair, IdentityError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| IdentityError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
    let path = dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) => decode(&path, &bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path),
        Err(source) => Err(IdentityError::Read { path, source }),
    }
}

fn decode(path: &Path, bytes: &[u8]) -> Result<Keypair, IdentityError> {
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "key file {} is readable by others; chmod 600 it",
                path.display()
            );
        }
    }
    let key = Keypair::from_protobuf_encoding(bytes).map_err(|e| IdentityError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if key.key_type() != libp2p::identity::KeyType::Ed25519 {
        return Err(IdentityError::Corrupt {
            path: path.to_path_buf(),
            reason: "not an Ed25519 key".to_string(),
        });
    }
    Ok(key)
}

fn create(path: &Path) -> Result<Keypair, IdentityError> {
    let key = Keypair::generate_ed25519();
    let write_err = |source| IdentityError::Write {
        path: path.to_path_buf(),
        source,
    };
    let bytes = key
        .to_protobuf_encoding()
        .map_err(|e| write_err(std::io::Error::other(e.to_string())))?;
    // create_new: two nodes starting at once on one data dir never overwrite each other.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_err)?;
    file.write_all(&bytes)
        .and_then(|_| file.sync_all())
        .map_err(write_err)?;
    tracing::info!("created a new identity in {}", path.display());
    Ok(key)
}

/// The display name the node last ran with, for `duet id`.
pub fn last_name(dir: &Path) -> Option<String> {
    fs::read_to_string(dir.join(NAME_FILE))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Remembers the display name for `duet id`; failure only loses that hint.
pub fn remember_name(dir: &Path, name: &str) {
    if let Err(e) = fs::write(dir.join(NAME_FILE), name) {
        tracing::debug!("cannot remember the name in {}: {e}", dir.display());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn created_once_then_stable_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("d");
        let a = load_or_create(&sub).unwrap();
        let b = load_or_create(&sub).unwrap();
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        let mode = fs::metadata(sub.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = fs::metadata(&sub).unwrap().permissions().mode();
        assert_eq!(dmode & 0o777, 0o700);
    }

    #[test]
    fn corrupt_key_is_an_error_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), b"garbage").unwrap();
        let err = load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, IdentityError::Corrupt { .. }), "{err}");
        assert_eq!(fs::read(dir.path().join(KEY_FILE)).unwrap(), b"garbage");
    }
}
