"""Fixtures for the end-to-end tests.

scripts/test starts the whole stack (PostgreSQL, Redis, nginx, the app,
the worker, the payer simulator) and passes its coordinates in the
environment; these tests talk to it over real HTTPS through nginx.
"""
import json
import os
import subprocess
import time
import uuid

import pytest
import requests

import openapi_check

URL = os.environ.get("BC_URL", "https://localhost:18443")
CACERT = os.environ.get("BC_CACERT", True)
CTL = os.environ.get("BC_CTL", "build-test/ctl/bulkclaimsctl")
CONFIG = os.environ.get("BC_CONFIG")
SIM_BIN = os.environ.get("BC_SIM_BIN", "build-test/payer-sim/bulkclaims-payer-sim")

HEADER = "claim_number,first_name,last_name,date_of_birth,subscriber_id\n"
RESULT_HEADER = ("row,claim_number,status,patient_name,total_charged,"
                 "total_paid,processed_date,success,error_message")

# Every answer a test receives is checked against api/openapi.json.
openapi_check.install()


@pytest.fixture(autouse=True)
def openapi_conformance():
    """Fails the test whose answers the API description does not allow:
    the document and the code cannot drift apart unnoticed."""
    openapi_check.take()
    yield
    problems = openapi_check.take()
    if problems:
        pytest.fail("answers not as api/openapi.json describes them:\n  " +
                    "\n  ".join(problems[:20]), pytrace=False)


class Api:
    """A small client bound to one API token."""

    def __init__(self, token):
        self.s = requests.Session()
        self.s.verify = CACERT
        if token:
            self.s.headers["Authorization"] = "Token " + token

    def url(self, path):
        return URL + "/api/v1/" + path.lstrip("/")

    def request(self, method, path, timeout, **kw):
        """One request; waits out nginx's per-address rate limits (its
        429 "throttled" page), never the app's own JSON 429s, so a fast
        suite on a slow machine is not failed by the limits it shares."""
        deadline = time.time() + 90
        while True:
            r = self.s.request(method, self.url(path), timeout=timeout, **kw)
            if r.status_code != 429 or time.time() > deadline:
                return r
            try:
                code = r.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            if code not in (None, "throttled"):
                return r
            time.sleep(1)

    def get(self, path, **kw):
        return self.request("GET", path, 60, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, 120, **kw)

    def upload(self, content, filename="claims.csv", ctype="text/csv",
               field="file", params=None):
        """Uploads content.  The same file within
        upload.duplicate_window_s answers 409; tests upload
        fixed files on every run, so allow_duplicate=1 unless params
        says otherwise (tests/e2e/test_intake_results.py tests the 409)."""
        if isinstance(content, str):
            content = content.encode()
        if params is None:
            params = {"allow_duplicate": "1"}
        return self.post("claims/bulk/upload/", params=params,
                         files={field: (filename, content, ctype)})

    def wait_done(self, job_id, timeout=120):
        """Polls progress until the job leaves PENDING/PROCESSING."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.get(f"claims/csv-jobs/{job_id}/progress/")
            assert r.status_code == 200, r.text
            p = r.json()
            if p["status"] not in ("PENDING", "PROCESSING", "CANCELLING"):
                return p
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} not finished after {timeout}s: {p}")


def ctl(*args, capture=True):
    cmd = [CTL] + (["-c", CONFIG] if CONFIG else []) + list(args)
    r = subprocess.run(cmd, capture_output=capture, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def explain(claim, first, last):
    """The simulator's documented outcome for a claim (its --explain)."""
    r = subprocess.run([SIM_BIN, "--explain", claim, "--first", first,
                        "--last", last], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="session")
def api():
    token = os.environ.get("BC_TOKEN")
    if not token and os.environ.get("BC_VAR"):
        with open(os.path.join(os.environ["BC_VAR"], "demo-token")) as f:
            token = f.read().strip()
    assert token, "BC_TOKEN is not set: run through scripts/test"
    return Api(token)


@pytest.fixture(scope="session")
def other_org_api(tmp_path_factory):
    """A user of a second organisation (no practice, no credentials)."""
    tin = "9%08d" % (uuid.uuid4().int % 10**8)
    name = "other-" + uuid.uuid4().hex[:8]
    ctl("create-org", "--name", "Other Org " + name, "--tin", tin)
    ctl("create-user", "--tin", tin, "--username", name, "--role", "member")
    tokfile = tmp_path_factory.mktemp("tok") / "token"
    ctl("create-token", "--username", name, "--token-file", str(tokfile))
    return Api(tokfile.read_text().strip())


@pytest.fixture
def anon():
    return Api(None)
