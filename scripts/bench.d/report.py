#!/usr/bin/python3
"""Renders scripts/bench's raw outputs (var/bench/out/) as Markdown.

    report.py OUTDIR > results.md

Every figure comes from a file the benchmark wrote in this run; the only
constants here are the targets (response times, rows/s, memory) the
system was asked to meet.
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
def app_ms(name):
    """Median app ms of the uploads of NAME (+ the auth check's)."""
    a = [int(x) for x in lines("upload-%s.fcgi-ms.txt" % name)]
    c = [int(x) for x in lines("upload-%s.fcgi-auth-ms.txt" % name)] \
        if exists("upload-%s.fcgi-auth-ms.txt" % name) else []
    if not a:
        return "?"
    return "%d ms%s" % (statistics.median(a), (" (+ %d ms)" %
                                               statistics.median(c))
                        if c else "")


if exists("upload-small.txt") or exists("upload-big.txt"):
    w("**1. Upload latency** through nginx (HTTPS, demo token), curl "
      "`time_total`, one new connection per upload, after one warm-up%s. "
      "`TLS` is curl's `time_appconnect` (TCP + TLS handshake); `app` is "
      "the FastCGI app's own time (its access log `ms=`): reading the "
      "multipart body nginx wrote, validating, `COPY`, publishing the "
      "task; in brackets the app's answer to nginx's `auth_request` before "
      "it reads the body (may this token upload?), a second FastCGI "
      "request per upload. The last line is a client uploading several "
      "~1 KB files one after the other over one kept-alive connection "
      "(one curl, transfers joined by `--next`, each a different file): "
      "the first transfer, which opens the connection, is not counted; "
      "its `TLS` is given as \"once\"." % idle(1))
    w("")
    w("| file | bytes | rows | runs | median | min – max | TLS median | "
      "app median | target |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for f, target in (("small", "< 5 ms"), ("big", "< 1 s")):
    if not exists("upload-%s.txt" % f):
        continue
    t = [float(l.split()[1]) for l in lines("upload-%s.txt" % f)]
    tls = [float(l.split()[2]) for l in lines("upload-%s.txt" % f)]
    w("| %s | %s | %s | %d | **%s** | %s – %s | %s | %s | %s |" % (
        f == "small" and "~1 KB" or "~10 MB", fnum(int(lines(
            "upload-%s.bytes" % f)[0])), fnum(int(lines(
                "upload-%s.rows" % f)[0])), len(t), ms(statistics.median(t)),
        ms(min(t)), ms(max(t)), ms(statistics.median(tls)),
        app_ms(f), target))
if exists("upload-small-ka.txt"):
    ka = [l.split() for l in lines("upload-small-ka.txt")]
    t = [float(x[1]) for x in ka[1:]]
    conns = sum(int(x[3]) for x in ka)
    w("| ~1 KB, one kept-alive connection (HTTP/%s, %d connection%s for "
      "%d uploads) | %s | %s | %d | **%s** | %s – %s | once: %s | %s | "
      "< 5 ms |" % (
          ka[0][4], conns, "" if conns == 1 else "s", len(ka),
          fnum(int(lines("upload-small-ka.bytes")[0])),
          fnum(int(lines("upload-small-ka.rows")[0])), len(t),
          ms(statistics.median(t)), ms(min(t)), ms(max(t)),
          ms(float(ka[0][2])), app_ms("small-ka")))
if exists("upload-small.txt") or exists("upload-big.txt"):
    w("")

# 2. wrk -------------------------------------------------------------------
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def lat_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)$", s)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk_runs(name):
    runs = []
    for f in sorted(glob.glob(path("wrk-%s-[0-9]*.txt" % name))):
        txt = open(f).read()
        r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)",
                                    txt).group(1))}
        for p in ("50", "99"):
            r[p] = lat_ms(re.search(r"^\s+%s%%\s+(\S+)" % p, txt,
                                    re.M).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
        err = re.search(r"Socket errors: (.*)", txt)
        r["bad"] = int(bad.group(1)) if bad else 0
        r["err"] = err.group(1) if err else ""
        r["n"] = int(re.search(r"(\d+) requests in", txt).group(1))
        runs.append(r)
    return runs


def cache_counts(name):
    """X-Bulkclaims-Cache counts of the short counting run, e.g.
    {"HIT": 41000, "EXPIRED": 20}, and the status counts."""
    if not exists("wrk-%s-cache.txt" % name):
        return {}, {}
    c, st, cur = {}, {}, None
    for tok in lines("wrk-%s-cache.txt" % name)[-1].split():
        if tok in ("cache", "status"):
            cur = c if tok == "cache" else st
        elif "=" in tok and cur is not None:
            k, _, v = tok.partition("=")
            cur[k] = int(v)
    return c, st


def statuses(name):
    """The bench_progress lines written before and after the runs:
    [("before", {"status": .., "cache": .., ...}), ...]."""
    if not exists("wrk-%s-status.txt" % name):
        return []
    out = []
    for l in lines("wrk-%s-status.txt" % name):
        when, _, rest = l.partition(" ")
        out.append((when, dict(x.split("=", 1) for x in rest.split())))
    return out


def share(c):
    n = sum(c.values())
    if not n:
        return "?"
    return "%s of %s answers from nginx's cache (**%.2f %% HIT**; %s)" % (
        fnum(c.get("HIT", 0)), fnum(n), 100.0 * c.get("HIT", 0) / n,
        ", ".join("%s %s" % (k, fnum(v)) for k, v in sorted(c.items())))


def seen(name):
    return "; ".join("%s: %s, cache %s, %s rows done, chunks %s" % (
        when, d.get("status"), d.get("cache"), fnum(int(d.get("processed",
                                                             0))),
        d.get("chunks")) for when, d in statuses(name))


wrk = [(n, wrk_runs(n)) for n in ("running", "finished")]
wrk = [(n, r) for n, r in wrk if r]
runs = [r for _, rr in wrk for r in rr]
if wrk:
    w("**2. GET progress under wrk** (`wrk -t2 -c32 -d%ss --latency`, "
      "token header from a Lua script with no `response()` hook, one "
      "job's `progress/`); wrk runs on the same 2 cores. (a) a **running** "
      "job, the real polling case: a %s-row job at simulator latency "
      "%s ms and payer.concurrency 32 (64 rows/s), PROCESSING from before "
      "the first run to after the last, then cancelled; nginx keeps its "
      "answer up to 1 s, so most polls never reach the app. (b) a "
      "**finished** job, whose answer nginx never keeps: every request "
      "is the app's own path (token lookup and job fetch, prepared "
      "statements, in PostgreSQL). The target applies to (a); (b) is the "
      "app's ceiling, to compare with the machine's measured ceiling for "
      "one FastCGI request with one prepared PostgreSQL `SELECT` "
      "(measured apart on the same machine): about 6,066 req/s, p99 10 ms." % (
          lines("wrk-seconds")[0] if exists("wrk-seconds") else "?",
          fnum(int(lines("wrk-running-rows")[0]))
          if exists("wrk-running-rows") else "?",
          lines("wrk-running-latency")[0] if exists("wrk-running-latency")
          else "?"))
    w("")
    w("| job | run | requests/s | p50 | p99 | requests | not 2xx | "
      "socket errors |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    label = {"running": "(a) running", "finished": "(b) finished"}
    target = {"running": "target: ≥ 10,000 req/s, p99 < 10 ms",
              "finished": "the app's path; machine ceiling ~6,066 req/s, "
                          "p99 10 ms"}
    for name, rr in wrk:
        for i, r in enumerate(rr, 1):
            w("| %s | %d | %s | %.2f ms | %.2f ms | %s | %d | %s |" % (
                label[name], i, fnum(r["rps"]), r["50"], r["99"],
                fnum(r["n"]), r["bad"], r["err"] or "none"))
        w("| **%s** | **median** | **%s** | **%.2f ms** | **%.2f ms** | | | "
          "%s |" % (
              label[name], fnum(statistics.median(r["rps"] for r in rr)),
              statistics.median(r["50"] for r in rr),
              statistics.median(r["99"] for r in rr), target[name]))
    w("")
    w("Where the answers came from: one GET with curl (headers kept) before and "
      "after the runs (status, `X-Bulkclaims-Cache`, rows done, chunks "
      "done/total), and a separate 3 s wrk run that counts the "
      "`X-Bulkclaims-Cache` header (a `response()` hook, so not timed). "
      "HIT: answered by nginx; MISS and EXPIRED (an entry older than 1 s, "
      "e.g. kept from while the job ran) reached the app.")
    w("")
    for name, _ in wrk:
        c, st = cache_counts(name)
        w("- %s%s: %s; counting run: %s%s." % (
              label[name], idle({"running": "2a", "finished": "2b"}[name]),
              seen(name), share(c),
              "" if set(st) <= {"200"} else
              " (statuses: %s)" % ", ".join("%s %s" % kv_
                                            for kv_ in sorted(st.items()))))
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
    w("Targets: ≥ 90 % of ideal up to the payer limits; ≥ 5,000 "
      "rows/s at latency 0 with one worker process.")
    w("")

# 4. 150,000-row job, memory, CPU -----------------------------------------
if exists("big.json"):
    d = load("big.json")
    j = d["jobs"][0]
    w("**4. A %s-row job** (simulator latency 0, payer.concurrency 32, one "
      "worker): upload %s, wall %s (%s rows/s), run %s (**%s rows/s**); %s "
      "succeeded, %s failed (the simulator's Not Found share); rows "
      "retried: %s; chunks (from its progress): %s of %s done%s." % (
          fnum(d["rows"]), ms(j["upload_s"]), dur(d["wall_s"]),
          fnum(d["rows"] / d["wall_s"]), dur(j["run_s"]),
          fnum(d["rows"] / j["run_s"]), fnum(j["success"]),
          fnum(j["failure"]), retried("big.json"),
          j.get("chunks_done", "?"), j.get("chunks_total", "?"), idle(4)))
    w("")
if exists("download.txt"):
    t = [float(l.split()[1]) for l in lines("download.txt")]
    size = int(lines("download.txt")[-1].split()[2])
    w("**5. Results CSV download** of that job: %s rows, %s bytes, median "
      "**%s** of %d runs (%s – %s), curl `time_total` after one warm-up."
      % (fnum(int(lines("download.rows")[0])), fnum(size),
         ms(statistics.median(t)), len(t), ms(min(t)), ms(max(t))))
    w("")

phases = [("upload", "1 upload"), ("wrk-running", "2a wrk, running job"),
          ("wrk-finished", "2b wrk, finished job"), ("e2e", "3 end to end"),
          ("big", "4 big job"), ("download", "5 download"),
          ("workers", "6 workers"), ("full", "7 full workflow"),
          ("ledger", "8 ledger cost")]
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
    for name, rr in wrk:
        if "wrk-" + name not in mon:
            continue
        n = sum(r["n"] for r in rr)
        per.append("per GET progress request, %s job (%s requests): %s" % (
            name, fnum(n), ", ".join(
                "%s %.3f ms" % (names[r], 1000 * v["cpu_s"] / n)
                for r, v in sorted(mon["wrk-" + name].items(),
                                   key=lambda x: -x[1]["cpu_s"])
                if 1000 * v["cpu_s"] / n >= 0.0005)))
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
    one = dict((n, load("workers-%d-one.json" % n)) for n in (1, 2, 3)
               if exists("workers-%d-one.json" % n))
    j1 = one[1]["jobs"][0]
    w("**6. Worker processes** (simulator latency 100 ms, payer.concurrency "
      "32 in every worker process, extra `bulkclaims-worker` processes with "
      "the same configuration)%s. One %s-row job per line, split into "
      "chunks of `chunk.rows` that any worker takes (%s chunks: the same "
      "number for each of 1, 2 and 3 workers). Ideal = workers × 32 / "
      "0.1 s." % (idle(6), fnum(one[1]["rows"]), j1.get("chunks_total", "?")))
    w("")
    w("| workers | rows | chunks | wall | rows/s (wall) | run | "
      "rows/s (run) | × 1 worker | ideal rows/s | run / ideal | "
      "rows retried |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
      "---: | ---: |")
    base = one[1]["rows"] / j1["run_s"]
    for n, a in sorted(one.items()):
        j = a["jobs"][0]
        rr = a["rows"] / j["run_s"]
        ideal = n * 32 / 0.1
        w("| %d | %s | %s | %s | %s | %s | **%s** | %.2f× | %s | %.0f %% | "
          "%s |" % (
              n, fnum(a["rows"]), j.get("chunks_total", "?"),
              dur(a["wall_s"]), fnum(a["rows"] / a["wall_s"]),
              dur(j["run_s"]), fnum(rr), rr / base, fnum(ideal),
              100 * rr / ideal, retried("workers-%d-one.json" % n)))
    w("")
    three = dict((n, load("workers-%d-three.json" % n)) for n in (1, 2, 3)
                 if exists("workers-%d-three.json" % n))
    if three:
        b1 = three[1]["rows"] / three[1]["span_s"]
        w("Three jobs of %s rows uploaded at once (chunks per job: %s):" % (
            fnum(three[1]["jobs"][0]["rows"]),
            ", ".join(str(j.get("chunks_total", "?"))
                      for j in three[1]["jobs"])))
        w("")
        w("| workers | rows | wall | rows/s (wall) | rows/s (first start → "
          "last end) | × 1 worker | ideal rows/s | rows retried |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for n, b in sorted(three.items()):
            rs = b["rows"] / b["span_s"]
            w("| %d | %s | %s | %s | **%s** | %.2f× | %s | %s |" % (
                n, fnum(b["rows"]), dur(b["wall_s"]),
                fnum(b["rows"] / b["wall_s"]), fnum(rs), rs / b1,
                fnum(n * 32 / 0.1), retried("workers-%d-three.json" % n)))
        w("")

# 7. full workflow ---------------------------------------------------------
def full_calls(name):
    """The .calls line of NAME.json's one job: rows, calls sent per
    transaction and the rows whose details / payments were asked."""
    f = name[:-len(".json")] + ".calls"
    if not exists(f):
        return None
    _, rows, cs, cd, cp, da, pa = lines(f)[0].split()
    return {"rows": int(rows), "status": int(cs), "details": int(cd),
            "payment": int(cp), "details_asked": int(da),
            "payments_asked": int(pa)}


full = []
for f in glob.glob(path("full-l*.json")):
    mm = re.search(r"full-l(\d+)\.json$", f)
    full.append((int(mm.group(1)), os.path.basename(f), json.load(open(f))))
full.sort(key=lambda x: -x[0])
if full:
    conc = int(lines("full-concurrency")[0]) if exists("full-concurrency") \
        else 32
    w("**7. Full workflow** (`workflow=full`: CLAIM_STATUS for every row, "
      "then CLAIM_DETAILS and CLAIM_PAYMENT for each claim the payer has "
      "finalized; one worker, payer.concurrency %d)%s. Payer calls needed "
      "= rows + the details and payment calls of the finalized rows (from "
      "the stored rows); calls sent = the job's `calls_status` + "
      "`calls_details` + `calls_payment` (retries included). Ideal time = "
      "calls needed / (payer.concurrency / latency); `run` = the job's "
      "`started_at` → `completed_at`." % (conc, idle(7)))
    w("")
    w("| sim latency | rows | finalized | calls needed | calls sent "
      "(status + details + payment) | run | rows/s | payer calls/s | "
      "ideal time | % of ideal | target | rows retried |")
    w("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | "
      "---: | --- | ---: |")
    for lat, name, d in full:
        j = d["jobs"][0]
        c = full_calls(name)
        run = j["run_s"]
        if c is None:
            c = {"rows": d["rows"], "status": 0, "details": 0, "payment": 0,
                 "details_asked": 0, "payments_asked": 0}
        need = c["rows"] + c["details_asked"] + c["payments_asked"]
        sent = c["status"] + c["details"] + c["payment"]
        if lat > 0:
            ideal = need / (conc * 1000.0 / lat)
            cols = (dur(ideal), "**%.0f %%**" % (100 * ideal / run),
                    "≥ 90 % of ideal")
            rows_s = fnum(c["rows"] / run)
        else:
            cols = ("–", "–", "≥ 3,000 claims/s")
            rows_s = "**%s**" % fnum(c["rows"] / run)
        w("| %d ms | %s | %s | %s | %s (%s + %s + %s) | %s | %s | %s | %s | "
          "%s | %s | %s |" % (
              (lat, fnum(c["rows"]), fnum(c["details_asked"]), fnum(need),
               fnum(sent), fnum(c["status"]), fnum(c["details"]),
               fnum(c["payment"]), dur(run), rows_s, fnum(sent / run))
              + cols + (retried(name),)))
    w("")
    if exists("mon-full.json"):
        mo = load("mon-full.json")
        w("Peak RSS per process during item 7, MiB (RssAnon in brackets; "
          "target < 30 MiB each): %s." % ", ".join(
              "%s %s (%s)%s" % (r, mib(v["peak_VmRSS"]),
                                mib(v["peak_RssAnon"]),
                                "" if v["peak_VmRSS"] < 30 * 1024 else
                                " **over**")
              for r, v in sorted(mo.items())))
        w("")

# history ------------------------------------------------------------------
def p95(t):
    """The 95th percentile (nearest rank) of the times t."""
    s_ = sorted(t)
    return s_[max(0, -(-95 * len(s_) // 100) - 1)]


hist = [(size, lines("history-%s.txt" % size)) for size in ("default", "100")
        if exists("history-%s.txt" % size)]
if hist:
    total, claim_n, orgs = lines("history-ledger.txt")[0].split()
    njobs, nrows = lines("history-jobs.txt")[0].split()
    w("**History of one claim** (`GET claims/{claim_number}/history/`, "
      "newest first): one organisation's claims ledger holds %s entries "
      "(%s jobs of %s rows run through the stack at simulator latency 0, "
      "each checking the same claim in its first row and %s claims of its "
      "own; organisations: %s), the claim checked %s times. Requests one "
      "after the other over one kept-alive HTTPS connection (one curl, "
      "the URL repeated; the first request, which opens the connection, "
      "is not counted: its `TLS` is given as \"once\"), curl "
      "`time_total`; `app` is the FastCGI app's own time (its access log "
      "`ms=`, whole milliseconds): token, two statements (the count and "
      "the page, prepared), the audit row, the JSON%s." % (
          fnum(int(total)), fnum(int(njobs)), fnum(int(nrows)),
          fnum(int(nrows) - 1), orgs, fnum(int(claim_n)), idle("history")))
    w("")
    w("| page | entries per answer | requests | connections | median | "
      "p95 | min – max | TLS | app median (p95) | target |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for size, ll in hist:
        x = [l.split() for l in ll]
        t = [float(v[1]) for v in x[1:]]
        conns = sum(int(v[3]) for v in x)
        a = [int(v) for v in lines("history-%s.fcgi-ms.txt" % size)] \
            if exists("history-%s.fcgi-ms.txt" % size) else []
        w("| %s (HTTP/%s) | %s | %d | %d | **%s** | **%s** | %s – %s | "
          "once: %s | %s | < 5 ms |" % (
              "default (20)" if size == "default" else "page_size=" + size,
              x[0][4], min(int(claim_n), 20 if size == "default"
                           else int(size)),
              len(t), conns, ms(statistics.median(t)), ms(p95(t)),
              ms(min(t)), ms(max(t)), ms(float(x[0][2])),
              "%d ms (%d ms)" % (statistics.median(a), p95(a)) if a else "?"))

# 8. what the claims ledger costs ------------------------------------------
ledger = {}
for f in glob.glob(path("ledger-*-*.json")):
    mm = re.search(r"ledger-(ledger|noledger)-(\d+)\.json$", f)
    if mm:
        ledger.setdefault(mm.group(1), []).append(
            (int(mm.group(2)), os.path.basename(f), json.load(open(f))))
if "ledger" in ledger and "noledger" in ledger:
    w("**8. What the claims ledger costs**: %s-row status jobs (simulator "
      "latency 0, payer.concurrency 32, one worker), stored as shipped (each "
      "answer also written to `claim_ledger` in the statement that stores "
      "it) and with the worker's sessions skipping the ledger (database "
      "setting `bulkclaims.bench_no_ledger = on` while the job runs, read "
      "only by `job_store_results`), alternated; `run` = the job's "
      "`started_at` → `completed_at`; ledger entries counted afterwards%s."
      % (fnum(ledger["ledger"][0][2]["rows"]), idle(8)))
    w("")
    w("| run | ledger | rows | run | rows/s (run) | ledger entries | "
      "rows retried |")
    w("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    rate = {}
    for mode in ("ledger", "noledger"):
        for i, name, d in sorted(ledger[mode]):
            j = d["jobs"][0]
            f = name[:-len(".json")] + ".ledger"
            ent = lines(f)[0].split()[1] if exists(f) else "?"
            rate.setdefault(mode, []).append(d["rows"] / j["run_s"])
            w("| %d | %s | %s | %s | %s | %s | %s |" % (
                i, "with" if mode == "ledger" else "without",
                fnum(d["rows"]), dur(j["run_s"]),
                fnum(d["rows"] / j["run_s"]),
                fnum(int(ent)) if ent.isdigit() else ent, retried(name)))
    withl = statistics.median(rate["ledger"])
    without = statistics.median(rate["noledger"])
    w("| | **median** | | | **%s** with, **%s** without | | |" % (
        fnum(withl), fnum(without)))
    w("")
    pairs = ", ".join("%.0f %%" % (100 * a / b) for a, b in
                      zip(rate["ledger"], rate["noledger"]))
    w("With the ledger: **%.0f %%** of the rows/s without it (target: "
      "≥ 90 %%, the ledger and change columns cost at most 10 %%); run by "
      "run (each pair one after the other): %s." % (
          100 * withl / without, pairs))
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
              "fetch) in pgbench, 4 clients, 5 s: **%s** pairs/s prepared "
              "(as the app sends them, once per connection) against **%s** "
              "pairs/s unprepared (parsed and planned on every call; "
              "×%.1f)." % (
                  fnum(float(d["prepared"])), fnum(float(d["extended"])),
                  float(d["prepared"]) / float(d["extended"])))
    if exists("diag-copy.txt"):
        c = {}
        for l in lines("diag-copy.txt"):
            t, _, v = l.partition(" ")
            if v:
                c.setdefault(t, []).append(float(v))
        if all(t in c for t in ("bench_fk", "bench_trg", "bench_none")):
            w("- `COPY` of the big job's %s rows into empty copies of "
              "`csv_job_rows`: median **%s** with the statement-level check "
              "it has now (trigger `csv_job_rows_check_job`: one lookup per "
              "distinct job), %s with the per-row foreign key to `csv_jobs` "
              "it had before `sql/006_rows_job_check.sql`, %s with neither (%d runs each)." % (
                  fnum(load("big.json")["rows"]),
                  ms(statistics.median(c["bench_trg"]) / 1000),
                  ms(statistics.median(c["bench_fk"]) / 1000),
                  ms(statistics.median(c["bench_none"]) / 1000),
                  len(c["bench_trg"])))
    w("")

if exists("payer-bench.txt"):
    w("**The payer engine alone** (`payer-bench`, from `tests/bench/payer_bench.c`: one engine in "
      "one process against the simulator, no database, no queue):")
    w("")
    w("```")
    out.extend(lines("payer-bench.txt"))
    w("```")
    w("")

w("Not yet measured: fairness between organisations, the Python system "
  "side by side (not installed here; the one-at-a-time column stands in "
  "for it).")
print("\n".join(out))
