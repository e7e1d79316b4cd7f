"""The command-line client `bulkclaims` (cli/), run as a program against
the whole stack: uploads with --wait and --out, every results format,
jobs/status/cancel/retry, each documented exit code, the config file's
permission check, the token kept out of argv, and the progress bar on
a pseudo-terminal against the plain lines on a pipe.
"""
import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
import tty
import uuid

import pytest
import requests

from conftest import CACERT, HEADER, URL
from sec_util import new_org

CLI = os.environ.get("BC_CLI_BIN", "build-test/cli/bulkclaims")
SIM = os.environ.get("BC_SIM_URL", "http://127.0.0.1:18090")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}$")

# Exit codes (cli/cli.h, docs/cli.md).
OK, FAIL, INPUT, JOB, AUTH, NET, NOTFOUND, CONFLICT = range(8)


def uniq(prefix="DENY"):
    """A claim number the simulator answers at once, with a usable
    status (Denied: success true), so the counts are known."""
    return prefix + "%08d" % (uuid.uuid4().int % 10**8)


def claims(n):
    rows = [f"{uniq()},Jane,Smith,1975-06-30,XYZ{i:06d}" for i in range(n)]
    return HEADER + "\n".join(rows) + "\n"


@pytest.fixture
def outage():
    """down(S): the payer simulator answers 503 for S seconds, so a job
    pauses (waiting_for_payer) and runs a while; up again after the
    test."""
    def down(seconds):
        r = requests.post(SIM + "/__outage", params={"seconds": seconds},
                          timeout=10)
        assert r.status_code == 200, r.text
    yield down
    down(0)


@pytest.fixture(scope="module")
def token(api):
    return api.s.headers["Authorization"].split(" ", 1)[1]


@pytest.fixture
def home(tmp_path):
    """An empty HOME: no config file unless the test writes one."""
    h = tmp_path / "home"
    h.mkdir()
    return h


def cli_env(home, token=None, url=URL, cacert=CACERT):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BULKCLAIMS_") and k not in (
               "XDG_CONFIG_HOME", "SSL_CERT_FILE", "SSL_CERT_DIR")}
    env["HOME"] = str(home)
    # A sanitizer build also fails the run on a leak.
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    if url is not None:
        env["BULKCLAIMS_URL"] = url
    if token is not None:
        env["BULKCLAIMS_TOKEN"] = token
    if isinstance(cacert, str):
        env["BULKCLAIMS_CACERT"] = cacert
    return env


def run(env, *args, timeout=180, secret=None):
    """Runs the client; the token never shows in what it prints."""
    r = subprocess.run([CLI] + [str(a) for a in args], env=env,
                       capture_output=True, timeout=timeout)
    for t in (secret, env.get("BULKCLAIMS_TOKEN")):
        if t:
            assert t.encode() not in r.stdout + r.stderr
    return r


def err(r):
    return r.stderr.decode(errors="replace")


def write_csv(tmp_path, text, name="claims.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def upload_done(env, tmp_path, text, *extra):
    """Uploads with --wait; returns the job id."""
    r = run(env, "upload", write_csv(tmp_path, text), "--allow-duplicate",
            "--wait", *extra)
    assert r.returncode == OK, err(r)
    job = r.stdout.decode().strip()
    assert UUID_RE.match(job), r.stdout
    return job


def api_results(api, job, **params):
    r = api.get(f"claims/csv-jobs/{job}/results/", params=params)
    assert r.status_code == 200, r.text
    return r.content


def test_help_and_usage(home):
    env = cli_env(home)
    r = run(env, "--help")
    assert r.returncode == OK
    out = r.stdout.decode()
    for word in ("upload", "jobs", "status", "results", "cancel", "retry",
                 "BULKCLAIMS_TOKEN", "Exit codes"):
        assert word in out
    for args in ((), ("frobnicate",), ("status",), ("status", "not-a-job"),
                 ("jobs", "--limit", "0"), ("jobs", "--wait"),
                 ("results", str(uuid.uuid4()), "--format", "xlsx"),
                 ("upload", "x.csv", "--workflow", "bogus"),
                 ("upload", "x.csv", "--out", "r.csv")):
        r = run(env, *args)
        assert r.returncode == INPUT, (args, err(r))
        assert "usage:" in err(r)


def test_upload_wait_out_equals_the_download(api, token, home, tmp_path):
    env = cli_env(home, token)
    out = tmp_path / "results.csv"
    r = run(env, "upload", write_csv(tmp_path, claims(5)),
            "--allow-duplicate", "--wait", "--out", out)
    assert r.returncode == OK, err(r)
    job = r.stdout.decode().strip()
    assert UUID_RE.match(job)
    assert out.read_bytes() == api_results(api, job)
    # The results hold patient data: only the owner reads the file.
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir()
                if p.name.startswith("results.csv.")]
    # On a pipe: one line per change of status, no \r, no escapes.
    lines = err(r).splitlines()
    assert "\r" not in err(r) and "\x1b" not in err(r)
    assert lines and lines[-1].startswith(f"job {job}: COMPLETED 5/5 rows")
    states = [ln.split()[2] for ln in lines]
    assert all(a != b for a, b in zip(states, states[1:])), lines


def test_every_format(api, token, home, tmp_path):
    env = cli_env(home, token)
    # Processed claims, so lines and payments have records.
    text = HEADER + ("ZE59426196,Jane,Smith,1975-06-30,XYZ987654\n"
                     "ZE59426195,John,Doe,01/15/1980,ABC123456\n"
                     "NOTFOUND7,Ann,Lee,3/4/62,MBR000777\n")
    out = tmp_path / "lines.csv"
    job = upload_done(env, tmp_path, text, "--workflow", "full",
                      "--out", out, "--format", "lines")
    assert api.get(f"claims/csv-jobs/{job}/").json()["workflow"] == "full"
    lines = api_results(api, job, format="lines")
    assert out.read_bytes() == lines and lines.count(b"\n") >= 2
    for fmt in ("csv", "extended", "lines", "payments", "changes"):
        r = run(env, "results", job, "--format", fmt)
        assert r.returncode == OK, (fmt, err(r))
        assert r.stdout == api_results(api, job, format=fmt), fmt
    r = run(env, "results", job)
    assert r.stdout == api_results(api, job)
    assert r.stdout.startswith(b"row,claim_number,status,")
    f = tmp_path / "extended.csv"
    r = run(env, "results", job, "--format", "extended", "--out", f)
    assert r.returncode == OK and r.stdout == b""
    assert f.read_bytes() == api_results(api, job, format="extended")


def test_jobs_and_status(api, token, home, tmp_path):
    env = cli_env(home, token)
    job = upload_done(env, tmp_path, claims(2))
    r = run(env, "jobs", "--limit", "100")
    assert r.returncode == OK, err(r)
    table = r.stdout.decode().splitlines()
    assert table[0].split()[:3] == ["ID", "STATUS", "ROWS"]
    mine = [ln for ln in table if ln.startswith(job)]
    assert len(mine) == 1 and mine[0].split()[1:5] == [
        "COMPLETED", "2", "2", "0"], mine
    r = run(env, "jobs", "--json", "--status", "COMPLETED")
    listing = json.loads(r.stdout)
    assert job in [j["id"] for j in listing["results"]]
    assert {j["status"] for j in listing["results"]} == {"COMPLETED"}
    r = run(env, "jobs", "--status", "CANCELLED", "--limit", "100")
    assert job not in r.stdout.decode()
    r = run(env, "status", job)
    assert r.returncode == OK, err(r)
    fields = dict(ln.split(": ", 1) for ln in r.stdout.decode().splitlines()
                  if ": " in ln)
    assert fields["id"] == job and fields["status"] == "COMPLETED"
    assert fields["total_rows"] == "2" and fields["success_count"] == "2"
    r = run(env, "status", job.upper(), "--json")
    assert r.returncode == OK
    assert json.loads(r.stdout) == api.get(f"claims/csv-jobs/{job}/").json()
    # Nothing failed: nothing to retry (409).
    r = run(env, "retry", job)
    assert r.returncode == CONFLICT, err(r)
    assert "nothing_to_retry" in err(r)


def wait_for_line(stream, timeout=60):
    deadline = time.time() + timeout
    buf = b""
    while time.time() < deadline and not buf.endswith(b"\n"):
        ready, _, _ = select.select([stream], [], [], 1)
        if ready:
            c = os.read(stream.fileno(), 1)
            if not c:
                break
            buf += c
    return buf.decode().strip()


def test_cancel_retry_and_the_job_exit_code(api, token, home, tmp_path,
                                            outage):
    env = cli_env(home, token)
    # The payer is down: the job waits for it until cancelled (a job
    # pauses after payer.outage_threshold, 10, failures in a row: more
    # rows than that).
    outage(120)
    p = subprocess.Popen([CLI, "upload", write_csv(tmp_path, claims(12)),
                          "--allow-duplicate", "--wait"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        job = wait_for_line(p.stdout)
        assert UUID_RE.match(job), job
        # The token is in the environment only, never in argv.
        with open(f"/proc/{p.pid}/cmdline", "rb") as f:
            assert token.encode() not in f.read()
        r = run(env, "results", job)
        assert r.returncode == CONFLICT and r.stdout == b"", err(r)
        assert "job_not_finished" in err(r)
        # Cancel once the run waits for the payer: it looks at the job
        # every second then (earlier, a run about to pause may leave it
        # CANCELLING until the watchdog's stale_s).
        deadline = time.time() + 60
        while not api.get(f"claims/csv-jobs/{job}/progress/").json()[
                "waiting_for_payer"]:
            assert time.time() < deadline, "the job never paused"
            time.sleep(0.25)
        r = run(env, "cancel", job)
        assert r.returncode == OK, err(r)
        assert re.match(rf"job {job}: CANCELL(ING|ED)$",
                        r.stdout.decode().strip())
        _, stderr = p.communicate(timeout=60)
    finally:
        p.kill()
        p.wait()
    assert p.returncode == JOB, stderr
    assert stderr.decode().splitlines()[-1].startswith(
        f"job {job}: CANCELLED")
    r = run(env, "cancel", job)
    assert r.returncode == CONFLICT and "job_finished" in err(r)
    outage(0)
    # Retry sends the unprocessed rows again; --wait follows it.
    out = tmp_path / "retried.csv"
    r = run(env, "retry", job, "--wait", "--out", out, "--interval", "0.5")
    assert r.returncode == OK, err(r)
    assert r.stdout.decode().startswith(f"job {job}: PENDING, ")
    assert out.read_bytes() == api_results(api, job)
    assert api.get(f"claims/csv-jobs/{job}/").json()["status"] == \
        "COMPLETED"


def test_exit_codes(api, token, home, tmp_path, other_org_api):
    env = cli_env(home, token)
    # Input the API refuses: its message (with the columns) on stderr.
    bad = write_csv(tmp_path, "claim,name\nZE1,x\n", "bad.csv")
    r = run(env, "upload", bad, "--allow-duplicate")
    assert r.returncode == INPUT and r.stdout == b"", err(r)
    assert "missing_columns" in err(r) and "HTTP 400" in err(r)
    # The same file again within the duplicate window: 409, with the
    # first job's id.
    dup = write_csv(tmp_path, claims(1), "dup.csv")
    r = run(env, "upload", dup)
    assert r.returncode == OK, err(r)
    first = r.stdout.decode().strip()
    r = run(env, "upload", dup)
    assert r.returncode == CONFLICT and r.stdout == b"", err(r)
    assert "duplicate_upload" in err(r) and f"job_id {first}" in err(r)
    r = run(env, "upload", tmp_path / "absent.csv")
    assert r.returncode == INPUT and "absent.csv" in err(r)
    # Authentication: a wrong token; a viewer may not upload.
    r = run(cli_env(home, "wrong" + token[5:]), "jobs")
    assert r.returncode == AUTH and "authentication_failed" in err(r)
    viewer = new_org(tmp_path, roles=("viewer",))["viewer"]
    r = run(cli_env(home, viewer.token), "upload",
            write_csv(tmp_path, claims(1)))
    assert r.returncode == AUTH and "forbidden" in err(r), err(r)
    # Network: nothing listens; TLS: the dev CA not trusted.
    r = run(cli_env(home, token, url="https://127.0.0.1:1"), "jobs")
    assert r.returncode == NET, err(r)
    if isinstance(CACERT, str):
        r = run(cli_env(home, token, cacert=None), "jobs")
        assert r.returncode == NET, err(r)
        # --cacert wins over the environment.
        r = run(cli_env(home, token, cacert="/nonexistent"), "jobs",
                "--cacert", CACERT)
        assert r.returncode == OK, err(r)
    # Plain http would send the token in clear text.
    r = run(cli_env(home, token, url="http://localhost:1"), "jobs")
    assert r.returncode == INPUT and "https" in err(r)
    # Not found: a job id that does not exist.
    missing = str(uuid.uuid4())
    for cmd in ("status", "results", "cancel", "retry"):
        r = run(env, cmd, missing)
        assert r.returncode == NOTFOUND, (cmd, err(r))
        assert "not_found" in err(r)
    # A failed job: the other organisation has no practice.
    other = other_org_api.s.headers["Authorization"].split(" ", 1)[1]
    r = run(cli_env(home, other), "upload", write_csv(tmp_path, claims(1)),
            "--allow-duplicate", "--wait", "--out", tmp_path / "f.csv")
    assert r.returncode == JOB, err(r)
    assert ": FAILED " in err(r).splitlines()[-1]
    job = r.stdout.decode().strip()
    assert (tmp_path / "f.csv").read_bytes() == \
        api_results(other_org_api, job)


def test_config_file(token, home, tmp_path):
    conf = home / ".config" / "bulkclaims" / "config"
    conf.parent.mkdir(parents=True)
    lines = ["# the client's settings", f"url = {URL}",
             f"token = {token}"]
    if isinstance(CACERT, str):
        lines.append(f"cacert = {CACERT}")
    conf.write_text("\n".join(lines) + "\n")
    env = cli_env(home, url=None, cacert=None)
    for mode, word in ((0o644, "readable"), (0o640, "readable"),
                       (0o620, "writable"), (0o602, "writable")):
        os.chmod(conf, mode)
        r = run(env, "jobs", secret=token)
        assert r.returncode == INPUT, (oct(mode), err(r))
        assert "refusing config" in err(r) and word in err(r)
        assert f"chmod 600 {conf}" in err(r)
    os.chmod(conf, 0o600)
    r = run(env, "jobs", secret=token)
    assert r.returncode == OK, err(r)
    # The environment wins over the file.
    r = run(cli_env(home, "wrong" + token[5:], url=None, cacert=None),
            "jobs")
    assert r.returncode == AUTH
    # XDG_CONFIG_HOME and --config name other files.
    other = tmp_path / "other.conf"
    other.write_text(f"url = {URL}\n")
    os.chmod(other, 0o600)
    r = run(env, "--config", other, "jobs", secret=token)
    assert r.returncode == INPUT and "no API token" in err(r)
    r = run(env, "--config", tmp_path / "absent", "jobs")
    assert r.returncode == INPUT and "absent" in err(r)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    r = run(env, "jobs", secret=token)
    assert r.returncode == INPUT and "no server" in err(r)


def test_token_never_from_argv(token, home):
    env = cli_env(home)
    for args in (("--token", token, "jobs"), (f"--token={token}", "jobs"),
                 ("jobs", "--token", token)):
        r = run(env, *args, secret=token)
        assert r.returncode == INPUT
        assert "never read from the command line" in err(r)


def read_pty(master, proc, timeout=120):
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out


def test_progress_bar_on_a_terminal(api, token, home, tmp_path, outage):
    env = cli_env(home, token)
    # A payer outage of a few seconds: the job pauses, then completes.
    outage(4)
    env["TERM"] = "xterm"
    master, slave = pty.openpty()
    tty.setraw(slave)       # no \n -> \r\n translation: count our \r
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    p = subprocess.Popen([CLI, "upload", write_csv(tmp_path, claims(20)),
                          "--allow-duplicate", "--wait", "--interval",
                          "0.5"], env=env, stdout=subprocess.PIPE,
                         stderr=slave)
    os.close(slave)
    try:
        screen = read_pty(master, p)
        p.wait(timeout=60)
    finally:
        p.kill()
        os.close(master)
    assert p.returncode == OK, screen
    job = p.stdout.read().decode().strip()
    assert UUID_RE.match(job)
    text = screen.decode()
    assert "\x1b" not in text
    # Redrawn in place: several frames, one newline at the very end.
    assert text.endswith("\n") and text.count("\n") == 1, repr(text)
    frames = [f.rstrip() for f in text.rstrip("\n").split("\r") if f]
    assert len(frames) >= 3, frames
    assert all(len(f) < 100 for f in frames), frames
    assert frames[0].startswith("[") and "rows" in frames[0]
    last = frames[-1]
    assert "100%" in last and "20/20 rows" in last, last
    assert re.search(r"ok 20  failed 0$", last), last
    assert any("payer paused" in f for f in frames), frames
    assert "#" * 10 in last and "." not in last.split("]")[0]
    assert "100%" not in frames[0]
