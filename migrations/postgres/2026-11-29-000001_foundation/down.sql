DROP TABLE access_log;
DROP FUNCTION access_log_append_only();
DROP TABLE audit_head;
DROP TABLE users;
DROP TABLE accommodations;
DROP TABLE municipalities;
DROP TABLE counties;
