CREATE INDEX episodes_status_review ON episodes(status, review_due_at);
CREATE INDEX episodes_child ON episodes(child_id);
