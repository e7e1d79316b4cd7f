"""Job-end notifications on the reliability stack (relstack.py): an email
through a tiny SMTP sink and a signed webhook to a local receiver that
fails once (the worker retries with backoff).  Neither carries patient
data: counts, status, a link.

The receiver checks the signature as docs/operations.md tells receivers
to: X-Bulkclaims-Signature "t=<unix>,v1=<hex>", v1 the HMAC-SHA256 of
"<t>.<raw body>" under the secret, t within the replay window."""
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
import uuid

import pytest

from relstack import HOOK_PORT, SMTP_PORT, Stack, claims_csv


class SmtpSink(threading.Thread):
    """Just enough SMTP for libcurl: EHLO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", SMTP_PORT))
        self.sock.listen(5)
        self.mails = []

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                self.session(c.makefile("rwb"))

    def session(self, f):
        def say(line):
            f.write(line.encode() + b"\r\n")
            f.flush()
        say("220 sink ESMTP")
        mail = {"rcpt": []}
        while True:
            line = f.readline().decode(errors="replace").rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250 sink")
            elif verb == "MAIL":
                mail["from"] = line
                say("250 ok")
            elif verb == "RCPT":
                mail["rcpt"].append(line)
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                data = []
                while True:
                    d = f.readline()
                    if d in (b".\r\n", b""):
                        break
                    data.append(d)
                mail["data"] = b"".join(data).decode(errors="replace")
                self.mails.append(mail)
                mail = {"rcpt": []}
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")

    def close(self):
        self.sock.close()


# The receiver's replay window (seconds either side of its clock).
REPLAY_WINDOW_S = 300


def verify_signature(secret, header, body, now=None):
    """True if header signs body under secret within the replay window."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - t) > REPLAY_WINDOW_S:
        return False
    mac = hmac.new(secret.encode(), b"%d." % t + body,
                   hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts.get("v1", ""))


class Hooks(http.server.BaseHTTPRequestHandler):
    calls = []
    fail_first = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.calls.append((dict(self.headers), body))
        code = 500 if Hooks.fail_first and len(Hooks.calls) == 1 else 204
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("relstack-notify"))
    yield s
    s.stop()


def test_email_and_webhook_on_completion(stack, tmp_path):
    """A finished job sends one email to the uploader (status, counts,
    link; no names) and one webhook signed with HMAC-SHA256 under the
    organisation's secret; the webhook answered 500 once and was
    delivered on the retry."""
    s = stack
    sink = SmtpSink()
    sink.start()
    srv = http.server.HTTPServer(("127.0.0.1", HOOK_PORT), Hooks)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    secret = uuid.uuid4().hex
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(secret + "\n")
    try:
        (tin,), = s.psql("SELECT o.tin FROM organizations o JOIN users u"
                         " ON u.organization_id = o.id WHERE"
                         " u.username = 'demo'")
        s.ctl("set-webhook", "--tin", tin, "--url",
              "http://127.0.0.1:%d/hook" % HOOK_PORT, "--secret-file",
              str(secret_file))
        # Sealed at rest: the secret is nowhere in the row.
        (row,), = s.psql("SELECT encode(secret_enc, 'hex') FROM"
                         " organization_webhooks o JOIN users u ON"
                         " u.organization_id = o.organization_id WHERE"
                         " u.username = 'demo'")
        assert row and secret.encode().hex() not in row
        r = s.upload(claims_csv(20, "RMAIL"))
        assert r.status_code == 201, r.text
        job = r.json()["id"]
        p = s.wait_status(job, {"COMPLETED"}, 60)
        deadline = time.time() + 30
        while time.time() < deadline and (len(Hooks.calls) < 2 or
                                          not sink.mails):
            time.sleep(0.2)
        assert len(sink.mails) == 1, sink.mails
        m = sink.mails[0]
        assert "<demo@example.com>" in m["rcpt"][0]
        assert job in m["data"] and "COMPLETED" in m["data"]
        assert "Succeeded:  %d" % p["success_count"] in m["data"]
        assert "John" not in m["data"] and "Doe" not in m["data"]
        assert "RMAIL" not in m["data"]
        assert len(Hooks.calls) == 2, "500 first, then the retry"
        headers, body = Hooks.calls[1]
        assert headers["Content-Type"] == "application/json"
        sig = headers["X-Bulkclaims-Signature"]
        assert verify_signature(secret, sig, body), sig
        # A replay after the window, or another body, does not verify.
        assert not verify_signature(secret, sig, body,
                                    now=time.time() + 2 * REPLAY_WINDOW_S)
        assert not verify_signature(secret, sig, body + b" ")
        d = json.loads(body)
        assert d["job_id"] == job and d["status"] == "COMPLETED"
        assert d["processed_rows"] == 20
        assert "John" not in body.decode()
        (sent,), = s.psql("SELECT email_sent_at IS NOT NULL AND "
                          "webhook_sent_at IS NOT NULL FROM csv_jobs "
                          "WHERE id = '%s'" % job)
        assert sent == "t"
        time.sleep(2)	# sent once: no further email or webhook
        assert len(sink.mails) == 1 and len(Hooks.calls) == 2
    finally:
        s.psql("DELETE FROM organization_webhooks")
        srv.shutdown()
        srv.server_close()
        sink.close()
