-- The knowledge tables: one built generation of the knowledge folder,
-- keyed by its content hash. Only the newest generation is kept.
CREATE TABLE IF NOT EXISTS knowledge_versions (
    version   TEXT PRIMARY KEY,
    built_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    problems  TEXT NOT NULL            -- JSON array of "path: reason"
);

CREATE TABLE IF NOT EXISTS documents (
    version   TEXT NOT NULL REFERENCES knowledge_versions(version) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    file      TEXT NOT NULL,
    title     TEXT NOT NULL,
    publisher TEXT,
    published TEXT,
    language  TEXT NOT NULL,
    url       TEXT,
    PRIMARY KEY (version, idx)
);

CREATE TABLE IF NOT EXISTS passages (
    version        TEXT NOT NULL REFERENCES knowledge_versions(version) ON DELETE CASCADE,
    idx            INTEGER NOT NULL,
    doc            INTEGER NOT NULL,
    original       TEXT NOT NULL,
    normalized     TEXT NOT NULL,
    first_sentence INTEGER NOT NULL,
    sentence_count INTEGER NOT NULL,
    PRIMARY KEY (version, idx)
);

CREATE TABLE IF NOT EXISTS sentences (
    version    TEXT NOT NULL REFERENCES knowledge_versions(version) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    doc        INTEGER NOT NULL,
    passage    INTEGER NOT NULL,
    original   TEXT NOT NULL,
    normalized TEXT NOT NULL,
    PRIMARY KEY (version, idx)
);

CREATE TABLE IF NOT EXISTS facts (
    version     TEXT NOT NULL REFERENCES knowledge_versions(version) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
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
    curated     INTEGER NOT NULL,
    PRIMARY KEY (version, idx)
);
CREATE INDEX IF NOT EXISTS facts_by_key ON facts (version, metric, period_year);

CREATE TABLE IF NOT EXISTS conflicts (
    version TEXT NOT NULL REFERENCES knowledge_versions(version) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    facts   TEXT NOT NULL,          -- JSON array of fact idx
    PRIMARY KEY (version, key)
);
