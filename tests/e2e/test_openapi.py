"""The OpenAPI description (api/openapi.json) against the code.

Every route of the app's route table (fcgi/router.c) and of the routes
it answers before the table (fcgi/health.c) is in the document with its
method, and every documented operation is one the app or nginx answers;
the document is served at /api/v1/schema/ and rendered at /api/docs/
under the site's Content-Security-Policy.  (conftest.py checks every
answer of every test against the document.)
"""
import json
import os
import re
from html.parser import HTMLParser

import requests

from conftest import CACERT, URL
import openapi_check

ROUTER = os.path.join(openapi_check.REPO, "fcgi", "router.c")
HEALTH = os.path.join(openapi_check.REPO, "fcgi", "health.c")
# Served by nginx from api/ (nginx/bulkclaims-locations.conf.in).
NGINX_SERVED = {("GET", "/api/v1/schema/")}


def router_routes():
    """(method, path) of fcgi/router.c's route table, the job id and
    claim number ("*") and row ("#") segments as "{}"."""
    with open(ROUTER, encoding="utf-8") as f:
        src = f.read()
    table = src[src.index("static const struct route routes[]"):]
    table = table[:table.index("};")]
    # Comments out, strings kept ("csv-jobs/*/" holds a "/*").
    table = re.sub(r'"(?:\\.|[^"\\])*"|/\*.*?\*/',
                   lambda m: m.group(0) if m.group(0)[0] == '"' else " ",
                   table, flags=re.S)
    # The method is a macro (GET, POST: method and Allow) or, for a path
    # served by several entries, a string followed by the Allow string.
    routes = [(m1 or m2, pat) for m1, m2, pat in re.findall(
        r'\{\s*ROUTE_\w+\s*,\s*(?:(GET|POST|DELETE)|"([A-Z]+)"\s*,'
        r'\s*"[^"]*")\s*,\s*"([^"]*)"', table)]
    prefix = re.search(r'#define\s+PREFIX\s+"([^"]+)"', src).group(1)
    out = set()
    for method, pattern in routes:
        segs = ["{}" if s in ("*", "#") else s for s in pattern.split("/")]
        out.add((method, prefix + "/".join(segs)))
    return out


def health_routes():
    """The paths fcgi/health.c answers before the route table (GET)."""
    with open(HEALTH, encoding="utf-8") as f:
        src = f.read()
    body = src[src.index("health_dispatch(struct req *r)"):]
    paths = re.findall(r'strcmp\(r->path,\s*"([^"]+)"\)', body)
    # "/api/v1/health" is the same route without its slash.
    return {("GET", p) for p in paths if p.endswith("/") or p == "/metrics"}


def documented():
    doc = openapi_check.load()
    base = doc["servers"][0]["url"].rstrip("/")
    out = set()
    for tpl, item in doc["paths"].items():
        b = item["servers"][0]["url"].rstrip("/") if item.get("servers") else base
        path = re.sub(r"\{[^}]+\}", "{}", b + tpl)
        for m in openapi_check.METHODS:
            if m in item:
                out.add((m.upper(), path))
    return out


def test_route_table_parsed():
    routes = router_routes()
    # The parser itself must find the table (not an empty set).
    assert ("POST", "/api/v1/claims/bulk/upload/") in routes
    assert ("GET", "/api/v1/claims/csv-jobs/{}/rows/{}/") in routes
    assert len(routes) >= 17, routes


def test_every_route_is_documented():
    missing = (router_routes() | health_routes()) - documented()
    assert not missing, "routes missing from api/openapi.json: %s" % sorted(missing)


def test_every_documented_operation_exists():
    extra = documented() - router_routes() - health_routes() - NGINX_SERVED
    assert not extra, "documented but not routed: %s" % sorted(extra)


def test_schema_served_publicly():
    r = requests.get(URL + "/api/v1/schema/", verify=CACERT, timeout=30)
    assert r.status_code == 200, r.text[:200]
    assert r.headers["Content-Type"].startswith("application/json")
    with open(openapi_check.DOC_PATH, encoding="utf-8") as f:
        assert r.json() == json.load(f)
    assert r.json()["openapi"].startswith("3.1.")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    r = requests.post(URL + "/api/v1/schema/", verify=CACERT, timeout=30)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["Allow"] == "GET, HEAD"
    r = requests.get(URL + "/api/v1/schema", verify=CACERT, timeout=30,
                     allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"].endswith("/api/v1/schema/")


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []
        self.inline = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.refs.append(a["src"])
            else:
                self.inline.append("script")
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.refs.append(a["href"])
        elif tag == "style":
            self.inline.append("style")
        if "style" in a or any(k.startswith("on") for k in a):
            self.inline.append(tag + " attribute")


def test_reference_page_under_csp():
    """/api/docs/ is Swagger UI from the pinned npm package, its script
    and styles as files from 'self' (the CSP allows nothing inline)."""
    r = requests.get(URL + "/api/docs/", verify=CACERT, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    p = _Refs()
    p.feed(r.text)
    assert not p.inline, "inline code is refused by the CSP: %s" % p.inline
    assert "swagger-ui-bundle.js" in p.refs, (
        "the renderer is not installed (api/build-docs.sh needs npm): " +
        r.text[:300])
    for ref in p.refs:
        a = requests.get(URL + "/api/docs/" + ref, verify=CACERT, timeout=30)
        assert a.status_code == 200, ref
        want = "text/css" if ref.endswith(".css") else "javascript"
        assert want in a.headers["Content-Type"], (ref, a.headers["Content-Type"])
    init = requests.get(URL + "/api/docs/init.js", verify=CACERT, timeout=30)
    assert '"/api/v1/schema/"' in init.text


def test_examples_match_their_schemas():
    """Every example in the document is an answer the document allows."""
    doc = openapi_check.load()
    c = openapi_check.Checker(doc)
    problems = []

    def walk(node, where):
        if isinstance(node, dict):
            if "schema" in node and "example" in node:
                problems.extend("%s: %s" % (where, p) for p in
                                c.validate(node["schema"], node["example"]))
            if "schema" in node and isinstance(node.get("examples"), dict):
                for k, ex in node["examples"].items():
                    problems.extend("%s/%s: %s" % (where, k, p) for p in
                                    c.validate(node["schema"], ex["value"]))
            if isinstance(node.get("examples"), list) and "type" in node:
                for ex in node["examples"]:
                    problems.extend("%s: %s" % (where, p) for p in
                                    c.validate(node, ex))
            for k, v in node.items():
                walk(v, where + "/" + k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s/%d" % (where, i))

    walk(doc, "#")
    assert not problems, "\n".join(problems[:20])
