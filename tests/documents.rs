//! Keeping the knowledge from Telegram, end to end: the real dispatcher,
//! engine, store and teloxide's client (getFile and the file download
//! included) against the fake Bot API on 127.0.0.1.
//!
//! Properties checked:
//! - an admin sends a document (the DOCX fixture of tests/data/formats):
//!   the preview names its title, date and language, lists its rows with
//!   the headline rows first and the gating answers it adds, under 加入 /
//!   取消; 加入 saves it in knowledge/documents, reloads, and the next
//!   question answers from it; a second press of the same button is stale;
//! - 取消 changes nothing: no file is saved, the answer is as before;
//! - a non-admin's file gets a polite refusal and is never downloaded;
//! - a file over the size limit is refused before getFile;
//! - a file named `../../etc/x.txt` lands inside knowledge/documents;
//! - a file that is not a document (random bytes) is refused with the
//!   reason, and no button is offered;
//! - a document that states another figure for a year shows the conflict
//!   it would add;
//! - /documents lists the documents with their dates and fact counts;
//!   /remove NAME asks for a confirm press, then moves the file to
//!   knowledge/removed and its figures no longer answer;
//! - every step is audited.

mod support;

use std::path::Path;
use std::time::Duration;
use support::fake_bot_api::Recorded;
use support::*;

const WAIT: Duration = Duration::from_secs(60);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/formats")
            .join(name),
    )
    .unwrap()
}

/// Made up: a local news item about a year the seed corpus lacks.
const NEWS_2031: &str = "海关总署发布2031年知识产权海关保护情况\n2032-01-15\n\n\
    本报讯 2031年全国海关共扣留侵权嫌疑货物7777批，涉及侵权嫌疑货物1234.5万件。\n";

fn documents_in(knowledge: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(knowledge.join("documents"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Sends `bytes` as a document named `name` from `from`; the preview (or
/// refusal) the bot answers with.
async fn send_document(
    bot: &TestBot,
    from: i64,
    name: &str,
    bytes: Vec<u8>,
    needle: &str,
) -> Recorded {
    let id = format!("file-{}", name.len() + bytes.len());
    let size = bytes.len() as u64;
    bot.fake.host_file(&id, bytes);
    bot.fake
        .push_update(private_document(from, &id, name, size));
    bot.fake.wait_for_text(from, needle, WAIT).await
}

/// Sends `text` from `from`; the first message to them after it that
/// contains `needle`.
async fn ask(bot: &TestBot, from: i64, text: &str, needle: &str) -> Recorded {
    let start = bot.fake.request_count();
    bot.fake.push_update(private_text(from, text));
    bot.fake
        .wait_for(WAIT, &format!("{needle:?} after {text:?}"), |requests| {
            requests[start.min(requests.len())..]
                .iter()
                .find(|r| r.is_message_to(from) && r.text().contains(needle))
                .cloned()
        })
        .await
}

/// Presses a button; the text of the pop-up that answers it ("" when the
/// press is answered silently).
async fn press(bot: &TestBot, from: i64, data: &str) -> String {
    let start = bot.fake.request_count();
    bot.fake.push_update(button_press(from, data));
    bot.fake
        .wait_for(WAIT, "answerCallbackQuery", |requests| {
            requests[start.min(requests.len())..]
                .iter()
                .find(|r| r.method == "answercallbackquery")
                .map(|r| r.body["text"].as_str().unwrap_or("").to_string())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_docx_is_previewed_with_its_facts_and_add_makes_it_answer() {
    let bot = TestBot::start().await;
    let before = documents_in(&bot.knowledge);
    let preview = send_document(
        &bot,
        ADMIN,
        "2018 年度报告.docx",
        fixture("report.docx"),
        "文件预览",
    )
    .await;
    let text = preview.text().to_string();
    assert!(
        text.contains("将保存为：documents/2018_年度报告.docx"),
        "{text}"
    );
    assert!(text.contains("标题：2018年"), "{text}");
    assert!(text.contains("语言：简体中文"), "{text}");
    let rows = text.find("找到的数据").expect("the rows");
    let batches = text.find("1.88万批").unwrap_or_else(|| panic!("{text}"));
    assert!(batches > rows, "{text}");
    assert!(
        text.contains("新的回答"),
        "the gating answers it adds: {text}"
    );
    assert_eq!(
        documents_in(&bot.knowledge),
        before,
        "nothing saved before Add"
    );
    let add = data_of(&preview, "加入");
    assert!(buttons_of(&preview).iter().any(|(t, _)| t == "取消"));

    bot.fake.push_update(button_press(ADMIN, &add));
    let done = bot.fake.wait_for_text(ADMIN, "已加入", WAIT).await;
    assert!(done.text().contains("知识库已更新"), "{}", done.text());
    assert!(bot.knowledge.join("documents/2018_年度报告.docx").is_file());
    let answer = ask(&bot, ADMIN, "2018年扣留多少批?", "1.88万批").await;
    assert!(answer.text().starts_with("<b>2018"), "{}", answer.text());

    assert!(
        press(&bot, ADMIN, &add).await.contains("已经处理过"),
        "a second press is stale"
    );
    let audit = bot.store.recent_audit(10).await.unwrap();
    let steps: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.entry.command.as_str(), a.entry.outcome.as_str()))
        .collect();
    assert!(
        steps
            .iter()
            .any(|(c, o)| *c == "document" && o.starts_with("ok: previewed")),
        "{steps:?}"
    );
    assert!(
        steps.iter().any(|(c, o)| *c == "document"
            && o.starts_with("ok")
            && o.contains("added 2018_年度报告.docx")),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|(c, o)| *c == "document" && *o == "refused: stale"),
        "{steps:?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_changes_nothing() {
    let bot = TestBot::start().await;
    let before = documents_in(&bot.knowledge);
    let preview = send_document(
        &bot,
        ADMIN,
        "news.txt",
        NEWS_2031.as_bytes().to_vec(),
        "文件预览",
    )
    .await;
    assert!(preview.text().contains("7777批"), "{}", preview.text());
    bot.fake
        .push_update(button_press(ADMIN, &data_of(&preview, "取消")));
    bot.fake.wait_for_text(ADMIN, "已取消", WAIT).await;
    assert_eq!(documents_in(&bot.knowledge), before);
    let answer = ask(&bot, ADMIN, "2031年扣留多少批?", "2031").await;
    assert!(!answer.text().contains("7777"), "{}", answer.text());
    assert!(press(&bot, ADMIN, &data_of(&preview, "加入"))
        .await
        .contains("已经处理过"));
    assert_eq!(documents_in(&bot.knowledge), before);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admins_file_is_refused_politely_and_never_downloaded() {
    let bot = TestBot::start().await;
    let reply = send_document(
        &bot,
        USER,
        "news.txt",
        NEWS_2031.as_bytes().to_vec(),
        "管理员",
    )
    .await;
    assert!(reply.text().contains("谢谢"), "{}", reply.text());
    assert!(buttons_of(&reply).is_empty());
    assert!(bot.fake.calls("getfile").is_empty());
    assert!(bot.fake.calls("download").is_empty());
    let audit = bot.store.recent_audit(1).await.unwrap();
    assert_eq!(
        (
            audit[0].entry.command.as_str(),
            audit[0].entry.user_id,
            audit[0].entry.outcome.as_str()
        ),
        ("document", USER, "refused: not an admin")
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_file_is_refused_before_it_is_downloaded() {
    let bot = TestBot::start_with(Options {
        max_document_bytes: 100,
        ..Options::default()
    })
    .await;
    let reply = send_document(
        &bot,
        ADMIN,
        "big.txt",
        NEWS_2031.repeat(10).into_bytes(),
        "超过上限",
    )
    .await;
    assert!(reply.text().contains("big.txt"), "{}", reply.text());
    assert!(
        bot.fake.calls("getfile").is_empty(),
        "refused before getFile"
    );
    assert!(bot.fake.calls("download").is_empty());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_named_with_a_path_lands_inside_documents() {
    let bot = TestBot::start().await;
    let preview = send_document(
        &bot,
        ADMIN,
        "../../etc/x.txt",
        NEWS_2031.as_bytes().to_vec(),
        "文件预览",
    )
    .await;
    assert!(
        preview.text().contains("documents/x.txt"),
        "{}",
        preview.text()
    );
    bot.fake
        .push_update(button_press(ADMIN, &data_of(&preview, "加入")));
    bot.fake.wait_for_text(ADMIN, "已加入", WAIT).await;
    assert_eq!(
        std::fs::read_to_string(bot.knowledge.join("documents/x.txt")).unwrap(),
        NEWS_2031
    );
    let root = bot.knowledge.parent().unwrap();
    assert!(!root.join("etc").exists() && !bot.knowledge.join("etc").exists());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_are_refused_with_the_reason_and_no_button() {
    let bot = TestBot::start().await;
    let noise: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let reply = send_document(&bot, ADMIN, "scan.txt", noise, "无法读取").await;
    assert!(buttons_of(&reply).is_empty(), "{:?}", buttons_of(&reply));
    let audit = bot.store.recent_audit(1).await.unwrap();
    assert!(
        audit[0].entry.outcome.starts_with("refused:"),
        "{:?}",
        audit[0]
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_with_another_figure_shows_the_conflict_it_would_add() {
    let bot = TestBot::start().await;
    // Made up: a repost that states the seed's 2024 batches differently.
    let repost = "2024年全国海关知识产权保护情况（转载）\n2025-05-02\n\n\
        2024年，全国海关实际扣留侵权嫌疑货物4.61万批、8160.51万件。\n";
    let preview = send_document(
        &bot,
        ADMIN,
        "repost.txt",
        repost.as_bytes().to_vec(),
        "文件预览",
    )
    .await;
    assert!(
        preview.text().contains("将新增的冲突"),
        "{}",
        preview.text()
    );
    assert!(preview.text().contains("4.61万批") && preview.text().contains("4.16万批"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_lists_them_and_remove_takes_one_out_after_its_confirm_press() {
    let bot = TestBot::start_with(Options {
        extra_documents: vec![("2031-news.txt".into(), NEWS_2031.into())],
        ..Options::default()
    })
    .await;
    bot.fake.push_update(private_text(ADMIN, "/documents"));
    let list = bot.fake.wait_for_text(ADMIN, "知识库文件", WAIT).await;
    let line = list
        .text()
        .lines()
        .find(|l| l.contains("2031-news.txt"))
        .unwrap_or_else(|| panic!("{}", list.text()))
        .to_string();
    assert!(
        line.contains("2032-01-15") && line.contains("条数据"),
        "{line}"
    );

    bot.fake
        .push_update(private_text(ADMIN, "/remove 2031-news.txt"));
    let confirm = bot.fake.wait_for_text(ADMIN, "确认移出", WAIT).await;
    assert!(
        bot.knowledge.join("documents/2031-news.txt").is_file(),
        "not before the press"
    );
    bot.fake
        .push_update(button_press(ADMIN, &data_of(&confirm, "移出")));
    bot.fake.wait_for_text(ADMIN, "已移出", WAIT).await;
    assert!(!bot.knowledge.join("documents/2031-news.txt").exists());
    assert!(
        bot.knowledge.join("removed/2031-news.txt").is_file(),
        "kept, not deleted"
    );
    let answer = ask(&bot, ADMIN, "2031年扣留多少批?", "2031").await;
    assert!(!answer.text().contains("7777"), "{}", answer.text());

    bot.fake
        .push_update(private_text(ADMIN, "/remove ../sources.toml"));
    bot.fake.wait_for_text(ADMIN, "没有文件", WAIT).await;
    bot.fake.push_update(private_text(
        USER,
        "/remove 2024-customs-ip-protection-legal-daily.txt",
    ));
    bot.fake.wait_for_text(USER, "只供管理员", WAIT).await;
    let audit = bot.store.recent_audit(10).await.unwrap();
    let commands: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.entry.command.as_str(), a.entry.outcome.as_str()))
        .collect();
    assert!(
        commands.contains(&("remove", "refused: not an admin")),
        "{commands:?}"
    );
    assert!(
        commands.contains(&("remove", "refused: no such document")),
        "{commands:?}"
    );
    assert!(
        commands
            .iter()
            .any(|(c, o)| *c == "document" && o.contains("removed 2031-news.txt")),
        "{commands:?}"
    );
    assert!(
        commands
            .iter()
            .any(|(c, o)| *c == "documents" && o.starts_with("ok")),
        "{commands:?}"
    );
    bot.stop().await;
}
