"""kill -9 of the worker in the middle of a `full` job (claim status, then
claim details and payments for the claims the payer has finalized), on a
stack of its own (relstack.py): the supervisor starts the worker again,
the watchdog requeues the job, and the job completes with every answer
stored exactly once (a row's status, its lines, its payments), counters
equal to the stored rows, and no payer call repeated for an answer that
was stored before the kill.  Every row is checked against its stored
status and the simulator's per-claim counts; the simulator's --explain
(one process per claim, slow under sanitizers) for the claims stored
before the kill or asked again, and every tenth.

Ports: next to the shared test stack's (its HTTPS port + 1, HTTP + 1,
simulator + 1), so checkouts on other ports do not collide; or
BC_WFCRASH_PORT_BASE (HTTPS on base + 443, HTTP + 80, simulator + 481).
State: BC_WFCRASH_VAR, else var-rel-wfcrash/.
"""
import concurrent.futures
import json
import os
import signal
import subprocess
import time
import uuid
from decimal import Decimal
from urllib.parse import urlparse

import pytest
import requests

from relstack import SIGKILL, Stack, assert_exact, claims_csv

ROWS = 1500
SIGSTOP, SIGCONT = signal.SIGSTOP, signal.SIGCONT
CONCURRENCY = 16
# The payer has finalized these (details and payments are asked).
FINALIZED = ("Processed", "Denied", "Finalized")
ROUTE = {"status": "/oihub/claim/inquiry/v1",
         "details": "/oihub/claim/detail/v1",
         "payment": "/oihub/claim/payment/v1"}
# The simulator's per-claim count of each transaction (GET /__stats?claim=).
CLAIM_KEY = {"status": "requests", "details": "details_requests",
             "payment": "payment_requests"}

# 1,500 rows at 50 ms need about 1,500 + 2 x 1,170 calls: ~12 s at 16
# calls in flight, long enough to kill the worker in mid-job.  The
# watchdog settings are those of the reliability tests (a stale
# heartbeat requeues the job after 6 s).
EXTRA_CONF = """
# tests/e2e/test_workflow_crash.py
sim.latency_ms = 50
payer.concurrency = %d
chunk.rows = 1000000
watchdog.interval_s = 1
watchdog.stale_s = 6
watchdog.pending_s = 5
""" % CONCURRENCY


def port_base():
    if os.environ.get("BC_WFCRASH_PORT_BASE"):
        return int(os.environ["BC_WFCRASH_PORT_BASE"])
    if os.environ.get("BC_URL"):
        return urlparse(os.environ["BC_URL"]).port - 443 + 1
    return 29001


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("wfcrash"), var_env="BC_WFCRASH_VAR",
              var_default="var-rel-wfcrash", port_base=port_base(),
              extra_conf=EXTRA_CONF)
    yield s
    s.stop()


# A payer answer is stored: the status (success set), the details and
# the payments (their checked_at times, set only with an answer of
# that call; a status that rules the call out stores only a result
# and a note).
ANSWERED = ("success IS NOT NULL", "details_checked_at IS NOT NULL",
            "payments_checked_at IS NOT NULL")


def counts(s, job):
    """How many rows have their status, details and payments stored."""
    (st, de, pa), = s.psql(
        "SELECT %s FROM csv_job_rows WHERE job_id = '%s'" % (", ".join(
            "count(*) FILTER (WHERE %s)" % a for a in ANSWERED), job))
    return int(st), int(de), int(pa)


def stored(s, job):
    """The claim numbers whose status, details and payments answers are
    stored, per transaction."""
    out = {"status": set(), "details": set(), "payment": set()}
    for claim, st, de, pa in s.psql(
            "SELECT claim_number, %s FROM csv_job_rows WHERE job_id = '%s'"
            % (", ".join(ANSWERED), job)):
        for name, v in (("status", st), ("details", de), ("payment", pa)):
            if v == "t":
                out[name].add(claim)
    return out


def tree(pid):
    """pid and every process under it (from /proc)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def signal_all(procs, sig):
    for p in procs:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def sim_claims(s, claims):
    """Per claim: {transaction: requests} from GET /__stats?claim=."""
    def one(c):
        r = requests.get(s.sim + "/__stats", params={"claim": c}, timeout=10)
        r.raise_for_status()
        d = r.json()["claim"]
        return c, {t: d[k] for t, k in CLAIM_KEY.items()}
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        return dict(ex.map(one, claims))


def explain_all(s, claims):
    """The simulator's --explain of every claim (claims_csv's names)."""
    sim = os.path.join(s.info["BC_BUILD"], "payer-sim",
                       "bulkclaims-payer-sim")
    # A sanitizer build's leak check at exit is most of its run time.
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")

    def one(c):
        r = subprocess.run([sim, "--explain", c, "--first", "John",
                            "--last", "Doe"], capture_output=True,
                           text=True, timeout=30, env=env)
        assert r.returncode == 0, r.stderr
        return c, json.loads(r.stdout)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        return dict(ex.map(one, claims))


def test_kill9_worker_mid_full_job(stack):
    s = stack
    s.sim_reset()
    prefix = "W" + uuid.uuid4().hex[:5].upper()
    r = s.post("claims/bulk/upload/", data={"workflow": "full"},
               files={"file": ("full.csv", claims_csv(ROWS, prefix).encode(),
                               "text/csv")})
    assert r.status_code == 201, r.text
    assert r.json()["workflow"] == "full"
    job = r.json()["id"]

    # Mid-job: some rows have their status, some their details and
    # payments stored, and the job is far from done.
    deadline = time.time() + 120
    while True:
        st, de, pa = counts(s, job)
        if st >= 100 and de >= 20 and pa >= 20:
            break
        assert time.time() < deadline, "no details stored: %s" % (
            (st, de, pa),)
        time.sleep(0.05)
    # Kill when some row is half done (details stored, payments not, or
    # the other way round), if that happens within a few seconds: its
    # missing call is the one a restarted run must send, alone.  The
    # worker is stopped (SIGSTOP) while the stored answers are read, so
    # nothing is stored between that snapshot and the kill.
    old = s.pid("worker")
    t0 = time.time()
    while True:
        half = stored(s, job)
        if half["details"] ^ half["payment"] or time.time() > t0 + 5:
            procs = tree(old)
            signal_all(procs, SIGSTOP)
            before = stored(s, job)
            if before["details"] ^ before["payment"] or \
                    time.time() > t0 + 5:
                break
            signal_all(procs, SIGCONT)
    signal_all(tree(old), SIGKILL)
    assert s.progress(job)["status"] == "PROCESSING"

    s.wait_restarted("worker", old)
    s.wait_status(job, {"COMPLETED"}, 120)
    assert_exact(s, job, ROWS)
    assert "lost its worker; requeued" in s.log_text("worker")

    claims = ["%s%07d" % (prefix, i) for i in range(ROWS)]
    asked = sim_claims(s, claims)
    rows = {}
    for n, c, st, charged, dres, pres, lc, cpa in s.psql(
            "SELECT row_number, claim_number, status, total_charged,"
            " details_result, payments_result, line_count, claim_paid_amount"
            " FROM csv_job_rows WHERE job_id = '%s'" % job):
        rows[c] = (int(n), st, charged, dres, pres, lc, cpa)
    answered = stored(s, job)
    lines = {}
    for n, ln, ch, al, pd, pr in s.psql(
            "SELECT row_number, line_number, charged, allowed, paid,"
            " patient_resp FROM csv_job_lines WHERE job_id = '%s'"
            " ORDER BY row_number, line_number" % job):
        lines.setdefault(int(n), []).append((int(ln), ch, al, pd, pr))
    pays = {}
    for n, num, amt, cp, pst in s.psql(
            "SELECT row_number, payment_number, payment_amount,"
            " claim_paid_amount, status FROM csv_job_payments"
            " WHERE job_id = '%s' ORDER BY row_number, seq" % job):
        pays.setdefault(int(n), []).append((num, amt, cp, pst))

    # Every row: details and payments stored exactly for the finalized
    # claims (by their stored status), consistent with the row: as many
    # lines as line_count, adding up to the claim's charge; the paid
    # parts of the payments not voided adding up to claim_paid_amount.
    nfinal = 0
    for c in claims:
        n, status, charged, dres, pres, lc, cpa = rows[c]
        if status in FINALIZED:
            nfinal += 1
            assert dres == "FOUND" and pres == "FOUND", (n, dres, pres)
            assert c in answered["details"] and c in answered["payment"], n
            ls = lines.get(n, [])
            assert [x[0] for x in ls] == list(range(1, len(ls) + 1)), n
            assert ls and int(lc) == len(ls), n
            assert sum(Decimal(x[1]) for x in ls) == Decimal(charged), n
            paid = sum(Decimal(x[2]) for x in pays.get(n, [])
                       if x[3].upper() != "VOIDED")
            assert paid == Decimal(cpa or "0"), n
        else:
            # Not asked: NOT_FOUND for a claim the payer does not know.
            want = "NOT_FOUND" if status == "Not Found" else "NOT_REQUESTED"
            assert dres == want and pres == want, (n, dres, pres)
            assert c not in answered["details"], n
            assert c not in answered["payment"], n
            assert n not in lines and n not in pays, n
        # Asked exactly for what the workflow wants.
        assert asked[c]["status"] >= 1, c
        if status in FINALIZED:
            assert asked[c]["details"] >= 1 and asked[c]["payment"] >= 1, c
        else:
            assert asked[c]["details"] == 0 and asked[c]["payment"] == 0, c
    assert nfinal > ROWS // 2
    # The kill came in mid-job: answers were still missing.
    assert len(before["details"]) < nfinal or \
        len(before["payment"]) < nfinal, "the job was done before the kill"

    # The simulator's own answer (--explain) for the claims whose answers
    # were stored before the kill or asked more than once, and every
    # tenth other: the same status, lines and payments, none twice.
    check = set(before["details"]) | set(before["payment"])
    check |= {c for c in claims if max(asked[c].values()) > 1}
    check |= set(claims[::10])
    ex = explain_all(s, sorted(check))
    for c in sorted(check):
        e = ex[c]
        n, status, _, _, _, _, _ = rows[c]
        assert status == e["status"], c
        fin = bool(e.get("found")) and e["claim_status"] in FINALIZED
        assert fin == (status in FINALIZED), c
        if not fin:
            continue
        want = [(ln["line"], ln["charged"], ln["allowed"], ln["paid"],
                 ln["patient_resp"]) for ln in e["lines"]]
        assert lines.get(n, []) == want, n
        want = [(p["number"], p["amount"], p["claim_paid"])
                for p in e["payments"]]
        assert [x[:3] for x in pays.get(n, [])] == want, n

    # No answer stored before the kill was asked for again; calls in
    # flight at the kill may have been repeated, nothing more.
    for t, done in before.items():
        again = {c: asked[c][t] for c in done if asked[c][t] != 1}
        assert not again, (t, len(again))
    for t in CLAIM_KEY:
        rep = sum(1 for c in claims if asked[c][t] > 1)
        left = (ROWS if t == "status" else nfinal) - len(before[t])
        assert rep <= left, (t, rep, left)

    # The job's call counters: one per answer at least, and no more than
    # the payer received (calls lost with the killed worker may be
    # missing from them).
    (cs, cd, cp), = s.psql("SELECT calls_status, calls_details,"
                           " calls_payment FROM csv_jobs WHERE id = '%s'"
                           % job)
    sim = s.sim_stats()["requests"]
    total = {t: sum(sim.get(ROUTE[t], {}).values()) for t in ROUTE}
    assert ROWS <= int(cs) <= total["status"], (cs, total)
    assert nfinal <= int(cd) <= total["details"], (cd, total)
    assert nfinal <= int(cp) <= total["payment"], (cp, total)
    p = s.progress(job)
    assert p["workflow"] == "full"
    # "triage": the not-found triage's calls (test_not_found_triage.py)
    assert isinstance(p["payer_calls"].pop("triage"), int)
    assert p["payer_calls"] == {"status": int(cs), "details": int(cd),
                                "payment": int(cp)}
