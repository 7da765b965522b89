CREATE TABLE children (
    id BIGSERIAL PRIMARY KEY,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    date_of_birth DATE NOT NULL,
    date_of_birth_estimated BOOLEAN NOT NULL DEFAULT FALSE,
    sex TEXT NOT NULL,
    nationality TEXT,
    languages TEXT NOT NULL DEFAULT '[]',
    dossier_number TEXT,
    asylum_status TEXT,
    responsible_municipality_code TEXT NOT NULL REFERENCES municipalities(code),
    assigning_municipality_code TEXT REFERENCES municipalities(code),
    social_worker_id BIGINT REFERENCES users(id),
    guardian_name TEXT,
    guardian_email TEXT,
    guardian_phone TEXT,
    guardian_language TEXT,
    preparedness TEXT NOT NULL DEFAULT '{}',
    pseudonymised_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX children_responsible ON children(responsible_municipality_code);

CREATE TABLE placements (
    id BIGSERIAL PRIMARY KEY,
    child_id BIGINT NOT NULL REFERENCES children(id),
    accommodation_id BIGINT NOT NULL REFERENCES accommodations(id),
    from_at TIMESTAMP NOT NULL,
    to_at TIMESTAMP,
    created_by BIGINT
);
CREATE UNIQUE INDEX placements_one_current ON placements(child_id) WHERE to_at IS NULL;
CREATE INDEX placements_accommodation ON placements(accommodation_id) WHERE to_at IS NULL;

CREATE TABLE child_photos (
    child_id BIGINT PRIMARY KEY NOT NULL REFERENCES children(id),
    content_type TEXT NOT NULL,
    data BYTEA NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    uploaded_by BIGINT
);

CREATE TABLE routine_versions (
    id BIGSERIAL PRIMARY KEY,
    county_code TEXT NOT NULL REFERENCES counties(code),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT,
    note TEXT,
    UNIQUE (county_code, version)
);

CREATE TABLE reference_counters (
    county_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (county_code, year)
);

CREATE TABLE episodes (
    id BIGSERIAL PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    county_code TEXT NOT NULL REFERENCES counties(code),
    municipality_code TEXT NOT NULL REFERENCES municipalities(code),
    responsible_municipality_code TEXT NOT NULL,
    accommodation_id BIGINT REFERENCES accommodations(id),
    child_id BIGINT NOT NULL REFERENCES children(id),
    routine_version_id BIGINT NOT NULL REFERENCES routine_versions(id),
    status TEXT NOT NULL,
    discovered_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    -- The free-text parts of the report (place, who saw, circumstances, clothing, belongings, search,
    -- whereabouts) as one JSON object: cleared in one write when personal data is pseudonymised.
    report TEXT NOT NULL DEFAULT '{}',
    whereabouts_known BOOLEAN NOT NULL DEFAULT FALSE,
    risk_level TEXT NOT NULL,
    risk_indicators TEXT NOT NULL DEFAULT '[]',
    risk_assessed BOOLEAN NOT NULL DEFAULT FALSE,
    police_reference TEXT,
    found_at TIMESTAMP,
    found_details TEXT,
    closed_at TIMESTAMP,
    closure_reason TEXT,
    closure_note TEXT,
    reported_by BIGINT,
    child_age_years INTEGER NOT NULL,
    child_sex TEXT NOT NULL,
    child_nationality TEXT,
    accommodation_kind TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- At most one open episode per child, enforced by the database itself.
CREATE UNIQUE INDEX episodes_one_open_per_child ON episodes(child_id) WHERE status <> 'closed';
CREATE INDEX episodes_county_discovered ON episodes(county_code, discovered_at);
CREATE INDEX episodes_accommodation ON episodes(accommodation_id);
CREATE INDEX episodes_responsible ON episodes(responsible_municipality_code);
CREATE INDEX episodes_municipality ON episodes(municipality_code);

CREATE TABLE episode_steps (
    id BIGSERIAL PRIMARY KEY,
    episode_id BIGINT NOT NULL REFERENCES episodes(id),
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    title_sv TEXT NOT NULL,
    title_en TEXT NOT NULL,
    responsible TEXT NOT NULL,
    phase TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    due_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    completed_at TIMESTAMP,
    completed_by BIGINT,
    note TEXT,
    UNIQUE (episode_id, key)
);
CREATE INDEX episode_steps_pending_due ON episode_steps(status, due_at);

CREATE TABLE episode_events (
    id BIGSERIAL PRIMARY KEY,
    episode_id BIGINT NOT NULL REFERENCES episodes(id),
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_role TEXT,
    actor_name TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX episode_events_episode ON episode_events(episode_id, at);

CREATE TABLE risk_assessments (
    id BIGSERIAL PRIMARY KEY,
    episode_id BIGINT NOT NULL REFERENCES episodes(id),
    level TEXT NOT NULL,
    suggested_level TEXT NOT NULL,
    indicators TEXT NOT NULL,
    note TEXT,
    assessed_by BIGINT,
    assessed_at TIMESTAMP NOT NULL
);
CREATE INDEX risk_assessments_episode ON risk_assessments(episode_id);

CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    episode_id BIGINT NOT NULL REFERENCES episodes(id),
    kind TEXT NOT NULL,
    recipient_kind TEXT NOT NULL,
    address TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    step_key TEXT,
    ack_required BOOLEAN NOT NULL,
    ack_nonce TEXT,
    ack_token_hash TEXT UNIQUE,
    ack_expires_at TIMESTAMP,
    ack_due_at TIMESTAMP,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    ack_reference TEXT,
    escalated_at TIMESTAMP,
    escalation_of BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    sent_at TIMESTAMP,
    smtp_reply TEXT,
    last_error TEXT,
    message_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_episode ON notifications(episode_id);
CREATE INDEX notifications_due ON notifications(status, next_attempt_at);

CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
