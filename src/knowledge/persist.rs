//! persist: "write this generation's knowledge tables into its own SQLite
//! file, or read them back". SQLite through sqlx; the schema is
//! `migrations/knowledge/schema.sql`, created when a generation is built
//! from nothing (no migrations: a generation is written by its build, then
//! only read, opened read-only and immutable). A build that changes a few
//! documents copies the previous generation's file and replaces only their
//! rows. Passages and sentences are not kept here (the index stores them).
//!
//! Invariant: stores and returns rows exactly; builds nothing; never
//! writes a complete generation's file.

use crate::domain::model::{Conflict, Document, DocumentMeta, Fact, Language};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::{Path, PathBuf};

/// The schema of a generation's knowledge.db; bumped with the schema file.
pub const SCHEMA_VERSION: i64 = 5;
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
    /// A file of the generation could not be written or read.
    #[error("knowledge tables {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The previous generation's file could not be copied.
    #[error("knowledge tables {path}: copying {from}: {source}")]
    Copy {
        path: PathBuf,
        from: PathBuf,
        source: std::io::Error,
    },
}

/// One generation of the knowledge tables: what a snapshot holds in memory.
#[derive(Debug, Clone)]
pub struct SnapshotTables {
    pub version: String,
    pub documents: Vec<Document>,
    /// Each document's extracted facts in document order, then the curated.
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

    /// A copy of a complete generation's file at `path` (it must not
    /// exist), opened to be changed as `create` opens a new one.
    pub async fn copy_from(previous: &Path, path: &Path) -> Result<TableStore, PersistError> {
        std::fs::copy(previous, path).map_err(|source| PersistError::Copy {
            path: path.to_path_buf(),
            from: previous.to_path_buf(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Delete)
            .synchronous(SqliteSynchronous::Full)
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
        let Some(row) =
            sqlx::query("SELECT version, vocabulary, problems, curated, conflicts FROM generation")
                .fetch_optional(&self.pool)
                .await
                .map_err(self.sql())?
        else {
            return Ok(None);
        };
        let version: String = row.get(0);
        let vocabulary: String = row.get(1);
        let problems: Vec<String> = self.decode(&row.get::<String, _>(2))?;
        let curated: Vec<Fact> = self.decode(&row.get::<String, _>(3))?;
        let conflicts: Vec<Conflict> = self.decode(&row.get::<String, _>(4))?;
        let (documents, document_hashes) = self.documents().await?;
        let mut facts = self.facts().await?;
        facts.extend(curated);
        let tables = SnapshotTables {
            version,
            documents,
            facts,
            conflicts,
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

    /// Every document's extracted facts, numbered by document, in order.
    async fn facts(&self) -> Result<Vec<Fact>, PersistError> {
        use futures_util::TryStreamExt;
        let mut facts = Vec::new();
        // Streamed row by row: the stored text of every document's facts is
        // never held at once.
        let mut rows = sqlx::query(
            "SELECT d.idx, f.facts FROM documents d JOIN document_facts f ON f.hash = d.hash ORDER BY d.idx",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await.map_err(self.sql())? {
            let doc = r.get::<i64, _>(0) as usize;
            let of_doc: Vec<Fact> = self.decode(r.get::<&str, _>(1))?;
            facts.extend(of_doc.into_iter().map(|f| Fact { doc, ..f }));
        }
        facts.shrink_to_fit();
        Ok(facts)
    }

    /// Writes the generation's tables in one transaction: the generation
    /// row and the documents in full, the facts of the documents numbered
    /// in `changed` (the others' rows stay as the copied file has them),
    /// and drops the facts of documents no longer there.
    pub async fn save(
        &self,
        t: &SnapshotTables,
        stored: &Stored,
        changed: &[usize],
    ) -> Result<(), PersistError> {
        let mut tx = self.pool.begin().await.map_err(self.sql())?;
        let curated: Vec<&Fact> = t.facts.iter().filter(|f| f.curated).collect();
        sqlx::query("DELETE FROM generation")
            .execute(&mut *tx)
            .await
            .map_err(self.sql())?;
        sqlx::query("INSERT INTO generation (version, vocabulary, problems, curated, conflicts) VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.version)
            .bind(&stored.vocabulary)
            .bind(encode(&t.problems))
            .bind(encode(&curated))
            .bind(encode(&t.conflicts))
            .execute(&mut *tx)
            .await
            .map_err(self.sql())?;
        self.save_documents(&mut tx, t, stored).await?;
        self.save_facts(&mut tx, t, stored, changed).await?;
        tx.commit().await.map_err(self.sql())
    }

    async fn save_documents(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        t: &SnapshotTables,
        stored: &Stored,
    ) -> Result<(), PersistError> {
        sqlx::query("DELETE FROM documents")
            .execute(&mut **tx)
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
                .execute(&mut **tx)
                .await
                .map_err(self.sql())?;
        }
        Ok(())
    }

    async fn save_facts(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        t: &SnapshotTables,
        stored: &Stored,
        changed: &[usize],
    ) -> Result<(), PersistError> {
        let mut by_doc: Vec<Vec<&Fact>> = vec![Vec::new(); t.documents.len()];
        for f in t.facts.iter().filter(|f| !f.curated) {
            if let Some(of_doc) = by_doc.get_mut(f.doc) {
                of_doc.push(f);
            }
        }
        for &doc in changed {
            // The sentence is not kept twice: the index stores it.
            let local: Vec<Fact> = by_doc[doc]
                .iter()
                .map(|f| Fact {
                    doc: 0,
                    quote: if f.sentence.is_some() {
                        String::new()
                    } else {
                        f.quote.clone()
                    },
                    ..(*f).clone()
                })
                .collect();
            sqlx::query("INSERT OR REPLACE INTO document_facts (hash, facts) VALUES ($1, $2)")
                .bind(stored.document_hashes.get(doc).map_or("", String::as_str))
                .bind(encode(&local))
                .execute(&mut **tx)
                .await
                .map_err(self.sql())?;
        }
        sqlx::query("DELETE FROM document_facts WHERE hash NOT IN (SELECT hash FROM documents)")
            .execute(&mut **tx)
            .await
            .map_err(self.sql())?;
        Ok(())
    }
}
