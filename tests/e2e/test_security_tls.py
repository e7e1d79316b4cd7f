"""Transport and headers: TLS 1.2 and 1.3 only (checked with openssl
s_client), forward-secret AEAD suites only on 1.2, HSTS and the security
headers on every kind of response (API, errors, static files), no-store
on the API and on results, plain HTTP only redirects.
"""
import os
import subprocess
from urllib.parse import urlparse

import pytest
import requests

from conftest import CACERT, URL
from sec_util import phi_csv

HOST = urlparse(URL).hostname
PORT = urlparse(URL).port or 443


def s_client(*args):
    """openssl s_client against the server; (handshake_ok, output)."""
    cmd = ["openssl", "s_client", "-connect", f"{HOST}:{PORT}",
           "-servername", HOST] + list(args)
    if isinstance(CACERT, str):
        cmd += ["-CAfile", CACERT]
    r = subprocess.run(cmd, input="", capture_output=True, text=True,
                       timeout=30)
    out = r.stdout + r.stderr
    ok = r.returncode == 0 and "Cipher is (NONE)" not in out and \
        "New, " in out
    return ok, out


def test_tls12_and_tls13_accepted():
    ok, out = s_client("-tls1_3")
    assert ok, out
    assert "TLSv1.3" in out
    ok, out = s_client("-tls1_2")
    assert ok, out
    assert "Verify return code: 0" in out or not isinstance(CACERT, str)


@pytest.mark.parametrize("proto", ["-tls1_1", "-tls1"])
def test_old_tls_refused(proto):
    # SECLEVEL=0 lets OpenSSL 3 offer the old protocol at all: the server
    # must be the one that refuses.
    ok, out = s_client(proto, "-cipher", "DEFAULT:@SECLEVEL=0")
    assert not ok, out
    assert "alert protocol version" in out, out


@pytest.mark.parametrize("cipher", ["AES128-SHA", "AES256-GCM-SHA384",
                                    "ECDHE-RSA-AES128-SHA",
                                    "ECDHE-RSA-AES256-SHA384",
                                    "ECDHE-ECDSA-AES128-SHA",
                                    "ECDHE-ECDSA-AES256-SHA384"])
def test_weak_tls12_suites_refused(cipher):
    # Static RSA key exchange (no forward secrecy) and CBC suites, with
    # either kind of certificate (the dev certificate is ECDSA, which
    # alone would refuse the RSA ones).
    ok, out = s_client("-tls1_2", "-cipher", cipher + ":@SECLEVEL=0")
    assert not ok, out
    assert "alert handshake failure" in out, out


def test_tls12_uses_forward_secret_aead():
    ok, out = s_client("-tls1_2")
    assert ok, out
    line = [ln for ln in out.splitlines() if "Cipher is" in ln][0]
    assert "ECDHE" in line or "DHE" in line, line
    assert "GCM" in line or "CHACHA20" in line, line


def get(path, **kw):
    return requests.get(URL + path, verify=CACERT, timeout=30,
                        allow_redirects=False, **kw)


def check_security_headers(r, api):
    h = r.headers
    assert h.get("Strict-Transport-Security", "").startswith("max-age=")
    age = int(h["Strict-Transport-Security"].split("=")[1].split(";")[0])
    assert age >= 15552000, "HSTS for at least 180 days"
    csp = h.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("Referrer-Policy") in ("no-referrer", "same-origin",
                                        "strict-origin-when-cross-origin")
    assert "nginx/" not in h.get("Server", ""), "no version in Server"
    if api:
        assert h.get("Cache-Control") == "no-store"
    # One copy of each (the app's own are hidden behind nginx's).
    for name in ("Cache-Control", "X-Content-Type-Options",
                 "Content-Security-Policy"):
        assert "," not in h.get(name, "").replace(
            "default-src 'self'; img-src 'self' data:", ""), name


def test_headers_on_api_answers(api, anon):
    check_security_headers(anon.get("claims/csv-jobs/"), True)   # 401
    check_security_headers(api.get("claims/csv-jobs/"), True)    # 200
    check_security_headers(api.get("claims/csv-jobs/"
                                   "00000000-0000-4000-8000-000000000000/"),
                           True)                                  # 404
    check_security_headers(get("/api/v1/nope/"), True)


def test_headers_on_results_download(api):
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    check_security_headers(r, True)
    job = r.json()["id"]
    api.wait_done(job)
    r = api.get(f"claims/csv-jobs/{job}/results/")
    assert r.status_code == 200
    check_security_headers(r, True)
    assert "attachment" in r.headers.get("Content-Disposition", "")


def test_headers_on_static_files():
    r = get("/")
    assert r.status_code == 200
    check_security_headers(r, False)
    r = get("/no-such-file.js")
    assert r.status_code == 404
    check_security_headers(r, False)


def test_plain_http_redirects_to_https():
    base = os.environ.get("BC_HTTP_URL")
    if not base:
        pytest.skip("BC_HTTP_URL not set")
    r = requests.get(base + "/api/v1/claims/csv-jobs/",
                     allow_redirects=False, timeout=30)
    assert r.status_code in (301, 308)
    assert r.headers["Location"].startswith("https://")
