#!/bin/bash
# bench/pg.sh [BUILD_DIR] — the PostgreSQL store, measured (docs/scale-out.md
# "Measured"; `make bench-pg`, and a section of `make bench`).
#
# Prints markdown on stdout and writes it to BUILD_DIR/bench-data/RESULTS-pg.md
# and bench/RESULTS-pg.md. One throwaway cluster
# (tests/lib/pg.sh) with fsync ON and pg_stat_statements, its data under
# BUILD_DIR/bench-data (the real disk, not the outer namespace's tmpfs):
#   1. claim + finish throughput of trivial jobs (--cmd /bin/true), 1, 2 and
#      4 runners (-j 2 each) on one PostgreSQL, beside SQLite with one
#      runner, in the same run: files/s, and the server's CPU per file
#      (utime+stime of the postmaster and all its processes, dead backends
#      included through cutime/cstime, from /proc/PID/stat);
#   2. where the time goes per job on PostgreSQL (one runner): statements
#      (round trips) per file from pg_stat_statements, commits and WAL
#      fsyncs per file (pg_stat_database, pg_stat_wal), NOTIFYs;
#   3. queueing 100,000 files: time until the first job starts and until
#      all are queued (database time of the attempt and the last item);
#   4. 1,000,000 queued items: `sandrun status` wall time (median of 5),
#      and a runner's RSS while it works on that queue.
# Knobs: BENCH_PG_N=1000 (files per throughput row), BENCH_PG_REPS=2,
# BENCH_PG_QUEUE=100000, BENCH_PG_MILLION=1000000.
# A/B of two builds in the same run: BENCH_PG_BASE=/path/to/other/sandrun
# adds the rows base-pg-K (K runners of that binary) beside pg-K;
# BENCH_PG_ROWS picks the rows (default "sqlite-1 pg-1 pg-2 pg-4", plus
# "base-pg-1 base-pg-2 base-pg-4" with a base; keep sqlite-1 first, the
# ratios' base); BENCH_PG_SECTIONS=throughput (or BENCH_PG_THROUGHPUT_ONLY=1)
# stops after the throughput table, written to BUILD_DIR/bench-data only
# (bench/RESULTS-pg.md is left alone).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=$(realpath -m "${1:-build}")

if [ "${SANDRUN_IN_OUTER_NS:-0}" != 1 ]; then
	[ -x "$B/sandrun" ] || { echo "bench/pg.sh: build first: make B=${1:-build} programs" >&2; exit 2; }
	${CC:-gcc} -O2 -Wall -Wextra -o "$B/mkfiles" bench/mkfiles.c
	exec tests/lib/outer-ns.sh bash "$0" "$@"
fi

S=$B/sandrun
DATA=$B/bench-data
OUT=$DATA/RESULTS-pg.md
N=${BENCH_PG_N:-1000}
REPS=${BENCH_PG_REPS:-2}
QN=${BENCH_PG_QUEUE:-100000}
MN=${BENCH_PG_MILLION:-1000000}
HZ=$(getconf CLK_TCK)
mkdir -p "$DATA"
: >"$OUT"
log() { printf 'bench-pg: %s\n' "$*" >&2; }
md() { printf '%s\n' "$*" | tee -a "$OUT"; }
now_ms() { local t=$EPOCHREALTIME; t=${t/./}; echo $((t / 1000)); }

cg_mode=$("$S" check --json 2>/dev/null | sed -n 's/.*"cgroup_mode":"\([^"]*\)".*/\1/p')
. "$ROOT/bench/cgroup.sh"
. "$ROOT/tests/lib/pg.sh"
cleanup() { pg_stop; leave_bench_cgroup; }
trap cleanup EXIT
# BENCH_PG_CGROUP=0: stay in the cgroup we were started in (as the test
# suites do) instead of a child cgroup of our own (bench/cgroup.sh).
[ "${BENCH_PG_CGROUP:-1}" = 0 ] || enter_bench_cgroup
export TMPDIR=$DATA
PG_OPTS="-c fsync=on -c shared_preload_libraries=pg_stat_statements -c track_wal_io_timing=on"
pg_start || { echo "bench/pg.sh: no PostgreSQL here: ${PG_SKIP:-pg_start failed}" >&2; exit 3; }
pg_psql "create extension pg_stat_statements" >/dev/null
PM=$(head -1 "$PG_DIR/data/postmaster.pid")

# CPU ticks of the server: the postmaster with its reaped children, and
# the children alive now.
server_ticks() {
	local t=0 p f
	for p in $PM $(cat "/proc/$PM/task/$PM/children" 2>/dev/null); do
		f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		set -- $f
		t=$((t + ${12} + ${13}))
		[ "$p" = "$PM" ] && t=$((t + ${14} + ${15}))
	done
	echo "$t"
}

IN=$DATA/pg-in
rm -rf "$IN" "$DATA/pg-q"
"$B/mkfiles" "$IN" "$N" >/dev/null
CMD=(--cmd /bin/true --output text -q -j 2)

# one_row DB RUNNERS: wall ms, server ticks and failed runners of RUNNERS
# runners on $IN. A runner fails (exit 3, "cannot start a sandbox") when
# something else on the host removes its cgroup directory between two jobs
# (seen on the shared 2-core VM while other sessions ran their suites): the
# row is then measured again, on a fresh store.
one_row() {
	local db=$1 k=$2 bin=${3:-$S} pids="" t0 t1 c0 c1 bad=0
	c0=$(server_ticks); t0=$(now_ms)
	for _ in $(seq 1 "$k"); do "$bin" run --db "$db" "${CMD[@]}" "$IN" -r >/dev/null 2>>"$DATA/pg-runs.err" & pids="$pids $!"; done
	for p in $pids; do wait "$p" || bad=$((bad + 1)); done
	t1=$(now_ms)
	sleep 1 # the runners' backends exit and are reaped: their CPU is the postmaster's cutime
	c1=$(server_ticks)
	echo "$((t1 - t0)) $((c1 - c0)) $bad"
}

log "throughput: $N files, $REPS reps, rows interleaved"
declare -A WALL CPU
BASE=${BENCH_PG_BASE:-}
rows=${BENCH_PG_ROWS:-sqlite-1 pg-1 pg-2 pg-4${BASE:+ base-pg-1 base-pg-2 base-pg-4}}
RETRIED=0
for rep in $(seq 1 "$REPS"); do
	for row in $rows; do
		for try in 1 2 3 4; do
			bin=$S
			[ "${row#base-}" != "$row" ] && bin=$BASE
			if [ "$row" = sqlite-1 ]; then
				rm -f "$DATA/tp.db"*; db=$DATA/tp.db; k=1
			else
				k=${row##*pg-}; db=$(pg_uri_schema "tp_${row%%-*}_${k}_${rep}_$try")
			fi
			read -r w c bad < <(one_row "$db" "$k" "$bin")
			log "  rep $rep $row: $w ms, server $c ticks, $bad runner(s) failed"
			[ "$bad" = 0 ] && break
			RETRIED=$((RETRIED + 1))
		done
		WALL[$row]="${WALL[$row]:-} $w"; CPU[$row]="${CPU[$row]:-} $c"
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
first=${rows%% *} # the ratios' reference: sqlite-1 unless BENCH_PG_ROWS says otherwise
base=$(echo "${WALL[$first]}" | median)
md "## Claim + finish throughput: $N trivial jobs (--cmd /bin/true, -j 2 per runner)"
md ""
md "Median of $REPS interleaved repetitions; ratio: files/s against the row $first, same run."
md "Server CPU: the postmaster and every backend (reaped ones included), per file."
md "Rows measured again because a runner lost its cgroup directory to something else on the host: $RETRIED."
[ -z "$BASE" ] || md "base-pg rows: $BASE ($("$BASE" --version 2>/dev/null | head -1)), the others: $S."
md ""
md "| store, runners | wall (median, all) | files/s | vs $first | server CPU per file |"
md "| --- | --- | --- | --- | --- |"
for row in $rows; do
	w=$(echo "${WALL[$row]}" | median); c=$(echo "${CPU[$row]}" | median)
	fps=$(awk -v n="$N" -v w="$w" 'BEGIN { printf "%.0f", n * 1000 / w }')
	ratio=$(awk -v a="$base" -v w="$w" 'BEGIN { printf "%.2f", a / w }')
	cpu=$([ "${row%%-*}" = sqlite ] && echo "-" || awk -v c="$c" -v n="$N" -v hz="$HZ" 'BEGIN { printf "%.2f ms", c * 1000 / hz / n }')
	md "| ${row/-/, } | $w ms (${WALL[$row]# }) | $fps | ${ratio}x | $cpu |"
done
md ""
if [ "${BENCH_PG_SECTIONS:-all}" = throughput ] || [ "${BENCH_PG_THROUGHPUT_ONLY:-0}" = 1 ]; then
	log "written: $OUT (throughput only)"
	exit 0
fi

# ---- where the time goes -----------------------------------------------------
log "per job: one runner, statements and commits counted"
db=$(pg_uri_schema per_job)
"$S" run --db "$db" --cmd /bin/true --output text -q -j 1 "$IN/f000000" >/dev/null 2>&1 # the schema
pg_psql "select pg_stat_statements_reset(); select pg_stat_reset(); select pg_stat_reset_shared('wal')" >/dev/null
sleep 0.6 # the statistics collector takes the reset
t0=$(now_ms)
"$S" run --db "$db" --cmd /bin/true --output text -q -j 1 "$IN" -r >/dev/null 2>&1 || true
t1=$(now_ms)
sleep 0.6
done_n=$(pg_psql "select count(*) from per_job.items where status = 'done'")
md "## Where the time goes per job (PostgreSQL, one runner, -j 1, $done_n files, fsync on)"
md ""
md "Wall per file: $(awk -v w=$((t1 - t0)) -v n="$done_n" 'BEGIN { printf "%.2f ms", w / n }') ($((t1 - t0)) ms in all)."
md ""
md "| statement | calls per file | server ms per file |"
md "| --- | --- | --- |"
pg_psql "select regexp_replace(left(regexp_replace(query, '\s+', ' ', 'g'), 70), '\|', '/', 'g'),
	round(calls::numeric / $done_n, 2), round((total_exec_time / $done_n)::numeric, 3)
	from pg_stat_statements where calls >= $done_n / 2 order by calls desc, total_exec_time desc" |
	while IFS='|' read -r q c t; do md "| \`$q\` | $c | $t |"; done
tot=$(pg_psql "select round(sum(calls)::numeric / $done_n, 2), round((sum(total_exec_time) / $done_n)::numeric, 3) from pg_stat_statements")
commits=$(pg_psql "select round(xact_commit::numeric / $done_n, 2) from pg_stat_database where datname = 'postgres'")
wal=$(pg_psql "select round(wal_sync::numeric / $done_n, 2), round(wal_bytes::numeric / $done_n), round((wal_sync_time / $done_n)::numeric, 3) from pg_stat_wal")
enq=$(pg_psql "select coalesce(sum(calls), 0) from pg_stat_statements where query like 'WITH up AS (INSERT INTO items%'")
md ""
md "All statements (round trips): ${tot%%|*} per file, ${tot##*|} ms of server time per file."
md "Commits: $commits per file. WAL: ${wal%%|*} fsyncs, $(echo "$wal" | cut -d'|' -f2) bytes, $(echo "$wal" | cut -d'|' -f3) ms of fsync per file."
md "NOTIFY: one per enqueue statement that queued something ($enq enqueue statements in the run, one per 4,096 inputs or per chunk the runner queues while it claims); a finish sends one only when its item goes back to pending (a retry), so none here."
md ""

# ---- queueing 100,000 ------------------------------------------------------------
log "queueing $QN files"
QIN=$DATA/pg-q
"$B/mkfiles" "$QIN" "$QN" >/dev/null
db=$(pg_uri_schema q)
t0=$(now_ms)
"$S" run --db "$db" --cmd /bin/true --output text -q -j 2 "$QIN" -r >/dev/null 2>&1 &
qr=$!
first="" all=""
for _ in $(seq 1 1200); do
	v=$(pg_psql "select coalesce((select min(started_at) from q.attempts), 0), (select count(*) from q.items), coalesce((select max(enqueued_at) from q.items), 0)" 2>/dev/null || echo "0|0|0")
	IFS='|' read -r f n last <<<"$v"
	[ -z "$first" ] && [ "$f" != 0 ] && first=$((f - t0))
	[ "$n" -ge "$QN" ] && { all=$((last - t0)); break; }
	sleep 0.1
done
kill -TERM "$qr" 2>/dev/null; wait "$qr" 2>/dev/null || true
md "## Queueing $QN files into PostgreSQL (one runner, -r over a directory)"
md ""
md "| | ms after the start |"
md "| --- | --- |"
md "| the first job starts (attempts.started_at) | ${first:-not seen} |"
md "| all $QN queued (max items.enqueued_at) | ${all:-not reached} |"
md ""

# ---- 1,000,000 queued ---------------------------------------------------------------
log "$MN queued items"
db=$(pg_uri_schema m)
"$S" run --db "$db" --cmd /bin/true --output text -q -j 1 "$IN/f000000" >/dev/null 2>&1
key=$(pg_psql "select spec_key from m.items limit 1")
pg_psql "insert into m.items (path, spec_key, size, mtime_ns, status, enqueued_at, updated_at)
	select convert_to('$DATA/pg-m/f' || g, 'UTF8'), '$key', 0, 0, 'pending', m.now_ms(), m.now_ms()
	from generate_series(1, $MN) g" >/dev/null
pg_psql "vacuum analyze m.items" >/dev/null
st_times=""
for _ in 1 2 3 4 5; do
	t0=$EPOCHREALTIME; "$S" status --db "$db" >/dev/null; t1=$EPOCHREALTIME
	st_times="$st_times $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')"
done
# status counts each (status, last_outcome) pair on its own (store/pg_query.c):
# here the one large pair is every item pending with no outcome yet.
plan=$(pg_psql "explain (analyze, costs off, timing off, summary on) select count(*) from m.items where status = 'pending' and last_outcome is null" | tail -1)
# A runner on that queue (its files do not exist: each claim ends as an
# input error at once, so it churns claims as fast as it can): RSS over time.
"$S" run --db "$db" --cmd /bin/true --output text -q -j 2 "$IN/f000000" >/dev/null 2>&1 &
mr=$! ms0=$(now_ms)
rss=""
for t in 2 5 10 20; do
	while [ "$(now_ms)" -lt $((ms0 + t * 1000)) ]; do sleep 0.2; done
	rss="$rss ${t}s: $(awk '/VmRSS/ { print $2 }' "/proc/$mr/status") kB,"
done
claimed=$(pg_psql "select count(*) from m.items where status <> 'pending'")
kill -TERM "$mr" 2>/dev/null; wait "$mr" 2>/dev/null || true
md "## $MN queued items"
md ""
md "\`sandrun status\`: $(echo "$st_times" | median) ms median (runs:$st_times ms). Its count of the $MN pending items on the server: $plan."
md ""
md "A runner working that queue, RSS:${rss%,} ($claimed items claimed meanwhile)."
md ""
cp "$OUT" "$ROOT/bench/RESULTS-pg.md"
log "written: $OUT and bench/RESULTS-pg.md"
