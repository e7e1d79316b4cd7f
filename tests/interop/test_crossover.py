"""Crash recovery and tooling across Python and C: unacked messages
restored by either worker, and Celery's tools pointed at the C worker."""
import json
import os
import subprocess
import time

import redis

from conftest import (WORKER_BIN, Proc, acl_client, celery_cli, kill9_tree,
                      wait_for)


def meta(r, task_id):
    raw = r.get("celery-task-meta-" + task_id)
    return json.loads(raw) if raw else None


def publish(redis_server, *args):
    env = dict(os.environ, BULKCLAIMS_REDIS_URL=redis_server["c_url"])
    out = subprocess.run([WORKER_BIN, "--publish"] + list(args), env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_c_eta_message_on_python_worker(app, py_worker, r, redis_server):
    pw = py_worker()
    t0 = time.time()
    tid = publish(redis_server, "bulkclaims.echo", "--args", "[5]",
                  "--countdown", "2", "--expires", "60", "--priority", "6")
    assert wait_for(lambda: meta(r, tid), 15)
    assert time.time() - t0 >= 1.9
    assert meta(r, tid)["result"] == {"args": [5], "kwargs": {}}
    assert "Task bulkclaims.echo[%s] received" % tid in pw.log()


def test_python_restores_what_killed_c_worker_held(app, c_worker, py_worker,
                                                   r, redis_server):
    """C worker killed -9 holding an ETA task and a running acks_late
    task; a Python worker with visibility_timeout=1 restores and runs
    both."""
    w = c_worker("--concurrency", "2")
    late = app.send_task("bulkclaims.sleep", args=[5])
    eta = app.send_task("bulkclaims.echo", args=["eta"], countdown=2)
    assert wait_for(lambda: r.hlen("unacked") == 2, 10)
    kill9_tree(w.p)
    time.sleep(1.5)
    py_worker("-c", "2",
              env_extra={"BC_INTEROP_VISIBILITY_TIMEOUT": "1"})
    assert eta.get(timeout=20) == {"args": ["eta"], "kwargs": {}}
    assert late.get(timeout=20) == 5


def test_c_restores_what_killed_python_worker_held(app, c_worker, py_worker,
                                                   r, redis_server):
    """And the other way round: a Python worker killed -9 while holding
    an acks_late task; the C worker's start-up sweep restores it."""
    pw = py_worker()
    late = app.send_task("bulkclaims.sleep", args=[3])
    assert wait_for(lambda: r.hlen("unacked") == 1, 10)
    time.sleep(0.5)
    kill9_tree(pw.p)
    time.sleep(1.5)
    w = c_worker(env_extra={"BULKCLAIMS_CELERY_VISIBILITY_TIMEOUT": "1"})
    assert late.get(timeout=20) == 3
    assert "past the visibility timeout" in w.log()
    assert "(redelivered)" in w.log()
    # acks_late: the message is acknowledged just after the result is
    # stored, so the result can be seen a moment before the ack.
    assert wait_for(lambda: r.hlen("unacked") == 0, 10)


def test_purge_keeps_held_tasks(app, c_worker, r, redis_server):
    w = c_worker()
    held = app.send_task("bulkclaims.echo", args=["held"], countdown=3)
    assert wait_for(lambda: r.hlen("unacked") == 1, 10)
    # Park a message nobody consumes, then purge.
    app.send_task("bulkclaims.echo", args=["x"], queue="parked")
    out = celery_cli(redis_server, "purge", "-f", "-Q", "celery,parked")
    assert out.returncode == 0, out.stderr
    assert r.llen("parked") == 0
    assert held.get(timeout=10) == {"args": ["held"], "kwargs": {}}


def test_broker_db_3(tmp_path, redis_server):
    """Broker on database 3: fanout channels become /3.celeryev and
    /3.celery.pidbox; celery status and a round trip work."""
    env = dict(os.environ,
               BULKCLAIMS_REDIS_URL=redis_server["c_url"] + "?db=3")
    w = Proc([WORKER_BIN, "-d", "--diagnostic-tasks", "-n", "db3@interop"],
             str(tmp_path / "db3.log"), env)
    try:
        r3 = acl_client(redis_server["sock"], redis_server["dir"], db=3)
        assert wait_for(lambda: r3.scard("_kombu.binding.celery.pidbox"), 10)
        p = r3.pubsub()
        p.psubscribe("/3.celeryev/*")
        assert wait_for(lambda: (lambda m: m and m["type"] == "pmessage"
                                 and m)(p.get_message(timeout=0.5)), 8)
        url = redis_server["url"] + "?virtual_host=3"
        out = celery_cli({"url": url}, "inspect", "ping")
        assert "db3@interop" in out.stdout, out.stdout + out.stderr
        tid = subprocess.run([WORKER_BIN, "--publish", "bulkclaims.echo",
                              "--args", "[3]"], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        assert wait_for(lambda: r3.get("celery-task-meta-" + tid), 10)
        p.close()
    finally:
        assert w.stop() == 0


def test_restore_via_named_exchange_binding(app, c_worker, r):
    """An unacked entry published through a named direct exchange is
    restored to the queue its binding names, as kombu's restore does."""
    import base64
    import uuid
    tid, tag = str(uuid.uuid4()), str(uuid.uuid4())
    body = base64.b64encode(b'[["named"], {}, {}]').decode()
    env = {"body": body, "content-encoding": "utf-8",
           "content-type": "application/json",
           "headers": {"task": "bulkclaims.echo", "id": tid},
           "properties": {"delivery_tag": tag, "body_encoding": "base64",
                          "priority": 0,
                          "delivery_info": {"exchange": "ex1",
                                            "routing_key": "rk1"}}}
    r.sadd("_kombu.binding.ex1", b"rk1\x06\x16\x06\x16target")
    r.hset("unacked", tag, json.dumps([env, "ex1", "rk1"]))
    r.zadd("unacked_index", {tag: time.time() - 100})
    c_worker("-Q", "target",
             env_extra={"BULKCLAIMS_CELERY_VISIBILITY_TIMEOUT": "10"})
    assert wait_for(lambda: meta(r, tid), 10)
    assert meta(r, tid)["result"] == {"args": ["named"], "kwargs": {}}
    assert r.hlen("unacked") == 0


def test_more_eta_messages_than_a_process_holds(app, c_worker, r):
    """A process holds at most 64 ETA messages; the rest wait in Redis
    (for any worker) and still run once, after their ETA."""
    w = c_worker()
    rs = [app.send_task("bulkclaims.echo", args=[i], countdown=3)
          for i in range(70)]
    assert wait_for(lambda: r.hlen("unacked") == 64, 10)
    assert r.llen("celery") == 6
    for i, x in enumerate(rs):
        assert x.get(timeout=20) == {"args": [i], "kwargs": {}}
    assert wait_for(lambda: r.hlen("unacked") == 0, 5)
