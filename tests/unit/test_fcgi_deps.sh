#!/bin/bash
# make check: no file of bulkclaims-fcgi depends, directly or through
# others, on a file that depends back on it.  "Depends" is read from the
# objects: a.o uses a symbol (function or data) that b.o defines.  Run
# from the build directory after the program is built.
echo "1..2"
objs=()
for o in fcgi/*.o; do
	# Objects of the unit tests (per-target names) are not the program's.
	case $o in *-*) continue ;; esac
	objs+=("$o")
done
if [ "${#objs[@]}" -lt 10 ]; then
	echo "not ok 1 - only ${#objs[@]} objects of bulkclaims-fcgi in fcgi/"
	echo "not ok 2 # SKIP no objects"
	exit 0
fi
echo "ok 1 - ${#objs[@]} objects of bulkclaims-fcgi"
for o in "${objs[@]}"; do
	nm -P "$o" | awk -v f="$(basename "$o" .o).c" '{ print f, $1, $2 }'
done | awk '
$3 ~ /^[TDBR]$/ { def[$2] = $1 }
$3 == "U" { use[$1 SUBSEP $2] = 1 }
{ file[$1] = 1 }
END {
	for (k in use) {
		split(k, p, SUBSEP)
		if ((p[2] in def) && def[p[2]] != p[1]) {
			e[p[1], def[p[2]]] = 1
			why[p[1], def[p[2]]] = p[2]
		}
	}
	n = 0
	for (f in file)
		names[++n] = f
	for (i = 1; i <= n; i++)
		for (j = 1; j <= n; j++)
			r[i, j] = ((names[i], names[j]) in e)
	for (k = 1; k <= n; k++)
		for (i = 1; i <= n; i++)
			if (r[i, k])
				for (j = 1; j <= n; j++)
					if (r[k, j])
						r[i, j] = 1
	bad = 0
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (r[i, j] && r[j, i]) {
				printf "# cycle: %s <-> %s\n", names[i], names[j]
				bad++
			}
	for (k in e) {
		split(k, p, SUBSEP)
		printf "# %s -> %s (%s ...)\n", p[1], p[2], why[k]
	}
	exit bad > 0
}' | sort
if [ "${PIPESTATUS[1]}" -eq 0 ]; then
	echo "ok 2 - no file depends on one that depends back on it"
else
	echo "not ok 2 - dependency cycles between files (see above)"
fi
exit 0
