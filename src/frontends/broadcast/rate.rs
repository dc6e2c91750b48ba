//! rate: "may I send to this chat now, and if not, how long must I wait?"
//! Sliding windows: at most `global_per_second` messages in any second
//! overall and at most `per_chat_per_minute` in any minute to one chat
//! (Telegram's limits for bots: about 30 a second, 20 a minute per group),
//! plus a pause of everything after a 429 until its `retry_after` passes.
//!
//! The limits hold as Telegram sees them, at arrival: a request arrives at
//! some time between its dispatch and its reply, so a send occupies its
//! windows from the moment it is dispatched ([`RateLimiter::start`]) until
//! one window after its reply came back ([`RateLimiter::finish`]). Delays
//! in transit therefore never bunch more than the limit into one second at
//! the server; the cost is one round trip per window of throughput.
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
    /// When sends in flight fill it, the wait is a whole window: a reply
    /// coming back earlier is the moment to ask again.
    Everyone(Duration),
    /// Only this chat waits: its per-minute window is full.
    ThisChat(Duration),
}

/// One window's occupants: sends in flight, and the reply times of sends
/// whose window has not yet passed (in order).
#[derive(Debug, Clone, Default)]
struct Window {
    in_flight: u32,
    replied: VecDeque<Instant>,
}

impl Window {
    /// Drops replies older than `length`; if the window is full, how long
    /// until a place frees (a whole window when only in-flight sends fill
    /// it).
    fn wait(&mut self, limit: u32, length: Duration, now: Instant) -> Option<Duration> {
        while self.replied.front().is_some_and(|&t| t + length <= now) {
            self.replied.pop_front();
        }
        if limit == u32::MAX {
            return None;
        }
        let free = limit.saturating_sub(self.in_flight) as usize;
        if self.replied.len() < free {
            return None;
        }
        if free == 0 {
            return Some(length);
        }
        let oldest = self.replied[self.replied.len() - free];
        Some(oldest + length - now)
    }

    fn finish(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        // Replies come in time order from one loop; keep the deque sorted
        // even if a caller's clock steps back.
        let at = self.replied.back().map_or(now, |&last| last.max(now));
        self.replied.push_back(at);
    }

    fn is_idle(&self, length: Duration, now: Instant) -> bool {
        self.in_flight == 0 && self.replied.back().is_none_or(|&t| t + length <= now)
    }
}

/// Sends in flight and recent replies, within the windows that still matter.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limits: RateLimits,
    global: Window,
    per_chat: HashMap<i64, Window>,
    paused_until: Option<Instant>,
    finishes_since_sweep: usize,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            global: Window::default(),
            per_chat: HashMap::new(),
            paused_until: None,
            finishes_since_sweep: 0,
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
        if let Some(wait) = self.global.wait(self.limits.global_per_second, SECOND, now) {
            return Some(Hold::Everyone(wait));
        }
        let limit = self.limits.per_chat_per_minute;
        self.per_chat
            .get_mut(&chat)
            .and_then(|window| window.wait(limit, MINUTE, now))
            .map(Hold::ThisChat)
    }

    /// How long a message to `chat` must wait from `now` (zero: send now).
    pub fn wait(&mut self, chat: i64, now: Instant) -> Duration {
        match self.hold(chat, now) {
            None => Duration::ZERO,
            Some(Hold::Everyone(d) | Hold::ThisChat(d)) => d,
        }
    }

    /// A message to `chat` is dispatched: it counts from now on.
    pub fn start(&mut self, chat: i64) {
        if self.limits.global_per_second != u32::MAX {
            self.global.in_flight += 1;
        }
        if self.limits.per_chat_per_minute != u32::MAX {
            self.per_chat.entry(chat).or_default().in_flight += 1;
        }
    }

    /// The reply to a message to `chat` came back at `now`: it counts
    /// until one window after.
    pub fn finish(&mut self, chat: i64, now: Instant) {
        if self.limits.global_per_second != u32::MAX {
            self.global.finish(now);
        }
        if self.limits.per_chat_per_minute != u32::MAX {
            if let Some(window) = self.per_chat.get_mut(&chat) {
                window.finish(now);
            }
            self.finishes_since_sweep += 1;
            if self.finishes_since_sweep >= 4096 {
                self.finishes_since_sweep = 0;
                self.per_chat.retain(|_, w| !w.is_idle(MINUTE, now));
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

    impl RateLimiter {
        /// A message dispatched and answered at once.
        fn record(&mut self, chat: i64, now: Instant) {
            self.start(chat);
            self.finish(chat, now);
        }
    }

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
    fn a_send_counts_from_dispatch_until_a_window_after_its_reply() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut limiter = RateLimiter::new(limits(2, 20));
        limiter.start(1);
        limiter.start(2);
        // Both in flight, however long: the window is full.
        assert_eq!(
            limiter.hold(3, start + 5 * SECOND),
            Some(Hold::Everyone(SECOND))
        );
        limiter.finish(1, start + 5 * SECOND);
        assert_eq!(
            limiter.hold(3, start + 5 * SECOND),
            Some(Hold::Everyone(SECOND))
        );
        limiter.finish(2, start + 5 * SECOND + ms(500));
        assert_eq!(
            limiter.hold(3, start + 5 * SECOND + ms(700)),
            Some(Hold::Everyone(ms(300)))
        );
        assert_eq!(limiter.hold(3, start + 6 * SECOND), None);
    }

    /// Sends with random round trips, up to 8 in flight, each arriving at a
    /// random moment between dispatch and reply: no window at the server
    /// ever holds more than the limits.
    #[test]
    fn arrivals_anywhere_between_dispatch_and_reply_never_exceed_the_limits() {
        let start = Instant::now();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut random = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut limiter = RateLimiter::new(limits(30, 3));
        // (reply time, chat) of sends in flight; arrivals per chat.
        let mut in_flight: Vec<(Instant, i64)> = Vec::new();
        let mut arrivals: Vec<Instant> = Vec::new();
        let mut by_chat: HashMap<i64, Vec<Instant>> = HashMap::new();
        let mut now = start;
        let mut next = 0u64;
        while arrivals.len() < 600 {
            in_flight.sort();
            while in_flight.first().is_some_and(|&(t, _)| t <= now) {
                let (t, chat) = in_flight.remove(0);
                limiter.finish(chat, t);
            }
            // Mostly distinct chats, sometimes one of a few busy ones.
            let chat = if random(4) == 0 {
                random(3) as i64
            } else {
                100 + next as i64
            };
            let wait = if in_flight.len() >= 8 {
                Some(Duration::MAX)
            } else {
                match limiter.hold(chat, now) {
                    // The loop sends another chat meanwhile.
                    Some(Hold::ThisChat(_)) => continue,
                    Some(Hold::Everyone(d)) => Some(d),
                    None => None,
                }
            };
            match wait {
                None => {
                    next += 1;
                    limiter.start(chat);
                    let rtt = Duration::from_millis(1 + random(400));
                    let arrival = now + rtt.mul_f64(random(1000) as f64 / 1000.0);
                    arrivals.push(arrival);
                    by_chat.entry(chat).or_default().push(arrival);
                    in_flight.push((now + rtt, chat));
                }
                Some(d) => {
                    let reply = in_flight.iter().map(|&(t, _)| t).min();
                    let step = now
                        .checked_add(d)
                        .map_or(reply, |t| Some(reply.map_or(t, |r| r.min(t))));
                    now = step
                        .expect("something to wait for")
                        .max(now + Duration::from_millis(1));
                }
            }
        }
        arrivals.sort();
        assert!(max_in_window(&arrivals, SECOND) <= 30);
        for times in by_chat.values_mut() {
            times.sort();
            assert!(max_in_window(times, MINUTE) <= 3);
        }
        // The limit is used, not merely respected: well over half of it.
        let took = *arrivals.last().unwrap() - start;
        assert!(took < Duration::from_secs(40), "{took:?}");
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
        assert!(limiter.global.replied.is_empty() && limiter.per_chat.is_empty());
    }

    #[test]
    fn ten_thousand_groups_take_five_and_a_half_minutes_at_telegram_limits() {
        let d = minimum_duration(10_000, RateLimits::default());
        assert_eq!(d, Duration::from_secs(333));
    }
}
