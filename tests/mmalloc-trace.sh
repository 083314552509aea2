#!/bin/sh
# tests/mmalloc-trace.sh -- mapped heaps under pooldbg run: tests/mmalloc-traced
# makes, grows and frees blocks of a heap file with mmalloc(3); the trace
# must hold every call as an event (mmalloc, mvalloc, mrealloc, mfree) with
# its stack, and leak must report the blocks of the heap left at exit
# (unclassified, "blocks of a mapped heap", with their allocation stacks),
# and the block mmalloc(NULL, ...) lost in the default pool as definite.
# Prints TAP.
# events and blocks are virtual tables: the shell reads them through the extension
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3() { command sqlite3 -cmd ".load ${POOLDBG_SQLITE_EXT:-pooldbg_trace}" "$@"; }
fi

set -u
: "${POOLDBG:?}" "${abs_top_builddir:?}"
prog=$abs_top_builddir/tests/mmalloc-traced
leak=$abs_top_builddir/leak/leak
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

echo "1..6"
"$prog" "$tmp/plain.heap" >"$tmp/out" 2>&1
ok $? "untraced, the program runs"
"$POOLDBG" run -o "$tmp/t.db" "$prog" "$tmp/t.heap" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 0 ] && grep -q 'live at exit: 5 blocks' "$tmp/err"
ok $? "traced, it runs (exit $st) and its mapped blocks count as live at exit"
"$leak" "$tmp/t.db" >"$tmp/leak" 2>&1
for b in 64 300 4000; do
	grep -q "unclassified: $b bytes in 1 block live at exit (not scanned), blocks of a mapped heap" \
	    "$tmp/leak" || { echo "# no record of $b bytes"; false; } || break
done
ok $? "leak reports the 3 blocks left in the mapped heap, as unclassified"
awk '/blocks of a mapped heap/ { r = 1; next } r && /#1 / { print; r = 0 }' "$tmp/leak" >"$tmp/frames"
[ "$(grep -c 'main mmalloc-traced.c\|leakone mmalloc-traced.c' "$tmp/frames")" -eq 3 ]
ok $? "each with its allocation stack in the program"
grep -q 'definite: 77 bytes in 1 block definitely lost' "$tmp/leak"
ok $? "mmalloc(NULL, ...) lost in the default pool: definite"
if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "ok 6 # SKIP sqlite3 not installed"
	exit $fail
fi
[ "$(sqlite3 "$tmp/t.db" "SELECT call, count(*) FROM events WHERE call LIKE 'm%' AND call <> 'malloc'
    GROUP BY call ORDER BY call")" = "mfree|2
mmalloc|5
mrealloc|1
mvalloc|1" ]
ok $? "events: 5 mmalloc, 1 mvalloc, 1 mrealloc, 2 mfree"
exit $fail
