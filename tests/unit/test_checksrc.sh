#!/bin/sh
# make check: the C style rules of scripts/checksrc (banned calls, 80
# columns) hold for every tracked .c/.h file.
echo "1..1"
if out=$("${srcdir:-.}/scripts/checksrc" 2>&1); then
	echo "ok 1 - checksrc: no banned calls, no line over 80 columns"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 - checksrc"
fi
