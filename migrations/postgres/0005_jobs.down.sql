DROP TABLE webhook_disabled;
DROP TABLE webhook_outbox;
DROP TABLE index_job_photos;
DROP TABLE index_jobs;
