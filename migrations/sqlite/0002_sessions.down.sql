DROP INDEX photos_session_generation;
ALTER TABLE photos DROP COLUMN generation;
DROP TABLE sessions;
DROP TABLE facepass_generation;
