//! persist: "write this generation's knowledge tables into its own SQLite
//! file, or read them back". SQLite through sqlx; the schema is
//! `migrations/knowledge/schema.sql`, created once when the generation is
//! built (no migrations: a generation is written once, then only read,
//! opened read-only and immutable).
//!
//! Invariant: stores and returns rows exactly; builds nothing.

use crate::domain::model::{Conflict, Document, DocumentMeta, Fact, Language, Passage, Sentence};
use rust_decimal::Decimal;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The schema of a generation's knowledge.db; bumped with the schema file.
pub const SCHEMA_VERSION: i64 = 1;
const SCHEMA: &str = include_str!("../../migrations/knowledge/schema.sql");

/// Why the knowledge tables could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The file could not be opened or a statement failed.
    #[error("knowledge tables {path}: {source}")]
    Sql { path: PathBuf, source: sqlx::Error },
    /// A stored row does not decode (written by another version?).
    #[error("knowledge tables {path}: a stored row does not decode: {reason}")]
    Decode { path: PathBuf, reason: String },
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

/// What a generation stores besides its tables.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// `vocabulary.toml` as the generation was built with it.
    pub vocabulary: String,
    /// Content hash of each document file, by document number.
    pub document_hashes: Vec<String>,
}

/// The knowledge.db of one generation.
pub struct TableStore {
    pool: SqlitePool,
    path: PathBuf,
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

impl TableStore {
    fn sql(&self) -> impl Fn(sqlx::Error) -> PersistError + '_ {
        |source| PersistError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, text: &str) -> Result<T, PersistError> {
        serde_json::from_str(text).map_err(|e| self.bad(e))
    }

    fn decimal(&self, text: Option<String>) -> Result<Option<Decimal>, PersistError> {
        text.map(|t| Decimal::from_str(&t).map_err(|e| self.bad(e)))
            .transpose()
    }

    fn bad(&self, e: impl std::fmt::Display) -> PersistError {
        PersistError::Decode {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// Creates the file (it must not exist) with the schema. Rollback
    /// journal, synchronous FULL: once `save` returns, the file is
    /// complete on disk, a single file with no journal beside it.
    pub async fn create(path: &Path) -> Result<TableStore, PersistError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Delete)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(false);
        let store = TableStore::connect(path, options).await?;
        sqlx::raw_sql(SCHEMA)
            .execute(&store.pool)
            .await
            .map_err(store.sql())?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .execute(&store.pool)
            .await
            .map_err(store.sql())?;
        Ok(store)
    }

    /// Opens a complete generation's file read-only and immutable: no
    /// journal, no lock, nothing written (a read-only volume is fine).
    pub async fn open_read_only(path: &Path) -> Result<TableStore, PersistError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .immutable(true)
            .foreign_keys(false);
        TableStore::connect(path, options).await
    }

    async fn connect(
        path: &Path,
        options: SqliteConnectOptions,
    ) -> Result<TableStore, PersistError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|source| PersistError::Sql {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(TableStore {
            pool,
            path: path.to_path_buf(),
        })
    }

    /// Closes the file.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// The stored tables; None when the file was written with another
    /// schema (an older binary's generation: rebuild it).
    pub async fn load(&self) -> Result<Option<(SnapshotTables, Stored)>, PersistError> {
        let schema: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.pool)
            .await
            .map_err(self.sql())?;
        if schema != SCHEMA_VERSION {
            return Ok(None);
        }
        let Some(row) = sqlx::query("SELECT version, vocabulary, problems FROM generation")
            .fetch_optional(&self.pool)
            .await
            .map_err(self.sql())?
        else {
            return Ok(None);
        };
        let version: String = row.get(0);
        let vocabulary: String = row.get(1);
        let problems: Vec<String> = self.decode(&row.get::<String, _>(2))?;
        let (documents, document_hashes) = self.documents().await?;
        let tables = SnapshotTables {
            version,
            documents,
            passages: self.passages().await?,
            sentences: self.sentences().await?,
            facts: self.facts().await?,
            conflicts: self.conflicts().await?,
            problems,
        };
        let stored = Stored {
            vocabulary,
            document_hashes,
        };
        Ok(Some((tables, stored)))
    }

    async fn documents(&self) -> Result<(Vec<Document>, Vec<String>), PersistError> {
        let mut documents = Vec::new();
        let mut hashes = Vec::new();
        for r in sqlx::query(
            "SELECT file, title, publisher, published, language, url, hash FROM documents ORDER BY idx",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.sql())?
        {
            let language: Language = self.decode(&r.get::<String, _>(4))?;
            documents.push(Document {
                file: r.get(0),
                meta: DocumentMeta {
                    title: r.get(1),
                    publisher: r.get(2),
                    published: r.get(3),
                    language,
                    url: r.get(5),
                },
            });
            hashes.push(r.get(6));
        }
        Ok((documents, hashes))
    }

    async fn passages(&self) -> Result<Vec<Passage>, PersistError> {
        let rows = sqlx::query(
            "SELECT doc, original, normalized, first_sentence, sentence_count FROM passages ORDER BY idx",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.sql())?;
        Ok(rows
            .into_iter()
            .map(|r| Passage {
                doc: r.get::<i64, _>(0) as usize,
                original: r.get(1),
                normalized: r.get(2),
                first_sentence: r.get::<i64, _>(3) as usize,
                sentence_count: r.get::<i64, _>(4) as usize,
            })
            .collect())
    }

    async fn sentences(&self) -> Result<Vec<Sentence>, PersistError> {
        let rows =
            sqlx::query("SELECT doc, passage, original, normalized FROM sentences ORDER BY idx")
                .fetch_all(&self.pool)
                .await
                .map_err(self.sql())?;
        Ok(rows
            .into_iter()
            .map(|r| Sentence {
                doc: r.get::<i64, _>(0) as usize,
                passage: r.get::<i64, _>(1) as usize,
                original: r.get(2),
                normalized: r.get(3),
            })
            .collect())
    }

    async fn facts(&self) -> Result<Vec<Fact>, PersistError> {
        let mut facts = Vec::new();
        for r in sqlx::query(
            "SELECT period_year, period, scope, metric, dims, value, text, qualifier, share, yoy, doc, sentence, quote, curated, excerpt \
             FROM facts ORDER BY idx",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.sql())?
        {
            facts.push(Fact {
                period: crate::domain::model::Period {
                    year: r.get::<i64, _>(0) as u16,
                    kind: self.decode(&r.get::<String, _>(1))?,
                },
                scope: self.decode(&r.get::<String, _>(2))?,
                metric: r.get(3),
                dims: self.decode(&r.get::<String, _>(4))?,
                value: self.decimal(Some(r.get(5)))?.unwrap_or_default(),
                text: r.get(6),
                qualifier: r.get(7),
                share: self.decimal(r.get(8))?,
                yoy: self.decimal(r.get(9))?,
                doc: r.get::<i64, _>(10) as usize,
                sentence: r.get::<Option<i64>, _>(11).map(|s| s as usize),
                quote: r.get(12),
                curated: r.get::<i64, _>(13) != 0,
                excerpt: r.get(14),
            });
        }
        Ok(facts)
    }

    async fn conflicts(&self) -> Result<Vec<Conflict>, PersistError> {
        let mut conflicts = Vec::new();
        for r in sqlx::query("SELECT key, facts FROM conflicts ORDER BY key")
            .fetch_all(&self.pool)
            .await
            .map_err(self.sql())?
        {
            conflicts.push(Conflict {
                key: r.get(0),
                facts: self.decode(&r.get::<String, _>(1))?,
            });
        }
        Ok(conflicts)
    }

    /// Writes the generation's tables, in one transaction, into the file
    /// `create` made.
    pub async fn save(&self, t: &SnapshotTables, stored: &Stored) -> Result<(), PersistError> {
        let mut tx = self.pool.begin().await.map_err(self.sql())?;
        sqlx::query("INSERT INTO generation (version, vocabulary, problems) VALUES ($1, $2, $3)")
            .bind(&t.version)
            .bind(&stored.vocabulary)
            .bind(encode(&t.problems))
            .execute(&mut *tx)
            .await
            .map_err(self.sql())?;
        for (i, d) in t.documents.iter().enumerate() {
            sqlx::query("INSERT INTO documents (idx, file, title, publisher, published, language, url, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(i as i64)
                .bind(&d.file)
                .bind(&d.meta.title)
                .bind(&d.meta.publisher)
                .bind(&d.meta.published)
                .bind(encode(&d.meta.language))
                .bind(&d.meta.url)
                .bind(stored.document_hashes.get(i).map_or("", String::as_str))
                .execute(&mut *tx)
                .await
                .map_err(self.sql())?;
        }
        for (i, p) in t.passages.iter().enumerate() {
            sqlx::query("INSERT INTO passages (idx, doc, original, normalized, first_sentence, sentence_count) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(i as i64)
                .bind(p.doc as i64)
                .bind(&p.original)
                .bind(&p.normalized)
                .bind(p.first_sentence as i64)
                .bind(p.sentence_count as i64)
                .execute(&mut *tx)
                .await
                .map_err(self.sql())?;
        }
        for (i, s) in t.sentences.iter().enumerate() {
            sqlx::query("INSERT INTO sentences (idx, doc, passage, original, normalized) VALUES ($1, $2, $3, $4, $5)")
                .bind(i as i64)
                .bind(s.doc as i64)
                .bind(s.passage as i64)
                .bind(&s.original)
                .bind(&s.normalized)
                .execute(&mut *tx)
                .await
                .map_err(self.sql())?;
        }
        self.save_facts(&mut tx, t).await?;
        tx.commit().await.map_err(self.sql())
    }

    async fn save_facts(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        t: &SnapshotTables,
    ) -> Result<(), PersistError> {
        for (i, f) in t.facts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO facts (idx, period_year, period, scope, metric, dims, value, text, qualifier, share, yoy, doc, sentence, quote, curated, excerpt) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
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
            .execute(&mut **tx)
            .await
            .map_err(self.sql())?;
        }
        for c in &t.conflicts {
            sqlx::query("INSERT INTO conflicts (key, facts) VALUES ($1, $2)")
                .bind(&c.key)
                .bind(encode(&c.facts))
                .execute(&mut **tx)
                .await
                .map_err(self.sql())?;
        }
        Ok(())
    }
}
