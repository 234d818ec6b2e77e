DROP TABLE audit_events;
DROP INDEX sessions_expires_at;
ALTER TABLE sessions DROP COLUMN expires_at;
