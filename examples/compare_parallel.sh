#!/bin/bash
# examples/compare_parallel.sh BUILD_DIR — the examples under GNU parallel
# --timeout and under sandrun --cmd, side by side (docs/cmd.md).
#
# Run it inside the outer test namespace only:
#   tests/lib/outer-ns.sh bash examples/compare_parallel.sh build/cmd
# Under parallel the hostile examples run as uid nobody with ulimit -v 1G
# (address space) and ulimit -u 200 (processes of that user), so even there
# they cannot hurt the machine; sandrun gets --mem 512M --pids 64.
set -u
[ "${SANDRUN_IN_OUTER_NS:-0}" = 1 ] || { echo "run me under tests/lib/outer-ns.sh" >&2; exit 2; }
B=$(cd "${1:?BUILD_DIR}" && pwd)
EX=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/compare.XXXXXX)
chmod 755 "$T"
trap 'pkill -KILL -u nobody 2>/dev/null; rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" <<'PY'
import sys, numpy as np, soundfile as sf
t = np.arange(16000) / 16000
sf.write(f"{sys.argv[1]}/sine440.wav", 0.5 * np.sin(2 * np.pi * 440 * t), 16000)
PY
cp "$EX"/hang_ctypes.py "$EX"/leak.py "$EX"/segfault.py "$EX"/nested_pool.py "$T/"
echo "secret of the host" >"$T/host-secret" && chmod 644 "$T/host-secret"
cat >"$T/nosy.py" <<'PY'
import socket, sys
try:
    print("read a host file:", open(sys.argv[1]).read().strip())
except OSError as e:
    print("read a host file: refused:", e.strerror)
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("127.0.0.1", int(sys.argv[2]))); print("network: connected to the host listener")
except OSError as e:
    print("network: refused:", e.strerror or e)
PY
chmod 644 "$T"/*
mkdir -m 777 "$T/par"
python3 -m http.server --bind 127.0.0.1 8765 >/dev/null 2>&1 &
HTTP=$!
sleep 1
DISPATCH='case $1 in *.py) exec python3 "$1" '"$T/host-secret"' 8765;; *) exec python3 '"$EX"'/features.py "$1";; esac'
FILES=("$T/sine440.wav" "$T/hang_ctypes.py" "$T/leak.py" "$T/segfault.py" "$T/nested_pool.py" "$T/nosy.py")

echo "== GNU parallel -j 2 --timeout 20 (as nobody, ulimit -v 1G -u 200)"
# the most processes and resident memory of the jobs at any moment
( maxp=0 maxr=0
  while :; do
	p=$(pgrep -u nobody -c) r=$(ps -u nobody -o rss= | awk '{ s += $1 } END { print int(s / 1024) }')
	[ "$p" -gt "$maxp" ] && maxp=$p
	[ "$r" -gt "$maxr" ] && maxr=$r
	echo "$maxp $maxr" >"$T/peak"
	sleep 0.2
  done ) &
SAMPLER=$!
t0=$(date +%s.%N)
HOME=$T/par setpriv --reuid=65534 --regid=65534 --clear-groups bash -c '
	ulimit -v 1048576 -u 200
	parallel -q -j 2 --timeout 20 --joblog "$1/par/joblog" sh -c "$2" sh {} ::: "${@:3}" >"$1/par/out" 2>"$1/par/err"
	echo "parallel exit status: $?"' bash "$T" "$DISPATCH" "${FILES[@]}"
t1=$(date +%s.%N)
kill $SAMPLER
echo "wall: $(echo "$t1 - $t0" | bc) s"
read -r maxp maxr <"$T/peak"
echo "  at most $maxp processes and $maxr MiB resident at once (sampled every 0.2 s)"
grep -v "^ " "$T/par/err" | head -n 6 | cut -c1-160 | sed 's/^/  stderr: /'
awk -F'\t' 'NR > 1 { n = split($9, a, " "); printf "  %-16s exit %-3s signal %-2s %6.1f s\n", a[n], $7, $8, $4 }' "$T/par/joblog"
sleep 1
echo "  processes of the jobs still alive after parallel returned: $(pgrep -u nobody -c -f 'nested_pool|hang_ctypes|leak.py' || true)"
echo "  peak of leak.py: bounded only by ulimit -v: $(grep -c MemoryError "$T/par/err") MemoryError"
grep -E '^(read a host file|network):' "$T/par/out" | sed 's/^/  nosy.py: /'
pkill -KILL -u nobody 2>/dev/null
sleep 0.5

echo "== sandrun --cmd -j 2 --timeout 20 --mem 512M --pids 64"
t0=$(date +%s.%N)
"$B/sandrun" run --db "$T/s.db" -j 2 --timeout 20 --mem 512M --pids 64 --retries 0 --output text \
	--bind-ro "$EX" --cmd "sh -c '$DISPATCH' sh {}" "${FILES[@]}" 2>"$T/sandrun.err"
echo "sandrun exit status: $?"
t1=$(date +%s.%N)
echo "wall: $(echo "$t1 - $t0" | bc) s"
sqlite3 -separator ' ' "$T/s.db" "SELECT printf('  %-16s %-13s exit %-4s signal %-3s %6.1f s  peak %4d MiB', replace(i.path, '$T/', ''), a.outcome, IFNULL(a.exit_code,'-'), IFNULL(a.signal,'-'), a.wall_ms/1000.0, a.peak_memory_bytes>>20) FROM items i JOIN attempts a ON a.id = i.last_attempt ORDER BY i.path"
echo "  processes of the jobs still alive after sandrun returned: $(pgrep -c -f 'nested_pool|hang_ctypes|leak.py' || true)"
sqlite3 "$T/s.db" "SELECT value FROM results r JOIN items i ON i.id = r.item_id WHERE i.path LIKE '%nosy.py'" | sed 's/^/  nosy.py: /'
kill $HTTP

echo "== a daemon left behind (tests/probes/daemonize: fork, setsid, fork; ignores SIGTERM)"
TOKEN=cmp$$x$RANDOM
HOME=$T/par setpriv --reuid=65534 --regid=65534 --clear-groups \
	parallel --timeout 5 --joblog "$T/par/joblog2" "$B/probes/daemonize" ::: "$TOKEN" >/dev/null 2>&1
sleep 1
echo "  parallel --timeout 5: $(awk -F'\t' 'NR > 1 { print "exit " $7 ", signal " $8 ", " $4 " s" }' "$T/par/joblog2"); processes left: $(pgrep -c -f "$TOKEN")"
pkill -KILL -f "$TOKEN"
"$B/sandrun" run --db "$T/d.db" --timeout 5 --output text --bind-ro "$B/probes" \
	--cmd "$B/probes/daemonize $TOKEN" "$T/sine440.wav" 2>/dev/null
sleep 1
echo "  sandrun --timeout 5: $(sqlite3 "$T/d.db" "SELECT printf('%s, %.1f s', outcome, wall_ms / 1000.0) FROM attempts"); processes left: $(pgrep -c -f "$TOKEN")"
