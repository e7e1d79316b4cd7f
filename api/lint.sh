#!/bin/sh
# api/lint.sh: lints openapi.json with the pinned @redocly/cli (npm ci
# when missing; runs on node 18 and 20) under redocly.yaml's rules.
# Prints the linter's report, then "N passed, N failed" last; exits
# non-zero when the document has an error or a warning, or the linter
# cannot run.
set -u
cd "$(dirname "$0")"
# No usage data sent, no update check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

if [ ! -x node_modules/.bin/redocly ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "api/lint.sh: npm is missing (scripts/install-deps installs it)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	npm ci --ignore-scripts --no-audit --no-fund >&2 || {
		echo "api/lint.sh: npm ci failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	}
fi
out=$(mktemp) || exit 1
node_modules/.bin/redocly lint --format=stylish --max-problems=200 \
    openapi.json >"$out" 2>&1
rc=$?
cat "$out"
# Warnings fail too: the document is kept free of them.
grep -q ' warning ' "$out" && rc=1
rm -f "$out"
if [ "$rc" = 0 ]; then
	echo "1 passed, 0 failed"
else
	echo "0 passed, 1 failed"
fi
exit "$rc"
