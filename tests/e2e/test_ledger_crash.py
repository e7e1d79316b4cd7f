"""kill -9 of the worker in the middle of a job whose claims were
partly checked before, on a stack of its own (relstack.py): the
supervisor starts the worker again, the watchdog requeues the job, and
once it is complete the claims ledger (sql/011_claims_ledger.sql) holds
exactly one entry per answered row of the job (none twice, none
missing, a duplicate row sharing its first row's), each entry the row's
stored answer, and every row's change since the last check (change,
previous_status, previous_paid, previous_checked_at) is the one its
claim's earlier check gives.

The earlier job runs at simulator epoch 0, the killed one at epoch 1,
where some claims have settled (payer-sim/README-outcomes.md,
"Epochs"): both "changed" and "unchanged" rows are expected.  The
simulator's --explain (one process per claim, slow under sanitizers)
confirms a few of each.

Ports: next to the shared test stack's (its HTTPS port + 2, HTTP + 2,
simulator + 2), so checkouts on other ports and test_workflow_crash.py
(+ 1) do not collide; or BC_LEDGERCRASH_PORT_BASE (HTTPS on base + 443,
HTTP + 80, simulator + 481).  State: BC_LEDGERCRASH_VAR, else
var-rel-ledgercrash/.
"""
import datetime
import json
import os
import subprocess
import time
import uuid
from decimal import Decimal
from urllib.parse import urlparse

import pytest
import requests

from relstack import HEADER, SIGKILL, Stack, assert_exact
from test_workflow_crash import signal_all, tree

# Claims checked in both jobs, and only in the second.  At epoch 1
# about 2 % of the claims have settled since epoch 0 (Pending or In
# Review at 0, Processed or Denied at 1): ~12 changed rows expected.
AGAIN = 600
FRESH = 600
ROWS = AGAIN + FRESH + 1	# and a duplicate of the first row
# 1,200 claims at 100 ms and 8 in flight (80 rows/s) take ~15 s: time
# to kill the worker with a few hundred rows stored.
EXTRA_CONF = """
# tests/e2e/test_ledger_crash.py
sim.latency_ms = 100
payer.concurrency = 8
chunk.rows = 1000000
watchdog.interval_s = 1
watchdog.stale_s = 6
watchdog.pending_s = 5
"""
# What a change compares (csv_row_change): the claim's state and money.
COMPARED = ("status", "lookup_result", "status_category_code",
            "status_code", "total_allowed", "total_paid")


def port_base():
    if os.environ.get("BC_LEDGERCRASH_PORT_BASE"):
        return int(os.environ["BC_LEDGERCRASH_PORT_BASE"])
    if os.environ.get("BC_URL"):
        return urlparse(os.environ["BC_URL"]).port - 443 + 2
    return 29002


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("ledgercrash"),
              var_env="BC_LEDGERCRASH_VAR",
              var_default="var-rel-ledgercrash", port_base=port_base(),
              extra_conf=EXTRA_CONF)
    yield s
    s.stop()


def set_epoch(s, n):
    r = requests.post(s.sim + "/__epoch", params={"n": n}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["epoch"] == n


def csv_of(claims):
    return HEADER + "".join("%s,John,Doe,1980-01-15,ABC%06d\n" % (c, i)
                            for i, c in enumerate(claims))


def upload(s, claims, name):
    r = s.post("claims/bulk/upload/", params={"allow_duplicate": "1"},
               files={"file": (name, csv_of(claims).encode(), "text/csv")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def stored_rows(s, job):
    """Rows of JOB with a stored answer: row -> (claim, checked_at as
    epoch seconds text, the compared columns..., total_charged)."""
    return {int(x[0]): tuple(x[1:]) for x in s.psql(
        "SELECT row_number, claim_number, extract(epoch FROM checked_at),"
        " %s, total_charged FROM csv_job_rows WHERE job_id = '%s'"
        " AND success IS NOT NULL AND checked_at IS NOT NULL"
        " AND duplicate_of IS NULL" % (", ".join(COMPARED), job))}


def ledger_rows(s, job):
    """The ledger entries of JOB, as stored_rows gives the rows; a
    duplicate (job, row) would show as a lost key, so count them too."""
    out = s.psql(
        "SELECT row_number, claim_number, extract(epoch FROM checked_at),"
        " %s, total_charged FROM claim_ledger WHERE job_id = '%s'"
        % (", ".join(COMPARED), job))
    return len(out), {int(x[0]): tuple(x[1:]) for x in out}


def api_rows(s, job):
    rows, page = [], 1
    while True:
        r = s.get("claims/csv-jobs/%s/rows/" % job,
                  params={"page": page, "page_size": 100})
        assert r.status_code == 200, r.text
        rows += r.json()["results"]
        if not r.json()["next"]:
            return rows
        page += 1


def ts(text):
    return datetime.datetime.fromisoformat(
        text.replace("Z", "+00:00")).timestamp()


def money(v):
    return None if v in (None, "") else Decimal(v)


def explain(s, claim, epoch):
    sim = os.path.join(s.info["BC_BUILD"], "payer-sim",
                       "bulkclaims-payer-sim")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run([sim, "--explain", claim, "--first", "John", "--last",
                        "Doe", "--epoch", str(epoch)], capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_kill9_worker_mid_job_one_ledger_entry_per_row(stack):
    s = stack
    s.sim_reset()
    prefix = "L" + uuid.uuid4().hex[:5].upper()
    claims = ["%s%07d" % (prefix, i) for i in range(AGAIN + FRESH)]
    again = set(claims[:AGAIN])

    # The earlier check of the first AGAIN claims, at epoch 0.
    set_epoch(s, 0)
    try:
        first = upload(s, claims[:AGAIN], "earlier.csv")
        s.wait_status(first, {"COMPLETED"}, 120)
        earlier = {v[0]: v for v in stored_rows(s, first).values()}
        assert len(earlier) == AGAIN

        # The job killed in mid-run, at epoch 1; its last row repeats
        # its first (a duplicate: checked once, no entry of its own).
        set_epoch(s, 1)
        job = upload(s, claims + claims[:1], "again.csv")
        s.wait_processed(job, 250, timeout=120)
        old = s.pid("worker")
        signal_all(tree(old), SIGKILL)
        before = len(stored_rows(s, job))
        assert s.progress(job)["status"] == "PROCESSING"
        assert before < ROWS - 100, "the job was nearly done at the kill"

        s.wait_restarted("worker", old)
        s.wait_status(job, {"COMPLETED"}, 180)
    finally:
        set_epoch(s, 0)
    assert_exact(s, job, ROWS)
    assert "lost its worker; requeued" in s.log_text("worker")

    # One entry per answered row: none twice, none missing, none for the
    # duplicate row, each the row's stored answer.
    rows = stored_rows(s, job)
    assert len(rows) == ROWS - 1
    n, entries = ledger_rows(s, job)
    assert n == len(entries) == len(rows), (n, len(entries), len(rows))
    assert entries == rows
    assert ROWS not in entries
    # Across the organisation: the claims checked twice have two
    # entries (one per job), the others one.
    per_claim = dict((c, int(k)) for c, k in s.psql(
        "SELECT claim_number, count(*) FROM claim_ledger"
        " WHERE claim_number LIKE '%s%%' GROUP BY 1" % prefix))
    assert per_claim == {c: 2 if c in again else 1 for c in claims}
    assert s.psql("SELECT count(*) FROM claim_ledger WHERE job_id = '%s'"
                  % first) == [[str(AGAIN)]]

    # Every row's change against its claim's earlier check, as the rows
    # endpoint gives it.
    got = api_rows(s, job)
    assert len(got) == ROWS
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    moved, stayed = [], []
    for r in got:
        claim = r["claim_number"]
        # The duplicate row has its first row's answer.
        mine = rows[r["row"] if r["row"] != ROWS else 1]
        if claim not in again:
            want = "new"
            assert r["previous_status"] is None, r
            assert r["previous_paid"] is None, r
            assert r["previous_checked_at"] is None, r
        else:
            prev = earlier[claim]
            want = "unchanged" if prev[2:8] == mine[2:8] else "changed"
            assert r["previous_status"] == (prev[2] or None), r
            assert money(r["previous_paid"]) == money(prev[7]), r
            assert abs(ts(r["previous_checked_at"]) - float(prev[1])) \
                < 1e-3, r
            if r["row"] != ROWS:
                (moved if want == "changed" else stayed).append(claim)
        assert r["change"] == want, (r, want)
        counts[want] += 1
    # The job detail counts every answered row, the duplicate too.
    detail = s.get("claims/csv-jobs/%s/" % job).json()
    assert detail["changes"] == counts, (detail["changes"], counts)
    assert counts["new"] == FRESH and len(moved) + len(stayed) == AGAIN, \
        counts
    # Something moved between the epochs, for the test to mean it.
    assert moved and stayed, counts
    # The simulator agrees for a few: a changed claim's answer differs
    # between the epochs, an unchanged one's does not.
    for claim in moved[:3] + stayed[:3]:
        e0, e1 = explain(s, claim, 0), explain(s, claim, 1)
        assert earlier[claim][2] == e0["status"], claim
        assert rows[claims.index(claim) + 1][2] == e1["status"], claim
        key = ("status", "total_paid", "total_allowed", "x12_category",
               "x12_status_code")
        assert (claim in moved) == \
            (tuple(e0.get(k) for k in key) != tuple(e1.get(k) for k in key)), \
            (claim, e0, e1)
