-- pgbench script for scripts/bench: the two statements bulkclaims-fcgi
-- runs for one GET .../progress/ (fcgi/auth.c sql_token, fcgi/jobs.c
-- job_fetch; copies: keep them in step).  Variables from pgbench -D:
-- token_hash ('\x...' of the demo token), org, job.
SELECT t.id, u.id, u.organization_id, u.role, u.is_active,
 (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
 FROM api_tokens t JOIN users u ON u.id = t.user_id
 WHERE t.token_hash = :token_hash::bytea AND t.revoked_at IS NULL
 AND (t.expires_at IS NULL OR t.expires_at > now());
SELECT id, user_id, filename, status, total_rows, processed_rows,
 success_count, failure_count, celery_task_id, result_file, error_message,
 (extract(epoch from created_at) * 1000000)::bigint,
 (extract(epoch from started_at) * 1000000)::bigint,
 (extract(epoch from completed_at) * 1000000)::bigint,
 (extract(epoch from processing_duration) * 1000000)::bigint,
 (extract(epoch from clock_timestamp()) * 1000000)::bigint,
 (extract(epoch from purged_at) * 1000000)::bigint,
 waiting_for_payer, chunks_total, chunks_done
 FROM csv_jobs WHERE organization_id = :org AND id = :job::uuid;
