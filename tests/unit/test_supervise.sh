#!/bin/bash
# make check: scripts/lib/supervise.sh restarts a program that keeps
# dying at once with a growing delay (1, 2, 4 s ...), not every second.
echo "1..3"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sup="${srcdir:-.}/scripts/lib/supervise.sh"
bash "$sup" quick "$d" "$d" -- sh -c 'exit 3' &
pid=$!
sleep 8
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
delays=$(sed -n 's/.*exited with status 3; restart [0-9]* in \([0-9]*\) s$/\1/p' \
    "$d/supervisor.log" | tr '\n' ' ')
sed 's/^/# /' "$d/supervisor.log"
set -- $delays
if [ "$#" -ge 3 ]; then
	echo "ok 1 - restarted ($# times in 8 s)"
else
	echo "not ok 1 - restarted: only $# times in 8 s"
fi
if [ "${1:-}" = 1 ] && [ "${2:-}" = 2 ] && [ "${3:-}" = 4 ]; then
	echo "ok 2 - delays double: $delays"
else
	echo "not ok 2 - delays do not double: $delays"
fi
# Without the back-off it would restart every second (8 times).
if [ "$#" -le 5 ]; then
	echo "ok 3 - no tight loop ($# restarts)"
else
	echo "not ok 3 - tight loop: $# restarts in 8 s"
fi
[ -f "$d/quick.supervisor.pid" ] && echo "# supervisor pid file left"
exit 0
