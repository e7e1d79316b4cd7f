-- Reliability: who runs a job and when it last showed life,
-- so the worker's watchdog can requeue a job whose worker is gone; a
-- flag for "the payer is down, the job waits"; per-organisation webhooks.

-- worker_node: "<Celery node name>/<worker main pid>" of the run holding
-- the job.
-- worker_heartbeat_at: refreshed by the run (every result flush) and by
-- its worker's watchdog while the task is running; NULL when no run
-- holds the job.  watchdog_requeues: how often the watchdog requeued
-- the job (a job that kills its worker every time is failed at a limit).
ALTER TABLE csv_jobs
	ADD COLUMN worker_node		text,
	ADD COLUMN worker_heartbeat_at	timestamptz,
	ADD COLUMN waiting_for_payer	boolean NOT NULL DEFAULT false,
	ADD COLUMN watchdog_requeues	integer NOT NULL DEFAULT 0,
	ADD COLUMN cancel_requested_at	timestamptz,
	-- Notifications sent for the job's end (each once; NULL = not yet).
	ADD COLUMN email_sent_at	timestamptz,
	ADD COLUMN webhook_sent_at	timestamptz;

-- The watchdog's scans: unfinished jobs only.
CREATE INDEX csv_jobs_unfinished ON csv_jobs (status, created_at)
	WHERE status IN ('PENDING', 'PROCESSING', 'CANCELLING');

-- An optional webhook per organisation: JSON POSTed on completion or
-- failure, signed with HMAC-SHA256 under secret (hex in the
-- X-Bulkclaims-Signature header).
CREATE TABLE organization_webhooks (
	organization_id	bigint PRIMARY KEY REFERENCES organizations(id)
			ON DELETE CASCADE,
	url		text NOT NULL CHECK (url ~ '^https?://'),
	secret		text NOT NULL,
	is_active	boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now()
);
