//! Defaults that depend on the user and the machine: where the identity is
//! kept, where the control socket lives, and the default display name.

use std::path::PathBuf;

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

/// `$XDG_RUNTIME_DIR/duet/control.sock`, else `/tmp/duet-<uid>/control.sock`.
pub fn default_control_path() -> PathBuf {
    if let Some(d) = non_empty_env("XDG_RUNTIME_DIR") {
        return PathBuf::from(d).join("duet/control.sock");
    }
    let uid = nix::unistd::getuid();
    PathBuf::from(format!("/tmp/duet-{uid}/control.sock"))
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
