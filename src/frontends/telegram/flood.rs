//! flood: "may this user be answered now?" A per-user limit of messages
//! per minute (a fixed one-minute window); the first message over the limit
//! gets a polite notice, the rest of that minute are ignored.
//!
//! Invariant: the clock is an argument; no IO.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodDecision {
    Answer,
    /// Over the limit: send the notice (once per window).
    Notify,
    /// Over the limit, notice already sent: stay silent.
    Ignore,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    count: u32,
    notified: bool,
}

#[derive(Debug)]
pub struct FloodLimit {
    per_minute: u32,
    users: Mutex<HashMap<u64, Window>>,
}

impl FloodLimit {
    /// `per_minute == 0` turns the limit off.
    pub fn new(per_minute: u32) -> FloodLimit {
        FloodLimit {
            per_minute,
            users: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    pub fn check(&self, user: u64, now: Instant) -> FloodDecision {
        if self.per_minute == 0 {
            return FloodDecision::Answer;
        }
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if users.len() > 10_000 {
            users.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let w = users.entry(user).or_insert(Window {
            started: now,
            count: 0,
            notified: false,
        });
        if now.duration_since(w.started) >= WINDOW {
            *w = Window {
                started: now,
                count: 0,
                notified: false,
            };
        }
        w.count += 1;
        if w.count <= self.per_minute {
            FloodDecision::Answer
        } else if !w.notified {
            w.notified = true;
            FloodDecision::Notify
        } else {
            FloodDecision::Ignore
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(limit: u32, sends: &[(u64, u64)], expected: &[FloodDecision]) {
        let flood = FloodLimit::new(limit);
        let start = Instant::now();
        let got: Vec<FloodDecision> = sends
            .iter()
            .map(|&(user, secs)| flood.check(user, start + Duration::from_secs(secs)))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn over_the_limit_one_notice_then_silence_until_the_minute_passes() {
        use FloodDecision::*;
        check(
            2,
            &[(1, 0), (1, 1), (1, 2), (1, 3), (2, 3), (1, 61)],
            &[Answer, Answer, Notify, Ignore, Answer, Answer],
        );
    }

    #[test]
    fn zero_turns_the_limit_off() {
        check(0, &[(1, 0), (1, 0), (1, 0)], &[FloodDecision::Answer; 3]);
    }
}
