"""The claims ledger (sql/functions/claims_ledger.sql): every stored answer is
kept per (job, row) for the organisation; GET claims/{claim}/history/
shows one claim's checks, newest first, to its own organisation only;
result rows say what changed since the claim's latest earlier check
(change, previous_*), as rows JSON, ?change=, the job detail's changes
and the results' ?format=changes.  The changes are checked against the
payer simulator's own answer at each epoch (--explain --epoch N)."""
import csv
import datetime
import io
import json
import random
import subprocess
import uuid

import pytest
import requests

from conftest import HEADER, RESULT_HEADER, SIM_BIN
from intake_util import config_value, sim_url
from sec_util import Browser, ctl_ok, new_org, psql

# Claim numbers of this file start with LG and 8 digits (no forced
# simulator behaviour); test_zz_phi_logs.py looks for them in the logs.
CLAIM = "LG%08d"


def fresh_claims(n):
    rnd = random.Random(uuid.uuid4().int)
    out = set()
    while len(out) < n:
        out.add(CLAIM % rnd.randrange(10**8))
    return sorted(out)


def claims_csv(claims):
    return HEADER + "".join(f"{c},Ann,Lee,1970-01-0{i % 9 + 1},M{i:05d}\n"
                            for i, c in enumerate(claims))


def run_job(api, claims, workflow="status"):
    r = api.post("claims/bulk/upload/", params={"allow_duplicate": "1"},
                 data={"workflow": workflow},
                 files={"file": ("ledger.csv", claims_csv(claims).encode(),
                                 "text/csv")})
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    p = api.wait_done(job, timeout=300)
    assert p["status"] == "COMPLETED", p
    return job


def history(api, claim, **params):
    return api.get(f"claims/{claim}/history/", params=params)


def sim_explain(claim, epoch):
    r = subprocess.run([SIM_BIN, "--explain", claim, "--first", "Ann",
                        "--last", "Lee", "--epoch", str(epoch)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def set_epoch(n):
    r = requests.post(sim_url() + "/__epoch", params={"n": n}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["epoch"] == n


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def ledger_count(job):
    return int(psql("SELECT count(*) FROM claim_ledger WHERE job_id = :'v1'",
                    job)[0][0])


@pytest.fixture(scope="module")
def org2(tmp_path_factory):
    """A second organisation that can run jobs (its own practice and
    payer credentials), with users of every role."""
    tmp = tmp_path_factory.mktemp("ledger")
    org = new_org(tmp)
    ctl_ok("create-practice", "--tin", org["tin"], "--name", "Ledger Two")
    secret = tmp / "secret"
    secret.write_text(config_value("sim.client_secret",
                                   "bulkclaims-dev-secret") + "\n")
    ctl_ok("set-credentials", "--tin", org["tin"], "--provider", "UHC",
           "--client-id", config_value("sim.client_id", "bulkclaims-dev"),
           "--client-secret-file", str(secret))
    return org


@pytest.fixture
def epoch0():
    set_epoch(0)
    yield
    set_epoch(0)


def test_claims_ledger_isolation_between_organisations(api, org2):
    shared, mine = fresh_claims(2)
    job1 = run_job(api, [shared, mine])
    member = org2["member"]
    job2 = run_job(member.api, [shared])

    h = history(api, shared)
    assert h.status_code == 200, h.text
    assert h.json()["count"] == 1
    assert [e["job_id"] for e in h.json()["results"]] == [job1]
    h = history(member.api, shared)
    assert h.status_code == 200, h.text
    assert [e["job_id"] for e in h.json()["results"]] == [job2]
    # The other organisation's claim is invisible: 404, as never checked.
    r = history(member.api, mine)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"

    # The same by browser session.
    b = Browser()
    b.login(org2["viewer"])
    r = b.get(f"claims/{mine}/history/")
    assert r.status_code == 404, r.text
    r = b.get(f"claims/{shared}/history/")
    assert r.status_code == 200, r.text
    assert [e["job_id"] for e in r.json()["results"]] == [job2]
    # The second organisation's check did not count as the first's
    # earlier one: the rows of both jobs are new.
    for a, job in ((api, job1), (member.api, job2)):
        rows = a.get(f"claims/csv-jobs/{job}/rows/").json()["results"]
        assert {x["change"] for x in rows} == {"new"}, rows


def test_claims_ledger_history_newest_first_404_and_audit(api):
    claim, never = fresh_claims(2)
    jobs = [run_job(api, [claim]) for _ in range(3)]
    r = history(api, claim)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["claim_number"] == claim
    assert body["count"] == 3
    got = body["results"]
    assert [e["job_id"] for e in got] == jobs[::-1]
    times = [ts(e["checked_at"]) for e in got]
    assert times == sorted(times, reverse=True)
    want = sim_explain(claim, 0)
    for e in got:
        assert e["row"] == 1
        assert e["status"] == want["status"]
        # An amount the payer did not give: null here, "" in --explain.
        assert (e["total_paid"] or "") == (want["total_paid"] or "")
        assert (e["total_charged"] or "") == (want["total_charged"] or "")
        assert e["action"] is not None
    # Each check against the one before it (the same epoch: no move).
    assert [e["change"] for e in got] == ["unchanged", "unchanged", "new"]
    # Paginated like the other lists.
    r = history(api, claim, page_size=2)
    assert r.json()["count"] == 3 and len(r.json()["results"]) == 2
    assert r.json()["next"] is not None
    assert history(api, never).status_code == 404
    assert history(api, "x" * 51).status_code == 404

    # Audited: both views, with their outcome, and no claim number.
    rows = psql("SELECT outcome, coalesce(detail, ''), coalesce(job_id::text,"
                " '') FROM audit_log WHERE action = 'view_claim_history'"
                " AND at > now() - interval '10 minutes' ORDER BY id")
    outcomes = [x[0] for x in rows]
    assert "success" in outcomes and "404" in outcomes, rows
    assert all(claim not in "".join(x) and never not in "".join(x)
               for x in rows)


def test_claims_ledger_one_entry_per_row_and_repeated_store(api):
    claims = fresh_claims(5)
    job = run_job(api, claims + [claims[0]])    # a duplicate row too
    # One entry per answered row: the duplicate shares its first row's.
    assert ledger_count(job) == 5
    assert psql("SELECT count(DISTINCT row_number) FROM claim_ledger"
                " WHERE job_id = :'v1'", job) == [["5"]]
    before = psql("SELECT row_number, checked_at, status, total_paid"
                  " FROM claim_ledger WHERE job_id = :'v1'"
                  " ORDER BY row_number", job)
    # The worker's flush again (a re-delivered batch after kill -9):
    # nothing is stored twice, the entries stay as they were.
    batch = json.dumps([{"row_number": n, "success": True,
                         "status": "Other", "attempts": 1}
                        for n in range(1, 6)])
    psql("SELECT job_store_results(:'v1', :'v2', false)", job, batch)
    assert ledger_count(job) == 5
    assert psql("SELECT row_number, checked_at, status, total_paid"
                " FROM claim_ledger WHERE job_id = :'v1'"
                " ORDER BY row_number", job) == before


def test_claims_ledger_purge_removes_entries(api):
    claim, = fresh_claims(1)
    job = run_job(api, [claim])
    assert ledger_count(job) == 1
    assert history(api, claim).status_code == 200
    ctl_ok("purge", "--job", job)
    assert ledger_count(job) == 0
    assert history(api, claim).status_code == 404


def movers_and_stable(n_each, n_stable):
    """Claims that settle or void at epoch 1, at epoch 2 (and not 1),
    and claims that do neither, by the simulator's own explanation."""
    rnd = random.Random(uuid.uuid4().int)
    at1, at2, stable, seen = [], [], [], set()
    for _ in range(5000):
        if min(len(at1), len(at2)) >= n_each and len(stable) >= n_stable:
            break
        c = CLAIM % rnd.randrange(10**8)
        if c in seen:
            continue
        seen.add(c)
        e = sim_explain(c, 2)
        if not e.get("found", True) or e.get("forced", "none") != "none":
            continue
        moves = {e.get("settled_epoch", 0), e.get("void_epoch", 0)}
        if 1 in moves:
            if len(at1) < n_each:
                at1.append(c)
        elif 2 in moves:
            if len(at2) < n_each:
                at2.append(c)
        elif len(stable) < n_stable:
            stable.append(c)
    assert len(at1) == n_each and len(at2) == n_each and \
        len(stable) == n_stable
    return at1, at2, stable


def sim_key(e):
    """What the ledger compares, as the simulator answers it."""
    return (e["status"], e["total_paid"], e["total_allowed"],
            e.get("x12_category"), e.get("x12_status_code"),
            tuple(p["number"] for p in e.get("payments") or []),
            e.get("carc_codes"))


def checked_at(job):
    return {r[0]: float(r[1]) for r in psql(
        "SELECT claim_number, extract(epoch FROM checked_at)"
        " FROM csv_job_rows WHERE job_id = :'v1'", job)}


def test_claims_ledger_changes_across_epochs(api, epoch0):
    at1, at2, stable = movers_and_stable(5, 8)
    # b is checked at epochs 0 and 1, c at 1 and 2, a at 0 and 2: each
    # comparison has claims that moved in between and claims that did not.
    a = at1[3:5] + at2[3:4] + stable[0:2]
    b = at1[0:3] + stable[2:4]
    c = at2[0:3] + stable[4:6]
    d = at2[4:5] + stable[6:8]
    plan = [(0, a + b), (1, b + c), (2, a + c + d)]
    jobs, seen = [], {}     # seen: claim -> (epoch, job) of its last check
    for epoch, claims in plan:
        set_epoch(epoch)
        job = run_job(api, claims, "full")
        times = {}
        rows = api.get(f"claims/csv-jobs/{job}/rows/",
                       params={"page_size": 100}).json()["results"]
        assert len(rows) == len(claims)
        counts = {"new": 0, "changed": 0, "unchanged": 0}
        want_changes = {}
        for row in rows:
            claim = row["claim_number"]
            now = sim_explain(claim, epoch)
            assert row["status"] == now["status"], (claim, row)
            if claim not in seen:
                want = "new"
                assert row["previous_status"] is None
                assert row["previous_paid"] is None
                assert row["previous_checked_at"] is None
            else:
                pe, pjob = seen[claim]
                prev = sim_explain(claim, pe)
                want = "changed" if sim_key(prev) != sim_key(now) \
                    else "unchanged"
                assert row["previous_status"] == prev["status"], (claim, row)
                assert (row["previous_paid"] or "") == \
                    (prev["total_paid"] or ""), row
                if not times.get(pjob):
                    times[pjob] = checked_at(pjob)
                got = ts(row["previous_checked_at"]).timestamp()
                assert abs(got - times[pjob][claim]) < 1e-3, row
            assert row["change"] == want, (claim, epoch, row)
            counts[want] += 1
            want_changes[claim] = want
        # Something moved between the epochs, for the test to mean it.
        if epoch > 0:
            assert counts["changed"] > 0 and counts["unchanged"] > 0, counts
        detail = api.get(f"claims/csv-jobs/{job}/").json()
        assert detail["changes"] == counts
        for kind in ("new", "changed", "unchanged"):
            r = api.get(f"claims/csv-jobs/{job}/rows/",
                        params={"change": kind, "page_size": 100})
            assert r.status_code == 200, r.text
            assert {x["claim_number"] for x in r.json()["results"]} == \
                {k for k, v in want_changes.items() if v == kind}
        r = api.get(f"claims/csv-jobs/{job}/results/",
                    params={"format": "changes"})
        assert r.status_code == 200, r.text
        text = r.content.decode("utf-8")
        head, _, body = text.partition("\r\n")
        assert head == RESULT_HEADER + \
            ",previous_status,previous_paid,previous_checked_at,change"
        out = list(csv.reader(io.StringIO(body)))
        assert {x[1]: x[12] for x in out} == \
            {k: v for k, v in want_changes.items() if v != "unchanged"}
        for x in out:
            row = next(y for y in rows if y["claim_number"] == x[1])
            assert x[9] == (row["previous_status"] or "")
            assert x[10] == (row["previous_paid"] or "")
            if row["previous_checked_at"]:
                assert abs(ts(x[11]).timestamp() -
                           ts(row["previous_checked_at"]).timestamp()) < 1
        for claim in claims:
            seen[claim] = (epoch, job)
        jobs.append(job)
        # One ledger entry per row once the job is complete.
        assert ledger_count(job) == len(claims)
    assert api.get("claims/csv-jobs/x/rows/", params={"change": "x"}) \
        .status_code in (400, 404)
    r = api.get(f"claims/csv-jobs/{jobs[0]}/rows/", params={"change": "x"})
    assert r.status_code == 400


def test_claims_ledger_retry_replaces_the_rows_entry(api):
    claims = fresh_claims(3)
    job = run_job(api, claims)
    before = dict((r[0], r[1:]) for r in psql(
        "SELECT row_number, checked_at, status FROM claim_ledger"
        " WHERE job_id = :'v1'", job))
    assert len(before) == 3
    failed = {r[0] for r in psql(
        "SELECT row_number FROM csv_job_rows WHERE job_id = :'v1'"
        " AND NOT success", job)}
    # Row 2's payer call failed (as the worker stores a failure).
    psql("UPDATE csv_job_rows SET success = false, status = 'Error',"
         " lookup_result = 'PAYER_ERROR', error_message = 'payer error'"
         " WHERE job_id = :'v1' AND row_number = 2", job)
    r = api.post(f"claims/csv-jobs/{job}/retry/")
    assert r.status_code == 202, r.text
    assert api.wait_done(job)["status"] == "COMPLETED"
    after = dict((r[0], r[1:]) for r in psql(
        "SELECT row_number, checked_at, status FROM claim_ledger"
        " WHERE job_id = :'v1'", job))
    assert ledger_count(job) == 3
    # A retry checks every failed row again (a random claim may be one,
    # e.g. not found): the others keep their entry as it was.
    for n in ("1", "3"):
        if n not in failed:
            assert after[n] == before[n], n
    assert after["2"][0] > before["2"][0]
    assert after["2"][1] == sim_explain(claims[1], 0)["status"]
    # The entry is the row's answer as stored now.
    assert psql("SELECT checked_at, status FROM csv_job_rows"
                " WHERE job_id = :'v1' AND row_number = 2", job) == \
        [list(after["2"])]
