#!/bin/sh
# tests/run-example.sh -- the whole path of one run: examples/leaky under
# `pooldbg run`, its output and status unchanged, and a trace in which the
# runtime's events, the recorder's derived blocks and the symbolizer's
# locations agree with what the program's source says it leaks.
# events and blocks are virtual tables: the shell reads them through the extension
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3() { command sqlite3 -cmd ".load ${POOLDBG_SQLITE_EXT:-pooldbg_trace}" "$@"; }
fi

set -u

: "${abs_top_builddir:=$(pwd)}"
: "${abs_top_srcdir:=$abs_top_builddir}"
pooldbg=$abs_top_builddir/pooldbg/pooldbg
leaky=$abs_top_builddir/examples/leaky
src=$abs_top_srcdir/examples/leaky.c
work=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-example-XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

q() { sqlite3 "$work/t.db" "$1" 2>&1; }

if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "1..0 # SKIP the sqlite3 shell is not installed"
	exit 0
fi

"$leaky" >"$work/native.out" 2>&1
native=$?
"$pooldbg" run -o "$work/t.db" "$leaky" >"$work/traced.out" 2>"$work/traced.err"
traced=$?
cmp -s "$work/native.out" "$work/traced.out"
ok $? "the program prints the same under pooldbg run"
[ "$native" -eq 0 ] && [ "$traced" -eq 0 ]
ok $? "both runs exit 0 ($native, $traced)"
grep -q "^pooldbg: live at exit: " "$work/traced.err"
ok $? "the summary says what was live at exit"
r=$(tail -n 1 "$work/traced.err")
[ "$r" = "pooldbg: trace written to $work/t.db; see: leak $work/t.db" ]
ok $? "the summary's last line names the trace and the command to read it (got '$r')"

line_forget=$(grep -n 'leaked: never freed' "$src" | cut -d: -f1)
line_remember=$(grep -n 'n = malloc(sizeof \*n);' "$src" | cut -d: -f1)
line_copy=$(grep -n 't = malloc(strlen(s) + 1);' "$src" | cut -d: -f1)

r=$(q "SELECT blocks || ' ' || bytes FROM live_by_location WHERE function = 'forget' AND file LIKE '%examples/leaky.c' AND line = $line_forget")
[ "$r" = "4 256" ]
ok $? "4 blocks, 256 bytes leaked by forget at leaky.c:$line_forget (got '$r')"
r=$(q "SELECT blocks || ' ' || bytes FROM live_by_location WHERE function = 'remember' AND line = $line_remember")
[ "$r" = "4 64" ]
ok $? "4 list nodes, 64 bytes, still live from remember at leaky.c:$line_remember (got '$r')"
r=$(q "SELECT blocks || ' ' || bytes FROM live_by_location WHERE function = 'copy' AND line = $line_copy")
[ "$r" = "4 23" ]
ok $? "4 names, 23 bytes, still live from copy at leaky.c:$line_copy (got '$r')"
r=$(q "SELECT count(*) FROM blocks WHERE size = 19 AND call = 'malloc' AND free_call = 'free'")
[ "$r" = "1" ]
ok $? "the 19-byte block that was freed has a whole lifetime (got '$r')"
# the functions of the stack, innermost first, inline chains unfolded
r=$(q "WITH RECURSIVE up(level, id) AS (
	  SELECT 0, (SELECT stack FROM blocks WHERE size = 64 AND free_seq IS NULL LIMIT 1)
	  UNION ALL
	  SELECT up.level + 1, f.parent FROM up JOIN frames f ON f.id = up.id WHERE f.parent <> 0)
	SELECT group_concat(function, ' ') FROM (
	  SELECT l.function FROM up JOIN frames f ON f.id = up.id
	  JOIN locations l ON l.process = f.process AND l.pc = f.pc
	  ORDER BY up.level, l.depth LIMIT 2)")
[ "$r" = "forget main" ]
ok $? "forget was called by main, inlined or not (got '$r')"
r=$(q "SELECT end_how || ' ' || end_status FROM processes")
[ "$r" = "exit 0" ]
ok $? "the process ended by exit 0 (got '$r')"
r=$(q "SELECT value FROM meta WHERE key = 'complete'")
[ "$r" = "yes" ]
ok $? "the trace is complete"
r=$(q "SELECT value FROM meta WHERE key = 'symbolized'")
[ "$r" = "yes" ]
ok $? "the trace is symbolized"

# a module loaded and unloaded during the run still symbolizes afterwards
tlib=$abs_top_builddir/tests/.libs/traced-lib.so
"$pooldbg" run -o "$work/dl.db" "$abs_top_builddir/tests/traced" dlopen "$tlib" >/dev/null 2>&1
ok $? "a program that dlopens and dlcloses a module runs under pooldbg run"
r=$(sqlite3 "$work/dl.db" "SELECT count(*) FROM modules WHERE path LIKE '%traced-lib.so' AND unloaded IS NOT NULL" 2>&1)
[ "$r" = "1" ]
ok $? "the trace has the module with its unload time (got '$r')"
r=$(sqlite3 "$work/dl.db" "SELECT l.function || ' ' || (l.file LIKE '%tests/traced-lib.c') FROM events e
	JOIN frames f ON f.process = e.process AND f.id = e.stack
	JOIN locations l ON l.process = f.process AND l.pc = f.pc AND l.depth = 0
	WHERE e.type = 'alloc' AND e.size = 4321" 2>&1)
[ "$r" = "traced_lib_alloc 1" ]
ok $? "its allocation resolves to traced_lib_alloc in traced-lib.c after the dlclose (got '$r')"

echo "1..$n"
exit $failed
