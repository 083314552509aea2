#!/bin/sh
# tests/poolview.sh -- poolview as a person uses it: examples/leaky runs
# under `pooldbg run`, poolview opens its trace in a tmux pane of a fixed
# size (its own tmux server), the test sends keys and reads the pane back
# as text: the program on the overview, the leaking function and its
# bytes on the stacks screen, a block's allocation stack in its detail,
# the heap in use changing as the cursor moves, the help page, a terminal
# too small, a bad trace, colours and NO_COLOR; and poolview's one-line
# errors without a pane.
#
# Waits poll the pane until what is expected shows (a bounded number of
# times); nothing is timed.  Owns its temporary directory and its tmux
# server.  TAP on stdout.
# events and blocks are virtual tables: the shell reads them through the extension
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3() { command sqlite3 -cmd ".load ${POOLDBG_SQLITE_EXT:-pooldbg_trace}" "$@"; }
fi

b=${abs_top_builddir:-$(pwd)}
pooldbg=$b/pooldbg/pooldbg
poolview=$b/poolview/poolview
leaky=$b/examples/leaky
n=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

[ -x "$pooldbg" ] && [ -x "$poolview" ] && [ -x "$leaky" ] || { echo "Bail out! not built"; exit 1; }
command -v tmux >/dev/null 2>&1 || { echo "1..0 # SKIP tmux not installed (tools/deps.sh)"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/poolview-test-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
# one tmux server a pane, on a socket of its own
sock=$tmp/tmux.0
tm() { tmux -S "$sock" -f /dev/null "$@"; }
trap 'for s in "$tmp"/tmux.*; do tmux -S "$s" kill-server >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT

(cd "$tmp" && "$pooldbg" run -o "$tmp/leaky.db" "$leaky" >/dev/null 2>&1)
[ -s "$tmp/leaky.db" ] || { echo "Bail out! pooldbg run examples/leaky made no trace"; exit 1; }

# ---- errors before any terminal -------------------------------------------
"$poolview" "$tmp/missing.db" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 2 ] && [ "$(cat "$tmp/err")" = "poolview: $tmp/missing.db: cannot open: No such file or directory" ] &&
    [ ! -s "$tmp/out" ]
ok $? "a missing trace: one line, exit 2 (got $st: $(cat "$tmp/err"))"
printf 'not a database at all\n' >"$tmp/bad.db"
"$poolview" "$tmp/bad.db" >"$tmp/out" 2>"$tmp/err"
st=$?
[ $st -eq 2 ] && [ "$(cat "$tmp/err")" = "poolview: $tmp/bad.db: not a pooldbg trace" ]
ok $? "a file that is not a trace: leak's line, exit 2 (got $st: $(cat "$tmp/err"))"
"$poolview" >/dev/null 2>"$tmp/err"
st=$?
[ $st -eq 2 ] && grep -q '^usage: poolview' "$tmp/err"
ok $? "no trace: usage, exit 2"

# ---- the pane -------------------------------------------------------------
# start CMD: a new pane of 100x30 running CMD, in a UTF-8 locale
start() {
	tm kill-server >/dev/null 2>&1
	sock=$tmp/tmux.$n
	tm new-session -d -s pv -x 100 -y 30 "env -u NO_COLOR LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen $1; sleep 30"
}
screen() { tm capture-pane -p -t pv; }
# waitfor TEXT: poll the pane until TEXT shows and the screen has settled
# (the rest of an update can reach the terminal after TEXT); 0 if it did
waitfor() {
	i=0
	while [ $i -lt 100 ]; do
		screen >"$tmp/screen" 2>/dev/null
		if grep -qF -- "$1" "$tmp/screen"; then
			sleep 0.1
			screen >"$tmp/screen.again" 2>/dev/null
			cmp -s "$tmp/screen" "$tmp/screen.again" && return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
keys() { tm send-keys -t pv "$@"; }

start "$poolview $tmp/leaky.db"
waitfor "1:Overview"
ok $? "the first screen comes up"
grep -q "program  .*examples/leaky" "$tmp/screen" && grep -q "peak .* at event" "$tmp/screen"
ok $? "the overview names the program and its peak"
grep -q "definite 256 B" "$tmp/screen"
ok $? "the overview gives the bytes leaked definite"
waitfor "event 15/15"
ok $? "the cursor starts at the last event"
end_use=$(sed -n 's/.*heap in use \([0-9.]* [KMG]*i*B\) in \([0-9]*\) blocks.*/\1 \2/p' "$tmp/screen" | tail -n 1)

keys Home
waitfor "event 0/15"
ok $? "Home: the cursor before the first event"
grep -q "heap in use 0 B in 0 blocks" "$tmp/screen"
ok $? "nothing in use before the first event"
keys l
waitfor "event 1/15"
first=$(sed -n 's/.*heap in use \([0-9.]* [KMG]*i*B\) in \([0-9]*\) blocks.*/\1 \2/p' "$tmp/screen" | tail -n 1)
[ "$first" = "$(echo "$first" | grep -v '^0 B')" ] && [ -n "$first" ]
ok $? "one event on: the heap in use grows (got '$first')"
keys End
waitfor "event 15/15"
last=$(sed -n 's/.*heap in use \([0-9.]* [KMG]*i*B\) in \([0-9]*\) blocks.*/\1 \2/p' "$tmp/screen" | tail -n 1)
[ -n "$last" ] && [ "$last" = "$end_use" ] && [ "$last" != "$first" ]
ok $? "End: back to what was in use at the end ($last)"
keys p
waitfor "(peak)"
ok $? "p: the cursor at the peak"
keys End

keys 2
waitfor "top-down: callers first"
ok $? "2: the stacks screen"
waitfor "main  leaky.c" && grep -q "all allocations" "$tmp/screen"	# the tree may come a moment after the title
ok $? "top-down: main of leaky.c under the callers every stack shares"
keys b
waitfor "bottom-up: allocating function first"
grep -E -q "forget +leaky.c +4 +256 B +[0-9.]+ [KMG]*i*B +256 B" "$tmp/screen"
ok $? "bottom-up: forget, 4 allocations, 256 bytes, all of them definite"
keys /
waitfor "search function or file:"
keys remember Enter
waitfor "search: remember"
grep -E "remember" "$tmp/screen" | grep -q "^ *[-+ ] *remember" 
ok $? "/ finds remember"

keys 3
waitfor "blocks alive at the cursor"
ok $? "3: the blocks screen"
grep -q "13 of 13 blocks alive" "$tmp/screen"
ok $? "13 blocks alive at the end"
keys f
waitfor "blocks of functions containing:"
keys forget Enter
waitfor "4 of 13 blocks alive"
ok $? "f forget: the 4 blocks forget leaked"
keys Enter
waitfor "allocation stack"
grep -q "made by malloc" "$tmp/screen" && grep -q "never freed" "$tmp/screen" &&
    grep -q "class at exit: definite" "$tmp/screen"
ok $? "Enter: the block's detail: malloc, never freed, definite"
grep -E -q "^ +forget +.*examples/leaky.c:[0-9]+" "$tmp/screen" && grep -E -q "^ +main +.*leaky.c:[0-9]+" "$tmp/screen"
ok $? "its allocation stack: forget called by main, with their lines"
keys Escape
waitfor "4 of 13 blocks alive"
ok $? "Esc: back to the blocks"

keys 4
waitfor "image 1 at event 15: "
grep -q "arenas of the nearest scan" "$tmp/screen" && grep -q '!' "$tmp/screen"
ok $? "4: the heap map from the exit scan's arenas, leaked cells shown"

tm capture-pane -e -p -t pv | grep -q "$(printf '\033')\\[3[1-7]m"
ok $? "the map is in colour"

keys 5
waitfor "no heap errors in this trace"
ok $? "5: the errors screen of a clean run"

keys '?'
waitfor "poolview keys"
grep -q "tree-search" "$tmp/screen" && grep -q "blocks-size" "$tmp/screen"
ok $? "?: the help names the actions and their keys"
keys G
waitfor "time-peak"
grep -E -q "^ +p +time-peak" "$tmp/screen" && grep -E -q "^ +PgUp +time-back-far" "$tmp/screen"
ok $? "G: the rest of the help, the time keys among them"
keys Escape
waitfor "no heap errors in this trace"
ok $? "Esc: back from the help"

tm resize-window -t pv -x 60 -y 20
waitfor "terminal too small: 60x20"
ok $? "a terminal too small gets a message"
tm resize-window -t pv -x 100 -y 30
waitfor "1:Overview"
ok $? "made larger again, the screens come back"
keys q
i=0
while [ $i -lt 50 ] && tm capture-pane -p -t pv 2>/dev/null | grep -qF "1:Overview"; do
	sleep 0.1
	i=$((i + 1))
done
! tm capture-pane -p -t pv 2>/dev/null | grep -qF "1:Overview"
ok $? "q quits"

# NO_COLOR: the same map without a colour
start "NO_COLOR=1 $poolview $tmp/leaky.db"
waitfor "1:Overview"
keys 4
waitfor "image 1 at event 15: "
grep -q '!' "$tmp/screen" && ! tm capture-pane -e -p -t pv | grep -q "$(printf '\033')\\[3[1-7]m"
ok $? "NO_COLOR: the map's characters alone, no colour"
keys q

start "$poolview $tmp/bad.db"
waitfor "not a pooldbg trace"
grep -q "^poolview: $tmp/bad.db: not a pooldbg trace" "$tmp/screen" && ! grep -q "1:Overview" "$tmp/screen"
ok $? "a bad trace in the pane: the one line, no curses"

NO_COLOR=1 "$poolview" --bench 3 "$tmp/leaky.db" >"$tmp/bench" 2>&1
grep -q "^first screen: " "$tmp/bench" && grep -q "blocks alive at the end" "$tmp/bench"
ok $? "--bench reports the first screen and the moves"

# The time index the recorder gathered while the events streamed in must
# say what the blocks table says, span by span and checkpoint by checkpoint.
"$pooldbg" run -o "$tmp/sh.db" sh -c 'i=0; while [ $i -lt 300 ]; do x=$(echo $i); i=$((i + 1)); done' \
    >/dev/null 2>&1
bad=$(sqlite3 "$tmp/sh.db" "SELECT count(*) FROM timeline t WHERE t.in_use <>
    (SELECT coalesce(sum(size), 0) FROM blocks b WHERE b.alloc_seq <= t.seq
      AND coalesce(b.free_seq, t.seq + 1) > t.seq)
  OR t.blocks <> (SELECT count(*) FROM blocks b WHERE b.alloc_seq <= t.seq
      AND coalesce(b.free_seq, t.seq + 1) > t.seq)" 2>&1)
spans=$(sqlite3 "$tmp/sh.db" "SELECT count(*) FROM timeline" 2>&1)
[ "$bad" = 0 ] && [ "$spans" -gt 1 ]
ok $? "the streamed time index agrees with blocks at each of its $spans spans ($bad differ)"
bad=$(sqlite3 "$tmp/sh.db" "SELECT count(*) FROM timeline t
  WHERE t.time IS NOT (SELECT e.time FROM events e WHERE e.seq = t.seq)" 2>&1)
[ "$bad" = 0 ]
ok $? "each span's time, taken as the events streamed in, is its last event's ($bad differ)"
bad=$(sqlite3 "$tmp/sh.db" "SELECT count(*) FROM timeline_stacks s WHERE s.allocations <>
    (SELECT count(*) FROM blocks b WHERE b.process = s.process AND b.stack = s.stack)
  OR s.bytes <> (SELECT sum(size) FROM blocks b WHERE b.process = s.process AND b.stack = s.stack)" 2>&1)
[ "$bad" = 0 ]
ok $? "its per-stack totals agree with blocks ($bad differ)"

echo "1..$n"
