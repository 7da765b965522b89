DROP INDEX notifications_ack_due;
ALTER TABLE notifications DROP COLUMN escalation_level;
ALTER TABLE notifications DROP COLUMN gave_up_at;
ALTER TABLE notifications DROP COLUMN lock_owner;
