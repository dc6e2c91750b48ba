-- The knowledge versions replicas reloaded to, so that a /reload (or
-- SIGHUP) on one replica reaches the others: each replica polls the newest
-- row and reloads its own copy of the knowledge folder when the recorded
-- version differs from the one it answers from.
CREATE TABLE IF NOT EXISTS reload_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,  -- newer rows have larger ids
    version  TEXT NOT NULL,             -- the knowledge content hash
    at_ms    INTEGER NOT NULL,          -- milliseconds since 1970 (UTC)
    user_id  INTEGER NOT NULL,          -- Telegram user id; 0 for a signal
    source   TEXT NOT NULL              -- what asked: "/reload", "SIGHUP"
);
