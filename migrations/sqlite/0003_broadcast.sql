-- Broadcasts of yearly summaries: who subscribed, what the bot was told
-- about its membership in chats, the jobs and one delivery row per
-- recipient. Same meaning as migrations/postgres/0003_broadcast.sql.

-- A chat that receives broadcasts (a group, supergroup or private chat).
CREATE TABLE IF NOT EXISTS subscriptions (
    chat_id       INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,             -- private, group, supergroup, channel
    title         TEXT,
    active        BOOLEAN NOT NULL DEFAULT 1,
    subscribed_by INTEGER,                   -- Telegram user id
    -- Why it stopped: unsubscribed, forbidden (403), removed (bot left/kicked),
    -- migrated (the group became a supergroup with another id).
    inactive_reason TEXT,
    created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS subscriptions_active ON subscriptions (active, chat_id);

-- my_chat_member updates: the bot added to or removed from a chat.
CREATE TABLE IF NOT EXISTS chat_membership (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT,
    status      TEXT NOT NULL,               -- member, administrator, left, kicked, restricted
    changed_by  INTEGER,                     -- the user who changed it
    recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS chat_membership_by_chat ON chat_membership (chat_id, id);

-- One broadcast of one year's summary.
CREATE TABLE IF NOT EXISTS broadcast_jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    year              INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN
                        ('pending_confirmation', 'confirmed', 'running', 'done', 'cancelled')),
    automatic         BOOLEAN NOT NULL DEFAULT 0,
    created_by        INTEGER,               -- admin's user id; NULL when automatic
    confirmed_by      INTEGER,
    cancelled_by      INTEGER,
    knowledge_version TEXT,
    message           TEXT NOT NULL,         -- the summary as sent
    chart             BLOB,                  -- the chart PNG as sent
    file_id           TEXT,                  -- Telegram's id of the uploaded chart, reused
    created_at        TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    confirmed_at      TEXT,
    finished_at       TEXT
);
CREATE INDEX IF NOT EXISTS broadcast_jobs_by_status ON broadcast_jobs (status, id);

-- One row per recipient of a job, fixed when the job is confirmed.
CREATE TABLE IF NOT EXISTS broadcast_deliveries (
    job_id      INTEGER NOT NULL REFERENCES broadcast_jobs(id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,            -- the subscription's chat id at confirmation
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                  ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    sent_at     TEXT,
    message_id  INTEGER,                     -- Telegram's id of the delivered message
    migrated_to INTEGER,                     -- the chat's new id after a migration; sent there
    PRIMARY KEY (job_id, chat_id)
);
CREATE INDEX IF NOT EXISTS broadcast_deliveries_by_status ON broadcast_deliveries (job_id, status, chat_id);
