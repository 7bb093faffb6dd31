//! Where a call is recorded (`--record DIR`): `DIR/<date>-<peer>.mkv`, the
//! date in UTC (`20261126-051500`), the peer's name reduced to characters
//! safe in a file name (a name is whatever the peer chose), and a number
//! added if that file exists.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Longest peer-name part of a file name, in characters.
const MAX_NAME: usize = 40;

/// A new file for a call with `peer_name` starting at `now`, in `dir`.
pub fn file_for(dir: &Path, peer_name: &str, now: SystemTime) -> PathBuf {
    let stem = format!("{}-{}", utc_stamp(now), safe_name(peer_name));
    let mut path = dir.join(format!("{stem}.mkv"));
    let mut n = 2;
    while path.exists() && n < 1000 {
        path = dir.join(format!("{stem}-{n}.mkv"));
        n += 1;
    }
    path
}

/// Letters, digits, `-` and `_` kept; anything else becomes `_`.
pub fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .take(MAX_NAME)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "peer".into()
    } else {
        s
    }
}

/// `YYYYMMDD-HHMMSS` in UTC.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_utc() {
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(utc_stamp(at(0)), "19700101-000000");
        assert_eq!(utc_stamp(at(951_782_400)), "20000229-000000");
        assert_eq!(utc_stamp(at(1_795_000_000)), "20261118-110640");
    }

    #[test]
    fn names_are_safe_and_files_new() {
        assert_eq!(safe_name("../../etc/passwd"), "______etc_passwd");
        assert_eq!(safe_name("front desk ☎"), "front_desk__");
        assert_eq!(safe_name(""), "peer");
        assert_eq!(safe_name(&"x".repeat(100)).len(), MAX_NAME);
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let a = file_for(dir.path(), "bob", now);
        assert!(a.to_string_lossy().ends_with("-bob.mkv"));
        std::fs::write(&a, b"").unwrap();
        let b = file_for(dir.path(), "bob", now);
        assert_ne!(a, b);
        assert!(b.to_string_lossy().ends_with("-bob-2.mkv"));
    }
}
