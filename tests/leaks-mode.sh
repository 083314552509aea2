#!/bin/sh
# tests/leaks-mode.sh -- `pooldbg run --mode=leaks` and `--sample`, end to
# end.  Each program of the leak corpus (tests/leaks/) and the bundled
# example run under both modes: leaks mode must find the classes the
# program expects (as tests/leak-e2e.sh checks trace mode) and the same
# records with the same stacks as trace mode (leak --format=folded), with
# no events in its trace and its mode in the trace's meta; likewise a
# snapshot's records, an exec'd image's, and four threads' blocks (every
# one found, exactly).  Then --sample: tests/sampled loses blocks of known
# total, and leak's estimates must come within 15% of the truth in both
# modes and with threads (fixed seed: POOLDBG_SAMPLE_SEED; at 16k the
# expected error is about 2%), saying they are estimates in every format.
# poolview's timeline and leak --since-mark say they need --mode=trace.
# Bad option values give one line and exit 2.
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-lmode-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
[ -x "$pooldbg" ] && [ -x "$leak" ] && [ -x "$leaks/direct" ] && [ -x "$b/tests/sampled" ] ||
    { echo "Bail out! not built"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }

# python3 Q DB: the value of a query on the trace DB (sqlite3 from python's library)
q() {
	python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "$1" "$2"
}

# both NAME PROG ARGS...: PROG under each mode; the records must agree
both() {
	name=$1
	shift
	for m in trace leaks; do
		"$pooldbg" run --mode=$m -o "$tmp/$name.$m.db" -- "$@" >"$tmp/$name.$m.out" 2>"$tmp/$name.$m.err"
		echo $? >"$tmp/$name.$m.rc"
		"$leak" --format=folded --kinds=all "$tmp/$name.$m.db" 2>/dev/null | sort >"$tmp/$name.$m.folded"
	done
	[ "$(cat "$tmp/$name.trace.rc")" = "$(cat "$tmp/$name.leaks.rc")" ] &&
	    grep -q 'mode: leaks' "$tmp/$name.leaks.err"
	ok $? "$name: runs under --mode=leaks as under --mode=trace, and the summary says the mode"
	[ -s "$tmp/$name.leaks.folded" ] && cmp -s "$tmp/$name.trace.folded" "$tmp/$name.leaks.folded"
	ok $? "$name: leaks mode gives the records and stacks trace mode gives"
	[ "$(q "$tmp/$name.leaks.db" 'select coalesce(sum(count), 0) from event_pages')" = 0 ] &&
	    [ "$(q "$tmp/$name.leaks.db" "select value from meta where key = 'mode'")" = leaks ] &&
	    [ "$(q "$tmp/$name.leaks.db" "select value from meta where key = 'events'")" = no ]
	ok $? "$name: no events rows in the leaks-mode trace; meta says mode leaks, events no"
	if grep -q '^expect ' "$tmp/$name.leaks.out"; then
		"$leak" --format=json --kinds=all "$tmp/$name.leaks.db" >"$tmp/$name.json" 2>/dev/null
		python3 "$s/tests/leaks/expect.py" "$tmp/$name.leaks.out" "$tmp/$name.json"
		ok $? "$name: leaks mode finds the classes the program expects"
	fi
}

for p in direct list cycle interior realloc fork cxx memalign strdup clean reachable tight early; do
	both "$p" "$leaks/$p"
done
both dlclose "$leaks/dlclose" "$leaks/dlclose-lib.so"
[ -x "$b/examples/leaky" ] && both leaky "$b/examples/leaky"

# a fork child's scan stores only the blocks it made: those it inherited
# are its parent's (and a shell's subshells would each store them again)
for m in trace leaks; do
	own=$(q "$tmp/fork.$m.db" "select count(*) from scan_blocks b join scans s on s.id = b.scan join processes p on p.id = s.process where p.forked = 1 and b.alloc_seq is not null")
	other=$(q "$tmp/fork.$m.db" "select count(*) from scan_blocks b join scans s on s.id = b.scan join processes p on p.id = s.process where p.forked = 1 and b.alloc_seq is null")
	inparent=$(q "$tmp/fork.$m.db" "select count(*) from scan_blocks b join scans s on s.id = b.scan join processes p on p.id = s.process where p.forked = 0 and b.alloc_seq is not null")
	[ "$own" -ge 1 ] && [ "$other" -eq 0 ] && [ "$inparent" -ge 1 ]
	ok $? "fork, $m mode: the child's scan has rows for its own blocks only ($own, and $other others; the parent's $inparent)"
done

# the stacks are symbolized: the text report names the allocating sites
"$leak" "$tmp/direct.leaks.db" >"$tmp/direct.txt" 2>&1
grep -q 'site_a direct.c:[0-9]' "$tmp/direct.txt" && grep -q 'site_b direct.c:[0-9]' "$tmp/direct.txt" &&
    grep -q 'definitely lost *320 bytes in 5 blocks' "$tmp/direct.txt"
ok $? "direct: leaks mode's text report names site_a and site_b, 320 bytes in 5 blocks"

# leaks mode keeps what it knows of a block in the block's tag words: the
# sites (a block's malloc tag, there its stack's innermost pc) are trace
# mode's, and delete still tells the family of a block made by new
for m in trace leaks; do
	"$leak" -s --kinds=all "$tmp/direct.$m.db" 2>/dev/null | tail -n +2 >"$tmp/direct.$m.sites"
done
[ -s "$tmp/direct.leaks.sites" ] && grep -q 'site_b direct.c:[0-9]' "$tmp/direct.leaks.sites" &&
    cmp -s "$tmp/direct.trace.sites" "$tmp/direct.leaks.sites"
ok $? "direct: leak -s gives the same sites in leaks mode as in trace mode"
if [ -x "$b/tests/errors/mismatched" ]; then
	for m in trace leaks; do
		"$pooldbg" run --mode=$m -o "$tmp/mm.$m.db" -- "$b/tests/errors/mismatched" >/dev/null 2>&1
	done
	[ "$(q "$tmp/mm.leaks.db" "select count(*) from errors where kind = 'mismatched-free'")" = 3 ] &&
	    [ "$(q "$tmp/mm.trace.db" "select count(*) from errors where kind = 'mismatched-free'")" = 3 ]
	ok $? "mismatched: leaks mode reports the three mismatched frees trace mode reports"
	[ "$(q "$tmp/mm.leaks.db" "select count(*) from errors where kind != 'mismatched-free'")" = 0 ]
	ok $? "mismatched: leaks mode takes none of its marks for damaged tag words"
fi
# without a quarantine, a second free of a block waiting in a thread's
# cache is still a double free, and the run goes on to its end
for p in double-free realloc-freed; do
	[ -x "$b/tests/errors/$p" ] || continue
	"$pooldbg" run --mode=leaks -o "$tmp/$p.db" -- "$b/tests/errors/$p" >/dev/null 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ "$(q "$tmp/$p.db" "select group_concat(kind) from errors")" = "$p" ]
	ok $? "$p: leaks mode reports one $p and the program ends normally (status $rc)"
done

# exec: the image after exec is traced in leaks mode too, with its own exit scan
"$pooldbg" run --mode=leaks -o "$tmp/exec.db" -- /bin/sh -c "exec '$leaks/direct'" >/dev/null 2>&1
[ "$(q "$tmp/exec.db" "select count(*) from scans s join processes p on p.id = s.process where s.snapshot = 0 and p.exe like '%direct'")" -ge 1 ] &&
    "$leak" "$tmp/exec.db" 2>/dev/null | grep -q 'definitely lost *320 bytes in 5 blocks'
ok $? "exec: the exec'd image's leaks are found in leaks mode"

# snapshots carry the stacks too: tests/traced marks takes two
if [ -x "$b/tests/traced" ]; then
	for m in trace leaks; do
		"$pooldbg" run --mode=$m -o "$tmp/snap.$m.db" -- "$b/tests/traced" marks >/dev/null 2>&1
		"$leak" --snapshot 1 --kinds=all --format=folded "$tmp/snap.$m.db" 2>/dev/null |
		    sort >"$tmp/snap.$m.folded"
	done
	[ -s "$tmp/snap.leaks.folded" ] && cmp -s "$tmp/snap.trace.folded" "$tmp/snap.leaks.folded"
	ok $? "snapshot 1 of tests/traced marks: the same records and stacks in both modes"
fi

# a snapshot asked for by `pooldbg snapshot PID` of a sleeping leaks-mode process
if [ -x "$b/tests/traced" ]; then
	"$pooldbg" run --mode=leaks -o "$tmp/sleep.db" -- "$b/tests/traced" sleep 60 >"$tmp/sleep.out" 2>&1 &
	runner=$!
	i=0
	while ! grep -q '^ready ' "$tmp/sleep.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	sleeper=$(ps -o pid= --ppid "$runner" | tr -d ' ' | head -n 1)
	"$pooldbg" snapshot "$sleeper" >"$tmp/snap.out" 2>&1
	st=$?
	kill "$sleeper" 2>/dev/null
	wait "$runner" 2>/dev/null
	"$leak" --snapshot 1 --kinds=all --format=json "$tmp/sleep.db" >"$tmp/sleep.json" 2>/dev/null
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(not any(l["bytes"] == 3331 and any(f.get("function") == "main" for f in l["stack"]) for l in d["leaks"]))' "$tmp/sleep.json"
	r=$?
	[ $st -eq 0 ] && [ $r -eq 0 ]
	ok $? "pooldbg snapshot PID of a sleeping leaks-mode process: its block, with its stack (status $st)"
fi

# threads: four threads allocate and free at once; every lost block is found, exactly
"$pooldbg" run --mode=leaks -o "$tmp/thr.db" -- "$b/tests/sampled" 6000 4 >"$tmp/thr.out" 2>/dev/null
"$leak" --format=json --kinds=all "$tmp/thr.db" >"$tmp/thr.json" 2>/dev/null
python3 - "$tmp/thr.out" "$tmp/thr.json" <<'PY'
import json, re, sys
t = re.search(r"truth blocks=(\d+) bytes=(\d+)", open(sys.argv[1]).read())
d = json.load(open(sys.argv[2]))
# every class: a dead thread's cached stack may still hold its last pointers (reachable)
recs = [l for l in d["leaks"] if any(f.get("function") == "make" for f in l["stack"])]
got = (sum(l["bytes"] for l in recs), sum(l["blocks"] for l in recs))
print("# truth %s bytes in %s blocks; leak: %d in %d, %d records" % (t.group(2), t.group(1), got[0], got[1], len(recs)))
sys.exit(0 if got == (int(t.group(2)), int(t.group(1))) else 1)
PY
ok $? "threads: leaks mode finds every block four threads lost, each with its stack through make()"

# what needs events says so in one line
"$leak" --since-mark x "$tmp/direct.leaks.db" >/dev/null 2>"$tmp/since.err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/since.err")" -eq 1 ] && grep -q -- '--mode=trace' "$tmp/since.err"
ok $? "leak --since-mark on a leaks-mode trace: one line naming --mode=trace, exit 2 (got $rc)"

# --error-exitcode works from the scans alone
"$pooldbg" run --mode=leaks --error-exitcode=9 -o "$tmp/x.db" -- "$leaks/direct" >/dev/null 2>&1
rc=$?
[ $rc -eq 9 ]
ok $? "--mode=leaks --error-exitcode=9 on a leaking program exits 9 (got $rc)"

# sampling: estimates against the truth, both modes, fixed seed
for m in leaks trace threads; do
	args=
	mode=$m
	[ $m = threads ] && args="8000 4" mode=leaks
	POOLDBG_SAMPLE_SEED=42 "$pooldbg" run --mode=$mode --sample 16k -o "$tmp/s.$m.db" -- \
	    "$b/tests/sampled" $args >"$tmp/s.$m.out" 2>"$tmp/s.$m.err"
	"$leak" --format=json --kinds=definite "$tmp/s.$m.db" >"$tmp/s.$m.json" 2>/dev/null
	python3 - "$tmp/s.$m.out" "$tmp/s.$m.json" "$tmp/s.$m.db" <<'PY'
import json, re, sqlite3, sys
t = re.search(r"truth blocks=(\d+) bytes=(\d+)", open(sys.argv[1]).read())
tb, tn = int(t.group(2)), int(t.group(1))
d = json.load(open(sys.argv[2]))
eb = d["summary"]["definite"]["bytes"]
en = d["summary"]["definite"]["blocks"]
db = sqlite3.connect(sys.argv[3])
sampled = db.execute("select count(*) from scan_blocks b join scans s on s.id = b.scan"
                     " where s.snapshot = 0 and b.class = 'definite' and b.weight is not null").fetchone()[0]
print("# truth %d bytes in %d blocks; estimate %d bytes in %d blocks from %d sampled"
      % (tb, tn, eb, en, sampled))
good = (d.get("estimated") is True and abs(eb - tb) <= 0.15 * tb and abs(en - tn) <= 0.15 * tn
        and 0 < sampled < tn / 4)
sys.exit(0 if good else 1)
PY
	ok $? "$m --sample 16k: leak's estimates within 15% of the truth, from a sample"
	# a third of the blocks are shrunk by realloc, most of them out of the sample
	grep -q 'heap errors: 0$' "$tmp/s.$m.err"
	ok $? "$m --sample 16k: blocks reallocated in and out of the sample free without errors"
done
"$leak" "$tmp/s.leaks.db" 2>/dev/null | sed -n 2p | grep -q '^estimates: .*16384 bytes'
ok $? "leak's text report says the figures are estimates in its second line"
"$leak" --format=sarif "$tmp/s.leaks.db" 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); r=d["runs"][0]; sys.exit(not (r["properties"]["estimated"] and all(x["properties"].get("estimated") for x in r["results"] if "bytes" in x["properties"])))'
ok $? "leak --format=sarif marks the run and each leak result as estimated"
[ "$(q "$tmp/s.leaks.db" "select value from meta where key = 'sample'")" = 16384 ]
ok $? "the trace's meta holds the sample rate"
grep -q 'sampling: one block per 16384 bytes' "$tmp/s.leaks.err"
ok $? "pooldbg's summary says the run was sampled"

# poolview on a leaks-mode trace: its timeline says it needs --mode=trace
if command -v tmux >/dev/null 2>&1 && [ -x "$b/poolview/poolview" ] && [ -s "$tmp/leaky.leaks.db" ]; then
	sock=$tmp/tmux.sock
	tmux -S "$sock" -f /dev/null new-session -d -s pv -x 160 -y 30 \
	    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen $b/poolview/poolview $tmp/leaky.leaks.db; sleep 30"
	# waitfor TEXT: poll the pane until TEXT shows and the screen has settled
	waitfor() {
		i=0
		while [ $i -lt 100 ]; do
			tmux -S "$sock" capture-pane -p -t pv >"$tmp/screen" 2>/dev/null
			if grep -q -- "$1" "$tmp/screen"; then
				sleep 0.1
				tmux -S "$sock" capture-pane -p -t pv >"$tmp/screen.again" 2>/dev/null
				cmp -s "$tmp/screen" "$tmp/screen.again" && return
			fi
			sleep 0.1
			i=$((i + 1))
		done
	}
	waitfor 'recorded with --mode=leaks'
	cp "$tmp/screen" "$tmp/screen1"
	# the stacks and blocks screens show what the scan at exit found
	screen() {
		tmux -S "$sock" send-keys -t pv "$1"
		waitfor "$2"
	}
	screen 2 'forget'
	grep -E -q 'forget +leaky\.c +4 +256 B +256 B +256 B' "$tmp/screen"
	ok $? "poolview on a leaks-mode trace: the stacks screen counts forget's 4 definite blocks"
	screen 3 'blocks alive at exit'
	[ "$(grep -c -E '^0x[0-9a-f]+ +64 B .* definite +forget' "$tmp/screen")" = 4 ]
	ok $? "poolview on a leaks-mode trace: the blocks screen lists them, definite, made by forget"
	tmux -S "$sock" kill-server >/dev/null 2>&1
	grep -q -- 'the timeline needs a trace recorded with --mode=trace' "$tmp/screen1"
	ok $? "poolview on a leaks-mode trace: the timeline says it needs --mode=trace"
	# the overview's figure at exit is the scan's, as the status line's is
	alive=$(sed -n 's/^ *at exit \(.*\) alive .*/\1/p' "$tmp/screen1")
	status=$(sed -n 's/.*heap in use \(.*\) in [0-9]* blocks.*/\1/p' "$tmp/screen1")
	[ -n "$alive" ] && [ "$alive" != "0 B" ] && [ "$alive" = "$status" ] &&
	    grep -q 'peak not known (no events)' "$tmp/screen1"
	ok $? "poolview on a leaks-mode trace: the overview says $alive alive at exit, as the scan found, and no peak"
else
	n=$((n + 4))
	echo "ok $((n - 3)) # SKIP tmux or poolview missing"
	echo "ok $((n - 2)) # SKIP tmux or poolview missing"
	echo "ok $((n - 1)) # SKIP tmux or poolview missing"
	echo "ok $n # SKIP tmux or poolview missing"
fi

# bad values: one line, exit 2
for args in "--sample x" "--sample 0" "--sample -5" "--sample 12q" "--mode=fast"; do
	"$pooldbg" run $args -- /bin/true >"$tmp/bad.out" 2>"$tmp/bad.err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/bad.err")" -eq 1 ] && [ ! -s "$tmp/bad.out" ]
	ok $? "pooldbg run $args: one line, exit 2 (got $rc: $(head -c 80 "$tmp/bad.err"))"
done
"$pooldbg" run --sample x -- /bin/true 2>&1 | grep -qx 'pooldbg: --sample: not a size: x'
ok $? "pooldbg run --sample x says 'pooldbg: --sample: not a size: x'"

echo "1..$n"
