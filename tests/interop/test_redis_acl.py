"""Redis ACL users and passwords, and the remote-control commands a
worker refuses unless worker.remote_control_dangerous is on.

The session's redis-server (conftest.py) has no default user: every
client authenticates as its own ACL user.
"""
import os
import shutil
import subprocess

import pytest
import redis

from conftest import WORKER_BIN, acl_password, wait_for


def publish(env):
    return subprocess.run([WORKER_BIN, "--publish", "bulkclaims.echo",
                           "--args", "[1]"], env=env, capture_output=True,
                          text=True, timeout=30)


def c_env(redis_server, **kw):
    env = dict(os.environ, BULKCLAIMS_REDIS_URL=redis_server["c_url"])
    env.pop("BULKCLAIMS_CONFIG", None)
    env.update(kw)
    return env


def test_no_password_no_access(redis_server, r):
    anon = redis.Redis(unix_socket_path=redis_server["sock"])
    with pytest.raises(redis.exceptions.AuthenticationError):
        anon.ping()
    env = c_env(redis_server)
    env.pop("BULKCLAIMS_REDIS_USER")
    env.pop("BULKCLAIMS_REDIS_PASSWORD_FILE")
    out = publish(env)
    assert out.returncode != 0
    assert "NOAUTH" in out.stderr or "Authentication" in out.stderr, \
        out.stderr


def test_password_file_and_url_forms(redis_server, r):
    # conftest's environment: redis.user + redis.password_file
    out = publish(c_env(redis_server))
    assert out.returncode == 0, out.stderr
    assert r.llen("celery") == 1
    # the same credentials in the URL (percent-encoding allowed)
    pw = acl_password(redis_server["dir"], "cworker")
    env = c_env(redis_server, BULKCLAIMS_REDIS_URL="unix://cworker:%s@%s" % (
        "".join("%%%02x" % ord(c) for c in pw), redis_server["sock"]))
    env.pop("BULKCLAIMS_REDIS_USER")
    env.pop("BULKCLAIMS_REDIS_PASSWORD_FILE")
    out = publish(env)
    assert out.returncode == 0, out.stderr
    assert r.llen("celery") == 2


def test_wrong_or_open_password_file_refused(redis_server, r, tmp_path):
    pw = acl_password(redis_server["dir"], "cworker")
    bad = tmp_path / "bad.pass"
    bad.write_text("not-" + pw + "\n")
    os.chmod(bad, 0o600)
    out = publish(c_env(redis_server,
                        BULKCLAIMS_REDIS_PASSWORD_FILE=str(bad)))
    assert out.returncode != 0
    assert "AUTH as cworker" in out.stderr, out.stderr
    assert pw not in out.stderr
    # a password file anyone on the host may read is refused outright
    open_file = tmp_path / "open.pass"
    shutil.copy(os.path.join(redis_server["dir"], "cworker.pass"),
                open_file)
    os.chmod(open_file, 0o644)
    out = publish(c_env(redis_server,
                        BULKCLAIMS_REDIS_PASSWORD_FILE=str(open_file)))
    assert out.returncode != 0
    assert "readable or writable by other users" in out.stderr, out.stderr
    assert pw not in out.stderr
    assert r.llen("celery") == 0


def test_worker_user_has_no_admin_commands(redis_server, r):
    from conftest import acl_client
    w = acl_client(redis_server["sock"], redis_server["dir"], "cworker")
    assert w.ping()
    for cmd in (("FLUSHALL",), ("CONFIG", "GET", "requirepass"),
                ("ACL", "LIST"), ("SHUTDOWN",), ("KEYS", "*")):
        with pytest.raises(redis.exceptions.NoPermissionError):
            w.execute_command(*cmd)
    w.close()


def test_dangerous_remote_control_refused(app, c_worker, r):
    """Default (off): shutdown, pool changes, rate/time limits and
    revoke(terminate) are refused and logged; ping and inspect work."""
    w = c_worker(env_extra={
        "BULKCLAIMS_WORKER_REMOTE_CONTROL_DANGEROUS": "off"})
    dest = [w.node]
    assert app.control.ping(destination=dest, timeout=2) == \
        [{w.node: {"ok": "pong"}}]
    st = app.control.inspect(destination=dest, timeout=2).stats()
    assert st[w.node]["pool"]["max-concurrency"] >= 1
    for method, args in (("pool_shrink", {"n": 1}), ("pool_grow", {"n": 1}),
                         ("autoscale", {"max": 4, "min": 1}),
                         ("rate_limit", {"task_name": "bulkclaims.echo",
                                         "rate_limit": "1/h"}),
                         ("time_limit", {"task_name": "bulkclaims.echo",
                                         "soft": 0.01, "hard": 0.02}),
                         ("revoke", {"task_id": "x", "terminate": True}),
                         ("shutdown", {})):
        rep = app.control.broadcast(method, arguments=args, reply=True,
                                    timeout=2, destination=dest)
        assert rep == [{w.node: {"error": "refused: "
                        "worker.remote_control_dangerous is off"}}], \
            (method, rep)
        assert wait_for(lambda: "remote control: %s refused" % method
                        in w.log(), 5), method
    # still alive, still answering, still running tasks at full speed
    assert w.p.poll() is None
    assert app.control.ping(destination=dest, timeout=2) == \
        [{w.node: {"ok": "pong"}}]
    assert app.send_task("bulkclaims.echo", args=[2]).get(timeout=10) == \
        {"args": [2], "kwargs": {}}
    # a plain revoke (no terminate) is allowed
    rep = app.control.revoke("no-such-task", reply=True, timeout=2,
                             destination=dest)
    assert "ok" in rep[0][w.node], rep
