#!/bin/sh
# Browser tests of the web frontend: playwright-core driving Debian's
# chromium against the stack scripts/test started (BC_URL, BC_CACERT, BC_VAR,
# BC_ARTIFACTS). Installs what is missing; prints "N passed, N failed" last
# and exits non-zero on any failure. Arguments go to the runner (-g PATTERN).
set -eu
cd "$(dirname "$0")"

CHROMIUM=${BC_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "# installing Debian's chromium" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2 ||
		    { apt-get update >&2 &&
		    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2; }
	else
		echo "$CHROMIUM is missing: apt-get install chromium" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

if [ ! -d node_modules/playwright-core ]; then
	# playwright-core never downloads a browser; we use Debian's.
	npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2
fi

mkdir -p "${BC_ARTIFACTS:=$(pwd)/artifacts}/screenshots"
rm -f "$BC_ARTIFACTS"/screenshots/*.png	# this run's pictures only
export BC_ARTIFACTS
exec node test_frontend.mjs "$@"
