"""Deadlines (docs/deadlines.md): each result row's next_deadline,
deadline_kind and days_left come from payer_deadline_rules (the
organisation's own rule, else the shipped default) and the dates the
payer gave; the rules are listed to every member, changed by admins only
(API and bulkclaimsctl, audited), and invisible to other organisations."""
import csv
import datetime
import io
import random
import uuid

import pytest

from conftest import HEADER
from sec_util import ctl_ok, ctl_run, new_org, psql

CLAIM = "DL%08d"
ACTIONS = ("partially_paid", "denied_correctable", "denied_appealable",
           "needs_information", "rejected", "not_found")


def claims_csv(claims, service="2026-10-01"):
    head = HEADER.rstrip("\n") + ",service_date\n"
    return head + "".join(f"{c},Ann,Lee,1970-01-0{i % 9 + 1},M{i:05d},"
                          f"{service}\n" for i, c in enumerate(claims))


def run_job(api, n=60, workflow="full"):
    rnd = random.Random(uuid.uuid4().int)
    claims = sorted({CLAIM % rnd.randrange(10**8) for _ in range(n)})
    r = api.post("claims/bulk/upload/", params={"allow_duplicate": "1"},
                 data={"workflow": workflow},
                 files={"file": ("deadlines.csv",
                                 claims_csv(claims).encode(), "text/csv")})
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    assert api.wait_done(job, timeout=300)["status"] == "COMPLETED"
    return job


def all_rows(api, job, **params):
    out, page = [], 1
    while True:
        r = api.get(f"claims/csv-jobs/{job}/rows/",
                    params=dict(params, page=page, page_size=100))
        assert r.status_code == 200, r.text
        out += r.json()["results"]
        if not r.json()["next"]:
            return out
        page += 1


def rules(api):
    r = api.get("deadline-rules/")
    assert r.status_code == 200, r.text
    return {(x["provider_code"], x["action"]): x for x in r.json()["results"]}


def expected(row, rule):
    """The deadline of a row under a rule, as docs/deadlines.md says."""
    if rule is None or row["success"] is None:
        return None
    if rule["counted_from"] == "processed":
        base = row["processed_date"]
    else:
        base = row["service_from"] or "2026-10-01"
    if not base:
        return None
    return datetime.date.fromisoformat(base) + \
        datetime.timedelta(days=rule["days"])


def test_default_rules_listed_to_every_member(api):
    got = rules(api)
    for a in ACTIONS:
        rule = got[("UHC", a)]
        assert rule["source"] == "default"
        assert rule["note"] and "contract" in rule["note"]
    assert got[("UHC", "not_found")]["counted_from"] == "service"
    assert got[("UHC", "denied_appealable")]["deadline_kind"] == "appeal"


def test_rows_carry_their_deadline_and_sort_by_days_left(api):
    job = run_job(api)
    got = rules(api)
    rows = all_rows(api, job)
    today = datetime.date.today()
    with_deadline = 0
    for row in rows:
        rule = got.get(("UHC", row["action"]))
        want = expected(row, rule)
        if want is None:
            assert row["next_deadline"] is None, row
            assert row["days_left"] is None and row["deadline_kind"] is None
            continue
        with_deadline += 1
        assert row["next_deadline"] == want.isoformat(), row
        assert row["deadline_kind"] == rule["deadline_kind"]
        assert row["days_left"] == (want - today).days
    assert with_deadline >= 5, [r["action"] for r in rows]
    # The most urgent first; rows without a deadline last.
    by_days = all_rows(api, job, ordering="days_left")
    left = [r["days_left"] for r in by_days]
    known = [d for d in left if d is not None]
    assert left[:len(known)] == sorted(known)
    assert all(d is None for d in left[len(known):])
    assert sorted(r["row"] for r in by_days) == sorted(r["row"] for r in rows)
    r = api.get(f"claims/csv-jobs/{job}/rows/", params={"ordering": "x"})
    assert r.status_code == 400 and "ordering" in r.text
    # One row, and the extended results, say the same.
    one = next(r for r in rows if r["next_deadline"])
    r = api.get(f"claims/csv-jobs/{job}/rows/{one['row']}/")
    assert r.json()["next_deadline"] == one["next_deadline"]
    r = api.get(f"claims/csv-jobs/{job}/results/",
                params={"format": "extended"})
    assert r.status_code == 200, r.text
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert list(table[0])[-4:] == ["action", "next_deadline",
                                   "deadline_kind", "days_left"]
    for line, row in zip(table, rows):
        assert line["next_deadline"] == (row["next_deadline"] or "")
        assert line["deadline_kind"] == (row["deadline_kind"] or "")
        assert line["days_left"] == ("" if row["days_left"] is None
                                     else str(row["days_left"]))


def test_admin_sets_and_removes_own_rule_others_cannot(tmp_path):
    org = new_org(tmp_path)
    admin, member, viewer = org["admin"].api, org["member"].api, \
        org["viewer"].api
    other = new_org(tmp_path, roles=("admin",))["admin"].api
    body = {"provider_code": "uhc", "action": "not_found",
            "deadline_kind": "timely_filing", "days": 180,
            "counted_from": "service", "note": "Our contract: 180 days."}
    for who in (member, viewer):
        r = who.post("deadline-rules/", json=body)
        assert r.status_code == 403, r.text
    r = admin.post("deadline-rules/", json=body)
    assert r.status_code == 200, r.text
    rule = r.json()
    assert rule["provider_code"] == "UHC" and rule["days"] == 180
    assert rule["source"] == "organization"
    assert rules(viewer)[("UHC", "not_found")]["days"] == 180
    # Another organisation keeps the default and cannot remove ours.
    assert rules(other)[("UHC", "not_found")]["days"] == 90
    r = other.request("DELETE", f"deadline-rules/{rule['id']}/", 30)
    assert r.status_code == 404, r.text
    # Audited, without patient data.
    rows = psql("SELECT detail FROM audit_log WHERE action ="
                " 'deadline_rule_set' AND organization_id = (SELECT"
                " organization_id FROM users WHERE id = :'v1')",
                org["admin"].id)
    assert rows and "days=180" in rows[-1][0]
    # Each field is checked and named.
    for field, bad in (("days", 0), ("days", "90"), ("action", "paid"),
                       ("deadline_kind", "x"), ("counted_from", "today"),
                       ("provider_code", "U H C"), ("note", 5)):
        r = admin.post("deadline-rules/", json=dict(body, **{field: bad}))
        assert r.status_code == 400, (field, r.text)
        assert r.json()["error"]["field"] == field, r.text
    r = admin.post("deadline-rules/", data="{not json")
    assert r.status_code == 400, r.text
    r = admin.request("DELETE", f"deadline-rules/{rule['id']}/", 30)
    assert r.status_code == 204, r.text
    assert rules(viewer)[("UHC", "not_found")]["source"] == "default"
    r = admin.request("DELETE", f"deadline-rules/{rule['id']}/", 30)
    assert r.status_code == 404, r.text


def test_ctl_lists_sets_and_deletes_rules(tmp_path):
    org = new_org(tmp_path, roles=("viewer",))
    out = ctl_ok("deadline-rules")
    assert "not_found" in out and "default" in out
    ctl_ok("set-deadline-rule", "--tin", org["tin"], "--provider", "UHC",
           "--action", "denied_appealable", "--kind", "appeal", "--days",
           "60", "--from", "processed")
    got = rules(org["viewer"].api)[("UHC", "denied_appealable")]
    assert got["days"] == 60 and got["updated_by"] == "bulkclaimsctl"
    assert org["tin"] in ctl_ok("deadline-rules", "--tin", org["tin"])
    rc, _, err = ctl_run("set-deadline-rule", "--tin", org["tin"],
                         "--provider", "UHC", "--action", "paid", "--kind",
                         "appeal", "--days", "60", "--from", "processed")
    assert rc != 0 and "action" in err
    ctl_ok("delete-deadline-rule", "--tin", org["tin"], "--provider", "UHC",
           "--action", "denied_appealable")
    assert rules(org["viewer"].api)[("UHC", "denied_appealable")][
        "days"] == 365
    rc, _, err = ctl_run("delete-deadline-rule", "--tin", org["tin"],
                         "--provider", "UHC", "--action",
                         "denied_appealable")
    assert rc != 0 and "no such rule" in err


def test_input_service_date_forms():
    rows = psql("SELECT csv_row_input_service_date(:'v1'::jsonb),"
                " csv_row_input_service_date(:'v2'::jsonb),"
                " csv_row_input_service_date(:'v3'::jsonb),"
                " csv_row_input_service_date(:'v4'::jsonb)",
                '[["Service_Date", "2026-03-04"]]',
                '[["dos", "3/4/2026"]]',
                '[["service_date", "2026-02-30"]]',
                '[["note", "2026-03-04"]]')
    assert rows == [["2026-03-04", "2026-03-04", "", ""]]
