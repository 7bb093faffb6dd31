//! Keeping glibc's malloc from hoarding what calls free.
//!
//! A call's media runs on a dozen GStreamer streaming threads that come and
//! go with the call. glibc gives threads their own malloc arenas (up to 8
//! per core) and keeps what a finished call freed inside them, scattered
//! between live blocks, where it is never returned to the kernel: measured
//! here, a node's VmRSS with no call grew by 3–10 MiB per call and had not
//! levelled off after 20 calls (BENCHMARKS.md, `## memory`). Two bounds:
//! at start, at most [`ARENAS`] arenas (`M_ARENA_MAX`), so freed memory is
//! reused by the next call instead of spread over new arenas; after each
//! call, `malloc_trim(0)` hands the free pages of every arena back.
//!
//! The only `unsafe` in the crate: two calls into glibc that take plain
//! integers and touch no memory of ours.

/// Arenas glibc may use (its default is 8 per core).
pub const ARENAS: i32 = 2;

/// Limits glibc's malloc arenas. Call first thing in `main`, before any
/// thread exists (arenas made before it stay).
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt takes two integers and changes only malloc's own
        // settings; M_ARENA_MAX is a valid parameter on glibc.
        #[allow(unsafe_code)]
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        if ok != 1 {
            tracing::debug!("mallopt(M_ARENA_MAX) refused");
        }
    }
}

/// Returns the free pages of every malloc arena to the kernel. Blocking
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
