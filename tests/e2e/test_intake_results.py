"""Intake: the template, the results CSV variants (extended, rows=,
as=input, bom), the rows JSON, Excel formula neutralising, duplicate
uploads and Idempotency-Key, through the real stack over HTTPS."""
import random
import uuid

from conftest import explain
from intake_util import (HEADER, PREFIX, all_rows, csv_rows, get,
                         sim_requests, upload, validate, send, wait_done)

CONTRACT = ["row", "claim_number", "status", "patient_name", "total_charged",
            "total_paid", "processed_date", "success", "error_message"]
EXTENDED = ["lookup_result", "status_category_code", "status_code",
            "status_description", "payer_claim_number", "total_allowed",
            "patient_responsibility", "check_number", "check_date",
            "attempts", "checked_at", "member_match", "found_by",
            "not_found_reason", "matched_claim_number", "triage_calls",
            "action", "next_deadline", "deadline_kind", "days_left"]
NUMERIC = {"row", "total_charged", "total_paid", "total_allowed",
           "patient_responsibility", "attempts"}
DANGER = ("=", "+", "-", "@", "\t", "\r")


def uniq(tag):
    return f"{PREFIX}{tag}{random.randrange(10**6):06d}"


def processed(tag, first, last):
    """A fresh claim number the simulator answers Processed (found)."""
    while True:
        c = uniq(tag)
        if explain(c, first, last)["status"] == "Processed":
            return c


def results(api, job_id, **params):
    r = get(api, f"claims/csv-jobs/{job_id}/results/", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    return r


def run(api, content, **kw):
    r = upload(api, content, **kw)
    assert r.status_code == 201, r.text
    job = r.json()
    p = wait_done(api, job["id"])
    return job["id"], p


def test_template(api):
    r = get(api, "claims/bulk/template/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert "template" in r.headers["Content-Disposition"]
    table = csv_rows(r.text)
    assert table[0] == HEADER.split(",")
    assert len(table) == 2 and all(table[1])
    assert r.text.endswith("\r\n")
    # The template itself passes validation without remarks.
    v = validate(api, r.content).json()
    assert v["total_rows"] == 1 and v["invalid_rows"] == 0
    assert v["row_errors"] == [] and v["warnings"] == []


def mixed_file():
    """Good, not-found, invalid and mismatching rows, with extras."""
    found = processed("F", "Jos\u00e9", "O'Neil")
    nf = "NOTFOUND" + uniq("N")
    mm = "MISMATCH" + uniq("M")
    bad = uniq("B")
    text = ("Member ID,Claim #,First Name,Last Name,DOB,Notes,Account\r\n"
            f"00042,{found},Jos\u00e9,O'Neil,01/15/1980,first,A1\r\n"
            f"S2,{nf},Ann,Lee,1975-03-04,\"two, with comma\",A2\r\n"
            f"S3,{bad},,Roe,13/45/1980,three,A3\r\n"
            f"S4,{mm},Max,Mu,1990-07-01,four,A4\r\n")
    return text, found, nf, bad, mm


def test_results_variants(api):
    text, found, nf, bad, mm = mixed_file()
    job_id, p = run(api, text)
    assert p["status"] == "COMPLETED" and p["processed_rows"] == 4

    # Default: exactly the contract's columns, CRLF, no BOM.
    r = results(api, job_id)
    assert not r.content.startswith(b"\xef\xbb\xbf")
    assert r.content.endswith(b"\r\n")
    table = csv_rows(r.content.decode("utf-8"))
    assert table[0] == CONTRACT
    assert [t[1] for t in table[1:]] == [found, nf, bad, mm]
    e = explain(found, "Jos\u00e9", "O'Neil")
    assert table[1][2] == "Processed" and table[1][3] == "Jos\u00e9 O'Neil"
    assert table[2][7] == "false" and table[2][8] == "Claim not found in system"
    assert table[3][2] == "Invalid" and table[3][7] == "false"
    assert "first_name is empty" in table[3][8]
    assert "'13/45/1980' is not a date" in table[3][8]

    # Extended: the contract, the input as given, the payer's details.
    r = results(api, job_id, format="extended")
    assert "extended" in r.headers["Content-Disposition"]
    table = csv_rows(r.content.decode("utf-8"))
    assert table[0] == CONTRACT + ["Member ID", "Claim #", "First Name",
                                   "Last Name", "DOB", "Notes",
                                   "Account"] + EXTENDED
    rec = dict(zip(table[0], table[1]))
    assert rec["Member ID"] == "00042"      # leading zeros kept
    assert rec["DOB"] == "1980-01-15"       # normalised
    assert rec["Notes"] == "first" and rec["Account"] == "A1"
    assert rec["lookup_result"] == "FOUND" and rec["attempts"] == "1"
    assert rec["checked_at"].endswith("Z")
    assert rec["member_match"] == "true"
    assert rec["check_number"].startswith("EFT")
    assert rec["total_charged"] == e["total_charged"]
    rec = dict(zip(table[0], table[2]))
    assert rec["Notes"] == "two, with comma"
    assert rec["lookup_result"] == "NOT_FOUND"
    rec = dict(zip(table[0], table[3]))
    assert rec["lookup_result"] == "INPUT_INVALID" and rec["attempts"] == "0"
    assert rec["DOB"] == "13/45/1980" and rec["checked_at"] == ""
    rec = dict(zip(table[0], table[4]))
    assert rec["member_match"] == "false"
    assert sim_requests(bad) == 0

    # rows=failed / succeeded / unprocessed split the rows.
    failed = csv_rows(results(api, job_id, rows="failed").text)
    ok = csv_rows(results(api, job_id, rows="succeeded").text)
    todo = csv_rows(results(api, job_id, rows="unprocessed").text)
    assert failed[0] == ok[0] == todo[0] == CONTRACT
    assert {t[1] for t in failed[1:]} == {nf, bad, mm}
    assert {t[1] for t in ok[1:]} == {found}
    assert todo[1:] == []
    assert all(t[7] == "false" for t in failed[1:])

    # as=input with rows=failed: the input's columns only, ready to fix.
    r = results(api, job_id, rows="failed", **{"as": "input"})
    table = csv_rows(r.content.decode("utf-8"))
    assert table[0] == ["Member ID", "Claim #", "First Name", "Last Name",
                        "DOB", "Notes", "Account"]
    assert [t[1] for t in table[1:]] == [nf, bad, mm]
    assert table[2] == ["S3", bad, "", "Roe", "13/45/1980", "three", "A3"]
    # ... and it goes straight back in.
    v = validate(api, r.content).json()
    assert v["total_rows"] == 3 and v["invalid_rows"] == 1
    assert v["extra_columns"] == ["Notes", "Account"]

    # bom=1 puts a UTF-8 BOM first (Excel), the rest unchanged.
    plain = results(api, job_id, format="extended").content
    bom = results(api, job_id, format="extended", bom="1").content
    assert bom == b"\xef\xbb\xbf" + plain

    # HEAD answers the headers only.
    h = api.s.head(api.url(f"claims/csv-jobs/{job_id}/results/"),
                   params={"format": "extended"}, timeout=30)
    assert h.status_code == 200 and h.content == b""


def test_results_bad_parameters(api):
    job_id, _ = run(api, HEADER + f"\n{uniq('P')},A,B,1980-01-01,S\n")
    for params in ({"format": "xlsx"}, {"rows": "some"}, {"as": "json"},
                   {"bom": "maybe"}):
        r = get(api, f"claims/csv-jobs/{job_id}/results/", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["field"] == list(params)[0]


def test_unprocessed_rows_of_a_failed_job(other_org_api):
    # The other organisation has no practice: its job fails before any
    # payer call, so valid rows stay unprocessed; invalid ones failed.
    good1, good2, bad = uniq("U"), uniq("U"), uniq("U")
    text = (HEADER + f"\n{good1},A,B,1980-01-01,S1\n{bad},,B,1980-01-01,S2\n"
            f"{good2},C,D,1980-01-01,S3\n")
    job_id, p = run(other_org_api, text)
    assert p["status"] == "FAILED"
    todo = csv_rows(results(other_org_api, job_id, rows="unprocessed").text)
    assert [t[1] for t in todo[1:]] == [good1, good2]
    assert all(t[7] == "" for t in todo[1:])
    failed = csv_rows(results(other_org_api, job_id, rows="failed").text)
    assert [t[1] for t in failed[1:]] == [bad]
    rows = all_rows(other_org_api, job_id)
    assert [r["success"] for r in rows] == [None, False, None]


def test_rows_endpoint(api, other_org_api):
    base = uniq("R")
    lines = [HEADER]
    for i in range(1, 8):
        first = "" if i == 3 else f"N{i}"
        lines.append(f"{base}{i:02d},{first},Doe,1980-01-01,S{i}")
    lines.append(f"NOTFOUND{base},Zed,Doe,1980-01-01,S8")
    job_id, p = run(api, "\n".join(lines) + "\n")
    assert p["status"] == "COMPLETED"
    path = f"claims/csv-jobs/{job_id}/rows/"

    r = get(api, path, params={"page_size": 3})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 8 and body["previous"] is None
    assert "page=2" in body["next"] and "page_size=3" in body["next"]
    assert [x["row"] for x in body["results"]] == [1, 2, 3]
    # The claim details' keys (null here) follow the intake's.
    assert set(body["results"][0]) == {
        "row", "claim_number", "status", "patient_name", "total_charged",
        "total_paid", "processed_date", "success", "error_message",
        "warning", "lookup_result", "attempts"} | {
        "payer_claim_number", "total_allowed", "patient_responsibility",
        "service_from", "service_to", "deductible", "copay", "coinsurance",
        "line_count", "denied_line_count", "denied_amount", "carc_codes",
        "denial_reasons", "rarc_codes", "payment_method", "payment_numbers",
        "payment_dates", "claim_paid_amount", "void_reissue",
        "details_result", "details_note", "payments_result",
        "payments_note", "action"} | {
        "change", "previous_status", "previous_paid", "previous_checked_at"} | {
        "next_deadline", "deadline_kind", "days_left"} | {
        "found_by", "not_found_reason", "matched_claim_number", "triage_calls"}
    inv = body["results"][2]
    assert inv["success"] is False and inv["status"] == "Invalid"
    assert inv["error_message"] == "first_name is empty"
    assert inv["lookup_result"] == "INPUT_INVALID" and inv["attempts"] == 0
    r3 = get(api, path, params={"page_size": 3, "page": 3}).json()
    assert [x["row"] for x in r3["results"]] == [7, 8]
    assert r3["next"] is None and "page=2" in r3["previous"]

    ok = get(api, path, params={"success": "true"}).json()
    ko = get(api, path, params={"success": "false"}).json()
    assert ok["count"] + ko["count"] == 8
    assert {x["row"] for x in ko["results"]} >= {3, 8}
    assert all(x["success"] is True for x in ok["results"])
    st = get(api, path, params={"status": "Invalid"}).json()
    assert [x["row"] for x in st["results"]] == [3]
    nf = get(api, path, params={"status": "Not Found"}).json()
    want = [i for i in range(1, 8) if i != 3 and explain(
        f"{base}{i:02d}", f"N{i}", "Doe")["status"] == "Not Found"] + [8]
    assert [x["row"] for x in nf["results"]] == want
    q = get(api, path, params={"q": base.lower() + "0"}).json()
    assert q["count"] == 7
    q = get(api, path, params={"q": f"{base}05"}).json()
    assert [x["row"] for x in q["results"]] == [5]
    q = get(api, path, params={"q": "NOTFOUND", "success": "false"}).json()
    assert [x["row"] for x in q["results"]] == [8]

    assert get(api, path, params={"success": "maybe"}).status_code == 400
    assert get(api, path, params={"page": 99}).status_code == 404
    assert get(other_org_api, path).status_code == 404
    assert get(api, f"claims/csv-jobs/{uuid.uuid4()}/rows/").status_code == 404
    assert get(api, "claims/csv-jobs/nope/rows/").status_code == 404


def cells_safe(table, where):
    head = table[0]
    for cell in head:
        assert not cell.startswith(DANGER), (where, "header", cell)
    for rec in table[1:]:
        for name, cell in zip(head, rec):
            if name in NUMERIC:
                continue
            assert not cell.startswith(DANGER), (where, name, cell)


def test_formula_injection(api):
    evil = '=HYPERLINK("http://e.vil/","x")'  # within 35 characters
    c1, c2, c3, c4, c5 = (uniq("X") for _ in range(5))
    text = ("claim_number,first_name,last_name,date_of_birth,subscriber_id,"
            "=cmd|' /C calc'!A0,Notes\r\n"
            f"{c1},\"{evil.replace(chr(34), chr(34) * 2)}\",Doe,1980-01-01,"
            "+15551234,-2,@SUM(A1)\r\n"
            f"{c2},+1,-2,1980-01-01,@x,\"\rcr\",\"\ttab\"\r\n"
            f"{c3},@x,Roe,1980-01-01,=1+2,=A1,+1\r\n"
            f"{c4},,-Doe,=1+1,S4,-,@\r\n"
            f"-{c5},Ann,Lee,1980-01-01,S5,x,y\r\n")
    job_id, p = run(api, text)
    assert p["status"] == "COMPLETED"
    variants = [{}, {"format": "extended"}, {"rows": "failed"},
                {"rows": "succeeded", "format": "extended"},
                {"rows": "failed", "as": "input"}, {"as": "input"},
                {"format": "extended", "bom": "1"}]
    for params in variants:
        r = results(api, job_id, **params)
        text_out = r.content.decode("utf-8-sig")
        cells_safe(csv_rows(text_out), params)

    ext = csv_rows(results(api, job_id, format="extended").text)
    head = ext[0]
    assert "'=cmd|' /C calc'!A0" in head
    r1 = dict(zip(head, ext[1]))
    assert r1["first_name"] == "'" + evil
    assert r1["patient_name"] == "'" + evil + " Doe"
    assert r1["subscriber_id"] == "'+15551234"
    assert r1["'=cmd|' /C calc'!A0"] == "'-2" and r1["Notes"] == "'@SUM(A1)"
    r2 = dict(zip(head, ext[2]))
    assert r2["first_name"] == "'+1" and r2["last_name"] == "'-2"
    assert r2["'=cmd|' /C calc'!A0"] == "'\rcr"
    assert r2["Notes"] in ("'\ttab", "tab")    # tabs may be trimmed
    r4 = dict(zip(head, ext[4]))
    assert r4["success"] == "false"
    r5 = dict(zip(head, ext[5]))
    assert r5["claim_number"] == f"'-{c5}"
    # Amounts stay numbers (never quoted or prefixed).
    for rec in ext[1:]:
        rec = dict(zip(head, rec))
        for col in ("total_charged", "total_paid"):
            assert rec[col] == "" or float(rec[col]) >= 0

    # The rows JSON is raw: the browser shows text, not formulas.
    rows = all_rows(api, job_id)
    assert rows[0]["patient_name"] == evil + " Doe"
    assert rows[1]["patient_name"] == "+1 -2"
    assert rows[4]["claim_number"] == f"-{c5}"
    assert "date_of_birth: '=1+1' is not a date" in rows[3]["error_message"]


def test_duplicate_claim_checked_once(api):
    dup, other = uniq("D"), uniq("D")
    text = (HEADER + f"\n{dup},John,Doe,1980-01-01,S1\n"
            f"{other},Ann,Lee,1980-01-01,S2\n{dup},John,Doe,1980-01-01,S1\n")
    job_id, p = run(api, text)
    assert p["status"] == "COMPLETED" and p["processed_rows"] == 3
    assert p["success_count"] + p["failure_count"] == 3
    assert sim_requests(dup) == 1
    rows = all_rows(api, job_id)
    assert "also appears on row 3" in rows[0]["warning"]
    assert "also appears on row 1" in rows[2]["warning"]
    for k in ("status", "total_charged", "total_paid", "success",
              "lookup_result"):
        assert rows[0][k] == rows[2][k], k
    assert rows[0]["attempts"] == 1 and rows[2]["attempts"] == 0


def test_duplicate_upload(api, other_org_api):
    text = HEADER + f"\n{uniq('W')},John,Doe,1980-01-01,S1\n"
    first = send(api, "claims/bulk/upload/", text)
    assert first.status_code == 201, first.text
    again = send(api, "claims/bulk/upload/", text, filename="again.csv")
    assert again.status_code == 409, again.text
    err = again.json()["error"]
    assert err["code"] == "duplicate_upload"
    assert err["job_id"] == first.json()["id"]
    assert "allow_duplicate" in err["message"]
    forced = send(api, "claims/bulk/upload/", text,
                  params={"allow_duplicate": "1"})
    assert forced.status_code == 201
    assert forced.json()["id"] != first.json()["id"]
    # Per organisation: another one may upload the same file.
    other = send(other_org_api, "claims/bulk/upload/", text)
    assert other.status_code == 201, other.text


def job_count(api):
    return get(api, "claims/csv-jobs/").json()["count"]


def test_idempotency_key(api, other_org_api):
    text = HEADER + f"\n{uniq('K')},John,Doe,1980-01-01,S1\n"
    key = uuid.uuid4().hex
    h = {"Idempotency-Key": key}
    first = send(api, "claims/bulk/upload/", text, headers=h)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    n = job_count(api)
    again = send(api, "claims/bulk/upload/", text, headers=h)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert job_count(api) == n
    # The same key with another file is refused, not replayed.
    other = send(api, "claims/bulk/upload/",
                 HEADER + f"\n{uniq('K')},A,B,1980-01-01,S\n", headers=h)
    assert other.status_code == 422, other.text
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    # Keys are per user: another user's same key is another request.
    o = send(other_org_api, "claims/bulk/upload/", text, headers=h)
    assert o.status_code == 201 and o.json()["id"] != first.json()["id"]
    # A rejected file's answer is replayed as well.
    k2 = {"Idempotency-Key": uuid.uuid4().hex}
    bad = send(api, "claims/bulk/upload/", HEADER + "\n", headers=k2)
    assert bad.status_code == 400
    bad2 = send(api, "claims/bulk/upload/", HEADER + "\n", headers=k2)
    assert bad2.status_code == 400 and bad2.content == bad.content
    assert bad2.headers.get("Idempotent-Replayed") == "true"
    # A duplicate's 409 too; allow_duplicate with a new key goes through.
    dup = send(api, "claims/bulk/upload/", text,
               headers={"Idempotency-Key": uuid.uuid4().hex})
    assert dup.status_code == 409
    # Malformed keys.
    for bad_key in ("x" * 256, "has space"):
        r = send(api, "claims/bulk/upload/", text,
                 headers={"Idempotency-Key": bad_key})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "invalid_idempotency_key"


def test_validate_creates_no_job(api):
    n = job_count(api)
    v = validate(api, HEADER + f"\n{uniq('V')},John,Doe,1980-01-01,S1\n")
    assert v.status_code == 200
    assert job_count(api) == n
    v = validate(api, "x")
    assert v.status_code == 400
    assert get(api, "claims/bulk/validate/").status_code == 405


def test_many_rows_with_duplicates_upload_fast(other_org_api):
    # Marking repeats runs on rows inserted in the same transaction, which
    # the planner has no statistics for; a bad plan took minutes (a
    # statement timeout) for 200,000 rows.  The other organisation's job
    # fails at once (no practice), so the worker does no payer calls.
    import time
    base = uniq("L")
    lines = [HEADER] + [
        f"{base}{(i if i % 500 else 0):06d},Jo,Do,1980-01-01,S{i}"
        for i in range(30000)]
    t0 = time.time()
    r = upload(other_org_api, "\n".join(lines) + "\n")
    elapsed = time.time() - t0
    assert r.status_code == 201, r.text
    assert r.json()["total_rows"] == 30000
    assert elapsed < 20, elapsed
    rows = all_rows(other_org_api, r.json()["id"], q=f"{base}000000")
    assert len(rows) == 60
    assert "also appears on rows 501, 1001" in rows[0]["warning"]
    assert all("also appears on row 1" in x["warning"] for x in rows[1:])
