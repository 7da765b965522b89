-- The return conversation (återkomstsamtal) as a record, one per episode; a later record replaces it (the
-- timeline keeps each). stayed_with and actions are free text: cleared by retention, never shown to county
-- officers.
CREATE TABLE return_conversations (
    episode_id BIGINT PRIMARY KEY NOT NULL REFERENCES episodes(id),
    outcome TEXT NOT NULL,
    held_at TIMESTAMP,
    conducted_by TEXT,
    interpreter_used BOOLEAN NOT NULL DEFAULT 0,
    reasons TEXT NOT NULL DEFAULT '[]',
    exploitation_indicators TEXT NOT NULL DEFAULT '[]',
    stayed_with TEXT,
    actions TEXT,
    recorded_by BIGINT,
    recorded_at TIMESTAMP NOT NULL
);
