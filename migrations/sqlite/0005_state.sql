-- The Telegram layer's own state.

-- Every admin command: who, when, what, and how it ended.
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms    INTEGER NOT NULL,          -- milliseconds since 1970 (UTC)
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
