"""Action buckets (sql/functions/claim_actions.sql, docs/actions.md): every
rule of claim_action_rules hit once by claim_action() in PostgreSQL (and
shown to be the rule that decided, by deleting it in a rolled-back
transaction: the answer must change), every code of the code-list rules,
the precedence between rules, the 'review' fallbacks; then the action in
the extended CSV, the rows JSON (?action=) and the job detail's
summary, for rows written through SQL as the worker stores them.
"""
import csv
import io

import pytest

from conftest import HEADER
from sec_util import psql

ARGS = ("lookup_result", "status", "category", "status_code", "paid",
        "allowed", "patient", "denied_lines", "denied_amount", "carc", "rarc",
        "received", "checked_at")
TYPES = ("text", "text", "text", "text", "numeric", "numeric", "numeric",
         "integer", "numeric", "text", "text", "date", "timestamptz")
BUCKETS = ["paid", "partially_paid", "denied_correctable",
           "denied_appealable", "needs_information", "pending",
           "pending_long", "rejected", "not_found", "input_invalid", "error",
           "review"]
CHECKED = "2025-11-30 12:00+00"
FOUND = {"lookup_result": "FOUND", "checked_at": CHECKED}
DENIED = dict(FOUND, status="Denied", category="F2", paid=0)


def lit(v, t):
    if v is None:
        return f"NULL::{t}"
    return "'" + str(v).replace("'", "''") + f"'::{t}"


def call(case):
    return "claim_action(" + ", ".join(
        lit(case.get(a), t) for a, t in zip(ARGS, TYPES)) + ")"


def action(case):
    return psql(f"SELECT {call(case)}")[0][0]


# seq -> a row that this rule, and no earlier one, decides.
RULE_CASES = {
    10: ({"lookup_result": "INPUT_INVALID", "status": "Invalid"},
         "input_invalid"),
    20: ({"lookup_result": "NOT_FOUND"}, "not_found"),
    30: ({"lookup_result": "PAYER_ERROR", "status": "Error"}, "error"),
    40: (dict(FOUND, category="D0"), "not_found"),
    45: (dict(FOUND, status_code="35"), "not_found"),
    50: (dict(FOUND, category="E1", status_code="0"), "error"),
    60: (dict(FOUND, status="Rejected", category="A7", status_code="21"),
         "rejected"),
    70: (dict(FOUND, category="R4"), "needs_information"),
    80: (dict(FOUND, status="Pending", category="P3"), "needs_information"),
    90: (dict(FOUND, status="Pending", category="P1", status_code="20",
              received="2025-10-31"), "pending_long"),
    100: (dict(FOUND, status="Pending", category="P1", status_code="20",
               received="2025-11-01"), "pending"),
    110: (dict(FOUND, status="Processed", category="F1", status_code="65",
               paid="1200.00", allowed="1300.00", patient="100.00"), "paid"),
    120: (dict(FOUND, status="Processed", category="F1", status_code="65",
               paid="1000.00", allowed="1300.00", patient="100.00"),
          "partially_paid"),
    130: (dict(DENIED, carc="50", rarc="N211"), "review"),
    140: (dict(DENIED, carc="16"), "denied_correctable"),
    150: (dict(DENIED, carc="45", rarc="MA130"), "denied_correctable"),
    160: (dict(DENIED, carc="50"), "denied_appealable"),
    170: (dict(DENIED, carc="45", rarc="M15"), "denied_appealable"),
}


def rules():
    return {int(r[0]): r[1] for r in
            psql("SELECT seq, action FROM claim_action_rules ORDER BY seq")}


def test_every_rule_has_a_case():
    assert set(rules()) == set(RULE_CASES)
    for seq, (_, want) in RULE_CASES.items():
        assert rules()[seq] == want, seq


@pytest.mark.parametrize("seq", sorted(RULE_CASES))
def test_rule_decides(seq):
    case, want = RULE_CASES[seq]
    assert action(case) == want
    # Without the rule the same row gets another answer (a later rule's
    # or 'review'): so this rule, not a later one, decided it.
    out = psql(f"BEGIN; DELETE FROM claim_action_rules WHERE seq = {seq};"
               f" SELECT {call(case)}; ROLLBACK;")
    assert out[0][0] != want, out


def codes(column, seq):
    return psql(f"SELECT unnest({column}) FROM claim_action_rules"
                f" WHERE seq = {seq}")


@pytest.mark.parametrize("seq", [140, 160])
def test_every_carc_code(seq):
    want = rules()[seq]
    listed = [c[0] for c in codes("carc", seq)]
    assert listed
    for code in listed:
        assert action(dict(DENIED, carc=f"45;{code}")) == want, code


@pytest.mark.parametrize("seq", [150, 170])
def test_every_rarc_code(seq):
    want = rules()[seq]
    listed = [c[0] for c in codes("rarc", seq)]
    assert listed
    for code in listed:
        assert action(dict(DENIED, carc="45", rarc=f"N130;{code}")) == \
            want, code


@pytest.mark.parametrize("case,want", [
    # The lookup's outcome before any claim state.
    ({"lookup_result": "PAYER_ERROR", "status": "Processed",
      "category": "F1", "paid": "10.00"}, "error"),
    # Status text alone (REST payers) and category alone (X12).
    (dict(FOUND, status="Denied", paid=0, carc="197"), "denied_appealable"),
    (dict(FOUND, category="F2", carc="16"), "denied_correctable"),
    (dict(FOUND, status="in review", received="2025-11-20"), "pending"),
    (dict(FOUND, category="A1", received="2025-09-01"), "pending_long"),
    (dict(FOUND, status="Not Found"), "not_found"),
    (dict(FOUND, status="Rejected"), "rejected"),
    # Correctable beats appealable: fix the data, then see.
    (dict(DENIED, carc="50;16"), "denied_correctable"),
    (dict(DENIED, carc="97", rarc="M127"), "denied_correctable"),
    # A payment decides before the denial codes: a line denied.
    (dict(FOUND, status="Processed", category="F1", paid="80.00",
          allowed="180.00", patient="40.50", denied_lines=2,
          denied_amount="140.00", carc="50;97"), "partially_paid"),
    (dict(FOUND, status="Processed", category="F1", paid="80.00",
          denied_amount="10.00"), "partially_paid"),
    # Allowed unknown: paid with no denied line is paid.
    (dict(FOUND, status="Processed", category="F1", paid="80.00"), "paid"),
    # Exactly 30 days is long; pending of unknown age is not.
    (dict(FOUND, status="Pending", category="P1", received="2025-10-31"),
     "pending_long"),
    (dict(FOUND, status="Pending", category="P1"), "pending"),
    # Information requested beats pending, whatever the age.
    (dict(FOUND, status="Pending", category="P4", received="2025-01-01"),
     "needs_information"),
    # Codes in lower case are the same codes.
    (dict(DENIED, carc="45", rarc="ma130"), "denied_correctable"),
])
def test_precedence(case, want):
    assert action(case) == want


@pytest.mark.parametrize("case", [
    # Finalized with nothing paid and no reason the table knows.
    dict(DENIED),
    dict(DENIED, carc="45;96", rarc="N130"),
    dict(FOUND, status="Finalized", category="F4", paid=0),
    # Paid nothing on a "paid" claim (all to the deductible).
    dict(FOUND, status="Processed", category="F1", paid=0, patient="90.00"),
    # States the table does not name.
    dict(FOUND, status="Something new"),
    dict(FOUND),
    {},
])
def test_review_fallback(case):
    assert action(case) == "review"


# Rows the tests below write, as the worker stores them (rows 1..5 of
# a five-row job): paid, partially paid with details, denied
# correctable, pending long (service dates stand in for received), not
# found.
FILL = """
UPDATE csv_job_rows SET status = 'Processed', status_category_code = 'F1',
    lookup_result = 'FOUND', success = true, total_charged = 1500.00,
    total_paid = 1200.00, total_allowed = 1300.00,
    patient_responsibility = 100.00, checked_at = '2025-11-30 12:00+00'
    WHERE job_id = :'v1' AND row_number = 1;
UPDATE csv_job_rows SET status = 'Processed', status_category_code = 'F1',
    lookup_result = 'FOUND', success = true, total_charged = 300.00,
    total_paid = 80.00, total_allowed = 180.00,
    patient_responsibility = 40.50, denied_line_count = 2,
    denied_amount = 140.00, carc_codes = '50;97',
    checked_at = '2025-11-30 12:00+00'
    WHERE job_id = :'v1' AND row_number = 2;
UPDATE csv_job_rows SET status = 'Denied', status_category_code = 'F2',
    lookup_result = 'FOUND', success = true, total_charged = 200.00,
    total_paid = 0, carc_codes = '16', rarc_codes = 'MA130',
    checked_at = '2025-11-30 12:00+00'
    WHERE job_id = :'v1' AND row_number = 3;
UPDATE csv_job_rows SET status = 'Pending', status_category_code = 'P1',
    lookup_result = 'FOUND', success = true, total_charged = 50.00,
    total_paid = NULL, service_from = '2025-09-01', service_to = '2025-09-02',
    checked_at = '2025-11-30 12:00+00'
    WHERE job_id = :'v1' AND row_number = 4;
UPDATE csv_job_rows SET status = 'Not Found', status_category_code = NULL,
    lookup_result = 'NOT_FOUND', success = false, total_charged = NULL,
    total_paid = NULL WHERE job_id = :'v1' AND row_number = 5;
"""
WANT = {1: "paid", 2: "partially_paid", 3: "denied_correctable",
        4: "pending_long", 5: "not_found"}


CLAIMS = HEADER + "".join(
    f"ACT{n:07d},Ann,Lee,1980-01-{n:02d},ACTSUB{n:04d}\n"
    for n in range(1, 6))


@pytest.fixture(scope="module")
def actions_job(api):
    r = api.post("claims/bulk/upload/", params={"allow_duplicate": "1"},
                 files={"file": ("claims.csv", CLAIMS.encode(),
                                 "text/csv")})
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    assert api.wait_done(job)["status"] == "COMPLETED"
    psql(FILL, job)
    return job


def all_rows(api, job, **params):
    r = api.get(f"claims/csv-jobs/{job}/rows/",
                params=dict(params, page_size=100))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_extended_csv_action_before_deadline(api, actions_job):
    plain = api.get(f"claims/csv-jobs/{actions_job}/results/")
    assert "action" not in plain.text.splitlines()[0]
    r = api.get(f"claims/csv-jobs/{actions_job}/results/",
                params={"format": "extended"})
    assert r.status_code == 200, r.text
    t = list(csv.reader(io.StringIO(r.text, newline="")))
    # After it only the next deadline's three columns.
    assert t[0][-4] == "action"
    got = {int(row[0]): row[-4] for row in t[1:]}
    for n, want in WANT.items():
        assert got[n] == want, (n, got)
    sql = {int(n): a for n, a in psql(
        "SELECT row_number, csv_row_action(r) FROM csv_job_rows r"
        " WHERE job_id = :'v1'", actions_job)}
    assert got == sql


def test_rows_json_action_and_filter(api, actions_job):
    rows = all_rows(api, actions_job)
    got = {x["row"]: x["action"] for x in rows}
    for n, want in WANT.items():
        assert got[n] == want
    for want in set(got.values()):
        only = all_rows(api, actions_job, action=want)
        assert sorted(x["row"] for x in only) == \
            sorted(n for n, a in got.items() if a == want)
    assert all_rows(api, actions_job, action="rejected") == []
    one = api.get(f"claims/csv-jobs/{actions_job}/rows/2/").json()
    assert one["action"] == "partially_paid"
    for bad in ("bogus", "PAID", "paid "):
        r = api.get(f"claims/csv-jobs/{actions_job}/rows/",
                    params={"action": bad})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == "action"


def test_job_detail_actions_summary(api, actions_job):
    d = api.get(f"claims/csv-jobs/{actions_job}/").json()
    acts = d["actions"]
    assert list(acts) == BUCKETS
    want = {a: {"count": 0, "billed": "0.00", "paid": "0.00"}
            for a in BUCKETS}
    for a, n, billed, paid in psql(
            "SELECT csv_row_action(r), count(*),"
            " coalesce(sum(total_charged), 0)::numeric(14,2),"
            " coalesce(sum(total_paid), 0)::numeric(14,2)"
            " FROM csv_job_rows r WHERE job_id = :'v1' GROUP BY 1",
            actions_job):
        want[a] = {"count": int(n), "billed": billed, "paid": paid}
    assert acts == want
    assert acts["paid"] == {"count": 1, "billed": "1500.00",
                            "paid": "1200.00"}
    assert acts["partially_paid"]["paid"] == "80.00"
    assert sum(b["count"] for b in acts.values()) == d["total_rows"]
