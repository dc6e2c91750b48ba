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
//! - a reply over 5,000 characters is split at line breaks into messages
//!   below 4,096 characters, each well-formed HTML;
//! - user text with < > & " is shown escaped;
//! - a 429 with retry_after is waited out, then the reply is sent;
//! - the API unreachable for a while: the bot polls again when it is back
//!   and answers;
//! - a user over the flood limit gets one polite notice, then silence;
//! - /stats (admin) counts the questions served.

mod support;

use customs_ip_bot::telegram::{self, StartError};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::fake_bot_api::{FakeBotApi, BOT_USERNAME};
use support::*;

const WAIT: Duration = Duration::from_secs(10);

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
        ["start", "help", "ask", "summary", "years", "sources"]
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
    s.token = Some(customs_ip_bot::config::BotToken::new("999:WRONG"));
    let store = customs_ip_bot::store::Store::connect(None, dir.path())
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
    assert!(text.trim_end().ends_with("</i>"), "{text}");
    assert!(text.contains("<i>来源："), "{text}");
    assert!(is_safe_html(text), "{text}");
    assert!(reply.body.get("reply_parameters").is_none());
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
        .wait_for(WAIT, "three replies in the group", |rs| {
            let sent: Vec<_> = rs
                .iter()
                .filter(|r| r.method == "sendmessage" && r.chat_id() == Some(GROUP))
                .cloned()
                .collect();
            (sent.len() >= 3).then_some(sent)
        })
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
        .wait_for_text(ADMIN, "2031-customs-news.txt", WAIT)
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
                .filter(|r| r.method == "sendmessage" && r.chat_id() == Some(USER))
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
        .wait_for(WAIT, "an answer to the question with markup", |rs| {
            rs.iter()
                .filter(|r| r.method == "sendmessage" && r.chat_id() == Some(USER))
                .nth(1)
                .cloned()
        })
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
        .wait_for(WAIT, "a second attempt", |rs| {
            let sent: Vec<_> = rs
                .iter()
                .filter(|r| r.method == "sendmessage" && r.chat_id() == Some(USER))
                .cloned()
                .collect();
            (sent.len() >= 2).then_some(sent)
        })
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
