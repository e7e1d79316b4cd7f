#!/usr/bin/python3
"""Runs claim jobs end to end through the API, for scripts/bench.

    bcjob.py --url URL --cacert CERT --token-file F [--poll-ms 20]
             [--timeout-s 1800] [--workflow status|details|payment|full]
             FILE...

Uploads every FILE with curl (the same request as scripts/bench's upload
timing, plus the form field workflow when given; one after the other),
then polls each job's progress over one keep-alive HTTPS connection every
--poll-ms until all are finished, then GETs each job.  Prints one JSON object:
  wall_s      first upload started -> last job seen finished (by polling)
  span_s      earliest started_at -> latest completed_at (the jobs' own
              timestamps, written by the worker)
  rows, jobs  [{id, rows, status, upload_s, wall_s, run_s, success,
               failure, chunks_total, chunks_done, payer_calls}]  (run_s =
              completed_at - started_at; the chunk counts and payer_calls
              ({status, details, payment}: requests sent per transaction,
              retries included) from the progress answer that said the
              job was finished: 0 and 0 chunks for a job run as one task)
Exits 1 if a job did not reach COMPLETED.
"""
import argparse
import datetime
import http.client
import json
import ssl
import subprocess
import sys
import time

API = "/api/v1/claims/"
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


class Api:
    def __init__(self, url, cacert, token):
        assert url.startswith("https://")
        self.host = url[len("https://"):].rstrip("/")
        self.ctx = ssl.create_default_context(cafile=cacert)
        self.hdr = {"Authorization": "Token " + token}
        self.conn = None

    def get(self, path):
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(
                    self.host, context=self.ctx, timeout=30)
            try:
                self.conn.request("GET", path, headers=self.hdr)
                r = self.conn.getresponse()
                body = r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if r.status != 200:
                raise SystemExit("GET %s: HTTP %d %s" % (path, r.status,
                                                        body[:200]))
            return json.loads(body)


def upload(a, token, path):
    cmd = ["curl", "-sS", "--cacert", a.cacert, "-H",
           "Authorization: Token " + token, "-F", "file=@" + path]
    if a.workflow:
        cmd += ["-F", "workflow=" + a.workflow]
    cmd += ["-w", "\n%{http_code} %{time_total}",
            a.url.rstrip("/") + API + "bulk/upload/"]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    body, _, tail = out.rpartition("\n")
    code, t = tail.split()
    if code != "201":
        raise SystemExit("upload %s: HTTP %s %s" % (path, code, body[:300]))
    return json.loads(body), float(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--cacert", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--poll-ms", type=float, default=20)
    ap.add_argument("--timeout-s", type=float, default=1800)
    ap.add_argument("--workflow", choices=("status", "details", "payment",
                                           "full"))
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    with open(a.token_file) as f:
        token = f.read().strip()
    api = Api(a.url, a.cacert, token)
    t0 = time.monotonic()
    jobs = []
    for path in a.files:
        j, t = upload(a, token, path)
        jobs.append({"id": j["id"], "rows": j["total_rows"], "upload_s": t,
                     "status": j["status"]})
    pending = list(jobs)
    while pending:
        if time.monotonic() - t0 > a.timeout_s:
            raise SystemExit("jobs not finished after %g s" % a.timeout_s)
        for j in list(pending):
            p = api.get(API + "csv-jobs/%s/progress/" % j["id"])
            if p["status"] in TERMINAL:
                j["wall_s"] = time.monotonic() - t0
                j["chunks_total"] = p.get("chunks_total")
                j["chunks_done"] = p.get("chunks_done")
                j["payer_calls"] = p.get("payer_calls")
                pending.remove(j)
        if pending:
            time.sleep(a.poll_ms / 1000.0)
    wall = time.monotonic() - t0
    starts, ends, ok = [], [], True
    for j in jobs:
        d = api.get(API + "csv-jobs/%s/" % j["id"])
        j["status"] = d["status"]
        j["success"] = d["success_count"]
        j["failure"] = d["failure_count"]
        ok = ok and d["status"] == "COMPLETED"
        if d["started_at"] and d["completed_at"]:
            s, e = ts(d["started_at"]), ts(d["completed_at"])
            j["run_s"] = (e - s).total_seconds()
            starts.append(s)
            ends.append(e)
    out = {"wall_s": wall, "rows": sum(j["rows"] for j in jobs),
           "jobs": jobs}
    if starts:
        out["span_s"] = (max(ends) - min(starts)).total_seconds()
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
