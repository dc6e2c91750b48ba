-- The Telegram layer's own state (same meaning as migrations/sqlite/0005).

-- Every admin command: who, when, what, and how it ended.
CREATE TABLE IF NOT EXISTS audit (
    id       BIGSERIAL PRIMARY KEY,
    at_ms    BIGINT NOT NULL,           -- milliseconds since 1970 (UTC)
    user_id  BIGINT NOT NULL,           -- Telegram user id; 0 for a signal
    chat_id  BIGINT NOT NULL,           -- 0 for a signal
    command  TEXT NOT NULL,             -- reload, stats
    args     TEXT NOT NULL,
    outcome  TEXT NOT NULL              -- ok: …, refused: …, failed: …
);

-- Questions served, by answer kind, summed over the bot's lifetime.
CREATE TABLE IF NOT EXISTS question_counts (
    kind     TEXT PRIMARY KEY,          -- fact, comparison, …, none
    count    BIGINT NOT NULL DEFAULT 0
);
