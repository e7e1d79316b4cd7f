"""No patient data in any log: greps every file under $BC_VAR/log/ for the
names, dates of birth and subscriber ids that the end-to-end tests
upload, and fails on any hit.  Named to run last, after the tests that
produce the logs.

The values come from sec_util.PHI_ROWS and from every CSV data row
written literally in tests/e2e/*.py, plus the generated names and ids of
test_end_to_end.py's thousand-row file (First<n>, Last<n>, SUB<nnnnnn>)
and the claim numbers of test_claims_ledger.py (LG<nnnnnnnn>), which are
sent in a URL path (the claim history), the claim numbers of PHI_ROWS
and the search terms (SEARCH_TERMS) that test_security_edge.py sends in
query strings (rows/?q=...).

test_shipped_nginx_logs_leave_queries_out reads every nginx file the
project ships: each server logs in the bulkclaims format, which has no
query string.
"""
import glob
import os
import re

import pytest

from sec_util import PHI_ROWS, SEARCH_TERMS

HERE = os.path.dirname(os.path.abspath(__file__))

# claim_number,first_name,last_name,date_of_birth,subscriber_id
ROW = re.compile(r"[A-Za-z0-9]+,([A-Za-z][A-Za-z' -]*),([A-Za-z][A-Za-z' -]*),"
                 r"((?:19|20)\d\d-\d\d-\d\d),([A-Za-z0-9-]+)")

GENERATED = [r"\bFirst\d+\b", r"\bLast\d+\b", r"\bSUB\d{6}\b",
             # test_claims_ledger.py's claim numbers, which also travel
             # in the path of claims/{claim_number}/history/.
             r"\bLG\d{8}\b"]


def phi_values():
    values = set()
    for row in PHI_ROWS:
        values.update(row)
    values.update(SEARCH_TERMS)
    for path in glob.glob(os.path.join(HERE, "*.py")):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for first, last, dob, sub in ROW.findall(text):
            values.update((first, last, dob, sub))
    # Too short to mean anything in a log line ("J", "S1").
    return sorted(v for v in values if len(v.strip()) >= 4)


def patterns():
    pats = [r"(?<![A-Za-z0-9])" + re.escape(v) + r"(?![A-Za-z0-9])"
            for v in phi_values()]
    return re.compile("|".join(pats + GENERATED))


def test_values_collected():
    vals = phi_values()
    for row in PHI_ROWS:
        for v in row[1:]:
            assert v in vals
    # The end-to-end suite's own example rows are found as well.
    assert "1980-01-15" in vals and "ABC123456" in vals


def server_blocks(text):
    """The server { ... } blocks of an nginx file (brace-matched)."""
    blocks, i = [], 0
    for m in re.finditer(r"(?m)^\s*server\s*\{", text):
        if m.start() < i:
            continue
        depth, j = 0, m.end() - 1
        while j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        blocks.append(text[m.start():j])
        i = j
    return blocks


def test_shipped_nginx_logs_leave_queries_out():
    """Every nginx file the project ships: log formats never name the
    full request ($request, $request_uri, $args, $query_string), and
    every server logs in the bulkclaims format (its own access_log, or
    the http block's), never nginx's "combined" default."""
    repo = os.path.dirname(os.path.dirname(HERE))
    files = glob.glob(os.path.join(repo, "nginx", "*.conf.in")) + \
        glob.glob(os.path.join(repo, "scripts", "systemd", "*nginx*"))
    assert len(files) >= 2, files
    bad = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = "\n".join(l.split("#", 1)[0] for l in f)
        for fmt in re.findall(r"log_format\s[^;]*;", text):
            if re.search(r"\$(request|request_uri|args|query_string|arg_)"
                         r"\b", fmt):
                bad.append(f"{path}: log_format logs the query: {fmt}")
        for log in re.findall(r"access_log\s+([^;]*);", text):
            parts = log.split()
            if parts[0] != "off" and (len(parts) < 2 or
                                      parts[1] != "bulkclaims"):
                bad.append(f"{path}: access_log {log}")
        http_log = re.search(r"(?s)http\s*\{.*?\n\taccess_log\s+\S+\s+"
                             r"bulkclaims", text)
        for block in server_blocks(text):
            if not http_log and not re.search(
                    r"access_log\s+(\S+\s+bulkclaims|off)\b", block):
                bad.append(f"{path}: a server without the bulkclaims "
                           f"access_log: {[l for l in block.splitlines() if l.strip()][:3]}")
    assert not bad, "\n".join(bad)


def test_no_phi_in_logs():
    var = os.environ.get("BC_VAR")
    if not var:
        pytest.skip("BC_VAR is not set (run through scripts/test)")
    logdir = os.path.join(var, "log")
    files = [p for p in glob.glob(os.path.join(logdir, "**"),
                                  recursive=True) if os.path.isfile(p)]
    assert files, f"no log files under {logdir}"
    rx = patterns()
    hits = []
    for path in files:
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                line = raw.decode("utf-8", "replace")
                m = rx.search(line)
                if m:
                    hits.append(f"{os.path.relpath(path, var)}:{n}: "
                                f"{m.group(0)!r} in {line.strip()[:200]}")
    assert not hits, "patient data in logs:\n" + "\n".join(hits[:40])


def redis_client():
    from urllib.parse import parse_qs, urlparse

    import redis
    from sec_util import config_value

    url = config_value("redis.url")
    if not url:
        pytest.skip("redis.url not found (BC_CONFIG)")
    from sec_util import redis_admin
    user, pw = redis_admin()
    u = urlparse(url)
    if u.scheme == "unix":
        db = int(parse_qs(u.query).get("db", ["0"])[0])
        return redis.Redis(unix_socket_path=u.path, db=db, username=user,
                           password=pw)
    return redis.Redis.from_url(url, username=user, password=pw)


def test_no_phi_in_redis():
    """Celery messages, results and any other state in Redis carry job ids,
    never patient data."""
    r = redis_client()
    rx = patterns()
    hits = []
    for key in r.scan_iter(count=500):
        t = r.type(key).decode()
        if t == "string":
            vals = [r.get(key)]
        elif t == "list":
            vals = r.lrange(key, 0, -1)
        elif t == "hash":
            vals = list(r.hgetall(key).values())
        elif t == "set":
            vals = list(r.smembers(key))
        elif t == "zset":
            vals = r.zrange(key, 0, -1)
        else:
            continue
        for v in vals:
            m = rx.search(v.decode("utf-8", "replace") if v else "")
            if m:
                hits.append(f"{key.decode()}: {m.group(0)!r}")
    assert not hits, "patient data in Redis:\n" + "\n".join(hits[:40])
