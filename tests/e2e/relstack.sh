#!/usr/bin/env bash
# tests/e2e/relstack.sh start|stop|redis-restart|pg-stop|pg-start
#
# A dedicated stack for the reliability tests (tests/e2e/test_reliability_*),
# built from scripts/lib like scripts/test's, with the settings fault
# injection needs (short watchdog times, simulator latency, failpoints):
# those cannot be set on the shared test stack while other tests run.
# State in BULKCLAIMS_VAR (default var-rel/), ports 24443/24080/24481
# (BULKCLAIMS_TEST_*_PORT override), binaries from build-test/ (built
# without sanitizers when missing).  Extra config lines: file
# $RELSTACK_EXTRA_CONF, appended to the generated configuration, with
# @RUN@ replaced by the state's run/ folder.  BULKCLAIMS_TEST_LISTEN,
# _REDIS_PORT and _SIM_HOST open it to other network namespaces (see
# scripts/lib/common.sh, bc_init).
# "start" prints KEY=VALUE lines (BC_STATE, BC_RUN, BC_LOG, BC_CONF, ...).
set -euo pipefail

BC_KIND=test
BC_PROG=tests/e2e/relstack.sh
export BULKCLAIMS_VAR=${BULKCLAIMS_VAR:-$(cd "$(dirname "$0")/../.." && pwd -P)/var-rel}
export BULKCLAIMS_TEST_HTTPS_PORT=${BULKCLAIMS_TEST_HTTPS_PORT:-24443}
export BULKCLAIMS_TEST_HTTP_PORT=${BULKCLAIMS_TEST_HTTP_PORT:-24080}
export BULKCLAIMS_TEST_SIM_PORT=${BULKCLAIMS_TEST_SIM_PORT:-24481}
. "$(dirname "$0")/../../scripts/lib/common.sh"
. "$(dirname "$0")/../../scripts/lib/services.sh"

cmd=${1:-}
bc_init
case $cmd in
start)
	bc_ensure_user
	if [ ! -x "$BC_BUILD/worker/bulkclaims-worker" ] ||
	    [ ! -x "$BC_BUILD/fcgi/bulkclaims-fcgi" ]; then
		bc_build >&2
	fi
	bc_setup_var
	bc_check_programs
	[ -z "$BC_MISSING" ] || bc_die "not built: $BC_MISSING"
	bc_copy_runtime
	bc_write_config
	if [ -n "${RELSTACK_EXTRA_CONF:-}" ]; then
		# @RUN@: the real run/ folder (var may be relocated).
		sed "s|@RUN@|$BC_RUN|g" "$RELSTACK_EXTRA_CONF" >>"$BC_CONF"
	fi
	# bc_die exits from inside these: a half-started stack is stopped
	# by the trap, never left running.
	started=0
	trap '[ "$started" = 1 ] || bc_stop_all >&2' EXIT
	{
		bc_tls && bc_pg_start && bc_redis_start && bc_setup_data &&
		    bc_start_programs && bc_nginx_start
	} >&2 || exit 1
	started=1
	printf '%s\n' "BC_STATE=$BC_STATE" "BC_RUN=$BC_RUN" "BC_LOG=$BC_LOG" \
	    "BC_CONF=$BC_CONF" "BC_BUILD=$BC_BUILD" "BC_CTL=$BC_CTL" \
	    "BC_BIN=$BC_BIN" "BC_HTTPS_PORT=$BC_HTTPS_PORT" \
	    "BC_SIM_HOST=$BC_SIM_HOST" "BC_SIM_PORT=$BC_SIM_PORT" \
	    "BC_SVC_USER=$BC_SVC_USER"
	;;
stop)
	bc_state_paths || exit 0
	bc_stop_all
	;;
redis-restart)
	bc_state_paths
	bc_redis_stop
	sleep "${2:-0}"
	bc_redis_start
	;;
pg-stop)
	bc_state_paths
	bc_pg_stop
	;;
pg-start)
	bc_state_paths
	bc_pg_start
	;;
*)
	bc_die "usage: relstack.sh start|stop|redis-restart [S]|pg-stop|pg-start"
	;;
esac
