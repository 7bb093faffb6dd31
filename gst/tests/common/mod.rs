//! Shared by the media tests: two sessions in one process wired back to back
//! (each one's SDP and ICE candidates pumped into the other), with every
//! event logged so tests can wait on conditions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use duet_gst::{MediaConfig, MediaEvent, MediaSession, MediaStats, Role, SdpKind};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub type Log = Arc<Mutex<Vec<MediaEvent>>>;

/// One side of a pair.
pub struct Side {
    pub session: Option<Arc<MediaSession>>,
    pub log: Log,
}

impl Side {
    pub fn stats(&self) -> MediaStats {
        self.session.as_ref().unwrap().stats()
    }
    pub fn events(&self) -> Vec<MediaEvent> {
        self.log.lock().unwrap().clone()
    }
    pub fn has(&self, f: impl Fn(&MediaEvent) -> bool) -> bool {
        self.log.lock().unwrap().iter().any(f)
    }
    /// Closes (blocking) and waits for `Ended`.
    pub fn close(&mut self) {
        let mut s = self.session.take().unwrap();
        let session = loop {
            match Arc::try_unwrap(s) {
                Ok(x) => break x,
                Err(back) => {
                    s = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        };
        session.close_blocking();
        wait("Ended", 20, || self.has(|e| matches!(e, MediaEvent::Ended)));
    }
}

pub struct Pair {
    pub offerer: Side,
    pub answerer: Side,
}

impl Pair {
    /// Like [`wait`], but on timeout prints both sides' events and stats.
    pub fn wait(&self, what: &str, secs: u64, mut cond: impl FnMut(&Pair) -> bool) {
        let r = duet_tests::wait_until(what, Duration::from_secs(secs), || {
            Ok(cond(self).then_some(()))
        });
        if let Err(e) = r {
            for (name, side) in [("offerer", &self.offerer), ("answerer", &self.answerer)] {
                eprintln!("--- {name} events (Stats omitted):");
                for ev in side
                    .events()
                    .iter()
                    .filter(|e| !matches!(e, MediaEvent::Stats(_)))
                {
                    let s = format!("{ev:?}");
                    eprintln!("  {}", &s[..s.len().min(300)]);
                }
                if let Some(s) = &side.session {
                    eprintln!("  stats: {:?}", s.stats());
                }
            }
            panic!("{e:#}");
        }
    }
}

/// Polls `cond` until true, for at most `secs` seconds.
pub fn wait(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    duet_tests::wait_until(what, Duration::from_secs(secs), || Ok(cond().then_some(()))).unwrap();
}

/// What the "network" does to an SDP on its way to the peer.
pub type SdpFilter = fn(SdpKind, &str) -> String;

fn pump(
    mut rx: tokio::sync::mpsc::Receiver<MediaEvent>,
    log: Log,
    peer: Weak<MediaSession>,
    filter: SdpFilter,
) {
    std::thread::spawn(move || {
        while let Some(ev) = rx.blocking_recv() {
            if let Some(peer) = peer.upgrade() {
                match &ev {
                    MediaEvent::LocalDescription { kind, sdp } => {
                        if let Err(e) = peer.set_remote_description(*kind, &filter(*kind, sdp)) {
                            eprintln!("set_remote_description: {e}");
                        }
                    }
                    MediaEvent::LocalCandidate { mline, candidate } => {
                        if let Err(e) = peer.add_remote_candidate(*mline, candidate) {
                            eprintln!("add_remote_candidate: {e}");
                        }
                    }
                    _ => {}
                }
            }
            if let MediaEvent::Error(e) = &ev {
                eprintln!("media error: {e}");
            }
            log.lock().unwrap().push(ev);
        }
    });
}

/// Starts an offerer and an answerer wired to each other.
pub fn start_pair(offer_cfg: MediaConfig, answer_cfg: MediaConfig) -> Pair {
    start_pair_filtered(offer_cfg, answer_cfg, |_, sdp| sdp.to_string())
}

/// [`start_pair`] with every SDP passed through `filter` on its way.
pub fn start_pair_filtered(
    offer_cfg: MediaConfig,
    answer_cfg: MediaConfig,
    filter: SdpFilter,
) -> Pair {
    // The answerer first, so it is there when the offer comes.
    let (b, b_rx) = MediaSession::start(answer_cfg, Role::Answerer).expect("start answerer");
    let b = Arc::new(b);
    let (a, a_rx) = MediaSession::start(offer_cfg, Role::Offerer).expect("start offerer");
    let a = Arc::new(a);
    let (a_log, b_log): (Log, Log) = Default::default();
    pump(a_rx, a_log.clone(), Arc::downgrade(&b), filter);
    pump(b_rx, b_log.clone(), Arc::downgrade(&a), filter);
    Pair {
        offerer: Side {
            session: Some(a),
            log: a_log,
        },
        answerer: Side {
            session: Some(b),
            log: b_log,
        },
    }
}

/// A test config with a short media timeout.
pub fn test_config() -> MediaConfig {
    MediaConfig {
        media_timeout: Duration::from_secs(2),
        ..MediaConfig::test()
    }
}
