"""nginx smoke tests: static files, the HTTP->HTTPS redirect, the security
headers and the body size limit, through the nginx that scripts/test
started (its dev certificate in BC_CACERT)."""
import os

import requests

URL = os.environ.get("BC_URL", "https://localhost:18443")
HTTP_URL = os.environ.get("BC_HTTP_URL", "http://localhost:18080")
CACERT = os.environ.get("BC_CACERT", True)


def test_index_over_https():
    r = requests.get(URL + "/", verify=CACERT, timeout=10)
    assert r.status_code == 200
    assert "bulkclaims" in r.text
    assert r.headers["Content-Type"].startswith("text/html")


def test_http_redirects_to_https():
    r = requests.get(HTTP_URL + "/some/path?x=1", allow_redirects=False,
                     timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == URL + "/some/path?x=1"


def test_security_headers():
    for path in ("/", "/api/v1/claims/csv-jobs/", "/no-such-file"):
        r = requests.get(URL + path, verify=CACERT, timeout=10)
        h = r.headers
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], path
        assert "default-src 'self'" in h["Content-Security-Policy"], path
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["X-Frame-Options"] == "DENY", path
        assert h["Referrer-Policy"] == "no-referrer", path
        assert h["Strict-Transport-Security"].startswith("max-age="), path
        # One copy of each, whoever else sets it.
        assert "," not in h["X-Content-Type-Options"], path


def test_api_not_cached():
    r = requests.get(URL + "/api/v1/claims/csv-jobs/", verify=CACERT,
                     timeout=10)
    assert r.status_code == 401
    assert r.headers["Cache-Control"] == "no-store"


def test_upload_over_limit_is_413_from_nginx():
    # 10 MiB + 64 KiB is the most nginx accepts; the app never sees this.
    body = b"x" * (10 * 1024 * 1024 + 65 * 1024)
    r = requests.post(URL + "/api/v1/claims/bulk/upload/", data=body,
                      headers={"Content-Type": "text/csv"}, verify=CACERT,
                      timeout=60)
    assert r.status_code == 413


def test_tls_1_1_refused():
    import ssl
    import socket
    host, port = URL.split("//")[1].split(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(CACERT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        with socket.create_connection(("127.0.0.1", int(port)), 10) as s:
            with ctx.wrap_socket(s, server_hostname=host):
                refused = False
    except (ssl.SSLError, ConnectionResetError):
        refused = True
    assert refused
