-- +goose Up
-- Mail (issue 12): each user's IMAP + SMTP accounts, the sync state of their
-- folders, the messages synced (headers, readable text, attachment
-- descriptions, triage), the user's mail rules, and a full-text index for
-- search. Kept by internal/mail/sqlitemail. Every row carries user_id and
-- goes with its user; folders and messages go with their account.
CREATE TABLE mail_accounts (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    imap_host     TEXT NOT NULL,
    imap_port     INTEGER NOT NULL,
    imap_security TEXT NOT NULL,
    smtp_host     TEXT NOT NULL,
    smtp_port     INTEGER NOT NULL,
    smtp_security TEXT NOT NULL,
    username      TEXT NOT NULL,
    auth          TEXT NOT NULL,
    secret        TEXT NOT NULL, -- sealed (secret.Box); never sent to a client
    sync_days     INTEGER NOT NULL,
    created_at    TEXT,
    last_sync_at  TEXT,
    last_error    TEXT NOT NULL,
    UNIQUE (id, user_id) -- the parent key of folders and messages: an account of their user
);
CREATE UNIQUE INDEX mail_accounts_address ON mail_accounts (user_id, address COLLATE NOCASE);

CREATE TABLE mail_folders (
    account_id     TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    uid_validity   INTEGER NOT NULL,
    uid_next       INTEGER NOT NULL,
    highest_modseq INTEGER NOT NULL,
    messages       INTEGER NOT NULL,
    synced_to      TEXT,
    complete       INTEGER NOT NULL,
    PRIMARY KEY (account_id, name),
    FOREIGN KEY (account_id, user_id) REFERENCES mail_accounts (id, user_id) ON DELETE CASCADE
);
CREATE INDEX mail_folders_user ON mail_folders (user_id, account_id);

-- seq is the full-text index's rowid; id is os1's id of the message.
-- uid is NULL while the server has not said it (a move without UIDPLUS).
-- Address lists, references, parts and flags are JSON; seen mirrors the
-- \Seen flag for unread listings. triaged_at is NULL until triage ran.
CREATE TABLE mail_messages (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id            TEXT NOT NULL,
    folder                TEXT NOT NULL,
    uid_validity          INTEGER NOT NULL,
    uid                   INTEGER,
    message_id            TEXT NOT NULL,
    in_reply_to           TEXT NOT NULL,
    refs                  TEXT NOT NULL,
    thread_id             TEXT NOT NULL,
    from_name             TEXT NOT NULL,
    from_email            TEXT NOT NULL,
    sender                TEXT GENERATED ALWAYS AS (from_name || ' ' || from_email) VIRTUAL,
    to_addrs              TEXT NOT NULL,
    cc_addrs              TEXT NOT NULL,
    reply_to              TEXT NOT NULL,
    subject               TEXT NOT NULL,
    date                  TEXT,
    text                  TEXT NOT NULL,
    parts                 TEXT NOT NULL,
    flags                 TEXT NOT NULL,
    seen                  INTEGER NOT NULL,
    size                  INTEGER NOT NULL,
    list_id               TEXT NOT NULL,
    list_unsubscribe      TEXT NOT NULL,
    list_unsubscribe_post TEXT NOT NULL,
    auth_results          TEXT NOT NULL,
    precedence            TEXT NOT NULL,
    category              TEXT NOT NULL,
    importance            REAL NOT NULL,
    reason                TEXT NOT NULL,
    summary               TEXT NOT NULL,
    triage_by             TEXT NOT NULL,
    triaged_at            TEXT,
    archive               INTEGER NOT NULL,
    UNIQUE (account_id, folder, uid_validity, uid),
    FOREIGN KEY (account_id, user_id) REFERENCES mail_accounts (id, user_id) ON DELETE CASCADE
);
-- Listings are newest first, seq breaking ties: each index holds that order.
CREATE INDEX mail_messages_date ON mail_messages (user_id, date DESC, seq DESC);
CREATE INDEX mail_messages_folder ON mail_messages (account_id, folder, date DESC, seq DESC);
CREATE INDEX mail_messages_category ON mail_messages (user_id, category, date DESC, seq DESC);
CREATE INDEX mail_messages_thread ON mail_messages (user_id, thread_id, date DESC, seq DESC);
CREATE INDEX mail_messages_untriaged ON mail_messages (user_id, date DESC, seq DESC) WHERE triaged_at IS NULL;

CREATE TABLE mail_rules (
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    understood TEXT NOT NULL, -- mail.RuleSpec as JSON
    enabled    INTEGER NOT NULL,
    created_at TEXT,
    PRIMARY KEY (user_id, id)
);

-- Full-text search over subject, sender (name and address) and text. As
-- memory's index does (00004), each column indexes at most its first 65536
-- characters: FTS5 holds a term's whole position list in memory while it
-- ranks, and a 5 MB body must not exhaust a connection. The stored columns
-- stay whole; the triggers index and un-index the same prefixes.
CREATE VIRTUAL TABLE mail_fts USING fts5 (
    subject,
    sender,
    text,
    content = 'mail_messages',
    content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER mail_messages_ai AFTER INSERT ON mail_messages BEGIN
    INSERT INTO mail_fts (rowid, subject, sender, text)
    VALUES (new.seq, substr(new.subject, 1, 65536), substr(new.sender, 1, 65536), substr(new.text, 1, 65536));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER mail_messages_ad AFTER DELETE ON mail_messages BEGIN
    INSERT INTO mail_fts (mail_fts, rowid, subject, sender, text)
    VALUES ('delete', old.seq, substr(old.subject, 1, 65536), substr(old.sender, 1, 65536), substr(old.text, 1, 65536));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER mail_messages_au AFTER UPDATE OF subject, from_name, from_email, text ON mail_messages BEGIN
    INSERT INTO mail_fts (mail_fts, rowid, subject, sender, text)
    VALUES ('delete', old.seq, substr(old.subject, 1, 65536), substr(old.sender, 1, 65536), substr(old.text, 1, 65536));
    INSERT INTO mail_fts (rowid, subject, sender, text)
    VALUES (new.seq, substr(new.subject, 1, 65536), substr(new.sender, 1, 65536), substr(new.text, 1, 65536));
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER mail_messages_au;
DROP TRIGGER mail_messages_ad;
DROP TRIGGER mail_messages_ai;
DROP TABLE mail_fts;
DROP TABLE mail_rules;
DROP TABLE mail_messages;
DROP TABLE mail_folders;
DROP TABLE mail_accounts;
