"""Browser sessions: login, me, logout, the cookie's attributes, the id
stored hashed, idle timeout and absolute lifetime (the session row is
aged in the database: the idle timeout itself is a shared config value),
CSRF on state-changing requests made with the cookie, and login errors.
"""
import hashlib

import pytest

from sec_util import (Browser, config_value, ctl_ok, error_code, new_org,
                      new_user, phi_csv, psql)


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    return new_org(tmp_path_factory.mktemp("sess"))


def test_login_me_logout(org):
    b = Browser()
    r = b.login(org["member"])
    body = r.json()
    assert set(body) == {"user", "csrf_token", "idle_timeout_s"}
    u = body["user"]
    assert u["username"] == org["member"].username
    assert u["id"] == org["member"].id
    assert u["role"] == "member"
    assert u["organization"]["name"] == org["name"]
    assert isinstance(u["organization"]["id"], int)
    assert body["idle_timeout_s"] == int(
        config_value("session.idle_timeout_s", "900"))
    assert len(body["csrf_token"]) >= 32

    r = b.get("auth/me/")
    assert r.status_code == 200
    assert r.json() == body

    r = b.post("auth/logout/")
    assert r.status_code == 204
    assert "__Host-bc_session=;" in r.headers["Set-Cookie"]
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    r = b.get("auth/me/")
    assert r.status_code == 401


def test_cookie_attributes_and_hashed_id(org):
    b = Browser()
    r = b.login(org["viewer"])
    sc = r.headers["Set-Cookie"]
    name_value, *attrs = [a.strip() for a in sc.split(";")]
    # The __Host- prefix: the browser keeps it only as Secure, Path=/
    # and without Domain, so no sibling host can set or shadow it.
    assert name_value.startswith("__Host-bc_session=")
    assert set(attrs) == {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"}
    sid = b.cookie()
    assert sid and len(sid) >= 43
    # Only SHA-256(id) is stored: the id itself is nowhere in the table.
    digest = hashlib.sha256(sid.encode()).hexdigest()
    rows = psql("SELECT encode(id_hash, 'hex') FROM sessions"
                " WHERE user_id = :'v1'", org["viewer"].id)
    stored = {row[0] for row in rows}
    assert digest in stored
    assert not psql("SELECT 1 FROM sessions WHERE id_hash = "
                    "convert_to(:'v1', 'UTF8') OR csrf_token = :'v1'", sid)


def test_replayed_cookie_after_logout_is_refused(org):
    b = Browser()
    b.login(org["member"])
    sid = b.cookie()
    assert b.post("auth/logout/").status_code == 204
    other = Browser()
    other.s.cookies.set("__Host-bc_session", sid, domain="localhost")
    r = other.get("claims/csv-jobs/")
    assert r.status_code == 401


def test_idle_timeout(org):
    b = Browser()
    b.login(org["member"])
    assert b.get("claims/csv-jobs/").status_code == 200
    idle = int(config_value("session.idle_timeout_s", "900"))
    # Age the session past the idle timeout, as time would.
    psql("UPDATE sessions SET last_seen = now() - make_interval(secs =>"
         " :'v1'::int + 5) WHERE user_id = :'v2'", idle, org["member"].id)
    r = b.get("claims/csv-jobs/")
    assert r.status_code == 401
    assert error_code(r) == "session_expired"
    # The expired row is gone: the cookie stays refused.
    assert b.get("auth/me/").status_code == 401


def test_active_session_is_kept_alive(org):
    b = Browser()
    b.login(org["member"])
    idle = int(config_value("session.idle_timeout_s", "900"))
    psql("UPDATE sessions SET last_seen = now() - make_interval(secs =>"
         " :'v1'::int - 60) WHERE user_id = :'v2'", idle, org["member"].id)
    assert b.get("claims/csv-jobs/").status_code == 200
    # The request moved last_seen: the session is fresh again.
    rows = psql("SELECT extract(epoch from now() - max(last_seen))::int"
                " FROM sessions WHERE user_id = :'v1'", org["member"].id)
    assert int(rows[0][0]) < 30


def test_absolute_lifetime(org):
    b = Browser()
    b.login(org["viewer"])
    psql("UPDATE sessions SET expires_at = now() - interval '1 second'"
         " WHERE user_id = :'v1'", org["viewer"].id)
    r = b.get("auth/me/")
    assert r.status_code == 401
    assert error_code(r) == "session_expired"


def test_lifetime_is_configured(org):
    b = Browser()
    b.login(org["admin"])
    life = int(config_value("session.max_lifetime_s", "43200"))
    rows = psql("SELECT extract(epoch from expires_at - created_at)::int"
                " FROM sessions WHERE user_id = :'v1'"
                " ORDER BY created_at DESC LIMIT 1", org["admin"].id)
    assert abs(int(rows[0][0]) - life) <= 2


def test_csrf_required_with_cookie(org):
    b = Browser()
    b.login(org["member"])
    r = b.upload(phi_csv(), csrf=False)
    assert r.status_code == 403, r.text
    assert error_code(r) == "csrf_failed"
    r = b.upload(phi_csv(), csrf=False, headers={"X-CSRFToken": "x" * 43})
    assert r.status_code == 403
    assert error_code(r) == "csrf_failed"
    r = b.post("auth/logout/", csrf=False)
    assert r.status_code == 403
    assert error_code(r) == "csrf_failed"
    # Another session's token is no good either.
    other = Browser()
    other.login(org["member"])
    r = b.upload(phi_csv(), csrf=False,
                 headers={"X-CSRFToken": other.csrf})
    assert r.status_code == 403
    r = b.upload(phi_csv())
    assert r.status_code == 201, r.text
    # Reads need no token.
    assert b.get("claims/csv-jobs/", csrf=False).status_code == 200


def test_api_token_needs_no_csrf(org):
    r = org["member"].api.upload(phi_csv())
    assert r.status_code == 201, r.text


def test_me_with_api_token(org):
    r = org["admin"].api.get("auth/me/")
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["username"] == org["admin"].username
    assert body["csrf_token"] is None


def test_login_errors(org):
    b = Browser()
    r = b.login_raw(org["member"].username, "wrong-" + org["member"].password)
    assert r.status_code == 401
    assert error_code(r) == "invalid_credentials"
    assert "__Host-bc_session" not in r.headers.get("Set-Cookie", "")
    unknown = b.login_raw("nobody-" + org["tin"], "whatever-password")
    assert unknown.status_code == 401
    # Same answer for an unknown user as for a wrong password.
    assert unknown.json() == r.json()

    r = b.raw("POST", "auth/login/", data="username=a&password=b",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = b.raw("POST", "auth/login/", data="{not json",
              headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert error_code(r) == "invalid_login"
    r = b.raw("POST", "auth/login/",
              json={"username": org["member"].username})
    assert r.status_code == 400
    r = b.raw("POST", "auth/login/",
              json={"username": "a", "password": "p" * 5000})
    assert r.status_code in (400, 413)
    r = b.raw("GET", "auth/login/")
    assert r.status_code in (401, 405)


def test_inactive_user_is_signed_out(tmp_path, org):
    u = new_user(tmp_path, org["tin"], "member")
    b = Browser()
    b.login(u)
    assert b.get("auth/me/").status_code == 200
    ctl_ok("deactivate-user", "--username", u.username)
    assert b.get("auth/me/").status_code == 401
    assert u.api.get("claims/csv-jobs/").status_code == 401
    r = Browser().login_raw(u.username, u.password)
    assert r.status_code == 401


def test_end_sessions(tmp_path, org):
    u = new_user(tmp_path, org["tin"], "viewer")
    b = Browser()
    b.login(u)
    ctl_ok("end-sessions", "--username", u.username)
    assert b.get("auth/me/").status_code == 401
    # The API token is not a session: it still works.
    assert u.api.get("claims/csv-jobs/").status_code == 200


def test_role_change_applies_to_open_session(tmp_path, org):
    u = new_user(tmp_path, org["tin"], "member")
    b = Browser()
    b.login(u)
    ctl_ok("set-role", "--username", u.username, "--role", "viewer")
    r = b.upload(phi_csv())
    assert r.status_code == 403
    assert error_code(r) == "forbidden"
    assert b.get("auth/me/").json()["user"]["role"] == "viewer"


def test_new_login_replaces_the_old_session(org):
    b = Browser()
    b.login(org["admin"])
    old = b.cookie()
    b.login(org["admin"])
    assert b.cookie() != old
    stale = Browser()
    stale.s.cookies.set("__Host-bc_session", old, domain="localhost")
    assert stale.get("auth/me/").status_code == 401
    assert b.get("auth/me/").status_code == 200


def test_parallel_logins_all_succeed(org):
    """Eight logins at once: the password checks queue (two at a time,
    64 MiB each) instead of failing as a wrong password would."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        b = Browser()
        return b.login_raw(org["member"].username,
                           org["member"].password).status_code

    t0 = time.time()
    with ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(one, range(8)))
    print(f"\n8 parallel logins: {time.time() - t0:.2f}s")
    assert codes == [200] * 8, codes
