//! Document formats and encodings, end to end through the knowledge loader
//! and the engine. The fixtures in tests/data/formats are one made-up report
//! (fictional figures, a year per fixture) converted by make_fixtures.py.
//!
//! Properties checked here:
//! - a GB18030, Big5, UTF-16LE (BOM), UTF-16BE (BOM), UTF-8 (BOM),
//!   Markdown, HTML (UTF-8, and GBK declared by `<meta charset>`), DOCX and
//!   PDF (embedded CJK font) file each answers its year's detained
//!   batches, pieces and protection measures, cited to its own sentence
//!   and its own title;
//! - a portal page gives its article only: nothing of its scripts,
//!   navigation, share bars, related-news list, link sidebar or footer is
//!   passage text or a fact; its title without the site name, its `<meta>`
//!   date and its canonical address are the document's metadata;
//! - a PDF paragraph's lines are joined without a space, so a figure cut
//!   across two lines reads whole;
//! - a binary file, an empty file, random bytes and a truncated PDF are
//!   each reported with their path and reason, and everything else loads;
//! - a `url` in sources.toml or in front matter reaches the `sources` of
//!   `ask --json`;
//! - front matter whose `---` is never closed is a warning naming the
//!   path, its text is read as body and no key line becomes the title;
//! - a metric id given twice in the vocabulary stops the load, naming the
//!   file and both lines.

mod support;

use customs_ip_bot::domain::model::{AnswerKind, PeriodKind, Scope};
use customs_ip_bot::knowledge::files::{self as knowledge, KnowledgeFiles};
use customs_ip_bot::knowledge::snapshot::Snapshot;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;
use support::copy_knowledge;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats")
}

/// Every fixture, good and bad, with its year (None: to be refused).
const FIXTURES: &[(&str, Option<u16>)] = &[
    ("gb18030.txt", Some(2011)),
    ("big5.txt", Some(2012)),
    ("utf16le.txt", Some(2013)),
    ("utf16be.txt", Some(2014)),
    ("utf8-bom.txt", Some(2015)),
    ("page.html", Some(2017)),
    ("page-gbk.html", Some(2010)),
    ("report.docx", Some(2018)),
    ("report.pdf", Some(2019)),
    ("notes.md", Some(2022)),
    ("bad/binary.bin", None),
    ("bad/empty.txt", None),
    ("bad/random.txt", None),
    ("bad/truncated.pdf", None),
];

/// The project's knowledge with every fixture dropped into documents/,
/// loaded and built once.
fn loaded() -> &'static (KnowledgeFiles, Snapshot) {
    static LOADED: OnceLock<(KnowledgeFiles, Snapshot)> = OnceLock::new();
    LOADED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let knowledge = copy_knowledge(dir.path());
        for (fixture, _) in FIXTURES {
            let name = Path::new(fixture).file_name().unwrap();
            std::fs::copy(
                fixtures().join(fixture),
                knowledge.join("documents").join(name),
            )
            .unwrap();
        }
        let files = knowledge::load(&knowledge).unwrap();
        let snapshot = Snapshot::build_in_memory(&files).unwrap();
        (files, snapshot)
    })
}

/// The figures make_fixtures.py gives each year: measures 万次, batches
/// 万批, pieces 万件.
fn figures(year: u16) -> (&'static str, &'static str, &'static str) {
    match year {
        2010 => ("1.11", "1.02", "2101.5"),
        2011 => ("1.23", "1.15", "2210.34"),
        2012 => ("1.31", "1.24", "2322.4"),
        2013 => ("1.42", "1.33", "2433.56"),
        2014 => ("1.53", "1.47", "2544.6"),
        2015 => ("1.64", "1.58", "2655.7"),
        2017 => ("1.86", "1.79", "2877.9"),
        2018 => ("1.97", "1.88", "2988.1"),
        2019 => ("2.08", "1.99", "3099.2"),
        2022 => ("2.31", "2.22", "3311.4"),
        _ => unreachable!("no fixture for {year}"),
    }
}

fn wan(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap() * Decimal::from(10_000)
}

/// The fixture answers its year's three headline figures, each a
/// nationwide full-year row of that document, and the question names it.
fn answers_its_figures(file: &str) {
    let (_, snapshot) = loaded();
    let year = FIXTURES
        .iter()
        .find(|(f, _)| f.ends_with(file))
        .and_then(|(_, y)| *y)
        .unwrap();
    let doc = snapshot
        .documents
        .iter()
        .position(|d| d.file == file)
        .unwrap_or_else(|| panic!("{file} was not loaded: {:#?}", snapshot.problems));
    let (measures, batches, pieces) = figures(year);
    for (metric, value) in [
        ("protection_measures", measures),
        ("detained_batches", batches),
        ("detained_pieces", pieces),
    ] {
        let found = snapshot.facts.iter().any(|f| {
            f.doc == doc
                && f.period.year == year
                && f.period.kind == PeriodKind::Year
                && f.scope == Scope::Nationwide
                && f.metric == metric
                && f.dims.is_empty()
                && f.value == wan(value)
        });
        assert!(found, "{file}: no {year} {metric} = {value}万");
    }
    let answer = snapshot.answer(&format!("{year}年扣留多少批?"));
    assert_eq!(answer.kind, AnswerKind::Fact, "{file}: {}", answer.answer);
    assert!(
        answer.answer.starts_with(&year.to_string()),
        "{}",
        answer.answer
    );
    assert!(
        answer.answer.contains(&format!("{batches}万批")),
        "{}",
        answer.answer
    );
    let title = &snapshot.documents[doc].meta.title;
    assert!(
        title.starts_with(&format!("{year}年")),
        "{file}: title {title:?}"
    );
    assert_eq!(answer.sources[0].title, *title, "{file}");
}

#[test]
fn gb18030_text_answers_its_figures() {
    answers_its_figures("gb18030.txt");
}

#[test]
fn big5_text_answers_its_figures() {
    answers_its_figures("big5.txt");
}

#[test]
fn utf16le_text_with_bom_answers_its_figures() {
    answers_its_figures("utf16le.txt");
}

#[test]
fn utf16be_text_with_bom_answers_its_figures() {
    answers_its_figures("utf16be.txt");
}

#[test]
fn utf8_text_with_bom_answers_its_figures() {
    answers_its_figures("utf8-bom.txt");
}

#[test]
fn markdown_answers_its_figures_without_its_markup() {
    answers_its_figures("notes.md");
    let (_, snapshot) = loaded();
    let doc = snapshot
        .documents
        .iter()
        .position(|d| d.file == "notes.md")
        .unwrap();
    let text = passages_of(snapshot, doc);
    assert!(text.contains("2022年，全国海关共实施"), "{text}");
    for markup in ["**", "](", "https://", "# "] {
        assert!(!text.contains(markup), "{markup:?} in {text}");
    }
}

#[test]
fn docx_answers_its_figures_with_its_runs_joined() {
    answers_its_figures("report.docx");
    let (_, snapshot) = loaded();
    let doc = snapshot
        .documents
        .iter()
        .position(|d| d.file == "report.docx")
        .unwrap();
    assert!(passages_of(snapshot, doc).contains("实际扣留侵权嫌疑货物1.88万批、2988.1万件"));
}

#[test]
fn pdf_with_an_embedded_cjk_font_answers_its_figures_with_lines_joined() {
    answers_its_figures("report.pdf");
    let (_, snapshot) = loaded();
    let doc = snapshot
        .documents
        .iter()
        .position(|d| d.file == "report.pdf")
        .unwrap();
    let text = passages_of(snapshot, doc);
    // The fixture cuts this sentence after 1.9 and 全年共.
    assert!(
        text.contains(
            "全年共实施知识产权保护措施2.08万次，实际扣留侵权嫌疑货物1.99万批、3099.2万件。"
        ),
        "{text}"
    );
    assert!(
        !text.contains("权 "),
        "a space between CJK characters: {text}"
    );
}

#[test]
fn a_portal_page_answers_from_its_article_only() {
    for file in ["page.html", "page-gbk.html"] {
        answers_its_figures(file);
        let (_, snapshot) = loaded();
        let doc = snapshot
            .documents
            .iter()
            .position(|d| d.file == file)
            .unwrap();
        let text = passages_of(snapshot, doc);
        // Figures that stand in the script, the description, the related
        // news, the sidebar; words of the navigation, share bars, footer.
        for furniture in [
            "6.66万",
            "9.99万",
            "8.88万",
            "8.77万",
            "7.77万",
            "热点排行",
            "相关新闻",
            "首页",
            "分享",
            "微博",
            "朋友圈",
            "关于我们",
            "ICP",
            "Copyright",
            "跨境电商渠道查扣",
        ] {
            assert!(!text.contains(furniture), "{file}: {furniture:?} in {text}");
        }
        let wrong: Vec<_> = snapshot
            .facts
            .iter()
            .filter(|f| {
                f.doc == doc
                    && ["6.66万", "8.88万", "8.77万", "7.77万", "9.99万"]
                        .iter()
                        .any(|w| f.text.contains(w))
            })
            .collect();
        assert!(wrong.is_empty(), "{file}: {wrong:#?}");
    }
    let (_, snapshot) = loaded();
    let page = snapshot
        .documents
        .iter()
        .find(|d| d.file == "page.html")
        .unwrap();
    assert_eq!(
        page.meta.title,
        "2017年知识产权海关保护情况（虚构测试文档）"
    );
    assert_eq!(page.meta.published.as_deref(), Some("2018-04-27"));
    assert_eq!(page.meta.publisher.as_deref(), Some("测试编辑部"));
    assert_eq!(
        page.meta.url.as_deref(),
        Some("https://news.example.org/2018/content_2017.htm")
    );
}

#[test]
fn unreadable_files_are_reported_with_path_and_reason_and_the_rest_loads() {
    let (files, snapshot) = loaded();
    let problems = files.problems.join("\n");
    for (file, reason) in [
        ("binary.bin", "binary content"),
        ("empty.txt", "empty"),
        ("random.txt", "not text"),
        ("truncated.pdf", "truncated"),
    ] {
        let line = files
            .problems
            .iter()
            .find(|p| p.contains(&format!("documents/{file}:")))
            .unwrap_or_else(|| panic!("{file} not reported: {problems}"));
        assert!(line.contains(reason), "{file}: {line}");
        assert!(
            !snapshot.documents.iter().any(|d| d.file == file),
            "{file} was loaded"
        );
    }
    let good = FIXTURES.iter().filter(|(_, y)| y.is_some()).count();
    assert_eq!(files.documents.len(), 5 + good, "{problems}");
    let seed = snapshot.answer("2024年扣留多少批?");
    assert!(seed.answer.contains("4.16万批"), "{}", seed.answer);
}

fn passages_of(snapshot: &Snapshot, doc: usize) -> String {
    snapshot.passages_of(doc).join("\n")
}

/// Runs `ask --json` on a knowledge folder and returns the answers.
fn ask_json(knowledge: &Path, data: &Path, questions: &str) -> Vec<serde_json::Value> {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_customs-ip-bot"))
        .arg("--knowledge")
        .arg(knowledge)
        .arg("--data")
        .arg(data)
        .args(["ask", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(questions.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_url_from_sources_toml_or_front_matter_reaches_the_json_sources() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    for fixture in ["gb18030.txt", "notes.md"] {
        std::fs::copy(
            fixtures().join(fixture),
            knowledge.join("documents").join(fixture),
        )
        .unwrap();
    }
    let mut sources = std::fs::read_to_string(knowledge.join("sources.toml")).unwrap();
    sources.push_str(
        "\n[[documents]]\nfile = \"gb18030.txt\"\nurl = \"https://example.org/made-up/2011\"\n",
    );
    std::fs::write(knowledge.join("sources.toml"), sources).unwrap();
    let answers = ask_json(
        &knowledge,
        &dir.path().join("data"),
        "2011年扣留多少批?\n2022年扣留多少批?\n2024年扣留多少批?\n",
    );
    let url = |i: usize| answers[i]["sources"][0]["url"].clone();
    assert_eq!(url(0), "https://example.org/made-up/2011", "{}", answers[0]);
    assert_eq!(
        url(1),
        "https://example.org/made-up/2022-report",
        "{}",
        answers[1]
    );
    // The seed report keeps the address sources.toml gives it.
    let seed = url(2);
    let seed = seed.as_str().unwrap_or_default();
    assert!(
        seed.starts_with("https://") && !seed.contains("made-up"),
        "{}",
        answers[2]
    );
    assert_eq!(answers[1]["sources"][0]["publisher"], "测试编辑部");
}

#[test]
fn unclosed_front_matter_is_a_warning_and_its_text_is_body() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let path = knowledge.join("documents").join("unclosed.txt");
    std::fs::write(
        &path,
        "---\ntitle: 测试标题\npublisher: 测试\n\n2031年海关知识产权保护情况（虚构测试文档）\n\n\
         2031年，全国海关共实施知识产权保护措施3.33万次，实际扣留侵权嫌疑货物2.22万批。\n",
    )
    .unwrap();
    let files = knowledge::load(&knowledge).unwrap();
    let warning = files
        .problems
        .iter()
        .find(|p| p.contains("unclosed.txt"))
        .unwrap_or_else(|| panic!("no warning: {:?}", files.problems));
    assert!(warning.contains("never closed"), "{warning}");
    let doc = files
        .documents
        .iter()
        .find(|d| d.file == "unclosed.txt")
        .unwrap();
    assert_eq!(doc.meta.title, "2031年海关知识产权保护情况（虚构测试文档）");
    assert!(doc.body.contains("title: 测试标题"), "{}", doc.body);
    let snapshot = Snapshot::build_in_memory(&files).unwrap();
    let answer = snapshot.answer("2031年扣留多少批?");
    assert!(answer.answer.contains("2.22万批"), "{}", answer.answer);
    assert!(!answer.answer.contains("title:"), "{}", answer.answer);
}

#[test]
fn a_metric_id_given_twice_stops_the_load_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let path = knowledge.join("vocabulary.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let first_line = text
        .lines()
        .position(|l| l.trim() == "id = \"detained_batches\"")
        .expect("the shipped vocabulary defines detained_batches")
        + 1;
    text.push_str("\n[[metrics]]\nid = \"detained_batches\"\nzh = \"批次\"\nen = \"batches\"\n");
    let second_line = text.lines().count() - 2;
    std::fs::write(&path, text).unwrap();
    let err = knowledge::load(&knowledge).unwrap_err().to_string();
    assert!(err.contains("vocabulary.toml"), "{err}");
    assert!(err.contains("detained_batches"), "{err}");
    assert!(
        err.contains(&format!("line {first_line}")) && err.contains(&format!("line {second_line}")),
        "want lines {first_line} and {second_line}: {err}"
    );
}
