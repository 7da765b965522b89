DROP INDEX episode_steps_episode;
DROP TABLE reminder_digests;
ALTER TABLE notifications DROP COLUMN payload;
ALTER TABLE episodes DROP COLUMN turned_18_prompted_at;
ALTER TABLE episodes DROP COLUMN review_due_at;
ALTER TABLE episode_steps DROP COLUMN reminded_at;
