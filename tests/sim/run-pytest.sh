#!/bin/sh
# make check: runs tests/sim/test_sim.py (pytest) against the simulator
# just built, as one TAP test.  Skipped where pytest is not installed.
srcdir=${srcdir:-.}
BC_SIM_BIN=${BC_SIM_BIN:-$PWD/payer-sim/bulkclaims-payer-sim}
export BC_SIM_BIN
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
PY=
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import pytest' 2>/dev/null; then
		PY=$py
		break
	fi
done
if [ -z "$PY" ]; then
	echo "1..0 # SKIP pytest is not installed"
	exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..1"
if "$PY" -m pytest -q -s -p no:cacheprovider "$srcdir/tests/sim/test_sim.py" \
    >"$out" 2>&1; then
	sed 's/^/# /' "$out" | grep -E 'concurrent|keep-alive|readable|passed'
	echo "ok 1 - tests/sim/test_sim.py"
else
	sed 's/^/# /' "$out"
	echo "not ok 1 - tests/sim/test_sim.py"
fi
