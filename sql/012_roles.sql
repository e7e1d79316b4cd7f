-- One database role per program, each with only what it needs
-- (docs/operations.md "Database roles").
--
--   owner (runs this file)   bulkclaimsctl: owns every object, migrates,
--                            sets endpoints and credentials, purges.
--   bulkclaims_app           the FastCGI app: never reads the payer
--                            client secrets, never changes endpoints.
--   bulkclaims_worker        the worker: reads secrets and endpoints,
--                            never creates or changes users, tokens or
--                            sessions.
--
-- The two are group roles without LOGIN: grant one to the login role a
-- program connects as (GRANT bulkclaims_app TO ...), or give it LOGIN
-- (scripts/run and scripts/test do).  Creating them needs CREATEROLE;
-- an operator whose owner role lacks it creates them first, as a
-- superuser, and this file then leaves them as they are.
--
-- New objects: the default privileges below give every table and
-- sequence the owner creates later to both programs, so a new table is
-- never silently unusable.  A migration that adds a table one of them
-- must not touch revokes it there (the rule docs/operations.md states).
-- Functions run as the caller (no SECURITY DEFINER), and EXECUTE stays
-- granted to PUBLIC, as PostgreSQL does by default; re-applied
-- sql/functions/*.sql keep that (CREATE OR REPLACE keeps grants).

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles
	    WHERE rolname = 'bulkclaims_app') THEN
		CREATE ROLE bulkclaims_app NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles
	    WHERE rolname = 'bulkclaims_worker') THEN
		CREATE ROLE bulkclaims_worker NOLOGIN;
	END IF;
	EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO '
	    'bulkclaims_app, bulkclaims_worker', current_database());
END
$$;

-- No CREATE on the schema: only the owner changes the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO bulkclaims_app, bulkclaims_worker;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
    TO bulkclaims_app, bulkclaims_worker;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public
    TO bulkclaims_app, bulkclaims_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES
    TO bulkclaims_app, bulkclaims_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES
    TO bulkclaims_app, bulkclaims_worker;

-- Migration bookkeeping is the owner's.
REVOKE ALL ON schema_migrations FROM bulkclaims_app, bulkclaims_worker;

-- The app: no payer secrets at all, endpoints and practices' payer set-up
-- read-only (only bulkclaimsctl changes them).
REVOKE ALL ON payer_credentials FROM bulkclaims_app;
REVOKE INSERT, UPDATE, DELETE ON payer_endpoints FROM bulkclaims_app;

-- The worker: reads the secrets and endpoints, changes neither; reads
-- users (webhook and mail settings) but never creates or changes users,
-- API tokens, sessions or login attempts.
REVOKE INSERT, UPDATE, DELETE ON payer_credentials, payer_endpoints
    FROM bulkclaims_worker;
REVOKE INSERT, UPDATE, DELETE ON users, api_tokens, sessions,
    login_attempts FROM bulkclaims_worker;
REVOKE ALL ON api_tokens, sessions, login_attempts FROM bulkclaims_worker;

-- Audit log: append and read; UPDATE/DELETE only by the owner's purge.
REVOKE UPDATE, DELETE ON audit_log FROM bulkclaims_app, bulkclaims_worker;
