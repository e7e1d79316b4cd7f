"""Intake: a corpus of bad or awkward CSV files, generated here (never
committed as data), each with the answer it must get.  Every file goes
through the real stack over HTTPS twice: the validate-only endpoint and
the upload.  Rejected files answer the same 4xx with the same code,
message and line on both, and create no job; accepted files give the
same counts on both, and their rows come back from the rows endpoint
and the results CSV with invalid rows failed at once with their message,
never sent to the payer (the simulator's per-claim counter stays 0).

Too many rows: the file has upload.max_rows + 1 short rows (the stack's
configuration, read from BC_CONFIG; 200,000 by default, about 5 MB), so
no per-test configuration is needed.
"""
import pytest

from intake_util import (HEADER, PREFIX, all_rows, config_value, csv_rows,
                         get, sim_requests, upload, validate, wait_done)

CRLF = "\r\n"


def claim(case, n):
    """A claim number unique to this run, case and row."""
    return f"{PREFIX}{case:02d}{n:03d}"


def good(case, n, first="John", last="Doe", dob="1980-01-15", sub=None):
    return [claim(case, n), first, last, dob,
            f"S{case:02d}{n:03d}" if sub is None else sub]


def lines(header, rows, eol="\n", final=True):
    text = eol.join([header] + [",".join(r) for r in rows])
    return text + (eol if final else "")


class Bad:
    """A file the upload rejects: status, error code, message fragment."""

    def __init__(self, name, body, status, code, frag, line=None,
                 ctype="text/csv", filename="claims.csv", extra=None):
        self.name, self.body, self.status = name, body, status
        self.code, self.frag, self.line = code, frag, line
        self.ctype, self.filename, self.extra = ctype, filename, extra


class Good:
    """A file the upload accepts.

    rows: data rows; errors/warnings: {row: message fragment};
    dob: {row: normalised date_of_birth}; extras: extra column names;
    mapping: {required column: header as found}; values: {(row, column
    name as found): value in the extended results}.
    """

    def __init__(self, name, body, rows, errors=None, warnings=None,
                 dob=None, extras=(), mapping=None, cp1252=False,
                 values=None, ctype="text/csv"):
        self.name, self.body, self.rows = name, body, rows
        self.errors, self.warnings = errors or {}, warnings or {}
        self.dob, self.extras, self.mapping = dob or {}, list(extras), mapping
        self.cp1252, self.values, self.ctype = cp1252, values or {}, ctype


def max_rows():
    return int(config_value("upload.max_rows", "200000"))


def corpus():
    c = []
    n = iter(range(1, 100))

    # --- rejected: not a CSV at all ---
    c.append(Bad("empty file", b"", 400, "empty", "empty"))
    c.append(Bad("only blank lines", b"\n\n  \n", 400, None, ""))
    c.append(Bad("xlsx workbook", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40,
                 415, "unsupported_media_type", "Excel workbook",
                 filename="claims.xlsx",
                 ctype="application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet"))
    c.append(Bad("xlsx as octet-stream", b"PK\x03\x04" + b"\x00" * 60, 400,
                 "not_text", "Excel workbook",
                 ctype="application/octet-stream"))
    c.append(Bad("xls workbook", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" +
                 b"\x00" * 60, 400, "not_text", "Excel 97-2003",
                 ctype="application/vnd.ms-excel"))
    c.append(Bad("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", 400,
                 "not_text", "PDF"))
    c.append(Bad("NUL byte in row", (HEADER + "\nA1,Jo\x00hn,Doe,1980-01-01,S\n")
                 .encode(), 400, "not_text", "0x00", line=2))
    c.append(Bad("NUL bytes UTF-16LE", "\ufeff".encode("utf-16-le") +
                 (HEADER + "\n").encode("utf-16-le"), 400, "bad_encoding",
                 "UTF-16"))
    c.append(Bad("image content type", b"\x89PNG\r\n\x1a\n", 415,
                 "unsupported_media_type", "not a CSV", ctype="image/png",
                 filename="claims.png"))

    # --- rejected: encoding ---
    c.append(Bad("UTF-8 mixed with Latin-1",
                 (HEADER + "\nA1,Jos\u00e9,Doe,1980-01-01,S\n").encode() +
                 b"A2,Ren\xe9,Doe,1980-01-01,S\n", 400, "bad_encoding",
                 "mixes UTF-8", line=3))
    c.append(Bad("neither UTF-8 nor cp1252",
                 (HEADER + "\n").encode() + b"A1,J\x81n,Doe,1980-01-01,S\n",
                 400, "bad_encoding", "neither UTF-8 nor Windows-1252",
                 line=2))

    # --- rejected: header ---
    c.append(Bad("header only", HEADER + "\n", 400, "no_rows", "no data"))
    c.append(Bad("header and blank lines", HEADER + "\r\n\r\n,,,,\r\n\r\n",
                 400, "no_rows", "no data"))
    c.append(Bad("missing columns", "claim_number,first_name\nA1,John\n", 400,
                 "missing_columns", "last_name", line=1,
                 extra={"missing_columns": ["last_name", "date_of_birth",
                                            "subscriber_id"],
                        "found_columns": ["claim_number", "first_name"]}))
    c.append(Bad("no header line", lines("A1,John,Doe,1980-01-01,S1",
                                         [good(1, 1)]), 400,
                 "missing_columns", "first line must be the header", line=1))
    c.append(Bad("missing one column with extras",
                 "Claim #,First,Last,DOB,Notes\nA1,J,D,1980-01-01,x\n", 400,
                 "missing_columns", "subscriber_id", line=1))
    c.append(Bad("duplicated column", "claim_number,first_name,last_name,"
                 "date_of_birth,subscriber_id,Claim No\nA,B,C,1980-01-01,S,A\n",
                 400, "duplicate_column", "claim_number", line=1))
    c.append(Bad("duplicated alias (dob and date of birth)",
                 "claim_number,first_name,last_name,DOB,subscriber_id,"
                 "Date of Birth\nA,B,C,1980-01-01,S,1980-01-01\n", 400,
                 "duplicate_column", "date_of_birth", line=1))
    c.append(Bad("header of 65 columns", HEADER + "".join(
        f",x{i}" for i in range(60)) + "\n" + "A,B,C,1980-01-01,S" +
        "," * 60 + "\n", 400, "field_count", "more than 64 columns", line=1))

    # --- rejected: quoting and field counts ---
    c.append(Bad("unbalanced quote", HEADER + "\nA1,John,Doe,1980-01-01,S1\n"
                 "A2,\"John,Doe,1980-01-01,S2\nA3,Jane,Roe,1980-01-01,S3\n",
                 400, "unbalanced_quote", "unbalanced", line=3))
    c.append(Bad("quote inside unquoted field", HEADER +
                 "\nA1,John,Doe,1980-01-01,S1\nA2,Jo\"hn,Doe,1980-01-01,S2\n",
                 400, "unbalanced_quote", "quote", line=3))
    c.append(Bad("text after closing quote", HEADER +
                 "\nA1,\"John\"x,Doe,1980-01-01,S1\n", 400,
                 "unbalanced_quote", "quote", line=2))
    c.append(Bad("too many fields", HEADER + "\nA1,John,Doe,1980-01-01,S1\n"
                 "A2,John,Doe,1980-01-01,S2,extra\n", 400, "field_count",
                 "6 fields", line=3))
    c.append(Bad("too few fields", HEADER + "\r\nA1,John,Doe,1980-01-01,S1"
                 "\r\n\r\nA2,John,Doe\r\n", 400, "field_count", "3 fields",
                 line=4))
    c.append(Bad("field longer than 1024 bytes", HEADER + "\nA1,John,Doe,"
                 "1980-01-01,S1\nA2,John," + "D" * 1100 + ",1980-01-01,S2\n",
                 400, "field_too_long", "longer than 1024", line=3))

    # --- accepted: encodings, line ends, blank lines ---
    k = next(n)
    c.append(Good("UTF-8 BOM", "\ufeff" + lines(HEADER, [good(k, 1)]), 1,
                  mapping={"claim_number": "claim_number"}))
    k = next(n)
    c.append(Good("CRLF line ends", lines(HEADER, [good(k, 1), good(k, 2)],
                                          CRLF), 2))
    k = next(n)
    c.append(Good("CR-only line ends", lines(HEADER, [good(k, 1), good(k, 2)],
                                             "\r"), 2))
    k = next(n)
    c.append(Good("no final newline", lines(HEADER, [good(k, 1)],
                                            final=False), 1))
    k = next(n)
    c.append(Good("trailing blank lines", lines(HEADER, [good(k, 1)], CRLF) +
                  CRLF * 5 + ",,,,\r\n", 1))
    k = next(n)
    c.append(Good("blank lines between rows", HEADER + "\n\n" +
                  ",".join(good(k, 1)) + "\n  \n\n" + ",".join(good(k, 2)) +
                  "\n", 2))
    k = next(n)
    body = lines("claim_number,first_name,last_name,date_of_birth,"
                 "subscriber_id", [good(k, 1, first="Jos\u00e9",
                                        last="M\u00fcller")], CRLF)
    c.append(Good("Windows-1252 converted", body.encode("cp1252"), 1,
                  cp1252=True, values={(1, "first_name"): "Jos\u00e9",
                                       (1, "last_name"): "M\u00fcller"}))
    k = next(n)
    c.append(Good("BOM, CRLF, cp1252-free accents", ("\ufeff" + lines(
        HEADER, [good(k, 1, first="Zo\u00eb")], CRLF)).encode(), 1,
        values={(1, "first_name"): "Zo\u00eb"}))

    # --- accepted: header names ---
    k = next(n)
    c.append(Good("aliases: Claim #, DOB, Member ID",
                  lines("Claim #,First Name,Last Name,DOB,Member ID",
                        [good(k, 1)], CRLF), 1,
                  mapping={"claim_number": "Claim #",
                           "date_of_birth": "DOB",
                           "subscriber_id": "Member ID"}))
    k = next(n)
    c.append(Good("aliases: claim no, fname, birth date, subscriber id",
                  lines("claim no,fname,lname,birth date,subscriber id",
                        [good(k, 1)]), 1,
                  mapping={"claim_number": "claim no", "first_name": "fname",
                           "date_of_birth": "birth date"}))
    k = next(n)
    c.append(Good("aliases: upper case, spaces, member_id",
                  lines("  CLAIM NUMBER , First_Name,LAST NAME,"
                        "Date of Birth (MM/DD/YYYY), member_id ",
                        [good(k, 1, dob="01/15/1980")]), 1,
                  dob={1: "1980-01-15"},
                  mapping={"claim_number": "CLAIM NUMBER",
                           "subscriber_id": "member_id"}))
    k = next(n)
    c.append(Good("columns in another order",
                  lines("subscriber_id,date_of_birth,last_name,first_name,"
                        "claim_number", [["S1", "1980-01-15", "Doe", "John",
                                          claim(k, 1)]]), 1,
                  values={(1, "claim_number"): claim(k, 1)}))
    k = next(n)
    c.append(Good("extra columns kept in header order",
                  lines("Account,claim_number,first_name,Notes,last_name,"
                        "date_of_birth,subscriber_id,Provider",
                        [["AC1", claim(k, 1), "John", '"note, with comma"',
                          "Doe", "1980-01-15", "S1", "Dr X"]]), 1,
                  extras=["Account", "Notes", "Provider"],
                  values={(1, "Notes"): "note, with comma",
                          (1, "Account"): "AC1"}))
    k = next(n)
    c.append(Good("trailing empty header columns (Excel)",
                  lines(HEADER + ",,,", [good(k, 1) + ["", "", ""]], CRLF),
                  1))
    k = next(n)
    c.append(Good("quoted fields, embedded newline and quotes",
                  HEADER + ",Notes\n" + ",".join(good(k, 1)) +
                  ",\"line one\nline \"\"two\"\"\"\n", 1, extras=["Notes"],
                  values={(1, "Notes"): "line one\nline \"two\""}))
    k = next(n)
    c.append(Good("spaces around values trimmed",
                  lines(HEADER, [[f" {claim(k, 1)} ", "  John", "Doe  ",
                                  " 1980-01-15 ", " S1 "]]), 1,
                  values={(1, "claim_number"): claim(k, 1),
                          (1, "first_name"): "John"}))
    k = next(n)
    c.append(Good("leading zeros kept", lines(HEADER, [good(
        k, 1, sub="000123450")]), 1,
        values={(1, "subscriber_id"): "000123450"}))

    # --- accepted: dates ---
    k = next(n)
    c.append(Good("US and Excel date forms",
                  lines(HEADER, [good(k, 1, dob="01/15/1980"),
                                 good(k, 2, dob="1/5/1980"),
                                 good(k, 3, dob="1/15/80"),
                                 good(k, 4, dob="1/15/1980 0:00"),
                                 good(k, 5, dob="1980-01-15 00:00:00"),
                                 good(k, 6, dob="2/29/2000")]), 6,
                  dob={1: "1980-01-15", 2: "1980-01-05", 3: "1980-01-15",
                       4: "1980-01-15", 5: "1980-01-15", 6: "2000-02-29"}))
    k = next(n)
    c.append(Good("bad dates", lines(HEADER, [
        good(k, 1, dob="13/45/1980"), good(k, 2, dob="1980-02-30"),
        good(k, 3, dob="02/29/1981"), good(k, 4, dob="yesterday"),
        good(k, 5, dob="1980-01-15")]), 5,
        errors={1: "date_of_birth: '13/45/1980' is not a date "
                   "(YYYY-MM-DD or MM/DD/YYYY)",
                2: "'1980-02-30' is not a date",
                3: "'02/29/1981' is not a date",
                4: "'yesterday' is not a date"}, dob={5: "1980-01-15"}))
    k = next(n)
    c.append(Good("future date of birth", lines(HEADER, [
        good(k, 1, dob="2099-01-01"), good(k, 2)]), 2,
        errors={1: "'2099-01-01' is in the future"}))
    k = next(n)
    c.append(Good("date of birth before 1900", lines(HEADER, [
        good(k, 1, dob="1899-12-31"), good(k, 2, dob="12/31/1899"),
        good(k, 3, dob="1900-01-01")]), 3,
        errors={1: "is before 1900", 2: "is before 1900"},
        dob={3: "1900-01-01"}))

    # --- accepted: values ---
    k = next(n)
    c.append(Good("empty required values", lines(HEADER, [
        ["", "John", "Doe", "1980-01-15", "S1"],
        good(k, 2, first=""), good(k, 3, sub=""), good(k, 4)]), 4,
        errors={1: "claim_number is empty", 2: "first_name is empty",
                3: "subscriber_id is empty"}))
    k = next(n)
    c.append(Good("values longer than the payer accepts", lines(HEADER, [
        good(k, 1, first="F" * 36), good(k, 2, last="L" * 61),
        [claim(k, 3) + "X" * 45, "John", "Doe", "1980-01-15", "S3"],
        good(k, 4, sub="9" * 81), good(k, 5, first="F" * 35)]), 5,
        errors={1: "first_name is longer than 35 characters",
                2: "last_name is longer than 60 characters",
                3: "claim_number is longer than 50 characters",
                4: "subscriber_id is longer than 80 characters"}))
    k = next(n)
    c.append(Good("control character in a value",
                  HEADER + "\n" + ",".join(good(k, 1)[:1]) +
                  ",\"Jo\rhn\",Doe,1980-01-15,S1\n" + ",".join(good(k, 2)) +
                  "\n", 2, errors={1: "first_name contains a control"}))
    k = next(n)
    c.append(Good("scientific notation warning", lines(HEADER, [
        good(k, 1, sub="1.23E+12"), good(k, 2, sub="4.5E+07"),
        good(k, 3)]), 3,
        warnings={1: "subscriber_id: '1.23E+12' looks like a number Excel "
                     "turned into scientific notation",
                  2: "'4.5E+07' looks like a number"}))
    k = next(n)
    c.append(Good("duplicate claim numbers", lines(HEADER, [
        good(k, 1), good(k, 2), [claim(k, 1), "John", "Doe", "1980-01-15",
                                 "S9"]]), 3,
        warnings={3: f"claim_number: '{claim(k, 1)}' also appears on row 1",
                  1: "also appears on row 3"}))
    k = next(n)
    c.append(Good("several errors in one row", lines(HEADER, [
        [claim(k, 1), "", "L" * 61, "13/13/1980", ""], good(k, 2)]), 2,
        errors={1: "first_name is empty; last_name is longer than 60 "
                   "characters; date_of_birth: '13/13/1980' is not a date"}))
    k = next(n)
    c.append(Good("every row invalid", lines(HEADER, [
        good(k, 1, first=""), good(k, 2, dob="x")]), 2,
        errors={1: "first_name is empty", 2: "'x' is not a date"}))

    # --- accepted: combinations ---
    k = next(n)
    body = ("\ufeffClaim #,Patient First Name,Patient Last Name,DOB,"
            "Member ID,Notes,,\r\n" +
            CRLF.join(",".join(r) for r in [
                good(k, 1, first="Ren\u00e9", dob="3/4/1975") + ["a", "", ""],
                good(k, 2, dob="2099-12-31") + ["b", "", ""],
                good(k, 3, sub="1.2E+9") + ["c", "", ""],
                [claim(k, 1), "Ann", "Lee", "1975-03-04", "S4", "d", "", ""],
                ["", "", "", "", "", "", "", ""],
            ]) + CRLF + CRLF)
    c.append(Good("BOM, CRLF, aliases, extras, errors, warnings, duplicate",
                  body.encode("utf-8"), 4,
                  errors={2: "is in the future"},
                  warnings={3: "scientific notation", 4: "also appears on"},
                  dob={1: "1975-03-04"}, extras=["Notes"],
                  mapping={"first_name": "Patient First Name"},
                  values={(1, "Patient First Name"): "Ren\u00e9"}))
    k = next(n)
    body = lines("claim no,first name,last name,birth date,member #,Ref",
                 [good(k, 1, first="Fran\u00e7ois", dob="12/31/99") + ["r1"],
                  good(k, 2, dob="1899-01-01") + ["r2"]], CRLF)
    c.append(Good("cp1252, aliases, two-digit year, pre-1900",
                  body.encode("cp1252"), 2, cp1252=True,
                  errors={2: "before 1900"}, dob={1: "1999-12-31"},
                  extras=["Ref"],
                  values={(1, "first name"): "Fran\u00e7ois"}))
    k = next(n)
    c.append(Good("octet-stream content type", lines(HEADER, [good(k, 1)]), 1,
                  ctype="application/octet-stream"))
    k = next(n)
    c.append(Good("Excel's content type", lines(HEADER, [good(k, 1)], CRLF), 1,
                  ctype="application/vnd.ms-excel"))
    return c


CORPUS = corpus()


def too_many_rows():
    rows = max_rows() + 1
    return Bad("too many rows", (HEADER + "\n" + "A1,J,D,1980-01-01,S\n" *
                                 rows), 400, "too_many_rows",
               f"more than {max_rows()} data rows", line=rows + 1)


def test_corpus_size():
    assert len(CORPUS) + 1 >= 40


def check_bad(r, case):
    assert r.status_code == case.status, (case.name, r.status_code, r.text)
    err = r.json()["error"]
    if case.code:
        assert err["code"] == case.code, (case.name, err)
    assert case.frag in err["message"], (case.name, err["message"])
    if case.line is not None:
        assert err.get("line") == case.line, (case.name, err)
    for key, want in (case.extra or {}).items():
        assert err.get(key) == want, (case.name, key, err)
    assert "id" not in r.json()


def run_bad(api, case):
    v = validate(api, case.body, ctype=case.ctype, filename=case.filename)
    check_bad(v, case)
    u = upload(api, case.body, ctype=case.ctype, filename=case.filename)
    check_bad(u, case)
    # The same answer from both endpoints.
    assert u.json() == v.json()


@pytest.mark.parametrize("case", [c for c in CORPUS if isinstance(c, Bad)],
                         ids=lambda c: c.name)
def test_rejected(api, case):
    run_bad(api, case)


def test_rejected_too_many_rows(api):
    run_bad(api, too_many_rows())


def issues_by_row(items):
    out = {}
    for it in items:
        assert set(it) == {"row", "line", "column", "message"}, it
        out.setdefault(it["row"], []).append(it)
    return out


def check_preview(case, v):
    assert v.status_code == 200, (case.name, v.text)
    p = v.json()
    for key in ("total_rows", "columns_found", "column_mapping",
                "extra_columns", "warnings", "row_errors", "invalid_rows",
                "converted_from_cp1252"):
        assert key in p, (case.name, key)
    assert p["total_rows"] == case.rows, (case.name, p)
    assert p["invalid_rows"] == len(case.errors), (case.name, p)
    assert p["converted_from_cp1252"] is case.cp1252, case.name
    assert sorted(p["column_mapping"]) == sorted(
        ["claim_number", "first_name", "last_name", "date_of_birth",
         "subscriber_id"]), p["column_mapping"]
    for col, name in (case.mapping or {}).items():
        assert p["column_mapping"][col] == name, (case.name, p)
    assert [x for x in p["extra_columns"] if x] == case.extras, (case.name, p)
    for name in p["column_mapping"].values():
        assert name in p["columns_found"]
    errors = issues_by_row(p["row_errors"])
    assert sorted(errors) == sorted(case.errors), (case.name, errors)
    for row, frag in case.errors.items():
        joined = "; ".join(e["message"] for e in errors[row])
        assert frag in joined, (case.name, row, joined)
        for e in errors[row]:
            assert e["column"] in p["column_mapping"], e
            assert e["line"] >= row + 1
    warnings = issues_by_row(p["warnings"])
    for row, frag in case.warnings.items():
        if frag.startswith("also appears on row") and row == 1:
            continue  # the first row of a repeat is told at upload
        joined = "; ".join(w["message"] for w in warnings.get(row, []))
        assert frag in joined, (case.name, row, joined)
    return p


@pytest.mark.parametrize("case", [c for c in CORPUS if isinstance(c, Good)],
                         ids=lambda c: c.name)
def test_accepted(api, case):
    v = validate(api, case.body, ctype=case.ctype)
    check_preview(case, v)

    u = upload(api, case.body, ctype=case.ctype)
    assert u.status_code == 201, (case.name, u.text)
    job = u.json()
    assert job["total_rows"] == case.rows
    assert job["converted_from_cp1252"] is case.cp1252
    if case.cp1252:
        assert job["converted_from"] == "windows-1252"
    p = wait_done(api, job["id"])
    assert p["status"] == "COMPLETED", p
    assert p["processed_rows"] == case.rows, p

    rows = all_rows(api, job["id"])
    assert [r["row"] for r in rows] == list(range(1, case.rows + 1))
    valid_claims = set()
    for r in rows:
        if r["row"] in case.errors:
            assert r["success"] is False, r
            assert r["status"] == "Invalid", r
            assert r["lookup_result"] == "INPUT_INVALID", r
            assert r["attempts"] == 0, r
            assert case.errors[r["row"]] in r["error_message"], r
        else:
            assert r["success"] is not None, r
            assert r["lookup_result"] != "INPUT_INVALID", r
            valid_claims.add(r["claim_number"])
        if r["row"] in case.warnings:
            assert case.warnings[r["row"]] in (r["warning"] or ""), r
    # Invalid rows never reach the payer.
    for r in rows:
        if r["row"] in case.errors and r["claim_number"] and \
                r["claim_number"] not in valid_claims:
            assert sim_requests(r["claim_number"]) == 0, r

    res = get(api, f"claims/csv-jobs/{job['id']}/results/",
              params={"format": "extended"})
    assert res.status_code == 200, res.text
    table = csv_rows(res.content.decode("utf-8"))
    head, body = table[0], table[1:]
    assert len(body) == case.rows
    assert head[:9] == ["row", "claim_number", "status", "patient_name",
                        "total_charged", "total_paid", "processed_date",
                        "success", "error_message"]
    # The payer's columns, the action, then the next deadline's three.
    assert head[-20:][0] == "lookup_result" and head[-4] == "action"
    assert head[-3:] == ["next_deadline", "deadline_kind", "days_left"]
    inputs = head[9:-20]
    for name in case.extras:
        assert name in inputs, (case.name, inputs)
    for row, date in case.dob.items():
        rec = dict(zip(head, body[row - 1]))
        dob_col = [h for h in inputs if h in (
            "date_of_birth", "DOB", "birth date") or "Birth" in h][0]
        assert rec[dob_col] == date, (case.name, row, rec)
    for (row, col), want in case.values.items():
        rec = body[row - 1]
        assert rec[9 + inputs.index(col)] == want, (case.name, row, col, rec)
    for row, frag in case.errors.items():
        rec = dict(zip(head, body[row - 1]))
        assert rec["success"] == "false" and frag in rec["error_message"]
        assert rec["lookup_result"] == "INPUT_INVALID"
