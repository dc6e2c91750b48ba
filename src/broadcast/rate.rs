//! rate: "may I send to this chat now, and if not, how long must I wait?"
//! Sliding windows: at most `global_per_second` messages in any second
//! overall and at most `per_chat_per_minute` in any minute to one chat
//! (Telegram's limits for bots: about 30 a second, 20 a minute per group),
//! plus a pause of everything after a 429 until its `retry_after` passes.
//!
//! Invariant: pure and deterministic; the caller passes the time in and
//! does the waiting.

use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The limits, configurable; the defaults are Telegram's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Messages in any one second, all chats together.
    pub global_per_second: u32,
    /// Messages in any one minute to one chat.
    pub per_chat_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            global_per_second: 30,
            per_chat_per_minute: 20,
        }
    }
}

impl RateLimits {
    /// No limit at all (benchmarks of the loop's own overhead).
    pub fn unlimited() -> Self {
        RateLimits {
            global_per_second: u32::MAX,
            per_chat_per_minute: u32::MAX,
        }
    }
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

/// What holds a send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Every chat waits: the global window is full, or a 429 paused sending.
    Everyone(Duration),
    /// Only this chat waits: its per-minute window is full.
    ThisChat(Duration),
}

/// Send times seen so far, within the windows that still matter.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limits: RateLimits,
    global: VecDeque<Instant>,
    per_chat: HashMap<i64, VecDeque<Instant>>,
    paused_until: Option<Instant>,
    records_since_sweep: usize,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            global: VecDeque::new(),
            per_chat: HashMap::new(),
            paused_until: None,
            records_since_sweep: 0,
        }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// None when a message to `chat` may go at `now`; otherwise what holds
    /// it back and for how long.
    pub fn hold(&mut self, chat: i64, now: Instant) -> Option<Hold> {
        if let Some(until) = self.paused_until {
            if until > now {
                return Some(Hold::Everyone(until - now));
            }
            self.paused_until = None;
        }
        if let Some(wait) =
            window_wait(&mut self.global, self.limits.global_per_second, SECOND, now)
        {
            return Some(Hold::Everyone(wait));
        }
        let limit = self.limits.per_chat_per_minute;
        self.per_chat
            .get_mut(&chat)
            .and_then(|times| window_wait(times, limit, MINUTE, now))
            .map(Hold::ThisChat)
    }

    /// How long a message to `chat` must wait from `now` (zero: send now).
    pub fn wait(&mut self, chat: i64, now: Instant) -> Duration {
        match self.hold(chat, now) {
            None => Duration::ZERO,
            Some(Hold::Everyone(d) | Hold::ThisChat(d)) => d,
        }
    }

    /// Notes a message sent to `chat` at `now`.
    pub fn record(&mut self, chat: i64, now: Instant) {
        if self.limits.global_per_second != u32::MAX {
            self.global.push_back(now);
        }
        if self.limits.per_chat_per_minute != u32::MAX {
            self.per_chat.entry(chat).or_default().push_back(now);
            self.records_since_sweep += 1;
            if self.records_since_sweep >= 4096 {
                self.records_since_sweep = 0;
                self.per_chat
                    .retain(|_, times| times.back().is_some_and(|&t| now < t + MINUTE));
            }
        }
    }

    /// A 429 said to wait: nothing goes before `until`.
    pub fn pause_until(&mut self, until: Instant) {
        if self.paused_until.is_none_or(|p| p < until) {
            self.paused_until = Some(until);
        }
    }
}

/// Drops times older than the window; if `limit` remain, how long until
/// the oldest leaves it.
fn window_wait(
    times: &mut VecDeque<Instant>,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    while times.front().is_some_and(|&t| t + window <= now) {
        times.pop_front();
    }
    if limit == u32::MAX || times.len() < limit as usize {
        return None;
    }
    let oldest = times[times.len() - limit as usize];
    Some(oldest + window - now)
}

/// How long `recipients` one-message deliveries take at least at `limits`
/// (each chat gets one message, so only the global limit counts).
pub fn minimum_duration(recipients: u64, limits: RateLimits) -> Duration {
    if recipients == 0 || limits.global_per_second == u32::MAX {
        return Duration::ZERO;
    }
    let per_second = limits.global_per_second.max(1) as u64;
    Duration::from_secs((recipients - 1) / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(global_per_second: u32, per_chat_per_minute: u32) -> RateLimits {
        RateLimits {
            global_per_second,
            per_chat_per_minute,
        }
    }

    /// Sends `chats` in order as early as the limiter allows; returns the
    /// send times.
    fn drive(limiter: &mut RateLimiter, start: Instant, chats: &[i64]) -> Vec<(i64, Instant)> {
        let mut now = start;
        let mut sent = Vec::new();
        for &chat in chats {
            loop {
                let wait = limiter.wait(chat, now);
                if wait.is_zero() {
                    break;
                }
                now += wait;
            }
            limiter.record(chat, now);
            sent.push((chat, now));
        }
        sent
    }

    fn max_in_window(times: &[Instant], window: Duration) -> usize {
        (0..times.len())
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|&&t| t < times[i] + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn global_limit_allows_n_a_second_and_no_more() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(limits(30, 20));
        let chats: Vec<i64> = (0..100).collect();
        let sent = drive(&mut limiter, start, &chats);
        let times: Vec<Instant> = sent.iter().map(|s| s.1).collect();
        assert_eq!(max_in_window(&times, SECOND), 30);
        // The first 30 go at once, the 31st one second later.
        assert_eq!(times[29], start);
        assert_eq!(times[30], start + SECOND);
        assert_eq!(times[99], start + 3 * SECOND);
    }

    #[test]
    fn per_chat_limit_allows_m_a_minute_to_one_chat() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(limits(30, 20));
        let sent = drive(&mut limiter, start, &[7; 45]);
        let times: Vec<Instant> = sent.iter().map(|s| s.1).collect();
        assert_eq!(max_in_window(&times, MINUTE), 20);
        assert_eq!(times[19], start);
        assert_eq!(times[20], start + MINUTE);
        assert_eq!(times[40], start + 2 * MINUTE);
    }

    #[test]
    fn a_full_chat_holds_only_itself() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(limits(1000, 2));
        limiter.record(1, start);
        limiter.record(1, start);
        assert_eq!(
            limiter.hold(1, start + SECOND),
            Some(Hold::ThisChat(MINUTE - SECOND))
        );
        assert_eq!(limiter.hold(2, start + SECOND), None);
    }

    #[test]
    fn a_429_pauses_everyone_until_retry_after() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(RateLimits::default());
        limiter.pause_until(start + Duration::from_secs(5));
        assert_eq!(
            limiter.hold(3, start),
            Some(Hold::Everyone(Duration::from_secs(5)))
        );
        // A shorter pause does not shorten a longer one.
        limiter.pause_until(start + Duration::from_secs(1));
        assert_eq!(
            limiter.wait(4, start + Duration::from_secs(2)),
            Duration::from_secs(3)
        );
        assert_eq!(
            limiter.wait(4, start + Duration::from_secs(5)),
            Duration::ZERO
        );
    }

    #[test]
    fn unlimited_never_waits_and_keeps_nothing() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(RateLimits::unlimited());
        for i in 0..10_000 {
            assert_eq!(limiter.wait(i % 3, start), Duration::ZERO);
            limiter.record(i % 3, start);
        }
        assert!(limiter.global.is_empty() && limiter.per_chat.is_empty());
    }

    #[test]
    fn ten_thousand_groups_take_five_and_a_half_minutes_at_telegram_limits() {
        let d = minimum_duration(10_000, RateLimits::default());
        assert_eq!(d, Duration::from_secs(333));
    }
}
