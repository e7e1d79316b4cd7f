#!/bin/bash
# make check: the Prometheus alerting rules in monitoring/ load
# (promtool check rules), each alert fires and stays quiet where
# monitoring/alerts-test.yml says (promtool test rules), and every query
# of the Grafana dashboard is valid PromQL (checked as recording rules).
dir="${srcdir:-.}/monitoring"
echo "1..3"
if ! command -v promtool >/dev/null; then
	# scripts/install-deps installs it (Debian package prometheus).
	for i in 1 2 3; do echo "not ok $i - promtool not installed"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if out=$(promtool check rules "$dir/alerts.yml" 2>&1); then
	echo "ok 1 - promtool check rules alerts.yml"
else
	echo "not ok 1 - promtool check rules alerts.yml"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
# promtool test rules reads rule_files relative to the test file.
if out=$(cd "$dir" && promtool test rules alerts-test.yml 2>&1); then
	echo "ok 2 - promtool test rules alerts-test.yml"
else
	echo "not ok 2 - promtool test rules alerts-test.yml"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
if python3 - "$dir/grafana-dashboard.json" >"$tmp/dash.yml" <<'PY' &&
import json, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
assert len(exprs) >= 10, exprs
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    print("      - record: dashboard_query_%d" % i)
    print("        expr: %s" % json.dumps(e))
PY
    out=$(promtool check rules "$tmp/dash.yml" 2>&1); then
	echo "ok 3 - the dashboard's queries are valid PromQL"
else
	echo "not ok 3 - the dashboard's queries are valid PromQL"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
