-- bulkclaims schema, version 1.  Applied once by `bulkclaimsctl migrate`,
-- which records it in schema_migrations.  Never edit an applied migration:
-- add sql/002_*.sql instead.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE organizations (
	id		bigserial PRIMARY KEY,
	name		text NOT NULL,
	tin		text NOT NULL UNIQUE CHECK (tin ~ '^[0-9]{9}$'),
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
	id		bigserial PRIMARY KEY,
	organization_id	bigint NOT NULL REFERENCES organizations(id),
	username	text NOT NULL UNIQUE,
	email		text,
	-- Argon2id string from crypto_pwhash_str; NULL: token-only account.
	password_hash	text,
	role		text NOT NULL DEFAULT 'member'
			CHECK (role IN ('admin', 'member', 'viewer')),
	is_active	boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- DRF-style API tokens.  Only the SHA-256 of the key is stored; the key
-- itself is shown once when created.
CREATE TABLE api_tokens (
	id		bigserial PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	token_hash	bytea NOT NULL UNIQUE,
	prefix		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz,
	revoked_at	timestamptz,
	last_used_at	timestamptz
);

CREATE TABLE practices (
	id		bigserial PRIMARY KEY,
	organization_id	bigint NOT NULL REFERENCES organizations(id),
	name		text NOT NULL,
	tin		text NOT NULL CHECK (tin ~ '^[0-9]{9}$'),
	npi		text CHECK (npi ~ '^[0-9]{10}$'),
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (organization_id, tin)
);

-- Where a payer adapter sends its requests: provider_code +
-- transaction_code select the adapter (UHC/CLAIM_STATUS, X12/CLAIM_STATUS).
CREATE TABLE payer_endpoints (
	id		bigserial PRIMARY KEY,
	provider_code	text NOT NULL,
	transaction_code text NOT NULL,
	base_url	text NOT NULL,
	token_path	text NOT NULL DEFAULT '/apip/auth/v2/token',
	api_path	text NOT NULL,
	payer_id	text NOT NULL DEFAULT '87726',
	is_active	boolean NOT NULL DEFAULT true,
	UNIQUE (provider_code, transaction_code)
);

-- A practice's OAuth client for one payer.  The secret is sealed with
-- libsodium's XChaCha20-Poly1305 under the key in secrets.key_file
-- (outside the database); the row identity is the additional data.
CREATE TABLE payer_credentials (
	id		bigserial PRIMARY KEY,
	practice_id	bigint NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
	provider_code	text NOT NULL,
	client_id	text NOT NULL,
	client_secret_enc bytea NOT NULL,
	key_id		integer NOT NULL DEFAULT 1,
	updated_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (practice_id, provider_code)
);

CREATE TABLE csv_jobs (
	id		uuid PRIMARY KEY,
	organization_id	bigint NOT NULL REFERENCES organizations(id),
	user_id		bigint NOT NULL REFERENCES users(id),
	filename	text NOT NULL,
	status		text NOT NULL DEFAULT 'PENDING'
			CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED',
			    'FAILED', 'CANCELLING', 'CANCELLED')),
	total_rows	integer NOT NULL DEFAULT 0,
	processed_rows	integer NOT NULL DEFAULT 0,
	success_count	integer NOT NULL DEFAULT 0,
	failure_count	integer NOT NULL DEFAULT 0,
	celery_task_id	text,
	result_file	text,
	error_message	text,
	provider_code	text NOT NULL DEFAULT 'UHC',
	transaction_code text NOT NULL DEFAULT 'CLAIM_STATUS',
	created_at	timestamptz NOT NULL DEFAULT now(),
	started_at	timestamptz,
	completed_at	timestamptz,
	processing_duration interval
);
CREATE INDEX csv_jobs_org_created ON csv_jobs (organization_id, created_at DESC);

-- One row per input CSV data row.  The result columns stay NULL until the
-- worker stores the payer's answer (success IS NULL = not processed yet).
CREATE TABLE csv_job_rows (
	job_id		uuid NOT NULL REFERENCES csv_jobs(id) ON DELETE CASCADE,
	row_number	integer NOT NULL,
	claim_number	text,
	first_name	text,
	last_name	text,
	date_of_birth	text,
	subscriber_id	text,
	-- Input columns beyond the five required ones, echoed in results.
	extra		jsonb,
	-- A non-fatal remark from validation (e.g. a duplicate claim number).
	warning		text,
	status		text,
	patient_name	text,
	total_charged	numeric(12,2),
	total_paid	numeric(12,2),
	processed_date	date,
	success		boolean,
	error_message	text,
	attempts	integer NOT NULL DEFAULT 0,
	checked_at	timestamptz,
	-- Extended results: FOUND, NOT_FOUND, INPUT_INVALID, PAYER_ERROR.
	lookup_result	text,
	status_category_code text,
	status_code	text,
	status_description text,
	payer_claim_number text,
	total_allowed	numeric(12,2),
	patient_responsibility numeric(12,2),
	check_number	text,
	check_date	date,
	-- Payer's member data equals the row's: true, false, NULL unknown.
	member_match	boolean,
	PRIMARY KEY (job_id, row_number)
);

-- A text cell safe to open in a spreadsheet: a leading =, +, -, @, tab or
-- carriage return would start a formula, so such cells get a leading
-- apostrophe (OWASP "CSV injection").  Used by every CSV the app writes.
CREATE FUNCTION csv_safe(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN v ~ E'^[=+\\-@\\t\\r]' THEN '''' || v ELSE v END
$$;
