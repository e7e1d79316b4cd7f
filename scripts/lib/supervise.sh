#!/usr/bin/env bash
# Keeps one program running: restarts it after any exit it was not asked
# for, and logs each restart to log/supervisor.log.  The delay is 1 s,
# doubled (up to 30 s) each time the program dies within 10 s of its
# start: a program that cannot start (bad config, database gone) is not
# restarted in a tight loop.
#
#   supervise.sh NAME RUNDIR LOGDIR -- command args...
#
# Started detached (setsid) by scripts/lib/services.sh, so Ctrl-C on the
# terminal does not reach the programs; scripts/stop sends SIGTERM to the
# pid in RUNDIR/NAME.supervisor.pid, which stops the program (SIGTERM,
# then SIGKILL after 10 s) and exits.  The program's own pid is in
# RUNDIR/NAME.pid; its stdout and stderr go to LOGDIR/NAME.out (crash
# output, sanitizer reports), its log lines to LOGDIR/NAME.log.
# One block, read before it runs: a git pull that changes this file
# does not disturb supervisors that are running.
{
set -u
name=$1 rundir=$2 logdir=$3
shift 4

stopping=0
child=
slog() {
	printf '%s supervisor: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" \
	    >>"$logdir/supervisor.log"
}
stop() {
	local i

	stopping=1
	[ -n "$child" ] || exit 0
	kill -TERM "$child" 2>/dev/null
	for i in $(seq 200); do
		kill -0 "$child" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$child" 2>/dev/null
	rm -f "$rundir/$name.pid" "$rundir/$name.supervisor.pid"
	exit 0
}
trap stop TERM INT HUP

echo $$ >"$rundir/$name.supervisor.pid"
restarts=0
delay=1
while :; do
	started=$SECONDS
	"$@" >>"$logdir/$name.out" 2>&1 </dev/null &
	child=$!
	echo "$child" >"$rundir/$name.pid"
	wait "$child"
	rc=$?
	[ "$stopping" = 1 ] && stop
	restarts=$((restarts + 1))
	if [ $((SECONDS - started)) -lt 10 ] && [ "$restarts" -gt 1 ]; then
		delay=$((delay * 2 > 30 ? 30 : delay * 2))
	else
		delay=1
	fi
	slog "$name (pid $child) exited with status $rc; restart $restarts in $delay s"
	sleep "$delay" &
	wait $!
	[ "$stopping" = 1 ] && stop
done
}
