"""nginx limit_req on the login (per address): a burst of logins gets
nginx's 429 before the app sees them.  Runs after the other security
tests (they log in a lot), and waits for the bucket to drain again so
later suites can log in.
"""
import time

from sec_util import Browser, is_nginx_429


def test_login_rate_limited_by_nginx():
    b = Browser()
    url = b.url("auth/login/")
    statuses = []
    for _ in range(60):
        r = b.s.post(url, json={"username": "limit-probe", "password": "x"},
                     timeout=30, verify=b.s.verify)
        statuses.append(r.status_code)
        if is_nginx_429(r):
            break
    assert is_nginx_429(r), statuses
    # The app's own answers came first (401 or its JSON 429).
    assert statuses[0] in (401, 429)
    # Other API paths (and me/, which the browser pings) are not limited
    # by the login zone.
    assert b.s.get(b.url("auth/me/"), timeout=30,
                   verify=b.s.verify).status_code == 401
    deadline = time.time() + 90
    while time.time() < deadline:
        time.sleep(2)
        r = b.s.post(url, json={"username": "limit-probe", "password": "x"},
                     timeout=30, verify=b.s.verify)
        if not is_nginx_429(r):
            break
    assert not is_nginx_429(r), "the login limit never drained"
