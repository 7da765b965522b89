-- Strong authentication and separation of duties (issue #18).

-- Server-side sessions: a login token names its session (the JWT's sid), and a session ends at logout, after
-- being idle, at its absolute end, or when its owner logs out everywhere. strong: a second factor (TOTP or a
-- recovery code) or the identity provider's strong authentication was given.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    method TEXT NOT NULL,
    strong BOOLEAN NOT NULL,
    ip TEXT,
    agent TEXT,
    totp_pending TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);

-- TOTP (RFC 6238): the confirmed secret and the last time step used (a code is accepted once). A secret being
-- enrolled belongs to the session that asked for it (sessions.totp_pending), never to the account: another
-- session of the account, one with the password alone, can neither read nor plant it. oidc_subject: "provider subject" of the identity provider's account bound to this user.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_by_oidc_subject ON users (oidc_subject);
-- Failed logins since the owner last logged in, shown to the owner at the next login.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_login_at TIMESTAMP;

-- Recovery codes, each usable once; only a keyed hash is kept.
CREATE TABLE recovery_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- One-time links to set one's password (new accounts, resets): the token is derived from the nonce with the
-- server's key, so a copy of the database alone cannot open one.
CREATE TABLE credential_links (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    nonce TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- Mail about accounts and the directory (set-password links, security notices to a county mailbox and to a
-- replaced address), delivered by the worker like notifications: written in the same transaction as the
-- change, retried until the mail server takes it. params holds what the message says, never a secret.
CREATE TABLE account_mail (
    id BIGSERIAL PRIMARY KEY,
    address TEXT NOT NULL,
    language TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TIMESTAMP,
    last_error TEXT,
    locked_until TIMESTAMP
);
CREATE INDEX account_mail_due ON account_mail (sent_at, next_attempt_at);

-- The e-mail domains a county's recipient addresses and accounts must be in (set by the admin); an empty
-- list is not yet configured.
ALTER TABLE counties ADD COLUMN allowed_email_domains TEXT NOT NULL DEFAULT '[]';
