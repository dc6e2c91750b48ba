//! small_talk: "is this message a greeting or thanks rather than a
//! question?" A message made only of the vocabulary's greeting and thanks
//! words (and of punctuation, spaces and emoji) is small talk; one word of
//! anything else, or a digit, makes it a question.
//!
//! Invariant: pure; the words come from the vocabulary.

use crate::domain::vocabulary::{find_words, Vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalk {
    Greeting,
    Thanks,
}

pub fn small_talk(text: &str, vocabulary: &Vocabulary) -> Option<SmallTalk> {
    let text = vocabulary.normalize(text);
    if text.chars().any(|c| c.is_ascii_digit()) || text.chars().count() > 40 {
        return None;
    }
    let words = &vocabulary.question;
    let all: Vec<&str> = words
        .greetings
        .iter()
        .chain(&words.thanks)
        .map(String::as_str)
        .collect();
    let hits = find_words(&text, all.iter().copied());
    let mut covered = vec![false; text.len()];
    for &(start, end, _) in &hits {
        covered[start..end].iter_mut().for_each(|c| *c = true);
    }
    let left_over = text
        .char_indices()
        .any(|(i, c)| !covered[i] && c.is_alphanumeric());
    if hits.is_empty() || left_over {
        return None;
    }
    let thanks = hits.iter().any(|&(_, _, i)| {
        i >= words.greetings.len() && is_thanks_word(&words.thanks[i - words.greetings.len()])
    });
    let greeting = hits.iter().any(|&(_, _, i)| i < words.greetings.len());
    match (greeting, thanks) {
        (true, _) => Some(SmallTalk::Greeting),
        (false, true) => Some(SmallTalk::Thanks),
        // Only words that go with thanks (你, 很): not enough.
        (false, false) => None,
    }
}

/// The words of the thanks list that thank on their own (not 你, 很).
fn is_thanks_word(word: &str) -> bool {
    word.chars().count() >= 2 || !word.chars().all(crate::domain::normalize::is_han)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<SmallTalk>) {
        let v = Vocabulary::parse(include_str!("../../knowledge/vocabulary.toml")).unwrap();
        assert_eq!(small_talk(text, &v), expected, "{text}");
    }

    #[test]
    fn greetings_and_thanks_are_told_from_questions() {
        check("你好", Some(SmallTalk::Greeting));
        check("您好！🙂", Some(SmallTalk::Greeting));
        check("Hi bot", Some(SmallTalk::Greeting));
        check("谢谢", Some(SmallTalk::Thanks));
        check("Thank you so much!", Some(SmallTalk::Thanks));
        check("非常感谢你", Some(SmallTalk::Thanks));
        check("你好，2024年扣留多少批？", None);
        check("你好，什么是龙腾行动", None);
        check("hello world", None);
        check("你", None);
    }
}
