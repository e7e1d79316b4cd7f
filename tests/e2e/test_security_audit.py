"""The audit log: one entry per action (login, failed login, logout,
upload, view job, download results, retry, purge, credential change,
token create and revoke, role change), with who, from where, which job
and the outcome; no patient data in it; append-only; the admin endpoint
pages newest first and filters by action.
"""
import pytest

from sec_util import (PHI_ROWS, Browser, audit_rows, ctl_ok, new_org,
                      phi_csv, psql)


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    return new_org(tmp_path_factory.mktemp("audit"))


def entries(org, action, **filters):
    r = org["admin"].api.get("audit/", params={"action": action,
                                               "page_size": 200})
    assert r.status_code == 200, r.text
    out = r.json()["results"]
    assert all(e["action"] == action for e in out)
    return [e for e in out
            if all(e.get(k) == v for k, v in filters.items())]


def test_session_actions_are_audited(org):
    m = org["member"]
    b = Browser()
    r = b.login_raw(m.username, "not-the-password")
    assert r.status_code == 401
    b.login(m)
    r = b.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    m.api.wait_done(job)
    assert b.get(f"claims/csv-jobs/{job}/").status_code == 200
    assert b.get(f"claims/csv-jobs/{job}/rows/").status_code == 200
    b.get(f"claims/csv-jobs/{job}/results/")
    r = b.post(f"claims/csv-jobs/{job}/retry/")
    assert r.status_code in (200, 202), r.text
    m.api.wait_done(job)
    assert b.post("auth/logout/").status_code == 204

    fail = entries(org, "login_failed", username=m.username)
    assert fail and fail[0]["outcome"] == "failure"
    assert fail[0]["detail"] == "bad_password"
    assert fail[0]["address"]
    login = entries(org, "login", username=m.username)
    assert login and login[0]["outcome"] == "success"
    assert login[0]["via"] == "session"
    assert login[0]["user"] == m.id
    for action in ("upload", "view_job", "view_rows", "download_results",
                   "retry"):
        e = entries(org, action, job_id=job)
        assert e, action
        assert e[0]["username"] == m.username, action
        assert e[0]["via"] == "session", action
        assert e[0]["address"], action
    assert entries(org, "upload", job_id=job)[0]["outcome"] == "success"
    assert entries(org, "logout", username=m.username)


def test_token_actions_are_audited(org):
    a = org["admin"]
    r = a.api.upload(phi_csv())
    assert r.status_code == 201
    job = r.json()["id"]
    a.api.wait_done(job)
    assert a.api.get(f"claims/csv-jobs/{job}/").status_code == 200
    r = a.api.post(f"claims/csv-jobs/{job}/purge/")
    assert r.status_code == 200, r.text
    for action in ("upload", "view_job", "purge"):
        e = entries(org, action, job_id=job)
        assert e and e[0]["via"] == "token", action
        assert e[0]["outcome"] == "success"


def test_denied_and_missing_are_audited_with_their_status(org):
    v = org["viewer"]
    r = v.api.upload(phi_csv())
    assert r.status_code == 403
    e = entries(org, "upload", username=v.username)
    assert e and e[0]["outcome"] == "403" and e[0]["job_id"] is None
    missing = "00000000-0000-4000-8000-000000000000"
    assert v.api.get(f"claims/csv-jobs/{missing}/").status_code == 404
    e = entries(org, "view_job", job_id=missing)
    assert e and e[0]["outcome"] == "404"


def test_ctl_actions_are_audited(org, tmp_path):
    org_id = psql("SELECT id FROM organizations WHERE tin = :'v1'",
                  org["tin"])[0][0]
    tokfile = tmp_path / "t"
    ctl_ok("create-token", "--username", org["viewer"].username,
           "--token-file", str(tokfile))
    prefix = tokfile.read_text().strip()[:8]
    ctl_ok("revoke-token", "--prefix", prefix)
    ctl_ok("set-role", "--username", org["viewer"].username, "--role",
           "viewer")
    ctl_ok("create-practice", "--tin", org["tin"], "--name", "Sec Practice")
    secret = tmp_path / "secret"
    secret.write_text("not-a-real-secret\n")
    ctl_ok("set-credentials", "--tin", org["tin"], "--provider", "UHC",
           "--client-id", "sec-client", "--client-secret-file", str(secret))
    rows = audit_rows("organization_id = :'v1' AND via = 'ctl'", org_id)
    actions = [r[0] for r in rows]
    for want in ("token_create", "token_revoke", "user_change",
                 "credential_change"):
        assert want in actions, (want, actions)
    details = " ".join(r[7] for r in rows)
    assert f"prefix={prefix}" in details
    assert "not-a-real-secret" not in details
    assert all(r[5].startswith("ctl:") for r in rows)


def test_no_phi_in_audit_log():
    text = "\n".join("\t".join(r) for r in psql(
        "SELECT concat_ws(' ', username, address, action, job_id, outcome,"
        " via, detail) FROM audit_log"))
    for row in PHI_ROWS:
        for value in row[1:]:
            assert value not in text, value


def test_audit_log_is_append_only(org):
    psql("SELECT 1")
    for sql in ("UPDATE audit_log SET outcome = 'x'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log"):
        with pytest.raises(RuntimeError, match="append-only"):
            psql(sql)
    # The retention function removes only entries older than it is told.
    n = int(psql("SELECT count(*) FROM audit_log")[0][0])
    assert psql("SELECT audit_purge(1)") == [["0"]] or \
        int(psql("SELECT count(*) FROM audit_log")[0][0]) <= n
    with pytest.raises(RuntimeError):
        psql("SELECT audit_purge(0)")
    # ...and only inside itself: the setting does not leak out.
    with pytest.raises(RuntimeError, match="append-only"):
        psql("SELECT audit_purge(1); DELETE FROM audit_log")


def test_audit_pagination_and_filter(org):
    a = org["admin"].api
    r = a.get("audit/", params={"page_size": 1})
    body = r.json()
    assert len(body["results"]) == 1
    assert body["next"] and "page=2" in body["next"]
    first = body["results"][0]["id"]
    r2 = a.get("audit/", params={"page_size": 1, "page": 2}).json()
    # The first read is audited itself (view_audit), newest: it pushed
    # the first page's row to the head of page 2.
    assert r2["results"][0]["id"] == first
    top = a.get("audit/", params={"page_size": 1}).json()["results"][0]
    assert top["action"] == "view_audit" and top["id"] > first
    assert a.get("audit/", params={"action": "no-such-action"}).json()[
        "count"] == 0


def test_each_upload_audited_once(org):
    """nginx asks the app before it reads an upload (auth_request): that
    check must not be audited as an upload of its own."""
    m = org["member"]
    before = len(audit_rows("user_id = :'v1' AND action = 'upload'", m.id))
    r = m.api.upload(phi_csv())
    assert r.status_code == 201
    m.api.wait_done(r.json()["id"])
    rows = audit_rows("user_id = :'v1' AND action = 'upload'", m.id)
    assert len(rows) == before + 1, rows[before:]
    assert rows[-1][3] == r.json()["id"]
    # A refused upload (viewer) is one entry too.
    v = org["viewer"]
    before = len(audit_rows("user_id = :'v1' AND action = 'upload'", v.id))
    assert v.api.upload(phi_csv()).status_code == 403
    rows = audit_rows("user_id = :'v1' AND action = 'upload'", v.id)
    assert len(rows) == before + 1
    # And a cookie upload without the CSRF header: one csrf_failed entry.
    b = Browser()
    b.login(m)
    before = len(audit_rows("user_id = :'v1' AND action = 'csrf_failed'",
                            m.id))
    assert b.upload(phi_csv(), csrf=False).status_code == 403
    rows = audit_rows("user_id = :'v1' AND action = 'csrf_failed'", m.id)
    assert len(rows) == before + 1
