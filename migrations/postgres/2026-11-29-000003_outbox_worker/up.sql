ALTER TABLE notifications ADD COLUMN lock_owner TEXT;
ALTER TABLE notifications ADD COLUMN gave_up_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
CREATE INDEX notifications_ack_due ON notifications(ack_due_at) WHERE acknowledged_at IS NULL AND escalated_at IS NULL;
