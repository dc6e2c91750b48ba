//! persist: "keep this generation of the knowledge tables in SQL, or give
//! me back the one built for this content hash". SQLite through sqlx, with
//! the migrations in `migrations/sqlite`.
//!
//! Invariant: stores and returns rows exactly; builds nothing.

use crate::domain::model::{Conflict, Document, DocumentMeta, Fact, Language, Passage, Sentence};
use rust_decimal::Decimal;
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::str::FromStr;

/// Why the knowledge tables could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The database could not be opened or a statement failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not decode (written by another version?).
    #[error("stored knowledge row does not decode: {0}")]
    Decode(String),
}

/// One generation of the knowledge tables.
#[derive(Debug, Clone)]
pub struct SnapshotTables {
    pub version: String,
    pub documents: Vec<Document>,
    pub passages: Vec<Passage>,
    pub sentences: Vec<Sentence>,
    pub facts: Vec<Fact>,
    pub conflicts: Vec<Conflict>,
    pub problems: Vec<String>,
}

pub struct TableStore {
    pool: SqlitePool,
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, PersistError> {
    serde_json::from_str(text).map_err(|e| PersistError::Decode(e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

fn decimal(text: Option<String>) -> Result<Option<Decimal>, PersistError> {
    text.map(|t| Decimal::from_str(&t).map_err(|e| PersistError::Decode(e.to_string())))
        .transpose()
}

impl TableStore {
    /// Opens (creating) the SQLite file and applies the migrations.
    pub async fn open(path: &Path) -> Result<TableStore, PersistError> {
        Ok(TableStore {
            pool: crate::state::db::open_sqlite_pool::<PersistError>(path).await?,
        })
    }

    /// The tables built for `version`, if they are stored.
    pub async fn load(&self, version: &str) -> Result<Option<SnapshotTables>, PersistError> {
        let Some(row) = sqlx::query("SELECT problems FROM knowledge_versions WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let problems: Vec<String> = decode(&row.get::<String, _>(0))?;
        let mut documents = Vec::new();
        for r in sqlx::query("SELECT file, title, publisher, published, language, url FROM documents WHERE version = $1 ORDER BY idx")
            .bind(version)
            .fetch_all(&self.pool)
            .await?
        {
            let language: Language = decode(&r.get::<String, _>(4))?;
            documents.push(Document {
                file: r.get(0),
                meta: DocumentMeta { title: r.get(1), publisher: r.get(2), published: r.get(3), language, url: r.get(5) },
            });
        }
        let passages = sqlx::query("SELECT doc, original, normalized, first_sentence, sentence_count FROM passages WHERE version = $1 ORDER BY idx")
            .bind(version)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| Passage {
                doc: r.get::<i64, _>(0) as usize,
                original: r.get(1),
                normalized: r.get(2),
                first_sentence: r.get::<i64, _>(3) as usize,
                sentence_count: r.get::<i64, _>(4) as usize,
            })
            .collect();
        let sentences = sqlx::query("SELECT doc, passage, original, normalized FROM sentences WHERE version = $1 ORDER BY idx")
            .bind(version)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| Sentence { doc: r.get::<i64, _>(0) as usize, passage: r.get::<i64, _>(1) as usize, original: r.get(2), normalized: r.get(3) })
            .collect();
        let mut facts = Vec::new();
        for r in sqlx::query(
            "SELECT period_year, period, scope, metric, dims, value, text, qualifier, share, yoy, doc, sentence, quote, curated, excerpt \
             FROM facts WHERE version = $1 ORDER BY idx",
        )
        .bind(version)
        .fetch_all(&self.pool)
        .await?
        {
            facts.push(Fact {
                period: crate::domain::model::Period { year: r.get::<i64, _>(0) as u16, kind: decode(&r.get::<String, _>(1))? },
                scope: decode(&r.get::<String, _>(2))?,
                metric: r.get(3),
                dims: decode(&r.get::<String, _>(4))?,
                value: decimal(Some(r.get(5)))?.unwrap_or_default(),
                text: r.get(6),
                qualifier: r.get(7),
                share: decimal(r.get(8))?,
                yoy: decimal(r.get(9))?,
                doc: r.get::<i64, _>(10) as usize,
                sentence: r.get::<Option<i64>, _>(11).map(|s| s as usize),
                quote: r.get(12),
                curated: r.get::<i64, _>(13) != 0,
                excerpt: r.get(14),
            });
        }
        let mut conflicts = Vec::new();
        for r in sqlx::query("SELECT key, facts FROM conflicts WHERE version = $1 ORDER BY key")
            .bind(version)
            .fetch_all(&self.pool)
            .await?
        {
            conflicts.push(Conflict {
                key: r.get(0),
                facts: decode(&r.get::<String, _>(1))?,
            });
        }
        Ok(Some(SnapshotTables {
            version: version.to_string(),
            documents,
            passages,
            sentences,
            facts,
            conflicts,
            problems,
        }))
    }

    /// Stores `tables` as the only generation, in one transaction.
    pub async fn save(&self, t: &SnapshotTables) -> Result<(), PersistError> {
        let mut tx = self.pool.begin().await?;
        for table in [
            "conflicts",
            "facts",
            "sentences",
            "passages",
            "documents",
            "knowledge_versions",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO knowledge_versions (version, problems) VALUES ($1, $2)")
            .bind(&t.version)
            .bind(encode(&t.problems))
            .execute(&mut *tx)
            .await?;
        for (i, d) in t.documents.iter().enumerate() {
            sqlx::query("INSERT INTO documents (version, idx, file, title, publisher, published, language, url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&t.version)
                .bind(i as i64)
                .bind(&d.file)
                .bind(&d.meta.title)
                .bind(&d.meta.publisher)
                .bind(&d.meta.published)
                .bind(encode(&d.meta.language))
                .bind(&d.meta.url)
                .execute(&mut *tx)
                .await?;
        }
        for (i, p) in t.passages.iter().enumerate() {
            sqlx::query("INSERT INTO passages (version, idx, doc, original, normalized, first_sentence, sentence_count) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&t.version)
                .bind(i as i64)
                .bind(p.doc as i64)
                .bind(&p.original)
                .bind(&p.normalized)
                .bind(p.first_sentence as i64)
                .bind(p.sentence_count as i64)
                .execute(&mut *tx)
                .await?;
        }
        for (i, s) in t.sentences.iter().enumerate() {
            sqlx::query("INSERT INTO sentences (version, idx, doc, passage, original, normalized) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&t.version)
                .bind(i as i64)
                .bind(s.doc as i64)
                .bind(s.passage as i64)
                .bind(&s.original)
                .bind(&s.normalized)
                .execute(&mut *tx)
                .await?;
        }
        for (i, f) in t.facts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO facts (version, idx, period_year, period, scope, metric, dims, value, text, qualifier, share, yoy, doc, sentence, quote, curated, excerpt) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            )
            .bind(&t.version)
            .bind(i as i64)
            .bind(f.period.year as i64)
            .bind(encode(&f.period.kind))
            .bind(encode(&f.scope))
            .bind(&f.metric)
            .bind(encode(&f.dims))
            .bind(f.value.normalize().to_string())
            .bind(&f.text)
            .bind(&f.qualifier)
            .bind(f.share.map(|d| d.normalize().to_string()))
            .bind(f.yoy.map(|d| d.normalize().to_string()))
            .bind(f.doc as i64)
            .bind(f.sentence.map(|s| s as i64))
            .bind(&f.quote)
            .bind(f.curated as i64)
            .bind(&f.excerpt)
            .execute(&mut *tx)
            .await?;
        }
        for c in &t.conflicts {
            sqlx::query("INSERT INTO conflicts (version, key, facts) VALUES ($1, $2, $3)")
                .bind(&t.version)
                .bind(&c.key)
                .bind(encode(&c.facts))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
