#!/bin/sh
# Browser tests of the web frontend: playwright-core driving Debian's
# chromium against the stack scripts/test started (BC_URL, BC_CACERT, BC_VAR,
# BC_ARTIFACTS). Installs what is missing; prints "N passed, N failed" last
# and exits non-zero on any failure. Arguments go to the runner (-g PATTERN).
set -eu
cd "$(dirname "$0")"

mkdir -p "${BC_ARTIFACTS:=$(pwd)/artifacts}/screenshots"
CHROMIUM=${BC_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null 2>&1 ||
    ! command -v npm >/dev/null 2>&1; then
	# Debian's chromium, and Debian's node and npm if there is no node.
	../../scripts/install-deps --browser --log "$BC_ARTIFACTS/install-deps.log" || {
		echo "0 passed, 1 failed"
		exit 1
	}
fi

# The pinned playwright-core (package-lock.json), installed again when
# node_modules holds another version.
want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' package.json)
have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' \
    node_modules/playwright-core/package.json 2>/dev/null || true)
if [ "$have" != "$want" ]; then
	# playwright-core never downloads a browser; we use Debian's.
	echo "# npm ci: playwright-core $want (node $(node --version))" >&2
	npm ci --no-audit --no-fund >"$BC_ARTIFACTS/npm.log" 2>&1 || {
		tail -n 20 "$BC_ARTIFACTS/npm.log" >&2
		echo "npm ci failed (log: $BC_ARTIFACTS/npm.log)" >&2
		echo "0 passed, 1 failed"
		exit 1
	}
fi

rm -f "$BC_ARTIFACTS"/screenshots/*.png	# this run's pictures only
export BC_ARTIFACTS
exec node test_frontend.mjs "$@"
