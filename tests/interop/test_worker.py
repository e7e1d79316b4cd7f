"""C worker behaviour seen from Python: ETA, expiry,
priorities, queues, time limits, retries, concurrency, revoke, events,
inspect, restore."""
import base64
import json
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest
from celery.exceptions import TaskRevokedError

from conftest import WORKER_BIN, celery_cli, kill9_tree, wait_for


def meta(r, task_id):
    raw = r.get("celery-task-meta-" + task_id)
    return json.loads(raw) if raw else None


def test_countdown_held_then_run_once(app, c_worker, r):
    w = c_worker()
    t0 = time.time()
    res = app.send_task("bulkclaims.echo", args=["later"], countdown=3)
    time.sleep(1)
    assert meta(r, res.id) is None
    assert r.hlen("unacked") == 1          # held, visible in unacked
    assert r.llen("celery") == 0
    assert res.get(timeout=10) == {"args": ["later"], "kwargs": {}}
    assert time.time() - t0 >= 2.9
    time.sleep(0.3)
    assert r.hlen("unacked") == 0
    assert w.log().count("received task bulkclaims.echo[%s]" % res.id) == 1


def test_expired_before_start(app, c_worker, r):
    res = app.send_task("bulkclaims.echo", args=[1], expires=1)
    time.sleep(2)
    c_worker()
    with pytest.raises(TaskRevokedError):
        res.get(timeout=10)
    m = meta(r, res.id)
    assert m["status"] == "REVOKED"
    assert m["result"] == {"exc_type": "TaskRevokedError",
                           "exc_message": ["expired"],
                           "exc_module": "celery.exceptions"}


def test_priorities_lower_number_first(app, c_worker, r):
    ids = {}
    for p in [9, 0, 5, 6, 3]:
        ids[p] = app.send_task("bulkclaims.echo", args=[p], priority=p).id
    c_worker()
    assert wait_for(lambda: all(meta(r, i) for i in ids.values()), 15)
    done = sorted(ids, key=lambda p: meta(r, ids[p])["date_done"])
    assert done[0] == 0 and done[-1] == 9
    assert done.index(6) > done.index(3) and done.index(6) > done.index(5)


def test_other_queues_round_robin(app, c_worker, r):
    a = [app.send_task("bulkclaims.echo", args=[i], queue="qa").id
         for i in range(3)]
    b = [app.send_task("bulkclaims.echo", args=[i], queue="qb").id
         for i in range(3)]
    c_worker("-Q", "qa,qb")
    assert wait_for(lambda: all(meta(r, i) for i in a + b), 15)
    order = sorted(a + b, key=lambda i: meta(r, i)["date_done"])
    # Alternating queues: never two of the same queue first.
    assert (order[0] in a) != (order[1] in a)


def limited_sleep_meta(app, r, seconds, exc, **limit):
    """Runs bulkclaims.sleep(seconds) under limit, checks that it failed
    with the exception class exc and returns its result meta."""
    res = app.send_task("bulkclaims.sleep", args=[seconds], **limit)
    with pytest.raises(Exception) as ei:
        res.get(timeout=10)
    assert type(ei.value).__name__ == exc
    return meta(r, res.id)


def test_soft_time_limit(app, c_worker, r):
    c_worker()
    m = limited_sleep_meta(app, r, 5, "SoftTimeLimitExceeded",
                           soft_time_limit=1)
    assert m["result"]["exc_module"] == "billiard.exceptions"


def test_hard_time_limit_kills_and_recovers(app, c_worker, r):
    w = c_worker()
    m = limited_sleep_meta(app, r, 30, "TimeLimitExceeded", time_limit=1)
    assert m["result"]["exc_type"] == "TimeLimitExceeded"
    assert m["result"]["exc_module"] == "billiard.exceptions"
    assert m["traceback"] is None
    # The replacement process serves the next task.
    assert app.send_task("bulkclaims.echo", args=[1]).get(timeout=10)
    assert r.hlen("unacked") == 0
    assert w.p.poll() is None


def test_retry_republishes_then_fails(app, c_worker, r):
    w = c_worker("-E")
    states = []
    res = app.send_task("bulkclaims.fail", args=["flaky"],
                        kwargs={"retry": True, "countdown": 1})
    with pytest.raises(Exception) as ei:
        res.get(timeout=20)
    assert type(ei.value).__name__ == "CTaskError"
    log = w.log()
    # max_retries 3: the original run and three retries.
    assert log.count("received task bulkclaims.fail[%s]" % res.id) == 4
    assert "retry 3 in 1s" in log
    assert meta(r, res.id)["status"] == "FAILURE"


def test_retry_message_shape(app, r, redis_server):
    """The republished message keeps the id, bumps retries, sets
    parent_id and an ETA, as Celery's Task.retry does; catch it before a
    worker does."""
    env = dict(os.environ, BULKCLAIMS_REDIS_URL=redis_server["c_url"])
    res = app.send_task("bulkclaims.fail", args=["x"],
                        kwargs={"retry": True, "countdown": 60})
    # Run one worker just long enough to process the first delivery.
    w = subprocess.Popen([WORKER_BIN, "--diagnostic-tasks", "-n",
                          "oneshot@interop"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: meta(r, res.id) and
                    meta(r, res.id)["status"] == "RETRY", 10)
    m = meta(r, res.id)
    assert m["children"] == [[[res.id, None], None]]
    assert m["date_done"] is None
    # The worker holds the retry (ETA in 60 s); stop it: it restores it.
    assert wait_for(lambda: r.hlen("unacked") == 1, 10)
    w.send_signal(signal.SIGTERM)
    assert w.wait(15) == 0
    msg = json.loads(r.rpop("celery"))
    h = msg["headers"]
    assert h["id"] == res.id and h["retries"] == 1
    assert h["parent_id"] == res.id and h["root_id"] == res.id
    assert h["eta"] is not None and h["redelivered"] is True
    body = json.loads(base64.b64decode(msg["body"]))
    assert body[0] == ["x"] and body[1] == {"retry": True, "countdown": 60}


def test_python_retry_message_consumed(app, c_worker, r):
    """Spec 5.6's retry message as a Python worker publishes it (extra
    properties origin/replaced_task_nesting) runs on the C worker."""
    c_worker()
    tid = str(uuid.uuid4())
    body = base64.b64encode(json.dumps(
        [["py"], {}, {"callbacks": None, "errbacks": None, "chain": None,
                      "chord": None}]).encode()).decode()
    msg = {"body": body, "content-encoding": "utf-8",
           "content-type": "application/json",
           "headers": {"lang": "py", "task": "bulkclaims.echo", "id": tid,
                       "shadow": None, "eta": None, "expires": None,
                       "group": None, "group_index": None, "retries": 1,
                       "timelimit": [None, None], "root_id": tid,
                       "parent_id": tid, "argsrepr": "('py',)",
                       "kwargsrepr": "{}", "origin": "gen1@worker-host",
                       "ignore_result": False},
           "properties": {"correlation_id": tid, "reply_to": str(uuid.uuid4()),
                          "replaced_task_nesting": 0,
                          "origin": "gen2@producer-host", "delivery_mode": 2,
                          "delivery_info": {"exchange": "",
                                            "routing_key": "celery"},
                          "priority": 0, "body_encoding": "base64",
                          "delivery_tag": str(uuid.uuid4())}}
    r.lpush("celery", json.dumps(msg))
    assert wait_for(lambda: meta(r, tid), 10)
    m = meta(r, tid)
    assert m["status"] == "SUCCESS" and m["parent_id"] == tid


def test_concurrency_runs_in_parallel(app, c_worker, r):
    c_worker("--concurrency", "3")
    t0 = time.time()
    rs = [app.send_task("bulkclaims.sleep", args=[1.5]) for _ in range(3)]
    for x in rs:
        assert x.get(timeout=10) == 1.5
    assert time.time() - t0 < 3.5


def test_inspect_active_scheduled_revoke(app, c_worker, r, redis_server):
    w = c_worker()
    running = app.send_task("bulkclaims.sleep", args=[3])
    later = app.send_task("bulkclaims.echo", args=[1], countdown=10)
    assert wait_for(lambda: r.hlen("unacked") >= 1, 5)
    time.sleep(0.5)
    out = celery_cli(redis_server, "inspect", "active", "--json")
    active = json.loads(out.stdout)[w.node]
    assert [a["id"] for a in active] == [running.id]
    assert active[0]["name"] == "bulkclaims.sleep"
    assert active[0]["delivery_info"]["routing_key"] == "celery"
    out = celery_cli(redis_server, "inspect", "scheduled", "--json")
    sched = json.loads(out.stdout)[w.node]
    # The ETA message is held by the same process, behind the sleep:
    # it is popped only when the process is free, so it may not be
    # scheduled yet.  Revoke it either way.
    assert all(s["request"]["id"] == later.id for s in sched)
    out = celery_cli(redis_server, "control", "revoke", later.id)
    assert "flagged as revoked" in out.stdout
    with pytest.raises(TaskRevokedError):
        later.get(timeout=20)
    assert running.get(timeout=10) == 3
    out = celery_cli(redis_server, "inspect", "revoked", "--json")
    assert later.id in json.loads(out.stdout)[w.node]


def test_control_shutdown(app, c_worker, r, redis_server):
    w = c_worker()
    held = app.send_task("bulkclaims.echo", args=[1], countdown=60)
    assert wait_for(lambda: r.hlen("unacked") == 1, 5)
    celery_cli(redis_server, "control", "shutdown")
    assert w.p.wait(15) == 0
    # The held ETA message went back to the queue, marked redelivered.
    msg = json.loads(r.lindex("celery", -1))
    assert msg["headers"]["id"] == held.id
    assert msg["headers"]["redelivered"] is True
    assert r.hlen("unacked") == 0


def test_unknown_control_method_error(c_worker, redis_server, app):
    w = c_worker()
    rep = app.control.broadcast("no_such_command", reply=True, timeout=1,
                                destination=[w.node])
    assert rep == [{w.node: {"error": "KeyError('no_such_command')"}}]


def listen_events(app, handler, stop):
    """Feeds every Celery event to handler in a daemon thread, until an
    event comes after stop is set."""
    def listen():
        with app.connection() as conn:
            recv = app.events.Receiver(conn, handlers={"*": handler})
            try:
                for _ in recv.itercapture(limit=None, timeout=None,
                                          wakeup=False):
                    if stop.is_set():
                        break
            except Exception:
                pass

    threading.Thread(target=listen, daemon=True).start()


def test_events_seen_by_state(app, c_worker, redis_server):
    """An EventReceiver + State sees the C worker alive and its tasks."""
    from celery.events.state import State
    state = State()
    stop = threading.Event()
    got = []

    listen_events(app, lambda e: (got.append(e), state.event(e)), stop)
    time.sleep(0.5)
    w = c_worker("-E")
    res = app.send_task("bulkclaims.echo", args=[1])
    res.get(timeout=10)
    assert wait_for(lambda: any(e["type"] == "task-succeeded" for e in got), 5)
    assert wait_for(lambda: any(e["type"] == "worker-heartbeat"
                                for e in got), 5)
    worker = state.workers.get(w.node)
    assert worker is not None and worker.alive
    task = state.tasks.get(res.id)
    assert task is not None and task.state == "SUCCESS"
    types = [e["type"] for e in got if e.get("uuid") == res.id]
    assert types == ["task-received", "task-started", "task-succeeded"]
    w.stop()
    assert wait_for(lambda: any(e["type"] == "worker-offline"
                                for e in got), 5)
    stop.set()


def test_restore_after_kill9(app, c_worker, r, redis_server):
    """A C worker killed with -9 while holding an acks_late task and an
    ETA task: a new worker with a short visibility timeout restores and
    runs both."""
    w = c_worker("--concurrency", "2")
    late = app.send_task("bulkclaims.sleep", args=[6])   # acks_late
    eta = app.send_task("bulkclaims.echo", args=["eta"], countdown=2)
    assert wait_for(lambda: r.hlen("unacked") == 2, 10)
    kill9_tree(w.p)
    assert r.hlen("unacked") == 2
    time.sleep(1.2)
    c_worker("--concurrency", "2",
             env_extra={"BULKCLAIMS_CELERY_VISIBILITY_TIMEOUT": "1"})
    assert eta.get(timeout=15) == {"args": ["eta"], "kwargs": {}}
    assert late.get(timeout=15) == 6
    assert r.hlen("unacked") == 0


def test_revoke_terminate_running(app, c_worker, r, redis_server):
    w = c_worker()
    res = app.send_task("bulkclaims.sleep", args=[30])
    assert wait_for(lambda: meta(r, res.id) and
                    meta(r, res.id)["status"] == "STARTED", 10)
    app.control.revoke(res.id, terminate=True)
    with pytest.raises(TaskRevokedError):
        res.get(timeout=10)
    assert meta(r, res.id)["result"]["exc_message"] == ["terminated"]
    assert wait_for(lambda: r.hlen("unacked") == 0, 5)
    # The process was replaced and serves the next task.
    assert app.send_task("bulkclaims.echo", args=[1]).get(timeout=10)
    assert w.p.poll() is None


def test_long_eta_not_duplicated_by_short_visibility(app, c_worker, r):
    """Spec 2.6 hazard: ETA (6 s) > visibility timeout (2 s).  The C
    worker keeps its held message's score fresh, so its own sweep (every
    second here) never restores it: it runs exactly once."""
    w = c_worker(env_extra={"BULKCLAIMS_CELERY_VISIBILITY_TIMEOUT": "2",
                            "BULKCLAIMS_WORKER_RESTORE_INTERVAL": "1"})
    res = app.send_task("bulkclaims.echo", args=["once"], countdown=6)
    assert res.get(timeout=15) == {"args": ["once"], "kwargs": {}}
    time.sleep(1.5)
    assert w.log().count("received task bulkclaims.echo[%s]" % res.id) == 1
    assert "past the visibility timeout" not in w.log()


def test_inspect_shapes(app, c_worker, r):
    """reserved, scheduled, clock, query_task, active_queues, report have
    the shapes Python's celery inspect returns."""
    w = c_worker()
    running = app.send_task("bulkclaims.sleep", args=[2])
    assert wait_for(lambda: meta(r, running.id), 10)   # STARTED
    i = app.control.inspect(destination=[w.node], timeout=1)
    assert i.reserved() == {w.node: []}
    assert i.scheduled() == {w.node: []}
    assert isinstance(i.clock()[w.node]["clock"], int)
    q = i.query_task(running.id)[w.node]
    assert q[running.id][0] == "active"
    assert q[running.id][1]["id"] == running.id
    aq = i.active_queues()[w.node]
    assert aq[0]["name"] == "celery" and aq[0]["exchange"]["type"] == "direct"
    assert "ok" in i.report()[w.node]
    assert running.get(timeout=10) == 2


def test_worker_not_alive_after_kill9(app, c_worker):
    """celery.events.state: alive while heartbeats come, not alive
    2 x freq after kill -9."""
    from celery.events.state import State
    state = State()
    stop = threading.Event()

    listen_events(app, state.event, stop)
    time.sleep(0.5)
    w = c_worker()
    assert wait_for(lambda: state.workers.get(w.node) is not None and
                    state.workers[w.node].alive, 6)
    kill9_tree(w.p)
    time.sleep(4.5)
    assert not state.workers[w.node].alive
    stop.set()


def test_due_eta_not_stuck_behind_long_task(app, c_worker, r):
    """Concurrency 2: process X holds an ETA task and then runs a long
    task.  When the ETA is due, the main process hands the message back
    to the queue and the other process runs it as soon as it is free,
    exactly once, instead of after X's long task."""
    w = c_worker("--concurrency", "2")
    eta = app.send_task("bulkclaims.echo", args=["eta"], countdown=2)
    assert wait_for(lambda: r.hlen("unacked") == 1, 5)
    time.sleep(0.2)
    t0 = time.time()
    # Redis serves the longest-waiting BRPOP first: Y, then X (which
    # re-issued its BRPOP after taking the ETA message).
    short = app.send_task("bulkclaims.sleep", args=[3])
    long = app.send_task("bulkclaims.sleep", args=[12])
    assert eta.get(timeout=20) == {"args": ["eta"], "kwargs": {}}
    assert time.time() - t0 < 8
    log = w.log()
    assert "back to the queue" in log
    assert log.count("task bulkclaims.echo[%s] succeeded" % eta.id) == 1
    assert short.get(timeout=10) == 3
    assert long.get(timeout=20) == 12
    time.sleep(0.5)
    assert "was handed to another process" in w.log()
    assert w.log().count("task bulkclaims.echo[%s] succeeded" % eta.id) == 1
    assert wait_for(lambda: r.hlen("unacked") == 0, 5)


def test_warm_shutdown_requeues_stoppable_task(app, c_worker, r):
    """A long acks_late task that stops on warm shutdown and asks for a
    retry goes back to the queue unchanged (retries not counted)."""
    w = c_worker()
    res = app.send_task("bulkclaims.sleep", args=[60],
                        kwargs={"stoppable": True})
    assert wait_for(lambda: meta(r, res.id) and
                    meta(r, res.id)["status"] == "STARTED", 10)
    t0 = time.time()
    assert w.stop() == 0
    assert time.time() - t0 < 5
    msg = json.loads(r.lindex("celery", -1))
    assert msg["headers"]["id"] == res.id
    assert msg["headers"]["retries"] == 0
    assert msg["headers"]["redelivered"] is True
    assert meta(r, res.id)["status"] == "STARTED"
    assert r.hlen("unacked") == 0
    r.delete("celery")


def test_second_sigterm_is_cold_shutdown(app, c_worker, r):
    """Warm shutdown waits for the running task; a second SIGTERM stops
    at once (exit 1), leaving the acks_late message in unacked for a
    visibility restore."""
    w = c_worker()
    res = app.send_task("bulkclaims.sleep", args=[30])
    assert wait_for(lambda: meta(r, res.id) and
                    meta(r, res.id)["status"] == "STARTED", 10)
    w.p.send_signal(signal.SIGTERM)
    time.sleep(1.5)
    assert w.p.poll() is None          # still finishing the task
    w.p.send_signal(signal.SIGTERM)
    assert w.p.wait(5) == 1
    assert r.hlen("unacked") == 1
    assert "cold shutdown" in w.log()
    r.delete("unacked", "unacked_index")


def test_sigquit_cold_shutdown_when_idle(c_worker):
    w = c_worker()
    w.p.send_signal(signal.SIGQUIT)
    assert w.p.wait(5) == 1


def test_control_time_limit_and_conf(app, c_worker, r, redis_server):
    w = c_worker()
    rep = app.control.time_limit("bulkclaims.sleep", soft=1, hard=5,
                                 reply=True, destination=[w.node])
    assert rep == [{w.node: {"ok": "time limits set successfully"}}]
    res = app.send_task("bulkclaims.sleep", args=[4])
    with pytest.raises(Exception) as ei:
        res.get(timeout=10)
    assert type(ei.value).__name__ == "SoftTimeLimitExceeded"
    rep = app.control.time_limit("no.such", soft=1, reply=True,
                                 destination=[w.node])
    assert rep == [{w.node: {"error": "unknown task"}}]
    out = celery_cli(redis_server, "inspect", "conf", "--json")
    assert json.loads(out.stdout)[w.node]["task_serializer"] == "json"


def test_rate_limit(app, c_worker, r):
    """control rate_limit 2/s: five tasks take at least two seconds."""
    w = c_worker("--concurrency", "2")
    rep = app.control.rate_limit("bulkclaims.echo", "2/s", reply=True,
                                 destination=[w.node])
    assert rep == [{w.node: {"ok": "new rate limit set successfully"}}]
    t0 = time.time()
    rs = [app.send_task("bulkclaims.echo", args=[i]) for i in range(5)]
    for i, x in enumerate(rs):
        assert x.get(timeout=15) == {"args": [i], "kwargs": {}}
    assert time.time() - t0 >= 1.9
    rep = app.control.rate_limit("bulkclaims.echo", "bad", reply=True,
                                 destination=[w.node])
    assert "error" in rep[0][w.node]
    app.control.rate_limit("bulkclaims.echo", None, reply=True,
                           destination=[w.node])
    t0 = time.time()
    rs = [app.send_task("bulkclaims.echo", args=[i]) for i in range(5)]
    for x in rs:
        x.get(timeout=10)
    assert time.time() - t0 < 1.5
