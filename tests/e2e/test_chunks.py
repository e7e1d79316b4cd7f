"""Chunking against a real stack of its own (relstack.py's
Stack on ports 26444/26081/26482): a job bigger than chunk.rows is split
into claims.tasks.process_csv_chunk tasks that several worker processes
take; every row is stored once, the counters are exact, a small job
uploaded after a big one finishes first, and a cancel stops every chunk.
"""
import os
import subprocess
import time
import uuid

import pytest

from relstack import Stack, assert_exact, claims_csv
from sec_util import redis_cli

CHUNK_ROWS = 500
BIG = 2500

EXTRA_CONF = """
# tests/e2e/test_chunks.py
chunk.rows = %d
sim.latency_ms = 100
watchdog.interval_s = 1
watchdog.stale_s = 8
""" % CHUNK_ROWS


class ChunkStack(Stack):
    """relstack's Stack with this file's settings and ports."""

    def __init__(self, tmpdir):
        # Base 26001: HTTPS 26444, HTTP 26081, simulator 26482.
        Stack.__init__(self, tmpdir, var_env="BC_CHUNK_VAR",
                       var_default="var-chunk", port_base=26001,
                       extra_conf=EXTRA_CONF)
        self.extra_workers = []

    def start_worker(self, name):
        """A second worker process (another "host": its own node name)
        on the same Redis and PostgreSQL; its log is log/<name>.log."""
        binary = os.environ.get("BC_WORKER_BIN", os.path.join(
            self.info["BC_BUILD"], "worker", "bulkclaims-worker"))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("BULKCLAIMS_")}
        env.update(BULKCLAIMS_CONFIG=self.info["BC_CONF"],
                   BULKCLAIMS_LOG_FILE=os.path.join(self.log, name + ".log"),
                   HOME=self.info["BC_STATE"])
        pre = []
        if os.geteuid() == 0:
            user = self.info["BC_SVC_USER"]
            pre = ["setpriv", "--reuid=" + user, "--regid=" + user,
                   "--init-groups", "--"]
        p = subprocess.Popen(pre + [binary, "-c", self.info["BC_CONF"],
                                    "-n", "%s@chunktest" % name],
                             env=env, cwd=self.info["BC_STATE"],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.extra_workers.append(p)
        deadline = time.time() + 20
        while time.time() < deadline:
            if " ready" in self.log_text(name):
                return p
            assert p.poll() is None, "%s exited" % name
            time.sleep(0.2)
        raise AssertionError("%s not ready" % name)

    def stop_workers(self):
        for p in self.extra_workers:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.extra_workers = []

    def log_text(self, name):
        try:
            return Stack.log_text(self, name)
        except FileNotFoundError:
            return ""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = ChunkStack(tmp_path_factory.mktemp("chunkstack"))
    yield s
    s.stop_workers()
    s.stop()


def upload(stack, rows):
    prefix = "K" + uuid.uuid4().hex[:5].upper()
    r = stack.upload(claims_csv(rows, prefix))
    assert r.status_code == 201, r.text
    return r.json()["id"], prefix


def chunk_rows(stack, job):
    return stack.psql("SELECT first_row, last_row, done_at IS NOT NULL, "
                      "COALESCE(done_by, '') FROM csv_job_chunks "
                      "WHERE job_id = '%s' ORDER BY first_row" % job)


def test_big_job_two_workers(stack):
    """2,500 rows at 500 a chunk: 5 chunks, taken by both worker
    processes; every row stored once, counters exact, the payer asked
    once per claim."""
    stack.sim_reset()
    stack.start_worker("worker2")
    try:
        job, prefix = upload(stack, BIG)
        stack.wait_status(job, {"COMPLETED"}, 120)
        assert_exact(stack, job, BIG)
        (tot, done), = stack.psql("SELECT chunks_total, chunks_done FROM "
                                  "csv_jobs WHERE id = '%s'" % job)
        assert int(tot) == int(done) == BIG // CHUNK_ROWS
        chunks = chunk_rows(stack, job)
        assert len(chunks) == BIG // CHUNK_ROWS
        # The ranges cover rows 1..BIG without overlap.
        assert [(int(a), int(b)) for a, b, _, _ in chunks] == \
            [(i * CHUNK_ROWS + 1, (i + 1) * CHUNK_ROWS)
             for i in range(BIG // CHUNK_ROWS)]
        assert all(d == "t" for _, _, d, _ in chunks)
        nodes = {by for _, _, _, by in chunks}
        assert len(nodes) >= 2, nodes
        assert "chunk done job=%s" % job in stack.log_text("worker2")
        assert "chunk done job=%s" % job in stack.log_text("worker")
        st = stack.sim_stats()
        assert st["claims_repeated"] == 0, st
        counts = stack.sim_claim_counts(
            ["%s%07d" % (prefix, i) for i in range(0, BIG, 97)])
        assert set(counts.values()) == {1}, counts
    finally:
        stack.stop_workers()


def test_small_job_overtakes_big(stack):
    """One worker process: a 20-row job uploaded right after a 2,500-row
    job finishes before it (its message has priority 0, the big job's
    chunks 3 and more)."""
    stack.sim_reset()
    big, _ = upload(stack, BIG)
    small, _ = upload(stack, 20)
    stack.wait_status(small, {"COMPLETED"}, 60)
    assert stack.progress(big)["status"] == "PROCESSING"
    stack.wait_status(big, {"COMPLETED"}, 120)
    assert_exact(stack, big, BIG)
    assert_exact(stack, small, 20)
    (first,), = stack.psql(
        "SELECT (SELECT completed_at FROM csv_jobs WHERE id = '%s') < "
        "(SELECT completed_at FROM csv_jobs WHERE id = '%s')" % (small, big))
    assert first == "t"


def test_cancel_chunked_job(stack):
    """Cancel of a chunked job: the running chunk stops, the queued ones
    skip, the last one to finish marks the job CANCELLED, and no row is
    stored after that."""
    stack.sim_reset()
    stack.start_worker("worker3")
    try:
        job, _ = upload(stack, 5000)
        stack.wait_processed(job, 300, timeout=60)
        r = stack.post("claims/csv-jobs/%s/cancel/" % job)
        assert r.status_code == 202, r.text
        p = stack.wait_status(job, {"CANCELLED"}, 30)
        assert 0 < p["processed_rows"] < 5000
        time.sleep(2)
        assert stack.progress(job)["processed_rows"] == p["processed_rows"]
        (tot, done), = stack.psql("SELECT chunks_total, chunks_done FROM "
                                  "csv_jobs WHERE id = '%s'" % job)
        assert int(tot) == 10 and int(done) == 10
        (stored,), = stack.psql("SELECT count(success) FROM csv_job_rows "
                                "WHERE job_id = '%s'" % job)
        assert int(stored) == p["processed_rows"]
        # Retry asks the payer again for failed rows only.
        before = sorted(c for c, in stack.psql(
            "SELECT claim_number FROM csv_job_rows WHERE job_id = '%s' "
            "AND success" % job))
        assert before
        # Retry splits what is left and completes it.
        r = stack.post("claims/csv-jobs/%s/retry/" % job)
        assert r.status_code == 202, r.text
        stack.wait_status(job, {"COMPLETED"}, 120)
        assert_exact(stack, job, 5000)
        # Rows stored with success before the cancel are never asked
        # again (rows in flight at the cancel were not stored and may
        # be, as inline; retry asks again for the failed ones).
        counts = stack.sim_claim_counts(before)
        assert set(counts.values()) == {1}, \
            {c: n for c, n in counts.items() if n != 1}
    finally:
        stack.stop_workers()


def test_kill9_worker_mid_chunk(stack):
    """kill -9 of a worker process running a chunk: the other worker
    finishes its chunks; the job, left with no chunk running or queued,
    goes stale, the watchdog requeues it and the next run covers the
    rows left.  Every row once, counters exact, no stored row asked
    again."""
    stack.sim_reset()
    w = stack.start_worker("worker4")
    try:
        job, prefix = upload(stack, BIG)
        deadline = time.time() + 60
        while "chunk started job=%s" % job not in stack.log_text("worker4"):
            assert time.time() < deadline, "worker4 took no chunk"
            time.sleep(0.05)
        time.sleep(0.5)
        w.kill()
        w.wait()
        time.sleep(0.5)	# its child dies with it (PR_SET_PDEATHSIG)
        before = sorted(c for c, in stack.psql(
            "SELECT claim_number FROM csv_job_rows WHERE job_id = '%s' "
            "AND success IS NOT NULL" % job))
        assert 0 < len(before) < BIG
        stack.wait_status(job, {"COMPLETED"}, 90)
        assert_exact(stack, job, BIG)
        counts = stack.sim_claim_counts(before)
        assert set(counts.values()) == {1}, \
            {c: n for c, n in counts.items() if n != 1}
        # Recovered by the watchdog (the rows left, < chunk.rows here,
        # then run inline).
        assert "job=%s lost its worker; requeued" % job in \
            stack.log_text("worker")
    finally:
        stack.stop_workers()


def test_chunk_bad_arguments(stack):
    """A chunk task with bad arguments is a FAILURE, not a retry loop."""
    binary = os.path.join(stack.info["BC_BUILD"], "worker",
                          "bulkclaims-worker")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BULKCLAIMS_")}
    out = subprocess.run([binary, "-c", stack.info["BC_CONF"], "--publish",
                          "claims.tasks.process_csv_chunk", "--args",
                          '["not-a-uuid", 5, 1]'], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    task_id = out.stdout.strip()
    deadline = time.time() + 30
    while time.time() < deadline:
        r = redis_cli(os.path.join(stack.run, "redis.sock"), "GET",
                      "celery-task-meta-" + task_id,
                      conf=stack.info["BC_CONF"])
        if '"status": "FAILURE"' in r.stdout or \
                '"status":"FAILURE"' in r.stdout:
            assert "ValueError" in r.stdout
            return
        time.sleep(0.3)
    raise AssertionError("no FAILURE result for %s" % task_id)
