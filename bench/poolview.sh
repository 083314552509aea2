#!/bin/sh
# bench/poolview.sh -- how soon poolview answers on a large trace: the
# time to build the time index after recording (what derive adds once the
# program has exited), the time to the first screen, and the time of a
# cursor move -- one event, a hundredth of the run, anywhere -- on a
# synthetic trace of POOLVIEW_EVENTS heap events (bench/mktrace, 10
# million by default), and on the trace of gcc compiling a large file
# under pooldbg run (the workload of bench/trace.sh) when gcc is there.
#
# Times come from poolview --bench, which does what the first screen and
# a key press do without a terminal (the model's work; drawing a screen
# is a few thousand cells).  The trace is read once before, so the page
# cache is warm as it is for a trace just written.  It measures and never
# judges.
#
# usage: poolview.sh BUILDDIR

set -eu

builddir=$(cd "${1:-.}" && pwd)
events=${POOLVIEW_EVENTS:-10000000}
moves=${POOLVIEW_MOVES:-50}
poolview=$builddir/poolview/poolview
mktrace=$builddir/bench/mktrace
pooldbg=$builddir/pooldbg/pooldbg
export POOLDBG_PRELOAD="$builddir/libpooldbg/.libs/libpooldbg-malloc.so"

for p in "$poolview" "$mktrace"; do
	if [ ! -x "$p" ]; then
		echo "poolview.sh: $p not built" >&2
		exit 2
	fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "poolview.sh: making a trace of $events events" >&2
"$mktrace" -n "$events" "$work/synthetic.db" >"$work/mktrace.out"
cat "$work/mktrace.out" >&2

printf "\npoolview on a synthetic trace of %s events (%s moves of each kind)\n\n" "$events" "$moves"
sed -n 's/^mktrace: time index built in \([0-9.]*\) s.*/time index after recording: \1 s/p' \
    "$work/mktrace.out"
cat "$work/synthetic.db" >/dev/null
"$poolview" --bench "$moves" "$work/synthetic.db"

# the same trace as an older recorder left it: poolview indexes it itself
if command -v sqlite3 >/dev/null 2>&1; then
	cp "$work/synthetic.db" "$work/older.db"
	sqlite3 "$work/older.db" "DROP TABLE timeline; DROP TABLE timeline_live; DROP TABLE timeline_stacks"
	printf "\nthe same trace without its time index (built by poolview into a temporary schema)\n"
	"$poolview" --bench 0 "$work/older.db" | head -n 1
	rm -f "$work/older.db"
fi

gcc=$(command -v gcc || true)
if [ -n "$gcc" ] && [ -x "$pooldbg" ]; then
	i=0
	while [ $i -lt 1500 ]; do
		echo "int f$i(int x) { int a[16]; for (int j = 0; j < 16; j++) a[j] = x * j + $i; return a[x & 15] + (x > 1 ? f$((i > 0 ? i - 1 : 0))(x - 1) : 0); }"
		i=$((i + 1))
	done >"$work/big.c"
	if (cd "$work" && "$pooldbg" run -o "$work/gcc.db" -- "$gcc" -O2 -c big.c -o big.o \
	    >/dev/null 2>&1); then
		ev=$(sqlite3 "$work/gcc.db" "select count(*) from events" 2>/dev/null || echo "?")
		printf "\npoolview on gcc -O2 under pooldbg run (%s events)\n\n" "$ev"
		cat "$work/gcc.db" >/dev/null
		"$poolview" --bench "$moves" "$work/gcc.db"
		if command -v sqlite3 >/dev/null 2>&1; then
			sqlite3 "$work/gcc.db" "DROP TABLE timeline; DROP TABLE timeline_live;
			    DROP TABLE timeline_stacks"
			"$poolview" --bench 0 "$work/gcc.db" >"$work/gcc.out"
			sed -n 's/.*open \([0-9.]*\) s,.*/time index built on open (its share of "open"): \1 s/p' \
			    "$work/gcc.out"
		fi
	else
		echo "(gcc under pooldbg run failed: no gcc figure)"
	fi
else
	echo "(gcc or pooldbg not available: no gcc figure)"
fi
