#!/bin/sh
# bench/errors.sh -- what catching heap errors costs: the slowdown of
# `pooldbg run` with --flags noreuse (every freed block kept and checked)
# and with the default quarantine, beside `pooldbg run --quarantine 0`
# (tracing and the checks of each free, no freed block kept) and
# valgrind memcheck,
# on the same runs of two workloads: allocation churn (bench/churn in
# its glibc mode: the program's malloc, which the runtime replaces) and
# python3 building and dropping containers.
#
# Each round runs the workload natively, then under each tool; a tool's
# figure is the median over ERRORS_ROUNDS rounds (default 3) of its time
# divided by the native time of the same round.  Says so when valgrind
# (or python3) is missing.  It measures and never judges.
#
# usage: errors.sh BUILDDIR

set -eu

builddir=$(cd "${1:-.}" && pwd)
rounds=${ERRORS_ROUNDS:-3}
pooldbg=$builddir/pooldbg/pooldbg
churn=$builddir/bench/churn
export POOLDBG_PRELOAD="$builddir/libpooldbg/.libs/libpooldbg-malloc.so"

for p in "$pooldbg" "$churn"; do
	if [ ! -x "$p" ]; then
		echo "errors.sh: $p not built" >&2
		exit 2
	fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
vg=
if command -v valgrind >/dev/null 2>&1 && valgrind --version >/dev/null 2>&1; then
	vg=valgrind
fi

now() { date +%s%N; }

# secs CMD...: run it, output thrown away; the wall time in ns
secs() {
	t0=$(now)
	"$@" >/dev/null 2>&1 || true
	t1=$(now)
	echo $((t1 - t0))
}

# median FILE: the middle line of a column of numbers
median() {
	sort -g "$1" | sed -n "$((($(wc -l <"$1") + 1) / 2))p"
}

# bench NAME CMD...: one line of the table for the workload CMD
bench() {
	name=$1
	shift
	: >"$work/noreuse"
	: >"$work/traced"
	: >"$work/quarantine"
	: >"$work/memcheck"
	: >"$work/native"
	r=1
	while [ "$r" -le "$rounds" ]; do
		n=$(secs "$@")
		echo "$n" >>"$work/native"
		t=$(secs "$pooldbg" run --force -o "$work/t.db" --quarantine 0 -- "$@")
		awk -v a="$t" -v b="$n" 'BEGIN { print a / b }' >>"$work/traced"
		t=$(secs "$pooldbg" run --force -o "$work/t.db" --flags noreuse -- "$@")
		awk -v a="$t" -v b="$n" 'BEGIN { print a / b }' >>"$work/noreuse"
		t=$(secs "$pooldbg" run --force -o "$work/t.db" -- "$@")
		awk -v a="$t" -v b="$n" 'BEGIN { print a / b }' >>"$work/quarantine"
		if [ -n "$vg" ]; then
			t=$(secs valgrind --tool=memcheck --leak-check=no -q -- "$@")
			awk -v a="$t" -v b="$n" 'BEGIN { print a / b }' >>"$work/memcheck"
		fi
		r=$((r + 1))
	done
	mc="(none)"
	[ -n "$vg" ] && mc=$(median "$work/memcheck")
	awk -v w="$name" -v n="$(median "$work/native")" -v t="$(median "$work/traced")" \
	    -v a="$(median "$work/noreuse")" -v b="$(median "$work/quarantine")" -v c="$mc" 'BEGIN {
		printf "%-22s %9.3f %10.1fx %10.1fx %10.1fx %10s\n", w, n / 1e9, t, a, b,
		    c == "(none)" ? c : sprintf("%.1fx", c) }'
}

printf "\nheap error checks: slowdown against native, median of %d paired runs\n\n" "$rounds"
printf "%-22s %9s %11s %11s %11s %10s\n" "workload" "native s" "no quar." "noreuse" "quarantine" \
    "memcheck"
bench "churn 2M steps" "$churn" -n 2000000 -l 10000 glibc 1
if command -v python3 >/dev/null 2>&1; then
	cat >"$work/work.py" <<'PY'
d = {}
for i in range(600000):
    d[i] = [str(i)] * (i % 7)
    if i % 3 == 0:
        del d[i - 1 if i else 0]
s = sorted(str(k) for k in d)
print(len(s))
PY
	bench "python3 dict churn" python3 "$work/work.py"
else
	echo "(python3 not installed: no python3 figure)"
fi
[ -n "$vg" ] || echo "(valgrind not installed: no memcheck figures)"
