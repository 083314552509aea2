#!/bin/sh
# tests/leak-e2e.sh -- the whole path of a leak, end to end: programs of
# the leak corpus (tests/leaks/) run under `pooldbg run`, and `leak` reads
# their traces.  Each program prints what its exit scan must find
# ("expect pid=P definite=N/B indirect=N/B possible=N/B", see
# tests/leaks/leaks.h); leak's JSON must say the same, process for
# process, its text report must name the allocating functions, its exit
# status and pooldbg's --error-exitcode must follow the rule of leak(1),
# and the views, suppressions and snapshots must work on real traces.
#
# Owns its temporary directory only.  TAP on stdout.

b=${abs_top_builddir:-$(pwd)}
s=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
pooldbg=$b/pooldbg/pooldbg
leak=$b/leak/leak
leaks=$b/tests/leaks
n=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-e2e-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
[ -x "$pooldbg" ] && [ -x "$leak" ] && [ -x "$leaks/direct" ] || { echo "Bail out! not built"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }

# run NAME ARGS...: trace tests/leaks/NAME into $tmp/NAME.db and check leak's view of it
run() {
	name=$1
	shift
	"$pooldbg" run -o "$tmp/$name.db" -- "$leaks/$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^expect ' "$tmp/$name.out"
	ok $? "$name: runs under pooldbg run (status $rc)"
	"$leak" --format=json --kinds=all "$tmp/$name.db" >"$tmp/$name.json" 2>"$tmp/$name.lerr"
	python3 "$s/tests/leaks/expect.py" "$tmp/$name.out" "$tmp/$name.json"
	ok $? "$name: leak's JSON has the classes the program expects"
	want=0
	grep '^expect ' "$tmp/$name.out" | grep -qv 'definite=0/0 indirect=[0-9]*/[0-9]* possible=0/0' && want=1
	"$leak" "$tmp/$name.db" >/dev/null 2>&1
	lrc=$?
	[ $lrc -eq $want ]
	ok $? "$name: leak with the default kinds exits $want (got $lrc)"
}

run direct
run list
run cycle
run interior
run realloc
run fork
run cxx
run memalign
run strdup
run dlclose "$leaks/dlclose-lib.so"
run early
run clean
run tight

# the text report names the functions and files that allocated
"$leak" "$tmp/direct.db" >"$tmp/direct.txt" 2>&1
grep -q 'site_a direct.c:[0-9]' "$tmp/direct.txt" && grep -q 'site_b direct.c:[0-9]' "$tmp/direct.txt" &&
    grep -q 'definitely lost *320 bytes in 5 blocks' "$tmp/direct.txt"
ok $? "direct: the text report names site_a and site_b with their lines, 320 bytes in 5 blocks"
"$leak" "$tmp/cxx.db" >"$tmp/cxx.txt" 2>&1
grep -q 'cxx.cc:[0-9]' "$tmp/cxx.txt"
ok $? "cxx: the C++ leaks point into cxx.cc"

# suppressions of both formats on a real trace
printf 'leak:site_a\n' >"$tmp/lsan.supp"
"$leak" --format=json --suppressions "$tmp/lsan.supp" "$tmp/direct.db" >"$tmp/supp.json" 2>/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(sum(l["bytes"] for l in d["leaks"]) != 200)' "$tmp/supp.json"
ok $? "direct: leak:site_a suppresses the 120 bytes of site_a and leaves site_b's 200"
"$leak" --gen-suppressions "$tmp/direct.db" 2>/dev/null | sed -n '/^{/,/^}/p' >"$tmp/gen.supp"
"$leak" --suppressions "$tmp/gen.supp" "$tmp/direct.db" >/dev/null 2>&1
ok $? "direct: the suppressions leak generates suppress every record (exit 0)"

# pooldbg run --error-exitcode follows the same rule
"$pooldbg" run --error-exitcode=9 -o "$tmp/x1.db" -- "$leaks/direct" >/dev/null 2>&1
rc=$?
[ $rc -eq 9 ]
ok $? "pooldbg run --error-exitcode=9 on a leaking program exits 9 (got $rc)"
"$pooldbg" run --error-exitcode=9 -o "$tmp/x2.db" -- "$leaks/clean" >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ]
ok $? "pooldbg run --error-exitcode=9 on a program that frees everything exits 0 (got $rc)"

# the views on a real trace
"$leak" -s "$tmp/direct.db" >"$tmp/s.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'site_a' "$tmp/s.txt" && grep -q 'site_b' "$tmp/s.txt"
ok $? "leak -s groups direct's blocks by site (exit $rc)"
"$leak" -c "$tmp/direct.db" >"$tmp/c.txt" 2>&1
tail -n 1 "$tmp/c.txt" | grep -q '320.*total\|total.*320'
ok $? "leak -c ends with a total line of 320 bytes"
"$leak" -b "$tmp/heap.png" "$tmp/direct.db" >"$tmp/b.txt" 2>&1
[ "$(head -c 4 "$tmp/heap.png" | od -An -c | tr -d ' ')" = "211PNG" ]
ok $? "leak -b writes a PNG picture of the heap"

# the newest trace in the current directory when none is named
(cd "$tmp" && cp direct.db newest.db && touch newest.db && "$leak" >"$tmp/newest.txt" 2>&1)
head -n 1 "$tmp/newest.txt" | grep -q 'newest.db'
ok $? "leak with no trace reads the newest in the current directory and names it first"

echo "1..$n"
