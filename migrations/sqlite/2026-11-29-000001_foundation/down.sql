DROP TABLE access_log;
DROP TABLE audit_head;
DROP TABLE users;
DROP TABLE accommodations;
DROP TABLE municipalities;
DROP TABLE counties;
