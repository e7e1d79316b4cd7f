#!/usr/bin/python3
"""Throughput of 10,000 bulkclaims.echo tasks: C worker vs Python worker,
both with concurrency N on the same machine.

    /usr/bin/python3 tests/interop/bench_echo.py [N_TASKS] [CONCURRENCY]

Prints tasks/s for each and the ratio.  Time runs from worker start to
the last result stored (start-up included for both)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKER_BIN = os.environ.get(
    "BC_WORKER_BIN", str(ROOT / "build" / "worker" / "bulkclaims-worker"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
CONC = sys.argv[2] if len(sys.argv) > 2 else "1"

d = tempfile.mkdtemp(prefix="bc-bench-")
sock = os.path.join(d, "redis.sock")
rs = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                       "--save", "", "--appendonly", "no", "--dir", d],
                      stdout=subprocess.DEVNULL)
while not os.path.exists(sock):
    time.sleep(0.05)
os.environ["BC_INTEROP_BROKER"] = "redis+socket://" + sock
sys.path.insert(0, str(HERE))
import interop_app  # noqa: E402
import redis  # noqa: E402

app = interop_app.app
r = redis.Redis(unix_socket_path=sock)


def run(cmd, env):
    r.flushall()
    ids = []
    with app.producer_or_acquire() as prod:
        for i in range(N):
            ids.append(app.send_task("bulkclaims.echo", args=[i],
                                     producer=prod, ignore_result=False).id)
    keys = ["celery-task-meta-" + i for i in ids]
    t0 = time.time()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    while True:
        if r.llen("celery") == 0 and r.exists(keys[-1]):
            if all(r.mget(keys[k:k + 1000]).count(None) == 0
                   for k in range(0, N, 1000)):
                break
        time.sleep(0.02)
    dt = time.time() - t0
    p.terminate()
    p.wait()
    return dt


env = dict(os.environ, BULKCLAIMS_REDIS_URL="unix://" + sock,
           PYTHONPATH=str(HERE), C_FORCE_ROOT="1")
try:
    tc = run([WORKER_BIN, "--diagnostic-tasks", "--concurrency", CONC], env)
    tp = run([sys.executable, "-m", "celery", "-A", "interop_app", "worker",
              "-l", "warning", "-c", CONC, "--without-mingle",
              "--without-gossip"], env)
    print("tasks=%d concurrency=%s" % (N, CONC))
    print("C worker:      %.2f s  %.0f tasks/s" % (tc, N / tc))
    print("Python worker: %.2f s  %.0f tasks/s" % (tp, N / tp))
    print("ratio C/Python: %.1fx" % (tp / tc))
finally:
    rs.terminate()
    rs.wait()
    shutil.rmtree(d, ignore_errors=True)
