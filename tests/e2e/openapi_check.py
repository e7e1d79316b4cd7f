"""Checks the API's answers against its OpenAPI description.

api/openapi.json describes every route, status and JSON field of the API.
install() wraps requests.Session.send, so every answer an end-to-end test
receives from the stack (any client: Api, sec_util.Browser, relstack)
is checked: its path must be a documented path (or answer one of the
behaviours every route shares: 404 for no route, 301/308 for a missing
final slash, 405 for a method the route lacks), its status must be
documented for that operation, its Content-Type one the document names,
and a JSON body must validate against the schema of that path, method and
status (JSON Schema 2020-12, the dialect of OpenAPI 3.1).  Problems are
collected; conftest.py fails the test that received them.
"""
import json
import os
import re
import threading
from urllib.parse import unquote, urlsplit

import jsonschema
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOC_PATH = os.path.join(REPO, "api", "openapi.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")
# Answers nginx or the app may give on any path before a handler runs:
# nginx's rate limit and "app not reachable" pages.
GENERIC = {429: ("throttled",), 503: ("service_unavailable",)}

_lock = threading.Lock()
_problems = []


def load(path=DOC_PATH):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Checker:
    """Matches answers to the document's operations and validates them."""

    def __init__(self, doc):
        self.doc = doc
        base = doc.get("servers", [{"url": "/"}])[0]["url"].rstrip("/")
        self.routes = []
        for tpl, item in doc["paths"].items():
            b = base
            if item.get("servers"):
                b = item["servers"][0]["url"].rstrip("/")
            full = b + tpl
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(full)) + "$"
            literal = len([p for p in full.split("/") if p and "{" not in p])
            self.routes.append((literal, full, re.compile(rx), tpl, item))
        # The router tries fixed segments first (csv-jobs/ before a claim
        # number): the most literal template wins.
        self.routes.sort(key=lambda r: -r[0])
        fc = getattr(jsonschema.Draft202012Validator, "FORMAT_CHECKER", None)
        self.format_checker = fc or jsonschema.FormatChecker()

    def match(self, path):
        for _, _, rx, tpl, item in self.routes:
            if rx.match(path):
                return tpl, item
        return None, None

    def covers(self, path):
        """Whether path is one this checker looks at."""
        return path.startswith("/api/v1/") or path == "/api/v1" or \
            any(rx.match(path) for _, _, rx, _, _ in self.routes)

    def resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            node = self.doc
            for part in obj["$ref"].lstrip("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            obj = node
        return obj

    def validate(self, schema, value):
        """Problems of value against schema (refs into the document)."""
        root = {"components": self.doc["components"], "allOf": [schema]}
        v = jsonschema.Draft202012Validator(
            root, format_checker=self.format_checker)
        return ["%s at /%s" % (e.message, "/".join(str(p) for p in e.absolute_path))
                for e in sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))][:5]

    def error_body(self, body, codes=None):
        """Problems of body as the Error schema (with one of codes)."""
        if body is None:
            return ["not JSON"]
        probs = self.validate({"$ref": "#/components/schemas/Error"}, body)
        if not probs and codes is not None and body["error"]["code"] not in codes:
            probs.append("code %r, not one of %s" % (body["error"]["code"], list(codes)))
        return probs

    def check(self, method, path, status, ctype, body, has_body):
        """Problems of one answer: method, decoded path, status, the base
        Content-Type, the parsed JSON body (None when not JSON), whether
        the body was read (not HEAD, not streamed)."""
        method = method.upper()
        where = "%s %s -> %d" % (method, path, status)
        if status == 421:
            # nginx's default server: a Host that is not the site's never
            # reaches a route (the document's description says so).
            return []
        tpl, item = self.match(path)
        if tpl is None:
            if status in GENERIC:
                return [where + ": " + p for p in self.error_body(body, GENERIC[status])] if has_body else []
            slashed = self.match(path + "/")[0] if not path.endswith("/") else None
            if slashed is not None:
                if status in (301, 308, 404):
                    # nginx's own redirects have an HTML body.
                    if not has_body or (status != 404 and body is None):
                        return []
                    return [where + ": " + p for p in self.error_body(body, ("moved", "not_found"))]
                return ["%s: %s is %s without its slash: expected 301/308" % (where, path, slashed)]
            if status == 404:
                return [where + ": " + p for p in self.error_body(body, ("not_found",))] if has_body else []
            return ["%s: no such path in api/openapi.json" % where]
        m = "get" if method == "HEAD" and "head" not in item else method.lower()
        operation = item.get(m)
        if operation is None:
            # DRF authenticates (and checks CSRF) before the method.
            allowed = {405: ("method_not_allowed",), 401: None, 403: ("csrf_failed",)}
            allowed.update(GENERIC)
            if status not in allowed:
                return ["%s: %s has no %s in api/openapi.json" % (where, tpl, method)]
            return [where + ": " + p for p in self.error_body(body, allowed[status])] if has_body else []
        resp = operation["responses"].get(str(status))
        if resp is None:
            resp = operation["responses"].get("%dXX" % (status // 100))
        if resp is None:
            if status in GENERIC:
                return [where + ": " + p for p in self.error_body(body, GENERIC[status])] if has_body else []
            return ["%s: status %d is not documented for %s %s" % (where, status, method, tpl)]
        resp = self.resolve(resp)
        content = resp.get("content")
        if not has_body:
            return []
        if not content:
            if body is not None:
                return ["%s: documented without a body, got one" % where]
            return []
        if ctype not in content:
            return ["%s: Content-Type %r, documented: %s" % (where, ctype, sorted(content))]
        schema = content[ctype].get("schema")
        if ctype == "application/json":
            if body is None:
                return ["%s: the body is not JSON" % where]
            if schema is not None:
                return [where + ": " + p for p in self.validate(schema, body)]
        return []


_checker = None


def checker():
    global _checker
    if _checker is None:
        _checker = Checker(load())
    return _checker


def check_response(r, streamed=False):
    """Checks a requests.Response; problems are kept for take()."""
    u = urlsplit(r.url)
    # The API is served over HTTPS; the plain HTTP server only redirects.
    if u.scheme != "https" or u.hostname not in ("localhost", "127.0.0.1", "::1"):
        return
    path = unquote(u.path)
    c = checker()
    if not c.covers(path):
        return
    method = r.request.method if r.request is not None else "GET"
    ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
    has_body = method != "HEAD" and not streamed
    body = None
    if has_body and ctype == "application/json":
        try:
            body = json.loads(r.content)
        except ValueError:
            body = None
    probs = c.check(method, path, r.status_code, ctype, body, has_body)
    if probs:
        with _lock:
            _problems.extend(probs)


def take():
    """The problems found since the last call."""
    with _lock:
        out = list(_problems)
        del _problems[:]
    return out


def install():
    """Wraps requests.Session.send (once) to check every answer."""
    send = requests.Session.send
    if getattr(send, "_openapi_checked", False):
        return

    def checked_send(self, request, **kw):
        r = send(self, request, **kw)
        try:
            check_response(r, streamed=kw.get("stream", False))
        except Exception as e:  # the checker's own failure is a problem too
            with _lock:
                _problems.append("openapi check of %s failed: %r" % (r.url, e))
        return r

    checked_send._openapi_checked = True
    requests.Session.send = checked_send
