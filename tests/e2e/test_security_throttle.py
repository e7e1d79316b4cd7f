"""Login throttling: after login.max_failures (5) failed logins within
login.window_s (15 min) the account answers 429 with Retry-After, even
to the right password, until the window passes; the attempts table is
aged in the database to stand in for the wait.
"""
import hashlib
import uuid

import pytest

from sec_util import (Browser, audit_rows, config_value, error_code,
                      new_org, new_user, psql)


@pytest.fixture
def user(tmp_path):
    org = new_org(tmp_path, roles=())
    return new_user(tmp_path, org["tin"], "member")


def test_account_throttled_after_failures(user):
    limit = int(config_value("login.max_failures", "5"))
    window = int(config_value("login.window_s", "900"))
    b = Browser()
    for i in range(limit):
        r = b.login_raw(user.username, "wrong-%d" % i)
        assert r.status_code == 401, (i, r.text)
    r = b.login_raw(user.username, user.password)
    assert r.status_code == 429, r.text
    assert error_code(r) == "login_throttled"
    retry = int(r.headers["Retry-After"])
    assert 0 < retry <= window
    assert "__Host-bc_session" not in r.headers.get("Set-Cookie", "")
    # Throttled attempts do not extend the lock.
    r = b.login_raw(user.username, "wrong-again")
    assert r.status_code == 429
    assert int(psql("SELECT count(*) FROM login_attempts WHERE"
                    " username_hash = digest(lower(:'v1'), 'sha256')",
                    user.username)[0][0]) == limit
    # Other spellings of the name count as the same account.
    r = b.login_raw(user.username.upper(), user.password)
    assert r.status_code in (401, 429)
    e = audit_rows("user_id = :'v1' AND action = 'login_failed'", user.id)
    assert [x[1] for x in e].count("failure") == limit
    assert "throttled" in [x[1] for x in e]

    # The window passes: the right password works again.
    psql("UPDATE login_attempts SET at = at - make_interval(secs =>"
         " :'v1'::int) WHERE username_hash = digest(lower(:'v2'),"
         " 'sha256')", window + 1, user.username)
    b.login(user)
    assert b.get("auth/me/").status_code == 200


def add_failures(name, n, address="127.0.0.1", age_s=0):
    """n failed attempts written directly (nginx limits real logins to a
    few a minute: the HTTP path is exercised above)."""
    for _ in range(n):
        psql("INSERT INTO login_attempts (username_hash, address, success,"
             " at) VALUES (digest(lower(:'v1'), 'sha256'), :'v2', false,"
             " now() - make_interval(secs => :'v3'::int))", name, address,
             age_s)


def test_success_resets_the_account_count(user):
    limit = int(config_value("login.max_failures", "5"))
    b = Browser()
    add_failures(user.username, limit - 1, age_s=5)
    b.login(user)
    add_failures(user.username, limit - 1)
    # Without the reset these would be 2 * (limit - 1) >= limit failures.
    b.login(user)


def test_unknown_user_is_throttled_too(tmp_path):
    limit = int(config_value("login.max_failures", "5"))
    name = "nobody-%s" % uuid.uuid4().hex
    b = Browser()
    assert b.login_raw(name, "x").status_code == 401
    add_failures(name, limit - 1)
    r = b.login_raw(name, "x")
    assert r.status_code == 429
    # The typed name is kept only as a hash.
    assert not psql("SELECT 1 FROM audit_log WHERE username = :'v1'", name)
    want = hashlib.sha256(name.lower().encode()).hexdigest()
    assert psql("SELECT DISTINCT encode(username_hash, 'hex') FROM"
                " login_attempts WHERE username_hash = digest(lower(:'v1'),"
                " 'sha256')", name) == [[want]]


def test_address_throttled_after_failures(user, tmp_path):
    """login.max_failures_per_address failures from one address (spread
    over many names) stop logins from there, for every account."""
    limit = int(config_value("login.max_failures_per_address", "100"))
    try:
        for addr in ("127.0.0.1", "::1"):
            psql("INSERT INTO login_attempts (username_hash, address,"
                 " success) SELECT digest('spray-' || g, 'sha256'), :'v1',"
                 " false FROM generate_series(1, :'v2'::int) g", addr,
                 limit)
        r = Browser().login_raw(user.username, user.password)
        assert r.status_code == 429, r.text
        assert error_code(r) == "login_throttled"
        e = audit_rows("user_id = :'v1' AND action = 'login_failed'",
                       user.id)
        assert e and e[-1][1] == "throttled" and e[-1][7] == "address"
    finally:
        psql("DELETE FROM login_attempts WHERE username_hash IN (SELECT"
             " digest('spray-' || g, 'sha256') FROM generate_series(1,"
             " :'v1'::int) g)", limit)
    Browser().login(user)
