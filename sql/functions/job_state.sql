-- The one owner of a job's lifecycle state.  Every write to csv_jobs,
-- to the result columns of csv_job_rows and to csv_job_chunks goes
-- through a function below (C callers: lib/job.c); no program writes
-- those tables with its own SQL.  Each transition names the states it
-- leaves in its WHERE clause, owns the counters and timestamps it
-- touches, and says whether it applied.  docs/state-machine.md draws
-- the machine.
--
--   PENDING ----claim----> PROCESSING ----finish----> COMPLETED
--      |                    |   |  \------fail------> FAILED
--      |                    |   \--cancel--> CANCELLING --cancelled--> CANCELLED
--      \------cancel--------+---------------------------------------> CANCELLED
--   PROCESSING --requeue--> PENDING;  COMPLETED/FAILED/CANCELLED --retry--> PENDING

-- The states a run may still change: a job in one of them is "running".
CREATE OR REPLACE FUNCTION job_running(p_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT p_status IN ('PENDING', 'PROCESSING', 'CANCELLING')
$$;

-- A new job, PENDING, before its rows are copied (the rows' check
-- trigger wants the job to exist).
CREATE OR REPLACE FUNCTION job_create(p_job uuid, p_org bigint, p_user bigint,
    p_filename text, p_task text, p_sha256 bytea,
    p_workflow text DEFAULT 'status')
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO csv_jobs (id, organization_id, user_id, filename, status,
	    celery_task_id, file_sha256, workflow)
	VALUES (p_job, p_org, p_user, p_filename, 'PENDING', p_task,
	    p_sha256, p_workflow)
$$;

-- The upload's totals once its rows are in: rows refused by validation
-- are processed and failed from the start.  PENDING only.
CREATE OR REPLACE FUNCTION job_intake_done(p_job uuid, p_total integer,
    p_invalid integer, p_columns jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE csv_jobs SET total_rows = p_total, processed_rows = p_invalid,
	    failure_count = p_invalid, input_columns = p_columns
	WHERE id = p_job AND status = 'PENDING';
	RETURN FOUND;
END
$$;

-- An upload whose task could not be queued: the job and its rows go.
-- PENDING only.
CREATE OR REPLACE FUNCTION job_discard(p_job uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM csv_jobs WHERE id = p_job AND status = 'PENDING';
	RETURN FOUND;
END
$$;

-- A run takes the job: PENDING, or PROCESSING that no run holds
-- (heartbeat NULL: the run before stopped cleanly) or whose heartbeat
-- is older than p_stale_s (its worker is gone).  No row: not ours
-- (finished, unknown, or held by another live run).
CREATE OR REPLACE FUNCTION job_claim(p_job uuid, p_task text, p_node text,
    p_stale_s integer)
RETURNS TABLE (organization_id bigint, provider_code text,
    transaction_code text)
LANGUAGE sql AS $$
	UPDATE csv_jobs j SET status = 'PROCESSING',
	    started_at = COALESCE(j.started_at, now()), error_message = NULL,
	    celery_task_id = p_task, worker_node = p_node,
	    worker_heartbeat_at = now(), waiting_for_payer = false
	WHERE j.id = p_job AND (j.status = 'PENDING' OR
	    (j.status = 'PROCESSING' AND (j.worker_heartbeat_at IS NULL OR
	    j.worker_heartbeat_at < now() - make_interval(secs => p_stale_s))))
	RETURNING j.organization_id, j.provider_code, j.transaction_code
$$;

-- Whether a row still needs a payer answer under the job's workflow:
-- no status yet, or (status stored and found) the details or payments
-- its workflow wants are not stored.  A failed or not-found status
-- stores NOT_REQUESTED / NOT_FOUND for them with it, and a row refused
-- at intake needs nothing more.  Duplicates follow their first row.
CREATE OR REPLACE FUNCTION job_row_open(p_workflow text, p_success boolean,
    p_details text, p_payments text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT p_success IS NULL OR (p_success AND (
	    (p_workflow IN ('details', 'full') AND p_details IS NULL) OR
	    (p_workflow IN ('payment', 'full') AND p_payments IS NULL)))
$$;

-- Adds to the job's counters and returns its status.  p_delta holds
-- the increments by column name (processed_rows, success_count,
-- failure_count; a missing key adds nothing): a new counter is one more
-- line here and one more key in its callers.  p_waiting NOT NULL: a run
-- reports too (heartbeat now, waiting_for_payer as given).  Counts in
-- any state: results stored by a run that is being cancelled count.
CREATE OR REPLACE FUNCTION job_count_results(p_job uuid, p_delta jsonb,
    p_waiting boolean DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
BEGIN
	UPDATE csv_jobs SET
	    processed_rows = processed_rows +
		COALESCE((p_delta->>'processed_rows')::int, 0),
	    success_count = success_count +
		COALESCE((p_delta->>'success_count')::int, 0),
	    failure_count = failure_count +
		COALESCE((p_delta->>'failure_count')::int, 0),
	    calls_status = calls_status +
		COALESCE((p_delta->>'calls_status')::int, 0),
	    calls_details = calls_details +
		COALESCE((p_delta->>'calls_details')::int, 0),
	    calls_payment = calls_payment +
		COALESCE((p_delta->>'calls_payment')::int, 0),
	    calls_triage = calls_triage +
		COALESCE((p_delta->>'calls_triage')::int, 0),
	    worker_heartbeat_at = CASE WHEN p_waiting IS NULL
		THEN worker_heartbeat_at ELSE now() END,
	    waiting_for_payer = COALESCE(p_waiting, waiting_for_payer)
	WHERE id = p_job RETURNING status INTO st;
	RETURN st;
END
$$;

-- job_store_results' details part: the rows' detail columns and their
-- lines, each row once (its duplicates get the same).  js: the batch.
CREATE OR REPLACE FUNCTION job_store_details(p_job uuid, js jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	WITH e AS (SELECT (x->>'row_number')::int AS row_number,
	    x->'details' AS d FROM jsonb_array_elements(js) x
	    WHERE jsonb_typeof(x->'details') = 'object'),
	v AS (SELECT e.row_number, e.d, y.* FROM e, jsonb_to_record(e.d) AS y(
	    details_result text, details_note text, service_from date,
	    service_to date, deductible numeric, copay numeric,
	    coinsurance numeric, denied_amount numeric, line_count int,
	    denied_line_count int, carc_codes text, rarc_codes text)),
	u AS (UPDATE csv_job_rows r SET details_result = v.details_result,
	    details_note = v.details_note, service_from = v.service_from,
	    service_to = v.service_to, deductible = v.deductible,
	    copay = v.copay, coinsurance = v.coinsurance,
	    denied_amount = v.denied_amount, line_count = v.line_count,
	    denied_line_count = v.denied_line_count,
	    carc_codes = v.carc_codes, rarc_codes = v.rarc_codes,
	    details_checked_at = now()
	FROM v
	WHERE r.job_id = p_job AND r.row_number = v.row_number
	    AND r.row_number BETWEEN (SELECT min(row_number) FROM v)
		AND (SELECT max(row_number) FROM v)
	    AND r.details_result IS NULL RETURNING r.row_number, v.d),
	-- The same claim's duplicate rows get the same answer (as the
	-- status: csv_rows_fill_duplicates).
	dup AS (UPDATE csv_job_rows r SET details_result = v.details_result,
	    details_note = v.details_note, service_from = v.service_from,
	    service_to = v.service_to, deductible = v.deductible,
	    copay = v.copay, coinsurance = v.coinsurance,
	    denied_amount = v.denied_amount, line_count = v.line_count,
	    denied_line_count = v.denied_line_count,
	    carc_codes = v.carc_codes, rarc_codes = v.rarc_codes,
	    details_checked_at = now()
	FROM u JOIN v ON v.row_number = u.row_number
	WHERE r.job_id = p_job AND r.duplicate_of = u.row_number
	    AND r.details_result IS NULL RETURNING r.row_number, v.d),
	a AS (SELECT row_number, d FROM u UNION ALL
	    SELECT row_number, d FROM dup)
	INSERT INTO csv_job_lines (job_id, row_number, line_number,
	    procedure_code, modifiers, units, service_date, charged, allowed,
	    paid, patient_resp, adjustments, carc_codes, remark_codes, denied)
	SELECT p_job, a.row_number, l.line_number, l.procedure_code,
	    l.modifiers, l.units, l.service_date, l.charged, l.allowed, l.paid,
	    l.patient_resp, l.adjustments, l.carc_codes, l.remark_codes,
	    l.denied
	FROM a, jsonb_to_recordset(a.d->'lines') AS l(line_number int,
	    procedure_code text, modifiers text, units numeric,
	    service_date date, charged numeric, allowed numeric, paid numeric,
	    patient_resp numeric, adjustments text, carc_codes text,
	    remark_codes text, denied boolean)
	WHERE jsonb_typeof(a.d->'lines') = 'array';
END
$$;

-- job_store_results' payments part: the rows' payment columns and their
-- payments, each row once (its duplicates get the same).  js: the batch.
CREATE OR REPLACE FUNCTION job_store_payments(p_job uuid, js jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	WITH e AS (SELECT (x->>'row_number')::int AS row_number,
	    x->'payments' AS d FROM jsonb_array_elements(js) x
	    WHERE jsonb_typeof(x->'payments') = 'object'),
	v AS (SELECT e.row_number, e.d, y.* FROM e, jsonb_to_record(e.d) AS y(
	    payments_result text, payments_note text, payment_method text,
	    payment_numbers text, payment_dates text,
	    claim_paid_amount numeric, void_reissue boolean)),
	u AS (UPDATE csv_job_rows r SET payments_result = v.payments_result,
	    payments_note = v.payments_note,
	    payment_method = v.payment_method,
	    payment_numbers = v.payment_numbers,
	    payment_dates = v.payment_dates,
	    claim_paid_amount = v.claim_paid_amount,
	    void_reissue = v.void_reissue, payments_checked_at = now()
	FROM v
	WHERE r.job_id = p_job AND r.row_number = v.row_number
	    AND r.row_number BETWEEN (SELECT min(row_number) FROM v)
		AND (SELECT max(row_number) FROM v)
	    AND r.payments_result IS NULL RETURNING r.row_number, v.d),
	dup AS (UPDATE csv_job_rows r SET payments_result = v.payments_result,
	    payments_note = v.payments_note,
	    payment_method = v.payment_method,
	    payment_numbers = v.payment_numbers,
	    payment_dates = v.payment_dates,
	    claim_paid_amount = v.claim_paid_amount,
	    void_reissue = v.void_reissue, payments_checked_at = now()
	FROM u JOIN v ON v.row_number = u.row_number
	WHERE r.job_id = p_job AND r.duplicate_of = u.row_number
	    AND r.payments_result IS NULL RETURNING r.row_number, v.d),
	a AS (SELECT row_number, d FROM u UNION ALL
	    SELECT row_number, d FROM dup)
	INSERT INTO csv_job_payments (job_id, row_number, seq, payment_number,
	    payment_method, issue_date, payment_amount, claim_paid_amount,
	    status, payee_name)
	SELECT p_job, a.row_number, p.seq, p.payment_number,
	    p.payment_method, p.issue_date, p.payment_amount,
	    p.claim_paid_amount, p.status, p.payee_name
	FROM a, jsonb_to_recordset(a.d->'list') AS p(seq int,
	    payment_number text, payment_method text, issue_date date,
	    payment_amount numeric, claim_paid_amount numeric, status text,
	    payee_name text)
	WHERE jsonb_typeof(a.d->'list') = 'array';
END
$$;

-- The worker's result flush: stores a batch of answers (a JSON array,
-- one object per payer answer) and counts them, in one call.  An
-- object's parts, each stored only if its row has none yet (so an
-- answer is stored and counted once):
--   status: the keys named like the status columns, "success" not null;
--     with it details_result/details_note, payments_result/
--     payments_note when the workflow asks for no details/payment call
--     (NOT_REQUESTED, NOT_FOUND), so the row is complete at once;
--   "details": the detail columns (derived ones included) and "lines";
--   "payments": the payment columns and "list", the payments.
-- Each stored answer is kept in the claims ledger too (claims_ledger.sql).
-- p_calls: payer requests sent since the last flush ({"calls_status":
-- n, ...}).  Returns the job's status (anything but PROCESSING stops
-- the run), NULL if the job is gone.
--
-- Speed (docs/benchmarks.md): a status batch is one statement that
-- reads the JSON once (json_to_recordset), updates the rows and writes
-- their ledger entries from the values the update returns; the details
-- and payments statements run only for a batch that names such a part
-- (a status-only job never plans them).  The session setting
-- bulkclaims.bench_no_ledger = on skips the ledger: for scripts/bench
-- only, which measures what the ledger costs; nothing else sets it.
CREATE OR REPLACE FUNCTION job_store_results(p_job uuid, p_rows json,
    p_waiting boolean, p_calls jsonb DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	ledger boolean := current_setting('bulkclaims.bench_no_ledger', true)
	    IS DISTINCT FROM 'on';
	-- The details and payments parts are JSON keys: a batch whose text
	-- has neither (a status-only job's) skips their statements.  A
	-- string value equal to the key only costs a statement that finds
	-- nothing.
	has_details boolean := strpos(p_rows::text, '"details"') > 0;
	has_payments boolean := strpos(p_rows::text, '"payments"') > 0;
	js jsonb;
	n integer;
	ok integer;
	bad integer;
BEGIN
	-- Status: the row's columns; its ledger entry from the values the
	-- update returns (the row as stored, no second read; the columns of
	-- claim_ledger_store).  A retried row's entry is replaced.
	WITH v AS (SELECT * FROM json_to_recordset(p_rows) AS x(
	    row_number int, status text, patient_name text,
	    total_charged numeric, total_paid numeric, processed_date date,
	    success boolean, error_message text, attempts int,
	    lookup_result text, status_category_code text, status_code text,
	    status_description text, payer_claim_number text,
	    total_allowed numeric, patient_responsibility numeric,
	    check_number text, check_date date, member_match boolean,
	    details_result text, details_note text, payments_result text,
	    payments_note text, found_by text, not_found_reason text,
	    matched_claim_number text, triage_calls int)
	    WHERE x.success IS NOT NULL),
	u AS (UPDATE csv_job_rows r SET status = v.status,
	    patient_name = v.patient_name, total_charged = v.total_charged,
	    total_paid = v.total_paid, processed_date = v.processed_date,
	    success = v.success, error_message = v.error_message,
	    attempts = r.attempts + v.attempts, checked_at = now(),
	    lookup_result = v.lookup_result,
	    status_category_code = v.status_category_code,
	    status_code = v.status_code,
	    status_description = v.status_description,
	    payer_claim_number = v.payer_claim_number,
	    total_allowed = v.total_allowed,
	    patient_responsibility = v.patient_responsibility,
	    check_number = v.check_number, check_date = v.check_date,
	    member_match = v.member_match,
	    found_by = v.found_by, not_found_reason = v.not_found_reason,
	    matched_claim_number = v.matched_claim_number,
	    triage_calls = r.triage_calls + COALESCE(v.triage_calls, 0),
	    details_result = COALESCE(r.details_result, v.details_result),
	    details_note = COALESCE(r.details_note, v.details_note),
	    payments_result = COALESCE(r.payments_result, v.payments_result),
	    payments_note = COALESCE(r.payments_note, v.payments_note)
	FROM v
	WHERE r.job_id = p_job AND r.row_number = v.row_number
	    -- The batch's range of row numbers as an index condition: the
	    -- planner then reads only that stretch of the primary key,
	    -- whatever it estimates for the job (a hash join over all of a
	    -- big job's open rows made each flush cost O(job size)).
	    -- Claims are handed out in row order, so a batch spans about
	    -- the rows in flight.
	    AND r.row_number BETWEEN (SELECT min(row_number) FROM v)
		AND (SELECT max(row_number) FROM v)
	    AND r.success IS NULL
	RETURNING r.row_number, r.claim_number, r.checked_at, r.success,
	    r.status, r.lookup_result, r.status_category_code, r.status_code,
	    r.total_charged, r.total_allowed, r.total_paid, r.details_result,
	    r.carc_codes, r.payments_result, r.payment_numbers,
	    r.claim_paid_amount),
	l AS (INSERT INTO claim_ledger (organization_id, claim_number, job_id,
	    row_number, checked_at, status, lookup_result,
	    status_category_code, status_code, total_charged, total_allowed,
	    total_paid, details_result, carc_codes, payments_result,
	    payment_numbers, claim_paid_amount)
	SELECT (SELECT j.organization_id FROM csv_jobs j WHERE j.id = p_job),
	    u.claim_number, p_job, u.row_number, u.checked_at, u.status,
	    u.lookup_result, u.status_category_code, u.status_code,
	    u.total_charged, u.total_allowed, u.total_paid, u.details_result,
	    u.carc_codes, u.payments_result, u.payment_numbers,
	    u.claim_paid_amount
	FROM u WHERE ledger AND u.claim_number IS NOT NULL
	ON CONFLICT (job_id, row_number) DO UPDATE SET
	    claim_number = EXCLUDED.claim_number,
	    checked_at = EXCLUDED.checked_at, status = EXCLUDED.status,
	    lookup_result = EXCLUDED.lookup_result,
	    status_category_code = EXCLUDED.status_category_code,
	    status_code = EXCLUDED.status_code,
	    total_charged = EXCLUDED.total_charged,
	    total_allowed = EXCLUDED.total_allowed,
	    total_paid = EXCLUDED.total_paid,
	    details_result = EXCLUDED.details_result,
	    carc_codes = EXCLUDED.carc_codes,
	    payments_result = EXCLUDED.payments_result,
	    payment_numbers = EXCLUDED.payment_numbers,
	    claim_paid_amount = EXCLUDED.claim_paid_amount)
	SELECT count(*), count(*) FILTER (WHERE success),
	    count(*) FILTER (WHERE NOT success) INTO n, ok, bad FROM u;

	-- Details and payments (full, details and payment workflows).
	IF has_details OR has_payments THEN
		js := p_rows::jsonb;
	END IF;
	IF has_details THEN
		PERFORM job_store_details(p_job, js);
	END IF;
	IF has_payments THEN
		PERFORM job_store_payments(p_job, js);
	END IF;

	-- The ledger entries of the rows whose details or payments came:
	-- re-read as stored (claims_ledger.sql).
	IF ledger AND (has_details OR has_payments) THEN
		PERFORM claim_ledger_store(p_job, ARRAY(SELECT
		    (x->>'row_number')::int FROM jsonb_array_elements(js) x
		    WHERE jsonb_typeof(x->'details') = 'object'
		    OR jsonb_typeof(x->'payments') = 'object'));
	END IF;

	RETURN job_count_results(p_job, jsonb_build_object(
	    'processed_rows', n, 'success_count', ok, 'failure_count', bad) ||
	    COALESCE(p_calls, '{}'::jsonb), p_waiting);
END
$$;

-- The same claim number twice in one file is checked once (the upload
-- marks the later rows duplicate_of the first): when the first row's
-- result is stored it is copied to its duplicates and counted.
CREATE OR REPLACE FUNCTION csv_rows_fill_duplicates() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	UPDATE csv_job_rows d SET status = NEW.status,
	    patient_name = NEW.patient_name,
	    total_charged = NEW.total_charged, total_paid = NEW.total_paid,
	    processed_date = NEW.processed_date, success = NEW.success,
	    error_message = NEW.error_message, checked_at = NEW.checked_at,
	    lookup_result = NEW.lookup_result,
	    status_category_code = NEW.status_category_code,
	    status_code = NEW.status_code,
	    status_description = NEW.status_description,
	    payer_claim_number = NEW.payer_claim_number,
	    total_allowed = NEW.total_allowed,
	    patient_responsibility = NEW.patient_responsibility,
	    check_number = NEW.check_number, check_date = NEW.check_date,
	    member_match = NEW.member_match,
	    found_by = NEW.found_by, not_found_reason = NEW.not_found_reason,
	    matched_claim_number = NEW.matched_claim_number,
	    details_result = COALESCE(d.details_result, NEW.details_result),
	    details_note = COALESCE(d.details_note, NEW.details_note),
	    payments_result = COALESCE(d.payments_result,
		NEW.payments_result),
	    payments_note = COALESCE(d.payments_note, NEW.payments_note)
	WHERE d.job_id = NEW.job_id AND d.duplicate_of = NEW.row_number
	    AND d.success IS NULL;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		PERFORM job_count_results(NEW.job_id, jsonb_build_object(
		    'processed_rows', n,
		    'success_count', CASE WHEN NEW.success THEN n ELSE 0 END,
		    'failure_count', CASE WHEN NEW.success THEN 0 ELSE n END));
	END IF;
	RETURN NULL;
END
$$;

-- Deferred to the end of the storing transaction: the statement that
-- stores a result updates csv_jobs too, and one statement cannot update
-- a row that a trigger it fired has already updated.  Created once
-- (constraint triggers have no CREATE OR REPLACE, and dropping one would
-- lock csv_job_rows on every migrate).
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_trigger
	    WHERE tgname = 'csv_job_rows_fill_duplicates'
	    AND tgrelid = 'csv_job_rows'::regclass) THEN
		CREATE CONSTRAINT TRIGGER csv_job_rows_fill_duplicates
			AFTER UPDATE OF success ON csv_job_rows
			DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW
			WHEN (NEW.has_duplicates AND OLD.success IS NULL
			    AND NEW.success IS NOT NULL)
			EXECUTE FUNCTION csv_rows_fill_duplicates();
	END IF;
END
$$;

-- A run shows life (and whether it waits for the payer); returns the
-- status (anything but PROCESSING stops the run), NULL if gone.
CREATE OR REPLACE FUNCTION job_heartbeat(p_job uuid, p_waiting boolean)
RETURNS text
LANGUAGE sql AS $$
	UPDATE csv_jobs SET worker_heartbeat_at = now(),
	    waiting_for_payer = p_waiting
	WHERE id = p_job RETURNING status
$$;

-- The watchdog's heartbeat for the jobs whose tasks its worker runs
-- (PROCESSING or CANCELLING).  Returns how many.
CREATE OR REPLACE FUNCTION job_heartbeat_tasks(p_tasks text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	UPDATE csv_jobs SET worker_heartbeat_at = now()
	WHERE celery_task_id = ANY (p_tasks)
	    AND status IN ('PROCESSING', 'CANCELLING');
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- A run lets go of a PROCESSING job without finishing it (worker
-- stopping, chunks not published, rows left after the chunks): no run
-- holds it, so the next message (or the watchdog) takes it.
CREATE OR REPLACE FUNCTION job_release(p_job uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE csv_jobs SET worker_heartbeat_at = NULL, worker_node = NULL
	WHERE id = p_job AND status = 'PROCESSING';
	RETURN FOUND;
END
$$;

-- Splits a PROCESSING job's open rows into chunks of p_per rows
-- (csv_job_chunks replaced) and returns them in order.  p_per 0: the
-- job runs inline; the chunks of an earlier split are forgotten, so
-- their messages still queued find no row and do nothing.  No single
-- task holds a chunked job: worker_node NULL so no watchdog takes it
-- for its orphan; the heartbeat is fresh so a duplicate message does
-- not split it again.
CREATE OR REPLACE FUNCTION job_plan_chunks(p_job uuid, p_per integer)
RETURNS TABLE (first_row integer, last_row integer)
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
	wf text;
BEGIN
	SELECT workflow INTO wf FROM csv_jobs
	    WHERE id = p_job AND status = 'PROCESSING' FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	DELETE FROM csv_job_chunks c WHERE c.job_id = p_job;
	IF p_per <= 0 THEN
		UPDATE csv_jobs SET chunks_total = 0, chunks_done = 0
		WHERE id = p_job AND chunks_total > 0;
		RETURN;
	END IF;
	INSERT INTO csv_job_chunks (job_id, first_row, last_row)
	SELECT p_job, min(s.row_number), max(s.row_number)
	FROM (SELECT r.row_number, (row_number() OVER (ORDER BY r.row_number)
	    - 1) / p_per AS k FROM csv_job_rows r WHERE r.job_id = p_job
	    AND job_row_open(wf, r.success, r.details_result,
		r.payments_result) AND r.duplicate_of IS NULL) s
	GROUP BY s.k;
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE csv_jobs SET chunks_total = n, chunks_done = 0,
	    worker_node = NULL, worker_heartbeat_at = now()
	WHERE id = p_job;
	RETURN QUERY SELECT c.first_row, c.last_row FROM csv_job_chunks c
	    WHERE c.job_id = p_job ORDER BY c.first_row;
END
$$;

-- A chunk of the current split starts (first taken by a worker).
CREATE OR REPLACE FUNCTION job_chunk_start(p_job uuid, p_first integer,
    p_last integer)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE csv_job_chunks SET started_at = COALESCE(started_at, now())
	WHERE job_id = p_job AND first_row = p_first AND last_row = p_last;
	RETURN FOUND;
END
$$;

-- A chunk of the current split is done: counted once (done_at makes a
-- re-delivery count nothing).  Returns one row when it counted: whether
-- it was the last chunk, and the job's status.  Also keeps alive the
-- other chunked jobs whose chunks wait in the queue (the workers are
-- busy, not gone); a job whose chunks all started gets no help: its
-- running chunks beat for it.
CREATE OR REPLACE FUNCTION job_chunk_done(p_job uuid, p_first integer,
    p_last integer, p_by text)
RETURNS TABLE (last_chunk boolean, status text)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY WITH c AS (UPDATE csv_job_chunks SET done_at = now(),
	    done_by = p_by WHERE job_id = p_job AND first_row = p_first
	    AND last_row = p_last AND done_at IS NULL RETURNING 1)
	UPDATE csv_jobs j SET chunks_done = j.chunks_done + 1,
	    worker_heartbeat_at = CASE WHEN j.status = 'PROCESSING'
		THEN now() ELSE j.worker_heartbeat_at END
	WHERE j.id = p_job AND EXISTS (SELECT 1 FROM c)
	RETURNING j.chunks_done >= j.chunks_total, j.status;
	UPDATE csv_jobs j SET worker_heartbeat_at = now()
	WHERE j.status = 'PROCESSING' AND j.worker_node IS NULL
	    AND j.chunks_done < j.chunks_total AND j.id <> p_job
	    AND EXISTS (SELECT 1 FROM csv_job_chunks c WHERE c.job_id = j.id
		AND c.started_at IS NULL);
END
$$;

-- PROCESSING -> COMPLETED when no row is open (job_row_open; a
-- duplicate needs its status only).  Returns whether it applied.
CREATE OR REPLACE FUNCTION job_finish(p_job uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE csv_jobs SET status = 'COMPLETED', completed_at = now(),
	    processing_duration = now() - started_at,
	    waiting_for_payer = false, worker_heartbeat_at = NULL
	WHERE id = p_job AND status = 'PROCESSING' AND NOT EXISTS (
	    SELECT 1 FROM csv_job_rows r WHERE r.job_id = p_job
		AND (r.success IS NULL OR (r.duplicate_of IS NULL AND
		job_row_open(csv_jobs.workflow, r.success, r.details_result,
		r.payments_result))));
	RETURN FOUND;
END
$$;

-- PENDING or PROCESSING -> FAILED with a message (no PHI).  p_task
-- not NULL: only while the job still belongs to that task (a retry
-- whose message could not be queued takes its job back this way).
-- Returns whether it applied.
CREATE OR REPLACE FUNCTION job_fail(p_job uuid, p_message text,
    p_task text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE csv_jobs SET status = 'FAILED', error_message = p_message,
	    completed_at = now(), worker_heartbeat_at = NULL,
	    waiting_for_payer = false,
	    processing_duration = now() - COALESCE(started_at, created_at)
	WHERE id = p_job AND status IN ('PENDING', 'PROCESSING')
	    AND (p_task IS NULL OR celery_task_id = p_task);
	RETURN FOUND;
END
$$;

-- The watchdog: PROCESSING jobs without a heartbeat for p_stale_s that
-- lost their worker p_max times already -> FAILED.  Returns their ids.
CREATE OR REPLACE FUNCTION job_fail_lost(p_stale_s integer, p_max integer)
RETURNS SETOF uuid
LANGUAGE sql AS $$
	UPDATE csv_jobs SET status = 'FAILED',
	    error_message = 'The job stopped its worker too many times.',
	    completed_at = now(), worker_heartbeat_at = NULL,
	    waiting_for_payer = false,
	    processing_duration = now() - COALESCE(started_at, created_at)
	WHERE status = 'PROCESSING' AND COALESCE(worker_heartbeat_at,
	    started_at, created_at) < now() - make_interval(secs => p_stale_s)
	    AND watchdog_requeues >= p_max
	RETURNING id
$$;

-- The watchdog: PROCESSING jobs without a heartbeat for p_stale_s
-- (their worker is gone) -> PENDING, counted in watchdog_requeues; the
-- caller puts their messages back.  Below p_max requeues only (see
-- job_fail_lost).
CREATE OR REPLACE FUNCTION job_requeue(p_stale_s integer, p_max integer)
RETURNS TABLE (id uuid, celery_task_id text)
LANGUAGE sql AS $$
	UPDATE csv_jobs SET status = 'PENDING', worker_heartbeat_at = NULL,
	    worker_node = NULL, waiting_for_payer = false,
	    watchdog_requeues = watchdog_requeues + 1
	WHERE status = 'PROCESSING' AND COALESCE(worker_heartbeat_at,
	    started_at, created_at) < now() - make_interval(secs => p_stale_s)
	    AND watchdog_requeues < p_max
	RETURNING id, celery_task_id
$$;

-- The watchdog of node p_node: its PROCESSING jobs whose task is not
-- among p_running (the tasks its processes run) and whose heartbeat is
-- older than p_grace_s -> PENDING, as job_requeue.
CREATE OR REPLACE FUNCTION job_requeue_orphans(p_node text, p_running text[],
    p_grace_s integer, p_max integer)
RETURNS TABLE (id uuid, celery_task_id text)
LANGUAGE sql AS $$
	UPDATE csv_jobs SET status = 'PENDING', worker_heartbeat_at = NULL,
	    worker_node = NULL, waiting_for_payer = false,
	    watchdog_requeues = watchdog_requeues + 1
	WHERE status = 'PROCESSING' AND worker_node = p_node
	    AND NOT (celery_task_id = ANY (p_running))
	    AND watchdog_requeues < p_max
	    AND worker_heartbeat_at < now() - make_interval(secs => p_grace_s)
	RETURNING id, celery_task_id
$$;

-- The user cancels.  PENDING -> CANCELLED at once; PROCESSING or
-- CANCELLING -> CANCELLING, or CANCELLED when no heartbeat came for
-- p_stale_s (nobody is left to see the request).  No row: no such job
-- in organisation p_org.  applied false: finished, status says how.
CREATE OR REPLACE FUNCTION job_cancel(p_job uuid, p_org bigint, p_stale_s integer)
RETURNS TABLE (applied boolean, status text)
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	gone boolean;
BEGIN
	SELECT j.status, COALESCE(j.worker_heartbeat_at, j.started_at,
	    j.created_at) < now() - make_interval(secs => p_stale_s)
	INTO st, gone FROM csv_jobs j
	WHERE j.id = p_job AND j.organization_id = p_org FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF st = 'PENDING' OR (st IN ('PROCESSING', 'CANCELLING') AND gone)
	THEN
		UPDATE csv_jobs SET status = 'CANCELLED',
		    cancel_requested_at = now(), completed_at = now(),
		    waiting_for_payer = false, worker_heartbeat_at = NULL,
		    processing_duration = now() - COALESCE(started_at,
			created_at)
		WHERE id = p_job;
		RETURN QUERY SELECT true, 'CANCELLED'::text;
	ELSIF st IN ('PROCESSING', 'CANCELLING') THEN
		UPDATE csv_jobs SET status = 'CANCELLING',
		    cancel_requested_at = now()
		WHERE id = p_job;
		RETURN QUERY SELECT true, 'CANCELLING'::text;
	ELSE
		RETURN QUERY SELECT false, st;
	END IF;
END
$$;

-- A run saw the cancel and stopped: CANCELLING -> CANCELLED (rows done
-- stay; the others stay unprocessed).  Returns whether it applied.
CREATE OR REPLACE FUNCTION job_cancelled(p_job uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE csv_jobs SET status = 'CANCELLED', completed_at = now(),
	    waiting_for_payer = false, worker_heartbeat_at = NULL,
	    processing_duration = now() - COALESCE(started_at, created_at)
	WHERE id = p_job AND status = 'CANCELLING';
	RETURN FOUND;
END
$$;

-- The watchdog: CANCELLING jobs nobody showed life for p_stale_s (no
-- run left to see the request) -> CANCELLED.  Returns their ids.
CREATE OR REPLACE FUNCTION job_cancel_orphans(p_stale_s integer)
RETURNS SETOF uuid
LANGUAGE sql AS $$
	UPDATE csv_jobs SET status = 'CANCELLED', completed_at = now(),
	    worker_heartbeat_at = NULL, waiting_for_payer = false,
	    processing_duration = now() - COALESCE(started_at, created_at)
	WHERE status = 'CANCELLING' AND COALESCE(worker_heartbeat_at,
	    cancel_requested_at, created_at) <
	    now() - make_interval(secs => p_stale_s)
	RETURNING id
$$;

-- The user retries a finished job (COMPLETED with failed rows, FAILED,
-- CANCELLED) under new task p_task: the rows that failed at the payer
-- lose their result ('Invalid' rows would fail again) with their
-- details and payments; rows whose details or payment call failed lose
-- that answer (and its lines or payments), so the run fetches it again;
-- the counters are recounted from the rows, the job is PENDING again.
-- Returns not_found, running, nothing_to_retry or retried, and the rows
-- left to check.
CREATE OR REPLACE FUNCTION job_retry(p_job uuid, p_org bigint, p_task text)
RETURNS TABLE (result text, todo bigint)
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	wf text;
	failed bigint;
BEGIN
	SELECT j.status, j.workflow INTO st, wf FROM csv_jobs j
	WHERE j.id = p_job AND j.organization_id = p_org FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'not_found'::text, 0::bigint;
		RETURN;
	END IF;
	IF job_running(st) THEN
		RETURN QUERY SELECT 'running'::text, 0::bigint;
		RETURN;
	END IF;
	SELECT count(*) INTO failed FROM csv_job_rows r
	WHERE r.job_id = p_job AND ((r.success = false
	    AND r.status IS DISTINCT FROM 'Invalid') OR
	    r.details_result = 'PAYER_ERROR' OR
	    r.payments_result = 'PAYER_ERROR');
	IF st = 'COMPLETED' AND failed = 0 THEN
		RETURN QUERY SELECT 'nothing_to_retry'::text, 0::bigint;
		RETURN;
	END IF;
	UPDATE csv_job_rows r SET status = NULL, patient_name = NULL,
	    total_charged = NULL, total_paid = NULL, processed_date = NULL,
	    success = NULL, error_message = NULL, checked_at = NULL
	WHERE r.job_id = p_job AND r.success = false
	    AND r.status IS DISTINCT FROM 'Invalid';
	-- Details and payments of the rows reset above (their markers
	-- went with the status) or whose own call failed.
	WITH d AS (UPDATE csv_job_rows r SET details_result = NULL,
	    details_note = NULL, service_from = NULL, service_to = NULL,
	    deductible = NULL, copay = NULL, coinsurance = NULL,
	    denied_amount = NULL, line_count = NULL,
	    denied_line_count = NULL, carc_codes = NULL, rarc_codes = NULL,
	    details_checked_at = NULL
	WHERE r.job_id = p_job AND r.details_result IS NOT NULL
	    AND (r.success IS NULL OR r.details_result = 'PAYER_ERROR')
	RETURNING r.row_number)
	DELETE FROM csv_job_lines l USING d
	WHERE l.job_id = p_job AND l.row_number = d.row_number;
	WITH d AS (UPDATE csv_job_rows r SET payments_result = NULL,
	    payments_note = NULL, payment_method = NULL,
	    payment_numbers = NULL, payment_dates = NULL,
	    claim_paid_amount = NULL, void_reissue = NULL,
	    payments_checked_at = NULL
	WHERE r.job_id = p_job AND r.payments_result IS NOT NULL
	    AND (r.success IS NULL OR r.payments_result = 'PAYER_ERROR')
	RETURNING r.row_number)
	DELETE FROM csv_job_payments p USING d
	WHERE p.job_id = p_job AND p.row_number = d.row_number;
	RETURN QUERY UPDATE csv_jobs j SET status = 'PENDING',
	    celery_task_id = p_task, started_at = NULL, completed_at = NULL,
	    processing_duration = NULL, error_message = NULL,
	    result_file = NULL, processed_rows = c.done,
	    success_count = c.ok, failure_count = c.bad
	FROM (SELECT count(r.success) AS done,
	    count(*) FILTER (WHERE r.success) AS ok,
	    count(*) FILTER (WHERE NOT r.success) AS bad,
	    count(*) FILTER (WHERE r.success IS NULL OR
		(r.duplicate_of IS NULL AND job_row_open(wf, r.success,
		r.details_result, r.payments_result))) AS left_
	    FROM csv_job_rows r WHERE r.job_id = p_job) c
	WHERE j.id = p_job RETURNING 'retried'::text, c.left_;
END
$$;

-- A job-end notification went out on channel email or webhook: sent
-- once (a retry of the notification task skips it).  COMPLETED or
-- FAILED jobs only (nothing else is notified).
CREATE OR REPLACE FUNCTION job_mark_notified(p_job uuid, p_channel text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	IF p_channel = 'email' THEN
		UPDATE csv_jobs SET email_sent_at = now()
		WHERE id = p_job AND status IN ('COMPLETED', 'FAILED');
	ELSIF p_channel = 'webhook' THEN
		UPDATE csv_jobs SET webhook_sent_at = now()
		WHERE id = p_job AND status IN ('COMPLETED', 'FAILED');
	ELSE
		RAISE invalid_parameter_value USING
		    MESSAGE = format('job_mark_notified: channel %s', p_channel);
	END IF;
	RETURN FOUND;
END
$$;

-- Deletes one job's rows (uploaded data and results) and marks the job
-- purged; the job record stays.  org NULL: any organisation (ctl).  A
-- running job is refused unless force (the retention purge: a job that
-- old is not running any more).  Returns not_found, running,
-- already_purged or purged.
CREATE OR REPLACE FUNCTION job_purge(p_job uuid, p_org bigint,
    p_force boolean)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	pu timestamptz;
BEGIN
	SELECT status, purged_at INTO st, pu FROM csv_jobs
	    WHERE id = p_job AND (p_org IS NULL OR organization_id = p_org)
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN 'not_found';
	END IF;
	IF pu IS NOT NULL THEN
		RETURN 'already_purged';
	END IF;
	IF NOT p_force AND job_running(st) THEN
		RETURN 'running';
	END IF;
	DELETE FROM csv_job_rows WHERE job_id = p_job;
	UPDATE csv_jobs SET purged_at = now(), result_file = NULL
	    WHERE id = p_job;
	RETURN 'purged';
END
$$;
