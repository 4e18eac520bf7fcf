#!/bin/bash
# bench/pg-status.sh [BUILD_DIR [BASE_SANDRUN]] — `sandrun status` on a
# PostgreSQL store of BENCH_PG_MILLION (1,000,000) items, seeded exactly as
# bench/pg.sh's last section does (all pending), then the same items in a
# mix of states (a third done ok, a seventh failed timeout, an eleventh done
# damaged, some pending after runner_lost). Wall time of
# BENCH_PG_STATUS_RUNS (9) runs each: median and max.
#
# BASE_SANDRUN (another build, e.g. of main): its own schema "b", seeded
# alike by it (an older build may not open a newer schema), runs
# interleaved with this build's on schema "m"; the ratio is from one run,
# and both must print the same counts.
#
# Then under load: BENCH_PG_STATUS_RUNNERS (3) runners (-j 2 each) work
# the million-item queue of one build's schema while status is timed
# (one run a second), from 2 s after their first claim. The items' files do not exist, so every claim ends
# at once as an input error: each runner does claim + finish as fast as
# the store lets it, the write load of the counts' triggers at its worst.
# Reported per phase: status median and max, claims per second of all the
# runners together (attempt rows made in BENCH_PG_STATUS_CLAIM_S (8)
# seconds before the status runs, with no status running), and one
# runner's RSS at the start and at the end of the phase. BENCH_PG_STATUS_ROUNDS (2) rounds of one
# phase per build, alternating, so a change of the host's load hits both.
#
# BENCH_PG_STATUS_SQL=FILE: also run that file's SQL (psql, \timing on)
# against the seeded schema "m" (experiments, e.g. EXPLAIN ANALYZE);
# BENCH_PG_STATUS_OPTS: more server options ("-c name=value ...").
# Prints markdown on stdout.
set -euo pipefail

. "$(dirname "$0")/pg-lib.sh"
bench_pg_enter pg-status.sh "${1:-}" "$@"
BASE=${2:+$(realpath -m "$2")}
MN=${BENCH_PG_MILLION:-1000000}
RUNS=${BENCH_PG_STATUS_RUNS:-9}
RUNNERS=${BENCH_PG_STATUS_RUNNERS:-3}
ROUNDS=${BENCH_PG_STATUS_ROUNDS:-2}
CLAIM_S=${BENCH_PG_STATUS_CLAIM_S:-8}
PIDS=()
bench_pg_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pg_stop
}
PG_EXTRA=${BENCH_PG_STATUS_OPTS:-}
bench_pg_start pg-status.sh
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -n | tail -1; }

seed() {
	local key
	key=$(bench_pg_store "$1" "$2")
	pg_psql "insert into $1.items (path, spec_key, size, mtime_ns, status, enqueued_at, updated_at)
		select convert_to('$DATA/pg-m/f' || g, 'UTF8'), '$key', 0, 0, 'pending', $1.now_ms(), $1.now_ms()
		from generate_series(1, $MN) g" >/dev/null
	pg_psql "vacuum analyze $1.items" >/dev/null
}
seed m "$S"
[ -z "$BASE" ] || seed b "$BASE"
dbm=$(pg_uri_schema m)
dbb=$(pg_uri_schema b)

ms_of() { local t0=$EPOCHREALTIME; "$1" status --db "$2" >/dev/null; local t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
# The counts of a status report: without the store line, the last run and
# the attempts (their times differ between two seedings).
counts_of() { "$1" status --db "$2" | grep -v -e '^store' -e '^last run' -e '^attempts' -e '^ *wall' -e '^ *memory' || true; }
cell() { # "median ms (max M; runs...)"
	printf '%s ms, max %s (%s)' "$(echo "$1" | median)" "$(echo "$1" | maxof)" "${1# }"
}
# quiet LABEL: status alone, RUNS interleaved runs of each build.
quiet() {
	local new="" old=""
	counts_of "$S" "$dbm" >"$DATA/pg-status.new"
	if [ -n "$BASE" ]; then
		counts_of "$BASE" "$dbb" >"$DATA/pg-status.old"
		cmp -s "$DATA/pg-status.new" "$DATA/pg-status.old" ||
			{ echo "bench/pg-status.sh: the two builds print different counts" >&2
			  diff "$DATA/pg-status.old" "$DATA/pg-status.new" >&2; exit 1; }
	fi
	for _ in $(seq "$RUNS"); do
		new="$new $(ms_of "$S" "$dbm")"
		[ -z "$BASE" ] || old="$old $(ms_of "$BASE" "$dbb")"
	done
	if [ -n "$BASE" ]; then
		echo "| $1 | $(cell "$old") | $(cell "$new") | $(awk -v a="$(echo "$old" | median)" -v b="$(echo "$new" | median)" 'BEGIN { printf "%.2f", a / b }')x |"
	else
		echo "| $1 | - | $(cell "$new") | - |"
	fi
}
echo "## \`sandrun status\` at $MN items, PostgreSQL"
echo
echo "This build: $(git -C "$ROOT" rev-parse --short HEAD)${BASE:+, before: $BASE}; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "Quiet (status alone; $RUNS runs each, interleaved):"
echo
echo "| items | before | this build | speed-up |"
echo "| --- | --- | --- | --- |"
quiet "all pending"
cp "$DATA/pg-status.new" "$DATA/pg-status.pending"
mix() {
	pg_psql "update $1.items set status = 'done', last_outcome = 'ok' where id % 3 = 0;
		update $1.items set status = 'failed', last_outcome = 'timeout' where id % 7 = 0;
		update $1.items set status = 'done', last_outcome = 'damaged' where id % 11 = 0;
		update $1.items set last_outcome = 'runner_lost' where id % 13 = 0 and status = 'pending'" >/dev/null
	pg_psql "vacuum analyze $1.items" >/dev/null
}
mix m
[ -z "$BASE" ] || mix b
quiet "mixed"
cp "$DATA/pg-status.new" "$DATA/pg-status.mixed"

# loaded BINARY SCHEMA: RUNNERS runners of BINARY on SCHEMA, status timed
# RUNS times (one a second) while they claim; one table row.
loaded() {
	local bin=$1 sch=$2 db times="" a0 a1 t0 t1 rss0 rss1 p
	db=$(pg_uri_schema "$sch")
	PIDS=()
	for _ in $(seq "$RUNNERS"); do
		"$bin" run --db "$db" --cmd /bin/true --output text -q -j 2 "$DATA/pg-in1/f000000" >/dev/null 2>&1 &
		PIDS+=($!)
	done
	# Start timing once the runners claim (at a million items a runner's
	# start reads counts: slower before the maintained counts), plus 2 s.
	a0=$(pg_psql "select coalesce(max(id), 0) from $sch.attempts")
	for _ in $(seq 600); do
		[ "$(pg_psql "select coalesce(max(id), 0) from $sch.attempts")" = "$a0" ] || break
		sleep 0.2
	done
	sleep 2
	rss0=$(awk '/VmRSS/ { print $2 }' "/proc/${PIDS[0]}/status")
	# The runners alone for CLAIM_S seconds (a status costs CPU too: the
	# claims are counted without it), then status while they go on.
	a0=$(pg_psql "select coalesce(max(id), 0) from $sch.attempts"); t0=$EPOCHREALTIME
	sleep "$CLAIM_S"
	a1=$(pg_psql "select coalesce(max(id), 0) from $sch.attempts"); t1=$EPOCHREALTIME
	for _ in $(seq "$RUNS"); do
		times="$times $(ms_of "$bin" "$db")"
		sleep 1
	done
	rss1=$(awk '/VmRSS/ { print $2 }' "/proc/${PIDS[0]}/status")
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
	echo "| $3 | $(cell "$times") | $(awk -v n=$((a1 - a0)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') | $rss0 → $rss1 kB | $(cut -d' ' -f1 /proc/loadavg) |"
}
echo
echo "Under load: $RUNNERS runners (-j 2 each) claiming the queue (every claim an input error: claim + finish at full speed); status once a second, $RUNS runs per phase:"
echo
echo "| phase | status | claims/s (all runners, no status) | runner RSS | load |"
echo "| --- | --- | --- | --- | --- |"
for r in $(seq "$ROUNDS"); do
	loaded "$S" m "this build, round $r"
	[ -z "$BASE" ] || loaded "$BASE" b "before, round $r"
done
echo
echo '```'
cat "$DATA/pg-status.pending" "$DATA/pg-status.mixed"
echo '```'
if [ -n "${BENCH_PG_STATUS_SQL:-}" ]; then
	echo '```'
	"$PGBIN/psql" "host=$PG_DIR user=sandrun dbname=postgres options=-csearch_path=m" \
		-v ON_ERROR_STOP=1 -qX -c '\timing on' -f "$BENCH_PG_STATUS_SQL" 2>&1
	echo '```'
fi
