//! Keeping glibc's malloc from hoarding what calls free.
//!
//! A call's media runs on a dozen GStreamer streaming threads that come and
//! go with the call. glibc gives threads their own malloc arenas (up to 8
//! per core) and keeps what a finished call freed inside them, scattered
//! between live blocks, where it is never returned to the kernel: measured
//! here, a node's VmRSS with no call grew by 3–10 MiB per call and had not
//! levelled off after 20 calls (BENCHMARKS.md, `## memory`). Three bounds,
//! set by [`configure`] at start and [`release_free_memory`] after a call:
//!
//! - at most [`ARENAS`] arenas (`M_ARENA_MAX`), so freed memory is reused by
//!   the next call instead of spread over new arenas;
//! - after each call, `malloc_trim(0)` hands back the free pages of every
//!   arena's free chunks and the main arena's free top. It does not touch the free *top* of a thread arena: glibc
//!   shrinks that only inside `free`, and only once it exceeds the trim
//!   threshold;
//! - so the thresholds are fixed ([`TRIM_THRESHOLD`], [`MMAP_THRESHOLD`]).
//!   Left dynamic, glibc raises the mmap threshold to the size of the
//!   largest mmapped block freed (a call frees a ~7 MiB one) and the trim
//!   threshold to twice that, ~14 MiB. A thread arena whose free top then
//!   ends a call just under 14 MiB keeps it all resident, call after call,
//!   until some later call happens to push it over. Measured: in about one
//!   run in three of 20 calls, one node ended with 11–13 MiB more RssAnon,
//!   all of it the second arena's free top (`malloc_info`), which a
//!   `malloc_trim(0)` did not release. With a 1 MiB trim threshold that
//!   top is at most 1 MiB after a call.
//!
//! With [`crate::exit`], the only `unsafe` in the crate: calls into glibc
//! that take plain integers and touch no memory of ours.

/// Arenas glibc may use (its default is 8 per core).
pub const ARENAS: i32 = 2;

/// Free memory a thread arena may keep at its top (glibc's default starts
/// at 128 KiB and grows with the mmap threshold). Above a 640x480 frame, so
/// a frame freed and allocated again at the top does not cost a trim and a
/// refault each time; measured, page faults in a call (640x480 and 720p)
/// were the same as with glibc's dynamic thresholds (0–5/s once running).
pub const TRIM_THRESHOLD: i32 = 1024 * 1024;

/// Blocks at least this large get their own mapping, returned to the kernel
/// when freed. The ceiling glibc's dynamic threshold may grow to (32 MiB on
/// 64-bit), so no frame up to 1080p, in any format, is mapped and unmapped
/// per frame.
pub const MMAP_THRESHOLD: i32 = 32 * 1024 * 1024;

/// Limits glibc's malloc arenas and fixes its trim and mmap thresholds.
/// Call first thing in `main`, before any thread exists (arenas made before
/// it stay).
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (name, param, value) in [
        ("M_ARENA_MAX", libc::M_ARENA_MAX, ARENAS),
        ("M_TRIM_THRESHOLD", libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        ("M_MMAP_THRESHOLD", libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
    ] {
        // SAFETY: mallopt takes two integers and changes only malloc's own
        // settings; each parameter is valid on glibc and each value within
        // its range.
        #[allow(unsafe_code)]
        let ok = unsafe { libc::mallopt(param, value) };
        if ok != 1 {
            tracing::debug!("mallopt({name}, {value}) refused");
        }
    }
}

/// Returns the free pages of every malloc arena to the kernel (a thread
/// arena's free top is bounded by [`TRIM_THRESHOLD`] instead). Blocking
/// for a few ms (it walks the arenas): run it off the async threads, after
/// a call's pipeline is gone.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes a byte count and only releases free
        // pages malloc owns; it is thread-safe (it locks each arena).
        #[allow(unsafe_code)]
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
