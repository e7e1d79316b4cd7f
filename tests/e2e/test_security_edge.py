"""Hardening at the edges: what an unauthenticated or hostile client can
make nginx and the app do.  Pre-check of uploads (no body on disk before
the refusal), the health endpoint's public view, forged Host headers,
login throttling per account and address (a guesser cannot lock out a
user who signs in from elsewhere), logins that cannot stall the API.

Loopback has a whole /8: a client binds 127.0.0.x as its source address
to stand for another machine (nginx passes $remote_addr as REMOTE_ADDR;
the app reads nothing else, no X-Real-IP or X-Forwarded-For).
"""
import glob
import os
import socket
import ssl
import threading
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests
from requests.adapters import HTTPAdapter

from conftest import CACERT, URL
from sec_util import (PHI_ROWS, SEARCH_TERMS, Browser, audit_rows,
                      config_value, error_code, new_org, new_user, phi_csv,
                      psql)

HOST = urlparse(URL).hostname
PORT = urlparse(URL).port or 443


class SourceAdapter(HTTPAdapter):
    """Connections from a chosen local address (127.0.0.x)."""

    def __init__(self, addr, **kw):
        self.addr = addr
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.addr, 0)
        return super().init_poolmanager(*a, **kw)


def from_addr(client, addr):
    """Makes a Browser (or Api) connect from addr; returns it."""
    client.s.mount("https://", SourceAdapter(addr))
    return client


def forget_address(*addrs):
    for a in addrs:
        psql("DELETE FROM login_attempts WHERE address = :'v1'", a)


def tls_socket(source=None):
    ctx = ssl.create_default_context(cafile=CACERT if isinstance(
        CACERT, str) else None)
    raw = socket.create_connection(("127.0.0.1", PORT), timeout=30,
                                   source_address=(source, 0) if source
                                   else None)
    return ctx.wrap_socket(raw, server_hostname=HOST)


def read_status(sock, deadline):
    """The status line's code of the answer on sock, or None by deadline."""
    buf = b""
    while b"\r\n" not in buf and time.time() < deadline:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, ssl.SSLError):
            return None
        if not chunk:
            break
        buf += chunk
    line = buf.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 else None


# --- uploads: refused before the body is read --------------------------

def body_dir():
    var = os.environ.get("BC_VAR")
    if not var:
        pytest.skip("BC_VAR is not set (run through scripts/test)")
    return os.path.join(var, "nginx", "tmp", "body")


def body_files(d):
    return [p for p in glob.glob(os.path.join(d, "**"), recursive=True)
            if os.path.isfile(p)]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_unrouted_upload_method_refused_before_body(method):
    """A method the upload path does not route, without credentials and
    with a 10 MB body announced: answered 401 at once, with the body
    neither waited for nor written under nginx's client body folder."""
    d = body_dir()
    before = set(body_files(d))
    size = 10 * 1024 * 1024
    s = tls_socket()
    try:
        s.sendall((f"{method} /api/v1/claims/bulk/upload/ HTTP/1.1\r\n"
                   f"Host: {HOST}:{PORT}\r\n"
                   "Content-Type: application/octet-stream\r\n"
                   f"Content-Length: {size}\r\n\r\n").encode())
        # 1 MiB of the body, then wait: nginx that reads bodies for
        # unrouted methods would wait for the rest (and write it down).
        s.sendall(b"x" * (1024 * 1024))
        seen = set()
        done = threading.Event()

        def watch():
            while not done.is_set():
                seen.update(set(body_files(d)) - before)
                done.wait(0.05)
        t = threading.Thread(target=watch)
        t.start()
        try:
            status = read_status(s, time.time() + 20)
        finally:
            done.set()
            t.join()
    finally:
        s.close()
    assert status in (401, 405), f"no refusal before the body: {status}"
    assert not seen, f"body written to disk: {sorted(seen)}"


# --- health: the public view says ok or not, nothing more --------------

def test_health_public_view_is_status_only():
    """From another address, without credentials: {"status": ...} and no
    job counts, ages or queue lengths of anybody's organisation."""
    s = requests.Session()
    s.verify = CACERT
    s.mount("https://", SourceAdapter("127.0.0.2"))
    r = s.get(URL + "/api/v1/health/", timeout=30)
    assert r.status_code in (200, 503), r.text
    body = r.json()
    assert set(body) == {"status"}, body
    assert body["status"] in ("ok", "unavailable")


def test_health_details_for_admin_and_loopback(tmp_path):
    org = new_org(tmp_path, roles=("admin", "member"))
    # An admin from another address sees the checks.
    a = org["admin"].api
    a.s.mount("https://", SourceAdapter("127.0.0.2"))
    r = a.get("health/")
    assert r.status_code in (200, 503), r.text
    assert "postgresql" in r.json()["checks"]
    assert "jobs_pending" in r.json()["checks"]["postgresql"]
    # A member from there does not.
    m = org["member"].api
    m.s.mount("https://", SourceAdapter("127.0.0.2"))
    r = m.get("health/")
    assert set(r.json()) == {"status"}, r.text
    # The local host (monitoring on the machine) does, without a token.
    s = requests.Session()
    s.verify = CACERT
    r = s.get(URL + "/api/v1/health/", timeout=30)
    assert "checks" in r.json(), r.text


# --- login throttling: per account and address ---------------------------

ATTACKER, USER_ADDR = "127.0.0.2", "127.0.0.3"


@pytest.fixture
def victim(tmp_path):
    forget_address(ATTACKER, USER_ADDR)
    org = new_org(tmp_path, roles=())
    yield new_user(tmp_path, org["tin"], "member")
    forget_address(ATTACKER, USER_ADDR)


def add_failures(name, n, address, age_s=0):
    psql("INSERT INTO login_attempts (username_hash, address, success, at)"
         " SELECT digest(lower(:'v1'), 'sha256'), :'v2', false,"
         " now() - make_interval(secs => :'v3'::int)"
         " FROM generate_series(1, :'v4'::int)", name, address, age_s, n)


def test_guesser_cannot_lock_out_the_user(victim):
    """login.max_failures wrong passwords from address A throttle A (even
    with the right password) and leave the user, signing in from B, in."""
    limit = int(config_value("login.max_failures", "5"))
    a = from_addr(Browser(), ATTACKER)
    for i in range(limit):
        r = a.login_raw(victim.username, "wrong-%d" % i)
        assert r.status_code == 401, (i, r.text)
    # The defence: A waits, right password or not.
    r = a.login_raw(victim.username, victim.password)
    assert r.status_code == 429, r.text
    assert error_code(r) == "login_throttled"
    assert int(r.headers["Retry-After"]) >= 1
    # The attack fails: the user at B signs in.
    b = from_addr(Browser(), USER_ADDR)
    b.login(victim)
    assert b.get("auth/me/").status_code == 200
    # The addresses were the clients' own (REMOTE_ADDR from nginx).
    rows = psql("SELECT DISTINCT address FROM login_attempts WHERE"
                " username_hash = digest(lower(:'v1'), 'sha256')",
                victim.username)
    assert sorted(x[0] for x in rows) == [ATTACKER, USER_ADDR]
    e = audit_rows("user_id = :'v1' AND action = 'login_failed' AND"
                   " outcome = 'throttled'", victim.id)
    assert e and e[-1][7] == "account_address" and e[-1][8] == ATTACKER


def test_delays_grow_with_failures(victim):
    """Each failure past the limit doubles the pair's wait."""
    limit = int(config_value("login.max_failures", "5"))
    a = from_addr(Browser(), ATTACKER)
    add_failures(victim.username, limit, ATTACKER)
    r = a.login_raw(victim.username, victim.password)
    assert r.status_code == 429, r.text
    first = int(r.headers["Retry-After"])
    add_failures(victim.username, 2, ATTACKER)
    r = a.login_raw(victim.username, victim.password)
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 3 * first, (first, r.headers)
    # The wait served, the right password works again from A.
    psql("UPDATE login_attempts SET at = at - interval '1 hour' WHERE"
         " username_hash = digest(lower(:'v1'), 'sha256')",
         victim.username)
    a.login(victim)


def test_account_ceiling_from_everywhere(victim):
    """login.max_failures_per_account failures spread over many
    addresses throttle the account everywhere (a distributed guess)."""
    ceiling = int(config_value("login.max_failures_per_account", "100"))
    per = int(config_value("login.max_failures", "5")) - 1
    n = 0
    try:
        while n < ceiling:
            add_failures(victim.username, min(per, ceiling - n),
                         "192.0.2.%d" % (n // per))
            n += per
        r = from_addr(Browser(), USER_ADDR).login_raw(victim.username,
                                                      victim.password)
        assert r.status_code == 429, r.text
        e = audit_rows("user_id = :'v1' AND outcome = 'throttled'",
                       victim.id)
        assert e[-1][7] == "account"
    finally:
        psql("DELETE FROM login_attempts WHERE address LIKE '192.0.2.%'")


# --- logins cannot stall the API ------------------------------------------

def test_login_burst_does_not_stall_progress(api):
    """50 logins at once, from 50 addresses (nginx's per-address limit
    lets each through): the two Argon2id slots are busy, so logins that
    find none are answered 503 with Retry-After at once instead of
    holding a FastCGI thread, and progress polls keep being answered."""
    r = api.upload("claim_number,first_name,last_name,date_of_birth,"
                   "subscriber_id\nBURST0001,Ann,Lee,1970-01-01,B1\n")
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    addrs = ["127.0.1.%d" % i for i in range(10, 60)]
    forget_address(*addrs)
    answers, polls = [], []
    start = threading.Barrier(len(addrs) + 1)

    def login(addr):
        b = from_addr(Browser(), addr)
        start.wait()
        r = b.s.post(b.url("auth/login/"), timeout=120,
                     json={"username": "burst-" + uuid.uuid4().hex,
                           "password": "x"})
        answers.append((r.status_code, r.headers.get("Retry-After"),
                        error_code(r)))

    threads = [threading.Thread(target=login, args=(a,)) for a in addrs]
    for t in threads:
        t.start()
    try:
        start.wait()
        while any(t.is_alive() for t in threads) or len(polls) < 3:
            p = api.s.get(api.url(f"claims/csv-jobs/{job}/progress/"),
                          timeout=120)
            polls.append(p.status_code)
    finally:
        for t in threads:
            t.join()
        forget_address(*addrs)
    assert len(answers) == len(addrs)
    assert polls and all(c == 200 for c in polls), polls
    busy = [a for a in answers if a[0] in (429, 503)]
    assert all(a[0] in (401, 429, 503) for a in answers), answers
    # Some logins found both slots taken and were told when to come back.
    assert busy, answers
    assert all(a[1] and int(a[1]) >= 1 for a in busy), busy


# --- searches: the terms stay out of every log ------------------------------

def test_search_terms_reach_no_log(api):
    """The browser's search sends rows/?q=<claim number or name>, and the
    history a claim number in its path: both answer, and
    test_zz_phi_logs.py then finds none of them in any log."""
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    api.wait_done(job)
    for term in SEARCH_TERMS:
        r = api.get(f"claims/csv-jobs/{job}/rows/", params={"q": term})
        assert r.status_code == 200, r.text
    r = api.get(f"claims/{PHI_ROWS[0][0]}/history/")
    assert r.status_code in (200, 404), r.text
    # A mistyped search path, and the redirect of a slash-less one.
    r = api.get(f"claims/csv-jobs/{job}/rowz/", params={"q": SEARCH_TERMS[0]})
    assert r.status_code == 404
    r = api.s.get(api.url(f"claims/csv-jobs/{job}/rows"), timeout=60,
                  params={"q": SEARCH_TERMS[0]}, allow_redirects=False)
    assert r.status_code == 301


# --- Host: only the service's own name is served --------------------------

def test_forged_host_is_refused():
    """A Host header naming another site reaches the default server,
    which answers 421 (HTTPS) and never the app: no link built from it."""
    s = requests.Session()
    s.verify = CACERT
    r = s.get(URL + "/api/v1/claims/csv-jobs/?page_size=1",
              headers={"Host": "evil.example"}, timeout=30)
    assert r.status_code == 421, (r.status_code, r.text[:200])
    assert "evil.example" not in r.text
    # The service's own name still works (401: no credentials).
    r = s.get(URL + "/api/v1/claims/csv-jobs/", timeout=30)
    assert r.status_code == 401


def test_forged_host_over_http_is_dropped():
    http = os.environ.get("BC_HTTP_URL")
    if not http:
        pytest.skip("BC_HTTP_URL is not set (run through scripts/test)")
    with pytest.raises(requests.ConnectionError):
        requests.get(http + "/api/v1/health/",
                     headers={"Host": "evil.example"}, timeout=30,
                     allow_redirects=False)
    r = requests.get(http + "/", timeout=30, allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"].startswith("https://localhost:")


# --- audit: validating a file and reading the audit log are audited ------

def test_validate_and_audit_reads_are_audited(tmp_path):
    org = new_org(tmp_path, roles=("admin", "member"))
    m, a = org["member"], org["admin"]
    r = m.api.post("claims/bulk/validate/",
                   files={"file": ("c.csv", phi_csv().encode(), "text/csv")})
    assert r.status_code == 200, r.text
    rows = audit_rows("user_id = :'v1' AND action = 'validate'", m.id)
    assert [x[1] for x in rows] == ["success"], rows
    r = a.api.get("audit/")
    assert r.status_code == 200, r.text
    rows = audit_rows("user_id = :'v1' AND action = 'view_audit'", a.id)
    assert [x[1] for x in rows] == ["success"], rows
    # A member's refused look is recorded with its status.
    assert m.api.get("audit/").status_code == 403
    rows = audit_rows("user_id = :'v1' AND action = 'view_audit'", m.id)
    assert [x[1] for x in rows] == ["403"], rows


# --- the FastCGI socket: nginx's user only ---------------------------------

def fcgi_record(rtype, body, rid=1):
    return bytes([1, rtype, rid >> 8, rid & 255, len(body) >> 8,
                  len(body) & 255, 0, 0]) + body


def fcgi_params(pairs):
    out = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        out += bytes([len(k), len(v)]) + k + v
    return out


def test_fcgi_socket_is_owner_only():
    """The socket is mode 0600, owned by the user nginx's workers run as;
    a process of another user that gets through anyway (root ignores
    file modes) is refused by the app (SO_PEERCRED): no answer."""
    var = os.environ.get("BC_VAR")
    if not var:
        pytest.skip("BC_VAR is not set (run through scripts/test)")
    path = os.path.join(var, "run", "fcgi.sock")
    st = os.stat(path)
    assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
    # Owned by the user nginx's workers run as (they own nginx/).
    assert st.st_uid == os.stat(os.path.join(var, "nginx")).st_uid
    if os.geteuid() == st.st_uid:
        pytest.skip("the tests run as the app's user: no other uid here")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    req = fcgi_record(1, bytes([0, 1, 0, 0, 0, 0, 0, 0]))
    req += fcgi_record(4, fcgi_params({
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/v1/health/",
        "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"}))
    req += fcgi_record(4, b"") + fcgi_record(5, b"")
    s.sendall(req)
    got = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        got += chunk
    s.close()
    assert b"status" not in got and b"Status:" not in got, got[:200]


# --- webhooks: https only, secrets sealed ----------------------------------

def test_webhook_https_only_and_sealed(tmp_path):
    from sec_util import ctl_run
    org = new_org(tmp_path, roles=())
    secret = "hook-" + uuid.uuid4().hex
    f = tmp_path / "hook.secret"
    f.write_text(secret + "\n")
    rc, _, err = ctl_run("set-webhook", "--tin", org["tin"], "--url",
                         "http://hooks.example.org/x", "--secret-file",
                         str(f))
    assert rc != 0 and "https" in err, err
    rc, _, err = ctl_run("set-webhook", "--tin", org["tin"], "--url",
                         "https://hooks.example.org/x", "--secret-file",
                         str(f))
    assert rc == 0, err
    row, = psql("SELECT encode(w.secret_enc, 'hex'), w.is_active FROM"
                " organization_webhooks w JOIN organizations o ON"
                " o.id = w.organization_id WHERE o.tin = :'v1'",
                org["tin"])
    assert row[1] == "t" and len(row[0]) > 2 * len(secret)
    assert secret.encode().hex() not in row[0]
    # The database refuses plain http elsewhere too.
    with pytest.raises(RuntimeError):
        psql("UPDATE organization_webhooks SET url ="
             " 'http://hooks.example.org/y' WHERE organization_id ="
             " (SELECT id FROM organizations WHERE tin = :'v1')",
             org["tin"])
    assert audit_rows("action = 'webhook_change' AND organization_id ="
                      " (SELECT id FROM organizations WHERE tin = :'v1')",
                      org["tin"])


def test_token_default_expiry(tmp_path):
    """create-token without --expires-days expires after
    tokens.expiry_days (90 by default); list-tokens shows when."""
    from sec_util import ctl_ok
    org = new_org(tmp_path, roles=())
    u = new_user(tmp_path, org["tin"], "viewer")
    days = int(config_value("tokens.expiry_days", "90"))
    (left,), = psql("SELECT round(extract(epoch FROM expires_at - now())"
                    " / 86400) FROM api_tokens t JOIN users u ON"
                    " u.id = t.user_id WHERE u.username = :'v1'",
                    u.username)
    assert left and int(float(left)) == days, left
    out = ctl_ok("list-tokens", "--username", u.username)
    line = out.splitlines()[1].split()
    assert line[3] != "-" and "active" in out, out
