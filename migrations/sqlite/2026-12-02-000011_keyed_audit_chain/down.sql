ALTER TABLE audit_head DROP COLUMN keyed_from_seq;
ALTER TABLE audit_head DROP COLUMN chain_id;
