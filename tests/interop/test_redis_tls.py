"""Redis over TLS the supported way (docs/operations.md): hiredis 0.14
has no TLS, so the worker talks plain RESP to an stunnel client on
loopback, which talks TLS with a client certificate to Redis's own
tls-port (scripts/systemd/bulkclaims-redis-tunnel.conf).  A task goes
through the tunnel both ways; the TLS port refuses plain text.
"""
import os
import shutil
import socket
import subprocess

import pytest

from conftest import (WORKER_BIN, Proc, acl_client, acl_env, make_acl,
                      wait_for)

STUNNEL = shutil.which("stunnel4") or shutil.which("stunnel")
pytestmark = pytest.mark.skipif(STUNNEL is None,
                                reason="stunnel4 not installed "
                                "(scripts/install-deps)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1/localhost and a client
    certificate, EC P-256, in d."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=bulkclaims test CA", cwd=d)
    for name, ext in (("server", "subjectAltName=DNS:localhost,"
                       "IP:127.0.0.1"), ("client", "extendedKeyUsage="
                                         "clientAuth")):
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name, cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext + "\n")
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", name + ".ext", "-out", name + ".crt", cwd=d)
        os.chmod(os.path.join(d, name + ".key"), 0o600)


@pytest.fixture
def tls_redis(tmp_path):
    d = str(tmp_path)
    make_pki(d)
    make_acl(d)
    tls_port, tunnel_port = free_port(), free_port()
    sock = os.path.join(d, "redis.sock")
    conf = os.path.join(d, "redis.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "port 0", "bind 127.0.0.1", "tls-port %d" % tls_port,
            "tls-cert-file " + os.path.join(d, "server.crt"),
            "tls-key-file " + os.path.join(d, "server.key"),
            "tls-ca-cert-file " + os.path.join(d, "ca.crt"),
            "tls-auth-clients yes", "unixsocket " + sock,
            "unixsocketperm 700", 'save ""', "appendonly no", "dir " + d,
            "include " + os.path.join(d, "redis-acl.conf")]) + "\n")
    rs = subprocess.Popen(["redis-server", conf], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    # the tunnel: the shipped configuration, pointed at this test's files
    shipped = open(os.path.join(os.path.dirname(__file__), "..", "..",
                                "scripts", "systemd",
                                "bulkclaims-redis-tunnel.conf")).read()
    tconf = os.path.join(d, "tunnel.conf")
    with open(tconf, "w") as f:
        f.write(shipped
                .replace("127.0.0.1:6380", "127.0.0.1:%d" % tunnel_port)
                .replace("redis.example:6379", "127.0.0.1:%d" % tls_port)
                .replace("checkHost = redis.example", "checkIP = 127.0.0.1")
                .replace("/etc/bulkclaims/tls/redis-", d + "/")
                .replace("/run/credentials/bulkclaims-redis-tunnel.service/"
                         "redis-", d + "/"))
    log = open(os.path.join(d, "stunnel.log"), "wb")
    tn = subprocess.Popen([STUNNEL, tconf], stdout=log,
                          stderr=subprocess.STDOUT)
    assert wait_for(lambda: os.path.exists(sock), 10), "redis did not start"

    def listening(port):
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            return False
    assert wait_for(lambda: listening(tunnel_port), 10), \
        open(os.path.join(d, "stunnel.log")).read()
    yield {"dir": d, "sock": sock, "tls_port": tls_port,
           "tunnel_port": tunnel_port}
    tn.terminate()
    tn.wait(10)
    log.close()
    rs.terminate()
    rs.wait(10)


def test_worker_through_the_tls_tunnel(tls_redis, tmp_path):
    d = tls_redis["dir"]
    env = dict(os.environ, BULKCLAIMS_REDIS_URL="redis://127.0.0.1:%d/0" %
               tls_redis["tunnel_port"], **acl_env(d))
    env.pop("BULKCLAIMS_CONFIG", None)
    r = acl_client(tls_redis["sock"], d)
    w = Proc([WORKER_BIN, "-d", "--diagnostic-tasks", "-n", "tls@interop"],
             str(tmp_path / "w.log"), env)
    try:
        assert wait_for(lambda: r.scard("_kombu.binding.celery.pidbox"),
                        15), w.log()
        out = subprocess.run([WORKER_BIN, "--publish", "bulkclaims.echo",
                              "--args", "[7]"], env=env, check=True,
                             capture_output=True, text=True, timeout=30)
        tid = out.stdout.strip()
        assert wait_for(lambda: r.get("celery-task-meta-" + tid), 15), \
            w.log()
        assert b'"SUCCESS"' in r.get("celery-task-meta-" + tid)
        # every client of this Redis came over TLS, except the harness
        clients = r.execute_command("CLIENT", "LIST").decode()
        tcp = [l for l in clients.splitlines() if "addr=127.0.0.1" in l]
        assert tcp and all("user=cworker" in l for l in tcp), clients
    finally:
        assert w.stop() == 0, w.log()
    # the TLS port does not speak plain RESP: no tunnel, no Redis
    env["BULKCLAIMS_REDIS_URL"] = "redis://127.0.0.1:%d/0" % \
        tls_redis["tls_port"]
    out = subprocess.run([WORKER_BIN, "--publish", "bulkclaims.echo",
                          "--args", "[8]"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0
