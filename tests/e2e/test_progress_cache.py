"""nginx's progress cache (nginx/bulkclaims-locations.conf.in): a
running job's progress, asked with an API token, may come from nginx's
cache for up to 1 s; a finished job's never does (a retry must show at
once), nor a browser session's, nor another token's.  The header
X-Bulkclaims-Cache (nginx's $upstream_cache_status) says which it was.

A job is made "running" by setting its status in the database after it
finished: nothing then changes it behind the test's back.
"""
import os
import re
import stat
import time

import pytest

from conftest import Api
from sec_util import Browser, ctl_ok, new_org, phi_csv, psql

CACHE_HDR = "X-Bulkclaims-Cache"


def progress(client, job):
    r = client.get(f"claims/csv-jobs/{job}/progress/")
    return r, r.headers.get(CACHE_HDR)


def poll_until_hit(client, job, tries=20):
    """The first answer may be a MISS (or EXPIRED); one of the next few,
    asked at once, must come from the cache."""
    seen = []
    for _ in range(tries):
        r, c = progress(client, job)
        assert r.status_code == 200, r.text
        seen.append(c)
        if c == "HIT":
            return r
    raise AssertionError("never served from the cache: %s" % seen)


@pytest.fixture
def running_job(api):
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    assert api.wait_done(job)["status"] == "COMPLETED"
    psql("UPDATE csv_jobs SET status = 'PROCESSING', completed_at = NULL"
         " WHERE id = :'v1'", job)
    yield job
    psql("UPDATE csv_jobs SET status = 'COMPLETED',"
         " completed_at = clock_timestamp() WHERE id = :'v1'", job)


def test_running_job_is_served_from_cache_and_refreshed(api, running_job):
    r = poll_until_hit(api, running_job)
    assert r.json()["status"] == "PROCESSING"
    # What the client sees is still not to be stored by it.
    assert r.headers["Cache-Control"] == "no-store"
    assert "X-Accel-Expires" not in r.headers
    # A change shows within the cache's second (generous bound: a busy
    # machine; what matters is that it shows, not how fast).
    psql("UPDATE csv_jobs SET processed_rows = 1 WHERE id = :'v1'",
         running_job)
    deadline = time.time() + 10
    while time.time() < deadline:
        r, _ = progress(api, running_job)
        if r.json()["processed_rows"] == 1:
            break
        time.sleep(0.1)
    assert r.json()["processed_rows"] == 1, r.json()


def test_finished_job_is_never_cached(api):
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    assert api.wait_done(job)["status"] == "COMPLETED"
    for _ in range(5):
        r, c = progress(api, job)
        assert r.status_code == 200
        assert c != "HIT", c
    # Retried: the very next poll says so.
    psql("UPDATE csv_jobs SET failure_count = 1, success_count ="
         " success_count - 1 WHERE id = :'v1'", job)
    psql("UPDATE csv_job_rows SET success = false WHERE job_id = :'v1'"
         " AND row_number = 1", job)
    r = api.post(f"claims/csv-jobs/{job}/retry/")
    assert r.status_code in (200, 202), r.text
    r, c = progress(api, job)
    assert c != "HIT"
    assert r.json()["status"] in ("PENDING", "PROCESSING", "COMPLETED")
    api.wait_done(job)


def test_each_token_has_its_own_entries(api, running_job, tmp_path):
    poll_until_hit(api, running_job)
    # Another token of the same user: its first answer is the app's.
    tokfile = tmp_path / "second.tok"
    ctl_ok("create-token", "--username", "demo", "--token-file",
           str(tokfile))
    other = Api(tokfile.read_text().strip())
    r, c = progress(other, running_job)
    assert r.status_code == 200
    assert c in ("MISS", "EXPIRED"), c
    # A wrong token is refused by the app, never answered from a cache.
    bad = Api("0" * 40)
    for _ in range(3):
        r, c = progress(bad, running_job)
        assert r.status_code == 401
        assert c != "HIT"


def test_other_organisation_gets_404_not_a_cached_answer(running_job,
                                                         other_org_api):
    for _ in range(3):
        r, c = progress(other_org_api, running_job)
        assert r.status_code == 404, r.text
        assert c != "HIT"


def test_browser_session_always_reaches_the_app(tmp_path):
    org = new_org(tmp_path, roles=("member",))
    user = org["member"]
    r = user.api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    # A new organisation has no payer set up: the job fails, which is
    # as finished as this test needs.
    final = user.api.wait_done(job)["status"]
    psql("UPDATE csv_jobs SET status = 'PROCESSING', completed_at = NULL"
         " WHERE id = :'v1'", job)
    try:
        b = Browser()
        b.login(user)
        for _ in range(5):
            r, c = progress(b, job)
            assert r.status_code == 200, r.text
            assert c == "BYPASS", c
        # The same job by token is cached: the browser's answers are
        # not for want of a cacheable job.
        poll_until_hit(user.api, job)
    finally:
        psql("UPDATE csv_jobs SET status = :'v2',"
             " completed_at = clock_timestamp() WHERE id = :'v1'", job, final)


def test_cache_lives_in_ram_readable_by_nginx_only():
    conf = os.path.join(os.environ["BC_VAR"], "nginx",
                        "bulkclaims-http.conf")
    with open(conf) as f:
        m = re.search(r"^fastcgi_cache_path (\S+)", f.read(), re.M)
    assert m, "no fastcgi_cache_path in " + conf
    path = m.group(1)
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    # The mount the folder is on is a tmpfs (RAM), not a disk.
    best, fstype = "", None
    with open("/proc/mounts") as f:
        for line in f:
            _, mnt, typ = line.split()[:3]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) \
                    and len(mnt) > len(best):
                best, fstype = mnt, typ
    assert fstype == "tmpfs", (path, best, fstype)
