#!/usr/bin/python3
"""Peak memory and CPU time of the stack's processes, for scripts/bench.

    procmon.py RUNDIR PGDATA OUT.json [INTERVAL_S]

Every INTERVAL_S (default 0.1) it re-reads the pidfiles in RUNDIR
(nginx, fcgi, worker, worker2.., payer-sim, redis) and PGDATA's
postmaster.pid, walks each one's children, and reads VmRSS and VmHWM
from /proc/PID/status and utime+stime from /proc/PID/stat.  So processes
restarted during a phase are followed.  On SIGTERM or SIGINT it writes
OUT.json: per role, the largest sampled VmRSS, VmHWM, RssAnon and
RssShmem (kB) of any one of its processes (peak_VmRSS, ...), the process
count and the CPU seconds the role used while watched, then exits.
"""
import glob
import json
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    out = []
    for f in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(f) as fh:
                out += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return out


def tree(pid):
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo += children(p)
    return seen


STATUS_KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssShmem")


def status_kb(pid):
    v = dict.fromkeys(STATUS_KEYS, 0)
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in v:
                    v[k] = int(line.split()[1])
    except OSError:
        return None
    return v


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime 15
    return int(fields[11]) + int(fields[12])


def roles(rundir, pgdata):
    r = {}
    for f in sorted(glob.glob(os.path.join(rundir, "*.pid"))):
        name = os.path.basename(f)[:-4]
        if name.endswith(".supervisor"):
            continue
        r[name] = read_pid(f)
    r["postgres"] = read_pid(os.path.join(pgdata, "postmaster.pid"))
    return {k: v for k, v in r.items() if v}


def main():
    rundir, pgdata, out = sys.argv[1:4]
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
    procs = {}   # pid -> dict
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    first = True
    while not stop:
        for role, root in roles(rundir, pgdata).items():
            for pid in tree(root):
                st = status_kb(pid)
                cpu = cpu_ticks(pid)
                if st is None or cpu is None:
                    continue
                p = procs.get(pid)
                if p is None:
                    # a process born while watched counts from zero
                    p = procs[pid] = dict.fromkeys(STATUS_KEYS, 0)
                    p.update(role=role, cpu=cpu,
                             cpu0=cpu if first else 0)
                for k in STATUS_KEYS:
                    p[k] = max(p[k], st[k])
                p["cpu"] = cpu
        first = False
        time.sleep(interval)
    res = {}
    for pid, p in procs.items():
        r = res.setdefault(p["role"], {"processes": 0, "cpu_s": 0.0})
        for k in STATUS_KEYS:
            r["peak_" + k] = max(r.get("peak_" + k, 0), p[k])
        r["processes"] += 1
        r["cpu_s"] += (p["cpu"] - p["cpu0"]) / TICK
    with open(out + ".tmp", "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
