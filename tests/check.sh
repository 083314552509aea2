#!/bin/sh
# tests/check.sh -- pooldbg run --heap-file and pooldbg check, end to end:
# tests/check-crash smashes a block and dies (SIGKILL, then a crash); the
# heap file it leaves is read by pooldbg check, which must name that block
# and exit 1.  Also: a clean heap exits 0, a file that is no heap exits 2,
# and a usage error exits 2; tests/check-fork, forking while parent and
# child both use their heaps, keeps each heap whole.  Prints TAP.

set -u
: "${POOLDBG:?}" "${abs_top_builddir:?}"
prog=$abs_top_builddir/tests/check-crash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

echo "1..11"
for sig in KILL SEGV; do
	"$POOLDBG" run -o "$tmp/t-$sig.db" --heap-file "$tmp/heap-$sig" "$prog" "$sig" \
	    >"$tmp/addr-$sig" 2>"$tmp/err-$sig"
	addr=$(cat "$tmp/addr-$sig")
	[ -s "$tmp/heap-$sig" ] && [ -n "$addr" ]
	ok $? "$sig: the program ran and left its heap file (block $addr smashed)"
	"$POOLDBG" check "$tmp/heap-$sig" >"$tmp/out-$sig" 2>&1
	st=$?
	[ $st -eq 1 ]
	ok $? "$sig: pooldbg check exits 1 (got $st)"
	grep -q "pointer $addr): mem user overflow" "$tmp/out-$sig" &&
	    [ "$(grep -c ': block 0x' "$tmp/out-$sig")" -eq 1 ]
	ok $? "$sig: it names the smashed block alone: $(head -1 "$tmp/out-$sig")"
done

"$POOLDBG" run -o "$tmp/clean.db" --heap-file "$tmp/heap-clean" /bin/true >/dev/null 2>&1
"$POOLDBG" check "$tmp/heap-clean" >"$tmp/out-clean" 2>&1
st=$?
[ $st -eq 0 ] && grep -q "0 damaged" "$tmp/out-clean"
ok $? "a clean program's heap file: exit 0 ($(cat "$tmp/out-clean"))"

# a fork child copies the heap file's mapping while its parent waits
"$POOLDBG" run -o "$tmp/fork.db" --heap-file "$tmp/heap-fork" "$abs_top_builddir/tests/check-fork" \
    >"$tmp/out-fork" 2>/dev/null
st=$?
[ $st -eq 0 ] && grep -q "^forks 40 bad 0$" "$tmp/out-fork"
ok $? "40 forks under --heap-file: every child's heap and the parent's whole (status $st, $(cat "$tmp/out-fork"))"
"$POOLDBG" check "$tmp/heap-fork" >"$tmp/out-fork-check" 2>&1
st=$?
[ $st -eq 0 ] && grep -q "0 damaged" "$tmp/out-fork-check"
ok $? "the forking program's heap file: exit 0 ($(cat "$tmp/out-fork-check"))"

echo "not a heap" >"$tmp/junk"
"$POOLDBG" check "$tmp/junk" >"$tmp/out-junk" 2>&1
st=$?
[ $st -eq 2 ] && [ "$(wc -l <"$tmp/out-junk")" -eq 1 ] && grep -q "^pooldbg: check: " "$tmp/out-junk"
ok $? "no heap file: exit 2, one line ($(cat "$tmp/out-junk"))"

"$POOLDBG" check >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "no argument: usage, exit 2"
exit $fail
