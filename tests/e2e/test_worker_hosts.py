"""Worker hosts that share nothing but the network: any worker on any
machine can process any part of any job without a shared disk.

The test makes its "hosts" itself: HOSTS network namespaces, each joined
to the root namespace by a veth pair on its own /30 (10.231.B.4N/30 for
host N, B = the port base / 1000: the root side .4N+1, the host .4N+2,
default route through the root side).  Its stack (relstack.py's Stack:
HTTPS 27443, HTTP 27080, simulator 27481, Redis 27379, state in
var-hosts/) keeps its unix sockets and loopback ports, and also listens
on the root sides: PostgreSQL on port 5432 (pg_hba lets the /30s in),
Redis on 27379.  The payer simulator listens on host 1's root side only,
the one address every host reaches through its own link, as real hosts
reach a payer API through their gateways (the payer URL is one for all
workers: it lives in the database).

One bulkclaims-worker runs in each namespace with its own folder (its
config, its copy of the credential key, its log): it reaches PostgreSQL
and Redis at its own link's root address and the payer over that link;
there is no unix socket it could share, and the root namespace's
127.0.0.1 is not reachable from it (checked).

The stack's own worker is stopped before the job is uploaded, so every
task (the split and every chunk) runs on a namespaced host: if a single
row stored had not crossed a veth link the test could not tell, and
stopping it makes that impossible.  One 3,000-row job at chunk.rows 500
(6 chunks, one worker process per host, simulator latency 50-100 ms so
a chunk takes about a second): every row stored once with a result,
counters exact, the simulator asked once per claim, every host ran at
least one chunk.

Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) for ip netns; skipped with the
reason otherwise.  Namespaces and links are removed in a finalizer, also
after a failure, and before the start in case an earlier run was killed.
Another port base: BC_HOSTS_PORT_BASE (names and subnets follow it).
"""
import errno
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from relstack import Stack, assert_exact, claims_csv
from sec_util import redis_cli

PORT_BASE = int(os.environ.get("BC_HOSTS_PORT_BASE", "27000"))
REDIS_PORT = PORT_BASE + 379
PG_PORT = 5432		# one port for the socket and TCP: the stack's default
HOSTS = 3
CHUNK_ROWS = 500
BIG = 3000
PYTHON = "/usr/bin/python3"

EXTRA_CONF = """
# tests/e2e/test_worker_hosts.py
chunk.rows = %d
sim.latency_min_ms = 50
sim.latency_max_ms = 100
watchdog.interval_s = 1
watchdog.stale_s = 8
""" % CHUNK_ROWS


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


class Hosts:
    """HOSTS network namespaces, each with a veth link to the root
    namespace.  Names carry the port base ("bch27-host1", links
    "bch27h1" and, inside, "bch27h1p") so that two checkouts with two
    bases do not meet."""

    def __init__(self, n):
        tag = "bch%d" % (PORT_BASE // 1000)
        net = "10.231.%d." % (PORT_BASE // 1000)
        self.hosts = []
        for i in range(1, n + 1):
            self.hosts.append({
                "name": "host%d" % i,
                "ns": "%s-host%d" % (tag, i),
                "link": "%sh%d" % (tag, i),
                "peer": "%sh%dp" % (tag, i),
                "gw": net + str(4 * i + 1),
                "addr": net + str(4 * i + 2),
            })

    def destroy(self):
        """Removes what create made; quiet about what is not there."""
        if os.geteuid() != 0 or shutil.which("ip") is None:
            return
        for h in self.hosts:
            # Deleting the namespace deletes the peer, and the pair with
            # it; the root side is deleted too in case the namespace was.
            sh("ip", "netns", "del", h["ns"], check=False)
            sh("ip", "link", "del", h["link"], check=False)

    def create(self):
        if os.geteuid() != 0:
            pytest.skip("worker hosts in network namespaces need root "
                        "(CAP_NET_ADMIN for ip netns)")
        if shutil.which("ip") is None:
            pytest.skip("no ip(8) (iproute2) to make network namespaces")
        self.destroy()
        r = sh("ip", "netns", "add", self.hosts[0]["ns"], check=False)
        if r.returncode != 0:
            if os.strerror(errno.EPERM) in r.stderr:
                pytest.skip("ip netns add not permitted (it needs "
                            "CAP_SYS_ADMIN and CAP_NET_ADMIN): "
                            + r.stderr.strip())
            raise AssertionError("ip netns add: " + r.stderr.strip())
        for h in self.hosts:
            ns = h["ns"]
            if h is not self.hosts[0]:
                sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", h["link"], "type", "veth",
               "peer", "name", h["peer"], "netns", ns)
            sh("ip", "addr", "add", h["gw"] + "/30", "dev", h["link"])
            sh("ip", "link", "set", h["link"], "up")
            sh("ip", "-n", ns, "addr", "add", h["addr"] + "/30",
               "dev", h["peer"])
            sh("ip", "-n", ns, "link", "set", h["peer"], "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "route", "add", "default", "via", h["gw"])

    def listen(self):
        """BULKCLAIMS_TEST_LISTEN: the root sides with their /30s."""
        return " ".join("%s/30" % h["gw"] for h in self.hosts)

    def connects(self, ns, addr, port):
        """True if a TCP connection from inside ns to addr:port opens."""
        r = subprocess.run(
            ["ip", "netns", "exec", ns, PYTHON, "-c",
             "import socket, sys\n"
             "socket.create_connection((sys.argv[1], int(sys.argv[2])), 3)",
             addr, str(port)], capture_output=True, text=True, timeout=30)
        return r.returncode == 0


class HostsStack(Stack):
    """relstack's Stack on this file's ports, open to the hosts' links,
    plus one worker per host."""

    def __init__(self, tmpdir, hosts):
        self.hosts = hosts
        self.procs = {}
        Stack.__init__(self, tmpdir, var_env="BC_HOSTS_VAR",
                       var_default="var-hosts", port_base=PORT_BASE,
                       extra_conf=EXTRA_CONF, env={
                           "BULKCLAIMS_TEST_LISTEN": hosts.listen(),
                           "BULKCLAIMS_TEST_REDIS_PORT": str(REDIS_PORT),
                           "BULKCLAIMS_TEST_SIM_HOST":
                               hosts.hosts[0]["gw"]})

    def stop_stack_worker(self):
        """Stops the stack's own worker (its supervisor stops it and
        removes both pidfiles)."""
        os.kill(self.pid("worker.supervisor"), signal.SIGTERM)
        deadline = time.time() + 30
        while os.path.exists(os.path.join(self.run, "worker.pid")):
            assert time.time() < deadline, "the stack's worker still runs"
            time.sleep(0.1)

    def host_conf(self, h, folder, key, redis_pw):
        """The stack's configuration with the host's own addresses and
        key; fcgi.* (a unix socket) and sim.* left out: a worker uses
        neither."""
        own = {
            "database.url": "host=%s port=%d dbname=bulkclaims "
                            "user=bulkclaims" % (h["gw"], PG_PORT),
            # the worker's own role (sql/012_roles.sql)
            "worker.database.url": "host=%s port=%d dbname=bulkclaims "
                                   "user=bulkclaims_worker" % (h["gw"],
                                                               PG_PORT),
            "redis.url": "redis://%s:%d/0" % (h["gw"], REDIS_PORT),
            "secrets.key_file": key,
            # its own copy of the worker's Redis ACL password
            "worker.redis.password_file": redis_pw,
        }
        out = ["# tests/e2e/test_worker_hosts.py: worker %s" % h["name"]]
        with open(self.info["BC_CONF"]) as f:
            for line in f:
                k = line.split("=", 1)[0].strip()
                if k.startswith(("fcgi.", "sim.")) or k in own:
                    continue
                out.append(line.rstrip("\n"))
        out += ["%s = %s" % kv for kv in own.items()]
        text = "\n".join(out) + "\n"
        # Nothing of the stack's run/ folder (its sockets) is left.
        assert self.run not in text, text
        path = os.path.join(folder, "bulkclaims.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_host(self, h):
        """One worker inside h's namespace, as the service user, with its
        own folder hosts/<name>/ (config, key, log)."""
        user = self.info["BC_SVC_USER"]
        top = os.path.join(self.info["BC_STATE"], "hosts")
        folder = os.path.join(top, h["name"])
        os.makedirs(folder)
        shutil.chown(top, user, user)
        key = os.path.join(folder, "credentials.key")
        shutil.copyfile(os.path.join(self.info["BC_STATE"], "secrets",
                                     "credentials.key"), key)
        redis_pw = os.path.join(folder, "redis-worker.pass")
        shutil.copyfile(os.path.join(self.info["BC_STATE"], "secrets",
                                     "redis-worker.pass"), redis_pw)
        conf = self.host_conf(h, folder, key, redis_pw)
        for p in (folder, key, redis_pw, conf):
            os.chmod(p, 0o700 if p == folder else 0o600)
            shutil.chown(p, user, user)
        h["log"] = os.path.join(folder, "worker.log")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("BULKCLAIMS_")}
        env.update(BULKCLAIMS_LOG_FILE=h["log"], HOME=folder,
                   ASAN_OPTIONS="detect_leaks=0:abort_on_error=0")
        binary = os.path.join(self.info["BC_BIN"], "worker",
                              "bulkclaims-worker")
        # ip netns exec and setpriv exec in place: the pid is the
        # worker's.
        with open(os.path.join(folder, "worker.out"), "w") as out:
            p = subprocess.Popen(
                ["ip", "netns", "exec", h["ns"], "setpriv",
                 "--reuid=" + user, "--regid=" + user, "--init-groups",
                 "--", binary, "-c", conf,
                 "-n", "%s@%s" % (h["name"], h["ns"])],
                env=env, cwd=folder, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=out)
        self.procs[h["name"]] = p
        deadline = time.time() + 30
        while " ready" not in self.host_log(h):
            assert p.poll() is None, "%s exited: %s" % (
                h["name"], self.host_log(h)[-2000:])
            assert time.time() < deadline, "%s not ready" % h["name"]
            time.sleep(0.2)

    def host_log(self, h):
        try:
            with open(h["log"], errors="replace") as f:
                return f.read()
        except (KeyError, FileNotFoundError):
            return ""

    def stop_hosts(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = {}

    def redis_clients(self):
        r = redis_cli(os.path.join(self.run, "redis.sock"), "CLIENT", "LIST",
                      conf=self.info["BC_CONF"])
        assert r.returncode == 0, r.stderr
        return r.stdout


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory):
    hosts = Hosts(HOSTS)
    # Finalizers run last-registered first: workers, stack, namespaces.
    request.addfinalizer(hosts.destroy)
    hosts.create()
    s = HostsStack(tmp_path_factory.mktemp("hostsstack"), hosts)
    request.addfinalizer(s.stop)
    request.addfinalizer(s.stop_hosts)
    s.stop_stack_worker()
    for h in hosts.hosts:
        s.start_host(h)
    return s


def test_isolated_hosts(stack):
    """Inside a namespace the root namespace's loopback services are out
    of reach, its link's root side is not: the workers use the network."""
    https = int(stack.info["BC_HTTPS_PORT"])
    net = stack.hosts
    # Here, in the root namespace, nginx answers on 127.0.0.1.
    socket.create_connection(("127.0.0.1", https), 3).close()
    for h in net.hosts:
        assert not net.connects(h["ns"], "127.0.0.1", https), h["ns"]
        assert net.connects(h["ns"], h["gw"], REDIS_PORT), h["ns"]
        assert net.connects(h["ns"], h["gw"], PG_PORT), h["ns"]
    # Each worker holds its connections over its own link.
    addrs = {a for a, in stack.psql(
        "SELECT DISTINCT host(client_addr) FROM pg_stat_activity "
        "WHERE client_addr IS NOT NULL")}
    clients = stack.redis_clients()
    for h in net.hosts:
        assert h["addr"] in addrs, (h["name"], addrs)
        assert "addr=%s:" % h["addr"] in clients, (h["name"], clients)


def test_big_job_on_worker_hosts(stack):
    """3,000 rows, 6 chunks, three hosts: every row once, counters exact,
    the payer asked once per claim, every host ran a chunk."""
    stack.sim_reset()
    prefix = "H" + uuid.uuid4().hex[:5].upper()
    t0 = time.time()
    r = stack.upload(claims_csv(BIG, prefix))
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    stack.wait_status(job, {"COMPLETED"}, 180)
    took = time.time() - t0

    assert_exact(stack, job, BIG)
    res = stack.results(job)
    assert sorted(x["claim_number"] for x in res) == \
        ["%s%07d" % (prefix, i) for i in range(BIG)]
    assert all(x["status"] and x["success"] in ("true", "false")
               for x in res)
    p = stack.progress(job)
    assert p["processed_rows"] == p["success_count"] + \
        p["failure_count"] == p["total_rows"] == BIG, p

    (tot, done), = stack.psql("SELECT chunks_total, chunks_done FROM "
                              "csv_jobs WHERE id = '%s'" % job)
    assert int(tot) == int(done) == BIG // CHUNK_ROWS
    nodes = {by for by, in stack.psql(
        "SELECT done_by FROM csv_job_chunks WHERE job_id = '%s'" % job)}
    names = {"%s@%s" % (h["name"], h["ns"]) for h in stack.hosts.hosts}
    assert nodes <= names, nodes
    for h in stack.hosts.hosts:
        assert "chunk done job=%s" % job in stack.host_log(h), h["name"]

    st = stack.sim_stats()
    assert st["claims_distinct"] == BIG, st
    assert st["claims_repeated"] == 0, st
    assert st["max_requests_per_claim"] == 1, st
    print("3,000 rows on %d worker hosts: %.1f s" % (HOSTS, took))
