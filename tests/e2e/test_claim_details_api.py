"""Claim details and payments, the storage and API side (sql/007_claim_details.sql): the
upload's "workflow" field, the job's workflow and payer call counters,
the results formats extended (details columns), lines and payments
(with the per-payment-number summary), the rows JSON and one row with
its lines and payments.

These tests upload a job, let the worker finish it, and then replace
what it stored (detail columns, csv_job_lines, csv_job_payments) with
fixed values through SQL, so that every format's edge cases (formula
cells, voided payments, one EFT over two claims) are there
(tests/e2e/test_workflows.py checks what the worker stores).
"""
import csv
import io
import uuid

import pytest

from sec_util import phi_csv, psql

CONTRACT = ["row", "claim_number", "status", "patient_name", "total_charged",
            "total_paid", "processed_date", "success", "error_message"]
EXTENDED_TAIL = ["checked_at", "member_match", "found_by", "not_found_reason",
                 "matched_claim_number", "triage_calls"]
DETAILS = ["service_from", "service_to", "deductible", "copay",
           "coinsurance", "line_count", "denied_line_count", "denied_amount",
           "denial_reasons", "rarc_codes", "payment_method",
           "payment_numbers", "payment_dates", "claim_paid_amount",
           "void_reissue", "details_result", "details_note",
           "payments_result", "payments_note"]
LINES = ["line", "procedure_code", "modifiers", "units", "service_date",
         "charged", "allowed", "paid", "patient_responsibility",
         "adjustments", "remark_codes", "denied", "denial_reason"]
PAYMENTS = ["payment_number", "payment_method", "issue_date",
            "payment_amount", "claim_paid_amount", "payment_status",
            "payee_name"]
SUMMARY = ["payment_number", "payment_method", "issue_date",
           "payment_amount", "payment_status", "claims",
           "claims_paid_amount"]
GHOST = str(uuid.UUID(int=8))

# Forgets what the worker stored for the job's details and payments.
CLEAR = """
UPDATE csv_job_rows SET details_result = NULL, details_note = NULL,
    service_from = NULL, service_to = NULL, deductible = NULL,
    copay = NULL, coinsurance = NULL, denied_amount = NULL,
    line_count = NULL, denied_line_count = NULL, carc_codes = NULL,
    rarc_codes = NULL, payments_result = NULL, payments_note = NULL,
    payment_method = NULL, payment_numbers = NULL, payment_dates = NULL,
    claim_paid_amount = NULL, void_reissue = NULL,
    details_checked_at = NULL, payments_checked_at = NULL
    WHERE job_id = :'v1';
DELETE FROM csv_job_lines WHERE job_id = :'v1';
DELETE FROM csv_job_payments WHERE job_id = :'v1';
"""

# What the worker stores for rows 1 and 2 (row 3 gets a payment of
# the same EFT as row 1, so that the summary counts two claims).
FILL = """
UPDATE csv_jobs SET calls_status = 3, calls_details = 2, calls_payment = 4
    WHERE id = :'v1';
UPDATE csv_job_rows SET details_result = 'FOUND', payments_result = 'FOUND',
    payer_claim_number = 'PCN-001', service_from = '2025-09-01',
    service_to = '2025-09-03', total_allowed = 180.00, deductible = 20.00,
    copay = 15.00, coinsurance = 5.50, patient_responsibility = 40.50,
    line_count = 3, denied_line_count = 2, denied_amount = 140.00,
    carc_codes = '50;97', rarc_codes = 'N130;M15',
    payment_method = 'ACH;CHK', payment_numbers = 'EFT0001;=CHK0002',
    payment_dates = '2025-10-12;2025-10-20', claim_paid_amount = 80.00,
    void_reissue = true, details_checked_at = now(),
    payments_checked_at = now()
    WHERE job_id = :'v1' AND row_number = 1;
UPDATE csv_job_rows SET details_result = 'NOT_REQUESTED',
    details_note = 'not requested: claim is Pending',
    payments_result = 'NOT_REQUESTED',
    payments_note = '=not requested: claim is Pending'
    WHERE job_id = :'v1' AND row_number = 2;
INSERT INTO csv_job_lines (job_id, row_number, line_number, procedure_code,
    modifiers, units, service_date, charged, allowed, paid, patient_resp,
    adjustments, carc_codes, remark_codes, denied) VALUES
    (:'v1', 1, 1, '99213', '25;59', 1, '2025-09-01', 100.00, 80.00, 80.00,
     0.00, 'CO-45-20.00', '45', NULL, false),
    (:'v1', 1, 2, '=HYPERLINK("http://x")', NULL, 2, '2025-09-02', 100.00,
     0.00, 0.00, 0.00, 'CO-50-100.00', '50', 'N130', true),
    (:'v1', 1, 3, '97110', NULL, 1.5, '2025-09-03', 40.00, 0.00, 0.00,
     0.00, 'CO-97-40.00;PR-3--5.00', '97;3', 'M15', true);
INSERT INTO csv_job_payments (job_id, row_number, seq, payment_number,
    payment_method, issue_date, payment_amount, claim_paid_amount, status,
    payee_name) VALUES
    (:'v1', 1, 1, 'EFT0001', 'ACH', '2025-10-12', 1200.00, 80.00,
     'Voided', '@DEMO MEDICAL GROUP'),
    (:'v1', 1, 2, '=CHK0002', 'CHK', '2025-10-20', 500.00, 80.00,
     'Issued', 'DEMO MEDICAL GROUP'),
    (:'v1', 3, 1, 'EFT0001', 'ACH', '2025-10-12', 1200.00, 150.00,
     'Issued', '+DEMO MEDICAL GROUP');
"""


def rows_of(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def upload(api, workflow=None, path="claims/bulk/upload/"):
    data = {} if workflow is None else {"workflow": workflow}
    return api.post(path, params={"allow_duplicate": "1"}, data=data,
                    files={"file": ("claims.csv", phi_csv().encode(),
                                    "text/csv")})


def results(api, job, **params):
    r = api.get(f"claims/csv-jobs/{job}/results/", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    return r


def carc_text(code):
    """carc_codes' text of code (sql/009 fills the table), or None."""
    found = psql("SELECT description FROM carc_codes WHERE code = :'v1'",
                 code)
    return found[0][0] if found else None


@pytest.fixture(scope="module")
def details_job(api):
    """A finished job of workflow full, its details replaced by fixed
    ones; the CARC texts of codes 50 and 97 present."""
    r = upload(api, "full")
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    p = api.wait_done(job)
    assert p["status"] == "COMPLETED", p
    psql(CLEAR, job)
    carc = psql("SELECT to_regclass('carc_codes') IS NOT NULL")[0][0]
    if carc == "f":
        # Without the reference table (its migration comes later) the
        # codes come without texts.
        psql(FILL, job)
        t = rows_of(results(api, job, format="extended").text)
        assert dict(zip(t[0], t[1]))["denial_reasons"] == "50; 97"
        psql("CREATE TABLE IF NOT EXISTS carc_codes"
             " (code text PRIMARY KEY, description text)")
    else:
        psql(FILL, job)
    psql("INSERT INTO carc_codes (code, description) VALUES"
         " ('50', 'Not medically necessary'), ('97', 'Bundled')"
         " ON CONFLICT DO NOTHING")
    return job


def test_workflow_field_on_upload_and_validate(api):
    r = upload(api)
    assert r.status_code == 201, r.text
    assert r.json()["workflow"] == "status"
    plain = r.json()["id"]
    r = upload(api, "payment")
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    assert r.json()["workflow"] == "payment"
    assert psql("SELECT workflow FROM csv_jobs WHERE id = :'v1'", job) == \
        [["payment"]]
    assert api.get(f"claims/csv-jobs/{job}/").json()["workflow"] == "payment"
    assert api.get(f"claims/csv-jobs/{plain}/").json()["workflow"] == "status"
    listed = {j["id"]: j for j in
              api.get("claims/csv-jobs/", params={"page_size": 100})
              .json()["results"]}
    assert listed[job]["workflow"] == "payment"
    p = api.get(f"claims/csv-jobs/{job}/progress/").json()
    assert p["workflow"] == "payment"
    assert set(p["payer_calls"]) == {"status", "details", "payment",
                                     "triage"}
    assert all(isinstance(v, int) for v in p["payer_calls"].values())
    api.wait_done(job)

    for path in ("claims/bulk/upload/", "claims/bulk/validate/"):
        for bad in ("bogus", "STATUS", "full "):
            r = upload(api, bad, path)
            assert r.status_code == 400, (path, bad, r.text)
            err = r.json()["error"]
            assert err["code"] == "invalid_workflow", r.text
            assert err["field"] == "workflow", r.text
            for w in ("status", "details", "payment", "full"):
                assert w in err["message"], r.text
    r = upload(api, "details", "claims/bulk/validate/")
    assert r.status_code == 200, r.text
    assert r.json()["workflow"] == "details"
    r = upload(api, None, "claims/bulk/validate/")
    assert r.status_code == 200 and r.json()["workflow"] == "status"


def test_progress_carries_payer_calls(api, details_job):
    p = api.get(f"claims/csv-jobs/{details_job}/progress/").json()
    assert p["workflow"] == "full"
    assert p["payer_calls"] == {"status": 3, "details": 2, "payment": 4,
                                "triage": 0}
    assert api.get(f"claims/csv-jobs/{details_job}/").json()["workflow"] \
        == "full"


def test_extended_details_columns(api, details_job):
    base = rows_of(results(api, details_job).text)
    assert base[0] == CONTRACT
    t = rows_of(results(api, details_job, format="extended").text)
    head = t[0]
    assert head[:9] == CONTRACT
    # The action bucket (sql/functions/claim_actions.sql), then the next
    # deadline (claim_deadlines.sql) come last.
    assert head[-4:] == ["action", "next_deadline", "deadline_kind",
                         "days_left"]
    assert head[-len(DETAILS) - 4:-4] == DETAILS
    assert head[-len(DETAILS) - len(EXTENDED_TAIL) - 4:
                -len(DETAILS) - 4] == EXTENDED_TAIL
    # The nine contract columns are the plain CSV's, unchanged.
    assert [r[:9] for r in t[1:]] == base[1:]
    one = dict(zip(head, t[1]))
    assert one["payer_claim_number"] == "PCN-001"
    assert one["total_allowed"] == "180.00"
    assert one["patient_responsibility"] == "40.50"
    assert one["service_from"] == "2025-09-01"
    assert one["service_to"] == "2025-09-03"
    assert (one["deductible"], one["copay"], one["coinsurance"]) == \
        ("20.00", "15.00", "5.50")
    assert (one["line_count"], one["denied_line_count"],
            one["denied_amount"]) == ("3", "2", "140.00")
    assert one["denial_reasons"] == "50 %s; 97 %s" % (carc_text("50"),
                                                     carc_text("97"))
    assert one["rarc_codes"] == "N130;M15"
    assert one["payment_method"] == "ACH;CHK"
    assert one["payment_numbers"] == "EFT0001;=CHK0002"
    assert one["payment_dates"] == "2025-10-12;2025-10-20"
    assert one["claim_paid_amount"] == "80.00"
    assert one["void_reissue"] == "true"
    assert one["details_result"] == "FOUND" and one["details_note"] == ""
    two = dict(zip(head, t[2]))
    assert two["details_result"] == "NOT_REQUESTED"
    assert two["details_note"] == "not requested: claim is Pending"
    # Formula-safe like every text cell.
    assert two["payments_note"] == "'=not requested: claim is Pending"
    assert two["line_count"] == "" and two["void_reissue"] == ""


def test_status_job_extended_unchanged(api):
    r = upload(api)
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    api.wait_done(job)
    head = rows_of(results(api, job, format="extended").text)[0]
    assert head[-len(EXTENDED_TAIL) - 4:] == EXTENDED_TAIL + [
        "action", "next_deadline", "deadline_kind", "days_left"]
    assert "details_note" not in head


def test_lines_format(api, details_job):
    r = results(api, details_job, format="lines")
    assert "-lines.csv" in r.headers["Content-Disposition"]
    t = rows_of(r.text)
    assert t[0] == CONTRACT + LINES
    base = rows_of(results(api, details_job).text)
    assert len(t) == 4
    recs = [dict(zip(t[0], row)) for row in t[1:]]
    for rec, row in zip(recs, t[1:]):
        assert row[:9] == base[1][:9]
    assert [x["line"] for x in recs] == ["1", "2", "3"]
    a, b, c = recs
    assert a["procedure_code"] == "99213" and a["modifiers"] == "25;59"
    assert a["units"] == "1" and a["service_date"] == "2025-09-01"
    assert (a["charged"], a["allowed"], a["paid"],
            a["patient_responsibility"]) == ("100.00", "80.00", "80.00",
                                             "0.00")
    assert a["adjustments"] == "CO-45-20.00" and a["denied"] == "false"
    assert a["denial_reason"] == ""
    assert b["procedure_code"] == "'=HYPERLINK(\"http://x\")"
    assert b["denied"] == "true" and b["remark_codes"] == "N130"
    assert b["denial_reason"] == carc_text("50")
    assert c["units"] == "1.5" and c["denial_reason"] == carc_text("97")
    assert c["adjustments"] == "CO-97-40.00;PR-3--5.00"
    # Raw bytes: the formula cell is quoted with its apostrophe.
    assert "\"'=HYPERLINK(\"\"http://x\"\")\"" in r.text
    # rows= filters the claims the lines belong to.
    none = rows_of(results(api, details_job, format="lines",
                           rows="unprocessed").text)
    assert none == [CONTRACT + LINES]


def test_payments_format_and_summary(api, details_job):
    r = results(api, details_job, format="payments")
    assert "-payments.csv" in r.headers["Content-Disposition"]
    t = rows_of(r.text)
    assert t[0] == CONTRACT + PAYMENTS
    recs = [dict(zip(t[0], row)) for row in t[1:]]
    assert [(x["row"], x["payment_number"]) for x in recs] == \
        [("1", "EFT0001"), ("1", "'=CHK0002"), ("3", "EFT0001")]
    v, i, o = recs
    assert (v["payment_method"], v["issue_date"], v["payment_amount"],
            v["claim_paid_amount"], v["payment_status"]) == \
        ("ACH", "2025-10-12", "1200.00", "80.00", "Voided")
    assert v["payee_name"] == "'@DEMO MEDICAL GROUP"
    assert i["payee_name"] == "DEMO MEDICAL GROUP"
    assert o["payee_name"] == "'+DEMO MEDICAL GROUP"
    assert o["claim_paid_amount"] == "150.00"

    r = results(api, details_job, format="payments", summary="1")
    assert "-payments-summary.csv" in r.headers["Content-Disposition"]
    t = rows_of(r.text)
    assert t[0] == SUMMARY
    s = {row[0]: dict(zip(SUMMARY, row)) for row in t[1:]}
    assert set(s) == {"EFT0001", "'=CHK0002"}
    eft = s["EFT0001"]
    assert (eft["payment_method"], eft["issue_date"], eft["payment_amount"],
            eft["claims"]) == ("ACH", "2025-10-12", "1200.00", "2")
    assert eft["payment_status"] == "Issued;Voided"
    # The voided payment of row 1 pays nothing.
    assert eft["claims_paid_amount"] == "150.00"
    assert s["'=CHK0002"]["claims"] == "1"
    assert s["'=CHK0002"]["claims_paid_amount"] == "80.00"

    for params in ({"summary": "1"}, {"format": "payments", "summary": "x"},
                   {"format": "lines", "as": "input"},
                   {"format": "pdf"}):
        r = api.get(f"claims/csv-jobs/{details_job}/results/", params=params)
        assert r.status_code == 400, (params, r.text)


def test_rows_json_fields(api, details_job):
    r = api.get(f"claims/csv-jobs/{details_job}/rows/")
    assert r.status_code == 200, r.text
    rows = r.json()["results"]
    one, two, three = rows
    assert one["row"] == 1
    assert one["payer_claim_number"] == "PCN-001"
    assert one["service_from"] == "2025-09-01"
    assert one["deductible"] == "20.00" and one["coinsurance"] == "5.50"
    assert one["line_count"] == 3 and one["denied_line_count"] == 2
    assert one["denied_amount"] == "140.00"
    assert one["carc_codes"] == "50;97"
    assert one["denial_reasons"] == "50 %s; 97 %s" % (carc_text("50"),
                                                     carc_text("97"))
    assert one["payment_numbers"] == "EFT0001;=CHK0002"  # JSON: raw
    assert one["claim_paid_amount"] == "80.00"
    assert one["void_reissue"] is True
    assert one["details_result"] == "FOUND"
    assert two["details_note"] == "not requested: claim is Pending"
    assert two["line_count"] is None and two["void_reissue"] is None
    assert three["payments_result"] is None
    assert "lines" not in one


def test_one_row_with_lines_and_payments(api, other_org_api, details_job):
    r = api.get(f"claims/csv-jobs/{details_job}/rows/1/")
    assert r.status_code == 200, r.text
    row = r.json()
    listed = api.get(f"claims/csv-jobs/{details_job}/rows/").json()
    assert {k: v for k, v in row.items() if k not in ("lines", "payments")} \
        == listed["results"][0]
    assert [x["line"] for x in row["lines"]] == [1, 2, 3]
    a, b, c = row["lines"]
    assert a["procedure_code"] == "99213" and a["charged"] == "100.00"
    assert a["denied"] is False and a["denial_reason"] is None
    assert a["adjustments"] == [{"group": "CO", "reason": "45",
                                 "amount": "20.00",
                                 "description": carc_text("45")}]
    # JSON values are raw: formula neutralising is for CSV cells.
    assert b["procedure_code"] == "=HYPERLINK(\"http://x\")"
    assert b["denied"] is True and b["denial_reason"] == carc_text("50")
    assert b["adjustments"][0]["description"] == carc_text("50")
    assert c["units"] == "1.5" and c["remark_codes"] == "M15"
    assert [(x["group"], x["reason"], x["amount"])
            for x in c["adjustments"]] == [("CO", "97", "40.00"),
                                           ("PR", "3", "-5.00")]
    assert [(p["seq"], p["payment_number"], p["status"])
            for p in row["payments"]] == [(1, "EFT0001", "Voided"),
                                          (2, "=CHK0002", "Issued")]
    assert row["payments"][0]["payment_amount"] == "1200.00"
    assert row["payments"][0]["issue_date"] == "2025-10-12"
    assert row["payments"][0]["payee_name"] == "@DEMO MEDICAL GROUP"

    r = api.get(f"claims/csv-jobs/{details_job}/rows/2/")
    assert r.status_code == 200, r.text
    assert r.json()["lines"] == [] and r.json()["payments"] == []

    for path in (f"claims/csv-jobs/{details_job}/rows/99/",
                 f"claims/csv-jobs/{details_job}/rows/0/",
                 f"claims/csv-jobs/{details_job}/rows/abc/",
                 f"claims/csv-jobs/{GHOST}/rows/1/"):
        r = api.get(path)
        assert r.status_code == 404, (path, r.text)
    r = other_org_api.get(f"claims/csv-jobs/{details_job}/rows/1/")
    assert r.status_code == 404, r.text
    assert "EFT0001" not in r.text


def test_lines_and_payments_go_with_purge_and_delete(api):
    def parts(job):
        return psql("SELECT (SELECT count(*) FROM csv_job_lines"
                    " WHERE job_id = :'v1'), (SELECT count(*) FROM"
                    " csv_job_payments WHERE job_id = :'v1')", job)[0]

    jobs = []
    for _ in range(2):
        r = upload(api, "details")
        assert r.status_code == 201, r.text
        jobs.append(r.json()["id"])
    for job in jobs:
        api.wait_done(job)
        psql(CLEAR + FILL, job)
        assert parts(job) == ["3", "3"]
    purged, deleted = jobs
    r = api.post(f"claims/csv-jobs/{purged}/purge/")
    assert r.status_code == 200 and r.json()["purged"] is True, r.text
    assert parts(purged) == ["0", "0"]
    psql("DELETE FROM csv_jobs WHERE id = :'v1'", deleted)
    assert parts(deleted) == ["0", "0"]

    # A line or payment needs its row.
    for sql in ("INSERT INTO csv_job_lines (job_id, row_number,"
                " line_number) VALUES (:'v1', 1, 1)",
                "INSERT INTO csv_job_payments (job_id, row_number, seq)"
                " VALUES (:'v1', 1, 1)"):
        with pytest.raises(RuntimeError) as e:
            psql(sql, deleted)
        assert "has no row 1" in str(e.value)
