"""Helpers of the intake tests: requests that wait out nginx's
rate limits, the simulator's per-claim counter, results parsing."""
import csv
import io
import os
import random
import time

from conftest import CONFIG

# A prefix no other test run uses, so simulator counters per claim number
# start at 0.  "ZQ" is no forced-behaviour prefix of the simulator.
PREFIX = "ZQ%06d" % random.randrange(10**6)

HEADER = "claim_number,first_name,last_name,date_of_birth,subscriber_id"


def config_value(key, default):
    """A key of the stack's configuration file (BC_CONFIG), or default."""
    env = "BULKCLAIMS_" + key.upper().replace(".", "_")
    if os.environ.get(env):
        return os.environ[env]
    if CONFIG and os.path.exists(CONFIG):
        try:
            with open(CONFIG) as f:
                for line in f:
                    k, sep, v = line.partition("=")
                    if sep and k.strip() == key:
                        return v.strip()
        except OSError:
            pass
    return default


def sim_url():
    url = os.environ.get("BC_SIM_URL")
    if url:
        return url.rstrip("/")
    return "http://127.0.0.1:" + config_value("sim.port", "18481")


def sim_requests(claim):
    """How many claim requests the simulator has seen for claim."""
    import requests
    r = requests.get(sim_url() + "/__stats", params={"claim": claim},
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["claim"]["requests"]


def call(fn, *args, **kw):
    """fn(*args, **kw), again after a 429 (nginx's rate limits)."""
    for _ in range(60):
        r = fn(*args, **kw)
        if r.status_code != 429:
            return r
        time.sleep(float(r.headers.get("Retry-After", "0.5") or 0.5))
    return r


def send(api, path, content, filename="claims.csv", ctype="text/csv",
         params=None, headers=None):
    """POSTs content as the multipart field "file" to path."""
    if isinstance(content, str):
        content = content.encode()
    return call(api.post, path, params=params, headers=headers,
                files={"file": (filename, content, ctype)})


def validate(api, content, **kw):
    return send(api, "claims/bulk/validate/", content, **kw)


def upload(api, content, **kw):
    params = dict(kw.pop("params", None) or {})
    params.setdefault("allow_duplicate", "1")
    return send(api, "claims/bulk/upload/", content, params=params, **kw)


def get(api, path, **kw):
    return call(api.get, path, **kw)


def csv_rows(text):
    """The records of a CSV text (header included) as lists."""
    return list(csv.reader(io.StringIO(text, newline="")))


def all_rows(api, job_id, **params):
    """Every row of the rows endpoint, following next links."""
    out, page = [], 1
    while True:
        r = get(api, f"claims/csv-jobs/{job_id}/rows/",
                params=dict(params, page=page, page_size=100))
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body["results"])
        if not body["next"]:
            return out
        page += 1


def wait_done(api, job_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = get(api, f"claims/csv-jobs/{job_id}/progress/")
        assert r.status_code == 200, r.text
        p = r.json()
        if p["status"] not in ("PENDING", "PROCESSING", "CANCELLING"):
            return p
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not finished: {p}")
