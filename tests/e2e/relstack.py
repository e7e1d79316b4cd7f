"""A dedicated stack for the reliability tests (see relstack.sh).

Fault injection restarts Redis and PostgreSQL, kills the worker and the
app and stops the payer: that cannot happen on the stack other tests
share, so these tests start their own on ports 24443/24080/24481 with a
short watchdog, simulator latency (a 2,000-row job takes seconds) and
failpoints armed through a file.
"""
import csv
import io
import os
import shutil
import signal
import subprocess
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(HERE, "relstack.sh")
# Ports: BC_REL_PORT_BASE (24000) + 443 HTTPS, 80 HTTP, 481 simulator,
# 25 the SMTP sink and 90 the webhook receiver of the notification test.
# Another base lets two checkouts run these tests at once.
PORT_BASE = int(os.environ.get("BC_REL_PORT_BASE", "24000"))
SMTP_PORT = PORT_BASE + 25
HOOK_PORT = PORT_BASE + 90
HEADER = "claim_number,first_name,last_name,date_of_birth,subscriber_id\n"

# What the tests rely on; each value is explained where it is used.
EXTRA_CONF = """
# tests/e2e/relstack.py
sim.latency_ms = 100
# These tests fault one job run inline; chunked jobs: test_chunks.py.
chunk.rows = 1000000
watchdog.interval_s = 1
watchdog.stale_s = 6
watchdog.pending_s = 5
payer.outage_threshold = 10
payer.outage_backoff_ms = 1000
payer.outage_backoff_max_ms = 4000
debug.failpoints = 1
debug.failpoint_file = @RUN@/failpoint
notify.smtp_url = smtp://127.0.0.1:%d
# The test's SMTP sink is plain, on loopback: STARTTLS is required by
# default and turned off here, explicitly, for this stack alone.
notify.smtp_require_tls = 0
notify.from = bulkclaims@localhost
notify.retry_base_s = 1
""" % (SMTP_PORT,)


class Stack:
    """A stack of its own, started fresh (relstack.sh start).

    var_env, var_default: the state folder is $var_env, else
    <checkout>/var_default.  port_base: HTTPS on base + 443, HTTP on
    base + 80, the simulator on base + 481.  extra_conf: lines appended
    to the generated configuration (@RUN@ is the run/ folder).  env:
    more environment for relstack.sh (BULKCLAIMS_TEST_* settings).
    """

    def __init__(self, tmpdir, var_env="BC_REL_VAR", var_default="var-rel",
                 port_base=PORT_BASE, extra_conf=EXTRA_CONF, env=None):
        self.var = os.environ.get(var_env, os.path.join(REPO, var_default))
        self.env = dict(os.environ)
        for k in list(self.env):
            # The caller's overrides would beat the stack's configuration.
            if k.startswith("BULKCLAIMS_"):
                del self.env[k]
        self.env.update(BULKCLAIMS_VAR=self.var,
                        BULKCLAIMS_TEST_HTTPS_PORT=str(port_base + 443),
                        BULKCLAIMS_TEST_HTTP_PORT=str(port_base + 80),
                        BULKCLAIMS_TEST_SIM_PORT=str(port_base + 481))
        self.env.update(env or {})
        extra = os.path.join(str(tmpdir), "extra.conf")
        with open(extra, "w") as f:
            f.write(extra_conf)
        self.env["RELSTACK_EXTRA_CONF"] = extra
        # A fresh state: no job of an earlier run may compete for the
        # worker or show up in the simulator's counts.
        self.sh("stop")
        real = os.path.realpath(self.var)
        if os.path.islink(self.var):
            os.unlink(self.var)
        shutil.rmtree(real, ignore_errors=True)
        out = self.sh("start", timeout=600)
        self.info = dict(line.split("=", 1) for line in out.splitlines()
                         if "=" in line)
        self.run = self.info["BC_RUN"]
        self.log = self.info["BC_LOG"]
        self.url = "https://localhost:%s/api/v1/" % self.info["BC_HTTPS_PORT"]
        self.sim = "http://%s:%s" % (self.info["BC_SIM_HOST"],
                                     self.info["BC_SIM_PORT"])
        self.cert = os.path.join(self.info["BC_STATE"], "tls", "dev.crt")
        with open(os.path.join(self.info["BC_STATE"], "demo-token")) as f:
            token = f.read().strip()
        self.s = requests.Session()
        self.s.verify = self.cert
        # REQUESTS_CA_BUNDLE (often set machine-wide) would beat verify=.
        self.s.trust_env = False
        self.s.headers["Authorization"] = "Token " + token

    def sh(self, *args, timeout=120):
        r = subprocess.run([SCRIPT] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, "relstack.sh %s: %s" % (args, r.stderr)
        return r.stdout

    def stop(self):
        self.sh("stop")

    # --- API -----------------------------------------------------------
    def get(self, path, **kw):
        return self.s.get(self.url + path, timeout=30, **kw)

    def post(self, path, **kw):
        return self.s.post(self.url + path, timeout=30, **kw)

    def upload(self, content, name="claims.csv"):
        return self.post("claims/bulk/upload/",
                         files={"file": (name, content.encode(), "text/csv")})

    def progress(self, job_id):
        r = self.get("claims/csv-jobs/%s/progress/" % job_id)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_status(self, job_id, statuses, timeout):
        deadline = time.time() + timeout
        p = None
        while time.time() < deadline:
            try:
                p = self.progress(job_id)
            except (requests.RequestException, AssertionError):
                p = None	# the app or the database may be restarting
            if p is not None and p["status"] in statuses:
                return p
            time.sleep(0.25)
        raise AssertionError("job %s not in %s after %ss: %s"
                             % (job_id, statuses, timeout, p))

    def wait_processed(self, job_id, at_least, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.progress(job_id)
            if p["processed_rows"] >= at_least:
                return p
            time.sleep(0.1)
        raise AssertionError("job %s: fewer than %d rows after %ss"
                             % (job_id, at_least, timeout))

    def results(self, job_id):
        r = self.get("claims/csv-jobs/%s/results/" % job_id)
        assert r.status_code == 200, r.text
        return list(csv.DictReader(io.StringIO(r.text)))

    def ctl(self, *args):
        """bulkclaimsctl on this stack's configuration."""
        ctl = os.environ.get("BC_CTL", os.path.join(
            REPO, "build-test", "ctl", "bulkclaimsctl"))
        r = subprocess.run([ctl, "-c", os.path.join(
            self.info["BC_STATE"], "bulkclaims.conf")] + list(args),
            capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    # --- database, simulator, processes ---------------------------------
    def psql(self, sql):
        r = subprocess.run(["psql", "-h", self.run, "-U", "bulkclaims",
                            "bulkclaims", "-XtAc", sql], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def sim_reset(self):
        requests.post(self.sim + "/__reset", timeout=10).raise_for_status()

    def sim_stats(self):
        return requests.get(self.sim + "/__stats", timeout=10).json()

    def sim_claim_counts(self, claims):
        s = requests.Session()
        out = {}
        for c in claims:
            r = s.get(self.sim + "/__stats", params={"claim": c}, timeout=10)
            out[c] = r.json()["claim"]["requests"]
        return out

    def pid(self, name):
        with open(os.path.join(self.run, name + ".pid")) as f:
            return int(f.read().strip())

    def kill(self, name, sig):
        pid = self.pid(name)
        os.kill(pid, sig)
        return pid

    def wait_restarted(self, name, old_pid, timeout=20):
        """The supervisor restarts a program 1 s after it exits."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                pid = self.pid(name)
                if pid != old_pid:
                    os.kill(pid, 0)
                    return pid
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError("%s not restarted after %ss" % (name, timeout))

    def log_text(self, name):
        with open(os.path.join(self.log, name + ".log"), errors="replace") as f:
            return f.read()


def claims_csv(n, prefix):
    """n rows with distinct claim numbers; the simulator answers them
    FOUND or NOT_FOUND deterministically, with one request each."""
    rows = [HEADER]
    for i in range(n):
        rows.append("%s%07d,John,Doe,1980-01-15,ABC%06d\n" % (prefix, i, i))
    return "".join(rows)


def assert_exact(stack, job_id, total):
    """Every row has exactly one result and the counters equal them."""
    (st, tot, done, ok, bad), = stack.psql(
        "SELECT status, total_rows, processed_rows, success_count, "
        "failure_count FROM csv_jobs WHERE id = '%s'" % job_id)
    (stored, stored_ok, stored_bad, rows), = stack.psql(
        "SELECT count(success), count(*) FILTER (WHERE success), "
        "count(*) FILTER (WHERE NOT success), count(*) "
        "FROM csv_job_rows WHERE job_id = '%s'" % job_id)
    assert st == "COMPLETED"
    assert int(tot) == total == int(rows) == int(stored)
    assert int(done) == int(stored)
    assert int(ok) == int(stored_ok) and int(bad) == int(stored_bad)
    res = stack.results(job_id)
    assert sorted(int(r["row"]) for r in res) == list(range(1, total + 1))
    # Only the simulator's own answers: no outage error was stored.
    kinds = stack.psql("SELECT DISTINCT lookup_result FROM csv_job_rows "
                       "WHERE job_id = '%s'" % job_id)
    assert {k for k, in kinds} <= {"FOUND", "NOT_FOUND"}, kinds


def stored_claims(stack, job_id):
    return {c for c, in stack.psql(
        "SELECT claim_number FROM csv_job_rows WHERE job_id = '%s' "
        "AND success IS NOT NULL" % job_id)}


SIGKILL = signal.SIGKILL
SIGTERM = signal.SIGTERM
