#!/bin/sh
# tests/leak.sh -- leak on traces of known content (tests/leak-fixture):
# its reports in every format against tests/golden/, the grouping and
# order of records, every option that chooses what is reported,
# suppressions of both formats and the ones it generates, and one line
# and exit status 2 for every kind of bad input.

set -u

: "${abs_top_builddir:=$(pwd)}"
: "${abs_top_srcdir:=$abs_top_builddir}"
leak=$abs_top_builddir/leak/leak
fixture=$abs_top_builddir/tests/leak-fixture
golden=$abs_top_srcdir/tests/golden
work=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-leak-XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
failed=0
unset NO_COLOR

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

# run ARGS...: leak in $work/fx; stdout in $work/out, stderr in $work/err, status in $rc
run() {
	(cd "$work/fx" && "$leak" "$@" >"$work/out" 2>"$work/err")
	rc=$?
}

# same FILE GOLDEN: compare, showing the difference when they differ
same() {
	if cmp -s "$1" "$2"; then return 0; fi
	diff -u "$2" "$1" | sed 's/^/# /' | head -40
	return 1
}

# bad WHAT ARGS...: exit 2, one line on stderr that starts "leak: " and names no SQLite internals
bad() {
	what=$1
	shift
	run "$@"
	lines=$(wc -l <"$work/err")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^leak: ' "$work/err" &&
	    ! grep -qi 'sqlite\|malformed\|disk image' "$work/err"; then
		ok 0 "$what: exit 2, one line: $(cat "$work/err")"
	else
		ok 1 "$what: exit $rc, $lines lines: $(head -3 "$work/err" | tr '\n' '|')"
	fi
}

mkdir -p "$work/fx"
"$fixture" "$work/fx"
ok $? "the fixtures are made"

# ---- the formats, against their golden files ----
run --kinds=all main.db
[ "$rc" -eq 1 ]
ok $? "leaks and errors: exit 1 (got $rc)"
same "$work/out" "$golden/leak-main.txt"
ok $? "text report as tests/golden/leak-main.txt"
run --kinds=all --format=json main.db
same "$work/out" "$golden/leak-main.json"
ok $? "json report as tests/golden/leak-main.json"
run --format=sarif main.db
sed 's/"name": "leak", "version": "[^"]*"/"name": "leak", "version": "VERSION"/' "$work/out" >"$work/sarif"
same "$work/sarif" "$golden/leak-main.sarif"
ok $? "sarif report as tests/golden/leak-main.sarif"
run --kinds=all --format=folded main.db
same "$work/out" "$golden/leak-main.folded"
ok $? "folded stacks as tests/golden/leak-main.folded"

if command -v python3 >/dev/null 2>&1; then
	run --kinds=all --format=json main.db
	python3 -c 'import json,sys; json.load(sys.stdin)' <"$work/out"
	ok $? "the json parses"
	python3 - "$work/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["trace"] == "main.db"
assert [p["pid"] for p in d["processes"]] == [100, 101]
assert d["processes"][0]["argv"] == ["prog", "-x", "input.txt"]
assert d["processes"][1]["exit_status"] == 3
s = d["summary"]
assert s["definite"] == {"bytes": 4418, "blocks": 113}, s
assert s["indirect"] == {"bytes": 800, "blocks": 50}
assert s["possible"] == {"bytes": 2000, "blocks": 2}
assert s["reachable"] == {"bytes": 1000, "blocks": 10}
l = d["leaks"]
assert [x["bytes"] for x in l] == sorted([x["bytes"] for x in l], reverse=True)
top = l[0]
assert (top["kind"], top["pid"], top["bytes"], top["blocks"]) == ("definite", 100, 3200, 100)
assert top["preview"].startswith("6e6f646520303a2068656c6c6f")
f = top["stack"]
assert [x["function"] for x in f] == ["make_node", "build_list", "main"]
assert [x["inlined"] for x in f] == [True, False, False]
assert f[0]["file"] == "/src/prog/list.c" and f[0]["line"] == 12
assert f[0]["module"] == "/usr/bin/prog" and f[0]["pc"] == "0x555555555200"
bare = [x for x in l if x["bytes"] == 64][0]["stack"]
assert bare[0]["function"] is None and bare[0]["module"] is None and bare[0]["line"] is None
e = d["errors"]
assert [x["kind"] for x in e] == ["double-free", "overflow", "notice", "invalid-free"]
df = e[0]
assert df["address"] == "0x90000" and df["size"] == 24, df
assert [x["function"] for x in df["alloc_stack"]] == ["make_node", "build_list", "main"]
assert [x["function"] for x in df["free_stack"]] == ["release", "main"]
assert e[1]["size"] == 32 and e[1]["free_stack"] == []
assert e[2]["address"] is None and e[2]["size"] is None and e[2]["alloc_stack"] == []
assert e[3]["size"] is None and e[3]["pid"] == 101
EOF
	ok $? "the json holds the processes, summary, records and errors of the fixture"
	run --format=sarif main.db
	python3 - "$work/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == "2.1.0" and len(d["runs"]) == 1
run = d["runs"][0]
drv = run["tool"]["driver"]
assert drv["name"] == "leak"
ids = [r["id"] for r in drv["rules"]]
for k in ("definite", "indirect", "possible", "reachable", "double-free", "overflow", "notice"):
    assert k in ids, k
for res in run["results"]:
    assert "text" in res["message"]
    assert res["level"] in ("error", "warning", "note")
    assert ids[res["ruleIndex"]] == res["ruleId"]
    for loc in res.get("locations", []):
        pl = loc["physicalLocation"]
        assert "uri" in pl["artifactLocation"]
        assert pl["region"]["startLine"] >= 1
    for st in res.get("stacks", []):
        assert isinstance(st["frames"], list) and st["frames"]
leaks = [r for r in run["results"] if r["ruleId"] in ("definite", "possible")]
assert leaks[0]["message"]["text"] == "3200 bytes in 100 blocks definitely lost"
assert leaks[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///src/prog/list.c"
assert leaks[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
assert len(leaks) == 6 and len(run["results"]) == 10
EOF
	ok $? "the sarif parses and has the fields SARIF 2.1.0 requires"
	run --format=json odd.db
	python3 - "$work/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["processes"][0]["exe"] == "/tmp/odd\tname\u00ff", repr(d["processes"][0]["exe"])
assert d["processes"][0]["argv"] == ["odd", '"quoted"', "arg\\"]
f = d["leaks"][0]["stack"]
assert f[0]["function"] == 'weird\x01fn"q"\\\u00e9\u20ac\U0001F600\u00c3\u00ed\u00a0\u0080', repr(f[0]["function"])
assert f[0]["file"] == "/src/\x1b[31mred.c"
assert f[1]["file"] == "/src/caf\u00e9.c"
assert d["leaks"][0]["preview"] == "7f80ff225c0a0000"
assert d["errors"][0]["kind"] is None
assert d["errors"][0]["message"] == "line one\nline\ttwo \x1b[1m\u00ff"
EOF
	ok $? "json escapes quotes and control characters, passes UTF-8, shows stray bytes as \\u00XX"
else
	for t in 1 2 3 4; do ok 0 "# SKIP python3 is not installed"; done
fi
run odd.db
! grep -q "$(printf '\033')" "$work/out" && ! grep -q "$(printf '\001')" "$work/out"
ok $? "text never passes a control character from the trace through"

# ---- grouping, order, choosing ----
run --kinds=all --format=folded main.db
awk '{ print $NF }' "$work/out" | tr '\n' ' ' >"$work/bytes"
[ "$(cat "$work/bytes")" = "3200 2000 1024 1000 800 100 64 30 " ]
ok $? "one record per (process, class, stack), largest first: $(cat "$work/bytes")"
run main.db
grep -c '^[a-z]*: [0-9]* bytes' "$work/out" >"$work/count"
[ "$(cat "$work/count")" -eq 6 ] && ! grep -q '^indirect:\|^reachable:' "$work/out"
ok $? "default kinds: definite and possible only ($(cat "$work/count") records)"
grep -q '^definite: 1024 bytes in 4 blocks definitely lost, pid 101 /usr/bin/prog' "$work/out"
ok $? "a multi-process trace names the process on each record"
run --kinds=definite,definite main.db
! grep -q '^possible:' "$work/out" && grep -q '^definite:' "$work/out"
ok $? "--kinds=definite leaves possible out"
run --kinds=indirect --format=folded main.db
[ "$(cat "$work/out")" = "main;fill;foo_strdup 800" ]
ok $? "--kinds=indirect: only the indirect record ($(cat "$work/out"))"
run --kinds=all main.db
grep -q '^summary:' "$work/out" && grep -q 'indirectly lost  *800 bytes in 50 blocks' "$work/out"
ok $? "the summary counts every class"
run --kinds=definite main.db
grep -q 'still reachable  *1000 bytes in 10 blocks' "$work/out"
ok $? "the summary counts every class whatever --kinds says"
run --pid 101 --kinds=all --format=folded main.db
[ "$(cat "$work/out")" = "main;child_work 1024" ]
ok $? "--pid 101: its own record; the blocks it inherited are not its leaks"
run --pid 101 main.db
[ "$(grep -c '^error' "$work/out")" -eq 1 ] && grep -q '^error invalid-free at 0xdead0' "$work/out"
ok $? "--pid 101: its error only"
run --max-frames 3 --kinds=definite main.db
grep -A5 '^definite: 30 bytes' "$work/out" | grep -q '^    \.\.\. 19 more frames'
ok $? "--max-frames 3 cuts the deep stack and says how much is left"
run --max-frames 0 --kinds=definite main.db
[ "$(grep -A30 '^definite: 30 bytes' "$work/out" | grep -c '^    #')" -eq 22 ]
ok $? "--max-frames 0: all 22 frames"
run main.db
[ "$(grep -A30 '^definite: 30 bytes' "$work/out" | grep -c '^    #')" -eq 16 ]
ok $? "16 frames by default"
run --snapshot 1 --kinds=all --format=folded main.db
[ "$(cat "$work/out")" = "main;build_list;make_node 3200" ]
ok $? "--snapshot 1: the classes of that snapshot"
run --snapshot 1 main.db
[ "$rc" -eq 1 ] && grep -q '^no leaks of the kinds reported' "$work/out"
ok $? "--snapshot 1 with the default kinds: the reachable blocks are not leaks (exit $rc for the errors)"
run --since-mark start --kinds=all --format=folded main.db
[ "$(cat "$work/out" | tr '\n' '|')" = "main;fill 100|main;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse;recurse 30|" ]
ok $? "--since-mark start: only blocks allocated after the first mark start"
run --since-mark start main.db
[ "$(grep '^error' "$work/out" | tr '\n' '|')" = "error overflow at 0x10000 in pid 100 /usr/bin/prog|error notice in pid 100 /usr/bin/prog|" ]
ok $? "--since-mark start: only the errors after the mark, of images that have it"
run --since-mark late main.db
[ "$rc" -eq 0 ] && grep -q '^no leaks' "$work/out"
ok $? "--since-mark late: nothing after it, exit 0 (got $rc)"
run --diff base.db --kinds=all --format=folded main.db
[ "$(cut -d' ' -f2 "$work/out" | tr '\n' ' ')" = "100 30 " ]
ok $? "--diff: a grown record and a new stack, whatever their stack ids and addresses"
run --diff main.db --kinds=all main.db
grep -q '^no leaks' "$work/out"
ok $? "--diff against itself: nothing new"

# ---- exit status ----
run clean.db
[ "$rc" -eq 0 ]
ok $? "only reachable blocks and a notice: exit 0 (got $rc)"
run --kinds=all clean.db
[ "$rc" -eq 1 ]
ok $? "the same with --kinds=all: exit 1 (got $rc)"
run noscan.db
[ "$rc" -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q 'no exit scan for pid 300' "$work/err" &&
    grep -q '^unclassified: 500 bytes in 1 block' "$work/out" && ! grep -q 'pid 301' "$work/err"
ok $? "no exit scan: one line says so; the live blocks are unclassified; exec's are not"
run --kinds=definite noscan.db
[ "$rc" -eq 0 ]
ok $? "--kinds=definite without a scan: exit 0 (got $rc)"
grep -q '^  pid 301: sh -c true (executed another program)$' "$work/out"
ok $? "an image replaced by exec with no later image of its pid keeps its line"

# ---- images replaced by exec ----
run exec.db
[ "$rc" -eq 1 ] && [ "$(grep -c '^  pid 701: ' "$work/out")" -eq 1 ] &&
    grep -q '^  pid 701: prog (exit 0)$' "$work/out" &&
    grep -q '^  pid 702: sh -c prog; prog (executed another program)$' "$work/out" &&
    grep -q '^  pid 702: prog (exit 0)$' "$work/out" &&
    grep -q '^  and 1 earlier image of these pids, replaced by exec$' "$work/out" &&
    grep -q '^definite: 48 bytes in 1 block definitely lost, pid 701 /usr/bin/prog$' "$work/out"
ok $? "exec: the shell's image pid 701 replaced is counted, not listed; pid 702's, with a heap error, is listed"
run --pid 701 exec.db
[ "$(grep -c '^  pid ' "$work/out")" -eq 1 ] && grep -q '^  pid 701: prog (exit 0)$' "$work/out" &&
    grep -q '^  and 1 earlier image of these pids, replaced by exec$' "$work/out"
ok $? "exec: --pid 701 lists its last image and counts the first"

# ---- one stack in several processes ----
run merge.db
grep '^[a-z]*: [0-9]* bytes' "$work/out" >"$work/records"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$work/records")" -eq 3 ] &&
    sed -n 1p "$work/records" | grep -q '^definite: 500 bytes in 1 block definitely lost, pid 802 /usr/bin/prog$' &&
    sed -n 2p "$work/records" | grep -q '^definite: 240 bytes in 5 blocks definitely lost, in 4 processes: pid 801 /usr/bin/prog, pid 80[234] /usr/bin/prog, pid 80[234] /usr/bin/prog and 1 more$' &&
    sed -n 3p "$work/records" | grep -q '^possible: 48 bytes in 1 block possibly lost, pid 805 /usr/bin/prog$' &&
    grep -A2 '^definite: 240 bytes' "$work/out" | grep -q '#1  main main.c:50'
ok $? "merge: one record for one class and symbolized stack in four processes, whatever their addresses and stack ids"
awk '/^definite: / { s += $2 } END { print s }' "$work/out" >"$work/sum"
grep -q "definitely lost  *$(cat "$work/sum") bytes in 6 blocks" "$work/out" && [ ! -s "$work/err" ]
ok $? "merge: the definite records add up to the summary's $(cat "$work/sum") bytes definitely lost"
run --format=json merge.db
[ "$(grep -o '"kind": "definite"' "$work/out" | wc -l)" -eq 5 ]
ok $? "merge: json keeps a record per process"
printf 'leak:fill\n' >"$work/fill.supp"
run --suppressions "$work/fill.supp" merge.db
grep '^[a-z]*: [0-9]* bytes' "$work/out" >"$work/records"
[ "$(wc -l <"$work/records")" -eq 1 ] && grep -q '^definite: 500 bytes' "$work/records" &&
    grep -q '^suppressed by leak:fill .*: 5 records, 288 bytes in 6 blocks' "$work/out"
ok $? "merge: a suppression counts each record it takes"

# ---- many processes ----
run many.db
grep '^  ' "$work/out" | sed '/^    /,$d' >"$work/head"
[ "$rc" -eq 1 ] && [ "$(grep -c '^  pid ' "$work/head")" -eq 5 ] &&
    grep -q '^  pid 900: sh runall (exit 0)$' "$work/head" &&
    grep -q '^  pid 902: prog 2 (exit 0)$' "$work/head" &&
    grep -q '^  pid 903: prog 3 (killed by signal 11)$' "$work/head" &&
    grep -q '^  pid 904: prog 4 (exit 0)$' "$work/head" &&
    grep -q '^  pid 905: prog 5 (exit 0)$' "$work/head" &&
    grep -q '^  and 12 more processes that exited with nothing to report$' "$work/head"
ok $? "many processes: the header names the first and those that leaked, failed or were killed, and counts the rest"
run --kinds=definite many.db
[ "$(grep -c '^  pid ' "$work/out")" -eq 4 ] && ! grep -q '^  pid 905: ' "$work/out" &&
    grep -q '^  and 13 more processes that exited with nothing to report$' "$work/out"
ok $? "many processes: a leak of a class not reported does not name its process"
run --pid 906 many.db
[ "$(grep -c '^  pid ' "$work/out")" -eq 1 ] && grep -q '^  pid 906: prog 6 (exit 1)$' "$work/out" &&
    ! grep -q 'more process' "$work/out"
ok $? "many processes: --pid names its one process whatever it did"

run partial.db
[ "$rc" -eq 1 ] && grep -q '^definite: 96 bytes in 2 blocks' "$work/out" &&
    grep -q '^note: the scan of pid 600 /usr/bin/prog did not finish' "$work/out"
ok $? "an exit scan that never ended: its blocks, and a note that some may be missing"

# ---- suppressions ----
cat >"$work/fx/lsan.supp" <<'EOF'
# LeakSanitizer's format
leak:make_node
race:not_for_leak
  leak:^child_*$
leak:libfoo.so
leak:nothing_matches_this
EOF
run --kinds=all --suppressions lsan.supp main.db
grep '^suppressed by' "$work/out" >"$work/used"
cat >"$work/want" <<'EOF'
suppressed by leak:make_node (lsan.supp:2): 1 record, 3200 bytes in 100 blocks
suppressed by leak:^child_*$ (lsan.supp:4): 1 record, 1024 bytes in 4 blocks
suppressed by leak:libfoo.so (lsan.supp:5): 2 records, 864 bytes in 51 blocks
EOF
same "$work/used" "$work/want"
ok $? "LeakSanitizer suppressions: function, anchored wildcard, module; counted"
cat >"$work/fx/vg.supp" <<'EOF'
{
   cache, as valgrind writes it
   Memcheck:Leak
   match-leak-kinds: possible
   fun:malloc
   fun:init_ca?he
   fun:main
}
{
   not a leak
   Memcheck:Cond
   fun:fill
}
{
   definite only
   Memcheck:Leak
   match-leak-kinds: definite
   fun:foo_strdup
}
{
   deep
   Memcheck:Leak
   fun:recurse
   ...
   fun:main
}
{
   inline chain
   Memcheck:Leak
   fun:make_node
   fun:build_list
   obj:/usr/bin/*
}
leak:child.c
EOF
run --kinds=all --suppressions vg.supp main.db
grep '^suppressed by' "$work/out" >"$work/used"
cat >"$work/want" <<'EOF'
suppressed by cache, as valgrind writes it (vg.supp:1): 1 record, 2000 bytes in 2 blocks
suppressed by deep (vg.supp:20): 1 record, 30 bytes in 3 blocks
suppressed by inline chain (vg.supp:27): 1 record, 3200 bytes in 100 blocks
suppressed by leak:child.c (vg.supp:34): 1 record, 1024 bytes in 4 blocks
EOF
same "$work/used" "$work/want"
ok $? "valgrind suppressions: globs, ..., match-leak-kinds, inline frames, both formats in one file"
grep -q '^indirect: 800 bytes' "$work/out" && grep -q '^reachable: 1000 bytes' "$work/out"
ok $? "an entry for another kind or another error leaves its records"
grep -q 'suppressed  *6254 bytes in 109 blocks' "$work/out"
ok $? "the summary says how much was suppressed"
run --kinds=all --suppressions lsan.supp --suppressions vg.supp main.db
grep -c '^suppressed by' "$work/out" >"$work/count"
[ "$(cat "$work/count")" -eq 5 ]
ok $? "--suppressions twice: both files count ($(cat "$work/count") used)"

run --kinds=all --gen-suppressions main.db
gen=$(grep -c '^   Memcheck:Leak$' "$work/out")
recs=$(grep -c '^[a-z]*: [0-9]* bytes in' "$work/out")
[ "$gen" -eq "$recs" ] && [ "$gen" -eq 8 ]
ok $? "--gen-suppressions: one entry per record ($gen for $recs)"
sed -n '/^{$/,/^}$/p' "$work/out" >"$work/fx/gen.supp"
run --kinds=all --suppressions gen.supp main.db
grep -q '^no leaks of the kinds reported' "$work/out" && [ "$(grep -c '^suppressed by' "$work/out")" -eq 8 ]
ok $? "the generated suppressions, read back, suppress every record"
run --kinds=all --gen-suppressions clean.db
sed -n '/^{$/,/^}$/p' "$work/out" >"$work/fx/gen2.supp"
run --kinds=all --suppressions gen2.supp clean.db
[ "$rc" -eq 0 ]
ok $? "all suppressed and only a notice: exit 0 (got $rc)"

printf '{\n   unclosed\n   Memcheck:Leak\n' >"$work/fx/bad1.supp"
bad "a suppression left open" --suppressions bad1.supp main.db
grep -q 'bad1.supp:1:' "$work/err"
ok $? "... names the file and line"
printf 'leak:x\nthis is not one\n' >"$work/fx/bad2.supp"
bad "a line that is no suppression" --suppressions bad2.supp main.db
grep -q 'bad2.supp:2:' "$work/err"
ok $? "... names the file and line"
printf '{\n n\n Memcheck:Leak\n match-leak-kinds: sometimes\n}\n' >"$work/fx/bad3.supp"
bad "an unknown leak kind" --suppressions bad3.supp main.db
bad "a suppression file that is missing" --suppressions nonexistent.supp main.db

# ---- output ----
run --color=always main.db
grep -q "$(printf '\033')\[" "$work/out"
ok $? "--color=always colours"
run main.db
! grep -q "$(printf '\033')" "$work/out"
ok $? "no colour into a pipe"
if command -v script >/dev/null 2>&1; then
	(cd "$work/fx" && script -qec "$leak main.db" /dev/null >"$work/tty" 2>&1)
	grep -q "$(printf '\033')\[" "$work/tty"
	ok $? "colour on a terminal"
	(cd "$work/fx" && NO_COLOR=1 script -qec "$leak main.db" /dev/null >"$work/tty" 2>&1)
	! grep -q "$(printf '\033')\[" "$work/tty"
	ok $? "NO_COLOR: no colour on a terminal"
else
	ok 0 "# SKIP script(1) is not installed"
	ok 0 "# SKIP script(1) is not installed"
fi
run --kinds=all -o report.txt main.db
[ ! -s "$work/out" ] && same "$work/fx/report.txt" "$golden/leak-main.txt"
ok $? "-o FILE writes the report there"
bad "-o into a missing directory" -o /nonexistent/dir/report main.db

# ---- choosing the trace ----
mkdir "$work/fx/pick"
cp "$work/fx/main.db" "$work/fx/pick/pooldbg.prog.100.db"
cp "$work/fx/clean.db" "$work/fx/pick/pooldbg.prog.400.db"
touch -d '2001-01-01' "$work/fx/pick/pooldbg.prog.100.db"
touch -d '2002-01-01' "$work/fx/pick/pooldbg.prog.400.db"
echo "newer, but not a trace" >"$work/fx/pick/notes.txt"
(cd "$work/fx/pick" && "$leak" >"$work/out" 2>"$work/err")
rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$work/err")" = "leak: reading ./pooldbg.prog.400.db" ] &&
    head -1 "$work/out" | grep -q '^trace ./pooldbg.prog.400.db$'
ok $? "no TRACE: the newest trace here, named first (exit $rc)"
mkdir "$work/fx/empty"
(cd "$work/fx/empty" && "$leak" >"$work/out" 2>"$work/err")
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ]
ok $? "no TRACE and none here: one line, exit 2 ($(cat "$work/err"))"

# ---- bad input ----
bad "a missing file" missing.db
bad "a directory" .
echo "just some text" >"$work/fx/text.db"
bad "a text file" text.db
: >"$work/fx/empty.db"
bad "an empty file" empty.db
bad "SQLite, not a trace" notrace.db
bad "a newer trace version" newer.db
size=$(wc -c <"$work/fx/main.db")
head -c $((size / 2)) "$work/fx/main.db" >"$work/fx/half.db"
bad "a trace cut in half" half.db
bad "a trace cut in half, json" --format=json half.db
head -c 4096 "$work/fx/main.db" >"$work/fx/page.db"
bad "a trace cut to its first page" page.db
# overwrite every page past the first with garbage, then every page past the tenth
cp "$work/fx/main.db" "$work/fx/garbage.db"
pages=$((size / 4096))
i=1
while [ $i -lt $pages ]; do
	head -c 4096 /dev/urandom | dd of="$work/fx/garbage.db" bs=4096 seek=$i conv=notrunc 2>/dev/null
	i=$((i + 1))
done
bad "a trace overwritten with garbage" garbage.db
cp "$work/fx/main.db" "$work/fx/garbage2.db"
i=$((pages / 2))
while [ $i -lt $pages ]; do
	head -c 4096 /dev/urandom | dd of="$work/fx/garbage2.db" bs=4096 seek=$i conv=notrunc 2>/dev/null
	i=$((i + 1))
done
for f in text json sarif folded; do
	bad "its second half overwritten, $f" --kinds=all --format=$f garbage2.db
done
bad "an interrupted recording" incomplete.db
grep -q 'interrupted' "$work/err"
ok $? "... says it was interrupted"
# this shell holds the trace open for writing, as the recorder does
exec 3<>"$work/fx/incomplete.db"
bad "a recording still going" incomplete.db
grep -q 'still in progress' "$work/err"
ok $? "... says the run is still in progress"
exec 3<&-

# ---- bad options ----
bad "an unknown option" --frobnicate main.db
bad "an unknown short option" -z main.db
bad "an unknown kind" --kinds=definite,lost main.db
bad "an unknown format" --format=xml main.db
bad "--max-frames not a number" --max-frames many main.db
bad "--pid 0" --pid 0 main.db
bad "--pid of no process" --pid 999 main.db
bad "--snapshot of none" --snapshot 7 main.db
bad "--snapshot 0" --snapshot 0 main.db
bad "--since-mark of an unknown label" --since-mark nosuchmark main.db
bad "--diff with a missing base" --diff missing.db main.db
bad "--diff with a base that is no trace" --diff text.db main.db
bad "an option without its argument" main.db --pid
bad "two traces" main.db clean.db
bad "--gen-suppressions with json" --gen-suppressions --format=json main.db
bad "--color=sometimes" --color=sometimes main.db
run --help
[ "$rc" -eq 0 ] && grep -q '^usage: leak' "$work/out"
ok $? "--help"
run --version
[ "$rc" -eq 0 ] && grep -q '^leak (pooldbg) ' "$work/out"
ok $? "--version"

echo "1..$n"
exit $failed
