# Helpers for scripts/bench.  Sourced after scripts/lib/common.sh and
# scripts/lib/services.sh, whose functions start and stop the programs
# (bc_start_prog, bc_kill_pidfile, bc_stop_all, ...); this file only adds
# what a benchmark needs on top: restarting one program with other
# settings, extra workers, the process monitor, and small measurements.

BENCH_TMP=$(mktemp -d /tmp/bulkclaims-bench.XXXXXX)
BENCH_EXTRA_WORKERS="worker2 worker3"
BENCH_MON_PID=

# Stops a bench stack left running and deletes its state folder, so every
# run starts from an empty database.  Refuses a folder that does not look
# like a bulkclaims state folder.
bench_fresh_state() {
	local real name

	mkdir -p "$(dirname "$BC_VAR")"
	if bc_state_paths; then
		for name in $BENCH_EXTRA_WORKERS; do
			bc_kill_pidfile "$BC_RUN/$name.supervisor.pid"
			bc_kill_pidfile "$BC_RUN/$name.pid"
		done
		bc_stop_all
		real=$BC_STATE
		if [ -n "$(ls -A "$real")" ] && [ ! -e "$real/bulkclaims.conf" ]; then
			bc_die "$BC_VAR is not a bulkclaims state folder; not deleting it"
		fi
		rm -rf "$real"
		[ -L "$BC_VAR" ] && rm -f "$BC_VAR"
	fi
	return 0
}

# After scripts/run --background: the variables services.sh's functions
# need (the same calls scripts/run makes; all idempotent).
bench_attach() {
	bc_setup_var
	bc_check_programs
	bc_copy_runtime
	BC_CONF=$BC_STATE/bulkclaims.conf
	bc_tls
	TOKEN=$(cat "$BC_STATE/demo-token")
	BCJOB_ARGS=(--url "$BC_PUBLIC_URL" --cacert "$BC_CERT"
	    --token-file "$BC_STATE/demo-token")
}

bench_cleanup() {
	local name

	mon_stop
	if [ -n "${BC_RUN:-}" ]; then
		for name in $BENCH_EXTRA_WORKERS; do
			bc_kill_pidfile "$BC_RUN/$name.supervisor.pid"
			bc_kill_pidfile "$BC_RUN/$name.pid"
		done
		bc_stop_all
	fi
}

# A configuration value as the programs see it (file, then environment).
bench_conf() {
	local key=$1 def=$2 env v

	env=BULKCLAIMS_$(printf '%s' "$key" | tr 'a-z.' 'A-Z_')
	if [ -n "${!env:-}" ]; then
		printf '%s\n' "${!env}"
		return
	fi
	v=$(sed -n "s/^[[:space:]]*$key[[:space:]]*=[[:space:]]*//p" "$BC_CONF" | tail -n 1)
	printf '%s\n' "${v:-$def}"
}

# As the stack's Redis admin user (services.sh bc_redis_cli).
bench_redis() {
	bc_redis_cli "$@"
}

bench_psql() {
	bc_pg psql -h "$BC_RUN" -U bulkclaims -d bulkclaims -X -q \
	    -v ON_ERROR_STOP=1 "$@"
}

# The job ids of bcjob.py's OUT.json as an SQL list ('id', ...).
bench_job_ids() {
	python3 -c 'import json, sys
print(",".join("'"'"'%s'"'"'" % j["id"] for j in json.load(open(sys.argv[1]))["jobs"]))' "$1"
}

# Runs tests/bench/bcjob.py (FILE... uploaded, waited for) into OUT.json
# and writes OUT.attempts: per job "id rows_retried max_attempts", from
# the database (a row retried by the payer engine waited for a backoff or
# a timeout, which the figures must show).
bench_jobs() {
	local out=$1 ids
	shift

	python3 "$BC_REPO/tests/bench/bcjob.py" "${BCJOB_ARGS[@]}" "$@" >"$out" ||
	    { cat "$out" >&2; return 1; }
	ids=$(bench_job_ids "$out")
	bench_psql -tA -F ' ' -c "SELECT job_id, count(*) FILTER (WHERE attempts > 1),
	    max(attempts) FROM csv_job_rows WHERE job_id IN ($ids) GROUP BY 1" \
	    >"${out%.json}.attempts"
}

# After bench_jobs OUT.json of full-workflow jobs: OUT.calls, per job
# "id rows calls_status calls_details calls_payment details_asked
# payments_asked": the payer requests the job sent per transaction
# (retries included) and the rows whose details and payments were asked
# for (the finalized claims: an answer of that call is stored, with its
# checked_at time; a status that rules the call out stores only a
# NOT_REQUESTED or NOT_FOUND result), so calls needed = rows + the two
# last.
bench_full_calls() {
	local out=$1 ids

	ids=$(bench_job_ids "$out")
	bench_psql -tA -F ' ' -c "SELECT j.id, j.total_rows, j.calls_status,
	    j.calls_details, j.calls_payment,
	    (SELECT count(*) FROM csv_job_rows r WHERE r.job_id = j.id
	    AND r.details_checked_at IS NOT NULL),
	    (SELECT count(*) FROM csv_job_rows r WHERE r.job_id = j.id
	    AND r.payments_checked_at IS NOT NULL)
	    FROM csv_jobs j WHERE j.id IN ($ids)" >"${out%.json}.calls"
}

# After bench_jobs OUT.json: OUT.ledger, per job "id ledger_entries".
bench_ledger_entries() {
	local out=$1 ids

	ids=$(bench_job_ids "$out")
	bench_psql -tA -F ' ' -c "SELECT j.id, (SELECT count(*) FROM claim_ledger l
	    WHERE l.job_id = j.id) FROM csv_jobs j WHERE j.id IN ($ids)" \
	    >"${out%.json}.ledger"
}

# Prints a value from a JSON file: bench_json_get FILE 'd["key"]'.
bench_json_get() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print('"$2"')' "$1"
}

# Stops one supervised program (NAME as in run/NAME.pid).
bench_stop_prog() {
	bc_kill_pidfile "$BC_RUN/$1.supervisor.pid"
	bc_kill_pidfile "$BC_RUN/$1.pid"
}

# Starts one supervised program with extra environment (VAR=value ...)
# and waits until it is healthy.  NAME is payer-sim, fcgi, worker or
# workerN (another bulkclaims-worker with the same configuration and
# node name workerN@host).
bench_start_prog() {
	local name=$1 prog before now i
	shift

	case $name in
	worker*) prog=worker ;;
	*) prog=$name ;;
	esac
	before=$(grep -c ' ready: ' "$BC_LOG/$name.log" 2>/dev/null || true)
	(
		[ $# -gt 0 ] && export "$@"
		[ "$name" != worker ] && [ "$prog" = worker ] &&
		    export BULKCLAIMS_WORKER_NODENAME="$name@%h"
		bc_start_prog "$name" "$BC_BIN/$(bc_prog_rel "$prog")" -c "$BC_CONF"
	)
	case $prog in
	payer-sim)
		bc_wait_for "payer simulator" 20 bc_sim_up || bc_prog_died payer-sim ||
		    bc_die "the simulator did not start"
		;;
	worker)
		for i in $(seq 100); do
			now=$(grep -c ' ready: ' "$BC_LOG/$name.log" 2>/dev/null || true)
			[ "${now:-0}" -gt "${before:-0}" ] && return 0
			sleep 0.1
		done
		bc_prog_died "$name" || bc_die "$name did not start"
		;;
	esac
}

# A new simulator does not know the tokens the old one issued, while the
# engine shares its token through Redis (bulkclaims:payer:token:*): drop
# it, or the first requests of the next job would be refused (401) and
# retried, which a real payer's restart-free service never causes.
bench_restart_sim() {
	local k

	bench_stop_prog payer-sim
	bench_redis --scan --pattern 'bulkclaims:payer:token:*' |
	    while read -r k; do bench_redis DEL "$k" >/dev/null; done
	bench_start_prog payer-sim BULKCLAIMS_SIM_LATENCY_MS="$1"
}

bench_restart_worker() {
	bench_stop_prog worker
	bench_start_prog worker BULKCLAIMS_PAYER_CONCURRENCY="$1"
}

# Uploads FILE; prints "HTTP_CODE TIME_TOTAL TIME_APPCONNECT" (the second
# is when the TLS handshake was done); fails on anything but 201.
bench_upload() {
	local r

	r=$(curl -sS --cacert "$BC_CERT" -H "Authorization: Token $TOKEN" \
	    -F "file=@$1" -o "$BENCH_TMP/upload.json" \
	    -w '%{http_code} %{time_total} %{time_appconnect}' \
	    "$BC_PUBLIC_URL/api/v1/claims/bulk/upload/")
	case $r in
	201\ *) echo "$r" ;;
	*) cat "$BENCH_TMP/upload.json" >&2; bc_die "upload of $1: HTTP $r" ;;
	esac
}

# Uploads FILE... over one kept-alive connection, as a client sending
# several files does: one curl, the transfers joined by --next, each with
# its own -w line "HTTP_CODE TIME_TOTAL TIME_APPCONNECT NUM_CONNECTS
# HTTP_VERSION" (the appconnect time and the count of new connections are
# 0 on a reused connection).  Prints those lines; fails on anything but
# 201 (the answers are in BENCH_TMP/upload-ka-N.json).
bench_upload_keepalive() {
	local f i=0 args=() r

	for f in "$@"; do
		[ "$i" -gt 0 ] && args+=(--next)
		args+=(-sS --cacert "$BC_CERT" -H "Authorization: Token $TOKEN"
		    -F "file=@$f" -o "$BENCH_TMP/upload-ka-$i.json"
		    -w '%{http_code} %{time_total} %{time_appconnect} %{num_connects} %{http_version}\n'
		    "$BC_PUBLIC_URL/api/v1/claims/bulk/upload/")
		i=$((i + 1))
	done
	r=$(curl "${args[@]}")
	printf '%s\n' "$r"
	if [ "$(printf '%s\n' "$r" | grep -c '^201 ')" != "$#" ]; then
		cat "$BENCH_TMP"/upload-ka-*.json >&2
		bc_die "uploads over one connection: not all answered 201"
	fi
}

# One GET of JOB's progress with the demo token; prints "status=S
# cache=HIT|MISS|EXPIRED|BYPASS|- processed=N chunks=DONE/TOTAL".
bench_progress() {
	curl -sS --cacert "$BC_CERT" -H "Authorization: Token $TOKEN" \
	    -D "$BENCH_TMP/progress.hdr" -o "$BENCH_TMP/progress.json" \
	    "$BC_PUBLIC_URL/api/v1/claims/csv-jobs/$1/progress/" ||
	    bc_die "GET progress of job $1 failed"
	python3 -c 'import json, re, sys
d = json.load(open(sys.argv[1]))
m = re.search(r"^x-bulkclaims-cache:\s*(\S+)", open(sys.argv[2]).read(),
              re.I | re.M)
print("status=%s cache=%s processed=%s chunks=%s/%s" % (d["status"],
      m.group(1) if m else "-", d["processed_rows"], d.get("chunks_done"),
      d.get("chunks_total")))' "$BENCH_TMP/progress.json" "$BENCH_TMP/progress.hdr"
}

# Waits up to SECONDS for JOB's status to be STATUS (polling progress
# every 200 ms); prints the last bench_progress line, fails on timeout.
bench_wait_status() {
	local job=$1 want=$2 secs=$3 line i

	for i in $(seq $((secs * 5))); do
		line=$(bench_progress "$job")
		case $line in
		"status=$want "*) echo "$line"; return 0 ;;
		esac
		sleep 0.2
	done
	echo "$line"
	return 1
}

# POST .../cancel/ for JOB (202 expected).
bench_cancel() {
	local code

	code=$(curl -sS --cacert "$BC_CERT" -H "Authorization: Token $TOKEN" \
	    -X POST -o "$BENCH_TMP/cancel.json" -w '%{http_code}' \
	    "$BC_PUBLIC_URL/api/v1/claims/csv-jobs/$1/cancel/")
	[ "$code" = 202 ] ||
	    { cat "$BENCH_TMP/cancel.json" >&2; bc_die "cancel of job $1: HTTP $code"; }
}

# GET progress of JOB under wrk into out/wrk-NAME-N.txt (N = 1 ..
# WRK_RUNS), after a 3 s warm-up, watched by the process monitor (phase
# wrk-NAME); then a short run that counts nginx's X-Bulkclaims-Cache
# answers (tests/bench/wrk-cache-count.lua: a response() hook, so wrk
# parses every answer; kept apart from the timed runs) into
# out/wrk-NAME-cache.txt.
bench_wrk_progress() {
	local name=$1 job=$2 url i

	url="$BC_PUBLIC_URL/api/v1/claims/csv-jobs/$job/progress/"
	BENCH_TOKEN=$TOKEN wrk -t2 -c32 -d3s \
	    -s "$BC_REPO/tests/bench/wrk-token.lua" "$url" >/dev/null
	mon_start "wrk-$name"
	for i in $(seq "$WRK_RUNS"); do
		BENCH_TOKEN=$TOKEN wrk -t2 -c32 -d"${WRK_SECONDS}s" --latency \
		    -s "$BC_REPO/tests/bench/wrk-token.lua" "$url" \
		    >"$OUT/wrk-$name-$i.txt"
	done
	mon_stop
	BENCH_TOKEN=$TOKEN wrk -t2 -c32 -d3s \
	    -s "$BC_REPO/tests/bench/wrk-cache-count.lua" "$url" \
	    >"$OUT/wrk-$name-cache.txt"
}

# Starts the process monitor for phase NAME (out/mon-NAME.json).
mon_start() {
	python3 "$BC_REPO/tests/bench/procmon.py" "$BC_RUN" "$BC_STATE/pg" \
	    "$OUT/mon-$1.json" 0.1 &
	BENCH_MON_PID=$!
}

mon_stop() {
	[ -n "${BENCH_MON_PID:-}" ] || return 0
	kill -TERM "$BENCH_MON_PID" 2>/dev/null || true
	wait "$BENCH_MON_PID" 2>/dev/null || true
	BENCH_MON_PID=
}

# CPU idle % of the whole machine over 1 s and the load average: other
# programs on a shared machine show up here.
bench_idle() {
	local u n s i w x y z t1 i1 t2 i2

	read -r _ u n s i w x y z _ </proc/stat
	t1=$((u + n + s + i + w + x + y + z)) i1=$((i + w))
	sleep 1
	read -r _ u n s i w x y z _ </proc/stat
	t2=$((u + n + s + i + w + x + y + z)) i2=$((i + w))
	echo "idle=$((100 * (i2 - i1) / (t2 - t1))) load=$(cut -d' ' -f1 /proc/loadavg)"
}

bench_machine() {
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc=$(nproc)"
	echo "model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "commit=$(git -C "$BC_REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$BC_REPO" diff --quiet HEAD 2>/dev/null || echo '+changes')"
	echo "nginx=$(nginx -v 2>&1 | sed 's/.*nginx\///')"
	echo "postgres=$("$PGBIN/postgres" --version | awk '{print $3}')"
	echo "redis=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
	echo "wrk=$(wrk -v 2>&1 | sed -n 's/^wrk \([^ ]*\).*/\1/p' | head -n 1)"
	# Other stacks on the machine share the CPU (idle ones cost little).
	echo "other_pg_clusters=$(( $(pgrep -c -f '^/usr/lib/postgresql/[0-9]*/bin/postgres -D' || true) - 1 ))"
}

# The payer engine alone: tests/bench/payer-bench against a simulator
# started here on BC_SIM_PORT with latency LAT ms, at concurrencies CONCS
# (comma-separated).  Run after the stack has stopped.  Prints
# payer-bench's lines (its header only for the first latency).
bench_payer_bench() {
	local lat=$1 concs=$2 sim pid rc=0

	sim=$BC_BUILD/$(bc_prog_rel payer-sim)
	env -u BULKCLAIMS_CONFIG "$sim" --listen 127.0.0.1 --port "$BC_SIM_PORT" \
	    --latency-ms "$lat" >>"$BC_LOG/payer-bench-sim.log" 2>&1 &
	pid=$!
	bc_wait_for "payer simulator for payer-bench" 20 bc_sim_up ||
	    { kill "$pid" 2>/dev/null; return 1; }
	env -u BULKCLAIMS_CONFIG "$BC_BUILD/tests/bench/payer-bench" \
	    -u "http://127.0.0.1:$BC_SIM_PORT" -n "$JOB_ROWS" -l "$lat" \
	    -c "$concs" >"$BENCH_TMP/pb.txt" 2>&1 || rc=1
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	if [ ! -s "$OUT/payer-bench.txt" ]; then
		cat "$BENCH_TMP/pb.txt"
	else
		tail -n +2 "$BENCH_TMP/pb.txt"
	fi
	return $rc
}

# Where the time goes, measured on the running stack (out/diag-*.txt):
#  - the progress endpoint's two statements in pgbench, prepared (as the
#    app sends them, once per connection) and unprepared (extended
#    protocol: parsed and planned every time);
#  - COPY of the big job's rows (JOB) into copies of csv_job_rows: with
#    the per-row foreign key to csv_jobs it had before sql/006, with its
#    statement-level check (trigger csv_job_rows_check_job) as now, and
#    with neither.
bench_diag() {
	local job=$1 progress_job=$2 hash org f m t

	hash='\x'$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
	org=$(bench_psql -tA -c "SELECT organization_id FROM csv_jobs WHERE id = '$progress_job'")
	f=$(mktemp /tmp/bulkclaims-bench-sql.XXXXXX)
	cp "$BC_REPO/tests/bench/progress-queries.sql" "$f"
	chmod 0644 "$f"
	: >"$OUT/diag-pgbench.txt"
	for m in extended prepared; do
		printf '%s ' "$m" >>"$OUT/diag-pgbench.txt"
		bc_pg pgbench -h "$BC_RUN" -U bulkclaims -n -f "$f" -c 4 -j 2 \
		    -T 5 -M "$m" -D "token_hash=$hash" -D "org=$org" \
		    -D "job=$progress_job" bulkclaims 2>&1 |
		    sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' \
		    >>"$OUT/diag-pgbench.txt"
	done
	rm -f "$f"

	bench_psql -c "COPY (SELECT job_id, row_number, claim_number,
	    first_name, last_name, date_of_birth, subscriber_id, extra, warning
	    FROM csv_job_rows WHERE job_id = '$job' ORDER BY row_number)
	    TO STDOUT" >"$BENCH_TMP/rows.copy"
	# Three empty copies of csv_job_rows (LIKE copies neither triggers
	# nor foreign keys): bench_fk with the per-row foreign key to
	# csv_jobs the table had before sql/006, bench_trg with the table's
	# statement-level check as it is now (its own definition, read from
	# the catalog), bench_none with neither.  Dropped at the end: the
	# schema is left as it was (the trigger's function is only used).
	bench_psql -c "SET client_min_messages = warning" \
	    -c "DROP TABLE IF EXISTS bench_fk, bench_trg, bench_none" \
	    -c "CREATE TABLE bench_none (LIKE csv_job_rows INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)" \
	    -c "CREATE TABLE bench_fk (LIKE bench_none INCLUDING ALL)" \
	    -c "ALTER TABLE bench_fk ADD FOREIGN KEY (job_id) REFERENCES csv_jobs (id)" \
	    -c "CREATE TABLE bench_trg (LIKE bench_none INCLUDING ALL)" \
	    -c "DO \$\$
		DECLARE def text;
		BEGIN
			SELECT pg_get_triggerdef(oid) INTO def FROM pg_trigger
			WHERE tgrelid = 'csv_job_rows'::regclass
			AND tgname = 'csv_job_rows_check_job';
			IF def IS NULL THEN
				RAISE 'csv_job_rows has no trigger csv_job_rows_check_job';
			END IF;
			EXECUTE regexp_replace(def, ' ON (public\.)?csv_job_rows ',
			    ' ON bench_trg ');
		END \$\$" >/dev/null
	: >"$OUT/diag-copy.txt"
	for t in bench_fk bench_trg bench_none bench_fk bench_trg bench_none \
	    bench_fk bench_trg bench_none; do
		bench_psql -c "TRUNCATE $t" -c CHECKPOINT >/dev/null
		printf '%s ' "$t" >>"$OUT/diag-copy.txt"
		bench_psql -c '\timing on' -c "COPY $t (job_id, row_number,
		    claim_number, first_name, last_name, date_of_birth,
		    subscriber_id, extra, warning) FROM STDIN" \
		    <"$BENCH_TMP/rows.copy" |
		    sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' >>"$OUT/diag-copy.txt"
	done
	bench_psql -c "DROP TABLE bench_fk, bench_trg, bench_none" >/dev/null
	rm -f "$BENCH_TMP/rows.copy"
}


# GETs URL N + 1 times with the demo token over one kept-alive
# connection (one curl, the URL given N + 1 times: curl reuses the
# connection); prints per request "HTTP_CODE TIME_TOTAL TIME_APPCONNECT
# NUM_CONNECTS HTTP_VERSION" (the first opens the connection: the
# caller leaves it out); fails on anything but 200.
bench_get_keepalive() {
	local n=$1 url=$2 i args=() r

	for i in $(seq $((n + 1))); do
		args+=(-o /dev/null "$url")
	done
	r=$(curl -sS --cacert "$BC_CERT" -H "Authorization: Token $TOKEN" \
	    -w '%{http_code} %{time_total} %{time_appconnect} %{num_connects} %{http_version}\n' \
	    "${args[@]}")
	printf '%s\n' "$r"
	[ "$(printf '%s\n' "$r" | grep -c '^200 ')" = $((n + 1)) ] ||
	    bc_die "GET $url over one connection: not all answered 200"
}
