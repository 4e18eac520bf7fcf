#!/bin/bash
# bench/serve.sh BUILD_DIR — `sandrun serve` over its socket (docs/serve.md),
# side by side with `sandrun run` in one run on one machine:
#
#   acks/s       submissions acknowledged per second: N files submitted
#                without --wait by `sandrun submit` over one connection
#                (each one checked, copied into the spool, fsynced, linked
#                and committed with synchronous=FULL before its ack), the
#                jobs (--cmd /bin/true) running meanwhile on -j CPUs
#   files/s      N trivial files end to end: `submit --wait` of all N over
#                C concurrent clients, against `sandrun run --cmd /bin/true
#                -j CPUs` on the same N files
#   latency      submit -> result for one file whose job takes 1 s
#                (--cmd 'sleep 1') at an idle server, against `sandrun run`
#                on the same file (a fresh database each time): median of R
#   memory       the server's peak RSS (VmHWM) after all of it
#
# SERVE_BENCH_N (1000), SERVE_BENCH_CLIENTS (10), SERVE_BENCH_REPS (5).
# Runs inside tests/lib/outer-ns.sh (the jobs are real sandboxes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "${SANDRUN_IN_OUTER_NS:-0}" != 1 ]; then
	exec "$ROOT/tests/lib/outer-ns.sh" "$0" "$@"
fi
B=$(cd "${1:?BUILD_DIR}" && pwd)
N=${SERVE_BENCH_N:-1000}
C=${SERVE_BENCH_CLIENTS:-10}
R=${SERVE_BENCH_REPS:-5}
J=$(nproc)
# On a real disk by default (the outer namespace's /tmp and /var/tmp are
# tmpfs, where the fsyncs before each ack cost nothing).
mkdir -p "${SERVE_BENCH_DIR:-$ROOT/build}"
W=$(mktemp -d "${SERVE_BENCH_DIR:-$ROOT/build}/serve-bench.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
chmod 755 "$W"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
serve() { # NAME ARGS...: a server on $W/NAME.sock; SPID
	local name=$1
	shift
	"$B/sandrun" serve --socket "$W/$name.sock" --db "$W/$name.db" -q "$@" 2>>"$W/$name.log" &
	SPID=$!
	for _ in $(seq 100); do
		"$B/sandrun" submit --socket "$W/$name.sock" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "server $name did not start: $(tail -n 3 "$W/$name.log")" >&2
	exit 1
}
idle() { # SOCK: until nothing is queued or running
	while "$B/sandrun" submit --socket "$1" --stats | grep -qvE '"queued":0.*"running":0|"running":0.*"queued":0'; do
		sleep 0.05
	done
}
mkdir "$W/in"
for i in $(seq -w 1 "$N"); do printf 'RIFF%s' "$i" >"$W/in/f$i"; done
echo "# sandrun serve bench: N=$N files, $C clients, -j $J, $(nproc) CPUs, $(uname -r), in $W ($(stat -f -c %T "$W"))"

# acks/s
serve acks -j "$J" --cmd /bin/true --output text
t0=$(now)
"$B/sandrun" submit --socket "$W/acks.sock" "$W"/in/* >/dev/null
t1=$(now)
idle "$W/acks.sock"
t2=$(now)
ack_s=$(secs "$t0" "$t1")
echo "acks:    $N submissions acknowledged in ${ack_s} s: $(awk -v n="$N" -v s="$ack_s" 'BEGIN { printf "%.0f", n / s }')/s" \
	"(all $N jobs done $(secs "$t0" "$t2") s after the first submit)"
hwm_acks=$(awk '/VmHWM/ { print $2 }' "/proc/$SPID/status")
kill -TERM "$SPID"; wait "$SPID" || true

# files/s end to end, against run
serve e2e -j "$J" --cmd /bin/true --output text
ls "$W"/in/* | split -n "r/$C" - "$W/part."
t0=$(now)
for p in "$W"/part.*; do
	xargs -a "$p" "$B/sandrun" submit --socket "$W/e2e.sock" --wait >/dev/null &
done
wait $(jobs -p | grep -v "^$SPID$")
t1=$(now)
e2e_s=$(secs "$t0" "$t1")
hwm_e2e=$(awk '/VmHWM/ { print $2 }' "/proc/$SPID/status")
kill -TERM "$SPID"; wait "$SPID" || true
t0=$(now)
"$B/sandrun" run --db "$W/run.db" -j "$J" --cmd /bin/true --output text -q "$W"/in/* 2>/dev/null
t1=$(now)
run_s=$(secs "$t0" "$t1")
echo "files/s: serve (--wait, $C clients) $(awk -v n="$N" -v s="$e2e_s" 'BEGIN { printf "%.0f", n / s }')/s" \
	"($e2e_s s), run $(awk -v n="$N" -v s="$run_s" 'BEGIN { printf "%.0f", n / s }')/s ($run_s s):" \
	"serve/run time ratio $(awk -v a="$e2e_s" -v b="$run_s" 'BEGIN { printf "%.2f", a / b }')"

# latency of a 1 s file, idle server vs run
printf 'one second\n' >"$W/onesec"
serve lat -j 1 --cmd 'sleep 1' --output text
for r in $(seq "$R"); do
	t0=$(now)
	"$B/sandrun" submit --socket "$W/lat.sock" --wait "$W/onesec" >/dev/null
	secs "$t0" "$(now)" >>"$W/lat.serve"
	t0=$(now)
	"$B/sandrun" run --db "$W/lat$r.db" --cmd 'sleep 1' --output text -q "$W/onesec" 2>/dev/null
	secs "$t0" "$(now)" >>"$W/lat.run"
done
hwm_lat=$(awk '/VmHWM/ { print $2 }' "/proc/$SPID/status")
kill -TERM "$SPID"; wait "$SPID" || true
ls=$(median <"$W/lat.serve") lr=$(median <"$W/lat.run")
echo "latency: 1 s file, median of $R: serve $ls s (overhead $(awk -v a="$ls" 'BEGIN { printf "%.0f", (a - 1) * 1000 }') ms)," \
	"run $lr s (overhead $(awk -v a="$lr" 'BEGIN { printf "%.0f", (a - 1) * 1000 }') ms); min-max serve" \
	"$(sort -g "$W/lat.serve" | sed -n '1p;$p' | paste -sd-), run $(sort -g "$W/lat.run" | sed -n '1p;$p' | paste -sd-)"
echo "memory:  server peak RSS: $hwm_acks kB (acks), $hwm_e2e kB (end to end), $hwm_lat kB (latency)"
