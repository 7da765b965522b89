-- The access log's chain is keyed (HMAC-SHA-256, the key outside the database). `chain_id` names this log
-- so that the server finds its key; entries before `keyed_from_seq` were written with plain SHA-256 and are
-- verified as they were written.
ALTER TABLE audit_head ADD COLUMN chain_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN keyed_from_seq BIGINT NOT NULL DEFAULT 1;
UPDATE audit_head SET chain_id = lower(hex(randomblob(16))), keyed_from_seq = seq + 1;
