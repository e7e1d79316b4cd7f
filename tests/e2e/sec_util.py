"""Helpers of the security tests (test_security_*.py): browser sessions,
throwaway organisations and users, direct SQL on the test database, and
the patient data they upload (PHI_ROWS, which test_zz_phi_logs.py then
looks for in every log file).
"""
import os
import re
import subprocess
import time
import uuid

import requests

from conftest import CACERT, CONFIG, CTL, HEADER, URL, Api

# Patient data of the security tests.  Unusual values, so that a hit in
# a log file is ours and not a coincidence.
PHI_ROWS = [
    ("SECZE0000001", "Zebulon", "Quagmire", "1931-07-04", "SECSUB998877"),
    ("SECZE0000002", "Philomena", "Thistlewood", "1944-02-29",
     "SECSUB665544"),
    ("SECZE0000003", "Evangelina", "Brackenbury", "1957-11-30",
     "SECSUB332211"),
]

# Terms the tests search for (rows/?q=...): a search term is whatever a
# user typed, a name or a claim number, and must not reach a log either.
SEARCH_TERMS = ["Qzsearchterm4417", "SECZE0000002"]


def phi_csv(rows=PHI_ROWS):
    return HEADER + "".join(",".join(r) + "\n" for r in rows)


def config_value(key, default=None):
    """A key of the running system's config file (BC_CONFIG)."""
    if not CONFIG:
        return default
    with open(CONFIG) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            if k.strip() == key:
                return v.strip()
    return default


def redis_admin(conf=None):
    """(user, password) of the stack's Redis admin ACL user: its password
    file sits in secrets/ next to the configuration file
    (scripts/lib/services.sh bc_redis_acl)."""
    conf = conf or CONFIG
    path = os.path.join(os.path.dirname(conf), "secrets", "redis-admin.pass")
    with open(path) as f:
        return "admin", f.read().strip()


def redis_cli(sock, *args, conf=None, timeout=10):
    """redis-cli as the admin user on unix socket sock; the password goes
    by REDISCLI_AUTH, not argv."""
    user, pw = redis_admin(conf)
    return subprocess.run(["redis-cli", "--no-auth-warning", "--user", user,
                           "-s", sock] + list(args),
                          env=dict(os.environ, REDISCLI_AUTH=pw),
                          capture_output=True, text=True, timeout=timeout)


def psql(sql, *args):
    """Runs sql (with psql variables :'v1', :'v2' ... for args) on the
    test database; returns the rows as lists of strings."""
    url = config_value("database.url")
    assert url, "database.url not found in BC_CONFIG"
    cmd = ["psql", url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
           "-F", "\t"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", f"v{i}={a}"]
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return [line.split("\t") for line in r.stdout.splitlines() if line]


def ctl_run(*args):
    """bulkclaimsctl without the success assertion: (rc, stdout, stderr)."""
    cmd = [CTL] + (["-c", CONFIG] if CONFIG else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def ctl_ok(*args):
    rc, out, err = ctl_run(*args)
    assert rc == 0, err
    return out


def forget_failed_logins():
    """Every test logs in from loopback: earlier runs' failures must not
    add up to the per-address limit (login.max_failures_per_address)."""
    psql("DELETE FROM login_attempts WHERE NOT success"
         " AND address IN ('127.0.0.1', '::1')")


def new_org(tmp_path, roles=("admin", "member", "viewer")):
    """A fresh organisation with one user per role, each with a password
    and an API token.  Returns {"tin", "name", role: User}."""
    tag = uuid.uuid4().hex[:8]
    tin = "8%08d" % (uuid.uuid4().int % 10**8)
    forget_failed_logins()
    ctl_ok("create-org", "--name", "Sec Org " + tag, "--tin", tin)
    org = {"tin": tin, "name": "Sec Org " + tag}
    for role in roles:
        org[role] = new_user(tmp_path, tin, role, tag)
    return org


class User:
    def __init__(self, username, password, token):
        self.username = username
        self.password = password
        self.token = token
        self.api = Api(token)
        self.id = int(psql("SELECT id FROM users WHERE username = :'v1'",
                           username)[0][0])


def new_user(tmp_path, tin, role, tag=None):
    tag = tag or uuid.uuid4().hex[:8]
    name = f"sec-{role}-{tag}-{uuid.uuid4().hex[:4]}"
    password = "pw-" + uuid.uuid4().hex
    pwfile = tmp_path / (name + ".pw")
    pwfile.write_text(password + "\n")
    ctl_ok("create-user", "--tin", tin, "--username", name, "--role", role,
           "--password-file", str(pwfile))
    tokfile = tmp_path / (name + ".tok")
    ctl_ok("create-token", "--username", name, "--token-file", str(tokfile))
    return User(name, password, tokfile.read_text().strip())


def is_nginx_429(r):
    """nginx's limit_req answer (code "throttled", or HTML without the
    JSON error page), not one of the app's own 429s."""
    return r.status_code == 429 and error_code(r) in (None, "throttled")


class Browser:
    """A browser-like client: session cookie and the CSRF header."""

    def __init__(self):
        self.s = requests.Session()
        self.s.verify = CACERT
        self.csrf = None
        self.body = None

    def url(self, path):
        return URL + "/api/v1/" + path.lstrip("/")

    def raw(self, method, path, **kw):
        """A request without the CSRF header that waits out nginx's
        per-address rate limit on login (10/min in the test config),
        never the app's own throttling (JSON 429)."""
        kw.setdefault("verify", CACERT)
        kw.setdefault("timeout", 60)
        deadline = time.time() + 120
        while True:
            r = self.s.request(method, self.url(path), **kw)
            if not is_nginx_429(r) or time.time() > deadline:
                return r
            time.sleep(3)

    def login_raw(self, username, password, **kw):
        return self.raw("POST", "auth/login/",
                        json={"username": username, "password": password},
                        **kw)

    def login(self, user):
        r = self.login_raw(user.username, user.password)
        assert r.status_code == 200, r.text
        self.body = r.json()
        self.csrf = self.body["csrf_token"]
        return r

    def cookie(self):
        return self.s.cookies.get("__Host-bc_session")

    def request(self, method, path, csrf=True, **kw):
        headers = kw.pop("headers", {})
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRFToken", self.csrf)
        kw.setdefault("verify", CACERT)
        return self.s.request(method, self.url(path), headers=headers,
                              timeout=60, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def upload(self, content, csrf=True, **kw):
        return self.post("claims/bulk/upload/", csrf=csrf,
                         files={"file": ("claims.csv", content.encode(),
                                         "text/csv")}, **kw)


def error_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def wait_status(api, job_id, timeout=120):
    """Polls until the job has left PENDING/PROCESSING/CANCELLING."""
    return api.wait_done(job_id, timeout=timeout)


def audit_rows(where, *args):
    """audit_log rows (action, outcome, via, job_id, user_id, username,
    organization_id, detail, address) matching a SQL condition."""
    return psql("SELECT action, outcome, coalesce(via, ''),"
                " coalesce(job_id::text, ''), coalesce(user_id::text, ''),"
                " coalesce(username, ''),"
                " coalesce(organization_id::text, ''),"
                " coalesce(detail, ''), coalesce(address, '')"
                " FROM audit_log WHERE " + where + " ORDER BY id", *args)


def route_exists(api, path):
    """PUT is no method of any endpoint: 405 if the path routes, 404 if
    it does not (ask with a valid token, so that 401 hides nothing)."""
    r = api.s.request("PUT", api.url(path), timeout=60, verify=CACERT)
    return r.status_code == 405


def valid_uuid(s):
    return bool(re.fullmatch(r"[0-9a-f-]{36}", s or ""))
