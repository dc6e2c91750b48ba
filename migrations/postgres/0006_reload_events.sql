-- The knowledge versions replicas reloaded to (same meaning as
-- migrations/sqlite/0006): a /reload (or SIGHUP) on one replica reaches
-- the others, which poll the newest row and reload their own copy of the
-- knowledge folder when the recorded version differs from theirs.
CREATE TABLE IF NOT EXISTS reload_events (
    id       BIGSERIAL PRIMARY KEY,     -- newer rows have larger ids
    version  TEXT NOT NULL,             -- the knowledge content hash
    at_ms    BIGINT NOT NULL,           -- milliseconds since 1970 (UTC)
    user_id  BIGINT NOT NULL,           -- Telegram user id; 0 for a signal
    source   TEXT NOT NULL              -- what asked: "/reload", "SIGHUP"
);
