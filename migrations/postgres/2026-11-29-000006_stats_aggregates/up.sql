-- Finished steps counted per county, day of discovery (Europe/Stockholm) and step, kept up to date in the
-- transaction that finishes a step, so county statistics never scan every step of every episode.
CREATE TABLE step_day_stats (
    county_code TEXT NOT NULL,
    day DATE NOT NULL,
    key TEXT NOT NULL,
    done_on_time BIGINT NOT NULL DEFAULT 0,
    done_late BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    within_72h BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (county_code, day, key)
);
ALTER TABLE episodes ADD COLUMN police_seconds BIGINT;
-- Covers the statistics scan of a county's episodes in a period, so it never reads the table itself.
CREATE INDEX episodes_stats ON episodes(county_code, discovered_at, child_id, municipality_code, status, child_age_years,
    child_sex, child_nationality, accommodation_kind, closure_reason, found_at, police_seconds);
