#!/bin/bash
# make check: bulkclaims-fcgi without log.file (and without -d) logs to
# stderr, fatal lines included, as README.md documents; with log.file the
# lines go to the file instead.
echo "1..6"
prog=./fcgi/bulkclaims-fcgi
d=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$d"' EXIT
# Only the config file: no BULKCLAIMS_* overrides from the environment.
# exec: in the background, $! is then the program itself.
run() { exec env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "$prog" -c "$@"; }
# Nothing listens on port 1: the database is unreachable.  public.url is
# required (links must not follow a client's Host header).
db='database.url = host=127.0.0.1 port=1 dbname=x connect_timeout=2
public.url = https://localhost'

# 1: a fatal start-up error (the socket path is a plain file).
: >"$d/notasocket"
printf '%s\nfcgi.socket = %s\nfcgi.threads = 1\n' "$db" \
    "$d/notasocket" >"$d/fatal.conf"
(run "$d/fatal.conf") 2>"$d/fatal.err" </dev/null
rc=$?
sed 's/^/# stderr: /' "$d/fatal.err"
if [ "$rc" -eq 1 ]; then
	echo "ok 1 - exits 1 on a fatal error"
else
	echo "not ok 1 - exit status $rc on a fatal error"
fi
if grep -q ' fatal fcgi.socket: .* exists and is not a socket' \
    "$d/fatal.err"; then
	echo "ok 2 - the fatal line is on stderr"
else
	echo "not ok 2 - no fatal line on stderr"
fi

# 2: it runs, the database unreachable: the warning and the start line.
printf '%s\nfcgi.socket = %s\nfcgi.threads = 1\n' "$db" "$d/s" \
    >"$d/run.conf"
run "$d/run.conf" 2>"$d/run.err" </dev/null &
pid=$!
for _ in $(seq 200); do
	grep -q ' info started ' "$d/run.err" &&
	    grep -q 'will retry per request' "$d/run.err" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill "$pid" 2>/dev/null
wait "$pid"
pid=
sed 's/^/# stderr: /' "$d/run.err"
if grep -q ' warn thread 0: .*will retry per request' "$d/run.err"; then
	echo "ok 3 - the unreachable database is logged on stderr"
else
	echo "not ok 3 - no database warning on stderr"
fi
if grep -q ' info started socket=' "$d/run.err" &&
    grep -q ' info stopped' "$d/run.err"; then
	echo "ok 4 - start and stop are logged on stderr"
else
	echo "not ok 4 - no start/stop lines on stderr"
fi

# 3: with log.file, the lines go to the file, not to stderr.
printf '%s\nfcgi.socket = %s\nlog.file = %s\n' "$db" "$d/notasocket" \
    "$d/fcgi.log" >"$d/file.conf"
(run "$d/file.conf") 2>"$d/file.err" </dev/null
if grep -q ' fatal fcgi.socket: ' "$d/fcgi.log" 2>/dev/null &&
    ! grep -q ' fatal ' "$d/file.err"; then
	echo "ok 5 - with log.file the fatal line goes to the file only"
else
	echo "not ok 5 - log.file: the fatal line is not in the file alone"
fi
# 4: without public.url the app refuses to start, naming the key.
printf 'database.url = host=127.0.0.1 port=1\nfcgi.socket = %s\n' \
    "$d/s2" >"$d/nopub.conf"
# timeout: a program that starts anyway would run until killed.
timeout 20 env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "$prog" -c "$d/nopub.conf" \
    2>"$d/nopub.err" </dev/null
rc=$?
if [ "$rc" -eq 1 ] && grep -q ' fatal public.url is not set' \
    "$d/nopub.err"; then
	echo "ok 6 - refuses to start without public.url"
else
	echo "not ok 6 - without public.url: status $rc"
fi
exit 0
