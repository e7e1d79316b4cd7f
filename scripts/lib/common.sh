# Shared shell functions for scripts/run, scripts/test and scripts/stop.
# Sourced, never executed.  Callers set BC_KIND (run|test) before
# calling bc_init.
#
# Layout of a state folder ($BC_VAR, "var/" for scripts/run, "var/test/"
# for scripts/test):
#   bulkclaims.conf        the programs' configuration (mode 0600)
#   run/                   sockets and pidfiles (mode 0700)
#   log/                   one log file per program
#   pg/ redis/             PostgreSQL cluster, Redis data
#   nginx/                 rendered nginx config and its temp folders
#   tls/                   dev certificate (generated, never committed)
#   secrets/               credential key, simulator client secret
#   web/ bin/ sql/         copies, only when the checkout is unreachable
#                          for the service user (see bc_setup_var)
#   demo-token demo-password

# Debian keeps the PostgreSQL server tools off PATH.
PGBIN=/usr/lib/postgresql/15/bin
# Debian's python3 with python3-pytest, -celery, -redis, -requests; a
# python3 earlier on PATH (pyenv, venv) may lack them.
BC_PYTHON=/usr/bin/python3
BC_SVC_NAME=bulkclaims

bc_msg() {
	printf '%s: %s\n' "${BC_PROG:-bulkclaims}" "$*" >&2
}

bc_die() {
	bc_msg "error: $*"
	exit 1
}

bc_is_root() {
	[ "$(id -u)" = 0 ]
}

# Runs a command as the service user (root: the system user bulkclaims;
# otherwise the current user).  setpriv execs in place, so the pid that
# a caller records is the program's own pid.
bc_as_svc() {
	if bc_is_root; then
		# From a folder it can enter (the checkout may be under /root).
		(
			cd "${BC_STATE:-/}" 2>/dev/null || cd /
			HOME="$BC_VAR" exec setpriv --reuid="$BC_SVC_NAME" \
			    --regid="$BC_SVC_NAME" --init-groups -- "$@"
		)
	else
		"$@"
	fi
}

bc_ensure_user() {
	bc_is_root || return 0
	id -u "$BC_SVC_NAME" >/dev/null 2>&1 && return 0
	useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$BC_SVC_NAME" ||
	    bc_die "cannot create system user $BC_SVC_NAME"
}

# Sets BC_REPO, BC_PROG, BC_BUILD, BC_VAR (path as given), the ports,
# and the service user.  Call once, first.
bc_init() {
	BC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
	umask 077
	case $BC_KIND in
	run)
		BC_BUILD=$BC_REPO/build
		BC_VAR=${BULKCLAIMS_VAR:-$BC_REPO/var}
		BC_HTTPS_PORT=${BULKCLAIMS_HTTPS_PORT:-8443}
		BC_HTTP_PORT=${BULKCLAIMS_HTTP_PORT:-8080}
		BC_SIM_PORT=${BULKCLAIMS_SIM_PORT:-8481}
		;;
	test)
		BC_BUILD=$BC_REPO/build-test
		BC_VAR=${BULKCLAIMS_VAR:-$BC_REPO/var/test}
		BC_HTTPS_PORT=${BULKCLAIMS_TEST_HTTPS_PORT:-18443}
		BC_HTTP_PORT=${BULKCLAIMS_TEST_HTTP_PORT:-18080}
		BC_SIM_PORT=${BULKCLAIMS_TEST_SIM_PORT:-18481}
		;;
	*)
		bc_die "BC_KIND must be run or test"
		;;
	esac
	# Loopback and unix sockets only, unless a test stack asks for more
	# (tests/e2e/test_worker_hosts.py: worker hosts in network
	# namespaces).  BC_LISTEN: "ADDR/PREFIX ..." where PostgreSQL (TCP,
	# port 5432) and Redis (TCP port BC_REDIS_PORT) also listen, and
	# whose subnets PostgreSQL lets in.  BC_SIM_HOST: the one address
	# the payer simulator listens on.
	BC_LISTEN=
	BC_REDIS_PORT=0
	BC_SIM_HOST=127.0.0.1
	if [ "$BC_KIND" = test ]; then
		BC_LISTEN=${BULKCLAIMS_TEST_LISTEN:-}
		BC_REDIS_PORT=${BULKCLAIMS_TEST_REDIS_PORT:-0}
		BC_SIM_HOST=${BULKCLAIMS_TEST_SIM_HOST:-127.0.0.1}
	fi
	case $BC_VAR in
	/*) ;;
	*) BC_VAR=$PWD/$BC_VAR ;;
	esac
	# The folder bc_setup_var creates (or relocates), and the state's
	# place inside it.
	BC_TOP=$BC_VAR
	BC_SUB=
	if [ "$BC_KIND" = test ] && [ -z "${BULKCLAIMS_VAR:-}" ]; then
		BC_TOP=$BC_REPO/var
		BC_SUB=test
	fi
	if bc_is_root; then
		BC_SVC_USER=$BC_SVC_NAME
	else
		BC_SVC_USER=$(id -un)
	fi
	BC_PUBLIC_URL=https://localhost:$BC_HTTPS_PORT
}

# The folder the state really lives in when the service user cannot
# reach $BC_TOP (or socket paths would be too long).
bc_alt_var() {
	local h
	h=$(printf '%s' "$BC_REPO:$BC_TOP" | sha256sum | cut -c1-12)
	printf '/var/tmp/bulkclaims-%s' "$h"
}

# Creates the state folder.  $BC_TOP is var/ (scripts/test keeps its
# state in var/test/ inside it) or BULKCLAIMS_VAR.  When the service
# user cannot reach it (checkout under /root, mode 0700) or the socket
# paths would not fit in sun_path (108 bytes), $BC_TOP lives in
# /var/tmp/bulkclaims-<hash of the path> and becomes a symlink to it; web/,
# sql/ and the programs are then copied there (bc_copy_runtime).
# Sets BC_STATE (the real folder) and BC_RELOCATED (0/1).
bc_setup_var() {
	local parent reach=1 alt top build

	parent=$(dirname "$BC_TOP")
	[ -d "$parent" ] || bc_die "$parent does not exist"
	if [ -L "$BC_TOP" ]; then
		top=$(readlink -f "$BC_TOP")
		BC_RELOCATED=1
	elif [ -d "$BC_TOP" ]; then
		top=$(cd "$BC_TOP" && pwd -P)
		BC_RELOCATED=0
	else
		if bc_is_root && ! bc_as_svc test -x "$parent" 2>/dev/null; then
			reach=0
		fi
		# (Before the first build: bc_build makes the build folder
		# world-readable, so reaching the checkout is enough.)
		build=$BC_BUILD
		[ -d "$build" ] || build=$BC_REPO
		if bc_is_root && ! bc_as_svc test -r "$BC_REPO/web" -a \
		    -x "$build" -a -r "$BC_REPO/sql" 2>/dev/null; then
			reach=0
		fi
		# "test/.s.PGSQL.5432" is the longest socket path we add.
		if [ $(( ${#BC_TOP} + 25 )) -gt 100 ]; then
			reach=0
		fi
		if [ "$reach" = 1 ]; then
			mkdir -p "$BC_TOP"
			top=$(cd "$BC_TOP" && pwd -P)
			BC_RELOCATED=0
		else
			alt=$(bc_alt_var)
			mkdir -p "$alt"
			ln -s "$alt" "$BC_TOP"
			top=$alt
			BC_RELOCATED=1
			bc_msg "state in $alt ($BC_TOP links there: the service user cannot reach the checkout)"
		fi
	fi
	[ -d "$top" ] || bc_die "state folder $top is missing (remove the symlink $BC_TOP)"
	chmod 0700 "$top"
	bc_is_root && chown "$BC_SVC_USER:$BC_SVC_USER" "$top"
	BC_STATE=$top${BC_SUB:+/$BC_SUB}
	BC_RUN=$BC_STATE/run
	BC_LOG=$BC_STATE/log
	mkdir -p "$BC_RUN" "$BC_LOG" "$BC_STATE/secrets" "$BC_STATE/tls" \
	    "$BC_STATE/nginx" "$BC_STATE/redis"
	chmod 0700 "$BC_STATE" "$BC_RUN" "$BC_STATE/secrets"
	if bc_is_root; then
		chown "$BC_SVC_USER:$BC_SVC_USER" "$BC_STATE" "$BC_RUN" "$BC_LOG" \
		    "$BC_STATE/secrets" "$BC_STATE/tls" "$BC_STATE/redis"
	fi
}

# Sets the paths that only depend on the state folder (for scripts/stop,
# which must not create anything).
bc_state_paths() {
	if [ -L "$BC_VAR" ]; then
		BC_STATE=$(readlink -f "$BC_VAR")
	elif [ -d "$BC_VAR" ]; then
		BC_STATE=$(cd "$BC_VAR" && pwd -P)
	else
		BC_STATE=
		return 1
	fi
	BC_RUN=$BC_STATE/run
	BC_LOG=$BC_STATE/log
	BC_CONF=$BC_STATE/bulkclaims.conf
	return 0
}

# Builds into $BC_BUILD (configure args follow).  Quiet; on failure
# prints the tail of the build log and exits.
bc_build() {
	local blog

	# The service user runs the programs from here: world-readable.
	( umask 022; mkdir -p "$BC_BUILD" )
	blog=$BC_BUILD/build.log
	: >"$blog"
	(
		umask 022
		cd "$BC_REPO"
		# scripts/run and scripts/test may build at the same time.
		exec 9<"$BC_REPO/configure.ac"
		flock -w 600 9
		if [ ! -x configure ] || [ configure.ac -nt configure ]; then
			./autogen.sh >>"$blog" 2>&1 || exit 1
		fi
	) || { tail -n 40 "$blog" >&2; bc_die "autogen.sh failed (log: $blog)"; }
	(
		umask 022
		cd "$BC_BUILD"
		# Configure again when configure changed or other arguments
		# are wanted (scripts/test with and without sanitizers).
		if [ ! -f Makefile ] || [ "$BC_REPO/configure" -nt Makefile ] ||
		    [ "$(cat .bc-configure-args 2>/dev/null)" != "args:$*" ]; then
			if [ -f Makefile ] && [ "$(cat .bc-configure-args 2>/dev/null)" != "args:$*" ]; then
				# make does not track flags: rebuild everything.
				make clean >>"$blog" 2>&1
			fi
			rm -f .bc-configure-args
			"$BC_REPO/configure" "$@" >>"$blog" 2>&1 || exit 1
			printf 'args:%s' "$*" >.bc-configure-args
		fi
		make -j2 >>"$blog" 2>&1
	) || { tail -n 60 "$blog" >&2; bc_die "build failed (log: $blog)"; }
}
