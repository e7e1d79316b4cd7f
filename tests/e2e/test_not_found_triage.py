"""Not-found triage end to end (docs/payer-adapters.md): a claim the
payer does not find as uploaded is asked again under its normal form
(spaces, dashes, a payer prefix, Excel's lost leading zeros) and by a
member search (subscriber id + date of birth), once each, within
payer.triage_max_calls.  The simulator's --explain says which attempt
finds each claim (found_by); its /__stats counters prove how many payer
calls each claim got; the rows, the extended CSV and the job's
payer_calls.triage show the outcome."""
import contextlib
import csv
import io
import os
import random
import signal
import time

import pytest
import requests

from conftest import HEADER, ctl, explain
from intake_util import sim_url
from sec_util import psql

MEMBER_ROUTE = "/oihub/claim/member-search/v1"
FIRST, LAST = "Jane", "Triage"
ROW_SQL = ("SELECT row_number, claim_number, COALESCE(status, ''), "
           "success::text, COALESCE(found_by, ''), "
           "COALESCE(not_found_reason, ''), "
           "COALESCE(matched_claim_number, ''), triage_calls, "
           "COALESCE(payments_result, '') "
           "FROM csv_job_rows WHERE job_id = :'v1' ORDER BY row_number")
ROW_KEYS = ("row", "claim", "status", "success", "found_by", "reason",
            "matched", "triage_calls", "payments_result")

R_FORMAT = "claim number format unusual"
R_ERROR = "triage incomplete: payer error"
R_LIMIT = "triage call limit reached"
R_NOT_ACCEPTED = "member found, claim not found: may not be accepted yet"
R_NO_MEMBER = "member not found under this TIN"
R_NO_CLAIM = "no claim under this TIN"

rnd = random.Random()


def sim_claim(claim):
    r = requests.get(sim_url() + "/__stats", params={"claim": claim},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["claim"]


def member_route_count():
    r = requests.get(sim_url() + "/__stats", timeout=10)
    assert r.status_code == 200, r.text
    return sum(r.json()["requests"].get(MEMBER_ROUTE, {}).values())


def pick(make, want):
    """A fresh claim number from make() whose --explain satisfies want."""
    for _ in range(2000):
        c = make()
        e = explain(c, FIRST, LAST)
        if want(e):
            return c, e
    raise AssertionError("no claim number found for the condition")


def digits(n):
    return "".join(rnd.choice("0123456789") for _ in range(n))


def normalised_only(spell):
    """A spelling spell(d) of 0087dddddd that only its normal form finds:
    (raw, canonical number, the canonical's --explain)."""
    raw, e = pick(lambda: spell(digits(6)),
                  lambda e: e["found_by"] == "normalised")
    return raw, e["found_as"], explain(e["found_as"], FIRST, LAST)


def not_found_usual():
    """A 10-character claim no attempt finds (the hash's Not Found)."""
    return pick(lambda: "ZT" + digits(8),
                lambda e: e["found_by"] == "none")[0]


def member_claim():
    """MS + 8 digits: only a member search finds it."""
    return pick(lambda: "MS" + digits(8),
                lambda e: e["found_by"] == "member_search")


def csv_text(rows):
    return HEADER + "".join("%s,%s,%s,%s,%s\n" % r for r in rows)


def run_job(api, rows, workflow="status"):
    r = api.post("claims/bulk/upload/", params={"allow_duplicate": "1"},
                 data={"workflow": workflow},
                 files={"file": ("triage.csv", csv_text(rows).encode(),
                                 "text/csv")})
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    p = api.wait_done(job, timeout=300)
    assert p["status"] == "COMPLETED", p
    return job, p


def rows_of(job):
    out = {}
    for v in psql(ROW_SQL, job):
        d = dict(zip(ROW_KEYS, v))
        d["triage_calls"] = int(d["triage_calls"])
        out[d["claim"]] = d
    return out


def calls_triage(job):
    return int(psql("SELECT calls_triage FROM csv_jobs WHERE id = :'v1'",
                    job)[0][0])


def worker_log():
    path = os.path.join(os.environ["BC_VAR"], "log", "worker.log")
    with open(path, errors="replace") as f:
        return f.read()


@contextlib.contextmanager
def worker_setting(line):
    """Appends line to the stack's configuration and reloads the worker
    (SIGHUP: the main process, each child and the watchdog log it) for
    the block; the old configuration is back, reloaded, after it."""
    var = os.environ.get("BC_VAR")
    conf = os.environ.get("BC_CONFIG")
    if not var or not conf:
        pytest.skip("BC_VAR/BC_CONFIG not set (run through scripts/test)")
    with open(conf) as f:
        orig = f.read()
    nproc = 1
    for ln in orig.splitlines():
        k, sep, v = ln.partition("=")
        if sep and k.strip() == "worker.concurrency":
            nproc = int(v.strip())
    with open(os.path.join(var, "run", "worker.pid")) as f:
        pid = int(f.read().strip())

    def reload():
        n0 = worker_log().count("configuration reloaded")
        os.kill(pid, signal.SIGHUP)
        deadline = time.time() + 20
        while worker_log().count("configuration reloaded") < n0 + nproc + 2:
            assert time.time() < deadline, "no reload logged"
            time.sleep(0.2)

    try:
        with open(conf, "a") as f:
            f.write(line + "\n")
        reload()
        yield
    finally:
        with open(conf, "w") as f:
            f.write(orig)
        reload()


def test_triage_each_attempt_and_reason(api):
    """Found as sent, only under the normal form (dashes, spaces, a
    payer prefix, lost zeros), only by member search, and never found
    (each reason), with the payer calls of each claim counted by the
    simulator."""
    as_sent, e_sent = pick(lambda: "ZT" + digits(8),
                           lambda e: e["found_by"] == "as_sent" and
                           e["status"] == "Processed")
    norm = {
        "dashes": normalised_only(lambda d: "0087-%s-%s" % (d[:3], d[3:])),
        "spaces": normalised_only(lambda d: "0087 %s %s" % (d[:3], d[3:])),
        "prefix": normalised_only(lambda d: "UHC0087" + d),
        "zeros": normalised_only(lambda d: "87" + d),
    }
    ms, e_ms = member_claim()
    # A member the payer knows (another MS claim's), for "not accepted".
    _, e_known = member_claim()
    unusual = "NOTFOUND" + digits(6)
    not_accepted = not_found_usual()
    no_member = not_found_usual()
    # As sent: not found; normal form BADREQ...: the payer refuses it.
    err_raw, _ = pick(lambda: "UHC-BADREQ" + digits(4),
                      lambda e: e["found_by"] == "none")
    err_norm = err_raw[4:]

    dob = "1980-01-15"
    rows = [(as_sent, FIRST, LAST, dob, "SUB1")]
    rows += [(raw, FIRST, LAST, dob, "SUB1") for raw, _, _ in norm.values()]
    rows += [(ms, FIRST, LAST, e_ms["member_dob"], e_ms["member_id"]),
             (unusual, FIRST, LAST, dob, "SUB2"),
             (not_accepted, FIRST, LAST, e_known["member_dob"],
              e_known["member_id"]),
             (no_member, FIRST, LAST, dob, "SUB3"),
             (err_raw, FIRST, LAST, dob, "SUB4")]
    m0 = member_route_count()
    job, p = run_job(api, rows)
    got = rows_of(job)

    r = got[as_sent]
    assert (r["found_by"], r["reason"], r["matched"], r["triage_calls"]) == \
        ("as_sent", "", "", 0), r
    assert r["status"] == e_sent["status"]
    assert sim_claim(as_sent)["requests"] == 1

    for kind, (raw, canon, e) in norm.items():
        r = got[raw]
        assert r["claim"] == raw, (kind, r)        # as uploaded
        assert (r["found_by"], r["matched"], r["reason"]) == \
            ("normalised", canon, ""), (kind, r)
        assert r["status"] == e["status"] and r["triage_calls"] == 1, r
        # one call as sent, one under the normal form, no member search
        assert sim_claim(raw)["requests"] == 1, kind
        assert sim_claim(canon)["requests"] == 1, kind
        assert sim_claim(canon)["member_search_requests"] == 0, kind

    r = got[ms]
    assert (r["found_by"], r["matched"], r["reason"]) == \
        ("member_search", "", ""), r
    assert r["status"] == e_ms["member_claim_status"], r
    assert r["success"] == "true" and r["triage_calls"] == 1, r
    st = sim_claim(ms)
    assert (st["requests"], st["member_search_requests"]) == (1, 1), st

    for claim, reason, calls in ((unusual, R_FORMAT, 1),
                                 (not_accepted, R_NOT_ACCEPTED, 1),
                                 (no_member, R_NO_MEMBER, 1),
                                 (err_raw, R_ERROR, 2)):
        r = got[claim]
        assert (r["status"], r["found_by"], r["reason"]) == \
            ("Not Found", "", reason), r
        assert r["triage_calls"] == calls, r
        assert sim_claim(claim)["requests"] == 1, claim
    # the refused normal form was asked once (400 is not retried)
    assert sim_claim(err_norm)["requests"] == 1

    # Member searches: MS, unusual, not_accepted, no_member, err_raw.
    assert member_route_count() - m0 == 5
    total = sum(r["triage_calls"] for r in got.values())
    assert total == 4 + 1 + 1 + 1 + 1 + 2 == calls_triage(job)
    assert p["payer_calls"]["triage"] == total
    assert p["payer_calls"]["status"] == len(rows)
    detail = api.get(f"claims/csv-jobs/{job}/").json()
    assert detail["payer_calls"]["triage"] == total

    # The extended CSV, the rows JSON and rows/{row}/ show the same.
    res = api.get(f"claims/csv-jobs/{job}/results/",
                  params={"format": "extended"})
    assert res.status_code == 200, res.text
    recs = {x["claim_number"]: x for x in csv.DictReader(
        io.StringIO(res.content.decode("utf-8-sig")))}
    raw, canon, _ = norm["zeros"]
    assert (recs[raw]["found_by"], recs[raw]["matched_claim_number"],
            recs[raw]["triage_calls"]) == ("normalised", canon, "1")
    assert recs[ms]["found_by"] == "member_search"
    assert recs[not_accepted]["not_found_reason"] == R_NOT_ACCEPTED
    assert recs[not_accepted]["action"] == recs[no_member]["action"]
    lst = api.get(f"claims/csv-jobs/{job}/rows/",
                  params={"page_size": 100}).json()
    items = {x["claim_number"]: x for x in lst["results"]}
    assert items[raw]["found_by"] == "normalised"
    assert items[raw]["matched_claim_number"] == canon
    assert items[unusual]["not_found_reason"] == R_FORMAT
    one = api.get(f"claims/csv-jobs/{job}/rows/{items[ms]['row']}/").json()
    assert (one["found_by"], one["triage_calls"]) == ("member_search", 1)


def test_triage_found_claim_gets_its_later_calls(api):
    """In a full workflow a claim found under its normal form gets its
    details and payment under the number that matched; one found by
    member search gets none (the claim routes do not know it)."""
    raw, canon, e = normalised_only(lambda d: "0087-" + d)
    while e["claim_status"] not in ("Processed", "Denied", "Finalized"):
        raw, canon, e = normalised_only(lambda d: "0087-" + d)
    ms, e_ms = member_claim()
    rows = [(raw, FIRST, LAST, "1980-01-15", "SUB1"),
            (ms, FIRST, LAST, e_ms["member_dob"], e_ms["member_id"])]
    job, _ = run_job(api, rows, workflow="full")
    got = rows_of(job)
    assert got[raw]["found_by"] == "normalised"
    assert got[raw]["payments_result"] == "FOUND"
    st = sim_claim(canon)
    assert (st["details_requests"], st["payment_requests"]) == (1, 1), st
    assert sim_claim(raw)["details_requests"] == 0
    assert got[ms]["found_by"] == "member_search"
    assert got[ms]["payments_result"] == "NOT_REQUESTED"
    st = sim_claim(ms)
    assert (st["details_requests"], st["payment_requests"]) == (0, 0), st


def test_triage_cap_zero_makes_no_extra_call(api):
    """payer.triage_max_calls = 0 switches triage off: no extra call,
    rows stay not found without found_by or a reason."""
    raw, canon, _ = normalised_only(lambda d: "87" + d)
    ms, e_ms = member_claim()
    rows = [(raw, FIRST, LAST, "1980-01-15", "SUB1"),
            (ms, FIRST, LAST, e_ms["member_dob"], e_ms["member_id"])]
    with worker_setting("payer.triage_max_calls = 0"):
        m0 = member_route_count()
        job, p = run_job(api, rows)
        assert member_route_count() == m0
    got = rows_of(job)
    for c in (raw, ms):
        assert (got[c]["status"], got[c]["found_by"], got[c]["reason"],
                got[c]["triage_calls"]) == ("Not Found", "", "", 0), got[c]
    assert sim_claim(canon)["requests"] == 0
    assert sim_claim(ms)["member_search_requests"] == 0
    assert calls_triage(job) == 0 and p["payer_calls"]["triage"] == 0


def test_triage_cap_n_is_honoured(api):
    """payer.triage_max_calls = 2 with four rows that each want a triage
    call or two: at most 2 extra calls; the rows that got none say so."""
    claims = [normalised_only(lambda d: "0087 " + d) for _ in range(4)]
    rows = [(raw, FIRST, LAST, "1980-01-15", "SUB%d" % i)
            for i, (raw, _, _) in enumerate(claims)]
    with worker_setting("payer.triage_max_calls = 2"):
        m0 = member_route_count()
        job, p = run_job(api, rows)
        searches = member_route_count() - m0
    got = rows_of(job)
    extra = searches + sum(sim_claim(canon)["requests"]
                           for _, canon, _ in claims)
    assert extra == calls_triage(job) == p["payer_calls"]["triage"] == 2
    assert sum(r["triage_calls"] for r in got.values()) == 2
    limited = [r for r in got.values() if r["reason"] == R_LIMIT]
    found = [r for r in got.values() if r["found_by"] == "normalised"]
    assert len(limited) >= 2 and len(found) + len(limited) == 4, got


def test_triage_without_member_search_endpoint(api):
    """No MEMBER_SEARCH endpoint for the payer: the triage goes on
    without the member search (the job does not fail), and a claim of
    the usual shape nobody finds says "no claim under this TIN"."""
    claim = not_found_usual()
    raw, canon, _ = normalised_only(lambda d: "UHC-0087" + d)
    old = psql("SELECT base_url FROM payer_endpoints WHERE provider_code ="
               " 'UHC' AND transaction_code = 'MEMBER_SEARCH'")
    assert old, "bulkclaimsctl demo registers the member search"
    psql("DELETE FROM payer_endpoints WHERE provider_code = 'UHC' AND "
         "transaction_code = 'MEMBER_SEARCH'")
    try:
        m0 = member_route_count()
        job, _ = run_job(api, [(claim, FIRST, LAST, "1980-01-15", "SUB1"),
                               (raw, FIRST, LAST, "1980-01-15", "SUB2")])
        assert member_route_count() == m0
    finally:
        ctl("set-endpoint", "--provider", "UHC", "--transaction",
            "MEMBER_SEARCH", "--base-url", old[0][0])
    got = rows_of(job)
    assert (got[claim]["reason"], got[claim]["triage_calls"]) == \
        (R_NO_CLAIM, 0), got[claim]
    assert got[raw]["found_by"] == "normalised"
    assert sim_claim(canon)["requests"] == 1
