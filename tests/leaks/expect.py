# tests/leaks/expect.py -- leak's JSON report against what the corpus
# programs print ("expect pid=P definite=N/B indirect=N/B possible=N/B",
# see leaks.h): one "# ..." line per difference, exit 1 if any.
# usage: python3 expect.py PROGRAM-OUTPUT LEAK-JSON
import json, re, sys
out, js = sys.argv[1], sys.argv[2]
doc = json.load(open(js))
got = {}
for l in doc["leaks"]:
    k = (l["pid"], l["kind"])
    b, n = got.get(k, (0, 0))
    got[k] = (b + l["bytes"], n + l["blocks"])
bad = 0
for line in open(out):
    m = re.match(r"expect pid=(\d+) definite=(\d+)/(\d+) indirect=(\d+)/(\d+) possible=(\d+)/(\d+)", line)
    if not m:
        continue
    pid = int(m.group(1))
    for i, kind in enumerate(("definite", "indirect", "possible")):
        want = (int(m.group(3 + 2 * i)), int(m.group(2 + 2 * i)))
        have = got.get((pid, kind), (0, 0))
        if have != want:
            print("# pid %d %s: want %d bytes in %d blocks, leak says %d in %d"
                  % (pid, kind, want[0], want[1], have[0], have[1]))
            bad = 1
sys.exit(bad)
