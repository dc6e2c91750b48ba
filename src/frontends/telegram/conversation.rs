//! conversation: "what was said in this chat a moment ago?" The last
//! understood question of each private chat (of each user in a group), and
//! of each answer the bot sent (a reply to it is a follow-up of that
//! question), kept for the configured time (10 minutes by default); which
//! replies answer which question message, so that an edited question edits
//! its reply; when a chat was last told what the bot reads.
//!
//! Invariant: memory only, bounded (old entries are dropped first); no IO.
//! A replica knows only the conversations it served: behind a load
//! balancer a follow-up that reaches another replica is answered as a
//! question of its own.

use crate::domain::understand::Query;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries of each map beyond which the oldest are dropped.
const MAX_ENTRIES: usize = 20_000;

/// How long a reply is remembered for its question's edits.
const EDITS_KEPT: Duration = Duration::from_secs(48 * 3600);

/// How long after a notice of what the bot reads the next one is skipped.
pub const NOTICE_QUIET: Duration = Duration::from_secs(600);

/// A chat, and the user in it (the chat itself in a private chat).
pub type Speaker = (i64, u64);

/// A message of a chat.
pub type MessageKey = (i64, i32);

#[derive(Debug)]
pub struct Conversations {
    follow_up: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    last_question: HashMap<Speaker, (Query, Instant)>,
    by_answer: HashMap<MessageKey, (Query, Instant)>,
    replies: HashMap<MessageKey, (Vec<i32>, Instant)>,
    notified: HashMap<i64, ((), Instant)>,
}

impl Conversations {
    /// Follow-ups are kept `follow_up` long (zero: none).
    pub fn new(follow_up: Duration) -> Conversations {
        Conversations {
            follow_up,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The question a new message follows: the one of the answer it
    /// replies to, else the speaker's last, if recent enough.
    pub fn previous(
        &self,
        speaker: Speaker,
        replied_to: Option<MessageKey>,
        now: Instant,
    ) -> Option<Query> {
        let fresh = |at: &Instant| now.saturating_duration_since(*at) <= self.follow_up;
        if self.follow_up.is_zero() {
            return None;
        }
        let inner = self.lock();
        let by_answer = replied_to
            .and_then(|key| inner.by_answer.get(&key))
            .filter(|(_, at)| fresh(at));
        by_answer
            .or_else(|| {
                inner
                    .last_question
                    .get(&speaker)
                    .filter(|(_, at)| fresh(at))
            })
            .map(|(q, _)| q.clone())
    }

    /// Remembers the question a speaker asked and the answer messages
    /// that replied to their question message.
    pub fn remember(
        &self,
        speaker: Speaker,
        question_message: Option<i32>,
        query: Option<&Query>,
        replies: &[i32],
        now: Instant,
    ) {
        let mut inner = self.lock();
        let chat = speaker.0;
        if let Some(query) = query.filter(|_| !self.follow_up.is_zero()) {
            inner.last_question.insert(speaker, (query.clone(), now));
            for id in replies {
                inner.by_answer.insert((chat, *id), (query.clone(), now));
            }
        }
        if let Some(message) = question_message {
            inner
                .replies
                .insert((chat, message), (replies.to_vec(), now));
        }
        let follow_up = self.follow_up;
        prune(&mut inner.last_question, follow_up, now);
        prune(&mut inner.by_answer, follow_up, now);
        prune(&mut inner.replies, EDITS_KEPT, now);
    }

    /// Forgets a speaker's last question (a question of another kind came).
    pub fn forget(&self, speaker: Speaker) {
        self.lock().last_question.remove(&speaker);
    }

    /// The bot's reply messages to a question message.
    pub fn replies_to(&self, question: MessageKey) -> Option<Vec<i32>> {
        self.lock().replies.get(&question).map(|(r, _)| r.clone())
    }

    /// Whether to tell this chat what the bot reads now (not when it was
    /// told within [`NOTICE_QUIET`]); records the notice.
    pub fn should_notify(&self, chat: i64, now: Instant) -> bool {
        let mut inner = self.lock();
        let recent = inner
            .notified
            .get(&chat)
            .is_some_and(|(_, at)| now.saturating_duration_since(*at) < NOTICE_QUIET);
        if !recent {
            inner.notified.insert(chat, ((), now));
            prune(&mut inner.notified, NOTICE_QUIET, now);
        }
        !recent
    }
}

/// Drops expired entries once the map is large, then the oldest.
fn prune<K: std::hash::Hash + Eq + Clone, V>(
    map: &mut HashMap<K, (V, Instant)>,
    keep: Duration,
    now: Instant,
) {
    if map.len() <= MAX_ENTRIES {
        return;
    }
    map.retain(|_, (_, at)| now.saturating_duration_since(*at) <= keep);
    if map.len() > MAX_ENTRIES {
        let mut times: Vec<Instant> = map.values().map(|(_, at)| *at).collect();
        times.sort();
        let cut = times[map.len() - MAX_ENTRIES / 2];
        map.retain(|_, (_, at)| *at >= cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> Query {
        let v = crate::domain::vocabulary::Vocabulary::parse(include_str!(
            "../../../knowledge/vocabulary.toml"
        ))
        .unwrap();
        crate::domain::understand::understand(text, &v)
    }

    #[test]
    fn a_question_is_followed_for_the_configured_time_only() {
        let c = Conversations::new(Duration::from_secs(600));
        let t = Instant::now();
        c.remember((1, 1), Some(10), Some(&query("2024年扣留多少批")), &[11], t);
        let later = t + Duration::from_secs(599);
        assert!(c.previous((1, 1), None, later).is_some());
        assert!(c
            .previous((1, 1), None, t + Duration::from_secs(601))
            .is_none());
        // Another user of the chat has no previous question, but a reply
        // to the bot's answer follows that answer's question.
        assert!(c.previous((1, 2), None, later).is_none());
        assert!(c.previous((1, 2), Some((1, 11)), later).is_some());
        assert_eq!(c.replies_to((1, 10)), Some(vec![11]));
    }

    #[test]
    fn the_notice_of_what_the_bot_reads_is_given_once_a_while() {
        let c = Conversations::new(Duration::ZERO);
        let t = Instant::now();
        assert!(c.should_notify(5, t));
        assert!(!c.should_notify(5, t + Duration::from_secs(5)));
        assert!(c.should_notify(6, t));
        assert!(c.should_notify(5, t + NOTICE_QUIET));
    }
}
