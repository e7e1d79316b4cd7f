"""Per-organisation caps (limits.org_running_jobs, limits.org_rows_per_day):
an upload over a cap answers 429 with a clear message; other
organisations are not affected.  The organisation's usage is made up
with job records written directly to the database.
"""
import uuid

import pytest

from sec_util import config_value, error_code, new_org, phi_csv, psql


@pytest.fixture
def org(tmp_path):
    return new_org(tmp_path, roles=("member",))


def fake_jobs(org, n, status, rows=0):
    user = org["member"].id
    for _ in range(n):
        psql("INSERT INTO csv_jobs (id, organization_id, user_id, filename,"
             " status, total_rows) SELECT :'v1'::uuid, organization_id, id,"
             " 'quota.csv', :'v2', :'v3'::int FROM users WHERE id ="
             " :'v4'::bigint", str(uuid.uuid4()), status, rows, user)


def test_running_jobs_cap(org, api):
    cap = int(config_value("limits.org_running_jobs", "20"))
    if cap <= 0:
        pytest.skip("limits.org_running_jobs is off")
    fake_jobs(org, cap, "PROCESSING")
    r = org["member"].api.upload(phi_csv())
    assert r.status_code == 429, r.text
    assert error_code(r) == "too_many_running_jobs"
    assert str(cap) in r.json()["error"]["message"]
    assert int(r.headers["Retry-After"]) > 0
    # Not another organisation's problem.
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    api.wait_done(r.json()["id"])
    # Once they end, uploads go on.
    psql("UPDATE csv_jobs SET status = 'COMPLETED' WHERE filename ="
         " 'quota.csv' AND user_id = :'v1'", org["member"].id)
    r = org["member"].api.upload(phi_csv())
    assert r.status_code == 201, r.text


def test_daily_rows_cap(org):
    cap = int(config_value("limits.org_rows_per_day", "2000000"))
    if cap <= 0:
        pytest.skip("limits.org_rows_per_day is off")
    fake_jobs(org, 1, "COMPLETED", rows=cap)
    r = org["member"].api.upload(phi_csv())
    assert r.status_code == 429, r.text
    assert error_code(r) == "daily_row_limit"
    # Yesterday's rows do not count.
    psql("UPDATE csv_jobs SET created_at = now() - interval '25 hours'"
         " WHERE filename = 'quota.csv' AND user_id = :'v1'",
         org["member"].id)
    r = org["member"].api.upload(phi_csv())
    assert r.status_code == 201, r.text
