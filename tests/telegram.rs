//! The Telegram layer end to end: the real dispatcher, handler tree, engine
//! and store, and teloxide's HTTP client, against a fake Bot API server on
//! 127.0.0.1 (tests/support/fake_bot_api.rs) that records every request.
//!
//! Properties checked:
//! - at start the bot checks its token (getMe), and a rejected token is an
//!   error, not a panic; the command menu is registered in English and
//!   Chinese, with the admin commands only in the admins' chats;
//! - a private question gets the engine's answer in HTML parse mode, the
//!   figure first, the source as a footer;
//! - in a group the bot answers `/ask@bot`, a mention and a reply to its
//!   own message, each as a reply to the asking message, and stays silent
//!   on other chatter and on commands for other bots;
//! - /reload by an admin swaps in a new document, which answers afterwards,
//!   and reports what changed; by a non-admin it is refused and audited;
//! - a broken knowledge file at reload keeps the old answers, and the admin
//!   is told why;
//! - a reload that changes a right figure is refused naming the question;
//!   /reload force then swaps it in and is audited as forced;
//! - a reply over 5,000 characters is split at line breaks into messages
//!   below 4,096 characters, each well-formed HTML;
//! - user text with < > & " is shown escaped;
//! - a 429 with retry_after is waited out, then the reply is sent;
//! - the API unreachable for a while: the bot polls again when it is back
//!   and answers;
//! - a user over the flood limit gets one polite notice, then silence;
//! - /stats (admin) counts the questions served.
//!
//! Broadcasts (the fake server also takes sendPhoto as multipart,
//! getChatMember, answerCallbackQuery, editMessageReplyMarkup, and scripts
//! chats to answer 403, a migration or one 429):
//! - /subscribe in a group by its admin (getChatMember) works, by a plain
//!   member is refused and audited; a private chat subscribes itself; the
//!   bot being kicked (my_chat_member) ends the subscription;
//! - /broadcast 2024 by an admin sends a preview: the chart photo and the
//!   summary, then buttons 确认发送 / 取消; Confirm delivers to every
//!   subscriber with the chart uploaded once; Cancel delivers nothing;
//!   /broadcast status reports the counts; a non-admin is refused;
//!   /broadcast typed in a group previews in the admin's private chat, never
//!   in the group, and when that chat is closed to the bot the group is
//!   told and no job waits;
//! - 1,000 subscribers, some kicked (403), some migrating, some answering
//!   429 once: every active one gets the photo exactly once (a migrated one
//!   at its new id), kicked ones are unsubscribed, and no second at the
//!   fake server holds more sends than the configured global limit;
//! - the bot as a child process (`serve`), stopped with SIGTERM mid-job and
//!   started again: exactly once for all; killed with SIGKILL mid-job and
//!   started again: nobody skipped, duplicates only for the sends that
//!   were in flight (at most `max_in_flight`).
//!
//! The conversation (the fake server checks every text the bot sends
//! against Telegram's HTML rules and limits, and every button's data
//! against 64 bytes; `TestBot::stop` fails on any breach):
//! - a fact answer carries 来源 / 详细 and the neighbouring years as
//!   buttons: Sources shows the document's link and the full sentence,
//!   Details the evidence, a year button that year's figure;
//! - after "no data", and under /summary with no year, the years the
//!   corpus has are buttons;
//! - a follow-up in a private chat ("那2020年呢?", "件数呢?") keeps what it
//!   leaves out; in a group, a reply to the bot's answer follows that
//!   answer; a follow-up with nothing to follow is a question of its own;
//! - a photo's caption is read as a question; a sticker and a voice
//!   message get one notice of what the bot reads (once, not twice);
//!   你好 gets an introduction with example questions as buttons;
//! - an edited question edits the bot's reply; a group message edited to
//!   mention the bot is answered;
//! - an inline query is answered with a result whose title is the figure;
//! - deep links (/start summary_2024, /start ask_…) open the bot on an answer;
//! - a forged or stale button gets a short pop-up and nothing else; a
//!   non-admin pressing a broadcast button gets one refusal (the pop-up).

mod support;

use customs_ip_bot::frontends::telegram::format::is_safe_html;
use customs_ip_bot::frontends::telegram::{self, StartError};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::fake_bot_api::{FakeBotApi, BOT_USERNAME};
use support::*;

const WAIT: Duration = Duration::from_secs(10);
/// A reload builds a generation (every file synced): slow on a slow disk.
const RELOAD_WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_checks_the_token_and_registers_the_commands_in_two_languages() {
    let bot = TestBot::start().await;
    let requests = bot.fake.requests();
    assert_eq!(requests[0].method, "getme");
    let menus: Vec<&Value> = requests
        .iter()
        .filter(|r| r.method == "setmycommands")
        .map(|r| &r.body)
        .collect();
    let public_zh = menus
        .iter()
        .find(|b| b["language_code"] == "zh" && b.get("scope").is_none())
        .expect("a Chinese menu");
    let names: Vec<&str> = public_zh["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "start",
            "help",
            "ask",
            "summary",
            "years",
            "sources",
            "subscribe",
            "unsubscribe"
        ]
    );
    assert!(menus
        .iter()
        .any(|b| b.get("language_code").is_none() && b.get("scope").is_none()));
    let admin_menu = menus
        .iter()
        .find(|b| b["scope"]["chat_id"] == ADMIN)
        .expect("a menu for the admin");
    assert!(admin_menu["commands"].to_string().contains("reload"));
    let engine = bot.engine.clone();
    bot.stop().await;

    // A token Telegram rejects is a clear error.
    let fake = FakeBotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(fake.url(), dir.path(), dir.path(), &Options::default());
    s.token = Some(customs_ip_bot::frontends::config::BotToken::new(
        "999:WRONG",
    ));
    let store = customs_ip_bot::state::audit::Store::connect(None, dir.path())
        .await
        .unwrap();
    let error = telegram::start(&s, engine, store).await.err().unwrap();
    assert!(matches!(error, StartError::TokenRejected), "{error}");
    assert!(!error.to_string().contains("WRONG"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_question_gets_the_figure_first_and_the_source_as_footer() {
    let bot = TestBot::start().await;
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    let reply = bot.fake.wait_for_text(USER, "4.16万批", WAIT).await;
    assert_eq!(reply.body["parse_mode"], "HTML");
    let text = reply.text();
    assert!(
        text.starts_with("<b>") && text.find("4.16万批") < text.find("来源"),
        "{text}"
    );
    // The source's line links to its page.
    assert!(
        text.trim_end()
            .ends_with("来源：《去年全国海关实施知识产权保护措施…次》，法治日报，2025-04-25</a>"),
        "{text}"
    );
    assert!(text.contains("<a href=\"https://legal.gmw.cn/"), "{text}");
    assert!(is_safe_html(text), "{text}");
    // In a private chat too, the answer replies to its question.
    assert!(reply.body["reply_parameters"]["message_id"].is_i64());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_messages_addressed_to_the_bot_are_answered_as_replies() {
    let bot = TestBot::start().await;
    let chatter = group_text(GROUP, USER, "2024年扣留多少批? 大家觉得呢", false);
    let other_bot = group_text(GROUP, USER, "/ask@some_other_bot 2024年扣留多少批?", false);
    let command = group_text(
        GROUP,
        USER,
        &format!("/ask@{BOT_USERNAME} 2024年扣留多少批?"),
        false,
    );
    let mention = group_text(
        GROUP,
        USER,
        &format!("@{BOT_USERNAME} 2020年扣留多少批?"),
        false,
    );
    let reply = group_text(GROUP, USER, "2016年呢？扣留多少批", true);
    let asked = [
        message_id(&command),
        message_id(&mention),
        message_id(&reply),
    ];
    for update in [chatter, other_bot, command, mention, reply] {
        bot.fake.push_update(update);
    }
    let sent = bot
        .fake
        .wait_for_sent(GROUP, 3, "three replies in the group", WAIT)
        .await;
    // Give a stray reply to the chatter time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent_now = bot.fake.sent_to(GROUP);
    assert_eq!(sent_now.len(), 3, "{sent_now:#?}");
    let replied_to: Vec<i64> = sent
        .iter()
        .map(|r| r.body["reply_parameters"]["message_id"].as_i64().unwrap())
        .collect();
    assert_eq!(replied_to, asked);
    assert!(sent[0].text().contains("4.16万批"));
    assert!(sent[1].text().contains("6.19万批"), "{}", sent[1].text());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_by_an_admin_brings_in_a_new_document_that_answers_afterwards() {
    let bot = TestBot::start().await;
    bot.fake
        .push_update(private_text(ADMIN, "2031年扣留多少批?"));
    let before = bot.fake.wait_for_text(ADMIN, "2031", WAIT).await;
    assert!(!before.text().contains("7777"));
    std::fs::write(
        bot.knowledge.join("documents").join("2031-customs-news.txt"),
        "海关总署发布2031年知识产权海关保护情况\n\n本报讯 2031年全国海关共扣留侵权嫌疑货物7777批，涉及侵权嫌疑货物1234.5万件。\n",
    )
    .unwrap();
    bot.fake.push_update(private_text(ADMIN, "/reload"));
    let report = bot
        .fake
        .wait_for_text(ADMIN, "2031-customs-news.txt", RELOAD_WAIT)
        .await;
    assert!(report.text().contains("知识库已更新"), "{}", report.text());
    bot.fake
        .push_update(private_text(ADMIN, "2031年扣留多少批?"));
    bot.fake.wait_for_text(ADMIN, "7777批", WAIT).await;
    let audit = bot.store.recent_audit(10).await.unwrap();
    assert_eq!(audit[0].entry.command, "reload");
    assert_eq!(audit[0].entry.user_id, ADMIN);
    assert!(audit[0].entry.outcome.starts_with("ok:"), "{:?}", audit[0]);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_by_a_non_admin_is_refused_and_audited() {
    let bot = TestBot::start().await;
    let version = bot.engine.snapshot().version.clone();
    bot.fake.push_update(private_text(USER, "/reload"));
    bot.fake.wait_for_text(USER, "管理员", WAIT).await;
    bot.fake.push_update(private_text(USER, "/stats"));
    bot.fake
        .wait_for(WAIT, "two refusals", |rs| {
            (rs.iter()
                .filter(|r| r.chat_id() == Some(USER) && r.text().contains("管理员"))
                .count()
                == 2)
                .then_some(())
        })
        .await;
    let audit = bot.store.recent_audit(10).await.unwrap();
    let commands: Vec<(&str, i64, &str)> = audit
        .iter()
        .map(|a| {
            (
                a.entry.command.as_str(),
                a.entry.user_id,
                a.entry.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        commands,
        [
            ("stats", USER, "refused: not an admin"),
            ("reload", USER, "refused: not an admin")
        ]
    );
    assert_eq!(bot.engine.snapshot().version, version);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_knowledge_file_at_reload_keeps_the_old_answers_and_the_admin_learns_why() {
    let bot = TestBot::start().await;
    let vocabulary = bot.knowledge.join("vocabulary.toml");
    let mut text = std::fs::read_to_string(&vocabulary).unwrap();
    text.push_str("\nmetrics = [\n");
    std::fs::write(&vocabulary, text).unwrap();
    bot.fake.push_update(private_text(ADMIN, "/reload"));
    let refusal = bot.fake.wait_for_text(ADMIN, "没有更新知识库", WAIT).await;
    assert!(
        refusal.text().contains("vocabulary.toml"),
        "{}",
        refusal.text()
    );
    assert!(is_safe_html(refusal.text()));
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    bot.fake.wait_for_text(USER, "4.16万批", WAIT).await;
    let audit = bot.store.recent_audit(1).await.unwrap();
    assert!(
        audit[0].entry.outcome.starts_with("failed:"),
        "{:?}",
        audit[0]
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regressing_reload_is_refused_naming_the_question_and_reload_force_swaps_it_in_audited() {
    let bot = TestBot::start().await;
    let file = bot
        .knowledge
        .join("documents")
        .join("2024-customs-ip-protection-legal-daily.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("4.16万批", "4.61万批")).unwrap();
    bot.fake.push_update(private_text(ADMIN, "/reload"));
    let refusal = bot.fake.wait_for_text(ADMIN, "没有更新知识库", WAIT).await;
    assert!(
        refusal.text().contains("2024年扣留多少批"),
        "{}",
        refusal.text()
    );
    assert!(
        refusal.text().contains("/reload force"),
        "{}",
        refusal.text()
    );
    assert!(is_safe_html(refusal.text()));
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    bot.fake.wait_for_text(USER, "4.16万批", WAIT).await;
    bot.fake.push_update(private_text(ADMIN, "/reload force"));
    let done = bot.fake.wait_for_text(ADMIN, "知识库已更新", WAIT).await;
    assert!(done.text().contains("2024年扣留多少批"), "{}", done.text());
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    bot.fake.wait_for_text(USER, "4.61万批", WAIT).await;
    let audit = bot.store.recent_audit(2).await.unwrap();
    assert_eq!(audit[0].entry.command, "reload");
    assert_eq!(audit[0].entry.args, "/reload force");
    assert!(
        audit[0].entry.outcome.starts_with("ok (forced over"),
        "{:?}",
        audit[0]
    );
    assert!(
        audit[0].entry.outcome.contains("d-fact-01"),
        "{:?}",
        audit[0]
    );
    assert!(
        audit[1].entry.outcome.starts_with("failed:"),
        "{:?}",
        audit[1]
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_5000_characters_is_split_at_line_breaks_into_well_formed_messages() {
    let extra_documents = (0..120)
        .map(|i| {
            (
                format!("extra-{i:03}.txt"),
                format!(
                    "---\ntitle: 第{i}号测试文件：关于知识产权海关保护<执法>&“统计”的一份很长很长很长的报告标题\npublisher: 测试出版社\npublished: 2030-01-01\n---\n海关开展知识产权保护第{i}项工作。\n"
                ),
            )
        })
        .collect();
    let bot = TestBot::start_with(Options {
        extra_documents,
        ..Options::default()
    })
    .await;
    bot.fake.push_update(private_text(USER, "/sources"));
    let sent = bot
        .fake
        .wait_for(WAIT, "the list of sources, complete", |rs| {
            let sent: Vec<_> = rs
                .iter()
                .filter(|r| r.is_message_to(USER))
                .cloned()
                .collect();
            sent.iter()
                .any(|r| r.text().contains("第119号"))
                .then_some(sent)
        })
        .await;
    let total: usize = sent
        .iter()
        .map(|r| visible_text(r.text()).chars().count())
        .sum();
    assert!(total > 5000, "{total}");
    assert!(sent.len() >= 2);
    let mut lines = Vec::new();
    for r in &sent {
        assert!(r.text().encode_utf16().count() < 4096);
        assert!(is_safe_html(r.text()), "{}", r.text());
        assert_eq!(r.body["parse_mode"], "HTML");
        lines.extend(visible_text(r.text()).lines().map(str::to_string));
    }
    // Cut only at line breaks: every document's line arrives whole.
    for i in 0..120 {
        let whole = format!("第{i}号测试文件：关于知识产权海关保护<执法>&“统计”的一份很长很长很长的报告标题, 测试出版社, 2030-01-01");
        assert_eq!(
            lines.iter().filter(|l| l.ends_with(&whole)).count(),
            1,
            "{whole}"
        );
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_text_with_markup_characters_is_shown_escaped() {
    let bot = TestBot::start().await;
    let hostile = "<b>2024</b> & \"x\"";
    bot.fake
        .push_update(private_text(USER, &format!("/summary {hostile}")));
    let reply = bot.fake.wait_for_text(USER, "summary", WAIT).await;
    assert!(is_safe_html(reply.text()), "{}", reply.text());
    assert!(
        reply
            .text()
            .contains("&lt;b&gt;2024&lt;/b&gt; &amp; &quot;x&quot;"),
        "{}",
        reply.text()
    );
    assert!(visible_text(reply.text()).contains(hostile));
    bot.fake.push_update(private_text(
        USER,
        "<script>alert(1)</script> & \"2024年\" 扣留多少批?",
    ));
    bot.fake
        .wait_for_sent(USER, 2, "an answer to the question with markup", WAIT)
        .await;
    for r in bot.fake.sent_to(USER) {
        assert!(is_safe_html(r.text()), "{}", r.text());
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_waited_out_then_the_reply_is_sent() {
    let bot = TestBot::start().await;
    bot.fake.inject_retry_after("sendMessage", 1);
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    let attempts = bot
        .fake
        .wait_for_sent(USER, 2, "a second attempt", WAIT)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.fake.sent_to(USER).len(), 2);
    assert!(attempts[1].text().contains("4.16万批"));
    let waited = attempts[1].at.duration_since(attempts[0].at);
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert_eq!(attempts[0].text(), attempts[1].text());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_api_is_unreachable_for_a_while_the_bot_comes_back_and_answers() {
    let bot = TestBot::start().await;
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    bot.fake.wait_for_text(USER, "4.16万批", WAIT).await;
    bot.fake.go_offline().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    bot.fake.come_back_online().await;
    let back = Instant::now();
    bot.fake
        .push_update(private_text(USER, "2020年扣留多少批?"));
    bot.fake.wait_for_text(USER, "6.19万批", WAIT).await;
    assert!(
        back.elapsed() < Duration::from_secs(5),
        "{:?}",
        back.elapsed()
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_flood_limit_gets_one_polite_notice_then_silence() {
    let bot = TestBot::start_with(Options {
        flood_per_minute: 2,
        ..Options::default()
    })
    .await;
    for _ in 0..5 {
        bot.fake
            .push_update(private_text(USER, "2024年扣留多少批?"));
    }
    bot.fake.wait_for_text(USER, "每分钟最多2条", WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = bot.fake.sent_to(USER);
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert_eq!(
        sent.iter()
            .filter(|r| r.text().contains("4.16万批"))
            .count(),
        2
    );
    // Another user is not affected.
    bot.fake
        .push_update(private_text(ADMIN, "2024年扣留多少批?"));
    bot.fake.wait_for_text(ADMIN, "4.16万批", WAIT).await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_for_an_admin_count_the_questions_served() {
    let bot = TestBot::start().await;
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    bot.fake
        .push_update(private_text(USER, "2031年扣留多少批?"));
    bot.fake
        .wait_for(WAIT, "two answers", |rs| {
            (rs.iter().filter(|r| r.chat_id() == Some(USER)).count() == 2).then_some(())
        })
        .await;
    bot.fake.push_update(private_text(ADMIN, "/stats"));
    let stats = bot.fake.wait_for_text(ADMIN, "运行时间", WAIT).await;
    let text = visible_text(stats.text());
    assert!(text.contains("回答问题：2"), "{text}");
    assert!(text.contains("fact 1") && text.contains("none 1"), "{text}");
    assert!(text.contains("50.0%"), "{text}");
    assert!(
        text.contains(&bot.engine.snapshot().version[..12]),
        "{text}"
    );
    let audit = bot.store.recent_audit(1).await.unwrap();
    assert_eq!(audit[0].entry.command, "stats");
    assert!(audit[0].entry.outcome.starts_with("ok:"));
    bot.stop().await;
}

// ---- Broadcasts.

use customs_ip_bot::domain::model::Language;
use customs_ip_bot::frontends::broadcast::rate::RateLimits;
use customs_ip_bot::frontends::broadcast::{prepare_job, BroadcastSettings};
use customs_ip_bot::state::broadcasts::{BroadcastStore, JobStatus};
use std::collections::HashMap;
use support::fake_bot_api::{ChatScript, Recorded};

async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_in_a_group_needs_a_group_admin_and_the_bots_removal_ends_it() {
    let bot = TestBot::start().await;
    let store = broadcast_store(&bot);
    const GROUP_ADMIN: i64 = 5555;
    bot.fake.set_admin(GROUP, GROUP_ADMIN);

    bot.fake
        .push_update(group_text(GROUP, USER, "/subscribe", false));
    bot.fake.wait_for_text(GROUP, "只有本群管理员", WAIT).await;
    assert!(!store.is_subscribed(GROUP).await.unwrap());
    assert!(bot
        .fake
        .requests()
        .iter()
        .any(|r| r.method == "getchatmember" && r.body["user_id"] == USER));

    bot.fake.push_update(group_text(
        GROUP,
        GROUP_ADMIN,
        &format!("/subscribe@{BOT_USERNAME}"),
        false,
    ));
    bot.fake.wait_for_text(GROUP, "已订阅", WAIT).await;
    assert!(store.is_subscribed(GROUP).await.unwrap());

    // A private chat subscribes itself.
    bot.fake.push_update(private_text(USER, "/subscribe"));
    bot.fake.wait_for_text(USER, "已订阅", WAIT).await;
    assert!(store.is_subscribed(USER).await.unwrap());

    // The bot kicked from the group: the subscription ends.
    bot.fake
        .push_update(bot_membership(GROUP, GROUP_ADMIN, "member", "kicked"));
    wait_until(WAIT, "the kicked group unsubscribed", || async {
        !store.is_subscribed(GROUP).await.unwrap()
    })
    .await;
    assert_eq!(
        store.membership(GROUP).await.unwrap().as_deref(),
        Some("kicked")
    );

    let audit = bot.store.recent_audit(20).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.entry.command == "subscribe" && a.entry.outcome.starts_with("refused")));
    assert!(audit
        .iter()
        .any(|a| a.entry.command == "subscribe" && a.entry.user_id == GROUP_ADMIN));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_preview_then_confirm_delivers_and_cancel_does_not() {
    let bot = TestBot::start().await;
    let store = broadcast_store(&bot);
    let subscribers = [-100_001, -100_002, 31];
    for chat in subscribers {
        store.subscribe(&subscription(chat)).await.unwrap();
    }

    // A non-admin is refused.
    bot.fake.push_update(private_text(USER, "/broadcast 2024"));
    bot.fake.wait_for_text(USER, "管理员", WAIT).await;

    let start = bot.fake.request_count();
    bot.fake.push_update(private_text(ADMIN, "/broadcast 2024"));
    let job = bot
        .fake
        .wait_for(WAIT, "the preview with buttons", |rs| {
            preview_job(rs, ADMIN, start)
        })
        .await;
    let requests = bot.fake.requests_from(start);
    let photo = requests
        .iter()
        .find(|r| r.method == "sendphoto" && r.chat_id() == Some(ADMIN))
        .expect("the preview's photo");
    assert!(
        photo.body["photo"]["upload"].as_u64().unwrap_or(0) > 1000,
        "{}",
        photo.body
    );
    let preview: String = requests
        .iter()
        .filter(|r| r.chat_id() == Some(ADMIN))
        .map(|r| format!("{}{}", r.body["caption"].as_str().unwrap_or(""), r.text()))
        .collect();
    assert!(preview.contains("2024"), "{preview}");
    let buttons = preview_button_texts(&requests);
    assert_eq!(buttons, ["确认发送 / Confirm", "取消 / Cancel"]);
    assert_eq!(
        store.job_state(job).await.unwrap(),
        JobStatus::PendingConfirmation
    );

    // Confirm: delivered to every subscriber, the chart reused by file id.
    bot.fake
        .push_update(button_press(ADMIN, &format!("bc:confirm:{job}")));
    bot.fake
        .wait_for(WAIT, "the photo at every subscriber", |_| {
            let got = bot.fake.photos_received();
            subscribers
                .iter()
                .all(|c| got.get(c) == Some(&1))
                .then_some(())
        })
        .await;
    wait_until(WAIT, "the job done", || async {
        store.job_state(job).await.unwrap() == JobStatus::Done
    })
    .await;
    assert_eq!(bot.fake.uploads(), 1, "the chart is uploaded once");
    let after_confirm = bot.fake.requests();
    assert!(after_confirm
        .iter()
        .any(|r| r.method == "answercallbackquery"));
    assert!(after_confirm
        .iter()
        .any(|r| r.method == "editmessagereplymarkup"));
    let delivered = after_confirm
        .iter()
        .find(|r| r.method == "sendphoto" && r.chat_id() == Some(31))
        .unwrap();
    assert!(delivered.body["photo"].is_string(), "sent by file id");

    // Status.
    bot.fake
        .push_update(private_text(ADMIN, "/broadcast status"));
    bot.fake.wait_for_text(ADMIN, "已发送 3", WAIT).await;

    // Cancel: nothing delivered.
    let start = bot.fake.request_count();
    bot.fake.push_update(private_text(ADMIN, "/broadcast 2024"));
    let second = bot
        .fake
        .wait_for(WAIT, "the second preview", |rs| {
            preview_job(rs, ADMIN, start)
        })
        .await;
    bot.fake
        .push_update(button_press(ADMIN, &format!("bc:cancel:{second}")));
    bot.fake.wait_for_text(ADMIN, "已取消", WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = bot.fake.photos_received();
    assert!(
        subscribers.iter().all(|c| got.get(c) == Some(&1)),
        "{got:?}"
    );
    assert_eq!(store.job_state(second).await.unwrap(), JobStatus::Cancelled);
    let audit = bot.store.recent_audit(20).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.entry.command == "broadcast" && a.entry.outcome.contains("confirmed")));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_typed_in_a_group_previews_privately_and_never_in_the_group() {
    let bot = TestBot::start().await;
    let store = broadcast_store(&bot);
    const GROUP: i64 = -100_777;

    let start = bot.fake.request_count();
    bot.fake
        .push_update(group_text(GROUP, ADMIN, "/broadcast 2024", false));
    let job = bot
        .fake
        .wait_for(WAIT, "the preview in the admin's private chat", |rs| {
            preview_job(rs, ADMIN, start)
        })
        .await;
    bot.fake.wait_for_text(GROUP, "私信", WAIT).await;
    let requests = bot.fake.requests_from(start);
    let in_group: Vec<_> = requests
        .iter()
        .filter(|r| r.chat_id() == Some(GROUP))
        .collect();
    assert!(
        in_group
            .iter()
            .all(|r| r.method == "sendmessage" && r.body["reply_markup"].is_null()),
        "no photo and no buttons in the group: {in_group:?}"
    );
    assert_eq!(
        store.job_state(job).await.unwrap(),
        JobStatus::PendingConfirmation
    );

    // An admin who never opened a private chat (403 there): told in the
    // group, and no job is left waiting.
    bot.fake.script_chat(ADMIN, ChatScript::Kicked);
    bot.fake
        .push_update(group_text(GROUP, ADMIN, "/broadcast 2024", false));
    bot.fake.wait_for_text(GROUP, "/start", WAIT).await;
    let jobs = store.recent_jobs(5).await.unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].status, JobStatus::Cancelled, "{jobs:?}");
    let audit = bot.store.recent_audit(5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.entry.command == "broadcast" && a.entry.outcome.contains("not delivered")),
        "{audit:#?}"
    );
    bot.stop().await;
}

fn preview_button_texts(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .find_map(|r| {
            r.body["reply_markup"]["inline_keyboard"][0]
                .as_array()
                .cloned()
        })
        .unwrap_or_default()
        .iter()
        .map(|b| b["text"].as_str().unwrap_or("").to_string())
        .collect()
}

/// 1,000 chats: every 37th kicked, every 41st migrating, a few answering
/// 429 once. Returns (chats, expected receivers at their final ids).
fn script_population(fake: &FakeBotApi, base: i64) -> (Vec<i64>, Vec<i64>) {
    let mut chats = Vec::new();
    let mut expected = Vec::new();
    for i in 0..1000 {
        let chat = base - i;
        chats.push(chat);
        if i % 37 == 0 {
            fake.script_chat(chat, ChatScript::Kicked);
        } else if i % 41 == 1 {
            let new = base - 500_000 - i;
            fake.script_chat(chat, ChatScript::MigrateTo(new));
            expected.push(new);
        } else {
            if i % 250 == 2 {
                fake.script_chat(chat, ChatScript::RetryAfterOnce(1));
            }
            expected.push(chat);
        }
    }
    (chats, expected)
}

/// A confirmed job of `year`'s seed summary, queued by the admin.
async fn confirmed_job(store: &BroadcastStore, year: u16) -> i64 {
    let job = prepare_job(
        seed_snapshot(),
        year,
        Language::Simplified,
        Some(ADMIN),
        false,
        true,
    )
    .unwrap()
    .unwrap();
    store.create_job(&job).await.unwrap()
}

/// No window of one second at the fake server holds more than `limit` sendPhoto.
fn max_per_second(requests: &[Recorded]) -> usize {
    let mut times: Vec<Instant> = requests
        .iter()
        .filter(|r| r.method == "sendphoto")
        .map(|r| r.at)
        .collect();
    times.sort();
    let mut most = 0;
    let mut j = 0;
    for i in 0..times.len() {
        while times[i].duration_since(times[j]) >= Duration::from_secs(1) {
            j += 1;
        }
        most = most.max(i - j + 1);
    }
    most
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_subscribers_each_active_one_receives_exactly_once_within_the_rate() {
    let mut options = Options::default();
    options.broadcast.delivery.limits = RateLimits {
        global_per_second: 200,
        per_chat_per_minute: 20,
    };
    let bot = TestBot::start_with(options).await;
    let store = broadcast_store(&bot);
    let (chats, expected) = script_population(&bot.fake, -1_000_000);
    for chat in &chats {
        store.subscribe(&subscription(*chat)).await.unwrap();
    }
    let job = confirmed_job(&store, 2024).await;
    let started = Instant::now();
    wait_until(Duration::from_secs(120), "the job done", || async {
        store.job_state(job).await.unwrap() == JobStatus::Done
    })
    .await;
    let took = started.elapsed();
    let got = bot.fake.photos_received();
    for chat in &expected {
        assert_eq!(got.get(chat), Some(&1), "chat {chat}");
    }
    assert_eq!(got.values().sum::<u32>() as usize, expected.len());
    assert!(!store.is_subscribed(-1_000_000).await.unwrap(), "kicked");
    assert!(store.is_subscribed(-1_500_001).await.unwrap(), "migrated");
    assert!(
        !store.is_subscribed(-1_000_001).await.unwrap(),
        "moved away"
    );
    // Counted where Telegram counts them: at arrival, by the server's clock.
    let peak = max_per_second(&bot.fake.requests());
    assert!(peak <= 200, "{peak} sends in one second");
    assert_eq!(bot.fake.uploads(), 1);
    eprintln!("1,000 subscribers in {took:?}, peak {peak}/s");
    bot.stop().await;
}

// ---- The bot as a child process, stopped and killed mid-job.

struct Child {
    process: std::process::Child,
}

impl Child {
    fn spawn(fake: &FakeBotApi, config: &std::path::Path, log: &std::path::Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let process = std::process::Command::new(env!("CARGO_BIN_EXE_customs-ip-bot"))
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env("TELOXIDE_TOKEN", support::fake_bot_api::TOKEN)
            .env("TELOXIDE_API_URL", fake.url().as_str())
            .env("CUSTOMS_IP_BOT_ADMINS", ADMIN.to_string())
            .env_remove("DATABASE_URL")
            .env_remove("CUSTOMS_IP_BOT_CONFIG")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Child { process }
    }

    fn terminate(&mut self) {
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.process.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn wait(mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.process.try_wait().unwrap().is_some() {
                return;
            }
            assert!(Instant::now() < deadline, "the bot did not stop");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn photos_from(fake: &FakeBotApi, start: usize) -> HashMap<i64, u32> {
    let mut counts = HashMap::new();
    for r in fake.requests_from(start) {
        if r.method == "sendphoto" && r.ok {
            *counts.entry(r.chat_id().unwrap_or(0)).or_default() += 1;
        }
    }
    counts
}

async fn wait_for_photos(fake: &FakeBotApi, start: usize, n: usize) {
    fake.wait_for(Duration::from_secs(120), &format!("{n} photos"), |rs| {
        let sent = rs[start.min(rs.len())..]
            .iter()
            .filter(|r| r.method == "sendphoto" && r.ok)
            .count();
        (sent >= n).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_stopped_or_killed_mid_job_resumes_and_nobody_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = dir.path().join("bot.toml");
    let log = dir.path().join("bot.log");
    std::fs::write(
        &config,
        format!(
            "knowledge = {:?}\ndata = {:?}\npoll_timeout_secs = 1\n\
             [broadcast.delivery]\nglobal_per_second = 100\nclaim_lease_seconds = 2\n",
            knowledge.display().to_string(),
            data.display().to_string()
        ),
    )
    .unwrap();
    let fake = FakeBotApi::start().await;
    let store = BroadcastStore::connect(None, &data).await.unwrap();
    let (chats, expected) = script_population(&fake, -3_000_000);
    for chat in &chats {
        store.subscribe(&subscription(*chat)).await.unwrap();
    }
    let max_in_flight = BroadcastSettings::default().delivery.max_in_flight as u32;

    // SIGTERM mid-job, then a restart: exactly once.
    let job = confirmed_job(&store, 2024).await;
    let start = fake.request_count();
    let mut child = Child::spawn(&fake, &config, &log);
    wait_for_photos(&fake, start, 300).await;
    child.terminate();
    child.wait(Duration::from_secs(30)).await;
    let at_stop = photos_from(&fake, start).values().sum::<u32>();
    assert!(
        (at_stop as usize) < expected.len(),
        "stopped mid-job ({at_stop} sent)"
    );
    assert_ne!(store.job_state(job).await.unwrap(), JobStatus::Done);
    let child = Child::spawn(&fake, &config, &log);
    wait_until(Duration::from_secs(120), "the job done", || async {
        store.job_state(job).await.unwrap() == JobStatus::Done
    })
    .await;
    let got = photos_from(&fake, start);
    for chat in &expected {
        assert_eq!(got.get(chat), Some(&1), "chat {chat} after SIGTERM");
    }
    assert_eq!(got.values().sum::<u32>() as usize, expected.len());
    drop(child);

    // SIGKILL mid-job, then a restart: nobody skipped; only the sends in
    // flight at the kill may arrive twice.
    let job = confirmed_job(&store, 2020).await;
    let active: Vec<i64> = store
        .active_subscriptions()
        .await
        .unwrap()
        .iter()
        .map(|s| s.chat_id)
        .collect();
    let start = fake.request_count();
    let mut child = Child::spawn(&fake, &config, &log);
    wait_for_photos(&fake, start, 300).await;
    let _ = child.process.kill();
    child.wait(Duration::from_secs(10)).await;
    let _child = Child::spawn(&fake, &config, &log);
    wait_until(Duration::from_secs(120), "the second job done", || async {
        store.job_state(job).await.unwrap() == JobStatus::Done
    })
    .await;
    let got = photos_from(&fake, start);
    let mut duplicates = 0;
    for chat in &active {
        let n = got.get(chat).copied().unwrap_or(0);
        assert!(n >= 1, "chat {chat} skipped after SIGKILL");
        duplicates += n - 1;
    }
    assert!(
        duplicates <= max_in_flight,
        "{duplicates} duplicates after SIGKILL"
    );
    eprintln!("SIGKILL mid-job: {duplicates} duplicates (at most {max_in_flight})");
}

// ---- The conversation a user expects.

use customs_ip_bot::frontends::telegram::handlers::deep_link_payload;
use serde_json::json;

fn chat_json(chat: i64) -> Value {
    if chat < 0 {
        json!({"id": chat, "type": "supergroup", "title": "IP lawyers"})
    } else {
        json!({"id": chat, "type": "private", "first_name": format!("User{chat}")})
    }
}

fn person(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": format!("User{id}"), "language_code": "zh-hans"})
}

static NEXT_ID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(500_000);

fn fresh_id() -> i64 {
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

/// A message of `from` in `chat` with these fields (text, photo, sticker…).
fn message_with(chat: i64, from: i64, fields: Value) -> Value {
    let mut m = json!({"message_id": fresh_id(), "date": 1_700_000_000,
                       "chat": chat_json(chat), "from": person(from)});
    m.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    json!({ "message": m })
}

/// The same message, edited to say `text`.
fn edited(update: &Value, text: &str) -> Value {
    let mut m = update["message"].clone();
    m["text"] = json!(text);
    m["edit_date"] = json!(1_700_000_050);
    json!({ "edited_message": m })
}

/// A press of a button with `data` under the bot's message `under` in `chat`.
fn press(from: i64, chat: i64, under: i64, data: &str) -> Value {
    json!({"callback_query": {
        "id": format!("cb{}", fresh_id()), "from": person(from), "chat_instance": "ci",
        "data": data,
        "message": {"message_id": under, "date": 1_700_000_000, "chat": chat_json(chat),
                    "from": {"id": support::fake_bot_api::BOT_ID, "is_bot": true,
                             "first_name": "Customs IP", "username": BOT_USERNAME},
                    "text": "answer"}
    }})
}

/// Waits for the `n`-th message to `chat` and returns it with the id the
/// fake gave it (counted from its answers).
async fn nth_message(bot: &TestBot, chat: i64, n: usize) -> Recorded {
    bot.fake
        .wait_for_sent(chat, n, &format!("message {n} to {chat}"), WAIT)
        .await[n - 1]
        .clone()
}

/// The message id the fake gave the `n`-th message (1-based) it received.
async fn id_of_nth_message(bot: &TestBot, chat: i64, n: usize) -> i64 {
    let _ = nth_message(bot, chat, n).await;
    bot.fake.message_ids_sent_to(chat)[n - 1]
}

const MADE_UP_2031: &str = "---\ntitle: 2031年知识产权海关保护情况（虚构测试文件）\npublisher: 测试日报\npublished: 2032-04-20\nurl: https://example.org/news/2031-ip-customs\n---\n（本文件为测试而编写，数字均为虚构。）\n\n2031年全国海关共扣留侵权嫌疑货物7777批，涉及侵权嫌疑货物1234.5万件。\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fact_answer_has_sources_details_and_year_buttons_that_answer() {
    let bot = TestBot::start_with(Options {
        extra_documents: vec![("2031-made-up.txt".into(), MADE_UP_2031.into())],
        ..Options::default()
    })
    .await;
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少批?"));
    let answer = nth_message(&bot, USER, 1).await;
    let answer_id = id_of_nth_message(&bot, USER, 1).await;
    assert!(answer.text().contains("<blockquote>"), "{}", answer.text());
    let labels: Vec<String> = buttons_of(&answer).into_iter().map(|b| b.0).collect();
    assert_eq!(
        labels,
        ["来源", "详细", "2016年", "2020年", "2031年"],
        "{labels:?}"
    );

    // Details: the evidence of the figure.
    bot.fake
        .push_update(press(USER, USER, answer_id, &data_of(&answer, "详细")));
    let details = nth_message(&bot, USER, 2).await;
    assert!(details.text().contains("详细依据"), "{}", details.text());
    assert!(details.text().contains("4.16万批"), "{}", details.text());
    assert_eq!(details.body["reply_parameters"]["message_id"], answer_id);

    // A year button: the same question in 2020.
    bot.fake
        .push_update(press(USER, USER, answer_id, &data_of(&answer, "2020年")));
    let year = nth_message(&bot, USER, 3).await;
    assert!(
        visible_text(year.text()).starts_with("2020年"),
        "{}",
        year.text()
    );
    assert!(year.text().contains("6.19万批"), "{}", year.text());

    // Sources of a document with an address: linked, with the sentence.
    bot.fake
        .push_update(private_text(USER, "2031年扣留多少批?"));
    let made_up = nth_message(&bot, USER, 4).await;
    let made_up_id = id_of_nth_message(&bot, USER, 4).await;
    assert!(made_up.text().contains("7777批"), "{}", made_up.text());
    bot.fake
        .push_update(press(USER, USER, made_up_id, &data_of(&made_up, "来源")));
    let sources = nth_message(&bot, USER, 5).await;
    let text = sources.text();
    assert!(
        text.contains("<a href=\"https://example.org/news/2031-ip-customs\">"),
        "{text}"
    );
    assert!(
        text.contains("2031年全国海关共扣留侵权嫌疑货物7777批，涉及侵权嫌疑货物1234.5万件。"),
        "{text}"
    );
    // Each press was answered once, silently.
    let answered = bot.fake.calls("answercallbackquery");
    assert_eq!(answered.len(), 3);
    assert!(answered.iter().all(|r| r.body.get("text").is_none()));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_data_and_summary_without_a_year_offer_the_years_as_buttons() {
    let bot = TestBot::start().await;
    bot.fake.push_update(private_text(USER, "/summary"));
    let pick = nth_message(&bot, USER, 1).await;
    let pick_id = id_of_nth_message(&bot, USER, 1).await;
    let buttons = buttons_of(&pick);
    let labels: Vec<&str> = buttons.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(labels, ["2016年", "2020年", "2024年"], "{}", pick.text());
    assert!(!pick.text().contains("请给出年份"));
    bot.fake
        .push_update(press(USER, USER, pick_id, &buttons[2].1));
    let summary = nth_message(&bot, USER, 2).await;
    assert!(
        summary.text().contains("2024年知识产权海关保护概况"),
        "{}",
        summary.text()
    );
    // The arithmetic is folded away, not spread over the screen.
    let folded = summary
        .text()
        .split("<blockquote expandable>")
        .nth(1)
        .and_then(|rest| rest.split("</blockquote>").next())
        .unwrap_or("");
    assert!(folded.contains("计算："), "{}", summary.text());
    assert!(!summary
        .text()
        .split("<blockquote")
        .next()
        .unwrap()
        .contains("计算"));

    bot.fake
        .push_update(private_text(USER, "2031年扣留多少批?"));
    let none = nth_message(&bot, USER, 3).await;
    assert!(none.text().contains("没有2031年"), "{}", none.text());
    let labels: Vec<String> = buttons_of(&none).into_iter().map(|b| b.0).collect();
    assert_eq!(labels, ["2016年", "2020年", "2024年"]);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_keep_what_they_leave_out_in_a_private_chat_and_by_reply_in_a_group() {
    let bot = TestBot::start().await;
    bot.fake
        .push_update(private_text(USER, "2024年扣留多少件?"));
    assert!(nth_message(&bot, USER, 1)
        .await
        .text()
        .contains("8160.51万件"));
    bot.fake.push_update(private_text(USER, "那2020年呢?"));
    let follow = nth_message(&bot, USER, 2).await;
    assert!(follow.text().contains("5618.19万件"), "{}", follow.text());
    assert!(
        !follow.text().contains("概况"),
        "not the whole summary: {}",
        follow.text()
    );
    bot.fake.push_update(private_text(USER, "批数呢?"));
    bot.fake.push_update(private_text(USER, "件数呢?"));
    let pieces = nth_message(&bot, USER, 4).await;
    assert!(pieces.text().contains("5618.19万件"), "{}", pieces.text());

    // Nothing to follow: a question of its own (another user's chat).
    bot.fake.push_update(private_text(ADMIN, "那2020年呢?"));
    let alone = nth_message(&bot, ADMIN, 1).await;
    assert!(
        alone.text().contains("2020年知识产权海关保护概况"),
        "{}",
        alone.text()
    );

    // In a group: another member replies to the bot's answer.
    bot.fake.push_update(group_text(
        GROUP,
        USER,
        &format!("/ask@{BOT_USERNAME} 2024年扣留多少件?"),
        false,
    ));
    let _ = nth_message(&bot, GROUP, 1).await;
    let answer_id = id_of_nth_message(&bot, GROUP, 1).await;
    let mut reply = message_with(GROUP, 777, json!({"text": "2020年呢?"}));
    reply["message"]["reply_to_message"] = json!({
        "message_id": answer_id, "date": 1_700_000_000, "chat": chat_json(GROUP),
        "from": {"id": support::fake_bot_api::BOT_ID, "is_bot": true, "first_name": "Customs IP",
                 "username": BOT_USERNAME},
        "text": "2024年全国海关扣留侵权嫌疑货物数量：8160.51万件。"});
    bot.fake.push_update(reply);
    let in_group = nth_message(&bot, GROUP, 2).await;
    assert!(
        in_group.text().contains("5618.19万件"),
        "{}",
        in_group.text()
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_private_message_gets_an_answer_or_one_notice() {
    let bot = TestBot::start().await;
    let photo = json!([{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]);
    bot.fake.push_update(message_with(
        USER,
        USER,
        json!({"photo": photo, "caption": "2020年扣留多少批?"}),
    ));
    let captioned = nth_message(&bot, USER, 1).await;
    assert!(
        captioned.text().contains("6.19万批"),
        "{}",
        captioned.text()
    );

    let sticker = json!({"file_id": "s1", "file_unique_id": "us1", "type": "regular",
                         "width": 512, "height": 512, "is_animated": false, "is_video": false});
    bot.fake
        .push_update(message_with(USER, USER, json!({"sticker": sticker})));
    let notice = nth_message(&bot, USER, 2).await;
    assert!(
        notice.text().contains("我只读文字消息"),
        "{}",
        notice.text()
    );
    let voice = json!({"file_id": "v1", "file_unique_id": "uv1", "duration": 3});
    bot.fake
        .push_update(message_with(USER, USER, json!({"voice": voice})));
    bot.fake
        .push_update(message_with(USER, USER, json!({"photo": photo})));
    bot.fake.push_update(private_text(USER, "你好"));
    let intro = nth_message(&bot, USER, 3).await;
    // The voice message and the bare photo got no second notice.
    assert!(intro.text().contains("你好！"), "{}", intro.text());
    let intro_id = id_of_nth_message(&bot, USER, 3).await;
    let examples = buttons_of(&intro);
    assert_eq!(examples[0].0, "2024年扣留多少批？", "{examples:?}");
    bot.fake
        .push_update(press(USER, USER, intro_id, &examples[0].1));
    assert!(nth_message(&bot, USER, 4).await.text().contains("4.16万批"));
    let notices = bot
        .fake
        .sent_to(USER)
        .iter()
        .filter(|r| r.text().contains("我只读文字消息"))
        .count();
    assert_eq!(notices, 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_question_edits_its_reply() {
    let bot = TestBot::start().await;
    let question = private_text(USER, "2024年扣留多少批?");
    bot.fake.push_update(question.clone());
    let _ = nth_message(&bot, USER, 1).await;
    let reply_id = id_of_nth_message(&bot, USER, 1).await;
    bot.fake.push_update(edited(&question, "2020年扣留多少批?"));
    let edit = bot
        .fake
        .wait_for(WAIT, "the reply edited", |rs| {
            rs.iter().find(|r| r.method == "editmessagetext").cloned()
        })
        .await;
    assert_eq!(edit.body["message_id"], reply_id);
    assert!(edit.text().contains("6.19万批"), "{}", edit.text());
    assert!(
        !buttons_of(&edit).is_empty(),
        "the buttons follow the new answer"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.fake.sent_to(USER).len(), 1, "no second reply");

    // In a group, a message edited to mention the bot is answered.
    let chatter = group_text(GROUP, USER, "2016年扣留多少批?", false);
    bot.fake.push_update(chatter.clone());
    bot.fake.push_update(edited(
        &chatter,
        &format!("@{BOT_USERNAME} 2016年扣留多少批?"),
    ));
    let answered = nth_message(&bot, GROUP, 1).await;
    assert!(
        answered.text().contains("1.74万余批"),
        "{}",
        answered.text()
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_query_is_answered_with_the_figure_and_deep_links_open_answers() {
    let bot = TestBot::start().await;
    bot.fake.push_update(json!({"inline_query": {
        "id": "iq1", "from": person(USER), "query": "2024年扣留多少批", "offset": ""}}));
    let inline = bot
        .fake
        .wait_for(WAIT, "answerInlineQuery", |rs| {
            rs.iter().find(|r| r.method == "answerinlinequery").cloned()
        })
        .await;
    let result = &inline.body["results"][0];
    assert!(
        result["title"].as_str().unwrap().contains("4.16万批"),
        "{result}"
    );
    let message = result["input_message_content"]["message_text"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("4.16万批") && message.contains("来源"),
        "{message}"
    );
    assert!(inline.body["cache_time"].as_u64().unwrap() > 0);
    let start = inline.body["button"]["start_parameter"].as_str().unwrap();
    assert_eq!(
        Some(start.to_string()),
        deep_link_payload("2024年扣留多少批")
    );

    // The deep links.
    bot.fake
        .push_update(private_text(USER, "/start summary_2024"));
    let summary = nth_message(&bot, USER, 1).await;
    assert!(
        summary.text().contains("2024年知识产权海关保护概况"),
        "{}",
        summary.text()
    );
    let ask = deep_link_payload("2020年扣留多少批?").unwrap();
    bot.fake
        .push_update(private_text(USER, &format!("/start {ask}")));
    let asked = nth_message(&bot, USER, 2).await;
    assert!(asked.text().contains("6.19万批"), "{}", asked.text());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_refused_buttons_get_one_pop_up_and_nothing_else() {
    let bot = TestBot::start().await;
    let version: String = bot.engine.snapshot().version.chars().take(8).collect();
    let presses = [
        "not-ours",
        "v1:s:z:00000000:0",
        &format!("v1:s:z:{version}:99999999"),
        "v1:y:z:2024:extra",
        "bc:confirm:1",
    ];
    for data in presses {
        bot.fake.push_update(press(USER, USER, 42, data));
    }
    let answered = bot
        .fake
        .wait_for(WAIT, "five pop-ups", |rs| {
            let calls: Vec<Recorded> = rs
                .iter()
                .filter(|r| r.method == "answercallbackquery")
                .cloned()
                .collect();
            (calls.len() == presses.len()).then_some(calls)
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts: Vec<&str> = answered
        .iter()
        .map(|r| r.body["text"].as_str().unwrap_or(""))
        .collect();
    assert!(texts.iter().all(|t| !t.is_empty()), "{texts:?}");
    assert!(
        texts.contains(&"这个按钮来自更新前的知识库，请重新提问。"),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("管理员")), "{texts:?}");
    assert_eq!(bot.fake.calls("answercallbackquery").len(), presses.len());
    assert!(
        bot.fake.sent_to(USER).is_empty(),
        "a pop-up only, no message"
    );
    bot.stop().await;
}
