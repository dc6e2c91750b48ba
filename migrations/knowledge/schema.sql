-- The knowledge tables of one generation (data/generations/NAME/knowledge.db).
-- Written once by the build that creates the generation, then only read
-- (opened read-only and immutable): never migrated. A binary with another
-- schema (PRAGMA user_version) rebuilds instead.
CREATE TABLE generation (
    version    TEXT NOT NULL,
    built_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    vocabulary TEXT NOT NULL,          -- vocabulary.toml as built
    problems   TEXT NOT NULL           -- JSON array of "path: reason"
);

CREATE TABLE documents (
    idx       INTEGER PRIMARY KEY,
    file      TEXT NOT NULL,
    title     TEXT NOT NULL,
    publisher TEXT,
    published TEXT,
    language  TEXT NOT NULL,
    url       TEXT,
    hash      TEXT NOT NULL DEFAULT ''  -- content hash of the document file
);

CREATE TABLE passages (
    idx            INTEGER PRIMARY KEY,
    doc            INTEGER NOT NULL,
    original       TEXT NOT NULL,
    normalized     TEXT NOT NULL,
    first_sentence INTEGER NOT NULL,
    sentence_count INTEGER NOT NULL
);

CREATE TABLE sentences (
    idx        INTEGER PRIMARY KEY,
    doc        INTEGER NOT NULL,
    passage    INTEGER NOT NULL,
    original   TEXT NOT NULL,
    normalized TEXT NOT NULL
);

CREATE TABLE facts (
    idx         INTEGER PRIMARY KEY,
    period_year INTEGER NOT NULL,
    period      TEXT NOT NULL,      -- JSON PeriodKind
    scope       TEXT NOT NULL,      -- JSON Scope
    metric      TEXT NOT NULL,
    dims        TEXT NOT NULL,      -- JSON [[kind, value], ...]
    value       TEXT NOT NULL,      -- exact decimal as text
    text        TEXT NOT NULL,
    qualifier   TEXT,
    share       TEXT,
    yoy         TEXT,
    doc         INTEGER NOT NULL,
    sentence    INTEGER,
    quote       TEXT NOT NULL,
    excerpt     TEXT NOT NULL,
    curated     INTEGER NOT NULL
);

CREATE TABLE conflicts (
    key   TEXT PRIMARY KEY,
    facts TEXT NOT NULL             -- JSON array of fact idx
);
