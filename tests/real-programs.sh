#!/bin/sh
# tests/real-programs.sh -- programs from Debian under `pooldbg run`: each
# must print the same bytes and end with the same status as a native run,
# and leave a trace whose events are there and whose processes ended; and
# print and end the same again under --mode=leaks.
# A program that is not installed is skipped, not failed.
#
# Runs from the build tree: $POOLDBG (the recorder) and $POOLDBG_PRELOAD
# (the runtime library) come from the Makefile's test environment.
# events and blocks are virtual tables: the shell reads them through the extension
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3() { command sqlite3 -cmd ".load ${POOLDBG_SQLITE_EXT:-pooldbg_trace}" "$@"; }
fi

set -u

: "${POOLDBG:=pooldbg/pooldbg}"
work=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-real-XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

# the inputs
cat >"$work/ext.py" <<'EOF'
import json, sqlite3, zlib, hashlib, decimal, collections
c = sqlite3.connect(":memory:")
c.execute("create table t(x)")
c.executemany("insert into t values (?)", [(i,) for i in range(2000)])
total = c.execute("select sum(x) from t").fetchone()[0]
blob = zlib.compress(json.dumps({"total": total, "d": str(decimal.Decimal(1) / 7)}).encode())
print(total, hashlib.sha1(blob).hexdigest()[:12], collections.Counter("abracadabra").most_common(2))
EOF
printf 'int add(int a, int b) { return a + b; }\nint main(void) { return add(2, 3) - 5; }\n' >"$work/hello.c"
printf 'all: out.txt\n\t@cat out.txt\nout.txt:\n\t@echo made by make > out.txt\n' >"$work/Makefile"
seq 1 20000 >"$work/nums.txt"
git -C "$work" init -q repo 2>/dev/null && (
	cd "$work/repo" && echo hi >a && git add a &&
	git -c user.name=t -c user.email=t@t commit -qm first
)

# compare NAME PROGRAM COMMAND: run COMMAND (a shell command line) natively
# and under pooldbg run; outputs and statuses must be equal.
compare() {
	name=$1 prog=$2 cmd=$3
	if ! command -v "$prog" >/dev/null 2>&1; then
		skip "$name: $prog is not installed"
		return
	fi
	(cd "$work" && sh -c "$cmd") >"$work/native.out" 2>"$work/native.err"
	ns=$?
	rm -f "$work/t.db" "$work/out.txt"
	(cd "$work" && "$POOLDBG" run -o "$work/t.db" -- sh -c "$cmd") \
	    >"$work/traced.out" 2>"$work/traced.err"
	ts=$?
	rm -f "$work/out.txt"
	cmp -s "$work/native.out" "$work/traced.out"
	ok $? "$name: same output under pooldbg run"
	[ "$ns" -eq "$ts" ]
	ok $? "$name: same exit status ($ns, traced $ts)"
	events=$(sqlite3 "$work/t.db" "select count(*) from events" 2>/dev/null || echo 0)
	[ "${events:-0}" -gt 0 ]
	ok $? "$name: the trace holds its heap events ($events)"
	rm -f "$work/l.db" "$work/out.txt"
	(cd "$work" && "$POOLDBG" run --mode=leaks -o "$work/l.db" -- sh -c "$cmd") \
	    >"$work/leaks.out" 2>"$work/leaks.err"
	ls=$?
	rm -f "$work/out.txt"
	cmp -s "$work/native.out" "$work/leaks.out" && [ "$ns" -eq "$ls" ]
	ok $? "$name: same output and exit status under --mode=leaks ($ns, leaks $ls)"
}

compare "python3 with C extension modules" python3 "python3 ext.py"
# glibc's debug info (libc6-dbg) names its sources relative to the build
# tree ("./libio"); the symbolizer must not give the directory twice
if [ -s "$work/t.db" ] && [ "$(sqlite3 "$work/t.db" "SELECT count(*) FROM locations
    WHERE file LIKE 'libio/%'" 2>/dev/null || echo 0)" -gt 0 ]; then
	doubled=$(sqlite3 "$work/t.db" "SELECT count(*) FROM locations WHERE file NOT LIKE '/%'
	    AND instr(file, '/') > 1 AND substr(file, 1, instr(file, '/'))
	    = substr(file, instr(file, '/') + 1, instr(file, '/'))")
	[ "$doubled" -eq 0 ]
	ok $? "glibc's relative source paths are not doubled ($doubled doubled)"
else
	skip "glibc has no debug info here (libc6-dbg)"
fi
compare "perl" perl "perl -e 'my %h; \$h{\$_ % 977} .= \$_ for 1..50000; print scalar(keys %h), qq{\\n}; exit 3'"
compare "sqlite3" sqlite3 "sqlite3 :memory: 'create table t(x); with recursive c(i) as (select 1 union all select i+1 from c where i<5000) insert into t select i from c; select count(*), sum(x) from t;'"
compare "gcc compiling a file" gcc "gcc -O2 -c hello.c -o hello.o && echo compiled"
compare "git" git "git -C repo log --format=%s && git -C repo status --short"
compare "a bash pipeline" bash "bash -c 'sort -rn nums.txt | head -5 | tr 0-9 a-j; exit 5'"
compare "make" make "make -s"
compare "sed" sed "sed -n 's/^1\\(.*\\)7\$/x\\1/p' nums.txt | tail -3"
compare "xz -T2" xz "xz -T2 -6 -c nums.txt | xz -d | md5sum"

echo "1..$n"
exit $failed
