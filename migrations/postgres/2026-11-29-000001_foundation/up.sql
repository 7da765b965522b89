CREATE TABLE counties (
    code TEXT PRIMARY KEY NOT NULL,
    letter TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    police_email TEXT,
    police_fallback_email TEXT,
    migrationsverket_email TEXT,
    trafficking_coordinator_email TEXT,
    county_email TEXT
);

CREATE TABLE municipalities (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    county_code TEXT NOT NULL REFERENCES counties(code),
    social_services_email TEXT,
    on_call_email TEXT
);
CREATE INDEX municipalities_county ON municipalities(county_code);

CREATE TABLE accommodations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    municipality_code TEXT NOT NULL REFERENCES municipalities(code),
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX accommodations_municipality ON accommodations(municipality_code);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    county_code TEXT REFERENCES counties(code),
    municipality_code TEXT REFERENCES municipalities(code),
    accommodation_id BIGINT REFERENCES accommodations(id),
    security_stamp TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    language TEXT NOT NULL DEFAULT 'sv',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE access_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_user_id BIGINT,
    actor_role TEXT,
    action TEXT NOT NULL,
    object_kind TEXT,
    object_id TEXT,
    county_code TEXT,
    ip TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX access_log_county_at ON access_log(county_code, at);
CREATE INDEX access_log_actor ON access_log(actor_user_id);

-- The log is append-only: the database itself refuses edits; `audit/verify` catches edits made around it.
CREATE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'access_log is append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log
FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
