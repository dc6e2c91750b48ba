-- The knowledge tables of one generation (data/generations/NAME/knowledge.db).
-- Written by the build that creates the generation (new, or a copy of the
-- previous generation's file with the changed documents' rows replaced),
-- then only read (opened read-only and immutable): never migrated. A binary
-- with another schema (PRAGMA user_version) rebuilds instead. Passages and
-- sentences are not here: the generation's search index stores them.
CREATE TABLE generation (
    version    TEXT NOT NULL,
    built_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    vocabulary TEXT NOT NULL,          -- vocabulary.toml as built
    problems   TEXT NOT NULL,          -- JSON array of "path: reason"
    curated    TEXT NOT NULL,          -- JSON array of the curated facts
    conflicts  TEXT NOT NULL           -- JSON array of conflicts (fact numbers)
);

CREATE TABLE documents (
    idx       INTEGER PRIMARY KEY,
    file      TEXT NOT NULL,
    title     TEXT NOT NULL,
    publisher TEXT,
    published TEXT,
    language  TEXT NOT NULL,
    url       TEXT,
    hash      TEXT NOT NULL          -- content hash of the document file
);

-- The facts extracted from one document (by its content hash), numbered
-- within it; kept across builds while the document does not change.
CREATE TABLE document_facts (
    hash  TEXT PRIMARY KEY,
    facts TEXT NOT NULL              -- JSON array of facts (a sentence is not repeated in them: the index stores it)
);
