DROP INDEX sessions_ungrouped;
ALTER TABLE sessions DROP COLUMN grouped;
DROP INDEX faces_session_person;
ALTER TABLE faces DROP COLUMN person_id;
