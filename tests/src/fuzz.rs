//! Property-based fuzzing on stable Rust: a proptest runner per target that
//! feeds generated input to a parser or checker, fails on a panic (proptest
//! catches it and shrinks the input to a minimal case), and prints how many
//! cases ran. The normal test suite runs a few thousand cases per target;
//! `scripts/fuzz` sets `PROPTEST_CASES` for long runs.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::time::Instant;

/// Cases per target in the normal test suite (keeps every target well
/// under a few seconds in a debug build).
pub const DEFAULT_CASES: u32 = 1000;

/// `PROPTEST_CASES` if set, else [`DEFAULT_CASES`].
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Runs `check` on [`cases`] values of `strategy`; panics (failing the
/// test) with the smallest failing input if `check` panics or errs.
#[allow(clippy::panic)] // failing the calling test is its job
pub fn run<S>(name: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), String>)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let count = std::cell::Cell::new(0u64);
    let start = Instant::now();
    let result = runner.run(&strategy, |v| {
        count.set(count.get() + 1);
        check(v).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
    let peak = crate::measure::status_kb(std::process::id(), "VmHWM:").unwrap_or(0.0);
    println!(
        "fuzz {name}: {} cases in {:.1} s, no failure (process peak RSS {} MiB)",
        count.get(),
        start.elapsed().as_secs_f64(),
        (peak / 1024.0).round()
    );
}
