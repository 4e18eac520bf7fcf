#!/bin/bash
# bench/pg-report.sh [BUILD_DIR] — `sandrun report` on a PostgreSQL store of
# BENCH_PG_REPORT_N (100,000) items: wall time and max RSS of
# BENCH_PG_REPORT_RUNS (3) runs (median, and all of them), the page's size.
# The store is made by one real run (the schema, a run) and then SQL, in
# the shape a batch of the built-in analyzer leaves: 94 % done ok with an
# analyzer result (loudness, true peak, duration, clipping, silence), 1 %
# of those done damaged, 4 % failed timeout with a stderr tail, 1 %
# pending; one attempt per finished item, with wall time and peak memory.
# Prints markdown on stdout.
set -euo pipefail

. "$(dirname "$0")/pg-lib.sh"
bench_pg_enter pg-report.sh "${1:-}" "$@"
RN=${BENCH_PG_REPORT_N:-100000}
RUNS=${BENCH_PG_REPORT_RUNS:-3}
bench_pg_start pg-report.sh
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

db=$(pg_uri_schema r)
key=$(bench_pg_store r)
run=$(pg_psql "select max(id) from r.runs")
pg_psql "set search_path = r;
insert into items (path, spec_key, size, mtime_ns, status, attempts, budget, last_outcome, enqueued_at, updated_at)
  select convert_to('$DATA/pg-r/f' || g, 'UTF8'), '$key', 1000 + g, g,
    case when g % 100 = 0 then 'pending' when g % 25 = 0 then 'failed' else 'done' end,
    case when g % 100 = 0 then 0 else 1 end, 1,
    case when g % 100 = 0 then null when g % 25 = 0 then 'timeout' when g % 97 = 0 then 'damaged' else 'ok' end,
    now_ms(), now_ms()
  from generate_series(1, $RN) g;
insert into attempts (item_id, run_id, budget, attempt_no, counted, started_at, ended_at, outcome,
    exit_code, signal, wall_ms, cpu_ms, peak_memory_bytes, oom_kills, error, stderr_tail)
  select id, $run, 1, 1, 1, now_ms() - 2000, now_ms() - 1000, last_outcome,
    case when last_outcome = 'timeout' then -1 else 0 end, case when last_outcome = 'timeout' then 9 else 0 end,
    100 + id % 900, 80 + id % 700, (20 + id % 50) * 1048576, 0,
    case when last_outcome = 'timeout' then 'wall time limit reached' end,
    case when last_outcome = 'timeout' then convert_to(repeat('decoder: stalled at frame ' || id || E'\n', 40), 'UTF8') end
  from items where status <> 'pending' and path <> convert_to('$DATA/pg-in1/f000000', 'UTF8');
update items i set last_attempt = a.id from attempts a where a.item_id = i.id and i.last_attempt is null;
insert into results (item_id, attempt_id, kind, value_json, value_json_text, stored_at)
  select i.id, i.last_attempt, 'json', j, j::text, now_ms() from items i,
    lateral (select jsonb_build_object(
      'format', jsonb_build_object('duration_s', 120 + i.id % 300),
      'levels', jsonb_build_object('true_peak_dbtp', -0.5 - (i.id % 60) / 10.0, 'clipped_samples', i.id % 3),
      'loudness', jsonb_build_object('integrated_lufs', -9 - (i.id % 150) / 10.0),
      'silence', jsonb_build_object('ratio', (i.id % 20) / 100.0),
      'damage', jsonb_build_object('damaged', i.last_outcome = 'damaged', 'truncated', false))) x(j)
  where i.status = 'done' and not exists (select 1 from results r where r.item_id = i.id)" >/dev/null
pg_psql "vacuum analyze r.items, r.attempts, r.results" >/dev/null
n=$(pg_psql "select count(*) from r.items")
walls="" rsss=""
for _ in $(seq "$RUNS"); do
	/usr/bin/time -f '%e %M' -o "$DATA/pg-report.time" "$S" report --db "$db" -o "$DATA/pg-report.html" -q
	read -r w m <"$DATA/pg-report.time"
	walls="$walls $(awk -v w="$w" 'BEGIN { printf "%.0f", w * 1000 }')" rsss="$rsss $m"
done
echo "## \`sandrun report\` on a PostgreSQL store of $n items"
echo
echo "This build: $(git -C "$ROOT" rev-parse --short HEAD); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| | median | runs |"
echo "| --- | --- | --- |"
echo "| wall | $(echo "$walls" | median) ms | ${walls# } |"
echo "| max RSS | $(echo "$rsss" | median) kB | ${rsss# } |"
echo
echo "The page: $(stat -c %s "$DATA/pg-report.html") bytes."
