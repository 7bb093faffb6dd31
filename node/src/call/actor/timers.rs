//! The machine's timers in the actor: one [`Sleep`] set to the earliest
//! deadline, polled in the actor's select loop (no task per timer). Timers
//! are never cancelled: the machine ignores one for a call that is gone.

use crate::call::machine::Timer;
use crate::proto::call::CallId;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::{sleep_until, Instant, Sleep};

pub(super) struct Timers {
    pending: Vec<(Instant, CallId, Timer)>,
    sleep: Pin<Box<Sleep>>,
}

impl Timers {
    pub(super) fn new() -> Self {
        Timers {
            pending: Vec::new(),
            sleep: Box::pin(sleep_until(Instant::now())),
        }
    }

    /// Delivers `timer` for `call_id` from [`Timers::next`] after `after`.
    pub(super) fn arm(&mut self, call_id: CallId, timer: Timer, after: Duration) {
        self.pending.push((Instant::now() + after, call_id, timer));
        self.reset();
    }

    fn earliest(&self) -> Option<(usize, Instant)> {
        self.pending
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.0)
            .map(|(i, p)| (i, p.0))
    }

    fn reset(&mut self) {
        if let Some((_, at)) = self.earliest() {
            self.sleep.as_mut().reset(at);
        }
    }

    /// The next timer that is due; pending while none is armed. Cancel
    /// safe: nothing changes until a timer is returned.
    pub(super) async fn next(&mut self) -> (CallId, Timer) {
        loop {
            let Some((i, at)) = self.earliest() else {
                return std::future::pending().await;
            };
            if at <= Instant::now() {
                let (_, call_id, timer) = self.pending.swap_remove(i);
                self.reset();
                return (call_id, timer);
            }
            self.sleep.as_mut().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn timers_fire_in_deadline_order_not_arming_order() {
        let mut t = Timers::new();
        t.arm(CallId::from("late"), Timer::Ring, Duration::from_millis(60));
        t.arm(
            CallId::from("soon"),
            Timer::RemoteEnd,
            Duration::from_millis(10),
        );
        t.arm(
            CallId::from("mid"),
            Timer::Connect,
            Duration::from_millis(30),
        );
        let order = [t.next().await, t.next().await, t.next().await];
        assert_eq!(
            order,
            [
                (CallId::from("soon"), Timer::RemoteEnd),
                (CallId::from("mid"), Timer::Connect),
                (CallId::from("late"), Timer::Ring),
            ]
        );
        // None armed: nothing comes.
        let none = tokio::time::timeout(Duration::from_millis(20), t.next()).await;
        assert!(none.is_err());
    }
}
