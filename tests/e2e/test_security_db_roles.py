"""Least privilege in PostgreSQL (sql/012_roles.sql): the app and the
worker connect as their own roles (fcgi.database.url,
worker.database.url); each statement a role must not run is tried with
that role and must be refused by PostgreSQL.  Only the owner
(database.url, bulkclaimsctl) changes the schema.

Also: a payer secret is bound to its endpoint's base URL, so moving the
endpoint makes the secret unusable; http:// endpoints are refused except
on loopback.
"""
import subprocess

import pytest

from conftest import HEADER
from sec_util import config_value, ctl_ok, ctl_run, psql


def as_role(key, sql):
    """Runs sql in a rolled-back transaction as the role of config key
    key; returns the CompletedProcess."""
    url = config_value(key)
    assert url, "%s not in BC_CONFIG" % key
    return subprocess.run(
        ["psql", url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"],
        input="BEGIN;\n%s;\nROLLBACK;\n" % sql, capture_output=True,
        text=True, timeout=60)


# Refused whatever the data: PostgreSQL checks privileges before rows.
COMMON = [
    "CREATE TABLE role_probe (x int)",
    "DROP TABLE csv_jobs",
    "ALTER TABLE users ADD COLUMN probe int",
    "TRUNCATE csv_jobs",
    "CREATE ROLE role_probe",
    "INSERT INTO schema_migrations (version) VALUES ('999_probe')",
    "UPDATE audit_log SET detail = detail",
    "DELETE FROM audit_log",
    "UPDATE payer_endpoints SET base_url = 'https://evil.example'",
    "INSERT INTO payer_endpoints DEFAULT VALUES",
    "DELETE FROM payer_endpoints",
]
FORBIDDEN = {
    "fcgi.database.url": COMMON + [
        "SELECT client_secret_enc FROM payer_credentials",
        "SELECT count(*) FROM payer_credentials",
        "UPDATE payer_credentials SET client_id = client_id",
        "INSERT INTO payer_credentials DEFAULT VALUES",
        "GRANT SELECT ON payer_credentials TO PUBLIC",
    ],
    "worker.database.url": COMMON + [
        "INSERT INTO users DEFAULT VALUES",
        "UPDATE users SET email = email",
        "DELETE FROM users",
        "INSERT INTO api_tokens DEFAULT VALUES",
        "SELECT token_hash FROM api_tokens",
        "UPDATE api_tokens SET prefix = prefix",
        "INSERT INTO sessions DEFAULT VALUES",
        "SELECT * FROM sessions",
        "INSERT INTO login_attempts DEFAULT VALUES",
        "UPDATE payer_credentials SET client_id = client_id",
        "DELETE FROM payer_credentials",
    ],
}
REFUSED = ("permission denied", "must be owner")


@pytest.mark.parametrize("key,sql", [(k, s) for k in FORBIDDEN
                                     for s in FORBIDDEN[k]])
def test_forbidden_statement_refused(key, sql):
    r = as_role(key, sql)
    assert r.returncode != 0, "%s ran: %s" % (key, sql)
    assert any(m in r.stderr for m in REFUSED), (key, sql, r.stderr)


@pytest.mark.parametrize("key,role,sql", [
    ("fcgi.database.url", "bulkclaims_app",
     "SELECT count(*) FROM csv_jobs, payer_endpoints"),
    ("fcgi.database.url", "bulkclaims_app",
     "INSERT INTO login_attempts (username_hash, address, success) "
     "VALUES ('\\x00', '127.0.0.1', false)"),
    ("worker.database.url", "bulkclaims_worker",
     "SELECT count(client_secret_enc) FROM payer_credentials"),
    ("worker.database.url", "bulkclaims_worker",
     "UPDATE csv_jobs SET status = status"),
])
def test_each_program_has_its_own_role(key, role, sql):
    r = as_role(key, "SELECT current_user")
    assert r.returncode == 0 and r.stdout.split() == [role], r.stderr
    r = as_role(key, sql)
    assert r.returncode == 0, (sql, r.stderr)


def test_new_tables_are_usable_by_the_programs():
    """Default privileges: a table the owner adds later (a migration)
    is usable by both programs at once."""
    psql("CREATE TABLE role_probe_new (x int)")
    try:
        for key in ("fcgi.database.url", "worker.database.url"):
            r = as_role(key, "INSERT INTO role_probe_new VALUES (1)")
            assert r.returncode == 0, (key, r.stderr)
    finally:
        psql("DROP TABLE role_probe_new")


def endpoint(txn="CLAIM_STATUS"):
    return psql("SELECT base_url FROM payer_endpoints WHERE provider_code ="
                " 'UHC' AND transaction_code = :'v1'", txn)[0][0]


def test_moved_endpoint_invalidates_the_secret(api):
    base = endpoint()
    assert base.startswith("http://127.0.0.1:"), base
    moved = base.replace("127.0.0.1", "127.0.0.2")
    try:
        ctl_ok("set-endpoint", "--provider", "UHC", "--transaction",
               "CLAIM_STATUS", "--base-url", moved)
        r = api.upload(HEADER + "ZE00000001,John,Doe,1980-01-15,S1\n")
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        p = api.wait_done(job_id)
        assert p["status"] == "FAILED", p
        msg = api.get(f"claims/csv-jobs/{job_id}/").json()["error_message"]
        assert "cannot be decrypted" in msg, msg
    finally:
        ctl_ok("set-endpoint", "--provider", "UHC", "--transaction",
               "CLAIM_STATUS", "--base-url", base)
    # back at its endpoint, the same sealed secret opens again
    r = api.post(f"claims/csv-jobs/{job_id}/retry/")
    assert r.status_code == 202, r.text
    assert api.wait_done(job_id)["status"] == "COMPLETED"


@pytest.mark.parametrize("url,ok", [
    ("http://payer.example", False),
    ("http://10.1.2.3:8080", False),
    ("http://127.0.0.1.evil.example", False),
    ("https://payer.example", True),
    ("http://127.0.0.1:9", True),
    ("http://[::1]:9", True),
])
def test_http_endpoints_only_on_loopback(url, ok):
    try:
        rc, _, err = ctl_run("set-endpoint", "--provider", "TESTHTTP",
                             "--transaction", "CLAIM_STATUS", "--base-url",
                             url)
        assert (rc == 0) == ok, err
        if not ok:
            assert "https://" in err
            assert psql("SELECT count(*) FROM payer_endpoints WHERE "
                        "provider_code = 'TESTHTTP'") == [["0"]]
    finally:
        psql("DELETE FROM payer_endpoints WHERE provider_code = "
             "'TESTHTTP'")
