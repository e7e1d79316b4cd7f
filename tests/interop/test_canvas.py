"""Canvas from Python on the C worker: link,
link_error and chain run; chords are refused with a clear FAILURE."""
import json
import time

import pytest
from celery import chain, chord

from conftest import wait_for


def meta(r, task_id):
    raw = r.get("celery-task-meta-" + task_id)
    return json.loads(raw) if raw else None


def test_chain(app, c_worker, r):
    c_worker()
    s1 = app.signature("bulkclaims.echo", args=[1])
    s2 = app.signature("bulkclaims.echo", args=[2])
    s3 = app.signature("bulkclaims.echo", args=[3])
    res = chain(s1, s2, s3).apply_async()
    want = {"args": [{"args": [{"args": [1], "kwargs": {}}, 2],
                      "kwargs": {}}, 3], "kwargs": {}}
    assert res.get(timeout=15) == want
    first = res.parent.parent
    assert meta(r, first.id)["children"][0][0][0] == res.parent.id
    assert meta(r, res.id)["parent_id"] == res.parent.id


def test_link_callback(app, c_worker, r):
    c_worker()
    cb = app.signature("bulkclaims.echo", args=["cb"])
    res = app.send_task("bulkclaims.echo", args=[7], link=cb)
    assert res.get(timeout=10) == {"args": [7], "kwargs": {}}
    child = meta(r, res.id)["children"][0][0][0]
    assert wait_for(lambda: meta(r, child), 10)
    assert meta(r, child)["result"] == {
        "args": [{"args": [7], "kwargs": {}}, "cb"], "kwargs": {}}
    assert meta(r, child)["parent_id"] == res.id


def test_link_error(app, c_worker, r):
    c_worker()
    eb = app.signature("bulkclaims.echo", args=["eb"])
    res = app.send_task("bulkclaims.fail", args=["boom"], link_error=eb)
    with pytest.raises(Exception):
        res.get(timeout=10)
    # The errback ran with the failed task's id prepended.
    found = wait_for(lambda: [json.loads(r.get(k)) for k in
                              r.keys("celery-task-meta-*")
                              if json.loads(r.get(k)).get("parent_id") ==
                              res.id], 10)
    assert found and found[0]["result"]["args"] == [res.id, "eb"]


def test_chord_refused(app, c_worker, r):
    c_worker()
    header = [app.signature("bulkclaims.echo", args=[i]) for i in range(2)]
    body = app.signature("bulkclaims.echo", args=["body"])
    res = chord(header)(body)
    ids = [t.id for t in res.parent.results]
    assert wait_for(lambda: all(meta(r, i) for i in ids), 10)
    for i in ids:
        m = meta(r, i)
        assert m["status"] == "FAILURE"
        assert m["result"]["exc_type"] == "NotImplementedError"
