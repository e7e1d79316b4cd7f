#!/bin/sh
# Builds and runs every libFuzzer target of tests/fuzz for N seconds each
# (default 10) over its seed corpus tests/fuzz/corpus/<name>/; exits
# non-zero if any target crashes or fails to build.  Works from any cwd;
# builds, new corpus entries and crash files go to a temp dir (kept and
# printed on failure).
#
#   tests/fuzz/run.sh [seconds] [target...]     e.g. run.sh 60 multipart
#   (CC_FUZZ overrides the compiler, default clang-14)
#
# To add a target: write tests/fuzz/fuzz_<name>.c, commit seeds in
# tests/fuzz/corpus/<name>/ (optionally tests/fuzz/<name>.dict), and add
# ONE line to the table below: name | lib sources (from the repo root) | libs.
TARGETS='
multipart | lib/multipart.c lib/utf8.c |
csvin | lib/csvin.c lib/textenc.c lib/utf8.c lib/date.c | -lcsv -lsodium
intake | lib/csvin.c lib/textenc.c lib/utf8.c lib/date.c fcgi/preview.c fcgi/results.c fcgi/query.c | -lcsv -lsodium -ljson-c
celery | lib/celery.c lib/celery_json.c lib/celery_result.c lib/util.c lib/utf8.c | -ljson-c -lhiredis -lsodium -lm
session | fcgi/cookie.c | -ljson-c -lsodium
claimnum | lib/claimnum.c |
'
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-10}
[ $# -gt 0 ] && shift
CC=${CC_FUZZ:-clang-14}
CFLAGS_FUZZ="-g -O1 -fsanitize=fuzzer,address,undefined \
-fno-sanitize-recover=all -D_GNU_SOURCE -iquote $top/lib -iquote $top/fcgi -iquote $here"


run_target() {
	name=$1; srcs=$2; libs=$3
	if [ ! -f "$here/fuzz_$name.c" ]; then
		echo "run.sh: no $here/fuzz_$name.c" >&2
		return 1
	fi
	paths=
	for s in $srcs; do paths="$paths $top/$s"; done
	echo "== fuzz_$name: build"
	# shellcheck disable=SC2086
	$CC $CFLAGS_FUZZ -o "$tmp/fuzz_$name" "$here/fuzz_$name.c" $paths \
	    $libs || return 1
	mkdir -p "$tmp/corpus_$name"
	seeds=$here/corpus/$name
	if [ ! -d "$seeds" ]; then
		echo "run.sh: warning: no seed corpus $seeds" >&2
		seeds=
	fi
	dict=
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	echo "== fuzz_$name: ${secs}s over corpus/$name"
	# The first corpus dir receives new inputs: the temp one, not the tree.
	# shellcheck disable=SC2086
	(cd "$tmp" && "./fuzz_$name" -max_total_time="$secs" \
	    -max_len=65536 -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$tmp/crash_${name}_" $dict \
	    "$tmp/corpus_$name" ${seeds:+"$seeds"}) \
	    >"$tmp/fuzz_$name.log" 2>&1 || {
		tail -n 40 "$tmp/fuzz_$name.log"
		return 1
	}
	grep -E '^(#[0-9]+.*DONE|stat::(number_of_executed_units|'\
'average_exec_per_sec|new_units_added|peak_rss_mb))' \
	    "$tmp/fuzz_$name.log" || true
}

table=$(printf '%s\n' "$TARGETS" | grep '|')
# Every fuzz_*.c must have its line, so that none is silently skipped.
for f in "$here"/fuzz_*.c; do
	[ -f "$f" ] || continue
	n=$(basename "$f" .c)
	n=${n#fuzz_}
	printf '%s\n' "$table" | grep -q "^${n}[ |]" ||
	    { echo "run.sh: $f has no line in TARGETS" >&2; exit 2; }
done
for want in "$@"; do
	printf '%s\n' "$table" | grep -q "^${want}[ |]" ||
	    { echo "run.sh: unknown target $want" >&2; exit 2; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bcfuzz.XXXXXX")
trap 'rm -rf "$tmp"; exit 130' INT TERM
status=0

# Read the table without a pipe so that status survives the loop.
IFS_save=$IFS
IFS='
'
for line in $table; do
	IFS=$IFS_save
	name=$(printf '%s' "$line" | cut -d'|' -f1 | tr -d ' ')
	srcs=$(printf '%s' "$line" | cut -d'|' -f2)
	libs=$(printf '%s' "$line" | cut -d'|' -f3)
	if [ $# -gt 0 ]; then
		case " $* " in *" $name "*) ;; *) continue ;; esac
	fi
	if ! run_target "$name" "$srcs" "$libs"; then
		echo "== fuzz_$name: FAILED (log and crash files in $tmp)"
		status=1
	fi
done
IFS=$IFS_save

if [ $status -eq 0 ]; then
	rm -rf "$tmp"
	echo "== all fuzz targets passed"
fi
exit $status
