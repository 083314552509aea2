#!/bin/sh
# bench/drain-scan.sh -- what a scan at exit of many blocks costs the recorder:
# rows of scan_blocks per second.
#
# tests/fakewriter writes N allocations and then, or not, a scan at exit
# that finds every one of them (RecScan, N RecLive, RecScanEnd) into its
# ring by hand; `pooldbg run` drains it with the do-nothing runtime
# preloaded.  Each round runs both, one after the other, so a change in
# the machine's load touches both alike; the difference is the scan's
# cost: its rows while draining, their lifetimes looked up, and the index
# built on scan_blocks after the run (timed apart, by rebuilding it in a
# copy, when the sqlite3 shell is there).  The median over rounds is
# printed.  It measures and never judges.
#
# usage: drain-scan.sh BUILDDIR
# environment: SCAN_BLOCKS (default 1000000), SCAN_ROUNDS (default 3).

set -eu

builddir=$(cd "${1:-.}" && pwd)
n=${SCAN_BLOCKS:-1000000}
rounds=${SCAN_ROUNDS:-3}
pooldbg=$builddir/pooldbg/pooldbg
fake=$builddir/tests/fakewriter
export POOLDBG_PRELOAD="$builddir/tests/.libs/libnooppreload.so"
unset POOLDBG_FLAGS

if [ ! -x "$pooldbg" ] || [ ! -x "$fake" ] || [ ! -f "$POOLDBG_PRELOAD" ]; then
	echo "drain-scan.sh: $pooldbg, $fake or $POOLDBG_PRELOAD not built" >&2
	exit 2
fi
sqlite3=$(command -v sqlite3 || true)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Wall-clock nanoseconds of a run of pooldbg; the trace in $work/$1.db.
runit() {
	name=$1
	shift
	rm -f "$work/$name.db"
	t0=$(date +%s%N)
	"$pooldbg" run -o "$work/$name.db" "$fake" "$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $((t1 - t0))
}

# Nanoseconds to build the index on scan_blocks again in a copy of $1.
indexit() {
	if [ -z "$sqlite3" ]; then
		echo 0
		return
	fi
	cp "$1" "$work/copy.db"
	"$sqlite3" "$work/copy.db" "DROP INDEX scan_blocks_scan;"
	t0=$(date +%s%N)
	"$sqlite3" "$work/copy.db" "CREATE INDEX scan_blocks_scan ON scan_blocks(scan, class);"
	t1=$(date +%s%N)
	rm -f "$work/copy.db"
	echo $((t1 - t0))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

: >"$work/diff"
: >"$work/index"
i=0
while [ $i -lt "$rounds" ]; do
	base=$(runit base live "$n" noscan)
	scan=$(runit scan live "$n")
	echo $((scan - base)) >>"$work/diff"
	indexit "$work/scan.db" >>"$work/index"
	i=$((i + 1))
done
diff=$(median <"$work/diff")
index=$(median <"$work/index")
drain=$((diff - index))
echo "scan at exit of $n blocks, median of $rounds rounds:"
# (printf's arguments in parentheses: a bare '>' in them would be a redirection)
awk -v n="$n" -v d="$diff" -v x="$index" -v r="$drain" -v sq="$sqlite3" 'BEGIN {
	printf("  added to the run:        %7.3f s  %9.0f rows/s\n", d / 1e9, d > 0 ? n / (d / 1e9) : 0)
	if (sq != "") {
		printf("  of it, the index:        %7.3f s\n", x / 1e9)
		printf("  drained (rows, lookups): %7.3f s  %9.0f rows/s\n", r / 1e9,
		    r > 0 ? n / (r / 1e9) : 0)
	}
}'
