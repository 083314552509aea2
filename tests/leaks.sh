#!/bin/sh
# tests/leaks.sh -- the leak corpus: each program of tests/leaks/ runs under
# the tracing runtime (as tests/runtime.sh runs tests/traced), its rings are
# read back with tests/ringdump, and the exit scan of each process must
# hold what the program printed it expects (see tests/leaks/leaks.h):
# blocks and bytes of each class, the class of given blocks, the threads.
# Totals count only blocks that recorded calls made, as the recorder does
# (the runtime's own blocks, made while it runs, are no call of the
# program); in a fork child, the blocks recorded in its parent count too.
#
# Where valgrind is installed, each program runs again under
# valgrind --leak-check=full, and its "definitely lost" and "indirectly
# lost" bytes must equal ours, process for process.
#
# Owns its temporary directory only.  TAP on stdout.

b=${abs_top_builddir:-$(pwd)}
lib=$b/libpooldbg/.libs/libpooldbg-malloc.so
dump=$b/tests/ringdump
leaks=$b/tests/leaks
n=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pooldbg-leaks-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
[ -f "$lib" ] && [ -x "$dump" ] && [ -x "$leaks/direct" ] || { echo "Bail out! not built"; exit 1; }
vg=
if command -v valgrind >/dev/null 2>&1 && valgrind --version >/dev/null 2>&1; then
	vg=valgrind
fi

# field LINE KEY: the value of KEY= in LINE
field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# classes DUMP PID: for the exit scan of PID's first image, one line
#   total definite=N/B indirect=N/B possible=N/B reachable=N/B threads=T stopped=S
# (recorded blocks only), then "cls PTR CLASS" for every block of the scan
classes() {
	awk -v want="$2" '
	function f(k,   i) { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	NR == FNR {
		key = f("pid") " " f("seq")
		if ($1 == "proc") { ppid[key] = f("ppid"); forked[key] = f("forked") }
		else if ($1 == "alloc" && f("ptr") != "0x0") live[key, f("ptr")] = 1
		else if ($1 == "free") delete live[key, f("ptr")]
		else if ($1 == "realloc") {
			o = f("old"); w = f("new")
			if (w != "0x0") { delete live[key, o]; live[key, w] = 1 }
			else if (f("size") == 0) delete live[key, o]
		}
		next
	}
	f("pid") != want || f("seq") != 0 { next }
	$1 == "scan" { inscan = f("why") == "exit"; split("", nb); split("", by); next }
	$1 == "live" && inscan {
		p = f("ptr"); c = f("cls")
		print "cls " p " " c
		key = want " 0"
		if ((key, p) in live || (forked[key] == 1 && (ppid[key] " 0", p) in live)) { nb[c]++; by[c] += f("size") }
	}
	$1 == "scanend" && inscan {
		printf "total"
		split("definite indirect possible reachable", cs, " ")
		for (i = 1; i <= 4; i++) printf " %s=%d/%d", cs[i], nb[cs[i]], by[cs[i]]
		print " threads=" f("threads") " stopped=" f("stopped")
		inscan = 0
	}' "$1" "$1"
}

# vgbytes LOG CLASS: the bytes valgrind says are CLASS ("definitely", "indirectly") lost
vgbytes() {
	v=$(sed -n "s/.* $2 lost: \([0-9,]*\) bytes.*/\1/p" "$1" | tr -d , | tail -n 1)
	echo "${v:-0}"
}

# corpus NAME ARGS...: run tests/leaks/NAME and check it
corpus() {
	name=$1
	shift
	mkdir -p "$tmp/$name.d"
	POOLDBG_SESSION=$tmp/$name.d LD_PRELOAD=$lib "$leaks/$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	"$dump" "$tmp/$name.d" >"$tmp/$name.dump" 2>>"$tmp/$name.err"
	[ $rc -eq 0 ] && grep -q '^expect ' "$tmp/$name.out"
	ok $? "$name: runs traced and says what it expects (status $rc)"

	st=0
	for pid in $(sed -n 's/^[a-z]* pid=\([0-9]*\) .*/\1/p' "$tmp/$name.out" | sort -u); do
		classes "$tmp/$name.dump" "$pid" >"$tmp/$name.$pid.cls"
	done
	while read -r line; do
		pid=$(field "$line" pid)
		total=$(grep '^total ' "$tmp/$name.$pid.cls")
		[ -n "$total" ] || { echo "# $name: no exit scan of $pid"; st=1; continue; }
		case $line in
		expect*)
			for c in definite indirect possible; do
				w=$(field "$line" $c)
				[ "$w" = "?" ] || [ "$w" = "$(field "$total" $c)" ] ||
				    { echo "# $name: pid $pid $c: want $w, got $(field "$total" $c)"; st=1; }
			done ;;
		block*)
			p=$(field "$line" ptr)
			got=$(sed -n "s/^cls $p //p" "$tmp/$name.$pid.cls")
			[ "$got" = "$(field "$line" cls)" ] ||
			    { echo "# $name: block $p: want $(field "$line" cls), got ${got:-none}"; st=1; } ;;
		threads*)
			for c in threads stopped; do
				[ "$(field "$line" $c)" = "$(field "$total" $c)" ] ||
				    { echo "# $name: $c: want $(field "$line" $c), got $(field "$total" $c)"; st=1; }
			done ;;
		esac
	done <<-END
	$(grep -E '^(expect|block|threads) ' "$tmp/$name.out")
	END
	got=$(grep -h '^total ' "$tmp/$name".*.cls | sed 's/^total //; s/ reachable=.*//' | tr '\n' ';')
	ok $st "$name: the exit scan classifies as expected ($got)"

	if [ -z "$vg" ]; then
		skip "valgrind not installed"
		return
	fi
	valgrind --leak-check=full --log-file="$tmp/$name.vg.%p" "$leaks/$name" "$@" >"$tmp/$name.vgout" 2>&1
	st=0
	i=0
	for ours in $(sed -n 's/^expect pid=\([0-9]*\) .*/\1/p' "$tmp/$name.out"); do
		i=$((i + 1))
		theirs=$(sed -n 's/^expect pid=\([0-9]*\) .*/\1/p' "$tmp/$name.vgout" | sed -n "${i}p")
		log=$tmp/$name.vg.$theirs
		[ -n "$theirs" ] && [ -f "$log" ] || { echo "# $name: no valgrind log for expectation $i"; st=1; continue; }
		total=$(grep '^total ' "$tmp/$name.$ours.cls")
		for c in definite indirect; do
			w=$(vgbytes "$log" "${c}ly")
			[ "$(field "$total" $c | cut -d/ -f2)" = "$w" ] ||
			    { echo "# $name: $c bytes: valgrind $w, ours $(field "$total" $c)"; st=1; }
		done
	done
	ok $st "$name: valgrind's definitely and indirectly lost bytes are ours"
}

corpus direct
corpus list
corpus cycle
corpus interior
corpus reachable
corpus realloc
corpus dlclose "$leaks/dlclose-lib.so"
corpus early
corpus fork
corpus cxx
corpus memalign
corpus strdup
corpus mappings
corpus clean
corpus tight

echo "1..$n"
