#!/bin/sh
# tests/zone-trace.sh -- zones under pooldbg run: tests/zone-traced makes
# two zones; the trace must hold both (zones table: name, size, figures
# at uma_zdestroy), the zone of every zalloc/zfree event (zone_events),
# and leak must report the items left, grouped by zone and stack.  Prints TAP.

set -u
: "${POOLDBG:?}" "${abs_top_builddir:?}"
prog=$abs_top_builddir/tests/zone-traced
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

echo "1..7"
"$POOLDBG" run -o "$tmp/t.db" "$prog" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 0 ] && [ "$(grep -c 'pooldbg: zone widgets: leak: item' "$tmp/err")" -eq 3 ]
ok $? "the program ran (exit $st); uma_zdestroy reported 3 leaks on fd 2"
"$leak" "$tmp/t.db" >"$tmp/leak" 2>&1
grep -q "120 bytes in 3 blocks.*items of zone widgets" "$tmp/leak" &&
    [ "$(grep -c "200 bytes in 1 block.*items of zone gadgets" "$tmp/leak")" -eq 2 ]
ok $? "leak groups the items left by zone: $(grep -o 'items of zone [a-z]*' "$tmp/leak" | tr '\n' ' ')"
if ! command -v sqlite3 >/dev/null 2>&1; then
	for i in 3 4 5 6 7; do echo "ok $i # SKIP sqlite3 not installed"; done
	exit $fail
fi
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
