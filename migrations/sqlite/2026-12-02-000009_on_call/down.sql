ALTER TABLE users DROP COLUMN municipality_codes;
