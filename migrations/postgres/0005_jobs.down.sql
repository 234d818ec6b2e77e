DROP TABLE index_job_photos;
DROP TABLE index_jobs;
