DROP INDEX episodes_stats;
ALTER TABLE episodes DROP COLUMN police_seconds;
DROP TABLE step_day_stats;
