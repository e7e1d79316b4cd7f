#!/usr/bin/python3
"""Renders scripts/bench's raw outputs (var/bench/out/) as Markdown.

    report.py OUTDIR > results.md

Every figure comes from a file the benchmark wrote in this run; the only
constants here are the targets quoted from issues 4 and 9.
"""
import glob
import json
import os
import re
import statistics
import sys

OUT = sys.argv[1]


def path(name):
    return os.path.join(OUT, name)


def exists(name):
    return os.path.exists(path(name))


def lines(name):
    with open(path(name)) as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def load(name):
    with open(path(name)) as f:
        return json.load(f)


def kv(name):
    d = {}
    for l in lines(name):
        k, _, v = l.partition("=")
        d[k] = v
    return d


def fnum(x, digits=0):
    return "{:,.{}f}".format(x, digits)


def ms(seconds):
    return "%.1f ms" % (seconds * 1000) if seconds < 10 else \
        "%.2f s" % seconds


def dur(seconds):
    return "%.0f ms" % (seconds * 1000) if seconds < 1 else "%.2f s" % seconds


def idle(n):
    if not exists("idle-%s.txt" % n):
        return ""
    d = dict(x.split("=") for x in lines("idle-%s.txt" % n)[0].split())
    return " (before: CPU %s %% idle, load %s)" % (d["idle"], d["load"])


def retried(name):
    """Rows the payer engine retried in the jobs of NAME.json (from the
    database, NAME.attempts), as text: "0", or "63 (up to 2 attempts)"."""
    f = name[:-len(".json")] + ".attempts"
    if not exists(f):
        return "?"
    n = mx = 0
    for l in lines(f):
        _, r, m_ = l.split()
        n += int(r)
        mx = max(mx, int(m_))
    return "%d" % n if n == 0 else "**%d** (up to %d attempts)" % (n, mx)


def mib(kb):
    return "%.1f" % (kb / 1024.0)


out = []
w = out.append

m = kv("machine.txt")
w("Measured %s on %s × %s, %s GiB RAM, kernel %s; commit %s; nginx %s, "
  "PostgreSQL %s, Redis %s, wrk %s. Other PostgreSQL clusters running on "
  "the machine: %s. Whole run: %s s."
  % (m["date"], m["nproc"], m["model"],
     fnum(int(m["mem_kb"]) / 1048576.0, 1), m["kernel"], m["commit"],
     m["nginx"], m["postgres"], m["redis"], m["wrk"],
     m["other_pg_clusters"],
     lines("seconds")[0] if exists("seconds") else "?"))
w("")

# 1. upload ----------------------------------------------------------------
w("**1. Upload latency** through nginx (HTTPS, demo token), curl "
  "`time_total`, one new connection per upload, after one warm-up%s. "
  "`TLS` is curl's `time_appconnect` (TCP + TLS handshake); `app` is the "
  "FastCGI app's own time (its access log `ms=`): reading the multipart "
  "body nginx wrote, validating, `COPY`, publishing the task."
  % idle(1))
w("")
w("| file | bytes | rows | runs | median | min – max | TLS median | "
  "app median | target |")
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for f, target in (("small", "< 5 ms"), ("big", "< 1 s")):
    if not exists("upload-%s.txt" % f):
        continue
    t = [float(l.split()[1]) for l in lines("upload-%s.txt" % f)]
    a = [int(x) for x in lines("upload-%s.fcgi-ms.txt" % f)]
    tls = [float(l.split()[2]) for l in lines("upload-%s.txt" % f)]
    w("| %s | %s | %s | %d | **%s** | %s – %s | %s | %s | %s |" % (
        f == "small" and "~1 KB" or "~10 MB", fnum(int(lines(
            "upload-%s.bytes" % f)[0])), fnum(int(lines(
                "upload-%s.rows" % f)[0])), len(t), ms(statistics.median(t)),
        ms(min(t)), ms(max(t)), ms(statistics.median(tls)),
        ("%d ms" % statistics.median(a)) if a else "?", target))
w("")

# 2. wrk -------------------------------------------------------------------
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def lat_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)$", s)
    return float(m.group(1)) * UNITS[m.group(2)]


runs = []
for f in sorted(glob.glob(path("wrk-[0-9]*.txt"))):
    txt = open(f).read()
    r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", txt).group(1))}
    for p in ("50", "99"):
        r[p] = lat_ms(re.search(r"^\s+%s%%\s+(\S+)" % p, txt, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
    err = re.search(r"Socket errors: (.*)", txt)
    r["bad"] = int(bad.group(1)) if bad else 0
    r["err"] = err.group(1) if err else ""
    r["n"] = int(re.search(r"(\d+) requests in", txt).group(1))
    runs.append(r)
if runs:
    w("**2. GET progress under wrk** (`wrk -t2 -c32 -d10s --latency`, "
      "token header from a Lua script, one job's `progress/`)%s; wrk runs "
      "on the same 2 cores." % idle(2))
    w("")
    w("| run | requests/s | p50 | p99 | requests | not 2xx | socket errors |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for i, r in enumerate(runs, 1):
        w("| %d | %s | %.2f ms | %.2f ms | %s | %d | %s |" % (
            i, fnum(r["rps"]), r["50"], r["99"], fnum(r["n"]), r["bad"],
            r["err"] or "none"))
    w("| **median** | **%s** | **%.2f ms** | **%.2f ms** | | | target: "
      "≥ 10,000 req/s, p99 < 10 ms |" % (
          fnum(statistics.median(r["rps"] for r in runs)),
          statistics.median(r["50"] for r in runs),
          statistics.median(r["99"] for r in runs)))
    w("")

# 3. end to end ------------------------------------------------------------
e2e = []
for f in glob.glob(path("e2e-l*-c*.json")):
    mm = re.search(r"e2e-l(\d+)-c(\d+)\.json$", f)
    e2e.append((int(mm.group(1)), int(mm.group(2)), json.load(open(f))))
e2e.sort(key=lambda x: (x[0], x[1]))
if e2e:
    w("**3. End to end**, one %s-row job per line: `wall` = upload started → "
      "COMPLETED seen by polling progress every 20 ms; `run` = the job's "
      "`started_at` → `completed_at`. Ideal = payer.concurrency / latency; "
      "one-at-a-time = 1 / latency (the system we replace checked one claim "
      "at a time)%s." % (fnum(e2e[0][2]["rows"]), idle(3)))
    w("")
    w("| sim latency | payer.concurrency | wall | rows/s (wall) | run | "
      "rows/s (run) | ideal rows/s | run / ideal | × one-at-a-time | "
      "rows retried |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for lat, conc, d in e2e:
        j = d["jobs"][0]
        rw = d["rows"] / d["wall_s"]
        rr = d["rows"] / j["run_s"]
        if lat > 0:
            ideal = conc * 1000.0 / lat
            cols = (fnum(ideal), "%.0f %%" % (100 * rr / ideal),
                    "%s×" % fnum(rr * lat / 1000.0))
        else:
            cols = ("–", "–", "–")
        w("| %d ms | %d | %s | %s | %s | **%s** | %s | %s | %s | %s |" % (
            (lat, conc, dur(d["wall_s"]), fnum(rw), dur(j["run_s"]),
             fnum(rr)) + cols + (retried("e2e-l%d-c%d.json" % (lat, conc)),)))
    w("")
    w("Targets (issue 4): ≥ 90 % of ideal up to the payer limits; ≥ 5,000 "
      "rows/s at latency 0 with one worker process.")
    w("")

# 4. 150,000-row job, memory, CPU -----------------------------------------
if exists("big.json"):
    d = load("big.json")
    j = d["jobs"][0]
    w("**4. A %s-row job** (simulator latency 0, payer.concurrency 32, one "
      "worker): upload %s, wall %s (%s rows/s), run %s (**%s rows/s**); %s "
      "succeeded, %s failed (the simulator's Not Found share); rows "
      "retried: %s%s." % (
          fnum(d["rows"]), ms(j["upload_s"]), dur(d["wall_s"]),
          fnum(d["rows"] / d["wall_s"]), dur(j["run_s"]),
          fnum(d["rows"] / j["run_s"]), fnum(j["success"]),
          fnum(j["failure"]), retried("big.json"), idle(4)))
    w("")
if exists("download.txt"):
    t = [float(l.split()[1]) for l in lines("download.txt")]
    size = int(lines("download.txt")[-1].split()[2])
    w("**5. Results CSV download** of that job: %s rows, %s bytes, median "
      "**%s** of %d runs (%s – %s), curl `time_total` after one warm-up."
      % (fnum(int(lines("download.rows")[0])), fnum(size),
         ms(statistics.median(t)), len(t), ms(min(t)), ms(max(t))))
    w("")

phases = [("upload", "1 upload"), ("wrk", "2 wrk"), ("e2e", "3 end to end"),
          ("big", "4 big job"), ("download", "5 download"),
          ("workers", "6 workers")]
mons = [(p, label, load("mon-%s.json" % p)) for p, label in phases
        if exists("mon-%s.json" % p)]
if mons:
    roles = ["fcgi", "worker", "worker2", "worker3", "nginx", "payer-sim",
             "postgres", "redis"]
    names = {"fcgi": "app (bulkclaims-fcgi)", "worker": "worker",
             "worker2": "worker2", "worker3": "worker3",
             "nginx": "nginx", "payer-sim": "payer simulator",
             "postgres": "PostgreSQL", "redis": "Redis"}
    seen = [r for r in roles if any(r in mo for _, _, mo in mons)]
    w("**Peak RSS per process** in MiB: the largest VmRSS of any one "
      "process of that program, sampled every 100 ms by "
      "`tests/bench/procmon.py`; in brackets the largest RssAnon (private "
      "heap and stacks; the rest is mapped files, e.g. the upload body the "
      "app maps, and shared memory: the worker's pool block, PostgreSQL's "
      "shared buffers). Target: flat, under 30 MiB per process.")
    w("")
    w("| phase | " + " | ".join(names[r] for r in seen) + " |")
    w("| --- |" + " ---: |" * len(seen))
    for _, label, mo in mons:
        cells = []
        for r in seen:
            x = mo.get(r)
            if x is None:
                cells.append("–")
            else:
                cells.append("%s (%s)" % (mib(x["peak_VmRSS"]),
                                          mib(x["peak_RssAnon"])))
        w("| %s | %s |" % (label, " | ".join(cells)))
    w("")
    w("**CPU seconds per program** in each phase (utime + stime from "
      "`/proc/PID/stat`, all its processes; where the time goes):")
    w("")
    w("| phase | " + " | ".join(names[r] for r in seen) + " |")
    w("| --- |" + " ---: |" * len(seen))
    for _, label, mo in mons:
        w("| %s | %s |" % (label, " | ".join(
            ("%.2f" % mo[r]["cpu_s"]) if r in mo else "–" for r in seen)))
    w("")
    per = []
    mon = dict((p, mo) for p, _, mo in mons)
    if runs and "wrk" in mon:
        n = sum(r["n"] for r in runs)
        per.append("per GET progress request (%s requests): %s" % (
            fnum(n), ", ".join("%s %.3f ms" % (names[r], 1000 * v["cpu_s"] / n)
                               for r, v in sorted(mon["wrk"].items(),
                                                  key=lambda x: -x[1]["cpu_s"])
                               if v["cpu_s"] > 0)))
    if exists("big.json") and "big" in mon:
        n = load("big.json")["rows"]
        per.append("per row of the big job: %s" % ", ".join(
            "%s %.0f µs" % (names[r], 1e6 * v["cpu_s"] / n)
            for r, v in sorted(mon["big"].items(), key=lambda x: -x[1]["cpu_s"])
            if v["cpu_s"] > 0))
    for p in per:
        w("- CPU " + p)
    if per:
        w("")

# 6. workers ----------------------------------------------------------------
if exists("workers-1-one.json"):
    w("**6. Worker processes** (simulator latency 100 ms, payer.concurrency "
      "32, extra `bulkclaims-worker` processes with the same configuration)"
      "%s. No chunking yet: one job is one Celery task, run by one worker."
      % idle(6))
    w("")
    w("| workers | one job: rows/s (run) | three jobs at once: rows | wall | "
      "rows/s (wall) | rows/s (first start → last end) | rows retried |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in (1, 2, 3):
        if not exists("workers-%d-one.json" % n):
            continue
        a = load("workers-%d-one.json" % n)
        b = load("workers-%d-three.json" % n)
        w("| %d | %s | %s | %s | %s | %s | %s |" % (
            n, fnum(a["rows"] / a["jobs"][0]["run_s"]), fnum(b["rows"]),
            dur(b["wall_s"]), fnum(b["rows"] / b["wall_s"]),
            fnum(b["rows"] / b["span_s"]),
            retried("workers-%d-three.json" % n)))
    w("")

if exists("diag-pgbench.txt") or exists("diag-copy.txt"):
    w("**Where the time goes** (measured by the same run on the same "
      "database):")
    w("")
    if exists("diag-pgbench.txt"):
        d = dict(l.split() for l in lines("diag-pgbench.txt") if
                 len(l.split()) == 2)
        if "extended" in d and "prepared" in d:
            w("- The two statements of one GET progress request "
              "(`tests/bench/progress-queries.sql`: token lookup, job "
              "fetch) in pgbench, 4 clients, 5 s: **%s** pairs/s as the app "
              "sends them (parsed and planned on every call) against **%s** "
              "pairs/s prepared (×%.1f)." % (
                  fnum(float(d["extended"])), fnum(float(d["prepared"])),
                  float(d["prepared"]) / float(d["extended"])))
    if exists("diag-copy.txt"):
        fk, nofk = [], []
        for l in lines("diag-copy.txt"):
            t, _, v = l.partition(" ")
            if v:
                (fk if t == "bench_fk" else nofk).append(float(v))
        if fk and nofk:
            w("- `COPY` of the big job's %s rows into a copy of "
              "`csv_job_rows`: median **%s** with the foreign key to "
              "`csv_jobs` (a check per row), **%s** without it (%d runs "
              "each)." % (fnum(load("big.json")["rows"]),
                          ms(statistics.median(fk) / 1000),
                          ms(statistics.median(nofk) / 1000), len(fk)))
    w("")

if exists("payer-bench.txt"):
    w("**The payer engine alone** (`tests/bench/payer-bench`: one engine in "
      "one process against the simulator, no database, no queue):")
    w("")
    w("```")
    out.extend(lines("payer-bench.txt"))
    w("```")
    w("")

w("Not yet measured (needs chunking and multi-process workers, issue 9): "
  "one job spread over several workers, fairness between organisations, "
  "the Python system side by side (not installed here; the one-at-a-time "
  "column stands in for it).")
print("\n".join(out))
