#!/bin/sh
# bench/tcache.sh -- the malloc family's fast path against glibc: bench/churn
# in glibc and malloc modes (no debugging flags, quick lists and thread
# caches on), run in pairs, one right after the other, so a change in the
# machine's load touches both alike; prints the median time and the
# median of the pairs' ratios per thread count.  Beside them, glibc's run
# with each block padded to the room the malloc family's block layout
# takes (churn's padded mode), run with each pair: what the layout alone
# costs glibc.  Last, how mixed the malloc family's blocks lie after its
# runs (churn -m: the percentage of live blocks, in address order, whose
# next one is another thread's; glibc's threads keep arenas of their own
# and score 0): where the threads' blocks touch, they share cache lines,
# and a second thread costs more than a second process would.  The row
# "2p" runs each mode as two processes of one thread at once (their mean
# time): what a second busy core costs each mode without any sharing,
# beside the row of two threads.  It measures and never judges.
#
# usage: tcache.sh [BUILDDIR]
# environment: TCACHE_STEPS (timed steps per thread, default 2000000),
#              TCACHE_PAIRS (pairs per thread count, default 7).

set -eu
builddir=${1:-.}
churn=$builddir/bench/churn
steps=${TCACHE_STEPS:-2000000}
pairs=${TCACHE_PAIRS:-7}
unset POOLDBG_FLAGS POOLDBG_QUICK

if [ ! -x "$churn" ]; then
	echo "tcache.sh: $churn: not built (make bench/churn)" >&2
	exit 2
fi
results=$(mktemp)
trap 'rm -f "$results"' EXIT
# Two processes of "churn MODE 1" at once: the mean of their times, and "-" for mixed.
twoproc() {
	{ "$churn" -n "$steps" "$1" 1 & "$churn" -n "$steps" "$1" 1; wait; } |
	    awk '{ s += $3 } END { print s / NR }'
}
for threads in 1 2 2p; do
	pair=1
	while [ "$pair" -le "$pairs" ]; do
		printf 'tcache: %s threads, pair %s of %s\n' "$threads" "$pair" "$pairs" >&2
		if [ "$threads" = 2p ]; then
			g=$(twoproc glibc)
			m="$(twoproc malloc) -"
			l=$(twoproc padded)
		else
			g=$("$churn" -n "$steps" glibc "$threads" | awk '{ print $3 }')
			m=$("$churn" -m -n "$steps" malloc "$threads" | awk '{ print $3, $4 }')
			l=$("$churn" -n "$steps" padded "$threads" | awk '{ print $3 }')
		fi
		echo "$threads $g $m $l" >>"$results"
		pair=$((pair + 1))
	done
done
awk -v steps="$steps" '
{
	n[$1]++; g[$1, n[$1]] = $2; m[$1, n[$1]] = $3; r[$1, n[$1]] = $3 / $2
	x[$1, n[$1]] = $4; l[$1, n[$1]] = $5; lr[$1, n[$1]] = $5 / $2
}
function median(arr, k,    i, j, c, x, a) {
	c = n[k]
	for (i = 1; i <= c; i++) {
		x = arr[k, i] + 0
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
END {
	printf "churn, %d steps per thread: ns per step, medians of paired runs\n", steps
	printf "%7s %9s %9s %14s %9s %14s %9s\n", "threads", "glibc", "malloc", "malloc/glibc",
	    "padded", "padded/glibc", "mixed %"
	split("1 2 2p", rows, " ")
	for (k = 1; k <= 3; k++) {
		t = rows[k]
		if (!n[t])
			continue
		printf "%7s %9.1f %9.1f %14.2f %9.1f %14.2f %9s\n", t, median(g, t),
		    median(m, t), median(r, t), median(l, t), median(lr, t),
		    t == "2p" ? "-" : sprintf("%.1f", median(x, t))
	}
}' "$results"
