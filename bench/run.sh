#!/bin/sh
# bench/run.sh -- runs bench/churn in every configuration and prints a table
# of the time per step, with the ratio of each pooldbg allocator to glibc.
#
# It owns nothing but a temporary file of results.  It measures and never
# judges: a slow number is printed, not failed.  The configurations run
# interleaved, round after round, so a change in the machine's load touches
# them all alike; the table keeps each one's median round.  (The median,
# not the best: two threads fighting over one lock vary a lot from run to
# run, and their best run is the one where the other thread was starved.)
#
# usage: run.sh [BUILDDIR]
# environment: CHURN_STEPS (timed steps per thread, default 5000000: the
#              churn workload's 5M; glibc's first million steps run some
#              20% slower than its later ones, ours do not),
#              CHURN_LIVE (live blocks per thread, default 50000),
#              CHURN_ROUNDS (rounds, default 5), CHURN_SEED (default 1).
# POOLDBG_FLAGS is cleared, so the default pool of the malloc mode runs
# without debugging flags, as the pool mode does: its quick lists serve
# small blocks.  noquick is the malloc mode again with POOLDBG_QUICK=0,
# every block through the pool's tree.

set -eu

builddir=${1:-.}
churn=$builddir/bench/churn
steps=${CHURN_STEPS:-5000000}
live=${CHURN_LIVE:-50000}
rounds=${CHURN_ROUNDS:-5}
seed=${CHURN_SEED:-1}
modes="glibc pool malloc noquick"
unset POOLDBG_FLAGS
threadcounts="1 2"

if [ ! -x "$churn" ]; then
	echo "run.sh: $churn: not built (make bench/churn)" >&2
	exit 2
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT

round=1
while [ "$round" -le "$rounds" ]; do
	printf 'churn: round %s of %s\n' "$round" "$rounds" >&2
	for threads in $threadcounts; do
		for mode in $modes; do
			if [ "$mode" = noquick ]; then
				# the malloc family without its quick lists
				POOLDBG_QUICK=0 "$churn" -l "$live" -n "$steps" -s "$seed" \
				    malloc "$threads" | sed 's/^malloc/noquick/' >>"$results"
				continue
			fi
			"$churn" -l "$live" -n "$steps" -s "$seed" \
			    "$mode" "$threads" >>"$results"
		done
	done
	round=$((round + 1))
done

awk -v modes="$modes" -v threadcounts="$threadcounts" -v steps="$steps" \
    -v live="$live" -v rounds="$rounds" '
{
	key = $1 " " $2
	n[key]++
	v[key, n[key]] = $3
}

# The median of the values of key (the mean of the middle two when even).
function median(key,    i, j, k, x, a) {
	k = n[key]
	for (i = 1; i <= k; i++) {
		x = v[key, i] + 0
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	if (k % 2)
		return a[(k + 1) / 2]
	return (a[k / 2] + a[k / 2 + 1]) / 2
}

END {
	for (key in n)
		med[key] = median(key)
	nm = split(modes, m, " ")
	nt = split(threadcounts, t, " ")
	printf "churn: %d live blocks and %d timed steps per thread, sizes 8-4096 (mostly small)\n", live, steps
	printf "ns per step (one free and one allocation) as each thread sees it, median of %d rounds\n\n", rounds
	printf "%7s", "threads"
	for (i = 1; i <= nm; i++)
		printf " %9s", m[i]
	for (i = 2; i <= nm; i++)
		printf " %12s", m[i] "/" m[1]
	printf "\n"
	for (j = 1; j <= nt; j++) {
		printf "%7s", t[j]
		for (i = 1; i <= nm; i++)
			printf " %9.1f", med[m[i] " " t[j]]
		for (i = 2; i <= nm; i++)
			printf " %12.2f", med[m[i] " " t[j]] / med[m[1] " " t[j]]
		printf "\n"
	}
}' "$results"
