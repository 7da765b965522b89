DROP INDEX episodes_child;
DROP INDEX episodes_status_review;
