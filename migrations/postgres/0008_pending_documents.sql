-- Documents an admin sent to the bot and has not yet added or cancelled,
-- and removals awaiting their confirm button (same meaning as
-- migrations/sqlite/0008): in the shared database, so that the button
-- press may reach any replica.
CREATE TABLE IF NOT EXISTS pending_documents (
    id       BIGSERIAL PRIMARY KEY,
    at_ms    BIGINT NOT NULL,           -- milliseconds since 1970 (UTC)
    user_id  BIGINT NOT NULL,           -- the admin who sent it
    chat_id  BIGINT NOT NULL,
    action   TEXT NOT NULL,             -- 'add' or 'remove'
    file     TEXT NOT NULL,             -- add: the safe name proposed; remove: the document
    bytes    BYTEA                      -- add: the file as sent
);
