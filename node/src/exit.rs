//! Ending the process without running C libraries' exit handlers.
//!
//! A node can stop while threads it cannot join are still inside a
//! library: a media thread stuck in a device open that never returns, a
//! blocking warm-up creating elements, GStreamer's clock thread. Ending
//! with `exit()` (what returning from `main` and `std::process::exit` do)
//! runs the libraries' `atexit` and destructor handlers on the way out;
//! OpenSSL frees its locks, GnuTLS and GLib tear down their state, and a
//! thread still using them crashes the process with SIGSEGV instead of
//! the exit code it was given (seen in a core dump: a second Ctrl-C during
//! the media warm-up, OpenSSL's random generator lock freed under a DTLS
//! element being made).
//!
//! Nothing of ours needs those handlers: our files are written and closed
//! before the node returns, and logs go to unbuffered stderr. So the node
//! flushes standard output and ends with `_exit`, which the kernel carries
//! out at once for every thread.

use std::io::Write;

/// Flushes stdout and stderr and ends the process with `code`, without
/// running exit handlers (see the module docs).
pub fn now(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` takes a plain integer, touches no memory of ours and
    // does not return; skipping destructors is its purpose here.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(code)
    }
}
