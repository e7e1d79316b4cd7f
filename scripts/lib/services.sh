# Service set-up, start, health checks and stop for scripts/run and
# scripts/test.  Sourced after common.sh; needs bc_init and bc_setup_var.

# Program name -> path inside the build folder.
BC_PROGS="payer-sim fcgi worker ctl"
bc_prog_rel() {
	case $1 in
	payer-sim) echo payer-sim/bulkclaims-payer-sim ;;
	fcgi) echo fcgi/bulkclaims-fcgi ;;
	worker) echo worker/bulkclaims-worker ;;
	ctl) echo ctl/bulkclaimsctl ;;
	cli) echo cli/bulkclaims ;;
	esac
}

# Sets BC_MISSING to the programs not built yet (merge main to get them),
# and BC_BIN to the folder the service user runs them from.
bc_check_programs() {
	local p

	BC_MISSING=
	for p in $BC_PROGS; do
		[ -x "$BC_BUILD/$(bc_prog_rel "$p")" ] ||
		    BC_MISSING="$BC_MISSING ${BC_BUILD#"$BC_REPO"/}/$(bc_prog_rel "$p")"
	done
	BC_MISSING=${BC_MISSING# }
	BC_CTL=$BC_BUILD/$(bc_prog_rel ctl)
	if [ "$BC_RELOCATED" = 1 ]; then
		BC_BIN=$BC_STATE/bin
	else
		BC_BIN=$BC_BUILD
	fi
}

bc_have() {
	[ -x "$BC_BUILD/$(bc_prog_rel "$1")" ]
}

# When the state was relocated, the service user cannot read the
# checkout: copy what it needs (web/, sql/, the programs).
bc_copy_runtime() {
	local p rel

	BC_WEB=$BC_REPO/web
	BC_SQL=$BC_REPO/sql
	[ "$BC_RELOCATED" = 1 ] || return 0
	rm -rf "$BC_STATE/web" "$BC_STATE/sql" "$BC_STATE/bin"
	cp -R "$BC_REPO/web" "$BC_STATE/web"
	cp -R "$BC_REPO/sql" "$BC_STATE/sql"
	for p in $BC_PROGS; do
		rel=$(bc_prog_rel "$p")
		if [ -x "$BC_BUILD/$rel" ]; then
			mkdir -p "$BC_STATE/bin/$(dirname "$rel")"
			cp "$BC_BUILD/$rel" "$BC_STATE/bin/$rel"
		fi
	done
	mkdir -p "$BC_STATE/bin"
	chmod -R go-w,a+rX "$BC_STATE/web" "$BC_STATE/sql" "$BC_STATE/bin"
	BC_WEB=$BC_STATE/web
	BC_SQL=$BC_STATE/sql
}

# A random secret kept in secrets/NAME (created once).
bc_secret() {
	local f=$BC_STATE/secrets/$1

	if [ ! -s "$f" ]; then
		(umask 077 && openssl rand -hex 24 >"$f.tmp") &&
		    mv "$f.tmp" "$f" || bc_die "cannot write $f"
	fi
	cat "$f"
}

# Writes var/bulkclaims.conf (regenerated on every start; secrets are
# kept in var/secrets/).
bc_write_config() {
	local secret tmp timeout_ms=30000 slow_ms=30000

	# Tests: a payer timeout short enough that a forced-slow claim
	# (SLOW... answers after sim.slow_ms) fails in seconds, not minutes.
	if [ "$BC_KIND" = test ]; then
		timeout_ms=2000
		slow_ms=4000
	fi
	BC_CONF=$BC_STATE/bulkclaims.conf
	secret=$(bc_secret sim-client-secret)
	tmp=$BC_CONF.tmp
	cat >"$tmp" <<EOF
# Written by scripts/$BC_KIND at start-up; edits are overwritten.
# Keys are documented in README.md.  Any key can be overridden by the
# environment: BULKCLAIMS_ + KEY upper-cased, dots as underscores.
# Each program's log file comes from BULKCLAIMS_LOG_FILE (var/log/<prog>.log).

# The owner role (bulkclaimsctl: migrations, endpoints, credentials);
# the app and the worker connect as their own roles (sql/012_roles.sql).
database.url = host=$BC_RUN dbname=bulkclaims user=bulkclaims
fcgi.database.url = host=$BC_RUN dbname=bulkclaims user=bulkclaims_app
worker.database.url = host=$BC_RUN dbname=bulkclaims user=bulkclaims_worker
redis.url = unix://$BC_RUN/redis.sock?db=0
# Redis ACL users, one per program (docs/operations.md); the passwords
# stay in 0600 files, never in a URL or argv.
fcgi.redis.user = app
fcgi.redis.password_file = $BC_STATE/secrets/redis-app.pass
worker.redis.user = worker
worker.redis.password_file = $BC_STATE/secrets/redis-worker.pass
celery.queue = celery

fcgi.socket = $BC_RUN/fcgi.sock
fcgi.threads = 4

upload.max_bytes = 10485760
upload.max_rows = 200000

payer.concurrency = 32
payer.max_attempts = 3
payer.timeout_ms = $timeout_ms
payer.rate_limit = 0

secrets.key_file = $BC_STATE/secrets/credentials.key

sim.port = $BC_SIM_PORT
sim.client_id = bulkclaims-demo
sim.client_secret = $secret
sim.tins = 123456789
sim.slow_ms = $slow_ms

public.url = $BC_PUBLIC_URL
EOF
	# Only where it is not the default (127.0.0.1).
	# A test's simulator on a private bridge is reached over plain HTTP:
	# allowed there only (payer.allow_http; loopback needs nothing).
	[ "$BC_SIM_HOST" = 127.0.0.1 ] ||
	    printf '%s\n' "sim.listen = $BC_SIM_HOST" "payer.allow_http = on" \
	    >>"$tmp"
	mv "$tmp" "$BC_CONF"
	if bc_is_root; then
		chown "$BC_SVC_USER:$BC_SVC_USER" "$BC_CONF" "$BC_STATE/secrets"/*
	fi
}

# Environment every program gets (plus BULKCLAIMS_LOG_FILE per program).
bc_prog_env() {
	printf '%s\n' "BULKCLAIMS_CONFIG=$BC_CONF" "BULKCLAIMS_SQL_DIR=$BC_SQL"
	if [ "$BC_KIND" = test ]; then
		# Leak reports at exit are for make check; services are killed.
		printf '%s\n' "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0" \
		    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
	fi
}

# Runs a command until it succeeds or TIMEOUT seconds pass.
bc_wait_for() {
	local what=$1 timeout=$2 end
	shift 2

	end=$(( $(date +%s) + timeout ))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$end" ]; then
			bc_msg "$what not ready after ${timeout}s"
			return 1
		fi
		sleep 0.2
	done
}

# True while the process runs.  A zombie counts as gone: detached
# processes are reaped by PID 1, which may take seconds to do it.
bc_alive() {
	local st

	kill -0 "$1" 2>/dev/null || return 1
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}

bc_pid_alive() {
	local pid

	[ -s "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && bc_alive "$pid"
}

# Sends SIGTERM to the pid in FILE and waits up to 15 s, then SIGKILL.
bc_kill_pidfile() {
	local f=$1 pid i

	[ -s "$f" ] || return 0
	pid=$(cat "$f" 2>/dev/null)
	if [ -n "$pid" ] && bc_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 300); do
			bc_alive "$pid" || break
			sleep 0.05
		done
		if bc_alive "$pid"; then
			bc_msg "pid $pid ($(basename "$f")) ignored SIGTERM; killing"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	rm -f "$f"
}

bc_tail_log() {
	[ -s "$1" ] || return 0
	printf -- '--- last lines of %s\n' "$1" >&2
	tail -n "${2:-20}" "$1" >&2
}

# Fails, naming the port, if another process listens on one of ours
# (another checkout's scripts/test, say: set the *_PORT variables).
bc_check_ports() {
	local p busy=

	for p in "$BC_HTTPS_PORT" "$BC_HTTP_PORT" "$BC_SIM_PORT"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			busy="$busy $p"
		fi
	done
	[ -z "$busy" ] && return 0
	bc_msg "port(s)$busy on 127.0.0.1 already in use by another program"
	return 1
}

# --- PostgreSQL --------------------------------------------------------

bc_pg() {
	bc_as_svc "$PGBIN/$1" "${@:2}"
}

bc_pg_start() {
	local pgdata=$BC_STATE/pg listen= a

	if [ ! -f "$pgdata/PG_VERSION" ]; then
		rm -rf "$pgdata"
		mkdir -p "$pgdata"
		chmod 0700 "$pgdata"
		bc_is_root && chown "$BC_SVC_USER:$BC_SVC_USER" "$pgdata"
		bc_pg initdb -D "$pgdata" -U bulkclaims -A trust -E UTF8 \
		    --no-locale --no-sync >"$BC_LOG/initdb.log" 2>&1 ||
		    { bc_tail_log "$BC_LOG/initdb.log"; bc_die "initdb failed"; }
		if [ "$BC_KIND" = test ]; then
			# Throwaway test cluster: durability buys nothing.
			printf '%s\n' "fsync = off" "synchronous_commit = off" \
			    "full_page_writes = off" >>"$pgdata/postgresql.conf"
		fi
	fi
	# BC_LISTEN's hosts (a test's worker hosts) connect over TCP, with
	# no password as on the socket: this cluster is a throwaway one.
	bc_pg_hba_listen
	for a in $BC_LISTEN; do
		listen=$listen${listen:+,}${a%/*}
	done
	if ! bc_pg pg_ctl -D "$pgdata" status >/dev/null 2>&1; then
		# Unix socket only (and BC_LISTEN); setsid keeps Ctrl-C of a
		# foreground run from reaching the server before scripts/run
		# stops it.
		bc_as_svc setsid -w "$PGBIN/pg_ctl" -D "$pgdata" \
		    -l "$BC_LOG/postgresql.log" -w -t 60 \
		    -o "-c listen_addresses='$listen' -k $BC_RUN -c unix_socket_permissions=0700" \
		    start >/dev/null 2>&1 ||
		    { bc_tail_log "$BC_LOG/postgresql.log"; bc_die "PostgreSQL did not start"; }
	fi
	bc_wait_for "PostgreSQL" 30 "$PGBIN/pg_isready" -q -h "$BC_RUN" ||
	    { bc_tail_log "$BC_LOG/postgresql.log"; bc_die "PostgreSQL not ready"; }
	if [ "$(bc_pg psql -h "$BC_RUN" -U bulkclaims -d postgres -XtAc \
	    "SELECT 1 FROM pg_database WHERE datname = 'bulkclaims'")" != 1 ]; then
		bc_pg createdb -h "$BC_RUN" -U bulkclaims bulkclaims ||
		    bc_die "createdb failed"
	fi
}

# pg_hba.conf lets BC_LISTEN's subnets in (lines ending "# bc_listen",
# rewritten on every start).
bc_pg_hba_listen() {
	local hba=$BC_STATE/pg/pg_hba.conf a

	# Default stacks: the file initdb wrote, untouched.
	[ -n "$BC_LISTEN" ] || grep -q ' # bc_listen$' "$hba" || return 0
	bc_as_svc sed -i '/ # bc_listen$/d' "$hba" ||
	    bc_die "cannot edit $hba"
	for a in $BC_LISTEN; do
		printf 'host bulkclaims bulkclaims,bulkclaims_worker %s trust # bc_listen\n' "$a"
	done | bc_as_svc tee -a "$hba" >/dev/null ||
	    bc_die "cannot edit $hba"
}

bc_pg_stop() {
	local pgdata=$BC_STATE/pg

	[ -f "$pgdata/postmaster.pid" ] || return 0
	bc_pg pg_ctl -D "$pgdata" -m fast -w -t 60 stop >/dev/null 2>&1 ||
	    bc_msg "pg_ctl stop failed (see $BC_LOG/postgresql.log)"
}

# --- Redis -------------------------------------------------------------

# Redis ACL users of the stack: name and rules.  The programs get only
# the command categories they use (no admin, no dangerous commands such
# as FLUSHALL, CONFIG, KEYS, SHUTDOWN, MONITOR); the app (fcgi) also no
# blocking pops and keeps INFO for /health.  "admin" is for scripts,
# tests and operators (redis-cli --user admin, REDISCLI_AUTH).  Keys are
# not split per user: Celery's key names (queues, results, bindings) are
# shared by both programs.
BC_REDIS_USERS="app worker admin"
bc_redis_acl_rules() {
	case $1 in
	app) echo "~* &* -@all +@read +@write +@transaction +@connection +@scripting +@pubsub -@dangerous -@blocking +info +select +ping" ;;
	worker) echo "~* &* +@all -@dangerous" ;;
	admin) echo "~* &* +@all" ;;
	esac
}

# Writes redis/users.acl (0600): the default user off, one user per
# program with only the SHA-256 of its password (secrets/redis-USER.pass,
# made once), so the Redis side holds no password in clear.
bc_redis_acl() {
	local u pw f=$BC_STATE/redis/users.acl

	(umask 077 && : >"$f.tmp") || bc_die "cannot write $f"
	echo "user default off" >>"$f.tmp"
	for u in $BC_REDIS_USERS; do
		pw=$(bc_secret "redis-$u.pass") || bc_die "no password for $u"
		chmod 0600 "$BC_STATE/secrets/redis-$u.pass"
		printf 'user %s on #%s %s\n' "$u" \
		    "$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)" \
		    "$(bc_redis_acl_rules "$u")" >>"$f.tmp"
	done
	mv "$f.tmp" "$f"
	if bc_is_root; then
		chown "$BC_SVC_USER:$BC_SVC_USER" "$f" \
		    "$BC_STATE/secrets"/redis-*.pass
	fi
}

# redis-cli as the admin user; the password goes by the environment
# (REDISCLI_AUTH), not argv.
bc_redis_cli() {
	REDISCLI_AUTH=$(cat "$BC_STATE/secrets/redis-admin.pass") \
	    redis-cli --no-auth-warning --user admin -s "$BC_RUN/redis.sock" "$@"
}

bc_redis_ping() {
	[ "$(bc_redis_cli ping 2>/dev/null)" = PONG ]
}

bc_redis_start() {
	local aof=no tcp=

	# The demo keeps queued tasks across restarts in a small AOF;
	# tests start empty.  PostgreSQL stays the source of truth.
	[ "$BC_KIND" = run ] && aof=yes
	# TCP only for BC_LISTEN's hosts (port 0: none).  Every user needs
	# a password (users.acl): protected mode adds nothing then.
	bc_redis_acl
	if [ -n "$BC_LISTEN" ]; then
		tcp="bind $(printf '%s ' $BC_LISTEN | sed 's|/[0-9]*||g')
protected-mode no"
	fi
	cat >"$BC_STATE/redis/redis.conf" <<EOF
# Written by scripts/$BC_KIND.
port $BC_REDIS_PORT
$tcp
unixsocket $BC_RUN/redis.sock
unixsocketperm 700
daemonize yes
pidfile $BC_RUN/redis.pid
logfile $BC_LOG/redis.log
dir $BC_STATE/redis
save ""
appendonly $aof
appendfsync everysec
aclfile $BC_STATE/redis/users.acl
EOF
	bc_is_root && chown "$BC_SVC_USER:$BC_SVC_USER" "$BC_STATE/redis/redis.conf"
	if ! bc_pid_alive "$BC_RUN/redis.pid" || ! bc_redis_ping; then
		bc_as_svc redis-server "$BC_STATE/redis/redis.conf" ||
		    bc_die "redis-server did not start"
	fi
	bc_wait_for "Redis" 20 bc_redis_ping ||
	    { bc_tail_log "$BC_LOG/redis.log"; bc_die "Redis not ready"; }
}

bc_redis_stop() {
	bc_kill_pidfile "$BC_RUN/redis.pid"
}

# --- TLS and nginx -----------------------------------------------------

bc_tls() {
	local d=$BC_STATE/tls

	BC_CERT=$d/dev.crt
	# ECDSA P-256: its handshake costs a fraction of RSA-2048's (a new
	# connection's upload is timed whole by scripts/bench).  An older
	# RSA certificate is replaced.
	if [ -s "$d/dev.key" ] &&
	    openssl x509 -checkend 86400 -noout -in "$BC_CERT" >/dev/null 2>&1 &&
	    openssl x509 -noout -text -in "$BC_CERT" 2>/dev/null |
	    grep -q 'id-ecPublicKey'; then
		return 0
	fi
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$d/dev.key" \
	    -out "$BC_CERT.tmp" -days 90 -subj "/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    >"$BC_LOG/openssl.log" 2>&1 ||
	    { bc_tail_log "$BC_LOG/openssl.log"; bc_die "cannot create the dev certificate"; }
	mv "$BC_CERT.tmp" "$BC_CERT"
	chmod 0644 "$BC_CERT"
}

# Escapes a value for the replacement side of sed s|||.
bc_sed_escape() {
	printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'
}

# Renders nginx/NAME.in to OUT, replacing @KEY@ from the BC_T_KEY
# variables set by bc_nginx_render.
bc_render() {
	local in=$1 out=$2 args=() v k

	for k in $BC_T_KEYS; do
		v=BC_T_$k
		args+=(-e "s|@$k@|$(bc_sed_escape "${!v}")|g")
	done
	sed "${args[@]}" "$in" >"$out.tmp" || bc_die "cannot render $in"
	if grep -n '@[A-Z0-9_]*@' "$out.tmp" >&2; then
		bc_die "unreplaced placeholders in $out"
	fi
	mv "$out.tmp" "$out"
}

bc_nginx_render() {
	local n=$BC_STATE/nginx f

	BC_T_KEYS="USER_LINE RUN LOG NGINX TLS WEB FCGI_SOCKET HTTP_PORT HTTPS_PORT IPV6 LOGIN_RATE LOGIN_BURST UPLOAD_RATE UPLOAD_BURST API_RATE API_BURST HSTS_MAX_AGE CACHE APIDOCS"
	BC_T_USER_LINE=
	bc_is_root && BC_T_USER_LINE="user $BC_SVC_USER $BC_SVC_USER;"
	BC_T_RUN=$BC_RUN
	BC_T_LOG=$BC_LOG
	BC_T_NGINX=$n
	BC_T_TLS=$BC_STATE/tls
	BC_T_WEB=$BC_WEB
	BC_T_FCGI_SOCKET=$BC_RUN/fcgi.sock
	BC_T_HTTP_PORT=$BC_HTTP_PORT
	BC_T_HTTPS_PORT=$BC_HTTPS_PORT
	# IPv6 loopback only where the machine has it.
	BC_T_IPV6="# "
	grep -qs '^00000000000000000000000000000001 ' /proc/net/if_inet6 &&
	    BC_T_IPV6=
	BC_T_LOGIN_RATE=${BULKCLAIMS_NGINX_LOGIN_RATE:-10r/m}
	BC_T_LOGIN_BURST=${BULKCLAIMS_NGINX_LOGIN_BURST:-10}
	BC_T_UPLOAD_RATE=${BULKCLAIMS_NGINX_UPLOAD_RATE:-2r/s}
	BC_T_UPLOAD_BURST=${BULKCLAIMS_NGINX_UPLOAD_BURST:-20}
	BC_T_API_RATE=${BULKCLAIMS_NGINX_API_RATE:-50r/s}
	BC_T_API_BURST=${BULKCLAIMS_NGINX_API_BURST:-200}
	BC_T_HSTS_MAX_AGE=${BULKCLAIMS_NGINX_HSTS_MAX_AGE:-31536000}
	bc_cache_dir
	BC_T_CACHE=$BC_CACHE
	# /api/v1/schema/ and /api/docs/ (api/build-docs.sh; npm ci the
	# first time, a stub page without npm).
	BC_T_APIDOCS=$BC_STATE/apidocs
	sh "$BC_REPO/api/build-docs.sh" "$BC_T_APIDOCS" >"$BC_LOG/api-docs.log" 2>&1 ||
	    { bc_tail_log "$BC_LOG/api-docs.log"; bc_die "cannot assemble $BC_T_APIDOCS"; }
	mkdir -p "$n/tmp"
	# The workers (service user) create the upload files under tmp/.
	bc_is_root && chown "$BC_SVC_USER:$BC_SVC_USER" "$n" "$n/tmp"
	bc_render "$BC_REPO/nginx/bulkclaims.conf.in" "$n/nginx.conf"
	for f in http locations headers api-headers; do
		bc_render "$BC_REPO/nginx/bulkclaims-$f.conf.in" \
		    "$n/bulkclaims-$f.conf"
	done
}

# The progress cache's folder (nginx/bulkclaims-locations.conf.in): its
# entries hold API tokens in their keys, so it lives in RAM (/dev/shm),
# never on disk; one per state folder, mode 0700, removed by bc_stop_all.
bc_cache_dir() {
	local tag

	tag=$(printf '%s' "$BC_STATE" | sha256sum | cut -c1-12)
	BC_CACHE=/dev/shm/bulkclaims-cache-$tag
	[ -d /dev/shm ] || bc_die "/dev/shm is missing (the progress cache lives in RAM)"
	mkdir -p -m 0700 "$BC_CACHE" || bc_die "cannot create $BC_CACHE"
	chmod 0700 "$BC_CACHE"
	bc_is_root && chown "$BC_SVC_USER:$BC_SVC_USER" "$BC_CACHE"
	return 0
}

bc_nginx() {
	nginx -p "$BC_STATE/nginx" -c "$BC_STATE/nginx/nginx.conf" \
	    -e "$BC_LOG/nginx-error.log" "$@"
}

bc_nginx_start() {
	bc_nginx_render
	bc_nginx -t -q >"$BC_LOG/nginx-test.log" 2>&1 ||
	    { cat "$BC_LOG/nginx-test.log" >&2; bc_die "nginx configuration test failed"; }
	if bc_pid_alive "$BC_RUN/nginx.pid"; then
		bc_nginx -s reload || bc_die "nginx reload failed"
	else
		bc_nginx || { bc_tail_log "$BC_LOG/nginx-error.log"; bc_die "nginx did not start (port $BC_HTTPS_PORT or $BC_HTTP_PORT in use?)"; }
	fi
	bc_wait_for "nginx" 20 curl -s -o /dev/null --cacert "$BC_CERT" \
	    "https://localhost:$BC_HTTPS_PORT/" ||
	    { bc_tail_log "$BC_LOG/nginx-error.log"; bc_die "nginx does not answer on $BC_HTTPS_PORT"; }
}

bc_nginx_stop() {
	bc_kill_pidfile "$BC_RUN/nginx.pid"
}

# --- the programs ------------------------------------------------------

# Runs bulkclaimsctl as the service user.  It logs to stderr as well as
# to a log file: its stderr alone goes to log/ctl.log (one copy, with
# any usage or fatal message).
bc_ctl() {
	local envs

	mapfile -t envs < <(bc_prog_env)
	bc_as_svc env "${envs[@]}" \
	    "$BC_BIN/$(bc_prog_rel ctl)" -c "$BC_CONF" "$@" \
	    >>"$BC_LOG/ctl.log" 2>&1
}

# The program roles (sql/012_roles.sql) may log in: on this throwaway
# cluster without a password, as everything on its 0700 socket.
bc_pg_roles() {
	bc_pg psql -h "$BC_RUN" -U bulkclaims -d bulkclaims -XqAt \
	    -v ON_ERROR_STOP=1 -c "ALTER ROLE bulkclaims_app LOGIN" \
	    -c "ALTER ROLE bulkclaims_worker LOGIN" >>"$BC_LOG/ctl.log" 2>&1
}

# Migrations, program roles, credential key, demo data (all idempotent).
bc_setup_data() {
	bc_ctl migrate || { bc_tail_log "$BC_LOG/ctl.log"; bc_die "bulkclaimsctl migrate failed"; }
	bc_pg_roles || { bc_tail_log "$BC_LOG/ctl.log"; bc_die "cannot enable the program roles"; }
	bc_ctl genkey || { bc_tail_log "$BC_LOG/ctl.log"; bc_die "bulkclaimsctl genkey failed"; }
	bc_ctl demo --payer-url "http://$BC_SIM_HOST:$BC_SIM_PORT" \
	    --token-file "$BC_STATE/demo-token" \
	    --password-file "$BC_STATE/demo-password" ||
	    { bc_tail_log "$BC_LOG/ctl.log"; bc_die "bulkclaimsctl demo failed"; }
}

# Starts a program under supervise.sh, detached from the terminal.
bc_start_prog() {
	local name=$1 envs pre=() i
	shift

	bc_pid_alive "$BC_RUN/$name.supervisor.pid" && return 0
	mapfile -t envs < <(bc_prog_env)
	if bc_is_root; then
		pre=(setpriv --reuid="$BC_SVC_USER" --regid="$BC_SVC_USER" \
		    --init-groups --)
	fi
	rm -f "$BC_RUN/$name.supervisor.pid"
	cd "$BC_STATE" || return 1
	setsid -f bash "$BC_REPO/scripts/lib/supervise.sh" "$name" \
	    "$BC_RUN" "$BC_LOG" -- env HOME="$BC_STATE" "${envs[@]}" \
	    BULKCLAIMS_LOG_FILE="$BC_LOG/$name.log" \
	    BULKCLAIMS_SIM_LOG_FILE="$BC_LOG/$name.log" "${pre[@]}" "$@" \
	    </dev/null >/dev/null 2>&1
	cd "$OLDPWD" || true
	for i in $(seq 50); do
		[ -s "$BC_RUN/$name.supervisor.pid" ] && return 0
		sleep 0.1
	done
	bc_die "supervisor for $name did not start"
}

bc_sim_up() {
	curl -s -o /dev/null --max-time 2 "http://$BC_SIM_HOST:$BC_SIM_PORT/"
}

bc_prog_died() {
	local name=$1

	bc_msg "$name keeps exiting"
	bc_tail_log "$BC_LOG/supervisor.log" 5
	bc_tail_log "$BC_LOG/$name.log"
	bc_tail_log "$BC_LOG/$name.out"
	return 1
}

# Starts the simulator, the FastCGI app and the worker that exist, and
# waits until they are healthy.  Returns non-zero if one is not.
bc_start_programs() {
	local p="$BC_BIN" rc=0 before name

	before=$(cat "$BC_LOG/supervisor.log" 2>/dev/null | wc -l)
	if bc_have payer-sim; then
		# Another simulator on the port would answer our health check
		# (and our worker's token requests with other credentials).
		if ! bc_pid_alive "$BC_RUN/payer-sim.supervisor.pid" &&
		    (exec 3<>"/dev/tcp/$BC_SIM_HOST/$BC_SIM_PORT") 2>/dev/null; then
			bc_msg "port $BC_SIM_PORT (simulator) is already in use by another program"
			return 1
		fi
		bc_start_prog payer-sim "$p/$(bc_prog_rel payer-sim)" -c "$BC_CONF"
	fi
	if bc_have fcgi; then
		bc_start_prog fcgi "$p/$(bc_prog_rel fcgi)" -c "$BC_CONF"
	fi
	if bc_have worker; then
		bc_start_prog worker "$p/$(bc_prog_rel worker)" -c "$BC_CONF"
	fi
	if bc_have payer-sim; then
		bc_wait_for "payer simulator on port $BC_SIM_PORT" 20 bc_sim_up ||
		    { bc_prog_died payer-sim; rc=1; }
	fi
	if bc_have fcgi; then
		bc_wait_for "FastCGI socket" 20 test -S "$BC_RUN/fcgi.sock" ||
		    { bc_prog_died fcgi; rc=1; }
	fi
	[ "$rc" = 0 ] || return 1
	# The worker has no socket to probe: every program must be alive a
	# second later and not have been restarted meanwhile.
	sleep 1
	for name in payer-sim fcgi worker; do
		bc_have "$name" || continue
		if ! bc_pid_alive "$BC_RUN/$name.pid" ||
		    tail -n +"$((before + 1))" "$BC_LOG/supervisor.log" 2>/dev/null |
		    grep -q " supervisor: $name "; then
			bc_prog_died "$name"
			rc=1
		fi
	done
	return $rc
}

# Stops everything scripts/run or scripts/test started, by pidfile.
bc_stop_all() {
	local name

	[ -n "${BC_RUN:-}" ] && [ -d "$BC_RUN" ] || return 0
	bc_nginx_stop
	for name in worker fcgi payer-sim; do
		bc_kill_pidfile "$BC_RUN/$name.supervisor.pid"
		# In case the supervisor was killed hard.
		bc_kill_pidfile "$BC_RUN/$name.pid"
	done
	bc_redis_stop
	bc_pg_stop
	rm -f "$BC_RUN/fcgi.sock"
	bc_cache_dir && rm -rf "$BC_CACHE"
}
