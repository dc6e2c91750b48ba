-- Documents an admin sent to the bot and has not yet added or cancelled,
-- and removals awaiting their confirm button: kept in the shared database
-- so that the button press may reach any replica. Rows older than an hour
-- are not acted on and are deleted by the next upload.
CREATE TABLE IF NOT EXISTS pending_documents (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms    INTEGER NOT NULL,          -- milliseconds since 1970 (UTC)
    user_id  INTEGER NOT NULL,          -- the admin who sent it
    chat_id  INTEGER NOT NULL,
    action   TEXT NOT NULL,             -- 'add' or 'remove'
    file     TEXT NOT NULL,             -- add: the safe name proposed; remove: the document
    bytes    BLOB                       -- add: the file as sent
);
