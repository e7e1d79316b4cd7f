"""The worker's workflows end to end (upload field "workflow"): status,
details (one CLAIM_DETAILS call per row), payment (CLAIM_STATUS, then
CLAIM_PAYMENT for finalized claims) and full (CLAIM_STATUS, then
CLAIM_DETAILS and CLAIM_PAYMENT for finalized claims).  What the worker
stores in csv_job_rows, csv_job_lines and csv_job_payments is compared
with the simulator's documented outcome (--explain) and its request
counts (/__stats)."""
import random
from decimal import Decimal

import requests

from conftest import HEADER, explain
from intake_util import sim_url
from sec_util import psql

FINALIZED = ("Processed", "Denied", "Finalized")

ROW_COLS = ("row_number, claim_number, first_name, last_name, "
            "COALESCE(status, ''), COALESCE(success::text, ''), "
            "COALESCE(total_charged::text, ''), "
            "COALESCE(total_paid::text, ''), "
            "COALESCE(total_allowed::text, ''), "
            "COALESCE(patient_responsibility::text, ''), "
            "COALESCE(details_result, ''), COALESCE(details_note, ''), "
            "COALESCE(payments_result, ''), COALESCE(payments_note, ''), "
            "COALESCE(line_count::text, ''), "
            "COALESCE(denied_line_count::text, ''), "
            "COALESCE(denied_amount::text, ''), COALESCE(carc_codes, ''), "
            "COALESCE(rarc_codes, ''), "
            "COALESCE(claim_paid_amount::text, ''), "
            "COALESCE(void_reissue::text, ''), "
            "COALESCE(payment_numbers, ''), "
            "COALESCE(deductible::text, ''), COALESCE(copay::text, ''), "
            "COALESCE(coinsurance::text, '')")
ROW_KEYS = ("row", "claim", "first", "last", "status", "success",
            "total_charged", "total_paid", "total_allowed", "patresp",
            "details_result", "details_note", "payments_result",
            "payments_note", "line_count", "denied_line_count",
            "denied_amount", "carc_codes", "rarc_codes",
            "claim_paid_amount", "void_reissue", "payment_numbers",
            "deductible", "copay", "coinsurance")


def claims_csv(n, seed):
    rnd = random.Random(seed)
    seen = set()
    rows = []
    while len(rows) < n:
        claim = "ZE%08d" % rnd.randrange(10**8)
        if claim in seen:
            continue
        seen.add(claim)
        i = len(rows)
        rows.append((claim, "First%d" % i, "Last%d" % i,
                     "19%02d-%02d-%02d" % (rnd.randrange(30, 99),
                                            rnd.randrange(1, 13),
                                            rnd.randrange(1, 29)),
                     "SUB%06d" % i))
    return HEADER + "".join(",".join(r) + "\n" for r in rows)


def run_workflow(api, content, workflow, timeout=600):
    r = api.post("claims/bulk/upload/", params={"allow_duplicate": "1"},
                 data={"workflow": workflow},
                 files={"file": ("wf.csv", content.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    p = api.wait_done(job, timeout=timeout)
    assert p["status"] == "COMPLETED", p
    return job


def rows_of(job):
    out = {}
    for v in psql(f"SELECT {ROW_COLS} FROM csv_job_rows "
                  "WHERE job_id = :'v1' ORDER BY row_number", job):
        out[int(v[0])] = dict(zip(ROW_KEYS, v))
    return out


def lines_of(job):
    out = {}
    for v in psql("SELECT row_number, line_number, procedure_code, "
                  "COALESCE(modifiers, ''), units, service_date, charged, "
                  "allowed, paid, patient_resp, COALESCE(adjustments, ''), "
                  "COALESCE(remark_codes, ''), denied FROM csv_job_lines "
                  "WHERE job_id = :'v1' ORDER BY row_number, line_number",
                  job):
        out.setdefault(int(v[0]), []).append(v[1:])
    return out


def payments_of(job):
    out = {}
    for v in psql("SELECT row_number, payment_number, payment_method, "
                  "issue_date, payment_amount, claim_paid_amount, status "
                  "FROM csv_job_payments WHERE job_id = :'v1' "
                  "ORDER BY row_number, seq", job):
        out.setdefault(int(v[0]), []).append(v[1:])
    return out


def calls_of(job):
    return [int(x) for x in psql(
        "SELECT calls_status, calls_details, calls_payment FROM csv_jobs "
        "WHERE id = :'v1'", job)[0]]


def finalized(e):
    return e["success"] and e["claim_status"] in FINALIZED


def adj_sums(adjustments):
    """(payer's CO/OA/PI, patient's PR) sums of "CO-45-70.00;PR-3-30.00"."""
    payer = patient = Decimal("0")
    for a in filter(None, adjustments.split(";")):
        group, _, amount = a.split("-", 2)
        if group == "PR":
            patient += Decimal(amount)
        else:
            payer += Decimal(amount)
    return payer, patient


def check_details(row, e, lines):
    """The row's detail columns and lines against --explain."""
    assert row["details_result"] == "FOUND", row
    assert int(row["line_count"]) == e["line_count"] == len(lines)
    assert int(row["denied_line_count"]) == e["denied_line_count"]
    assert row["denied_amount"] == e["denied_amount"]
    assert row["carc_codes"] == e["carc_codes"]
    assert row["rarc_codes"] == e["rarc_codes"]
    assert row["deductible"] == e["deductible"]
    assert row["copay"] == e["copay"]
    assert row["coinsurance"] == e["coinsurance"]
    tot = [Decimal("0")] * 4
    for got, want in zip(lines, e["lines"]):
        (num, code, mods, units, date, charged, allowed, paid, patresp,
         adjustments, remarks, _denied) = got
        assert int(num) == want["line"]
        assert code == want["code"]
        assert mods == want["modifiers"]
        assert Decimal(units) == want["units"]
        assert date == want["date"]
        assert [charged, allowed, paid, patresp] == [
            want["charged"], want["allowed"], want["paid"],
            want["patient_resp"]]
        assert adjustments == want["adjustments"]
        assert remarks == want["remark_codes"]
        payer, patient = adj_sums(adjustments)
        c, a, p = Decimal(charged), Decimal(allowed), Decimal(paid)
        if adjustments == "":
            # pending / in review: nothing adjudicated yet
            assert a == p == 0
        else:
            assert c == a + payer, got
            assert a == p + patient, got
        for i, v in enumerate((charged, allowed, paid, patresp)):
            tot[i] += Decimal(v)
    assert tot[0] == Decimal(row["total_charged"])
    assert tot[2] == Decimal(row["total_paid"])
    assert tot[1] == Decimal(row["total_allowed"])
    assert tot[3] == Decimal(row["patresp"])


def check_payments(row, e, pays):
    assert row["payments_result"] == "FOUND", row
    assert [p[0] for p in pays] == [p["number"] for p in e["payments"]]
    assert [p[4] for p in pays] == [p["claim_paid"] for p in e["payments"]]
    assert row["claim_paid_amount"] == e["claim_paid_amount"]
    assert (row["void_reissue"] == "true") == e["void_reissue"]
    assert row["payment_numbers"] == ";".join(
        p["number"] for p in e["payments"])
    if Decimal(row["total_paid"] or "0") > 0:
        assert row["claim_paid_amount"] == row["total_paid"]


def check_not_requested(row, part, e):
    result, note = row[part + "_result"], row[part + "_note"]
    if not e["found"]:
        assert result == "NOT_FOUND", row
    else:
        assert result == "NOT_REQUESTED", row
    assert note.startswith("not requested: "), row
    if e["success"]:
        assert note == "not requested: claim is " + e["status"], row


def check_status(row, e):
    assert row["status"] == e["status"]
    assert row["success"] == ("true" if e["success"] else "false")
    assert row["total_charged"] == e["total_charged"]
    assert row["total_paid"] == e["total_paid"]


def sim_reset():
    requests.post(sim_url() + "/__reset", timeout=10).raise_for_status()


def sim_claim(claim):
    r = requests.get(sim_url() + "/__stats", params={"claim": claim},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["claim"]


def test_workflows_full_2000_rows(api):
    job = run_workflow(api, claims_csv(2000, 14), "full")
    rows, lines, pays = rows_of(job), lines_of(job), payments_of(job)
    assert len(rows) == 2000
    nfinal = 0
    for n, row in rows.items():
        e = explain(row["claim"], row["first"], row["last"])
        check_status(row, e)
        if finalized(e):
            nfinal += 1
            check_details(row, e, lines.get(n, []))
            check_payments(row, e, pays.get(n, []))
        else:
            assert n not in lines and n not in pays
            check_not_requested(row, "details", e)
            check_not_requested(row, "payments", e)
    assert nfinal > 1000
    st, de, pa = calls_of(job)
    assert st >= 2000 and de >= nfinal and pa >= nfinal


def test_workflows_full_calls_only_finalized(api):
    sim_reset()
    job = run_workflow(api, claims_csv(300, 15), "full")
    rows = rows_of(job)
    tot = [0, 0, 0]
    nfinal = 0
    for row in rows.values():
        e = explain(row["claim"], row["first"], row["last"])
        s = sim_claim(row["claim"])
        assert s["requests"] == 1, (row["row"], s)
        want = 1 if finalized(e) else 0
        nfinal += want
        assert s["details_requests"] == want, (row["row"], s)
        assert s["payment_requests"] == want, (row["row"], s)
        tot[0] += s["requests"]
        tot[1] += s["details_requests"]
        tot[2] += s["payment_requests"]
    assert 0 < nfinal < len(rows)
    assert calls_of(job) == tot


def test_workflows_details_and_payment(api):
    content = claims_csv(60, 16)
    job = run_workflow(api, content, "details")
    rows, lines, pays = rows_of(job), lines_of(job), payments_of(job)
    assert not pays
    nfound = 0
    for n, row in rows.items():
        e = explain(row["claim"], row["first"], row["last"])
        assert row["payments_result"] == ""
        if e["found"]:
            nfound += 1
            assert row["status"] == e["claim_status"]
            assert row["success"] == "true"
            check_details(row, e, lines.get(n, []))
        else:
            assert row["details_result"] == "NOT_FOUND", row
            assert row["success"] == "false"
            assert n not in lines
    assert nfound > 0
    st, de, pa = calls_of(job)
    assert st == 0 and de >= 60 and pa == 0

    job = run_workflow(api, content, "payment")
    rows, lines, pays = rows_of(job), lines_of(job), payments_of(job)
    assert not lines
    for n, row in rows.items():
        e = explain(row["claim"], row["first"], row["last"])
        check_status(row, e)
        assert row["details_result"] == ""
        if finalized(e):
            check_payments(row, e, pays.get(n, []))
        else:
            assert n not in pays
            check_not_requested(row, "payments", e)
    st, de, pa = calls_of(job)
    assert st >= 60 and de == 0 and 0 < pa < 60


def test_workflows_retry_fetches_details_again(api):
    job = run_workflow(api, claims_csv(20, 17), "full")
    rows, lines = rows_of(job), lines_of(job)
    row = next(r for r in rows.values() if r["details_result"] == "FOUND")
    n = int(row["row"])
    before = sim_claim(row["claim"])
    # The details call of this row failed at the payer.
    psql("UPDATE csv_job_rows SET details_result = 'PAYER_ERROR', "
         "details_note = 'payer error 503 after 3 attempts', "
         "line_count = NULL WHERE job_id = :'v1' AND row_number = :v2; "
         "DELETE FROM csv_job_lines WHERE job_id = :'v1' "
         "AND row_number = :v2", job, str(n))
    r = api.post(f"claims/csv-jobs/{job}/retry/")
    assert r.status_code in (200, 202), r.text
    p = api.wait_done(job)
    assert p["status"] == "COMPLETED", p
    after = sim_claim(row["claim"])
    assert after["details_requests"] == before["details_requests"] + 1
    assert after["requests"] == before["requests"]
    assert after["payment_requests"] == before["payment_requests"]
    again = rows_of(job)[n]
    assert again["details_result"] == "FOUND"
    assert again["line_count"] == row["line_count"]
    assert lines_of(job)[n] == lines[n]


def test_workflows_full_duplicates_share_details(api):
    """A claim number twice in a file is asked once; its duplicate row
    gets the same status, details, lines and payments."""
    content = claims_csv(20, 18)
    rows = [line.split(",") for line in content.splitlines()[1:]]
    fin = next(r for r in rows if finalized(explain(r[0], r[1], r[2])))
    other = next(r for r in rows if not finalized(explain(r[0], r[1], r[2])))
    content += ",".join(fin) + "\n" + ",".join(other) + "\n"
    job = run_workflow(api, content, "full")
    got, lines, pays = rows_of(job), lines_of(job), payments_of(job)
    assert len(got) == 22

    def first_of(claim):
        return next(r for r in got.values() if r["claim"] == claim)

    for dup, claim in ((got[21], fin[0]), (got[22], other[0])):
        orig = first_of(claim)
        assert dup["claim"] == claim and orig["row"] != dup["row"]
        same = [k for k in ROW_KEYS if k not in ("row",)]
        assert [dup[k] for k in same] == [orig[k] for k in same]
        assert lines.get(int(dup["row"])) == lines.get(int(orig["row"]))
        assert pays.get(int(dup["row"])) == pays.get(int(orig["row"]))
    assert got[21]["details_result"] == "FOUND"
    assert got[22]["details_result"] in ("NOT_REQUESTED", "NOT_FOUND")
