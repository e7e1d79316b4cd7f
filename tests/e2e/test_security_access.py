"""Isolation and authentication on every endpoint and method.

- No credentials (or a bad, revoked, expired token, or a stranger's
  cookie): 401 everywhere except the login itself.
- Another organisation's job: 404 on every job endpoint for the method
  it accepts, and for the other methods exactly what a job id that does
  not exist gets, so no answer tells whether the job exists.
- Lists (jobs, audit) never show another organisation's entries.
"""
import hashlib
import time
import uuid

import pytest

from sec_util import (Browser, ctl_ok, ctl_run, error_code, is_nginx_429,
                      new_org, phi_csv, psql, route_exists)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

# Every endpoint; {id} is a job id.  (path, methods that route to it)
ENDPOINTS = [
    ("claims/bulk/upload/", {"POST"}),
    ("claims/csv-jobs/", {"GET", "HEAD"}),
    ("claims/csv-jobs/{id}/", {"GET", "HEAD"}),
    ("claims/csv-jobs/{id}/progress/", {"GET", "HEAD"}),
    ("claims/csv-jobs/{id}/results/", {"GET", "HEAD"}),
    ("claims/csv-jobs/{id}/retry/", {"POST"}),
    ("claims/csv-jobs/{id}/cancel/", {"POST"}),
    ("claims/csv-jobs/{id}/rows/", {"GET", "HEAD"}),
    ("claims/csv-jobs/{id}/purge/", {"POST"}),
    ("audit/", {"GET", "HEAD"}),
    ("auth/me/", {"GET", "HEAD"}),
    ("auth/logout/", {"POST"}),
]

JOB_ENDPOINTS = [(p, m) for p, m in ENDPOINTS if "{id}" in p]


@pytest.fixture(scope="module")
def orgs(tmp_path_factory):
    t = tmp_path_factory.mktemp("access")
    a = new_org(t)
    b = new_org(t)
    r = a["member"].api.upload(phi_csv())
    assert r.status_code == 201, r.text
    a["job"] = r.json()["id"]
    a["member"].api.wait_done(a["job"])
    return a, b


def call(client, method, path, **kw):
    """One request; waits out nginx's rate limits (never the app's)."""
    if method == "POST" and path.endswith("upload/"):
        kw["files"] = {"file": ("x.csv", phi_csv().encode(), "text/csv")}
    for _ in range(40):
        r = client.s.request(method, client.url(path), timeout=60,
                             verify=client.s.verify, **kw)
        if not is_nginx_429(r):
            return r
        time.sleep(1)
    return r


_routes = {}


def routes(org, path):
    """Whether path routes (cached; see sec_util.route_exists)."""
    if path not in _routes:
        _routes[path] = route_exists(org["admin"].api, path)
    return _routes[path]


def all_requests(job_id):
    for path, _ in ENDPOINTS:
        for m in METHODS:
            yield m, path.replace("{id}", job_id)


@pytest.mark.parametrize("auth", ["none", "garbage", "malformed",
                                  "revoked", "expired", "cookie"])
def test_unauthenticated_everywhere(orgs, anon, tmp_path, auth):
    a, _ = orgs
    headers = {}
    client = anon
    if auth == "garbage":
        headers["Authorization"] = "Token " + "0" * 40
    elif auth == "malformed":
        headers["Authorization"] = "Bearer abc def"
    elif auth in ("revoked", "expired"):
        tokfile = tmp_path / "t"
        ctl_ok("create-token", "--username", a["member"].username,
               "--token-file", str(tokfile))
        tok = tokfile.read_text().strip()
        if auth == "revoked":
            ctl_ok("revoke-token", "--prefix", tok[:8], "--username",
                   a["member"].username)
        else:
            psql("UPDATE api_tokens SET expires_at = now() - interval '1s'"
                 " WHERE prefix = :'v1'", tok[:8])
        headers["Authorization"] = "Token " + tok
    elif auth == "cookie":
        client = Browser()
        client.s.cookies.set("__Host-bc_session", "A" * 43, domain="localhost")
    for m, path in all_requests(a["job"]):
        r = call(client, m, path, headers=headers)
        if r.status_code == 404 and not routes(a, path):
            continue	# an endpoint another branch has not added yet
        assert r.status_code == 401, (auth, m, path, r.status_code)
        if m != "HEAD":
            assert error_code(r) in ("not_authenticated",
                                     "authentication_failed"), r.text
    # The login is the one door without credentials.
    r = call(client, "POST", "auth/login/", headers=headers,
             json={"username": "nobody-" + uuid.uuid4().hex,
                   "password": "x" * 12})
    assert r.status_code in (401, 429)


def test_other_org_job_is_404_everywhere(orgs):
    a, b = orgs
    missing = str(uuid.uuid4())
    for role in ("admin", "member", "viewer"):
        api = b[role].api
        for path, accepted in JOB_ENDPOINTS:
            for m in METHODS:
                theirs = call(api, m, path.replace("{id}", a["job"]))
                nothing = call(api, m, path.replace("{id}", missing))
                assert theirs.status_code == nothing.status_code, \
                    (role, m, path, theirs.status_code, nothing.status_code)
                if m != "HEAD":
                    assert error_code(theirs) == error_code(nothing)
                if m in accepted and nothing.status_code not in (403, 405):
                    assert theirs.status_code == 404, (role, m, path)
    # Nothing was changed by all that: the job and its rows are intact.
    assert psql("SELECT purged_at IS NULL FROM csv_jobs WHERE id = :'v1'",
                a["job"]) == [["t"]]
    assert int(psql("SELECT count(*) FROM csv_job_rows WHERE job_id ="
                    " :'v1'", a["job"])[0][0]) == 3


def test_other_org_job_is_404_with_a_session(orgs):
    a, b = orgs
    br = Browser()
    br.login(b["admin"])
    for path, accepted in JOB_ENDPOINTS:
        for m in accepted:
            r = br.request(m, path.replace("{id}", a["job"]))
            assert r.status_code in (404, 405), (m, path, r.status_code)
            if path.endswith(("/{id}/", "progress/", "results/", "retry/",
                              "purge/")):
                assert r.status_code == 404, (m, path)


def test_lists_are_scoped(orgs):
    a, b = orgs
    ids = [j["id"] for j in b["admin"].api.get(
        "claims/csv-jobs/", params={"page_size": 100}).json()["results"]]
    assert a["job"] not in ids
    r = a["admin"].api.get("claims/csv-jobs/")
    assert a["job"] in [j["id"] for j in r.json()["results"]]
    # b's audit log holds b's own attempts on a's job (404s), never what
    # a's users did.
    a_users = {a[r].username for r in ("admin", "member", "viewer")}
    b_users = {b[r].username for r in ("admin", "member", "viewer")}
    audit = b["admin"].api.get("audit/", params={"page_size": 200}).json()
    assert audit["count"] > 0
    for e in audit["results"]:
        assert e["username"] not in a_users, e
        assert e["username"] in b_users or e["via"] == "ctl", e
        if e["job_id"] == a["job"]:
            assert e["outcome"] != "success", e
    audit = a["admin"].api.get("audit/", params={"action": "upload"}).json()
    assert any(e["job_id"] == a["job"] and
               e["username"] == a["member"].username
               for e in audit["results"])


def test_own_job_is_visible_to_every_role(orgs):
    a, _ = orgs
    for role in ("admin", "member", "viewer"):
        r = a[role].api.get(f"claims/csv-jobs/{a['job']}/")
        assert r.status_code == 200, (role, r.text)


def test_revoke_token_by_prefix(orgs, tmp_path):
    a, _ = orgs
    tokfile = tmp_path / "t"
    ctl_ok("create-token", "--username", a["viewer"].username,
           "--expires-days", "30", "--token-file", str(tokfile))
    tok = tokfile.read_text().strip()
    out = ctl_ok("list-tokens", "--username", a["viewer"].username)
    line = [ln for ln in out.splitlines() if ln.startswith(tok[:8])]
    assert line and "active" in line[0]
    assert tok not in out, "list-tokens must never show a whole token"
    from conftest import Api
    assert Api(tok).get("claims/csv-jobs/").status_code == 200
    ctl_ok("revoke-token", "--prefix", tok[:8])
    assert Api(tok).get("claims/csv-jobs/").status_code == 401
    out = ctl_ok("list-tokens", "--username", a["viewer"].username)
    assert "revoked" in [ln for ln in out.splitlines()
                         if ln.startswith(tok[:8])][0]
    rc, _, err = ctl_run("revoke-token", "--prefix", tok[:8])
    assert rc != 0 and "no active token" in err
    # Tokens are stored hashed: the key is nowhere in the database.
    assert psql("SELECT encode(token_hash, 'hex') FROM api_tokens"
                " WHERE prefix = :'v1'", tok[:8]) == [
        [hashlib.sha256(tok.encode()).hexdigest()]]
    assert psql("SELECT expires_at > now() + interval '29 days' FROM"
                " api_tokens WHERE prefix = :'v1'", tok[:8]) == [["t"]]
