DELETE FROM audit_events WHERE action = 'watch_end';
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check
    CHECK (action IN ('delete_session', 'delete_photo', 'expire', 'forget'));
ALTER TABLE audit_events DROP COLUMN reason;
ALTER TABLE audit_events DROP COLUMN watch_id;
DELETE FROM webhook_outbox WHERE payload IS NOT NULL;
ALTER TABLE webhook_outbox DROP COLUMN payload;
DROP TABLE watch_matches;
DROP TABLE watches;
ALTER TABLE sessions DROP COLUMN watches_generation;
