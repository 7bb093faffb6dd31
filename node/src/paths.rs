//! Defaults that depend on the user and the machine: where the identity is
//! kept, where the control socket lives, and the default display name.

use std::path::{Path, PathBuf};

/// `$XDG_DATA_HOME/duet`, else `~/.local/share/duet`, else `./.duet`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = non_empty_env("XDG_DATA_HOME") {
        return PathBuf::from(d).join("duet");
    }
    if let Some(h) = non_empty_env("HOME") {
        return PathBuf::from(h).join(".local/share/duet");
    }
    PathBuf::from(".duet")
}

/// `$XDG_RUNTIME_DIR/duet/control.sock`, else
/// `/tmp/duet-<uid>/control.sock` (`$TMPDIR` instead of `/tmp` when set).
pub fn default_control_path() -> PathBuf {
    if let Some(d) = non_empty_env("XDG_RUNTIME_DIR") {
        return PathBuf::from(d).join("duet/control.sock");
    }
    fallback_control_dir().join("control.sock")
}

/// `/tmp/duet-<uid>`: in a directory everyone can write to, so whoever
/// made it first owns it; see [`check_private_dir`].
pub fn fallback_control_dir() -> PathBuf {
    let uid = nix::unistd::getuid();
    std::env::temp_dir().join(format!("duet-{uid}"))
}

/// Refuses a directory that is a symlink, is not owned by this user, or
/// that others can enter (mode other than 0700): another local user could
/// then replace the socket or listen in place of the node.
pub fn check_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    let uid = nix::unistd::getuid().as_raw();
    if !meta.is_dir() {
        return Err("it is not a directory (a symlink?)".into());
    }
    if meta.uid() != uid {
        return Err(format!(
            "it is owned by uid {}, not by you (uid {uid})",
            meta.uid()
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode != 0o700 {
        return Err(format!("its mode is {mode:04o}, not 0700"));
    }
    Ok(())
}

/// The machine's host name, else "duet".
pub fn default_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "duet".to_string())
}

fn non_empty_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}
