-- bulkclaims schema, version 2: browser sessions, the audit log, login
-- throttling and retention.  Never edit once applied: add 003 instead.

-- Browser sessions.  The cookie holds a random id; only its SHA-256 is
-- stored, so a copy of the database cannot be replayed as a login.  The
-- idle timeout (session.idle_timeout_s) is checked against last_seen at
-- each request; expires_at is the absolute lifetime's end.
CREATE TABLE sessions (
	id_hash		bytea PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_token	text NOT NULL,
	address		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Who did what to which job, when, from where, and how it ended.  Never
-- patient data: ids, actions and outcomes only.  organization_id is NULL
-- for a failed login of an unknown user name (the typed name is not
-- kept: it is sometimes a password typed into the wrong field).
CREATE TABLE audit_log (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	organization_id	bigint REFERENCES organizations(id),
	user_id		bigint REFERENCES users(id),
	username	text,
	address		text,
	-- login, login_failed, logout, upload, view_job, download_results,
	-- retry, cancel, purge, purge_expired, credential_change,
	-- token_create, token_revoke, user_change, key_rotate
	action		text NOT NULL,
	job_id		uuid,
	-- success, failure, denied, throttled, or an HTTP status
	outcome		text NOT NULL,
	-- session, token or ctl
	via		text,
	-- a non-PHI remark: a token prefix, a role, a count
	detail		text
);
CREATE INDEX audit_log_org_id ON audit_log (organization_id, id DESC);
CREATE INDEX audit_log_at ON audit_log (at);

-- Append-only.  With one database role for the whole application,
-- REVOKE cannot protect the table from the application itself, so a
-- trigger refuses UPDATE, DELETE and TRUNCATE.  The one exception is the
-- retention purge, audit_purge() below: it sets a transaction-local
-- setting, and even then only rows older than the retention it names
-- (at least one day) can go.
CREATE FUNCTION audit_log_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	days int;
BEGIN
	IF TG_OP = 'DELETE' THEN
		days := nullif(current_setting('bulkclaims.audit_purge_days',
		    true), '')::int;
		IF days IS NOT NULL AND days >= 1 AND
		    OLD.at < now() - make_interval(days => days) THEN
			RETURN OLD;
		END IF;
	END IF;
	RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();

-- Deletes audit entries older than days (audit.retention_days); returns
-- how many went.
CREATE FUNCTION audit_purge(days int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	IF days IS NULL OR days < 1 THEN
		RAISE EXCEPTION 'audit retention must be at least one day';
	END IF;
	PERFORM set_config('bulkclaims.audit_purge_days', days::text, true);
	DELETE FROM audit_log WHERE at < now() - make_interval(days => days);
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM set_config('bulkclaims.audit_purge_days', '', true);
	RETURN n;
END
$$;

-- Login attempts, for throttling per account and per address.  The
-- account is the SHA-256 of the lower-cased name as typed (unknown names
-- are throttled too, and nothing typed is kept in clear).
CREATE TABLE login_attempts (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	username_hash	bytea NOT NULL,
	address		text NOT NULL,
	success		boolean NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (username_hash, at);
CREATE INDEX login_attempts_addr ON login_attempts (address, at);

-- Retention: rows and results of a job are deleted after retention.days;
-- the job record stays, marked purged.
ALTER TABLE csv_jobs ADD COLUMN purged_at timestamptz;
