#!/bin/bash
# bench/pg-status.sh [BUILD_DIR [BASE_SANDRUN]] — `sandrun status` on a
# PostgreSQL store of BENCH_PG_MILLION (1,000,000) items, seeded exactly as
# bench/pg.sh's last section does (all pending), then the same items in a
# mix of states (a third done ok, a seventh failed timeout, an eleventh done
# damaged, some pending after runner_lost). Wall time of 7 runs each
# (median), interleaved with BASE_SANDRUN (another build, e.g. of main) when
# given: the ratio is from one run, and both must print the same report.
# BENCH_PG_STATUS_SQL=FILE: also run that file's SQL (psql, \timing on)
# against the seeded schema "m" (experiments, e.g. EXPLAIN ANALYZE);
# BENCH_PG_STATUS_OPTS: more server options ("-c name=value ...").
# Prints markdown on stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=$(realpath -m "${1:-build}")
BASE=${2:+$(realpath -m "$2")}

if [ "${SANDRUN_IN_OUTER_NS:-0}" != 1 ]; then
	[ -x "$B/sandrun" ] || { echo "bench/pg-status.sh: build first: make B=${1:-build} programs" >&2; exit 2; }
	exec tests/lib/outer-ns.sh bash "$0" "$@"
fi

S=$B/sandrun
DATA=$B/bench-data
MN=${BENCH_PG_MILLION:-1000000}
mkdir -p "$DATA"
. "$ROOT/tests/lib/pg.sh"
trap pg_stop EXIT
export TMPDIR=$DATA
PG_OPTS="-c fsync=on ${BENCH_PG_STATUS_OPTS:-}"
pg_start || { echo "bench/pg-status.sh: no PostgreSQL here: ${PG_SKIP:-pg_start failed}" >&2; exit 3; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

mkdir -p "$DATA/pg-in1"
: >"$DATA/pg-in1/f000000"
db=$(pg_uri_schema m)
"$S" run --db "$db" --cmd /bin/true --output text -q -j 1 "$DATA/pg-in1/f000000" >/dev/null 2>&1 || true
key=$(pg_psql "select spec_key from m.items limit 1")
pg_psql "insert into m.items (path, spec_key, size, mtime_ns, status, enqueued_at, updated_at)
	select convert_to('$DATA/pg-m/f' || g, 'UTF8'), '$key', 0, 0, 'pending', m.now_ms(), m.now_ms()
	from generate_series(1, $MN) g" >/dev/null
pg_psql "vacuum analyze m.items" >/dev/null
ms_of() { local t0=$EPOCHREALTIME; "$1" status --db "$db" >/dev/null; local t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
# measure SHAPE: one markdown table row per binary.
measure() {
	local new="" old="" m_new m_old
	"$S" status --db "$db" >"$DATA/pg-status.new"
	if [ -n "$BASE" ]; then
		"$BASE" status --db "$db" | sed 's/ (sandrun [0-9a-f]*)//' >"$DATA/pg-status.old"
		sed 's/ (sandrun [0-9a-f]*)//' "$DATA/pg-status.new" | cmp -s - "$DATA/pg-status.old" ||
			{ echo "bench/pg-status.sh: the two builds print different reports" >&2; diff "$DATA/pg-status.old" "$DATA/pg-status.new" >&2; exit 1; }
	fi
	for _ in 1 2 3 4 5 6 7; do
		new="$new $(ms_of "$S")"
		[ -z "$BASE" ] || old="$old $(ms_of "$BASE")"
	done
	m_new=$(echo "$new" | median)
	if [ -n "$BASE" ]; then
		m_old=$(echo "$old" | median)
		echo "| $1 | $m_old ms (${old# }) | $m_new ms (${new# }) | $(awk -v a="$m_old" -v b="$m_new" 'BEGIN { printf "%.2f", a / b }')x |"
	else
		echo "| $1 | - | $m_new ms (${new# }) | - |"
	fi
}
echo "## \`sandrun status\` at $MN items, PostgreSQL"
echo
echo "Median of 7 runs each, interleaved; this build: $(git -C "$ROOT" rev-parse --short HEAD)${BASE:+, before: $BASE}."
echo
echo "| items | before | this build | speed-up |"
echo "| --- | --- | --- | --- |"
measure "all pending"
cp "$DATA/pg-status.new" "$DATA/pg-status.pending"
pg_psql "update m.items set status = 'done', last_outcome = 'ok' where id % 3 = 0;
	update m.items set status = 'failed', last_outcome = 'timeout' where id % 7 = 0;
	update m.items set status = 'done', last_outcome = 'damaged' where id % 11 = 0;
	update m.items set last_outcome = 'runner_lost' where id % 13 = 0 and status = 'pending'" >/dev/null
pg_psql "vacuum analyze m.items" >/dev/null
measure "mixed"
echo
echo '```'
cat "$DATA/pg-status.pending" "$DATA/pg-status.new" | grep -v '^store'
echo '```'
if [ -n "${BENCH_PG_STATUS_SQL:-}" ]; then
	echo '```'
	"$PGBIN/psql" "host=$PG_DIR user=sandrun dbname=postgres options=-csearch_path=m" \
		-v ON_ERROR_STOP=1 -qX -c '\timing on' -f "$BENCH_PG_STATUS_SQL" 2>&1
	echo '```'
fi
