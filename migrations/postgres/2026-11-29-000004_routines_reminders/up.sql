ALTER TABLE episode_steps ADD COLUMN reminded_at TIMESTAMP;
ALTER TABLE episodes ADD COLUMN review_due_at TIMESTAMP;
ALTER TABLE episodes ADD COLUMN turned_18_prompted_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN payload TEXT;
CREATE TABLE reminder_digests (
    address TEXT NOT NULL,
    day DATE NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (address, day)
);
CREATE INDEX episode_steps_episode ON episode_steps(episode_id);
