"""Fault injection against a real stack of its own (relstack.py): crashes,
restarts and outages in the middle of a 2,000-row job must not lose a
row, count one twice, ask the payer again for a stored row, or leave the
job stuck.  Each test is bounded in time and says what it checks."""
import contextlib
import os
import re
import signal
import threading
import time
import uuid

import pytest

from relstack import (SIGKILL, SIGTERM, Stack, assert_exact, claims_csv,
                      stored_claims)

ROWS = 2000


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("relstack"))
    yield s
    s.stop()


@pytest.fixture
def fresh(stack):
    stack.sim_reset()
    return stack


def upload_job(stack, rows=ROWS):
    prefix = "R" + uuid.uuid4().hex[:5].upper()
    r = stack.upload(claims_csv(rows, prefix))
    assert r.status_code == 201, r.text
    return r.json()["id"], prefix


@contextlib.contextmanager
def worker_setting(s, line):
    """Appends line to the configuration and reloads the worker (SIGHUP)
    for the block; the old configuration is back, reloaded, after it."""
    conf = s.info["BC_CONF"]
    with open(conf) as f:
        orig = f.read()
    n0 = s.log_text("worker").count("configuration reloaded")
    try:
        with open(conf, "a") as f:
            f.write(line + "\n")
        s.kill("worker", signal.SIGHUP)
        deadline = time.time() + 10
        # The main process, its child and the watchdog each reload.
        while s.log_text("worker").count("configuration reloaded") < n0 + 3:
            assert time.time() < deadline, "no reload logged"
            time.sleep(0.2)
        yield
    finally:
        with open(conf, "w") as f:
            f.write(orig)
        s.kill("worker", signal.SIGHUP)


def test_kill9_worker_mid_job(fresh):
    """kill -9 of the worker in mid-job: the supervisor starts it again,
    the watchdog requeues the job (its heartbeat went stale), and the job
    completes with every row once, exact counters, and no payer request
    repeated for a row stored before the kill."""
    s = fresh
    job, prefix = upload_job(s)
    s.wait_processed(job, 300)
    old = s.kill("worker", SIGKILL)
    time.sleep(0.5)	# the children die with it (PR_SET_PDEATHSIG)
    before = stored_claims(s, job)
    assert 0 < len(before) < ROWS
    s.wait_restarted("worker", old)
    s.wait_status(job, {"COMPLETED"}, 60)
    assert_exact(s, job, ROWS)
    counts = s.sim_claim_counts(sorted(before))
    assert all(n == 1 for n in counts.values()), \
        {c: n for c, n in counts.items() if n != 1}
    # Rows in flight at the kill may be asked again, nothing more.
    allc = s.sim_claim_counts(["%s%07d" % (prefix, i) for i in range(ROWS)])
    assert all(n >= 1 for n in allc.values())
    assert sum(1 for n in allc.values() if n > 1) <= ROWS - len(before)
    assert "lost its worker; requeued" in s.log_text("worker")


def test_kill9_worker_child_mid_job(fresh):
    """kill -9 of the process running the job while the worker's main
    process lives on (it restarts the process and acknowledges the lost
    message, as Celery does): the watchdog sees that no slot of its node
    runs the job any more and requeues it at once, without waiting for
    watchdog.stale_s; the job completes exactly, stored rows not asked
    again."""
    s = fresh
    job, _ = upload_job(s)
    s.wait_processed(job, 300)
    m = re.search(r"bulkclaims-worker\[(\d+)\] info job started job=%s"
                  % job, s.log_text("worker"))
    assert m, "no job start logged"
    os.kill(int(m.group(1)), SIGKILL)
    time.sleep(0.3)
    before = stored_claims(s, job)
    assert 0 < len(before) < ROWS
    s.wait_status(job, {"COMPLETED"}, 60)
    assert_exact(s, job, ROWS)
    counts = s.sim_claim_counts(sorted(before))
    assert all(n == 1 for n in counts.values())
    assert "job=%s is not running on this node any more" % job in \
        s.log_text("worker")


def test_sigterm_during_job(fresh):
    """SIGTERM (warm shutdown) in mid-job: the run stops, stores what it
    has, releases the job and its message goes back to the queue; the
    restarted worker finishes it; stored rows are never asked again."""
    s = fresh
    job, _ = upload_job(s)
    s.wait_processed(job, 300)
    old = s.kill("worker", SIGTERM)
    s.wait_restarted("worker", old)
    before = stored_claims(s, job)
    s.wait_status(job, {"COMPLETED"}, 60)
    assert_exact(s, job, ROWS)
    counts = s.sim_claim_counts(sorted(before))
    assert all(n == 1 for n in counts.values())
    # A clean stop that stored its rows (then requeued or retried).
    assert re.search(r"rows stored job=%s rows=\d+ \(stopping\)" % job,
                     s.log_text("worker"))


def test_cancel_then_retry(fresh):
    """Cancel: a queued job is CANCELLED at once; a running one goes
    CANCELLING then CANCELLED within seconds with its done rows kept;
    cancelling a finished job is 409; retry resumes only the rest."""
    s = fresh
    running, _ = upload_job(s)
    queued, _ = upload_job(s, rows=10)	# concurrency 1: waits
    s.wait_processed(running, 200)
    r = s.post("claims/csv-jobs/%s/cancel/" % queued)
    assert r.status_code == 202 and r.json()["status"] == "CANCELLED", r.text
    r = s.post("claims/csv-jobs/%s/cancel/" % running)
    assert r.status_code == 202, r.text
    assert r.json()["status"] in ("CANCELLING", "CANCELLED")
    t0 = time.time()
    p = s.wait_status(running, {"CANCELLED"}, 10)
    assert time.time() - t0 < 5
    assert 0 < p["processed_rows"] < ROWS
    assert p["unprocessed_rows"] == ROWS - p["processed_rows"]
    done = stored_claims(s, running)
    assert len(done) == p["processed_rows"]
    time.sleep(1)	# nothing more is stored after CANCELLED
    assert s.progress(running)["processed_rows"] == p["processed_rows"]
    assert s.post("claims/csv-jobs/%s/cancel/" % running).status_code == 409
    res = s.results(running)
    assert len(res) == ROWS
    unproc = [r for r in res if r["status"] == "Unprocessed"]
    assert len(unproc) == ROWS - p["processed_rows"]
    assert all(r["success"] == "" for r in unproc)
    # The queued job's message is acknowledged away, never run.
    time.sleep(1)
    assert s.progress(queued)["processed_rows"] == 0
    r = s.post("claims/csv-jobs/%s/retry/" % running)
    assert r.status_code == 202, r.text
    s.wait_status(running, {"COMPLETED"}, 60)
    assert_exact(s, running, ROWS)
    # Retry also retries the rows that failed; the others are kept.
    kept = {c for c, in s.psql(
        "SELECT claim_number FROM csv_job_rows WHERE job_id = '%s' "
        "AND success" % running)} & done
    assert kept
    counts = s.sim_claim_counts(sorted(kept))
    assert all(n == 1 for n in counts.values())


def test_payer_outage_pauses(fresh):
    """The payer answers 503 for 30 s in mid-job: the run pauses instead
    of failing every row, progress shows waiting_for_payer, and the job
    completes afterwards with no row failed by the outage."""
    s = fresh
    job, _ = upload_job(s)
    s.wait_processed(job, 300)
    import requests
    requests.post(s.sim + "/__outage", params={"seconds": 30},
                  timeout=10).raise_for_status()
    seen_waiting = False
    deadline = time.time() + 30
    while time.time() < deadline and not seen_waiting:
        seen_waiting = s.progress(job).get("waiting_for_payer") is True
        time.sleep(0.25)
    assert seen_waiting, "progress never showed waiting_for_payer"
    assert s.progress(job)["status"] == "PROCESSING"
    p = s.wait_status(job, {"COMPLETED", "FAILED"}, 90)
    assert p["status"] == "COMPLETED"
    assert p["waiting_for_payer"] is False
    assert_exact(s, job, ROWS)


def test_short_job_failing_below_the_outage_threshold_completes(fresh):
    """A 3-row job whose every payer call fails (fewer failures than
    payer.outage_threshold, so no pause) completes with the 3 rows
    failed as payer errors, once each: it is not left open, requeued by
    the watchdog and failed as a lost worker."""
    s = fresh
    import requests
    requests.post(s.sim + "/__outage", params={"seconds": 60},
                  timeout=10).raise_for_status()
    try:
        job, _ = upload_job(s, rows=3)
        p = s.wait_status(job, {"COMPLETED", "FAILED"}, 60)
    finally:
        requests.post(s.sim + "/__outage", params={"seconds": 0},
                      timeout=10)
    assert p["status"] == "COMPLETED", p
    assert p["failure_count"] == 3 and p["processed_rows"] == 3, p
    rows = s.psql("SELECT lookup_result, count(*) FROM csv_job_rows"
                  " WHERE job_id = '%s' GROUP BY 1" % job)
    assert rows == [["PAYER_ERROR", "3"]], rows
    assert "job=%s lost its worker" % job not in s.log_text("worker")


def test_redis_restart_mid_job(fresh):
    """Redis restarts (empty: the test stack keeps no data) in mid-job:
    uploads answer 503 while it is down, the worker reconnects, the job
    completes exactly, and uploads work again afterwards."""
    s = fresh
    job, _ = upload_job(s)
    s.wait_processed(job, 300)
    t = threading.Thread(target=s.sh, args=("redis-restart", "3"))
    t.start()
    time.sleep(1)
    r = s.upload(claims_csv(3, "RDOWN"))
    h = s.s.get(s.url + "health/", timeout=30)
    t.join(60)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "queue_unavailable"
    assert h.status_code == 503, h.text
    assert h.json()["checks"]["redis"]["ok"] is False
    s.wait_status(job, {"COMPLETED"}, 60)
    assert_exact(s, job, ROWS)
    after, _ = upload_job(s, rows=20)
    s.wait_status(after, {"COMPLETED"}, 60)
    assert_exact(s, after, 20)


def test_postgres_restart_mid_job(fresh):
    """PostgreSQL stops for 5 s in mid-job: the API answers 503, the run
    keeps its results and waits, stores them when the database is back,
    and the job completes with exact counters."""
    s = fresh
    job, _ = upload_job(s)
    s.wait_processed(job, 300)
    s.sh("pg-stop")
    try:
        # The job record comes from the app, which cannot answer.
        r = s.get("claims/csv-jobs/%s/" % job)
        assert r.status_code == 503, r.text
        # Progress may come from nginx's 1 s cache of a running job (its
        # last answer before the stop); after that, 503 too.
        deadline = time.time() + 5
        while True:
            r = s.get("claims/csv-jobs/%s/progress/" % job)
            if r.status_code != 200 or time.time() > deadline:
                break
            assert r.headers.get("X-Bulkclaims-Cache") == "HIT", r.headers
            time.sleep(0.2)
        assert r.status_code == 503, r.text
        h = s.s.get(s.url + "health/", timeout=30)
        assert h.status_code == 503, h.text
        assert h.json()["checks"]["postgresql"]["ok"] is False
        time.sleep(4)
    finally:
        s.sh("pg-start")
    s.wait_status(job, {"COMPLETED"}, 90)
    assert_exact(s, job, ROWS)
    assert "database back" in s.log_text("worker")


def test_app_dies_between_commit_and_publish(fresh):
    """The app is killed after committing an upload and before publishing
    its task (failpoint): the job is PENDING with no message; the
    watchdog publishes it again and it completes."""
    s = fresh
    fp = s.run + "/failpoint"
    with open(fp, "w") as f:
        f.write("after_commit_before_publish\n")
    # scripts/test runs with umask 077: the app's user must read the file.
    os.chmod(fp, 0o644)
    old = s.pid("fcgi")
    name = "fp-%s.csv" % uuid.uuid4().hex[:8]
    r = s.s.post(s.url + "claims/bulk/upload/", timeout=30,
                 files={"file": (name, claims_csv(50, "RFAIL").encode(),
                                 "text/csv")})
    assert r.status_code >= 500, r.text
    s.wait_restarted("fcgi", old)
    (job,), = s.psql("SELECT id FROM csv_jobs WHERE filename = '%s'" % name)
    s.wait_status(job, {"COMPLETED"}, 60)
    assert_exact(s, job, 50)
    assert "published job=%s" % job in s.log_text("worker")


def test_health_and_metrics(stack):
    """/api/v1/health/ needs no token and says ok with a live worker;
    /metrics is Prometheus text with jobs by status, rows by cause,
    queue length, worker count and Redis memory, and no patient data."""
    s = stack
    h = s.s.get(s.url + "health/", headers={"Authorization": ""},
                timeout=30)
    assert h.status_code == 200, h.text
    body = h.json()
    assert body["status"] == "ok"
    assert body["checks"]["workers"]["alive"] >= 1
    assert body["checks"]["redis"]["queue_length"] >= 0
    base = s.url.split("/api/")[0]
    m = s.s.get(base + "/metrics", timeout=30)
    assert m.status_code == 200, m.text
    assert m.headers["Content-Type"].startswith("text/plain")
    lines = [l for l in m.text.splitlines() if l and not l.startswith("#")]
    names = {l.split("{")[0].split(" ")[0] for l in lines}
    assert {"bulkclaims_jobs", "bulkclaims_rows_processed_total",
            "bulkclaims_rows_by_result_total", "bulkclaims_queue_length",
            "bulkclaims_workers", "bulkclaims_redis_used_memory_bytes",
            "bulkclaims_oldest_pending_job_age_seconds",
            "bulkclaims_up"} <= names
    done = [l for l in lines if l.startswith('bulkclaims_jobs{status="COMPLETED"}')]
    assert int(done[0].split()[-1]) >= 1
    # Payer latency histogram and errors by cause, from the workers.
    hist = "bulkclaims_payer_request_duration_seconds"
    assert "# TYPE %s histogram" % hist in m.text
    assert "# TYPE bulkclaims_payer_errors_total counter" in m.text
    val = {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1]) for l in lines}
    buckets = [val['%s_bucket{le="%s"}' % (hist, le)] for le in
               ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf")]
    assert buckets == sorted(buckets), "buckets not cumulative"
    assert val[hist + "_count"] >= 1 and val[hist + "_sum"] > 0
    assert buckets[-1] == val[hist + "_count"]
    assert "Doe" not in m.text and "John" not in m.text


MONITORING = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "monitoring")


def metric_values(stack):
    """The app's /metrics as {sample name with labels: value} and the
    set of metric names it declares or samples."""
    base = stack.url.split("/api/")[0]
    m = stack.s.get(base + "/metrics", timeout=30)
    assert m.status_code == 200, m.text
    val, names = {}, set()
    for line in m.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names.update(name + s for s in ("_bucket", "_count",
                                                "_sum"))
        elif line and not line.startswith("#"):
            key, v = line.rsplit(" ", 1)
            val[key] = float(v)
            names.add(key.split("{")[0])
    return val, names


def test_alert_rules_and_dashboard_name_real_metrics(stack):
    """Every metric the shipped alerting rules and Grafana dashboard
    read exists in a real /metrics answer."""
    wanted = set()
    for f in ("alerts.yml", "grafana-dashboard.json"):
        with open(os.path.join(MONITORING, f)) as fh:
            wanted.update(re.findall(r"\bbulkclaims_[a-z_]+", fh.read()))
    assert len(wanted) >= 10, wanted
    _, names = metric_values(stack)
    assert wanted - names == set()


def test_queue_head_age_grows_while_no_worker_takes_tasks(fresh):
    """With the worker stopped (SIGSTOP) an upload's task waits at the
    head of the queue: bulkclaims_queue_head_age_seconds grows from one
    scrape to the next; once the worker goes on it falls back to 0."""
    s = fresh
    key = 'bulkclaims_queue_head_age_seconds{queue="celery"}'
    # The worker and its children (each child takes tasks itself).
    pids = [s.pid("worker")]
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pids[0]:
                    pids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    jobs = []
    try:
        # A BRPOP the worker sent before it stopped still takes the
        # first task off the queue: upload until one stays there.
        qlen = 'bulkclaims_queue_length{queue="celery"}'
        val, _ = metric_values(s)
        while val[qlen] < 1 and len(jobs) < 5:
            jobs.append(upload_job(s, rows=5)[0])
            val, _ = metric_values(s)
        assert val[qlen] >= 1, val
        deadline = time.time() + 60
        while val.get(key, 0) < 2 and time.time() < deadline:
            time.sleep(0.5)
            val, _ = metric_values(s)
        assert val[key] >= 2, val
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    for job in jobs:
        s.wait_status(job, {"COMPLETED"}, 60)
    deadline = time.time() + 30
    val, _ = metric_values(s)
    while val[key] != 0 and time.time() < deadline:
        time.sleep(0.5)
        val, _ = metric_values(s)
    assert val[key] == 0, val


def test_sighup_reload_and_soft_time_limit(fresh):
    """SIGHUP reloads the worker's configuration without a restart: a
    3 s soft time limit set that way stops each run cleanly (results
    stored, the rest requeued as a Celery retry) and the job still
    completes with exact counters; the limit goes away on the next
    SIGHUP."""
    s = fresh
    pid = s.pid("worker")
    key = "celery.task.claims.tasks.process_csv_file.soft_time_limit"
    with worker_setting(s, "%s = 3" % key):
        job, _ = upload_job(s)
        s.wait_status(job, {"COMPLETED"}, 90)
        assert_exact(s, job, ROWS)
        log = s.log_text("worker")
        # Each soft limit: a clean stop that stored its rows.
        assert re.search(r"rows stored job=%s rows=\d+ \(stopping\)" % job,
                         log), "no clean stop at the soft limit"
        assert s.pid("worker") == pid


def test_hard_time_limit_kills_then_watchdog_requeues(fresh):
    """A 3 s hard time limit (set by SIGHUP) kills the process running the
    job (no clean stop); the watchdog sees the heartbeat go stale and
    requeues the job, which resumes from its stored rows: it completes
    with exact counters and stored rows are not asked again."""
    s = fresh
    key = "celery.task.claims.tasks.process_csv_file.time_limit"
    with worker_setting(s, "%s = 3" % key):
        job, _ = upload_job(s)
        s.wait_processed(job, 200)
        deadline = time.time() + 10
        while "hard time limit" not in s.log_text("worker"):
            assert time.time() < deadline, "no hard time limit"
            time.sleep(0.2)
        before = stored_claims(s, job)
        s.wait_status(job, {"COMPLETED"}, 90)
        assert_exact(s, job, ROWS)
        counts = s.sim_claim_counts(sorted(before))
        assert all(n == 1 for n in counts.values())
        log = s.log_text("worker")
        assert "job=%s is not running on this node any more" % job in log \
            or "job=%s lost its worker; requeued" % job in log
