"""Every error case of the end-to-end issue answers a clear JSON error."""
import uuid

from conftest import HEADER


def assert_error(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert "error" in body and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body


def test_no_token(anon):
    assert_error(anon.get("claims/csv-jobs/"), 401)
    assert_error(anon.upload(HEADER + "A1,J,D,1980-01-01,S1\n"), 401)


def test_bad_token(anon):
    anon.s.headers["Authorization"] = "Token " + "0" * 40
    assert_error(anon.get("claims/csv-jobs/"), 401)
    anon.s.headers["Authorization"] = "Bearer nonsense"
    assert_error(anon.get("claims/csv-jobs/"), 401)


def test_other_org_sees_404(api, other_org_api):
    r = api.upload(HEADER + "ZE00000001,John,Doe,1980-01-15,S1\n")
    assert r.status_code == 201
    job_id = r.json()["id"]
    for path in ("", "progress/", "results/"):
        assert_error(other_org_api.get(f"claims/csv-jobs/{job_id}/{path}"),
                     404)
    assert_error(other_org_api.post(f"claims/csv-jobs/{job_id}/retry/"), 404)
    listed = other_org_api.get("claims/csv-jobs/").json()
    assert all(j["id"] != job_id for j in listed["results"])


def test_unknown_and_malformed_job_ids(api):
    assert_error(api.get(f"claims/csv-jobs/{uuid.uuid4()}/"), 404)
    assert_error(api.get("claims/csv-jobs/not-a-uuid/"), 404)


def test_missing_columns(api):
    r = api.upload("claim_number,first_name\nA1,John\n")
    assert_error(r, 400)
    msg = r.json()["error"]["message"]
    assert "last_name" in msg and "subscriber_id" in msg


def test_empty_file(api):
    assert_error(api.upload(""), 400)


def test_header_only(api):
    assert_error(api.upload(HEADER), 400)


def test_binary_part(api):
    r = api.upload(b"PK\x03\x04\x00\x00binary\x00data", filename="x.xlsx",
                   ctype="application/octet-stream")
    assert r.status_code in (400, 415), r.text
    assert r.json()["error"]["message"]


def test_missing_file_field(api):
    assert_error(api.upload(HEADER + "A1,J,D,1980-01-01,S1\n",
                            field="upload"), 400)


def test_too_large(api):
    row = "ZE12345678,Johnathan,Doeberman,1980-01-15,ABC123456789\n"
    big = HEADER + row * (11 * 1024 * 1024 // len(row))
    r = api.upload(big)
    assert r.status_code == 413, r.status_code


def test_results_of_unfinished_job_and_retry_running(api):
    # SLOW claims answer after the payer timeout, so the job stays
    # PROCESSING for a while.
    r = api.upload(HEADER + "SLOW0001,John,Doe,1980-01-15,S1\n")
    assert r.status_code == 201
    job_id = r.json()["id"]
    assert_error(api.get(f"claims/csv-jobs/{job_id}/results/"), 409)
    assert_error(api.post(f"claims/csv-jobs/{job_id}/retry/"), 409)


def test_failed_job_can_be_retried(other_org_api):
    # The other organisation has no practice: its job fails at once.
    r = other_org_api.upload(HEADER + "ZE00000002,John,Doe,1980-01-15,S1\n")
    assert r.status_code == 201
    job_id = r.json()["id"]
    p = other_org_api.wait_done(job_id)
    assert p["status"] == "FAILED"
    detail = other_org_api.get(f"claims/csv-jobs/{job_id}/").json()
    assert "practice" in detail["error_message"]
    r = other_org_api.post(f"claims/csv-jobs/{job_id}/retry/")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "PENDING"
