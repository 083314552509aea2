#!/bin/sh
# bench/scan.sh -- the reachability scan: its time on a heap of a million
# live blocks (bench/scan), and the root memory it reads in real programs
# (python3, when installed), from each scan's REC_SCANEND.
#
# The rings are made big enough to hold every record of the scans, so no
# reader has to run beside the program: the times are the scan's alone
# (stopping, marking, writing the records into shared memory).  It
# measures and never judges.
#
# usage: scan.sh BUILDDIR
# environment: SCAN_BLOCKS (default 1000000).

set -eu

builddir=$(cd "${1:-.}" && pwd)
lib=$builddir/libpooldbg/.libs/libpooldbg-malloc.so
scan=$builddir/bench/scan
dump=$builddir/tests/ringdump
blocks=${SCAN_BLOCKS:-1000000}

if [ ! -f "$lib" ] || [ ! -x "$scan" ] || [ ! -x "$dump" ]; then
	echo "scan.sh: $lib, $scan or $dump not built" >&2
	exit 2
fi
unset POOLDBG_FLAGS POOLDBG_SCAN

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# scanends DIR: the scanend lines of a session, with the scan's wall time
scanends() {
	"$dump" "$1" | awk '
	    function f(k,   i) { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	    $1 == "scan" { why = f("why") " " f("snapshot") }
	    $1 == "scanend" { sub(/^scanend pid=[0-9]* seq=[0-9]* /, ""); print "  " why ": " $0 }'
}

echo "== a heap of $blocks blocks (bench/scan)"
mkdir "$work/big"
POOLDBG_RING_SIZE=1g POOLDBG_SESSION=$work/big LD_PRELOAD=$lib "$scan" "$blocks"
scanends "$work/big"

# the interpreter itself, not a wrapper script that finds it (pyenv)
python3=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
if [ -n "$python3" ] && [ -x "$python3" ]; then
	echo "== python3 -c pass, and python3 importing json, re and decimal"
	mkdir "$work/py1" "$work/py2"
	POOLDBG_RING_SIZE=64m POOLDBG_SESSION=$work/py1 LD_PRELOAD=$lib "$python3" -c pass
	POOLDBG_RING_SIZE=64m POOLDBG_SESSION=$work/py2 LD_PRELOAD=$lib "$python3" -c 'import json, re, decimal'
	scanends "$work/py1"
	scanends "$work/py2"
	echo "  (roots: bytes of root memory read; the rest: blocks/bytes per class)"
else
	echo "== python3: not installed, not measured"
fi
