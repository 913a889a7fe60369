DROP TABLE IF EXISTS job_leases, email_locks;
