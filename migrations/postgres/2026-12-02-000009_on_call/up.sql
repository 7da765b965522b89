-- Socialjour (on_call) serves several municipalities: their codes as a JSON list.
ALTER TABLE users ADD COLUMN municipality_codes TEXT NOT NULL DEFAULT '[]';
