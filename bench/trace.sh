#!/bin/sh
# bench/trace.sh -- the cost of tracing: `pooldbg run` against a native run
# and against heaptrack (Debian's), side by side on the same workloads;
# and the cost of `pooldbg run --mode=leaks` (no events, stacks of live
# blocks only), the column "leaks".  The column "no quar." is pooldbg run
# --quarantine 0: every event traced, every free checked, but freed blocks
# reused at once, with no write-after-free window -- the checks heaptrack
# has none of, less the one whose cost is the colder memory a quarantine
# hands back.
#
# Each round runs every workload natively, under heaptrack, under
# pooldbg run with and without its quarantine and under pooldbg run
# --mode=leaks, one after the other (starting one later each round), so
# a change in the machine's load touches all five alike; the table gives the median over rounds of each
# round's ratio to its native run (paired ratios); the trace's bytes per
# allocation beside heaptrack's uncompressed trace; and the seconds the
# recorder worked on after the program ended (symbols, indexes, tables).
# It measures and never judges.  Without heaptrack on the machine it says
# so and leaves its columns empty.
#
# usage: trace.sh BUILDDIR
# environment: TRACE_ROUNDS (default 3), TRACE_SCALE (default 1: full size),
# TRACE_LEAKS_ARGS (more options for the leaks column, e.g. "--sample 512k").

set -eu

builddir=$(cd "${1:-.}" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
rounds=${TRACE_ROUNDS:-3}
pooldbg=$builddir/pooldbg/pooldbg
churn=$builddir/bench/churn
export PYTHONMALLOC=malloc	# python3's objects through malloc, as the workload means
export POOLDBG_PRELOAD="$builddir/libpooldbg/.libs/libpooldbg-malloc.so"
unset POOLDBG_FLAGS

if [ ! -x "$pooldbg" ] || [ ! -x "$churn" ]; then
	echo "trace.sh: $pooldbg or $churn not built" >&2
	exit 2
fi
have_heaptrack=yes
command -v heaptrack >/dev/null 2>&1 || have_heaptrack=no

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The workloads: a name and a command line run from $work.  Their sizes
# follow the targets the project measures itself against: 5M churn steps
# with ~50k blocks live, a generated C file of ~3000 lines for gcc -O2, a
# 50k-key hash of arrays in perl, dict/list churn in python3 with its own
# small-object allocator off, 200k indexed inserts in sqlite3.
# TRACE_SCALE (default 1) divides the churn's steps and the loops' sizes.
scale=${TRACE_SCALE:-1}
# the interpreter itself, not a wrapper script in front of it (heaptrack
# would measure the wrapper's shell)
python3=/usr/bin/python3
[ -x "$python3" ] || python3=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
sqlite3=$(command -v sqlite3 || true)
gcc=$(command -v gcc || true)
# the compiler proper, run directly: heaptrack does not follow gcc's driver
# into cc1, so the driver would be all it measured
cc1=
[ -n "$gcc" ] && cc1=$($gcc -print-prog-name=cc1) && [ -x "$cc1" ] || cc1=
perl=$(command -v perl || true)
cat >"$work/py.py" <<EOF
d = {}
for r in range(4):
    for i in range($((300000 / scale))):
        d[i] = [i, str(i), (i, r)]
    l = [v for v in d.values() if v[0] % 3]
    d.clear()
print(len(l))
EOF
cat >"$work/hash.pl" <<'EOF'
my %h;
my $n = shift;
for my $i (1 .. $n) { push @{$h{"key$i"}}, $i, "v$i", [$i] for 1 .. 8 }
my $t = 0; $t += @{$_} for values %h;
print scalar(keys %h), " $t\n";
EOF
{
	echo "create table t(a integer primary key, b text, c real);"
	echo "create index tb on t(b);"
	echo "create index tc on t(c);"
	echo "begin;"
	echo "with recursive n(i) as (select 1 union all select i + 1 from n where i < $((200000 / scale)))"
	echo "  insert into t(b, c) select 'row ' || (i * 7919 % 200003), i * 1.5 from n;"
	echo "commit;"
	echo "select count(*), sum(c) from t;"
} >"$work/sql.sql"
{
	i=0
	while [ $i -lt $((3000 / scale)) ]; do
		echo "int f$i(int x) { int a[16]; for (int j = 0; j < 16; j++) a[j] = x * j + $i; return a[x & 15] + (x > 1 ? f$((i > 0 ? i - 1 : 0))(x - 1) : 0); }"
		i=$((i + 1))
	done
} >"$work/big.c"

workloads="churn1 churn2"
[ -n "$cc1" ] && workloads="$workloads gcc"
[ -n "$perl" ] && workloads="$workloads perl"
[ -n "$python3" ] && workloads="$workloads python3"
[ -n "$sqlite3" ] && workloads="$workloads sqlite3"

steps=$((5000000 / scale))
cmdof() {
	case $1 in
	churn1)	echo "$churn -n $steps glibc 1" ;;
	churn2)	echo "$churn -x -n $((steps / 2)) glibc 2" ;;
	gcc)	echo "$cc1 -quiet -O2 $work/big.c -o $work/big.s" ;;
	perl)	echo "$perl $work/hash.pl $((50000 / scale))" ;;
	python3) echo "$python3 $work/py.py" ;;
	sqlite3) echo "$sqlite3 $work/db.sqlite" ;;	# reads sql.sql from stdin
	esac
}

now() { date +%s%N; }

# run MODE WORKLOAD: prints elapsed ns; leaves the trace in $work/trace.*
run() {
	mode=$1 w=$2
	cmd=$(cmdof "$w")
	rm -f "$work"/db.sqlite "$work"/trace.* "$work"/noquar.* "$work"/leaks.* "$work"/heaptrack.*
	input=/dev/null
	[ "$w" = sqlite3 ] && input=$work/sql.sql
	t0=$(now)
	case $mode in
	native)	(cd "$work" && $cmd <"$input" >/dev/null 2>&1) ;;
	heaptrack) (cd "$work" && heaptrack -o "$work/heaptrack.$w" $cmd <"$input" >/dev/null 2>&1) ;;
	pooldbg) (cd "$work" && "$pooldbg" run -o "$work/trace.db" -- \
	    sh -c '"$@"; s=$?; date +%s%N >"'"$work"'/exited"; exit $s' sh $cmd \
	    <"$input" >/dev/null 2>"$work/pooldbg.err") ;;
	noquar)	(cd "$work" && "$pooldbg" run --quarantine 0 -o "$work/noquar.db" -- $cmd \
	    <"$input" >/dev/null 2>&1) ;;
	leaks)	(cd "$work" && "$pooldbg" run --mode=leaks ${TRACE_LEAKS_ARGS:-} -o "$work/leaks.db" -- $cmd \
	    <"$input" >/dev/null 2>&1) ;;
	esac
	t1=$(now)
	# how long the recorder worked on after the program had ended
	rm -f "$work/after"
	[ "$mode" = pooldbg ] && [ -s "$work/exited" ] &&
	    echo $((t1 - $(cat "$work/exited"))) >"$work/after"
	rm -f "$work/exited"
	echo $((t1 - t0))
}

results=$work/results
: >"$results"
round=1
while [ "$round" -le "$rounds" ]; do
	echo "trace: round $round of $rounds" >&2
	# the five runs in a different order each round: a run right after
	# another that freed much memory can find the kernel's page clearing
	# in its way, and no column should always be the one that pays
	order=$(echo native heaptrack pooldbg noquar leaks |
	    awk -v r="$round" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r - 1) % NF + 1) }')
	for w in $workloads; do
		h="" hb=0 allocs=0 bytes=0 after=0
		for m in $order; do
			case $m in
			native)	n=$(run native "$w") ;;
			heaptrack)
				[ $have_heaptrack = yes ] || continue
				h=$(run heaptrack "$w")
				# heaptrack's trace uncompressed: the bytes it really produces
				f=$(ls "$work"/heaptrack."$w".* 2>/dev/null | head -1)
				case $f in
				*.zst)	hb=$(zstd -dc "$f" 2>/dev/null | wc -c) ;;
				*.gz)	hb=$(gzip -dc "$f" 2>/dev/null | wc -c) ;;
				?*)	hb=$(stat -c %s "$f") ;;
				esac ;;
			pooldbg)
				p=$(run pooldbg "$w")
				# the summary's count (the packed events need the module to be counted in SQL)
				allocs=$(sed -n 's/^pooldbg: [0-9]* process[es]*, \([0-9]*\) allocations.*/\1/p' \
				    "$work/pooldbg.err" 2>/dev/null | head -1)
				allocs=${allocs:-0}
				bytes=$(stat -c %s "$work/trace.db" 2>/dev/null || echo 0)
				after=$(cat "$work/after" 2>/dev/null || echo 0) ;;
			noquar)	q=$(run noquar "$w") ;;
			leaks)	l=$(run leaks "$w") ;;
			esac
		done
		echo "$w $n ${h:-0} $p $allocs $bytes ${hb:-0} ${after:-0} $l $q" >>"$results"
	done
	round=$((round + 1))
done

echo
echo "pooldbg run (trace; trace with --quarantine 0; --mode=leaks ${TRACE_LEAKS_ARGS:-})"
echo "against native and heaptrack;"
echo "median of $rounds paired ratios"
[ $have_heaptrack = no ] && echo "(heaptrack is not installed: apt-get install heaptrack)"
echo
awk -v hv=$have_heaptrack '
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	w = $1; k = ++cnt[w]; order[w] = order[w] ? order[w] : ++nw; names[order[w]] = w
	nat[w, k] = $2 / 1e9; hr[w, k] = $3 / $2; pr[w, k] = $4 / $2; af[w, k] = $8 / 1e9
	lr[w, k] = $9 / $2; qr[w, k] = $10 / $2
	al[w] = $5; by[w] = $6; hb[w] = $7
}
END {
	printf "%-8s %8s %10s %10s %9s %8s %9s %8s %10s %8s\n", "workload", "native s", "heaptrack", "pooldbg",
	    "no quar.", "leaks", "allocs", "B/alloc", "ht B/alloc", "after s"
	for (i = 1; i <= nw; i++) {
		w = names[i]; n = cnt[w]
		for (k = 1; k <= n; k++) { a[k] = nat[w, k]; b[k] = hr[w, k]; c[k] = pr[w, k]; d[k] = af[w, k]; e[k] = lr[w, k]; f[k] = qr[w, k] }
		mn = median(a, n); mh = median(b, n); mp = median(c, n); ma = median(d, n); ml = median(e, n)
		mq = median(f, n)
		hs = hv == "yes" ? sprintf("%.2fx", mh) : "-"
		bs = al[w] + 0 > 0 ? sprintf("%.1f", by[w] / al[w]) : "-"
		hbs = hv == "yes" && al[w] + 0 > 0 && hb[w] + 0 > 0 ? sprintf("%.1f", hb[w] / al[w]) : "-"
		printf("%-8s %8.2f %10s %9.2fx %8.2fx %7.2fx %9d %8s %10s %8.2f\n", w, mn, hs, mp, mq, ml,
		    al[w], bs, hbs, ma)
	}
}' "$results"
