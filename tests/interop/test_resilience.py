"""The C worker across a Redis restart: reconnect with backoff,
re-subscribe remote control, re-declare bindings."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import redis

from conftest import (WORKER_BIN, Proc, acl_client, acl_env, acl_password,
                      celery_cli, start_redis_acl, wait_for)


def start_redis(sock, d):
    p = start_redis_acl(sock, d)
    assert wait_for(lambda: os.path.exists(sock))
    return p


def test_survives_redis_restart(tmp_path):
    d = tempfile.mkdtemp(prefix="bc-restart-")
    sock = os.path.join(d, "redis.sock")
    rs = start_redis(sock, d)
    env = dict(os.environ, BULKCLAIMS_REDIS_URL="unix://" + sock,
               **acl_env(d))
    w = Proc([WORKER_BIN, "-d", "--diagnostic-tasks", "-n", "rs@interop"],
             str(tmp_path / "w.log"), env)
    try:
        r = acl_client(sock, d)
        assert wait_for(lambda: r.scard("_kombu.binding.celery.pidbox"), 10)

        def run_one():
            out = subprocess.run([WORKER_BIN, "--publish", "bulkclaims.echo",
                                  "--args", "[1]"], env=env,
                                 capture_output=True, text=True, check=True)
            tid = out.stdout.strip()
            return wait_for(lambda: r.get("celery-task-meta-" + tid), 15)

        assert run_one()
        rs.terminate()
        rs.wait(10)
        os.unlink(sock) if os.path.exists(sock) else None
        time.sleep(2)
        rs = start_redis(sock, d)
        r = acl_client(sock, d)
        assert run_one(), w.log()
        # Remote control and bindings are back.
        assert wait_for(lambda: r.scard("_kombu.binding.celery.pidbox"), 10)
        assert wait_for(lambda: r.sismember(
            "_kombu.binding.celery", b"celery\x06\x16\x06\x16celery"), 10)
        out = celery_cli({"url": "redis+socket://celery:%s@%s" % (
            acl_password(d, "celery"), sock)}, "inspect",
                         "ping")
        assert "pong" in out.stdout, out.stdout + out.stderr
        assert w.p.poll() is None
    finally:
        rc = w.stop()
        rs.terminate()
        rs.wait(10)
        shutil.rmtree(d, ignore_errors=True)
        assert rc == 0
