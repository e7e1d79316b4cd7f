"""Retention: purging a job deletes its uploaded rows and results, keeps
the job record (purged_at), and the results then answer 410; the admin
endpoint, `bulkclaimsctl purge --job` and the automatic
`bulkclaimsctl purge-expired` (retention.days, audit.retention_days).
"""
from sec_util import (audit_rows, config_value, ctl_ok, ctl_run,
                      error_code, phi_csv, psql)


def rows_of(job):
    return int(psql("SELECT count(*) FROM csv_job_rows WHERE job_id ="
                    " :'v1'", job)[0][0])


def finished_job(api):
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    p = api.wait_done(job)
    assert p["status"] == "COMPLETED", p
    return job


def test_admin_purge_then_410(api):
    job = finished_job(api)
    assert api.get(f"claims/csv-jobs/{job}/results/").status_code == 200
    assert api.get(f"claims/csv-jobs/{job}/rows/").status_code == 200
    assert rows_of(job) == 3
    assert api.get(f"claims/csv-jobs/{job}/").json()["purged_at"] is None
    r = api.post(f"claims/csv-jobs/{job}/purge/")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == job
    assert r.json()["purged"] is True
    assert rows_of(job) == 0
    r = api.get(f"claims/csv-jobs/{job}/results/")
    assert r.status_code == 410
    assert error_code(r) == "purged"
    r = api.get(f"claims/csv-jobs/{job}/rows/")
    assert r.status_code == 410
    assert error_code(r) == "purged"
    r = api.post(f"claims/csv-jobs/{job}/retry/")
    assert r.status_code == 410
    # The job record stays, with its counts.
    r = api.get(f"claims/csv-jobs/{job}/")
    assert r.status_code == 200
    assert r.json()["total_rows"] == 3
    assert r.json()["purged_at"]
    assert psql("SELECT purged_at IS NOT NULL FROM csv_jobs WHERE id ="
                " :'v1'", job) == [["t"]]
    # Purging again is harmless.
    assert api.post(f"claims/csv-jobs/{job}/purge/").status_code == 200


def test_purge_of_running_job_is_refused(api):
    job = finished_job(api)
    # Running as far as the app can tell (a real one would need the
    # worker held up for the length of the test).
    psql("UPDATE csv_jobs SET status = 'PROCESSING' WHERE id = :'v1'", job)
    try:
        r = api.post(f"claims/csv-jobs/{job}/purge/")
        assert r.status_code == 409, r.text
        assert error_code(r) == "job_running"
        rc, _, err = ctl_run("purge", "--job", job)
        assert rc != 0 and "running" in err
        assert rows_of(job) == 3
    finally:
        psql("UPDATE csv_jobs SET status = 'COMPLETED' WHERE id = :'v1'",
             job)


def test_ctl_purge_job(api):
    job = finished_job(api)
    ctl_ok("purge", "--job", job)
    assert rows_of(job) == 0
    assert api.get(f"claims/csv-jobs/{job}/results/").status_code == 410
    e = audit_rows("job_id = :'v1' AND action = 'purge'", job)
    assert e and e[-1][2] == "ctl" and e[-1][5].startswith("ctl:")
    rc, _, err = ctl_run("purge", "--job",
                         "00000000-0000-4000-8000-000000000000")
    assert rc != 0 and "no such job" in err


def test_purge_expired(api):
    old = finished_job(api)
    fresh = finished_job(api)
    days = int(config_value("retention.days", "30"))
    adays = int(config_value("audit.retention_days", "2190"))
    psql("UPDATE csv_jobs SET created_at = now() - make_interval(days =>"
         " :'v1'::int + 1) WHERE id = :'v2'", days, old)
    # An ancient audit entry (inserting is allowed; changing is not).
    psql("INSERT INTO audit_log (at, action, outcome, detail) VALUES"
         " (now() - make_interval(days => :'v1'::int + 1), 'test',"
         " 'success', 'sec-ancient')", adays)
    psql("INSERT INTO audit_log (at, action, outcome, detail) VALUES"
         " (now() - make_interval(days => :'v1'::int - 1), 'test',"
         " 'success', 'sec-kept')", adays)
    ctl_ok("purge-expired")
    assert rows_of(old) == 0
    assert rows_of(fresh) == 3
    assert api.get(f"claims/csv-jobs/{old}/results/").status_code == 410
    assert api.get(f"claims/csv-jobs/{fresh}/results/").status_code == 200
    assert not psql("SELECT 1 FROM audit_log WHERE detail = 'sec-ancient'")
    assert psql("SELECT 1 FROM audit_log WHERE detail = 'sec-kept'")
    assert audit_rows("job_id = :'v1' AND action = 'purge'", old)
    assert audit_rows("action = 'purge_expired'")
