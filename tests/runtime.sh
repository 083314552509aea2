#!/bin/sh
# tests/runtime.sh -- the tracing runtime in libpooldbg-malloc.so, seen from
# outside: tests/traced runs under LD_PRELOAD with POOLDBG_SESSION set, and
# tests/ringdump prints its rings.  Checks every interposed call with its
# size, pointer, kind and innermost frame; threads; fork, exec, fork+exec
# and a failed exec; dlopen/dlclose; every way out (exit, return from
# main, _exit, abort, a segfault, SIGKILL); POOLDBG_FOLLOW=0; nothing at
# all without a session; the reachability scan at exit, marks, snapshots
# from the program and from `pooldbg snapshot PID`; mallinfo2 and
# malloc_stats while tracing; and the library's exported names.
#
# Owns its temporary directory only.  TAP on stdout.

b=${abs_top_builddir:-$(pwd)}
lib=$b/libpooldbg/.libs/libpooldbg-malloc.so
traced=$b/tests/traced
dump=$b/tests/ringdump
tlib=$b/tests/.libs/traced-lib.so
n=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-rt-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
[ -f "$lib" ] && [ -x "$traced" ] && [ -x "$dump" ] || { echo "Bail out! not built: $lib"; exit 1; }

# run NAME ARGS...: trace tests/traced ARGS into $tmp/NAME.d; $tmp/NAME.out
# is its stdout, $tmp/NAME.dump the rings, $rc its exit status.
run() {
	name=$1
	shift
	mkdir -p "$tmp/$name.d"
	POOLDBG_SESSION=$tmp/$name.d LD_PRELOAD=$lib "$traced" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	"$dump" "$tmp/$name.d" >"$tmp/$name.dump" 2>>"$tmp/$name.err"
}

# wants NAME [PREFIX]: every "PREFIX ..." line of the output (default
# "want") is a record of the dump: same type, holding each key=value.
wants() {
	sed -n "s/^${2:-want} //p" "$tmp/$1.out" | {
		st=0
		while read -r line; do
			awk -v t="${line%% *}" -v r="${line#* }" '
			    BEGIN { n = split(r, kv, " ") }
			    $1 == t { for (i = 1; i <= n; i++) if (index(" " $0 " ", " " kv[i] " ") == 0) next
				      found = 1; exit }
			    END { exit !found }' "$tmp/$1.dump" || { echo "# missing: $line"; st=1; }
		done
		exit $st
	}
}

# field LINE KEY: the value of KEY= in LINE
field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# ring NAME PID SEQ: the records of one ring
ring() {
	grep " pid=$2 seq=$3[ ]" "$tmp/$1.dump" | grep -v '^end '
}

# ends NAME PID SEQ HOW STATUS: the ring's last record is that exit, and it is closed
ends() {
	last=$(ring "$1" "$2" "$3" | tail -n 1)
	case $last in
	"exit pid=$2 seq=$3 how=$4 status=$5") ;;
	*) echo "# last record: $last"; return 1 ;;
	esac
	grep -q "^end pid=$2 seq=$3 state=closed" "$tmp/$1.dump"
}

# ---- every call ------------------------------------------------------------

run calls calls
ok $rc "calls: exit status 0"
pid=$(sed -n 's/^proc pid=\([0-9]*\) .*/\1/p' "$tmp/calls.dump" | head -n 1)
head -n 1 "$tmp/calls.dump" | grep -q "^proc pid=$pid seq=0 ppid=$$ execseq=0 forked=0 exe=$traced cmd=$traced calls"
ok $? "calls: the ring starts with REC_PROC (pid, ppid, exe, command line)"
wants calls
ok $? "calls: every C call and C++ operator with its size, pointer, kind and flags"
mod=$(grep "^module pid=$pid seq=0 path=$traced " "$tmp/calls.dump" | head -n 1)
[ -n "$mod" ] && [ "$(field "$mod" buildid)" != "-" ]
ok $? "calls: the program is a module, with its build-id"
grep -q "^module pid=$pid seq=0 path=[^ ]*libc.so.6 " "$tmp/calls.dump"
ok $? "calls: the C library is a module"
site=$(grep '^site ' "$tmp/calls.out")
ptr=$(field "$site" ptr)
func=$(field "$site" func)
rec=$(grep "^alloc pid=$pid .* call=malloc .* ptr=$ptr " "$tmp/calls.dump" | head -n 1)
pc=$(field "$rec" pcs | cut -d, -f1)
lo=$(field "$mod" lo)
hi=$(field "$mod" hi)
[ -n "$pc" ] && [ $((pc)) -gt $((func)) ] && [ $((pc)) -lt $((func + 4096)) ]
ok $? "calls: the innermost frame is the calling function (pc $pc, function $func)"
[ -n "$pc" ] && [ $((pc)) -ge $((lo)) ] && [ $((pc)) -lt $((hi)) ]
ok $? "calls: the innermost frame lies in the program's module"
awk '$1 == "frame" { for (i = 2; i <= NF; i++) if ($i ~ /^parent=/) { p = substr($i, 8) + 0 }
			  else if ($i ~ /^id=/) id = substr($i, 4) + 0
		    if (p >= id || id != last + 1) bad = 1; last = id }
     END { exit bad || last == 0 }' "$tmp/calls.dump"
ok $? "calls: frames are numbered 1, 2, ... and each names an earlier parent"
ends calls "$pid" 0 normal 0
ok $? "calls: the ring ends with exit how=normal status=0, closed"
! grep -q '^free .* ptr=0x0 ' "$tmp/calls.dump"
ok $? "calls: free(NULL) is not recorded"

# ---- the pool's own lines ----------------------------------------------------
# What the pool prints under its debug flags goes to the recorder
# (REC_PRINT), never to the program's stderr, which may be its output; the
# lines printed before the runtime started (tests/leaks/early's library
# allocates in its constructor: the first arena is made then) wait for
# the ring.  `pooldbg run` prints them on its own stderr.
early=$b/tests/leaks/early
mkdir -p "$tmp/print.d"
POOLDBG_FLAGS=logging POOLDBG_SESSION=$tmp/print.d LD_PRELOAD=$lib "$early" >"$tmp/print.out" 2>"$tmp/print.err"
rc=$?
"$dump" "$tmp/print.d" >"$tmp/print.dump" 2>"$tmp/print.derr"
[ "$rc" -eq 0 ] && [ ! -s "$tmp/print.err" ]
ok $? "pool lines: nothing on the program's stderr (status $rc)"
grep -q '^print .* text=newarena_' "$tmp/print.dump" && grep -q '^print .* text=.*poolfree_' "$tmp/print.dump"
ok $? "pool lines: in the ring, the first arena's (before the runtime began) with them"
"$b/pooldbg/pooldbg" run -o "$tmp/print.db" --flags logging sh -c '"$0" 2>"$1"' "$early" "$tmp/print2.err" \
    >/dev/null 2>"$tmp/print2.rec"
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$tmp/print2.err" ] && grep -q '^pooldbg: pid [0-9]*: poolalloc ' "$tmp/print2.rec"
ok $? "pool lines: pooldbg run prints them with the pid, the program's stderr untouched (status $rc)"

# ---- threads ---------------------------------------------------------------

run threads threads
wants threads
ok $? "threads: REC_THREAD at the start and end of each thread, its allocations with its tid"
[ "$(grep -c '^thread .* ending=0' "$tmp/threads.dump")" -ge 5 ]
ok $? "threads: the main thread and four others are seen"

# ---- fork ------------------------------------------------------------------

run fork fork
child=$(sed -n 's/^child //p' "$tmp/fork.out")
ring fork "$child" 0 | head -n 1 | grep -q "^proc pid=$child seq=0 ppid=[0-9]* execseq=0 forked=1 "
ok $? "fork: the child has its own ring, forked=1"
ring fork "$child" 0 | grep -q "^module "
ok $? "fork: the child's ring has the modules again"
ring fork "$child" 0 | grep -q " call=malloc .* size=7771 " &&
    ! grep -v " pid=$child " "$tmp/fork.dump" | grep -q " size=7771 "
ok $? "fork: the child's allocation is in the child's ring only"
p=$(sed -n 's/^want-child free ptr=//p' "$tmp/fork.out")
ring fork "$child" 0 | grep -q "^free .* ptr=$p "
ok $? "fork: the child frees a block inherited from the parent"
# leaks mode: the child's live table knows the blocks it made, and its
# scan sends only those (the parent's are in the parent's scan)
mkdir -p "$tmp/lfork.d"
POOLDBG_MODE=leaks POOLDBG_SESSION=$tmp/lfork.d LD_PRELOAD=$lib "$traced" fork >"$tmp/lfork.out" 2>&1
"$dump" "$tmp/lfork.d" >"$tmp/lfork.dump" 2>&1
lchild=$(sed -n 's/^child //p' "$tmp/lfork.out")
lparent=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*forked=0.*/\1/p' "$tmp/lfork.dump")
ring lfork "$lchild" 0 | grep '^live ' >"$tmp/lfork.child"
ring lfork "$lparent" 0 | grep '^live ' >"$tmp/lfork.parent"
[ -n "$lchild" ] && grep -q ' size=7771 .* aseq=[0-9]' "$tmp/lfork.child" &&
    ! grep -v ' aseq=[0-9]' "$tmp/lfork.child" | grep -q . &&
    [ "$(wc -l <"$tmp/lfork.parent")" -gt "$(wc -l <"$tmp/lfork.child")" ]
ok $? "leaks mode: a fork child's exit scan sends only its own blocks ($(wc -l <"$tmp/lfork.child") of them; the parent's $(wc -l <"$tmp/lfork.parent"))"
ends fork "$child" 0 normal 0 && ends fork "$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*forked=0.*/\1/p' "$tmp/fork.dump")" 0 normal 0
ok $? "fork: both rings end with exit, closed"

# ---- exec ------------------------------------------------------------------

run exec exec "$traced" exit 5
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/exec.dump")
[ "$rc" -eq 5 ]
ok $? "exec: the exec'd image's exit status comes through"
ring exec "$pid" 0 | grep -q " size=6661 " && ends exec "$pid" 0 exec 0
ok $? "exec: the first image's ring ends with exit how=exec"
ring exec "$pid" 1 | head -n 1 | grep -q "^proc pid=$pid seq=1 ppid=[0-9]* execseq=1 forked=0 exe=$traced cmd=$traced exit 5"
ok $? "exec: the new image has a ring of its own, execseq=1"
ring exec "$pid" 1 | grep -q " size=1111 " && ends exec "$pid" 1 normal 5
ok $? "exec: the new image's events, then exit how=normal status=5"

run forkexec forkexec "$traced" exit 3
child=$(sed -n 's/^child //p' "$tmp/forkexec.out")
ends forkexec "$child" 0 exec 0 && ring forkexec "$child" 1 | grep -q " size=1111 " &&
    ends forkexec "$child" 1 normal 3
ok $? "fork+exec: the child's fork ring ends with exec, the new image's ring follows"

run execfail execfail
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/execfail.dump")
ends execfail "$pid" 0 exec 0 && wants execfail && ends execfail "$pid" 1 normal 0
ok $? "failed exec: a new ring takes the events that follow"

mkdir -p "$tmp/nofollow.d"
POOLDBG_FOLLOW=0 POOLDBG_SESSION=$tmp/nofollow.d LD_PRELOAD=$lib "$traced" exec /usr/bin/env >"$tmp/nofollow.out" 2>&1
"$dump" "$tmp/nofollow.d" >"$tmp/nofollow.dump"
[ "$(grep -c '^proc ' "$tmp/nofollow.dump")" -eq 1 ] && ! grep -q 'POOLDBG_SESSION\|libpooldbg-malloc' "$tmp/nofollow.out"
ok $? "POOLDBG_FOLLOW=0: the exec'd program is not traced and its environment is clean"

# ---- the ways out ----------------------------------------------------------

# way NAME ARGS... -- STATUS HOW HOWSTATUS SIZE
way() {
	name=$1
	shift
	args=
	while [ "$1" != -- ]; do args="$args $1"; shift; done
	shift
	run "$name" $args
	pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/$name.dump")
	[ "$rc" -eq "$1" ] && ring "$name" "$pid" 0 | grep -q " size=$4 " && ends "$name" "$pid" 0 "$2" "$3"
	ok $? "$name: status $1, the ring ends with exit how=$2 status=$3"
}
way exit exit 3 -- 3 normal 3 1111
way _exit _exit 4 -- 4 _exit 4 1112
way return return 5 -- 5 normal 5 1113
way abort abort -- 134 signal 6 1114
way segv segv -- 139 signal 11 1115

run kill kill 200
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/kill.dump")
[ "$rc" -eq 137 ] && wants kill && [ "$(grep -c '^want ' "$tmp/kill.out")" -eq 200 ]
ok $? "SIGKILL: every allocation made before the kill is in the ring"
grep -q "^end pid=$pid seq=0 state=open" "$tmp/kill.dump"
ok $? "SIGKILL: the ring is left open"

# ---- dlopen / dlclose ------------------------------------------------------

run dlopen dlopen "$tlib"
wants dlopen
ok $? "dlopen: the module's allocation is recorded"
m=$(grep -n "^module .* path=$tlib " "$tmp/dlopen.dump" | head -n 1)
base=$(field "${m#*:}" base)
lo=$(field "${m#*:}" lo)
hi=$(field "${m#*:}" hi)
u=$(grep -n "^unload .* base=$base lo=$lo" "$tmp/dlopen.dump" | head -n 1)
[ -n "$m" ] && [ -n "$u" ] && [ "${m%%:*}" -lt "${u%%:*}" ]
ok $? "dlopen: REC_MODULE for the library, REC_UNLOAD after dlclose"
rec=$(grep "^alloc .* size=4321 " "$tmp/dlopen.dump" | head -n 1)
pc=$(field "$rec" pcs | cut -d, -f1)
[ -n "$pc" ] && [ -n "$lo" ] && [ $((pc)) -ge $((lo)) ] && [ $((pc)) -lt $((hi)) ] &&
    [ "$(grep -n "^module .* path=$tlib " "$tmp/dlopen.dump" | head -n 1 | cut -d: -f1)" -lt \
      "$(grep -n "^frame .* pc=$pc\$" "$tmp/dlopen.dump" | head -n 1 | cut -d: -f1)" ]
ok $? "dlopen: the innermost frame lies in the library, whose module came first"

# ---- the pool's panic -----------------------------------------------------

run overflow overflow
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/overflow.dump")
e=$(grep "^error pid=$pid " "$tmp/overflow.dump")
[ "$rc" -eq 134 ] && case $e in *"pcs=0x"*"msg=pool main: block "*"header: magic"*"corrupt tail magic"*) true ;; *) false ;; esac
ok $? "panic: REC_ERROR with the block dump, the message and a stack"
ends overflow "$pid" 0 signal 6
ok $? "panic: then exit how=signal status=6"

# ---- reachability scans, marks, snapshots -----------------------------------

# scans NAME PID SEQ: the scan records of one ring (scan, arena, live, scanend)
scans() {
	ring "$1" "$2" "$3" | grep -E '^(scan|arena|live|scanend) '
}

# sane NAME PID SEQ: every scan of the ring is whole and adds up: a scan
# line, arenas, live blocks in address order each inside an arena, and a
# scanend whose counts are those of the live lines
sane() {
	scans "$1" "$2" "$3" | awk '
	    function f(k,   i) { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	    function hex(s,   i, v) { v = 0; s = tolower(substr(s, 3))
			   for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			   return v }
	    $1 == "scan" { if (open) bad = 1; open = 1; na = nl = 0; last = -1; split("", nb); split("", by); n++ }
	    $1 == "arena" { if (!open || nl > 0) bad = 1; ab[na] = hex(f("base")); ae[na] = ab[na] + f("size"); na++ }
	    $1 == "live" { if (!open) bad = 1; p = hex(f("ptr")); if (p <= last) bad = 1; last = p
			   for (i = 0; i < na; i++) if (p >= ab[i] && p < ae[i]) break
			   if (i == na) bad = 1
			   c = f("cls"); nb[c]++; by[c] += f("size"); nl++ }
	    $1 == "scanend" { if (!open || na == 0) bad = 1; open = 0
			   split("reachable possible indirect definite", cs, " ")
			   for (i = 1; i <= 4; i++) if (f(cs[i]) != (nb[cs[i]] + 0) "/" (by[cs[i]] + 0)) bad = 1
			   if (f("roots") + 0 <= 0) bad = 1 }
	    END { exit bad || open || n == 0 }'
}

run scanexit exit 0
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/scanexit.dump")
[ "$(ring scanexit "$pid" 0 | grep -c '^scan .* why=exit snapshot=0 ')" -eq 1 ] &&
    [ "$(ring scanexit "$pid" 0 | grep -E '^(scanend|exit) ' | cut -d' ' -f1 | tr '\n' ' ')" = "scanend exit " ]
ok $? "exit scan: one scan why=exit, its scanend just before exit"
sane scanexit "$pid" 0
ok $? "exit scan: arenas, live blocks in address order inside them, counts that add up"
ring scanexit "$pid" 0 | grep -q '^scanend .* threads=1 stopped=0 ' &&
    scans scanexit "$pid" 0 | grep -q '^live .* size=1111 .* cls=reachable '
ok $? "exit scan: one thread; the block a global holds is reachable"

mkdir -p "$tmp/noscan.d"
POOLDBG_SCAN=0 POOLDBG_SESSION=$tmp/noscan.d LD_PRELOAD=$lib "$traced" exit 0 >/dev/null 2>&1
"$dump" "$tmp/noscan.d" >"$tmp/noscan.dump"
grep -q '^exit .* how=normal ' "$tmp/noscan.dump" && ! grep -q '^scan ' "$tmp/noscan.dump"
ok $? "POOLDBG_SCAN=0: no exit scan"

pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/abort.dump")
sane abort "$pid" 0 && scans abort "$pid" 0 | grep -q '^live .* size=1114 .* cls=reachable '
ok $? "abort: the fatal signal's scan, the locks being free"
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/_exit.dump")
sane _exit "$pid" 0 && scans _exit "$pid" 0 | grep -q '^live .* size=1112 '
ok $? "_exit: the exit scan"
! grep -q '^scan ' "$tmp/overflow.dump"
ok $? "panic: no scan (the pool lock is held by the dying thread)"

run mapeof mapeof "$tmp/fivebytes"
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/mapeof.dump")
blk=$(sed -n 's/^block //p' "$tmp/mapeof.out")
[ "$rc" -eq 0 ] && sane mapeof "$pid" 0 && scans mapeof "$pid" 0 | grep -q "^live .* ptr=$blk size=4441 .* cls=reachable "
ok $? "a file mapping past its file's end: the scan steps over the pages that fault"

run marks marks
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/marks.dump")
blk=$(sed -n 's/^block //p' "$tmp/marks.out")
[ "$(grep -E '^(mark|snapshot) ' "$tmp/marks.out" | tr '\n' ' ')" = "mark 0 snapshot 1 mark 0 snapshot 2 " ]
ok $? "pooldbg_mark returns 0, pooldbg_snapshot 1 then 2"
[ "$(ring marks "$pid" 0 | grep -E '^(mark|scan) ' | sed 's/ pid=[^ ]* seq=[^ ]*//; s/ tid=[^ ]*//' | tr '\n' ' ')" = \
    "mark label=first_mark scan why=snapshot snapshot=1 mark label= scan why=snapshot snapshot=2 scan why=exit snapshot=0 " ]
ok $? "marks and snapshots are in the ring in the order made, then the exit scan"
sane marks "$pid" 0 &&
    ring marks "$pid" 0 | awk -v b="$blk" '$1 == "scan" { s++ } $1 == "live" && index($0, " ptr=" b " ") { seen[s]++ }
	END { exit !(seen[1] == 1 && seen[2] == 0 && seen[3] == 0) }'
ok $? "the block is in snapshot 1, gone from snapshot 2 after its free"

run snapdefer snapdefer
pid=$(sed -n 's/^proc pid=\([0-9]*\) seq=0 .*/\1/p' "$tmp/snapdefer.dump")
blk=$(sed -n 's/^block //p' "$tmp/snapdefer.out")
ring snapdefer "$pid" 0 | grep -E '^(alloc .* size=5555 |scan )' | head -n 2 | cut -d' ' -f1 | tr '\n' ' ' |
    grep -qx 'alloc scan ' &&
    ring snapdefer "$pid" 0 | grep -q '^scan .* why=snapshot snapshot=1 ' &&
    scans snapdefer "$pid" 0 | grep -q "^live .* ptr=$blk size=5555 "
ok $? "the snapshot signal while the pool is locked: taken at the next heap call"

mkdir -p "$tmp/sleep.d"
POOLDBG_SESSION=$tmp/sleep.d LD_PRELOAD=$lib "$traced" sleep 60 >"$tmp/sleep.out" 2>&1 &
sleeper=$!
i=0
while ! grep -q '^ready ' "$tmp/sleep.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
"$POOLDBG" snapshot "$sleeper" >"$tmp/snap1.out" 2>&1
st1=$?
"$POOLDBG" snapshot "$sleeper" >"$tmp/snap2.out" 2>&1
st2=$?
kill "$sleeper"
wait "$sleeper" 2>/dev/null
"$dump" "$tmp/sleep.d" >"$tmp/sleep.dump"
[ $st1 -eq 0 ] && [ "$(cat "$tmp/snap1.out")" = "pooldbg: snapshot 1 of $sleeper taken" ] &&
    [ $st2 -eq 0 ] && [ "$(cat "$tmp/snap2.out")" = "pooldbg: snapshot 2 of $sleeper taken" ]
ok $? "pooldbg snapshot PID: snapshots 1 and 2 of a sleeping process ($(cat "$tmp/snap1.out"))"
blk=$(sed -n 's/^ready //p' "$tmp/sleep.out")
sane sleep "$sleeper" 0 &&
    [ "$(ring sleep "$sleeper" 0 | grep -c '^scan .* why=snapshot ')" -eq 2 ] &&
    [ "$(scans sleep "$sleeper" 0 | grep -c "^live .* ptr=$blk size=3331 .* cls=reachable ")" -eq 3 ]
ok $? "pooldbg snapshot PID: both snapshots and the exit scan (SIGTERM) in its ring hold its block"

sleep 60 &
other=$!
"$POOLDBG" snapshot "$other" >"$tmp/snap3.out" 2>&1
st=$?
kill "$other"
wait "$other" 2>/dev/null
[ $st -eq 1 ] && [ "$(wc -l <"$tmp/snap3.out")" -eq 1 ] && grep -q "^pooldbg: snapshot: process $other is not traced" "$tmp/snap3.out"
ok $? "pooldbg snapshot on an untraced process: 1 and one line ($(cat "$tmp/snap3.out"))"
"$POOLDBG" snapshot x1 >"$tmp/snap4.out" 2>&1
st=$?
[ $st -eq 2 ] && [ "$(wc -l <"$tmp/snap4.out")" -eq 1 ]
ok $? "pooldbg snapshot with a bad pid: 2 and one line"

mkdir -p "$tmp/offmarks"
(cd "$tmp/offmarks" && LD_PRELOAD=$lib "$traced" marks >"$tmp/offmarks.out" 2>&1)
[ "$(grep -E '^(mark|snapshot) ' "$tmp/offmarks.out" | tr '\n' ' ')" = "mark -1 snapshot -1 mark -1 snapshot -1 " ]
ok $? "no session: pooldbg_mark and pooldbg_snapshot return -1"

# ---- a small ring, read while written ---------------------------------------

mkdir -p "$tmp/small.d"
"$dump" -f -q "$tmp/small.d" >"$tmp/small.dump" 2>&1 &
reader=$!
POOLDBG_RING_SIZE=64k POOLDBG_SESSION=$tmp/small.d LD_PRELOAD=$lib "$traced" tchurn 20000 >/dev/null 2>&1
rc=$?
wait $reader
[ "$rc" -eq 0 ] && grep -q '^ring .* alloc=800[0-9][0-9] free=800[0-9][0-9] .* thread=[0-9]* exit=1 ' "$tmp/small.dump" &&
    grep -q 'state=closed' "$tmp/small.dump"
ok $? "POOLDBG_RING_SIZE=64k, four threads: the writers wait for the reader, nothing is lost"
[ "$(ls "$tmp/small.d")" = "$(sed -n 's/^ring pid=\([0-9]*\) seq=\([0-9]*\) .*/\1-\2.ring/p' "$tmp/small.dump")" ] &&
    [ "$(stat -c %s "$tmp/small.d"/*.ring)" -eq $((4096 + 65536)) ]
ok $? "POOLDBG_RING_SIZE=64k: the ring file has a 64 KiB data area"

# ---- the program's descriptors ---------------------------------------------

run fd fd
[ "$(cat "$tmp/fd.out")" = "$("$traced" fd)" ]
ok $? "the runtime leaves the program's next descriptor free ($(cat "$tmp/fd.out"))"

# ---- without a session -----------------------------------------------------

mkdir -p "$tmp/off"
(cd "$tmp/off" && LD_PRELOAD=$lib "$traced" exit 7 >/dev/null 2>&1)
st=$?
[ "$st" -eq 7 ] && [ -z "$(ls -A "$tmp/off")" ]
ok $? "no session: the program runs as before and no file is made"

# ---- event times ----------------------------------------------------------

# The times in the records are the clock's: each marker's alloc is timed
# between the clock readings the program took around its malloc (with 50
# us to spare), the first after a sleep, the others after 20 ms of
# allocations (times the runtime derives from the counter, where it can).
run clock clock
bad=0
marks=0
while read -r _ ptr before after; do
	ptr=${ptr#ptr=}
	before=${before#before=}
	after=${after#after=}
	t=$(grep "^alloc .* ptr=$ptr size=7771 " "$tmp/clock.dump" | head -n 1 | tr ' ' '\n' | sed -n 's/^time=//p')
	marks=$((marks + 1))
	if [ -z "$t" ] || [ "$t" -lt $((before - 50000)) ] || [ "$t" -gt $((after + 50000)) ]; then
		echo "# mark $ptr: time ${t:-none}, clock $before to $after"
		bad=$((bad + 1))
	fi
done <<EOF_MARKS
$(grep '^mark ' "$tmp/clock.out")
EOF_MARKS
[ "$rc" -eq 0 ] && [ "$marks" -eq 3 ] && [ "$bad" -eq 0 ]
ok $? "event times are the clock's, within 50 us, after a sleep and after 20 ms of events ($marks marks)"

# ---- the heap's figures ----------------------------------------------------

# mallinfo2 while tracing: the freed blocks wait in the quarantine, dead,
# and count as free; guarded blocks are the mapped chunks.
run figures figures
f=$(grep '^figures ' "$tmp/figures.out")
v() { field "$f" "$1"; }
[ "$rc" -eq 0 ] && [ -n "$f" ] && [ $(($(v uord1) - $(v uord0))) -ge 300000 ] &&
    [ "$(v uord2)" -eq "$(v uord0)" ] && [ "$(v arena2)" -eq "$(v arena1)" ] &&
    [ $(($(v ford2) - $(v ford1))) -eq $(($(v uord1) - $(v uord2))) ] &&
    [ $(($(v ord2) - $(v ord1))) -ge 100 ] && [ "$(v hblks1)" -eq 0 ]
ok $? "mallinfo2: blocks freed into the quarantine count as free${f:+ (${f#figures })}"

mkdir -p "$tmp/gfigures.d"
POOLDBG_GUARD=3000 POOLDBG_SESSION=$tmp/gfigures.d LD_PRELOAD=$lib "$traced" figures \
    >"$tmp/gfigures.out" 2>"$tmp/gfigures.err"
rc=$?
f=$(grep '^figures ' "$tmp/gfigures.out")
pg=$(getconf PAGESIZE)
[ "$rc" -eq 0 ] && [ -n "$f" ] && [ "$(v hblks1)" -eq 100 ] &&
    [ "$(v hblkhd1)" -ge $((100 * 2 * pg)) ] && [ "$(v hblks2)" -eq 0 ] &&
    [ "$(v hblkhd2)" -eq 0 ] && [ "$(v uord1)" -eq "$(v uord0)" ] &&
    grep -q '^max mmap regions = *100$' "$tmp/gfigures.err"
ok $? "mallinfo2 and malloc_stats: guarded blocks are mapped chunks, none left when freed${f:+ (${f#figures })}"

# ---- the namespace ---------------------------------------------------------

if command -v nm >/dev/null 2>&1; then
	extra=$(nm -D --defined-only "$lib" | awk '{ print $3 }' |
	    grep -v -E '^(malloc|calloc|realloc|reallocarray|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|mallinfo2?|malloc_trim|malloc_stats|malloc_info|_Zn[wa]m.*|_Zd[la]Pv.*|pipe2|_exit|_Exit|execve|execv|execvp|execvpe|execl|execle|execlp|fexecve|dlclose|pooldbg_mark|pooldbg_snapshot|pooldbg_zone_created|pooldbg_zone_item|pooldbg_zone_destroyed|pooldbg_zone_error|pooldbg_mm_alloc|pooldbg_mm_free|pooldbg_mm_realloc)$')
	[ -z "$extra" ]
	ok $? "the library exports only the allocator, its figures, exit, exec, dlclose, pipe2, pooldbg.h, zone and mmalloc hook names${extra:+ (also: $extra)}"
	[ "$(nm -D --defined-only "$lib" | grep -c ' T _Z[nd]')" -eq 20 ]
	ok $? "the library defines the 20 operators new and delete"
else
	echo "ok $((n + 1)) # SKIP nm not found"
	echo "ok $((n + 2)) # SKIP nm not found"
	n=$((n + 2))
fi

echo "1..$n"
