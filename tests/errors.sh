#!/bin/sh
# tests/errors.sh -- the heap-error corpus: each program of tests/errors/
# runs under `pooldbg run` (with the options its kind needs) and its error
# must be reported with the right kind, the right functions on the stack
# of the operation that found it, on the allocation stack and on the free
# stack, and the right offset: in the trace's errors table, in the report
# on stderr, and in `leak --format=json`.  three.c makes three errors in
# one run; --abort-on-error stops at the first; --error-exitcode applies,
# notices aside; more guarded blocks than the process's mappings allow
# leave the rest to the pool, with no allocation failed.
#
# Where clang's AddressSanitizer works, the corpus runs under it too and
# a TAP comment says which kinds each tool caught (no verdict on ASan).
#
# Owns its temporary directory only.  TAP on stdout.

b=${abs_top_builddir:-$(pwd)}
s=${abs_top_srcdir:-$(dirname "$0")/..}
pooldbg=$b/pooldbg/pooldbg
leak=$b/leak/leak
progs=$b/tests/errors
n=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-errors-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
[ -x "$pooldbg" ] && [ -x "$progs/overflow" ] || { echo "Bail out! not built"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is needed to read the traces"; exit 0; }

# check NAME 'OPTIONS' KIND OFFSET OP ALLOC FREE [COUNT]: run tests/errors/NAME with OPTIONS and
# check its errors of KIND (the first one; COUNT of them, default 1): offset OFFSET
# ('-' unchecked), OP on the operation's stack, ALLOC on the allocation stack,
# FREE on the free stack ('-': no stack expected).
check() {
	name=$1 opts=$2 kind=$3 off=$4 op=$5 al=$6 fr=$7 count=${8:-1}
	# shellcheck disable=SC2086
	"$pooldbg" run --force -o "$tmp/$name.db" $opts "$progs/$name" >"$tmp/$name.out" 2>"$tmp/$name.err"
	"$leak" --format=json "$tmp/$name.db" >"$tmp/$name.json" 2>/dev/null
	python3 - "$tmp/$name.db" "$tmp/$name.err" "$tmp/$name.json" "$kind" "$off" "$op" "$al" "$fr" "$count" <<'PY' >"$tmp/$name.why" 2>&1
import json, sqlite3, sys
db, err, js, kind, off, op, al, fr, count = sys.argv[1:]
c = sqlite3.connect(db)
def funcs(proc, sid):
    out = []
    while sid:
        r = c.execute("SELECT parent, pc FROM frames WHERE process=? AND id=?", (proc, sid)).fetchone()
        if r is None:
            break
        out += [f or "" for (f,) in c.execute(
            "SELECT function FROM locations WHERE process=? AND pc=? ORDER BY depth", (proc, r[1]))]
        sid = r[0]
    return out
rows = c.execute("SELECT process, stack, alloc_stack, free_stack, offset, block, size FROM errors"
                 " WHERE kind=? ORDER BY id", (kind,)).fetchall()
assert len(rows) == int(count), "%d errors of kind %s, want %s: %s" % (len(rows), kind, count,
    c.execute("SELECT kind FROM errors").fetchall())
proc, st, ast, fst, o, blk, size = rows[0]
def has(stack, f):
    return any(x == f or x.startswith(f + "(") for x in stack)
assert has(funcs(proc, st), op), "operation stack %s lacks %s" % (funcs(proc, st), op)
if al != "-":
    assert has(funcs(proc, ast or 0), al), "allocation stack %s lacks %s" % (funcs(proc, ast or 0), al)
if fr != "-":
    assert has(funcs(proc, fst or 0), fr), "free stack %s lacks %s" % (funcs(proc, fst or 0), fr)
else:
    assert not fst, "a free stack where none was expected"
if off != "-":
    assert o == int(off), "offset %s, want %s" % (o, off)
text = open(err).read()
assert ("pooldbg: pid " in text and ": %s" % kind in text), "no report of %s on stderr" % kind
assert op in text, "stderr names no %s" % op
if off != "-" and blk:
    word = "before" if int(off) < 0 else "into"
    assert "%d bytes %s a block" % (abs(int(off)), word) in text, "stderr gives no offset %s" % off
j = [e for e in json.load(open(js))["errors"] if e["kind"] == kind]
assert len(j) == int(count), "leak's JSON has %d errors of kind %s" % (len(j), kind)
if off != "-":
    assert j[0]["offset"] == int(off), "leak's JSON offset %s" % j[0]["offset"]
assert any((f.get("function") or "").startswith(op) for f in j[0]["stack"]), "leak's JSON stack lacks %s" % op
PY
	ok $? "$name: $kind at offset $off, found in $op, made in $al, freed in $fr$(sed 's/^/: /' "$tmp/$name.why" | tail -1)"
}

check overflow "" overflow 24 release make_buffer -
check underflow "" underflow -32 release make_buffer -
check double-free "" double-free 0 second_free make_buffer first_free
check invalid-free "" invalid-free - free_stack - - 3
check write-after-free "" write-after-free 16 exit make_buffer release
check write-after-free "--quarantine 0 --flags noreuse" write-after-free 16 exit make_buffer release
# far into a large block: the fill is checked whole under paranoia (only its head by default)
check deep-write "--flags paranoia" write-after-free 1000 exit make_big release
check realloc-freed "" realloc-freed 0 grow make_buffer release
# a pointer kept from before realloc moved its block, or freed it with size 0
check realloc-moved "" write-after-free 8 exit make_buffer grow
check realloc-zero "" write-after-free 24 exit make_buffer shrink_to_nothing
check mismatched "" mismatched-free 0 free_one make_one - 3
check tolerance "--flags tolerance" notice 24 release copy_word -
check guard-read "--guard 32" overflow 32 read_past make_buffer -
check use-after-free "--guard-sample 1" use-after-free 8 read_freed make_buffer release
check three "" overflow 16 overflow_step overflow_step -
check three "" double-free 0 double_free_step double_free_step double_free_step
check three "" write-after-free 40 exit write_after_free_step write_after_free_step

# a notice changes no exit status; an error does with --error-exitcode
"$pooldbg" run -o "$tmp/n.db" --error-exitcode 9 --flags tolerance "$progs/tolerance" >/dev/null 2>&1
ok $(( $? != 0 )) "a notice alone: the program's status with --error-exitcode"
"$pooldbg" run -o "$tmp/e.db" --error-exitcode 9 "$progs/three" >/dev/null 2>"$tmp/e.err"
ok $(( $? != 9 )) "three errors: --error-exitcode's status"
grep -q 'heap errors: 3$' "$tmp/e.err"
ok $? "the summary counts three errors"
"$pooldbg" run -o "$tmp/a.db" --abort-on-error "$progs/three" >/dev/null 2>"$tmp/a.err"
rc=$?
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute("SELECT kind, fatal FROM errors").fetchall(); sys.exit(r != [("overflow", 1)])' "$tmp/a.db"
ok $(( $? != 0 || rc == 0 )) "--abort-on-error stops at the first error (status $rc)"
"$pooldbg" run -o "$tmp/g.db" --guard 32 "$progs/guard-read" >/dev/null 2>&1
rc=$?
ok $(( rc != 139 && rc != 134 )) "a guard page fault stops the program (status $rc)"
# more guarded blocks than the kernel allows the process mappings for: the rest from the pool
# (the program's own stderr apart: what pooldbg says must not land in it)
"$pooldbg" run -o "$tmp/m.db" --guard 32 sh -c '"$0" 2>"$1"' "$progs/guard-many" "$tmp/m.perr" \
    >"$tmp/m.out" 2>"$tmp/m.err"
rc=$?
ok $(( rc != 0 )) "more guarded blocks than mappings allow: every allocation served (status $rc)"
grep -q '^40000$' "$tmp/m.out"
ok $? "more guarded blocks than mappings allow: the program's output"
[ "$(grep -c 'guard pages: [0-9]* blocks guarded, as many as' "$tmp/m.err")" = 1 ] &&
    grep -q 'heap errors: 0, and 1 notice$' "$tmp/m.err" && [ ! -s "$tmp/m.perr" ]
ok $? "more guarded blocks than mappings allow: said once by pooldbg, as a notice, not by the program"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); sys.exit(c.execute("SELECT count(*) FROM errors WHERE kind = \x27notice\x27 AND message LIKE \x27guard pages: %\x27").fetchone()[0] != 1)' "$tmp/m.db"
ok $? "more guarded blocks than mappings allow: the notice in the trace"

# the same corpus under AddressSanitizer, where clang has it: what each tool catches
if [ -n "${CLANG:-}" ] || command -v clang >/dev/null 2>&1; then
	cc=${CLANG:-clang}
	if echo 'int main(void){return 0;}' >"$tmp/t.c" && "$cc" -fsanitize=address -o "$tmp/t" "$tmp/t.c" 2>/dev/null && "$tmp/t"; then
		for f in overflow underflow double-free invalid-free write-after-free realloc-freed realloc-moved realloc-zero tolerance guard-read use-after-free three mismatched; do
			src=$s/tests/errors/$f.c
			[ -f "$src" ] || src=$s/tests/errors/$f.cc
			case $src in
			*.cc) c="${cc}++" ;;
			*) c=$cc ;;
			esac
			if ! "$c" -g -O1 -fsanitize=address -I"$s/tests/errors" -o "$tmp/asan-$f" "$src" 2>/dev/null; then
				echo "# asan: $f: not built"
				continue
			fi
			ASAN_OPTIONS=detect_leaks=0:halt_on_error=0 "$tmp/asan-$f" >/dev/null 2>"$tmp/asan-$f.err"
			a=$(sed -n 's/.*ERROR: AddressSanitizer: \(attempting \)\{0,1\}\([a-z-]*\).*/\2/p' "$tmp/asan-$f.err" | sort -u | tr '\n' ' ')
			p=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(" ".join(sorted({k for (k,) in c.execute("SELECT kind FROM errors")})))' "$tmp/$f.db" 2>/dev/null)
			echo "# $f: pooldbg: ${p:-nothing}; asan: ${a:-nothing}"
		done
	else
		echo "# AddressSanitizer does not work here: no comparison"
	fi
else
	echo "# clang not installed: no comparison with AddressSanitizer"
fi

echo "1..$n"
