#!/bin/sh
# bench/leak.sh -- how soon leak reports on a large trace: the time to
# its first line of output and to its end, on a synthetic trace of
# LEAK_EVENTS heap events (bench/mktrace, 10 million by default) and on
# the trace of a real program (gcc compiling a large file under pooldbg
# run, the same workload as bench/trace.sh) when gcc is installed; then
# leak on the churn (bench/churn, 5M steps) beside heaptrack_print -l on
# heaptrack's trace of the same run, with the peak memory of each, when
# heaptrack is installed.
#
# The first line is timed through a pipe with leak's output line-buffered
# (stdbuf), so it is when a person would see it.  Each figure is the
# median of LEAK_ROUNDS runs (default 3), the trace read once before so
# the page cache is warm as it is for a trace just written.  It measures
# and never judges.
#
# usage: leak.sh BUILDDIR

set -eu

builddir=$(cd "${1:-.}" && pwd)
events=${LEAK_EVENTS:-10000000}
rounds=${LEAK_ROUNDS:-3}
leak=$builddir/leak/leak
mktrace=$builddir/bench/mktrace
pooldbg=$builddir/pooldbg/pooldbg
export POOLDBG_PRELOAD="$builddir/libpooldbg/.libs/libpooldbg-malloc.so"

for p in "$leak" "$mktrace"; do
	if [ ! -x "$p" ]; then
		echo "leak.sh: $p not built" >&2
		exit 2
	fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
linebuf=
command -v stdbuf >/dev/null 2>&1 && linebuf="stdbuf -oL"

now() { date +%s%N; }

# once TRACE ARGS...: "first total" in ns for one run of leak
once() {
	t=$1
	shift
	t0=$(now)
	$linebuf "$leak" "$@" "$t" 2>/dev/null | {
		IFS= read -r line || true
		t1=$(now)
		cat >/dev/null
		t2=$(now)
		echo "$((t1 - t0)) $((t2 - t0))"
	}
}

# timing NAME TRACE ARGS...: the median over rounds, one line of the table
timing() {
	name=$1
	t=$2
	shift 2
	cat "$t" >/dev/null
	: >"$work/times"
	r=1
	while [ "$r" -le "$rounds" ]; do
		once "$t" "$@" >>"$work/times"
		r=$((r + 1))
	done
	ev=$(sqlite3 "$t" "select sum(count) from event_pages" 2>/dev/null || echo "?")
	live=$(sqlite3 "$t" "select count(*) from live_blocks" 2>/dev/null || echo "?")
	m=$(((rounds + 1) / 2))
	first=$(cut -d' ' -f1 "$work/times" | sort -n | sed -n "${m}p")
	whole=$(cut -d' ' -f2 "$work/times" | sort -n | sed -n "${m}p")
	awk -v n="$name" -v ev="$ev" -v live="$live" -v f="$first" -v t="$whole" 'BEGIN {
		printf "%-22s %10s %10s %12.3f %12.3f\n", n, ev, live, f / 1e9, t / 1e9 }'
}

echo "leak.sh: making a trace of $events events" >&2
"$mktrace" -n "$events" "$work/synthetic.db" >&2

printf "\nleak: seconds to the first line and to the end, median of %d runs\n\n" "$rounds"
printf "%-22s %10s %10s %12s %12s\n" "trace" "events" "live" "first line" "whole"
timing "synthetic text" "$work/synthetic.db"
timing "synthetic json" "$work/synthetic.db" --format=json
timing "synthetic all kinds" "$work/synthetic.db" --kinds=all

gcc=$(command -v gcc || true)
if [ -n "$gcc" ] && [ -x "$pooldbg" ]; then
	i=0
	while [ $i -lt 1500 ]; do
		echo "int f$i(int x) { int a[16]; for (int j = 0; j < 16; j++) a[j] = x * j + $i; return a[x & 15] + (x > 1 ? f$((i > 0 ? i - 1 : 0))(x - 1) : 0); }"
		i=$((i + 1))
	done >"$work/big.c"
	if (cd "$work" && "$pooldbg" run -o "$work/gcc.db" -- "$gcc" -O2 -c big.c -o big.o \
	    >/dev/null 2>&1); then
		timing "gcc -O2 (pooldbg run)" "$work/gcc.db" --kinds=all
	else
		echo "(gcc under pooldbg run failed: no gcc figure)"
	fi
else
	echo "(gcc or pooldbg not available: no gcc figure)"
fi

# first line, whole and peak memory of one command, median of rounds:
# "first whole peakKB"
peakrun() {
	: >"$work/peak"
	r=1
	while [ "$r" -le "$rounds" ]; do
		t0=$(now)
		/usr/bin/time -f "%M" -o "$work/rss" $linebuf "$@" 2>/dev/null | {
			IFS= read -r line || true
			t1=$(now)
			cat >/dev/null
			t2=$(now)
			echo "$((t1 - t0)) $((t2 - t0))"
		} >"$work/one"
		echo "$(cat "$work/one") $(tail -1 "$work/rss")" >>"$work/peak"
		r=$((r + 1))
	done
	m=$(((rounds + 1) / 2))
	echo "$(cut -d' ' -f1 "$work/peak" | sort -n | sed -n "${m}p")" \
	    "$(cut -d' ' -f2 "$work/peak" | sort -n | sed -n "${m}p")" \
	    "$(cut -d' ' -f3 "$work/peak" | sort -n | sed -n "${m}p")"
}

churn=$builddir/bench/churn
if [ -x "$churn" ] && [ -x "$pooldbg" ] && [ -x /usr/bin/time ]; then
	(cd "$work" && "$pooldbg" run -o "$work/churn.db" -- "$churn" -n 5000000 glibc 1 \
	    >/dev/null 2>&1) || true
	printf "\nthe churn, 5M steps: seconds to the first line and to the end, peak memory\n\n"
	printf "%-28s %12s %12s %10s\n" "report" "first line" "whole" "peak MB"
	if [ -f "$work/churn.db" ]; then
		peakrun "$leak" "$work/churn.db" | awk '{ printf "%-28s %12.3f %12.3f %10.1f\n",
		    "leak", $1 / 1e9, $2 / 1e9, $3 / 1024 }'
	fi
	if command -v heaptrack >/dev/null 2>&1 && command -v heaptrack_print >/dev/null 2>&1; then
		(cd "$work" && heaptrack -o "$work/ht" "$churn" -n 5000000 glibc 1 >/dev/null 2>&1) || true
		ht=$(ls "$work"/ht.* 2>/dev/null | head -1)
		if [ -n "$ht" ]; then
			peakrun heaptrack_print -l 1 "$ht" | awk '{ printf "%-28s %12.3f %12.3f %10.1f\n",
			    "heaptrack_print -l", $1 / 1e9, $2 / 1e9, $3 / 1024 }'
		fi
	else
		echo "(heaptrack is not installed: no heaptrack_print figure)"
	fi
else
	echo "(bench/churn, pooldbg or /usr/bin/time missing: no churn figure)"
fi
