"""Python and C workers on one queue: 10,000 tasks,
each executed exactly once, unacked empty at the end; and a Python worker
starting beside the C worker completes mingle."""
import re
import time

from conftest import wait_for

N = 10000


def test_mingle_beside_c_worker(app, c_worker, py_worker):
    """With mingle on, the Python worker's hello gets our answer."""
    c_worker()
    pw = py_worker(mingle=True)
    assert "mingle: sync with 1 nodes" in pw.log()
    assert "mingle: sync complete" in pw.log()


def test_python_and_c_share_a_queue(app, c_worker, py_worker, r):
    ids = []
    with app.producer_or_acquire() as prod:
        for i in range(N):
            ids.append(app.send_task("bulkclaims.echo", args=[i],
                                     producer=prod).id)
    cw = c_worker("--concurrency", "2")
    pw = py_worker()
    keys = ["celery-task-meta-" + i for i in ids]

    def done():
        n = 0
        for k in range(0, N, 1000):
            n += sum(1 for v in r.mget(keys[k:k + 1000]) if v)
        return n == N

    assert wait_for(done, 300, 0.5)
    assert wait_for(lambda: r.hlen("unacked") == 0, 10)
    assert r.llen("celery") == 0
    c_ids = re.findall(r"received task bulkclaims\.echo\[([0-9a-f-]+)\]",
                       cw.log())
    p_ids = re.findall(r"Task bulkclaims\.echo\[([0-9a-f-]+)\] received",
                       pw.log())
    assert len(c_ids) == len(set(c_ids))
    assert len(p_ids) == len(set(p_ids))
    assert not set(c_ids) & set(p_ids)
    assert len(c_ids) + len(p_ids) == N
    assert len(c_ids) > 0 and len(p_ids) > 0
