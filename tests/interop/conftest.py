"""Fixtures for the Celery interop tests (see docs/celery.md).

Each test module gets its own redis-server on a unix socket in a temp
dir; workers (the C one and Python's) are started per test and stopped
with SIGTERM.  Run with Debian's interpreter (python3-celery):

    BC_WORKER_BIN=build/worker/bulkclaims-worker /usr/bin/python3 -m pytest tests/interop
"""
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WORKER_BIN = os.environ.get(
    "BC_WORKER_BIN", str(ROOT / "build" / "worker" / "bulkclaims-worker"))


def kill9_tree(proc):
    """kill -9 a worker and the processes it forked, then reap it: a
    crash that leaves nothing of it running."""
    kids = open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)).read()
    proc.kill()
    for k in kids.split():
        os.kill(int(k), signal.SIGKILL)
    proc.wait()


def wait_for(pred, timeout=10.0, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


# Redis ACL users, as docs/operations.md sets them up: no default user;
# the C worker and the Python Celery clients each with their own password
# and without the admin/dangerous commands; the harness (flushall) alone
# may do everything.  Passwords are made per session, kept in 0600 files.
ACL_USERS = {
    "cworker": "~* &* +@all -@dangerous",
    "celery": "~* &* +@all -@dangerous +info",
    "harness": "~* &* +@all",
}


def write_secret(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def make_acl(d):
    """Writes d/redis-acl.conf (the users, 0600) and d/<user>.pass;
    returns {user: password}."""
    pw = {u: secrets.token_hex(16) for u in ACL_USERS}
    lines = ["user default off"] + [
        "user %s on >%s %s" % (u, pw[u], ACL_USERS[u]) for u in ACL_USERS]
    write_secret(os.path.join(d, "redis-acl.conf"), "\n".join(lines))
    for u in ACL_USERS:
        write_secret(os.path.join(d, u + ".pass"), pw[u])
    return pw


def start_redis_acl(sock, d, extra=()):
    """redis-server on unix socket sock with make_acl(d)'s users (the
    passwords sit in a 0600 config file, not in argv)."""
    make_acl(d) if not os.path.exists(os.path.join(d, "redis-acl.conf")) \
        else None
    conf = os.path.join(d, "redis.conf")
    write_secret(conf, "\n".join([
        "port 0", "unixsocket " + sock, "unixsocketperm 700", 'save ""',
        "appendonly no", "dir " + d,
        "include " + os.path.join(d, "redis-acl.conf")] + list(extra)))
    return subprocess.Popen(["redis-server", conf],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def acl_password(d, user):
    return Path(d, user + ".pass").read_text().strip()


def acl_client(sock, d, user="harness", **kw):
    return redis.Redis(unix_socket_path=sock, username=user,
                       password=acl_password(d, user), **kw)


def acl_env(d):
    """The C worker's credentials: user and password file, no secret in
    the URL or argv."""
    return {"BULKCLAIMS_REDIS_USER": "cworker",
            "BULKCLAIMS_REDIS_PASSWORD_FILE": os.path.join(d,
                                                           "cworker.pass")}


@pytest.fixture(scope="session")
def redis_server():
    tmp = tempfile.mkdtemp(prefix="bc-interop-")
    sock = os.path.join(tmp, "redis.sock")
    pw = make_acl(tmp)
    proc = start_redis_acl(sock, tmp)
    assert wait_for(lambda: os.path.exists(sock)), "redis did not start"
    # kombu's and celery's form: user:password@ before the socket path
    url = "redis+socket://celery:%s@%s" % (pw["celery"], sock)
    os.environ["BC_INTEROP_BROKER"] = url
    # every C worker and --publish the tests start inherits these
    os.environ.update(acl_env(tmp))
    yield {"sock": sock, "url": url, "c_url": "unix://" + sock, "dir": tmp}
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def r(redis_server):
    client = acl_client(redis_server["sock"], redis_server["dir"])
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def app(redis_server):
    sys.path.insert(0, str(HERE))
    import interop_app
    interop_app.app.conf.broker_url = redis_server["url"]
    interop_app.app.conf.result_backend = redis_server["url"]
    yield interop_app.app
    # Release AsyncResults and the result listener while redis is still
    # up (their finalizers talk to it).
    import gc
    gc.collect()
    try:
        interop_app.app.backend.result_consumer.stop()
    except Exception:
        pass
    interop_app.app.close()


class Proc:
    """A started worker process with its log file."""

    def __init__(self, args, log, env):
        self.log_path = log
        self.logf = open(log, "wb")
        self.p = subprocess.Popen(args, stdout=self.logf,
                                  stderr=subprocess.STDOUT, env=env)

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.logf.close()
        return rc


@pytest.fixture
def c_worker(redis_server, r, tmp_path):
    """Factory: c_worker(*extra_args) starts the C worker, waits until
    its pidbox binding exists (it is consuming) and returns a Proc."""
    procs = []

    def start(*extra, env_extra=None, wait=True):
        env = dict(os.environ)
        env["BULKCLAIMS_REDIS_URL"] = redis_server["c_url"]
        # the tests below drive shutdown, terminate, time/rate limits;
        # test_redis_acl.py checks the default (off)
        env["BULKCLAIMS_WORKER_REMOTE_CONTROL_DANGEROUS"] = "on"
        env.pop("BULKCLAIMS_CONFIG", None)
        env.update(env_extra or {})
        node = "cworker%d@interop" % len(procs)
        args = [WORKER_BIN, "-d", "--diagnostic-tasks", "-n", node] + \
            list(extra)
        p = Proc(args, str(tmp_path / ("cworker%d.log" % len(procs))), env)
        p.node = node
        procs.append(p)
        if wait:
            member = b"\x06\x16\x06\x16" + node.encode() + b".celery.pidbox"
            assert wait_for(lambda: r.sismember(
                "_kombu.binding.celery.pidbox", member)), p.log()
            time.sleep(0.2)
        return p

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def py_worker(redis_server, tmp_path):
    """Factory: a real Python Celery worker running interop_app."""
    procs = []

    def start(*extra, mingle=False, env_extra=None):
        env = dict(os.environ)
        env.update(env_extra or {})
        env["PYTHONPATH"] = str(HERE)
        env["C_FORCE_ROOT"] = "1"
        args = [sys.executable, "-m", "celery", "-A", "interop_app",
                "worker", "-l", "info", "-c", "1", "--without-gossip",
                "-n", "pyworker%d@interop" % len(procs)]
        if not mingle:
            args.append("--without-mingle")
        args += list(extra)
        p = Proc(args, str(tmp_path / ("pyworker%d.log" % len(procs))), env)
        procs.append(p)
        assert wait_for(lambda: "ready." in p.log(), 20), p.log()
        return p

    yield start
    for p in procs:
        p.stop()


def celery_cli(redis_server, *args, timeout=30):
    """Runs `python3 -m celery -A interop_app ARGS` against redis_server["url"]."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE)
    env["BC_INTEROP_BROKER"] = redis_server["url"]
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "interop_app"] + list(args),
        capture_output=True, text=True, env=env, timeout=timeout)
