#!/bin/bash
# tests/suites/scale-pg.sh [BUILD_DIR] — many hosts on one PostgreSQL queue,
# simulated: three runners, each in its own pid and network namespace
# (unshare --pid --net: they share nothing but the server's unix socket, in
# this namespace's private /tmp), work one queue of 120 files with
# --lease-timeout 3s, while
#   * runner A is SIGKILLed mid-run (its namespace dies with it) and a new
#     runner starts in its place;
#   * runner B is SIGSTOPped until the others have judged it lost, then
#     SIGCONTed: each of its finishes gets STORE_ESTALE, which it says on
#     stderr, and writes nothing over the new owner's attempt; it says it
#     was judged lost, stops its jobs, and claims again under a new run:
#     it goes on working and ends well (exit 0);
#   * the server itself is restarted once mid-run, before B's stop (stopped fast, every
#     session terminated, started 1 s later): every runner rides through
#     it (docs/scale-out.md "When PostgreSQL is down": no claims meanwhile,
#     running jobs' ends kept, reconnect, written) and none is judged lost
#     for it.
# Then, in psql: every item done with exactly one ok attempt and one result;
# every attempt closed; the runner_lost attempts exactly the leases A and B
# really lost; nothing running, every run ended; the maintained counts
# exact.
# Without PostgreSQL server binaries the suite is a visible TAP skip.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build/test}
B=$(realpath "$B")
. tests/lib/pg.sh
pg_suite_start
pg_suite_workdir
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
N=0 FAILED=0
result() { # ok|fail description [detail]
	N=$((N + 1))
	if [ "$1" = ok ]; then echo "ok $N - $2"; else
		echo "not ok $N - $2"; printf '%s\n' "${3:-}" | sed 's/^/#   /'; FAILED=$((FAILED + 1)); fi
}
q() { pg_psql "set search_path = sandrun; $*"; }
wait_for() { pg_wait_for "$1" "set search_path = sandrun; $2"; }
echo "1..11"

FILES=120
mkdir "$W/in"
for i in $(seq 1 $FILES); do echo "file $i" >"$W/in/f$i"; done
# runner NAME: one runner in its own pid and network namespace; --kill-child:
# killing unshare kills the runner (pid 1 there) and its namespace.
runner() {
	unshare --pid --net --fork --kill-child "$B/sandrun" run --db "$PG_URI" --lease-timeout 3s \
		-j 2 -q --cmd 'sh -c "sleep 0.2; wc -c"' --output text "$W"/in/* \
		>"$W/$1.out" 2>"$W/$1.err" &
	echo $! >"$W/$1.pid"
	PIDS="$PIDS $!"
}
# The runner itself: unshare's only child.
runner_pid() { cat "/proc/$(cat "$W/$1.pid")/task/$(cat "$W/$1.pid")/children" | tr -d ' '; }

start=$SECONDS
runner a
wait_for 20 "select count(*) = 1 from runs" || true
runner b
wait_for 20 "select count(*) = 2 from runs" || true
runner c
wait_for 30 "select count(*) >= 20 from items where status = 'done'" ||
	result fail "the runners get going" "$(cat "$W"/*.err)"

# A: SIGKILLed mid-run; its open attempts are the leases it loses.
kill -KILL "$(cat "$W/a.pid")"; { wait "$(cat "$W/a.pid")"; } 2>/dev/null
a_lost=$(q "select count(*) from attempts where run_id = 1 and (ended_at is null or outcome = 'runner_lost')")
runner a2

# The server restarted mid-run, with files left to do, once A2 works.
wait_for 20 "select count(*) >= 1 from attempts where run_id = 4 and ended_at is not null" || true
left=$(q "select count(*) from items where status <> 'done'")
pg_server_down; sleep 1; pg_server_up

# B: stopped past the lease timeout, until another runner ends its run as lost.
bpid=$(runner_pid b)
kill -STOP "$bpid"
if wait_for 20 "select how = 'lost' from runs where id = 2"; then
	result ok "a stopped runner is judged lost after --lease-timeout 3s"
else
	result fail "a stopped runner is judged lost after --lease-timeout 3s" "$(q "select * from runs")"
fi
b_lost=$(q "select count(*) from attempts where run_id = 2 and outcome = 'runner_lost'")
kill -CONT "$bpid"

for r in b c a2; do
	p=$(cat "$W/$r.pid")
	end=$((SECONDS + 60))
	while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
	wait "$p"; eval "rc_$r=\$?"
done
elapsed=$((SECONDS - start))
echo "# $FILES files, 3 runners (+1 restarted): ${elapsed}s; A lost $a_lost leases, B $b_lost"
echo "# the resumed runner B (exit $rc_b) said:"; sed 's/^/#   /' "$W/b.err"

# B learnt it on its first finish or heartbeat: STORE_ESTALE for each lease
# it lost, said on stderr, nothing written; then it rejoined as a new run
# (its own argv, so the runs row of the same process) and worked on.
b_said=$(grep -c "the lease of attempt [0-9]* was taken back" "$W/b.err")
b_new=$(q "select count(*) from runs r where r.id > 2 and r.argv::text = (select argv::text from runs where id = 2)
	and r.how = 'completed'")
b_work=$(q "select count(*) from attempts a join runs r on r.id = a.run_id where r.id > 2
	and r.argv::text = (select argv::text from runs where id = 2) and r.pid = (select pid from runs where id = 2)
	and r.pid_ns = (select pid_ns from runs where id = 2) and a.outcome = 'ok'")
[ "$b_lost" -ge 1 ] && [ "$b_said" = "$b_lost" ] && [ "$rc_b" = 0 ] && [ "$b_new" -ge 1 ] && [ "$b_work" -ge 1 ] &&
	grep -q "run 2 was judged lost .*claiming again as run [0-9]" "$W/b.err" &&
	result ok "the resumed runner reports each lost lease ($b_said), rejoins as a new run, works on ($b_work ok) and ends well" ||
	result fail "the resumed runner reports each lost lease, rejoins as a new run, works on and ends well" \
		"lost=$b_lost said=$b_said rc=$rc_b new runs=$b_new ok in them=$b_work: $(cat "$W/b.err")"
[ "$rc_c" = 0 ] && [ "$rc_a2" = 0 ] && result ok "the other runners end well" ||
	result fail "the other runners end well" "c=$rc_c a2=$rc_a2: $(cat "$W/c.err" "$W/a2.err")"
# Each of them lost its connection in the restart (said on stderr, -q or
# not) and went on; no run was judged lost but A's and B's.
rode=0
for r in b c a2; do grep -q "claiming nothing until the database is back" "$W/$r.err" && rode=$((rode + 1)); done
v=$(q "select count(*) from runs where how = 'lost'")
[ "$rode" = 3 ] && [ "$v" = 2 ] && [ "${left:-0}" -gt 0 ] &&
	result ok "all three runners ride through the server restart ($left files left at it); no run judged lost for it" ||
	result fail "all three runners ride through the server restart" \
		"rode=$rode of 3, lost runs=$v (expected 2), left=${left:-?}: $(cat "$W/b.err" "$W/c.err" "$W/a2.err")"

v=$(q "select count(*) filter (where status = 'done'), count(*) from items")
[ "$v" = "$FILES|$FILES" ] && result ok "every item done" || result fail "every item done" "$v"
v=$(q "select (select count(*) from items i where (select count(*) from attempts a where
	a.item_id = i.id and a.outcome = 'ok') <> 1), (select count(*) from results),
	(select count(*) from items i where not exists (select 1 from results r where r.item_id = i.id
	and r.attempt_id = (select a.id from attempts a where a.item_id = i.id and a.outcome = 'ok')))")
[ "$v" = "0|$FILES|0" ] && result ok "exactly one ok attempt and one result (its own) per item" ||
	result fail "exactly one ok attempt and one result (its own) per item" "$v"
v=$(q "select (select count(*) from attempts where ended_at is null),
	(select count(*) from items where status = 'running'), (select count(*) from runs where ended_at is null),
	(select count(*) from attempts where outcome = 'runner_lost'),
	(select count(*) from attempts where run_id = 1 and outcome = 'runner_lost')")
[ "$v" = "0|0|0|$((a_lost + b_lost))|$a_lost" ] &&
	result ok "every attempt closed, nothing running, runner_lost = the leases lost ($a_lost + $b_lost)" ||
	result fail "every attempt closed, nothing running, runner_lost = the leases lost" \
		"open|running|runs open|lost|lost of A = $v; expected 0|0|0|$((a_lost + b_lost))|$a_lost"
[ "$elapsed" -lt 60 ] && result ok "done in ${elapsed}s (< 60 s)" || result fail "done in ${elapsed}s (< 60 s)"
# The maintained counts (schema 6) after all that: exact, row for row.
v=$(q "select count(*) from (select spec_key, status, coalesce(last_outcome, '') as outcome,
	count(*) as n from items group by 1, 2, 3) a full join (select spec_key, status, outcome,
	sum(n) as n from item_counts group by 1, 2, 3 having sum(n) <> 0) b
	using (spec_key, status, outcome) where a.n is distinct from b.n")
shards=$(q "select count(distinct shard) from item_counts")
[ "$v" = 0 ] && result ok "the maintained counts equal count(*) by group ($shards shards written)" ||
	result fail "the maintained counts equal count(*) by group" "groups differing: $v"

# Wake-ups (LISTEN/NOTIFY): runner B, in its own namespaces, is idle with a
# free slot (its one file sleeps 10 s; nothing else is pending: it waits).
# Three times, runner A (other namespaces) queues two files; B must start
# one of them within 1 s of the queueing, in database time (items.enqueued_at
# to attempts.started_at). Without the wake-up B would look again only at its
# 5 s poll (QUEUE_RECHECK_MS).
WURI=$(pg_uri_schema wake)
mkdir "$W/wake"
CMD='sh -c "read s; sleep \$s; echo slept \$s"'
echo 10 >"$W/wake/b-hold"
unshare --pid --net --fork --kill-child "$B/sandrun" run --db "$WURI" -j 2 -q --cmd "$CMD" \
	--output text "$W/wake/b-hold" >"$W/wb.out" 2>"$W/wb.err" &
wb=$!; PIDS="$PIDS $wb"
wq() { pg_psql "set search_path = wake; $*"; }
end=$((SECONDS + 20))
until [ "$(wq "select count(*) from items where status = 'running'" 2>/dev/null)" = 1 ] || [ $SECONDS -ge $end ]; do sleep 0.1; done
sleep 1 # B has looked at the queue and found nothing more: idle
wa=""
for i in 1 2 3; do
	echo 2 >"$W/wake/a-hold-$i"; echo 0 >"$W/wake/new-$i"
	unshare --pid --net --fork --kill-child "$B/sandrun" run --db "$WURI" -j 1 -q --cmd "$CMD" \
		--output text "$W/wake/a-hold-$i" "$W/wake/new-$i" >>"$W/wa.out" 2>>"$W/wa.err" &
	wa="$wa $!"; PIDS="$PIDS $!"
	sleep 2.5
done
for p in $wb $wa; do wait "$p"; done
v=$(wq "select count(*), coalesce(max(a.started_at - i.enqueued_at), -1) from attempts a
	join items i on i.id = a.item_id where a.run_id = 1 and i.path <> convert_to('$W/wake/b-hold', 'UTF8')")
lat=$(wq "select string_agg((a.started_at - i.enqueued_at)::text || ' ms', ', ' order by a.id) from attempts a
	join items i on i.id = a.item_id where a.run_id = 1 and i.path <> convert_to('$W/wake/b-hold', 'UTF8')")
done_n=$(wq "select count(*) from items where status = 'done'")
n=${v%%|*} max=${v##*|}
[ "$n" -ge 3 ] && [ "$max" -ge 0 ] && [ "$max" -lt 1000 ] && [ "$done_n" = 7 ] &&
	result ok "an idle runner starts a file another runner queued within 1 s (NOTIFY): $lat" ||
	result fail "an idle runner starts a file another runner queued within 1 s (NOTIFY)" \
		"B started $n of A's files, latencies: $lat; done=$done_n; $(cat "$W/wb.err" "$W/wa.err")"
# A queue of vanished files (50,000 pending items whose inputs do not
# exist: each claim ends at once as an input error, no job starts): the
# runner still reads its signals between claims (at most ADMIT_BUDGET
# claims per turn) and stops within 2 s of SIGTERM. Before, it claimed the
# whole queue first.
GURI=$(pg_uri_schema gone)
echo 0 >"$W/gone-seed"
"$B/sandrun" run --db "$GURI" -q --cmd /bin/true --output text "$W/gone-seed" >/dev/null 2>&1
pg_psql "set search_path = gone; insert into items (path, spec_key, status, enqueued_at, updated_at)
	select convert_to('$W/gone/f' || g, 'UTF8'), (select spec_key from items limit 1), 'pending', now_ms(), now_ms()
	from generate_series(1, 50000) g" >/dev/null
"$B/sandrun" run --db "$GURI" -q --cmd /bin/true --output text --files-from /dev/null >"$W/gone.out" 2>&1 &
gp=$!
sleep 1
kill -TERM "$gp"
t0=$SECONDS
while kill -0 "$gp" 2>/dev/null && [ $((SECONDS - t0)) -lt 60 ]; do sleep 0.1; done
took=$((SECONDS - t0)); wait "$gp"; grc=$?
left=$(pg_psql "select count(*) from gone.items where status = 'pending'")
[ "$took" -le 2 ] && [ "$grc" = 143 ] && [ "$left" -gt 0 ] &&
	result ok "a runner churning through vanished files stops on SIGTERM within 2 s (exit 143, $left left pending)" ||
	result fail "a runner churning through vanished files stops on SIGTERM within 2 s" "took ${took}s rc=$grc left=$left: $(tail -3 "$W/gone.out")"
[ "$FAILED" -eq 0 ]
