-- The bot's own state, next to the knowledge tables in the same database.

-- Every admin command: who, when, what, and how it ended.
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    user_id  INTEGER NOT NULL,          -- Telegram user id; 0 for a signal
    chat_id  INTEGER NOT NULL,          -- 0 for a signal
    command  TEXT NOT NULL,             -- reload, stats
    args     TEXT NOT NULL,
    outcome  TEXT NOT NULL              -- ok: …, refused: …, failed: …
);

-- Questions served, by answer kind, summed over the bot's lifetime.
CREATE TABLE IF NOT EXISTS question_counts (
    kind     TEXT PRIMARY KEY,          -- fact, comparison, …, none
    count    INTEGER NOT NULL DEFAULT 0
);
