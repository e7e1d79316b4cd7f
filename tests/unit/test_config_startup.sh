#!/bin/bash
# make check: every program refuses to start on a malformed number in
# its configuration (file or BULKCLAIMS_* environment), exits with
# status 1 and names the file, line, key and value on stderr.
echo "1..5"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# Programs are run from the build directory.
unset BULKCLAIMS_CONFIG

# n name expected-text command...: runs the command (which must not
# hang: the old behaviour was to carry on with the default) and checks.
check() {
	local n=$1 name=$2 want=$3
	shift 3
	timeout 20 "$@" >"$d/out" 2>"$d/err" </dev/null
	rc=$?
	sed 's/^/# /' "$d/err" | head -5
	if [ "$rc" = 1 ] && grep -qF -- "$want" "$d/err"; then
		echo "ok $n - $name exits 1 naming the bad value"
	else
		echo "not ok $n - $name: status $rc, want 1 and '$want'"
	fi
}

printf '# bad number on line 2\nfcgi.threads = 4x\n' >"$d/fcgi.conf"
check 1 bulkclaims-fcgi "fcgi.conf:2: fcgi.threads = \"4x\"" \
    fcgi/bulkclaims-fcgi -c "$d/fcgi.conf"

printf 'redis.url = redis://127.0.0.1:1/0\npayer.concurrency = -3\n' \
    >"$d/worker.conf"
check 2 bulkclaims-worker "worker.conf:2: payer.concurrency = \"-3\"" \
    worker/bulkclaims-worker -c "$d/worker.conf"

printf '#\nretention.days = 99999999999999999999\n' >"$d/ctl.conf"
check 3 bulkclaimsctl "ctl.conf:2: retention.days = \"99999999999999999999\"" \
    ctl/bulkclaimsctl -c "$d/ctl.conf" genkey

printf '#\nsim.port = \n' >"$d/sim.conf"
check 4 bulkclaims-payer-sim "sim.conf:2: sim.port = \"\"" \
    payer-sim/bulkclaims-payer-sim -c "$d/sim.conf"

# The environment is checked the same way.
printf 'redis.url = redis://127.0.0.1:1/0\n' >"$d/env.conf"
check 5 "bulkclaims-worker (environment)" \
    "BULKCLAIMS_WORKER_CONCURRENCY (worker.concurrency) = \"2x\"" \
    env BULKCLAIMS_WORKER_CONCURRENCY=2x \
    worker/bulkclaims-worker -c "$d/env.conf"
exit 0
