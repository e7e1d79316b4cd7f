"""Role limits: viewer reads only; member uploads, retries (and cancels,
where cancelling exists); admin also reads the audit log and purges.
Checked with API tokens and with browser sessions.
"""
import pytest

from sec_util import Browser, error_code, new_org, phi_csv, route_exists


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    o = new_org(tmp_path_factory.mktemp("roles"))
    # A job that fails (the organisation has no practice): retryable.
    r = o["admin"].api.upload(phi_csv())
    assert r.status_code == 201, r.text
    o["job"] = r.json()["id"]
    p = o["admin"].api.wait_done(o["job"])
    assert p["status"] == "FAILED", p
    return o


def forbidden(r):
    assert r.status_code == 403, r.text
    assert error_code(r) == "forbidden"


def test_viewer_reads_only(org):
    api = org["viewer"].api
    job = org["job"]
    assert api.get("claims/csv-jobs/").status_code == 200
    assert api.get(f"claims/csv-jobs/{job}/").status_code == 200
    assert api.get(f"claims/csv-jobs/{job}/progress/").status_code == 200
    forbidden(api.upload(phi_csv()))
    forbidden(api.post(f"claims/csv-jobs/{job}/retry/"))
    if route_exists(org["admin"].api, f"claims/csv-jobs/{job}/cancel/"):
        forbidden(api.post(f"claims/csv-jobs/{job}/cancel/"))
    forbidden(api.post(f"claims/csv-jobs/{job}/purge/"))
    forbidden(api.get("audit/"))


def test_viewer_session_reads_only(org):
    b = Browser()
    b.login(org["viewer"])
    assert b.get("claims/csv-jobs/").status_code == 200
    forbidden(b.upload(phi_csv()))
    forbidden(b.post(f"claims/csv-jobs/{org['job']}/retry/"))
    forbidden(b.get("audit/"))
    # Signing out is no write a viewer is denied.
    assert b.post("auth/logout/").status_code == 204


def test_member_uploads_and_retries(org):
    api = org["member"].api
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    api.wait_done(r.json()["id"])
    r = api.post(f"claims/csv-jobs/{org['job']}/retry/")
    assert r.status_code in (200, 202), r.text
    api.wait_done(org["job"])
    forbidden(api.get("audit/"))
    forbidden(api.post(f"claims/csv-jobs/{org['job']}/purge/"))


def test_admin_reads_audit(org):
    r = org["admin"].api.get("audit/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 1
    ids = [e["id"] for e in body["results"]]
    assert ids == sorted(ids, reverse=True), "newest first"
    e = body["results"][0]
    assert set(e) == {"id", "at", "user", "username", "address", "action",
                      "job_id", "outcome", "via", "detail"}
