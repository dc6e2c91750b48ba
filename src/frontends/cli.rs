//! cli: "here are the command-line words, run them". Parses arguments,
//! opens the engine, and prints answers, the fact table or a summary.
//!
//! Invariant: wiring only; every answer comes from the engine.

use crate::domain::model::{Answer, AnswerKind, Language};
use crate::domain::replies;
use crate::frontends::config::{self, GlobalFlags, ServeArgs};
use crate::knowledge::engine::{Engine, EngineSettings};
use crate::knowledge::generations::Wait;
use crate::knowledge::snapshot::{Access, Snapshot};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::{BufRead, Write};
use std::path::PathBuf;

pub use crate::domain::model::MAX_QUESTION_CHARS;

#[derive(Debug, Parser)]
#[command(
    name = "customs-ip-bot",
    version,
    about = "Exact, cited answers about China's customs protection of IP"
)]
pub struct Cli {
    /// The knowledge folder (documents/, vocabulary.toml, sources.toml,
    /// facts.toml) [default: knowledge]
    #[arg(long, global = true, env = "CUSTOMS_IP_BOT_KNOWLEDGE")]
    pub knowledge: Option<PathBuf>,
    /// The data folder (database, search index); created when missing
    /// [default: data]
    #[arg(long, global = true, env = "CUSTOMS_IP_BOT_DATA")]
    pub data: Option<PathBuf>,
    /// Only read the data folder: answer from its complete build, never
    /// build or clean up (a replica on a read-only volume). Chosen by
    /// itself when the data folder cannot be written.
    #[arg(long, global = true, env = "CUSTOMS_IP_BOT_READ_ONLY")]
    pub read_only: bool,
    /// A TOML config file (see deploy/config.example.toml).
    #[arg(long, global = true, env = "CUSTOMS_IP_BOT_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer a question, or one question per line of standard input.
    Ask {
        /// One JSON object per answer, on one line.
        #[arg(long)]
        json: bool,
        /// The question; without it, questions are read from standard input.
        question: Vec<String>,
    },
    /// Print the fact table with each row's source.
    Facts {
        /// Only this year.
        #[arg(long)]
        year: Option<u16>,
        /// One JSON object per row.
        #[arg(long)]
        json: bool,
    },
    /// Print the yearly summary that broadcasts send.
    Summary {
        year: u16,
        /// zh (Simplified), zh-Hant or en.
        #[arg(long, default_value = "zh")]
        lang: String,
        #[arg(long)]
        json: bool,
    },
    /// Build a new generation of the data folder (knowledge tables and
    /// search index) from the knowledge folder; waits for another build.
    Reindex {
        /// Fail at once instead of waiting when another process builds.
        #[arg(long)]
        no_wait: bool,
    },
    /// Run the Telegram bot (long polling; token from TELOXIDE_TOKEN or the config file).
    Serve(ServeArgs),
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let flags = GlobalFlags {
        config: cli.config.clone(),
        knowledge: cli.knowledge.clone(),
        data: cli.data.clone(),
    };
    let serve_args = match &cli.command {
        Command::Serve(args) => args.clone(),
        _ => ServeArgs::default(),
    };
    let settings = config::load(&flags, &serve_args, &|name| std::env::var(name).ok())?;
    if let Command::Serve(_) = cli.command {
        return crate::frontends::telegram::serve(settings).await;
    }
    let access = access(&cli);
    let knowledge_dir = settings.knowledge_dir.clone();
    let engine = Engine::open_with(
        EngineSettings {
            knowledge_dir: settings.knowledge_dir,
            data_dir: settings.data_dir,
        },
        access,
    )
    .await
    .with_context(|| format!("loading the knowledge from {}", knowledge_dir.display()))?;
    let snapshot = engine.snapshot();
    for problem in &snapshot.problems {
        eprintln!("warning: {problem}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cli.command {
        Command::Ask { json, question } => ask(&engine, &mut out, json, &question)?,
        Command::Facts { year, json } => print_facts(&mut out, &snapshot, year, json)?,
        Command::Summary { year, lang, json } => {
            let language = match lang.as_str() {
                "en" => Language::English,
                "zh-Hant" | "zh-TW" | "tw" => Language::Traditional,
                _ => Language::Simplified,
            };
            let answer = engine.summary(year, language);
            print_answer(&mut out, &answer, json, false)?;
            if !answer.found {
                out.flush()?;
                anyhow::bail!("no summary for {year}");
            }
        }
        // Handled before the engine is opened.
        Command::Serve(_) => {}
        Command::Reindex { .. } => {
            writeln!(
                out,
                "knowledge {}: {} documents, {} passages, {} facts, {} conflicts, {} problems",
                snapshot.version,
                snapshot.documents.len(),
                snapshot.passage_count,
                snapshot.facts.len(),
                snapshot.conflicts.len(),
                snapshot.problems.len()
            )?;
            if let Some(b) = snapshot.built() {
                writeln!(
                    out,
                    "{} documents extracted, {} unchanged reused",
                    b.extracted, b.reused
                )?;
            }
        }
    }
    out.flush()?;
    // The process ends here: freeing every row one by one would only
    // delay the exit.
    std::mem::forget(snapshot);
    std::mem::forget(engine);
    Ok(())
}

/// How the command uses the data folder: `reindex` builds (waiting for
/// another builder unless `--no-wait`), the others read.
fn access(cli: &Cli) -> Access {
    Access {
        read_only: cli.read_only,
        rebuild: matches!(cli.command, Command::Reindex { .. }),
        wait: match cli.command {
            Command::Reindex { no_wait: true } => Wait::No,
            _ => Wait::Yes,
        },
        on_wait: |message| eprintln!("{message}"),
    }
}

/// `ask`: the question given, or one answer per line of standard input.
fn ask(
    engine: &Engine,
    out: &mut impl Write,
    json: bool,
    question: &[String],
) -> anyhow::Result<()> {
    if !question.is_empty() {
        let answer = answer_line(engine, question.join(" ").as_bytes());
        return print_answer(out, &answer, json, false);
    }
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .context("reading standard input")?;
        if n == 0 {
            return Ok(());
        }
        let answer = answer_line(engine, &line);
        print_answer(out, &answer, json, true)?;
        out.flush()?;
    }
}

/// `facts`: every row (of one year), as JSON lines or tab-separated.
fn print_facts(
    out: &mut impl Write,
    snapshot: &Snapshot,
    year: Option<u16>,
    json: bool,
) -> anyhow::Result<()> {
    for f in snapshot
        .facts
        .iter()
        .filter(|f| year.is_none_or(|y| f.period.year == y))
    {
        let doc = &snapshot.documents[f.doc];
        let quote = snapshot.quote(f);
        if json {
            let row = serde_json::json!({
                "period": f.period.key(), "scope": f.scope, "metric": f.metric, "dims": f.dims,
                "value": f.value.normalize().to_string(), "text": f.text, "qualifier": f.qualifier,
                "share": f.share.map(|d| d.normalize().to_string()), "yoy": f.yoy.map(|d| d.normalize().to_string()),
                "document": doc.file, "source": quote, "curated": f.curated,
            });
            writeln!(out, "{row}")?;
        } else {
            let dims: Vec<String> = f.dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t[{}]\t{}",
                crate::knowledge::snapshot::fact_key(f),
                f.value.normalize(),
                f.text,
                doc.file,
                dims.join(","),
                quote
            )?;
        }
    }
    for c in snapshot.conflicts.iter() {
        eprintln!("conflict: {} (rows {:?})", c.key, c.facts);
    }
    Ok(())
}

/// One input line to one answer: never skipped, never a panic.
pub fn answer_line(engine: &Engine, raw: &[u8]) -> Answer {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    match std::str::from_utf8(raw) {
        Ok(text) if text.chars().count() > MAX_QUESTION_CHARS => {
            refuse(text, replies::too_long(MAX_QUESTION_CHARS))
        }
        Ok(text) => engine.ask(text),
        Err(_) => refuse(
            &String::from_utf8_lossy(raw),
            replies::not_utf8().to_string(),
        ),
    }
}

fn refuse(question: &str, text: String) -> Answer {
    let question: String = question.chars().take(200).collect();
    Answer {
        question,
        answer: text,
        found: false,
        kind: AnswerKind::None,
        facts: vec![],
        sources: vec![],
        language: Language::Simplified,
    }
}

fn print_answer(
    out: &mut impl Write,
    answer: &Answer,
    json: bool,
    one_line: bool,
) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(answer)?)?;
    } else if one_line {
        writeln!(out, "{}", answer.answer.replace('\n', " | "))?;
    } else {
        writeln!(out, "{}", answer.answer)?;
    }
    Ok(())
}
