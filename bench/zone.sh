#!/bin/sh
# bench/zone.sh -- fixed-size items: bench/zone in each mode, interleaved
# round after round, and a table of each mode's median with its ratio to
# glibc.  It measures and never judges.
#
# usage: zone.sh [BUILDDIR]
# environment: ZONE_STEPS (default 2000000), ZONE_LIVE (50000),
#              ZONE_SIZE (item bytes, 64), ZONE_ROUNDS (5).

set -eu
builddir=${1:-.}
bin=$builddir/bench/zone
steps=${ZONE_STEPS:-2000000}
live=${ZONE_LIVE:-50000}
size=${ZONE_SIZE:-64}
rounds=${ZONE_ROUNDS:-5}
modes="glibc malloc zone zone-notrash"
unset POOLDBG_FLAGS POOLDBG_QUICK

if [ ! -x "$bin" ]; then
	echo "zone.sh: $bin: not built (make bench/zone)" >&2
	exit 2
fi
results=$(mktemp)
trap 'rm -f "$results"' EXIT
round=1
while [ "$round" -le "$rounds" ]; do
	printf 'zone: round %s of %s\n' "$round" "$rounds" >&2
	for mode in $modes; do
		"$bin" -l "$live" -n "$steps" -z "$size" "$mode" >>"$results"
	done
	round=$((round + 1))
done
awk -v modes="$modes" -v size="$size" -v live="$live" -v rounds="$rounds" '
{ n[$1]++; v[$1, n[$1]] = $2 }
function median(k,    i, j, m, x, a) {
	m = n[k]
	for (i = 1; i <= m; i++) {
		x = v[k, i] + 0
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	printf "zones: %d-byte items, %d live, ns per step (a free and an allocation), median of %d rounds\n", size, live, rounds
	nm = split(modes, md, " ")
	for (i = 1; i <= nm; i++)
		printf "  %-13s %8.1f  %5.2fx glibc\n", md[i], median(md[i]), median(md[i]) / median("glibc")
}' "$results"
