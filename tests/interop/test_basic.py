"""Basic Celery interop: Python producer -> C worker, C producer -> Python
worker, remote control and robustness against malformed messages."""
import base64
import json
import os
import signal
import subprocess
import time
import uuid

import pytest
from celery.exceptions import NotRegistered

from conftest import WORKER_BIN, celery_cli, wait_for


def meta(r, task_id):
    raw = r.get("celery-task-meta-" + task_id)
    return json.loads(raw) if raw else None


def test_echo_round_trip(app, c_worker):
    c_worker()
    args = [1, "two", 3.0, None, True, "\u00e9", "\U0001F600",
            2 ** 62, -7, [1, [2, {"x": "y"}]], 1.5e-7]
    kwargs = {"k": "v", "n": [1, 2], "nested": {"a": None}}
    res = app.send_task("bulkclaims.echo", args=args, kwargs=kwargs)
    assert res.get(timeout=10) == {"args": args, "kwargs": kwargs}
    assert res.status == "SUCCESS"


def test_result_meta_shape(app, c_worker, r):
    c_worker()
    res = app.send_task("bulkclaims.echo", args=[1])
    res.get(timeout=10)
    m = meta(r, res.id)
    assert list(m) == ["status", "result", "traceback", "children",
                       "date_done", "task_id"]
    assert m["task_id"] == res.id and m["children"] == []
    assert "+" not in m["date_done"] and "T" in m["date_done"]
    ttl = r.ttl("celery-task-meta-" + res.id)
    assert 86000 < ttl <= 86400


def test_failure_raises_in_python(app, c_worker, r):
    c_worker()
    res = app.send_task("bulkclaims.fail", args=["c side failed"])
    with pytest.raises(Exception) as ei:
        res.get(timeout=10)
    assert type(ei.value).__name__ == "CTaskError"
    assert ei.value.args == ("c side failed",)
    m = meta(r, res.id)
    assert m["status"] == "FAILURE"
    assert m["result"] == {"exc_type": "CTaskError",
                           "exc_message": ["c side failed"],
                           "exc_module": None}
    assert isinstance(m["traceback"], str)


def test_unknown_task_not_registered(app, c_worker, r):
    w = c_worker()
    res = app.send_task("tasks.does_not_exist", args=[1])
    with pytest.raises(NotRegistered):
        res.get(timeout=10)
    m = meta(r, res.id)
    assert m["result"] == {"exc_type": "NotRegistered",
                           "exc_message": ["tasks.does_not_exist"],
                           "exc_module": "celery.exceptions"}
    assert m["traceback"] is None
    assert r.llen("celery") == 0
    # Like Python, the reject (ack) follows the result write.
    assert wait_for(lambda: r.hlen("unacked") == 0 and
                    r.zcard("unacked_index") == 0, 5)
    assert w.p.poll() is None
    # Still serving.
    assert app.send_task("bulkclaims.echo", args=[2]).get(timeout=10) == \
        {"args": [2], "kwargs": {}}


def _envelope(headers, body, props=None, raw_body=False, ctype=None):
    p = {"delivery_tag": str(uuid.uuid4()), "body_encoding": "base64",
         "delivery_info": {"exchange": "", "routing_key": "celery"}}
    if props is not None:
        p = props
    return json.dumps({
        "body": body if raw_body else base64.b64encode(
            body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": ctype or "application/json",
        "headers": headers, "properties": p})


def test_malformed_messages_survived(app, c_worker, r):
    """Spec 9.1: every row, pushed with LPUSH; the C worker survives
    all, removes them, and stores FAILURE where an id is readable."""
    w = c_worker()
    good_body = "[[2, 3], {}, {}]"
    ids = {k: str(uuid.uuid4()) for k in
           ["unreg", "nodecode", "pickle", "badeta", "badexp", "expired",
            "noinfo", "notag", "twoelem", "notask"]}
    tag = lambda: str(uuid.uuid4())
    msgs = [
        _envelope({"task": "no.such", "id": ids["unreg"]}, good_body),
        _envelope({"task": "bulkclaims.echo", "id": ids["nodecode"]},
                  "[[2, 3], {}"),
        _envelope({"task": "bulkclaims.echo", "id": ids["pickle"]},
                  good_body, ctype="application/x-python-serialize"),
        _envelope({"task": "bulkclaims.echo", "id": ids["badeta"],
                   "eta": "not-a-date"}, good_body),
        _envelope({"task": "bulkclaims.echo", "id": ids["badexp"],
                   "expires": "not-a-date"}, good_body),
        _envelope({"task": "bulkclaims.echo", "id": ids["expired"],
                   "expires": "2001-01-01T00:00:00+00:00"}, good_body),
        _envelope({"task": "bulkclaims.echo", "id": ids["noinfo"]},
                  good_body, props={"delivery_tag": tag(),
                                    "body_encoding": "base64"}),
        _envelope({"task": "bulkclaims.echo", "id": ids["notag"]},
                  good_body, props={"body_encoding": "base64",
                                    "delivery_info": {"exchange": "",
                                                      "routing_key": "celery"}}),
        _envelope({"task": "bulkclaims.echo", "id": ids["twoelem"]},
                  "[[2, 3], {}]"),
        _envelope({"id": ids["notask"]}, good_body),
        "this is not json at all {",
        "\x00\x01\x02\xff garbage",
        json.dumps([1, 2, 3]),
        "",
    ]
    for m in msgs:
        r.lpush("celery", m)
    # A good one after all the bad ones proves the worker is alive.
    res = app.send_task("bulkclaims.echo", args=["after"])
    assert res.get(timeout=15) == {"args": ["after"], "kwargs": {}}
    assert w.p.poll() is None
    assert r.llen("celery") == 0
    assert r.hlen("unacked") == 0
    assert meta(r, ids["unreg"])["result"]["exc_type"] == "NotRegistered"
    assert meta(r, ids["expired"])["status"] == "REVOKED"
    assert meta(r, ids["expired"])["result"]["exc_message"] == ["expired"]
    for k in ["nodecode", "pickle", "badeta", "badexp", "noinfo", "notag",
              "twoelem", "notask"]:
        m = meta(r, ids[k])
        assert m is not None and m["status"] == "FAILURE", k
    # No payload content in the log (it may hold PHI).
    assert "[[2, 3]" not in w.log()


def test_c_producer_to_python_worker(app, py_worker, r, redis_server):
    """The C producer (bulkclaims-worker --publish) -> a real Python
    worker runs it without warnings; the message matches a Python twin."""
    pw = py_worker()
    env = dict(os.environ, BULKCLAIMS_REDIS_URL=redis_server["c_url"])
    out = subprocess.run(
        [WORKER_BIN, "--publish", "bulkclaims.echo", "--args",
         '[1, "x", "\u00e9"]', "--kwargs", '{"a": {"b": null}}'],
        capture_output=True, text=True, env=env, check=True)
    task_id = out.stdout.strip()
    assert wait_for(lambda: meta(r, task_id), 15)
    m = meta(r, task_id)
    assert m["status"] == "SUCCESS"
    assert m["result"] == {"args": [1, "x", "\u00e9"],
                           "kwargs": {"a": {"b": None}}}
    log = pw.log()
    assert "Task bulkclaims.echo[%s] received" % task_id in log
    bad = [l for l in log.splitlines()
           if ("WARNING" in l or "ERROR" in l or "Warning" in l)
           and "superuser" not in l and "warnings.warn" not in l]
    assert bad == []
    assert r.sismember("_kombu.binding.celery",
                       b"celery\x06\x16\x06\x16celery")


def test_c_envelope_matches_python_twin(app, r, redis_server):
    """Same headers/properties keys, same list names for priorities."""
    env = dict(os.environ, BULKCLAIMS_REDIS_URL=redis_server["c_url"])
    for prio, suffix in [(0, b""), (3, b"\x06\x163"), (5, b"\x06\x163"),
                         (6, b"\x06\x166"), (9, b"\x06\x169")]:
        r.flushall()
        app.send_task("bulkclaims.echo", args=(1,), queue="twin",
                      priority=prio, countdown=30, expires=120)
        py = json.loads(r.rpop(b"twin" + suffix))
        subprocess.run([WORKER_BIN, "--publish", "bulkclaims.echo",
                        "--args", "[1]", "-Q", "twin", "--priority",
                        str(prio), "--countdown", "30", "--expires", "120"],
                       env=env, check=True, capture_output=True)
        c = json.loads(r.rpop(b"twin" + suffix))
        assert list(c) == list(py)
        assert list(c["headers"]) == list(py["headers"])
        assert list(c["properties"]) == list(py["properties"])
        assert c["properties"]["priority"] == prio
        assert c["body"] == py["body"]
        assert c["headers"]["argsrepr"] == py["headers"]["argsrepr"]
        assert c["headers"]["kwargsrepr"] == py["headers"]["kwargsrepr"]


def test_status_and_inspect(c_worker, redis_server):
    w = c_worker()
    out = celery_cli(redis_server, "status")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "%s: OK" % w.node in out.stdout
    out = celery_cli(redis_server, "inspect", "ping", "-d", w.node)
    assert out.returncode == 0 and "pong" in out.stdout
    out = celery_cli(redis_server, "inspect", "ping", "-d", "nobody@x")
    assert out.returncode != 0
    out = celery_cli(redis_server, "inspect", "registered")
    assert "bulkclaims.echo" in out.stdout
    out = celery_cli(redis_server, "inspect", "stats", "--json")
    stats = json.loads(out.stdout)[w.node]
    assert stats["pool"]["max-concurrency"] == 1
    assert stats["pid"] == w.p.pid


def test_sigterm_exits_zero(c_worker, r):
    w = c_worker()
    assert w.stop() == 0
    assert "stopped" in w.log()
    assert not r.sismember("_kombu.binding.celery.pidbox",
                           b"\x06\x16\x06\x16" + w.node.encode() +
                           b".celery.pidbox")


def test_integers_beyond_64_bits_refused(app, c_worker, r):
    """json-c would clamp 2**64 silently; the worker refuses the message
    instead of running the task on a changed argument."""
    c_worker()
    ok = app.send_task("bulkclaims.echo", args=[2 ** 63, -2 ** 63 + 1])
    assert ok.get(timeout=10)["args"] == [2 ** 63, -2 ** 63 + 1]
    bad = app.send_task("bulkclaims.echo", args=[2 ** 64])
    with pytest.raises(Exception) as ei:
        bad.get(timeout=10)
    assert type(ei.value).__name__ == "InvalidTaskError"


def test_crashed_process_worker_lost(app, c_worker, r):
    w = c_worker()
    res = app.send_task("bulkclaims.crash")
    with pytest.raises(Exception) as ei:
        res.get(timeout=10)
    assert type(ei.value).__name__ == "WorkerLostError"
    assert wait_for(lambda: r.hlen("unacked") == 0, 5)
    assert app.send_task("bulkclaims.echo", args=[1]).get(timeout=10)
    assert w.p.poll() is None
