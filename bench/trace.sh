#!/bin/sh
# bench/trace.sh -- the cost of tracing: `pooldbg run` against a native run
# and against heaptrack (Debian's), side by side on the same workloads.
#
# Each round runs every workload natively, under heaptrack and under
# pooldbg run, one after the other, so a change in the machine's load
# touches all three alike; the table gives the median over rounds of each
# round's ratio to its native run (paired ratios), and the trace's bytes
# per heap event.  It measures and never judges.  Without heaptrack on the
# machine it says so and leaves its column empty.
#
# usage: trace.sh BUILDDIR
# environment: TRACE_ROUNDS (default 3).

set -eu

builddir=$(cd "${1:-.}" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
rounds=${TRACE_ROUNDS:-3}
pooldbg=$builddir/pooldbg/pooldbg
churn=$builddir/bench/churn
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

# The workloads: a name and a command line run from $work.
python3=$(command -v python3 || true)
sqlite3=$(command -v sqlite3 || true)
gcc=$(command -v gcc || true)
cat >"$work/py.py" <<'EOF'
import json
d = {}
for i in range(200000):
    d[str(i)] = [i, str(i) * 3, {"k": i}]
s = json.dumps(d)
print(len(s), len(json.loads(s)))
EOF
{
	echo "create table t(a integer primary key, b text, c real);"
	echo "create index tb on t(b);"
	echo "begin;"
	i=0
	while [ $i -lt 20000 ]; do
		echo "insert into t(b, c) values ('row $i', $i.5);"
		i=$((i + 1))
	done
	echo "commit;"
	echo "select count(*), sum(c) from t;"
} >"$work/sql.sql"
{
	i=0
	while [ $i -lt 1500 ]; do
		echo "int f$i(int x) { int a[16]; for (int j = 0; j < 16; j++) a[j] = x * j + $i; return a[x & 15] + (x > 1 ? f$((i > 0 ? i - 1 : 0))(x - 1) : 0); }"
		i=$((i + 1))
	done
} >"$work/big.c"

workloads="churn1 churn2"
[ -n "$python3" ] && workloads="$workloads python3"
[ -n "$sqlite3" ] && workloads="$workloads sqlite3"
[ -n "$gcc" ] && workloads="$workloads gcc"

cmdof() {
	case $1 in
	churn1)	echo "$churn -n 300000 glibc 1" ;;
	churn2)	echo "$churn -n 300000 glibc 2" ;;
	python3) echo "$python3 $work/py.py" ;;
	sqlite3) echo "$sqlite3 $work/db.sqlite" ;;	# reads sql.sql from stdin
	gcc)	echo "$gcc -O2 -c $work/big.c -o $work/big.o" ;;
	esac
}

now() { date +%s%N; }

# run MODE WORKLOAD: prints elapsed ns; leaves the trace in $work/trace.*
run() {
	mode=$1 w=$2
	cmd=$(cmdof "$w")
	rm -f "$work"/db.sqlite "$work"/trace.* "$work"/heaptrack.*
	input=/dev/null
	[ "$w" = sqlite3 ] && input=$work/sql.sql
	t0=$(now)
	case $mode in
	native)	(cd "$work" && $cmd <"$input" >/dev/null 2>&1) ;;
	heaptrack) (cd "$work" && heaptrack -o "$work/heaptrack.$w" $cmd <"$input" >/dev/null 2>&1) ;;
	pooldbg) (cd "$work" && "$pooldbg" run -o "$work/trace.db" -- $cmd <"$input" >/dev/null 2>&1) ;;
	esac
	t1=$(now)
	echo $((t1 - t0))
}

results=$work/results
: >"$results"
round=1
while [ "$round" -le "$rounds" ]; do
	echo "trace: round $round of $rounds" >&2
	for w in $workloads; do
		n=$(run native "$w")
		h=""
		[ $have_heaptrack = yes ] && h=$(run heaptrack "$w")
		p=$(run pooldbg "$w")
		ev=$(sqlite3 "$work/trace.db" "select count(*) from events" 2>/dev/null || echo 0)
		bytes=$(stat -c %s "$work/trace.db" 2>/dev/null || echo 0)
		echo "$w $n ${h:-0} $p $ev $bytes" >>"$results"
	done
	round=$((round + 1))
done

echo
echo "pooldbg run against native and heaptrack; median of $rounds paired ratios"
[ $have_heaptrack = no ] && echo "(heaptrack is not installed: apt-get install heaptrack)"
echo
awk -v hv=$have_heaptrack '
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	w = $1; k = ++cnt[w]; order[w] = order[w] ? order[w] : ++nw; names[order[w]] = w
	nat[w, k] = $2 / 1e9; hr[w, k] = $3 / $2; pr[w, k] = $4 / $2
	ev[w] = $5; by[w] = $6
}
END {
	printf "%-10s %10s %12s %12s %10s %12s\n", "workload", "native s", "heaptrack x", "pooldbg x", "events", "bytes/event"
	for (i = 1; i <= nw; i++) {
		w = names[i]; n = cnt[w]
		for (k = 1; k <= n; k++) { a[k] = nat[w, k]; b[k] = hr[w, k]; c[k] = pr[w, k] }
		mn = median(a, n); mh = median(b, n); mp = median(c, n)
		hs = hv == "yes" ? sprintf("%.2f", mh) : "-"
		bs = ev[w] + 0 > 0 ? sprintf("%.1f", by[w] / ev[w]) : "-"
		printf("%-10s %10.2f %12s %12.2f %10d %12s\n", w, mn, hs, mp, ev[w], bs)
	}
}' "$results"
