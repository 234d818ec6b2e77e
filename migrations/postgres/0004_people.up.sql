-- People of a session: each face's person (faces grouped as one individual, in the
-- transaction that writes them; NULL: grouped with no other face yet). A person has two faces
-- or more, at most one per photo; its id is a time-ordered UUID, and when two persons merge the
-- older id stays. Sessions indexed before this step have never been grouped (`grouped` false):
-- their faces are grouped at their next write or by the background grouping.
ALTER TABLE faces ADD COLUMN person_id UUID;
CREATE INDEX faces_session_person ON faces (session_id, person_id) WHERE person_id IS NOT NULL;

ALTER TABLE sessions ADD COLUMN grouped BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE sessions SET grouped = FALSE;
CREATE INDEX sessions_ungrouped ON sessions (session_id) WHERE NOT grouped;
