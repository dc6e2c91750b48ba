//! wording: every sentence the Telegram layer says on its own (help,
//! refusals, notices, reload reports, statistics), in Simplified Chinese and
//! English; Traditional is the Simplified text converted with Taiwan
//! phrasing. Answers to questions are worded by `crate::domain::replies`.
//!
//! Invariant: plain text out (the caller escapes it for HTML); no IO.

use crate::domain::model::{Document, Language};
use crate::domain::replies::in_script;
use crate::knowledge::engine::{ReloadError, ReloadReport};
use crate::knowledge::gating::Change;
use std::time::Duration;

fn zh(language: Language) -> bool {
    language != Language::English
}

fn pick(language: Language, zh_text: String, en_text: String) -> String {
    if zh(language) {
        in_script(zh_text, language)
    } else {
        en_text
    }
}

/// (command, Chinese description, English description), in menu order.
pub const PUBLIC_COMMANDS: &[(&str, &str, &str)] = &[
    ("start", "开始使用", "Start"),
    ("help", "使用说明", "How to use the bot"),
    (
        "ask",
        "提问，例如 /ask 2024年扣留多少批",
        "Ask, e.g. /ask detained batches in 2024",
    ),
    (
        "summary",
        "某年概况，例如 /summary 2024",
        "A year's summary, e.g. /summary 2024",
    ),
    ("years", "有数据的年份", "Years with figures"),
    ("sources", "资料来源", "The documents answers come from"),
    (
        "subscribe",
        "订阅年度摘要（群管理员）",
        "Receive yearly summaries (group admins)",
    ),
    ("unsubscribe", "退订年度摘要", "Stop yearly summaries"),
];

pub const ADMIN_COMMANDS: &[(&str, &str, &str)] = &[
    (
        "reload",
        "重新加载知识库；/reload force 自测变差也更新（管理员）",
        "Reload the knowledge; /reload force swaps it in even if it regresses (admins)",
    ),
    ("stats", "运行统计（管理员）", "Statistics (admins)"),
    (
        "broadcast",
        "广播年度摘要：/broadcast 2024 或 /broadcast status（管理员）",
        "Broadcast a year's summary: /broadcast 2024, /broadcast status (admins)",
    ),
    (
        "documents",
        "知识库里的文件，附日期和数据条数（管理员）",
        "The knowledge's documents, with dates and fact counts (admins)",
    ),
    (
        "remove",
        "移出一个文件：/remove 文件名（管理员，需确认）",
        "Take a document out: /remove NAME (admins, after a confirm button)",
    ),
];

pub fn help(language: Language, is_admin: bool, in_group: bool) -> String {
    let mut zh_text = String::from(
        "我回答关于中国知识产权海关保护的问题，数字精确并注明出处。\n\
         直接发送问题即可，例如：2024年扣留多少批？\n\
         /ask 问题 — 提问\n/summary 年份 — 某年概况\n/years — 有数据的年份\n/sources — 资料来源\n/subscribe、/unsubscribe — 订阅或退订年度概况推送（群组管理员）\n/help — 本说明",
    );
    let mut en_text = String::from(
        "I answer questions about China's customs protection of intellectual property, with exact figures and their sources.\n\
         Just send a question, e.g.: How many batches were detained in 2024?\n\
         /ask QUESTION — ask\n/summary YEAR — a year's summary\n/years — years with figures\n/sources — the documents\n/subscribe, /unsubscribe — receive the yearly summary here, or stop (group admins)\n/help — this help",
    );
    if in_group {
        zh_text.push_str("\n在群组中，请用 /ask、@我 或回复我的消息来提问。");
        en_text.push_str("\nIn a group, use /ask, mention me, or reply to one of my messages.");
    }
    if is_admin {
        zh_text.push_str("\n管理员：/reload — 重新加载知识库；/stats — 运行统计；/broadcast 年份 — 推送某年概况（先预览确认），/broadcast status — 推送进度；/documents — 文件列表；/remove 文件名 — 移出文件；直接发送文件即可预览并加入知识库");
        en_text.push_str("\nAdmins: /reload — reload the knowledge; /stats — statistics; /broadcast YEAR — send a year's summary to subscribers (after a preview), /broadcast status — delivery progress; /documents — the documents; /remove NAME — take one out; send a file to preview it and add it");
    }
    pick(language, zh_text, en_text)
}

pub fn not_an_admin(language: Language) -> String {
    pick(
        language,
        "抱歉，这个命令只供管理员使用。".into(),
        "Sorry, this command is for admins only.".into(),
    )
}

/// /broadcast typed in a group: the preview went to the admin privately.
pub fn preview_sent_privately(language: Language) -> String {
    pick(
        language,
        "预览和确认按钮已私信发给你。".into(),
        "The preview and its buttons were sent to you in a private chat.".into(),
    )
}

/// The admin's private chat could not receive the preview (never started,
/// or blocked the bot); the job was dropped.
pub fn preview_not_delivered(language: Language) -> String {
    pick(
        language,
        "无法私信发送预览：请先在私聊中向我发送 /start，再发送 /broadcast。本次广播未创建。".into(),
        "I could not send you the preview privately: send me /start in a private chat \
         first, then /broadcast again. No broadcast was created."
            .into(),
    )
}

pub fn apology(language: Language) -> String {
    pick(
        language,
        "抱歉，处理这条消息时出错了，请稍后再试。".into(),
        "Sorry, something went wrong with this message. Please try again later.".into(),
    )
}

pub fn flood_notice(language: Language, per_minute: u32) -> String {
    pick(
        language,
        format!("您的消息有点多（每分钟最多{per_minute}条），请稍等一分钟再问。"),
        format!("You are sending messages quickly (at most {per_minute} a minute); please wait a minute before asking again."),
    )
}

pub fn summary_usage(language: Language, given: &str) -> String {
    let given = given.trim();
    if given.is_empty() {
        pick(
            language,
            "请给出年份，例如：/summary 2024".into(),
            "Please give a year, e.g. /summary 2024".into(),
        )
    } else {
        pick(
            language,
            format!("“{given}”不是年份，请这样用：/summary 2024"),
            format!("\"{given}\" is not a year; use it like this: /summary 2024"),
        )
    }
}

pub fn years(language: Language, labels: &[String]) -> String {
    if labels.is_empty() {
        return pick(
            language,
            "知识库里还没有数据。".into(),
            "The knowledge has no figures yet.".into(),
        );
    }
    pick(
        language,
        format!("有数据的年份：{}。", labels.join("、")),
        format!("Years with figures: {}.", labels.join(", ")),
    )
}

pub fn sources(language: Language, documents: &[&Document]) -> String {
    let mut lines = vec![pick(
        language,
        format!("资料来源（{}份文件）：", documents.len()),
        format!("Sources ({} documents):", documents.len()),
    )];
    for (i, d) in documents.iter().enumerate() {
        let mut parts = vec![d.meta.title.clone()];
        parts.extend(d.meta.publisher.clone());
        parts.extend(d.meta.published.clone());
        lines.push(format!("{}. {}", i + 1, parts.join(", ")));
    }
    lines.join("\n")
}

pub fn reload_started(language: Language) -> String {
    pick(
        language,
        "正在重新加载知识库，旧数据在此期间继续回答……".into(),
        "Reloading the knowledge; the current one keeps answering meanwhile…".into(),
    )
}

fn list_or_none(items: &[String], language: Language) -> String {
    if items.is_empty() {
        pick(language, "无".into(), "none".into())
    } else {
        items.join(", ")
    }
}

fn seconds(took: Duration) -> String {
    format!("{:.1}", took.as_secs_f64())
}

pub fn reload_done(language: Language, r: &ReloadReport) -> String {
    let added = list_or_none(&r.documents_added, language);
    let removed = list_or_none(&r.documents_removed, language);
    let mut zh_text = format!(
        "知识库已更新（版本 {}），用时{}秒。\n新增文件：{added}\n删除文件：{removed}\n数据：新增{}条，变更{}条，删除{}条\n冲突：{}处\n自测得分：{:.1}% → {:.1}%",
        short_version(&r.version),
        seconds(r.took),
        r.facts_added,
        r.facts_changed,
        r.facts_removed,
        r.conflicts,
        r.score_before * 100.0,
        r.score_after * 100.0,
    );
    let mut en_text = format!(
        "Knowledge reloaded (version {}) in {} s.\nDocuments added: {added}\nDocuments removed: {removed}\nFacts: {} added, {} changed, {} removed\nConflicts: {}\nSelf-check score: {:.1}% → {:.1}%",
        short_version(&r.version),
        seconds(r.took),
        r.facts_added,
        r.facts_changed,
        r.facts_removed,
        r.conflicts,
        r.score_before * 100.0,
        r.score_after * 100.0,
    );
    if r.forced {
        zh_text.push_str("\n已强制更新，以下自测题变差：");
        en_text.push_str("\nForced: these self-check answers got worse:");
        push_changes(&mut zh_text, &mut en_text, &r.gate.regressions);
    }
    if !r.gate.new_answers.is_empty() {
        zh_text.push_str("\n新的回答：");
        en_text.push_str("\nNew answers:");
        push_changes_with(&mut zh_text, &mut en_text, &r.gate.new_answers, false);
    }
    if !r.gate.changed.is_empty() {
        zh_text.push_str("\n措辞变化的回答：");
        en_text.push_str("\nAnswers reworded:");
        push_changes_with(&mut zh_text, &mut en_text, &r.gate.changed, false);
    }
    if !r.problems.is_empty() {
        zh_text.push_str("\n未能读取的内容：");
        en_text.push_str("\nCould not be read:");
        for p in &r.problems {
            zh_text.push_str(&format!("\n- {p}"));
            en_text.push_str(&format!("\n- {p}"));
        }
    }
    pick(language, zh_text, en_text)
}

/// Each changed gating answer: its question, the old and the new first line.
fn push_changes(zh_text: &mut String, en_text: &mut String, changes: &[Change]) {
    push_changes_with(zh_text, en_text, changes, true);
}

/// Each change; `why`: with the reason the new answer fails (regressions).
fn push_changes_with(zh_text: &mut String, en_text: &mut String, changes: &[Change], why: bool) {
    for c in changes {
        let failure = c.failure.as_deref().filter(|_| why);
        let why_zh = failure.map(|f| format!("（{f}）")).unwrap_or_default();
        let why_en = failure.map(|f| format!(" ({f})")).unwrap_or_default();
        zh_text.push_str(&format!(
            "\n- {}：{} → {}{why_zh}",
            c.question, c.old, c.new
        ));
        en_text.push_str(&format!(
            "\n- {}: {} → {}{why_en}",
            c.question, c.old, c.new
        ));
    }
}

pub fn reload_refused(language: Language, error: &ReloadError) -> String {
    let reason = match error {
        ReloadError::Load(e) => e.to_string(),
        ReloadError::Thread(e) => e.to_string(),
        ReloadError::Regressed(report) => {
            let mut zh_text = format!(
                "新知识库有{}道自测题答错了（当前知识库答对）：",
                report.gate.regressions.len()
            );
            let mut en_text = format!(
                "the new knowledge gets {} self-check answer(s) wrong that the current one gets right:",
                report.gate.regressions.len()
            );
            push_changes(&mut zh_text, &mut en_text, &report.gate.regressions);
            zh_text.push_str("\n确认无误可发送 /reload force 强制更新。");
            en_text.push_str("\nIf that is intended, /reload force swaps it in anyway.");
            pick(language, zh_text, en_text)
        }
        ReloadError::Busy => pick(
            language,
            "已有一次重新加载正在进行".into(),
            "a reload is already running".into(),
        ),
    };
    pick(
        language,
        format!("没有更新知识库，当前数据继续回答。\n原因：{reason}"),
        format!(
            "The knowledge was not replaced; the current one keeps answering.\nReason: {reason}"
        ),
    )
}

/// /summary without a year: above the year buttons.
pub fn summary_pick_year(language: Language, has_years: bool) -> String {
    if !has_years {
        return years(language, &[]);
    }
    pick(language, "请选择年份：".into(), "Pick a year:".into())
}

pub fn button_sources(language: Language) -> String {
    pick(language, "来源".into(), "Sources".into())
}

pub fn button_details(language: Language) -> String {
    pick(language, "详细".into(), "Details".into())
}

/// Above the sources a Sources button shows.
pub fn sources_head(language: Language) -> String {
    pick(
        language,
        "来源和原句：".into(),
        "Sources and the sentences they give:".into(),
    )
}

/// Above the evidence a Details button shows.
pub fn details_head(language: Language) -> String {
    pick(
        language,
        "详细依据：".into(),
        "The evidence in full:".into(),
    )
}

/// A button made before the knowledge was reloaded.
pub fn stale_button(language: Language) -> String {
    pick(
        language,
        "这个按钮来自更新前的知识库，请重新提问。".into(),
        "This button is from before the knowledge was updated; please ask again.".into(),
    )
}

/// A button whose data the bot did not write.
pub fn unknown_button(language: Language) -> String {
    pick(
        language,
        "这个按钮已失效。".into(),
        "This button no longer works.".into(),
    )
}

/// What a private chat is told after a sticker, a voice message, a photo
/// without a caption or a file: what the bot reads.
pub fn what_i_read(language: Language) -> String {
    let zh_text = String::from(
        "我只读文字消息（以及图片的说明文字）。请用文字提问，例如：2024年扣留多少批？",
    );
    let en_text = String::from(
        "I read text messages (and the captions of photos). Please type your question, e.g. How many batches were detained in 2024?",
    );
    pick(language, zh_text, en_text)
}

/// The reply to 你好 / 谢谢: who the bot is, with example questions below.
pub fn intro(language: Language, thanks: bool) -> String {
    let (zh_first, en_first) = if thanks {
        ("不客气！", "You're welcome!")
    } else {
        ("你好！", "Hello!")
    };
    pick(
        language,
        format!("{zh_first}我回答关于中国知识产权海关保护的问题，数字精确并注明出处。可以试试下面的问题，或直接输入你的问题。"),
        format!("{en_first} I answer questions about China's customs protection of intellectual property, with exact figures and their sources. Try one of these, or type your own question."),
    )
}

/// Example questions under the intro, `{year}` being the latest year with
/// a summary: (Chinese, English).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "{year}年扣留多少批？",
        "How many batches were detained in {year}?",
    ),
    (
        "{year}年扣留多少件？",
        "How many pieces were detained in {year}?",
    ),
    ("{year}年概况", "Overview of {year}"),
];

/// Example question `n` about `year`, in the reader's language.
pub fn example(n: usize, year: u16, language: Language) -> Option<String> {
    let (zh_text, en_text) = EXAMPLES.get(n)?;
    let year = year.to_string();
    Some(pick(
        language,
        zh_text.replace("{year}", &year),
        en_text.replace("{year}", &year),
    ))
}

/// Above inline results: opens the bot on the same question.
pub fn open_in_bot(language: Language) -> String {
    pick(language, "在机器人中打开".into(), "Open in the bot".into())
}

/// An inline query with no question yet.
pub fn inline_hint(language: Language) -> String {
    pick(
        language,
        "输入问题，例如：2024年扣留多少批".into(),
        "Type a question, e.g. batches detained in 2024".into(),
    )
}

/// /reload with an argument it does not take.
pub fn reload_usage(language: Language, arg: &str) -> String {
    pick(
        language,
        format!("不认识的参数“{arg}”。用法：/reload，或 /reload force（自测题变差也更新）"),
        format!("Unknown argument \"{arg}\". Usage: /reload, or /reload force (swap in even if self-check answers get worse)"),
    )
}

/// The numbers /stats shows.
#[derive(Debug, Clone, Default)]
pub struct StatsView {
    pub questions: u64,
    pub found: u64,
    pub by_kind: Vec<(String, u64)>,
    pub lifetime_questions: u64,
    pub version: String,
    pub documents: usize,
    pub facts: usize,
    pub uptime: Duration,
}

pub fn stats(language: Language, s: &StatsView) -> String {
    let rate = if s.questions == 0 {
        0.0
    } else {
        s.found as f64 * 100.0 / s.questions as f64
    };
    let kinds: Vec<String> = s.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let kinds = if kinds.is_empty() {
        "-".to_string()
    } else {
        kinds.join(", ")
    };
    let up = uptime(s.uptime);
    pick(
        language,
        format!(
            "运行时间：{up}\n本次启动以来回答问题：{}（累计{}）\n按类型：{kinds}\n找到答案的比例：{rate:.1}%\n知识库版本：{}（{}份文件，{}条数据）",
            s.questions, s.lifetime_questions, short_version(&s.version), s.documents, s.facts
        ),
        format!(
            "Uptime: {up}\nQuestions served since start: {} ({} in all)\nBy kind: {kinds}\nFound rate: {rate:.1}%\nKnowledge version: {} ({} documents, {} facts)",
            s.questions, s.lifetime_questions, short_version(&s.version), s.documents, s.facts
        ),
    )
}

fn uptime(d: Duration) -> String {
    let s = d.as_secs();
    format!(
        "{}d {:02}:{:02}:{:02}",
        s / 86400,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

fn short_version(version: &str) -> &str {
    version.get(..12).unwrap_or(version)
}

// ---- Keeping the knowledge: documents sent to the bot, /documents, /remove.

/// A non-admin sent a file.
pub fn document_not_admin(language: Language) -> String {
    pick(
        language,
        "谢谢！不过只有管理员可以向知识库添加文件。我只读文字消息，请直接用文字提问，例如：2024年扣留多少批？".into(),
        "Thank you! Only the bot's admins can add documents to the knowledge. I read text messages: please type your question, e.g. How many batches were detained in 2024?".into(),
    )
}

/// A file over the size limit, refused before it is downloaded.
pub fn document_too_large(language: Language, name: &str, size: u64, limit: u64) -> String {
    let mb = |b: u64| format!("{:.1}", b as f64 / 1_048_576.0);
    pick(
        language,
        format!(
            "文件 {name} 有 {} MB，超过上限 {} MB，没有下载。",
            mb(size),
            mb(limit)
        ),
        format!(
            "{name} is {} MB, over the limit of {} MB; it was not downloaded.",
            mb(size),
            mb(limit)
        ),
    )
}

/// A file that is not a document the bot reads.
pub fn document_unreadable(language: Language, reason: &str) -> String {
    pick(
        language,
        format!("无法读取这个文件：{reason}\n支持的格式：UTF-8/UTF-16/GB18030/Big5 文本、Markdown、HTML 网页、DOCX、PDF。知识库没有改变。"),
        format!("This file cannot be read: {reason}\nFormats read: text in UTF-8, UTF-16, GB18030 or Big5, Markdown, HTML pages, DOCX, PDF. The knowledge is unchanged."),
    )
}

/// The preview of a document sent: what it is, its rows, its conflicts,
/// what it changes in the self-check answers.
pub fn document_preview(language: Language, sent: &str, p: &PreviewText) -> String {
    let meta = &p.meta;
    let unknown = || pick(language, "未知".into(), "unknown".into());
    let mut zh_text = format!(
        "文件预览：{sent}\n将保存为：documents/{}\n标题：{}\n发布者：{}\n日期：{}\n语言：{}\n\n找到的数据：{}条（其中全国总数{}条）",
        p.file,
        meta.title,
        meta.publisher.clone().unwrap_or_else(unknown),
        meta.published.clone().unwrap_or_else(unknown),
        language_name(meta.language, Language::Simplified),
        p.facts_total,
        p.headline,
    );
    let mut en_text = format!(
        "Preview of {sent}\nTo be saved as: documents/{}\nTitle: {}\nPublisher: {}\nDate: {}\nLanguage: {}\n\nFacts found: {} ({} of them nationwide totals)",
        p.file,
        meta.title,
        meta.publisher.clone().unwrap_or_else(unknown),
        meta.published.clone().unwrap_or_else(unknown),
        language_name(meta.language, Language::English),
        p.facts_total,
        p.headline,
    );
    push_lines(&mut zh_text, &mut en_text, &p.facts);
    if p.facts_total > p.facts.len() {
        let more = p.facts_total - p.facts.len();
        zh_text.push_str(&format!("\n- ……另有{more}条"));
        en_text.push_str(&format!("\n- … and {more} more"));
    }
    push_preview_tail(&mut zh_text, &mut en_text, p);
    zh_text.push_str("\n\n按“加入”保存并重新加载知识库，或按“取消”。");
    en_text.push_str("\n\nPress Add to save it and reload the knowledge, or Cancel.");
    pick(language, zh_text, en_text)
}

/// The confirm message of /remove NAME.
pub fn removal_preview(language: Language, p: &PreviewText) -> String {
    let mut zh_text = format!(
        "确认移出 documents/{}？\n标题：{}\n它给出的数据：{}条（其中全国总数{}条）",
        p.file, p.meta.title, p.facts_total, p.headline
    );
    let mut en_text = format!(
        "Take documents/{} out?\nTitle: {}\nIts facts: {} ({} of them nationwide totals)",
        p.file, p.meta.title, p.facts_total, p.headline
    );
    push_lines(&mut zh_text, &mut en_text, &p.facts);
    push_preview_tail(&mut zh_text, &mut en_text, p);
    zh_text.push_str("\n\n文件会移到知识库的 removed 文件夹，不会删除。");
    en_text.push_str("\n\nThe file is moved to the knowledge folder's removed/, not deleted.");
    pick(language, zh_text, en_text)
}

/// What a preview shows, worded already: the rows and conflicts as lines.
#[derive(Debug, Clone)]
pub struct PreviewText {
    pub file: String,
    pub meta: crate::domain::model::DocumentMeta,
    /// The first rows, worded; `facts_total` counts them all.
    pub facts: Vec<String>,
    pub facts_total: usize,
    pub headline: usize,
    pub conflicts: Vec<String>,
    pub gate: crate::knowledge::gating::GateReport,
    pub notes: Vec<String>,
}

fn push_lines(zh_text: &mut String, en_text: &mut String, lines: &[String]) {
    for l in lines {
        zh_text.push_str(&format!("\n- {l}"));
        en_text.push_str(&format!("\n- {l}"));
    }
}

/// Conflicts, self-check changes and reading notes of a preview.
fn push_preview_tail(zh_text: &mut String, en_text: &mut String, p: &PreviewText) {
    if !p.conflicts.is_empty() {
        zh_text.push_str("\n\n将新增的冲突：");
        en_text.push_str("\n\nConflicts it adds:");
        push_lines(zh_text, en_text, &p.conflicts);
    }
    let g = &p.gate;
    if g.regressions.is_empty() && g.new_answers.is_empty() && g.changed.is_empty() {
        zh_text.push_str("\n\n自测题的回答：没有变化。");
        en_text.push_str("\n\nSelf-check answers: unchanged.");
    }
    if !g.regressions.is_empty() {
        zh_text.push_str("\n\n会变差的自测题（按“仍然加入”才会更新）：");
        en_text.push_str("\n\nSelf-check answers that get worse (only “Add anyway” swaps it in):");
        push_changes(zh_text, en_text, &g.regressions);
    }
    if !g.new_answers.is_empty() {
        zh_text.push_str("\n\n新的回答：");
        en_text.push_str("\n\nNew answers:");
        push_changes_with(zh_text, en_text, &g.new_answers, false);
    }
    if !g.changed.is_empty() {
        zh_text.push_str("\n\n措辞变化的回答：");
        en_text.push_str("\n\nAnswers reworded:");
        push_changes_with(zh_text, en_text, &g.changed, false);
    }
    if !p.notes.is_empty() {
        zh_text.push_str("\n\n读取提示：");
        en_text.push_str("\n\nNotes on reading it:");
        push_lines(zh_text, en_text, &p.notes);
    }
}

fn language_name(language: Language, reader: Language) -> &'static str {
    match (language, reader == Language::English) {
        (Language::Simplified, false) => "简体中文",
        (Language::Traditional, false) => "繁体中文",
        (Language::English, false) => "英文",
        (Language::Simplified, true) => "Simplified Chinese",
        (Language::Traditional, true) => "Traditional Chinese",
        (Language::English, true) => "English",
    }
}

/// The buttons under a preview: (add, cancel) labels.
pub fn document_buttons(language: Language, removal: bool, regresses: bool) -> (String, String) {
    let (zh_go, en_go) = match (removal, regresses) {
        (false, false) => ("加入", "Add"),
        (false, true) => ("仍然加入", "Add anyway"),
        (true, false) => ("移出", "Remove"),
        (true, true) => ("仍然移出", "Remove anyway"),
    };
    let go = pick(language, zh_go.into(), en_go.into());
    let cancel = pick(language, "取消".into(), "Cancel".into());
    (go, cancel)
}

/// The document was saved and the knowledge reloaded.
pub fn document_added(language: Language, file: &str, report: &ReloadReport) -> String {
    let head = pick(
        language,
        format!("已加入 documents/{file}。"),
        format!("Added documents/{file}."),
    );
    format!("{head}\n{}", reload_done(language, report))
}

/// The document was taken out and the knowledge reloaded.
pub fn document_removed(language: Language, file: &str, report: &ReloadReport) -> String {
    let head = pick(
        language,
        format!("已移出 documents/{file}（文件在 removed 文件夹）。"),
        format!("Took documents/{file} out (the file is in removed/)."),
    );
    format!("{head}\n{}", reload_done(language, report))
}

/// The reload after Add or Remove was refused: the folder is as before.
pub fn document_change_undone(language: Language, removal: bool, e: &ReloadError) -> String {
    let head = match removal {
        false => pick(
            language,
            "文件没有加入：".into(),
            "The document was not added:".into(),
        ),
        true => pick(
            language,
            "文件没有移出：".into(),
            "The document was not taken out:".into(),
        ),
    };
    format!("{head}\n{}", reload_refused(language, e))
}

/// The folder could not be changed (a disk error, say).
pub fn document_failed(language: Language, reason: &str) -> String {
    pick(
        language,
        format!("无法修改知识库文件夹：{reason}。知识库没有改变。"),
        format!("The knowledge folder could not be changed: {reason}. The knowledge is unchanged."),
    )
}

pub fn document_cancelled(language: Language) -> String {
    pick(
        language,
        "已取消，知识库没有改变。".into(),
        "Cancelled; the knowledge is unchanged.".into(),
    )
}

/// A preview's button pressed twice, or after an hour.
pub fn document_stale(language: Language) -> String {
    pick(
        language,
        "这个预览已经处理过或已过期，请重新发送文件或命令。".into(),
        "This preview was already acted on or has expired; send the file or command again.".into(),
    )
}

/// /documents: each document with its date and how many rows it gives.
pub fn documents_list(
    language: Language,
    documents: &[(String, String, Option<String>, usize)],
) -> String {
    let mut zh_text = format!("知识库文件（{}份）：", documents.len());
    let mut en_text = format!("Documents ({}):", documents.len());
    for (i, (file, title, date, facts)) in documents.iter().enumerate() {
        let date = date.clone().unwrap_or_else(|| "—".into());
        zh_text.push_str(&format!(
            "\n{}. {file} — {title}，{date}，{facts}条数据",
            i + 1
        ));
        en_text.push_str(&format!(
            "\n{}. {file} — {title}, {date}, {facts} facts",
            i + 1
        ));
    }
    zh_text.push_str("\n移出文件：/remove 文件名");
    en_text.push_str("\nTo take one out: /remove NAME");
    pick(language, zh_text, en_text)
}

pub fn remove_usage(language: Language) -> String {
    pick(
        language,
        "用法：/remove 文件名（文件名见 /documents）".into(),
        "Usage: /remove NAME (the names are in /documents)".into(),
    )
}

pub fn no_such_document(language: Language, name: &str) -> String {
    pick(
        language,
        format!("知识库里没有文件 {name}，请用 /documents 查看文件名。"),
        format!("There is no document {name}; /documents lists the names."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_readers_get_traditional_wording() {
        let text = not_an_admin(Language::Traditional);
        assert!(text.contains("這個") || text.contains("管理員"), "{text}");
        assert!(not_an_admin(Language::English).contains("admins only"));
    }

    #[test]
    fn summary_usage_quotes_what_was_given() {
        assert!(summary_usage(Language::English, "abc").contains("\"abc\""));
        assert!(summary_usage(Language::Simplified, "").contains("/summary 2024"));
    }
}
