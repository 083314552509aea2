#!/bin/sh
# tests/zone-trace.sh -- zones under pooldbg run: tests/zone-traced makes
# two zones; the trace must hold both (zones table: name, size, figures
# at uma_zdestroy), the zone of every zalloc/zfree event (zone_events),
# and leak must report the items left, grouped by zone and stack.
# tests/zone-errors makes one debugging report of each kind: untraced the
# first aborts; traced each is an error of the trace (kind, stacks, the
# recorder's report) and the program goes on; a zdestroy leak is no error.
# Prints TAP.
# events and blocks are virtual tables: the shell reads them through the extension
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3() { command sqlite3 -cmd ".load ${POOLDBG_SQLITE_EXT:-pooldbg_trace}" "$@"; }
fi

set -u
: "${POOLDBG:?}" "${abs_top_builddir:?}"
prog=$abs_top_builddir/tests/zone-traced
errs=$abs_top_builddir/tests/zone-errors
leak=$abs_top_builddir/leak/leak
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
q() {
	sqlite3 "$tmp/t.db" "$1"
}

echo "1..13"
"$POOLDBG" run -o "$tmp/t.db" "$prog" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 0 ] && [ "$(grep -c 'pooldbg: zone widgets: leak: item' "$tmp/err")" -eq 3 ]
ok $? "the program ran (exit $st); uma_zdestroy reported 3 leaks on fd 2"
"$leak" "$tmp/t.db" >"$tmp/leak" 2>&1
grep -q "120 bytes in 3 blocks.*items of zone widgets" "$tmp/leak" &&
    [ "$(grep -c "200 bytes in 1 block.*items of zone gadgets" "$tmp/leak")" -eq 2 ]
ok $? "leak groups the items left by zone: $(grep -o 'items of zone [a-z]*' "$tmp/leak" | tr '\n' ' ')"

"$errs" >"$tmp/eout" 2>"$tmp/eerr"
st=$?
[ $st -gt 128 ] && grep -q '^pooldbg: zone parts: duplicate free of 0x' "$tmp/eerr" && ! grep -q done "$tmp/eout"
ok $? "untraced, the first zone report aborts the program (exit $st)"
"$POOLDBG" run -o "$tmp/e.db" "$errs" >"$tmp/eout" 2>"$tmp/eerr"
st=$?
[ $st -eq 0 ] && grep -q done "$tmp/eout"
ok $? "traced, the program goes on past its five zone reports (exit $st)"
grep -q 'double-free at 0x.*' "$tmp/eerr" && grep -q 'zone parts: duplicate free of' "$tmp/eerr" &&
    grep -q 'write-after-free at 0x.*: 40 bytes into a block of 64 bytes' "$tmp/eerr" &&
    [ "$(grep -c 'invalid-free at 0x' "$tmp/eerr")" -eq 3 ] && grep -q 'heap errors: 5' "$tmp/eerr" &&
    ! grep -q '^pooldbg: zone parts:' "$tmp/eerr"
ok $? "the recorder's error report shows them, the zone's own line does not"
"$POOLDBG" run --abort-on-error -o "$tmp/a.db" "$errs" >"$tmp/aout" 2>"$tmp/aerr"
st=$?
[ $st -ne 0 ] && ! grep -q done "$tmp/aout" && grep -q 'double-free at' "$tmp/aerr" &&
    ! grep -q 'write-after-free at' "$tmp/aerr"
ok $? "--abort-on-error stops at the first zone report (exit $st)"
if ! command -v sqlite3 >/dev/null 2>&1; then
	for i in 7 8 9 10 11 12 13; do echo "ok $i # SKIP sqlite3 not installed"; done
	exit $fail
fi
[ "$(sqlite3 "$tmp/e.db" "SELECT kind, count(*) FROM errors GROUP BY kind ORDER BY kind")" = \
    "double-free|1
invalid-free|3
write-after-free|1" ]
ok $? "errors: one double-free, one write-after-free, three invalid-free; the zdestroy leak is none"
[ "$(sqlite3 "$tmp/e.db" "SELECT size, offset, free_stack IS NOT NULL, alloc_stack IS NOT NULL, \
    stack IS NOT NULL FROM errors WHERE kind = 'write-after-free'")" = "64|40|1|1|1" ]
ok $? "the write after free: item of 64 bytes, offset 40, with its allocation and free stacks"

[ "$(q "SELECT name, size, used, requests, frees, failures FROM zones ORDER BY id")" = \
    "widgets|40|3|10|7|0
gadgets|200||||" ]
ok $? "zones: widgets with its figures at uma_zdestroy, gadgets never destroyed"
[ "$(q "SELECT count(*) FROM events e JOIN zone_events z ON z.seq = e.seq WHERE e.call = 'zalloc'")" = 12 ]
ok $? "12 zalloc events, each with its zone"
[ "$(q "SELECT count(*) FROM events e JOIN zone_events z ON z.seq = e.seq WHERE e.call = 'zfree'")" = 7 ]
ok $? "7 zfree events, each with its zone"
[ "$(q "SELECT zone_name, count(*) FROM zone_blocks GROUP BY zone_name ORDER BY zone_name")" = \
    "gadgets|2
widgets|10" ]
ok $? "zone_blocks: every item's lifetime with its zone"
[ "$(q "SELECT count(*) FROM zone_events z JOIN events e ON e.seq = z.seq WHERE e.call NOT IN ('zalloc', 'zfree')")" = 0 ]
ok $? "no malloc event is marked with a zone"
exit $fail
