#!/bin/bash
# bench/pg-trigger.sh [BUILD_DIR] — what the maintained counts (schema 6's
# statement triggers on items, store/pg_schema.c) cost a write, on the
# server alone: pgbench runs single-item UPDATEs that move an item between
# (status, outcome) groups, each its own transaction as a claim or a finish
# is, on a store of BENCH_PG_TRIGGER_N (100,000) items, with the counts'
# triggers enabled and disabled (ALTER TABLE ... DISABLE TRIGGER),
# alternating, BENCH_PG_TRIGGER_ROUNDS (3) rounds of BENCH_PG_TRIGGER_S (10)
# seconds each, BENCH_PG_TRIGGER_CLIENTS (2) clients; synchronous_commit off
# (the fsync would hide the CPU) and on (as a claim commits). Prints
# markdown: transactions per second and mean latency per phase.
set -euo pipefail

. "$(dirname "$0")/pg-lib.sh"
bench_pg_enter pg-trigger.sh "${1:-}" "$@"
N=${BENCH_PG_TRIGGER_N:-100000}
ROUNDS=${BENCH_PG_TRIGGER_ROUNDS:-3}
SECS=${BENCH_PG_TRIGGER_S:-10}
CLIENTS=${BENCH_PG_TRIGGER_CLIENTS:-2}
bench_pg_start pg-trigger.sh
[ -x "$PGBIN/pgbench" ] || { echo "bench/pg-trigger.sh: no pgbench in $PGBIN" >&2; exit 3; }

key=$(bench_pg_store t)
pg_psql "insert into t.items (path, spec_key, size, mtime_ns, status, last_outcome, enqueued_at, updated_at)
	select convert_to('$DATA/pg-t/f' || g, 'UTF8'), '$key', 0, 0, 'done', 'ok', t.now_ms(), t.now_ms()
	from generate_series(1, $N) g" >/dev/null
pg_psql "vacuum analyze t.items" >/dev/null
# One item a transaction, between done ok and failed timeout: as a finish
# (or a claim) moves one item from one group to another.
cat >"$DATA/pg-trigger.sql" <<EOF
\\set id random(2, $((N + 1)))
UPDATE t.items SET status = CASE status WHEN 'done' THEN 'failed' ELSE 'done' END,
  last_outcome = CASE status WHEN 'done' THEN 'timeout' ELSE 'ok' END, updated_at = t.now_ms()
  WHERE id = :id;
EOF
phase() { # sync on|off  triggers enable|disable
	pg_psql "alter table t.items $2 trigger item_counts_upd" >/dev/null
	PGOPTIONS="-c synchronous_commit=$1" "$PGBIN/pgbench" -h "$PG_DIR" -U sandrun -n -c "$CLIENTS" -j "$CLIENTS" \
		-T "$SECS" -f "$DATA/pg-trigger.sql" postgres 2>/dev/null |
		awk '/^latency average/ { l = $4 } /^tps/ { t = $3 } END { printf "%.0f tps, %.3f ms", t, l }'
}
echo "## The maintained counts' cost per write (pgbench, $N items, $CLIENTS clients, ${SECS} s a phase)"
echo
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| synchronous_commit | round | counts' trigger on | off | cost |"
echo "| --- | --- | --- | --- | --- |"
for sync in off on; do
	for r in $(seq "$ROUNDS"); do
		on=$(phase "$sync" enable); off=$(phase "$sync" disable)
		echo "| $sync | $r | $on | $off | $(awk -v a="${on%% *}" -v b="${off%% *}" 'BEGIN { printf "%+.0f %%", (b / a - 1) * 100 }') time per write |"
	done
done
pg_psql "alter table t.items enable trigger item_counts_upd" >/dev/null
# The counts stayed exact while the trigger was on... and are not, after
# the phases without it: this store is a throwaway.
