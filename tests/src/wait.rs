//! Waiting on conditions with generous deadlines: tests never sleep a fixed
//! time and hope.

use std::time::{Duration, Instant};

/// Polls `check` every `every` until it returns `Some`, or fails after
/// `deadline` with `what` and the last observation in the message.
pub fn wait_until<T>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    let every = Duration::from_millis(50);
    let mut last_err = None;
    loop {
        match check() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if start.elapsed() > deadline {
            let why = last_err
                .map(|e| format!(" (last error: {e:#})"))
                .unwrap_or_default();
            anyhow::bail!("timed out after {deadline:?} waiting for {what}{why}");
        }
        std::thread::sleep(every);
    }
}
