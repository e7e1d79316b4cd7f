#!/bin/bash
# make check: the worker's files call each other one way only (no file
# uses a function of a file that uses it, directly or around a longer
# loop).  Read from the objects with nm: an undefined symbol of A
# defined in B is an edge A B; tsort(1) finds any loop.
echo "1..2"
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
files=${WORKER_LAYER_FILES:-$(cd "$srcdir/worker" && ls *.c | sed 's/\.c$//' | tr '\n' ' ')}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
obj() {
	# Automake names objects worker/X.o, or with a target prefix.
	ls worker/"$1".o worker/*-"$1".o 2>/dev/null | head -1
}
: >"$d/def"
for f in $files; do
	o=$(obj "$f")
	if [ -z "$o" ]; then
		echo "# no object for worker/$f.c (build first)"
		echo "not ok 1 - objects found"
		echo "not ok 2 - no loop"
		exit 0
	fi
	nm --defined-only -g "$o" | awk -v f="$f" '{print $3, f}' >>"$d/def"
done
echo "ok 1 - objects found"
sort -o "$d/def" "$d/def"
: >"$d/edges"
for f in $files; do
	nm -u "$(obj "$f")" | awk '{print $2}' | sort -u |
	    join - "$d/def" | awk -v f="$f" '$2 != f {print f, $2, $1}' \
	    >>"$d/edges"
done
awk '{print $1, $2}' "$d/edges" | sort -u | sed 's/^/# /'
if awk '{print $1, $2}' "$d/edges" | tsort >/dev/null 2>"$d/err"; then
	echo "ok 2 - no loop among worker/{${files// /,}}.c"
else
	sort -u "$d/err" | sed 's/^/# /'
	echo "not ok 2 - a loop among the worker's files"
fi
exit 0
