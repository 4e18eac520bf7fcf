#!/bin/bash
# tests/suites/pg-outage.sh [BUILD_DIR] — a lost PostgreSQL connection is
# not a crash (docs/scale-out.md "When PostgreSQL is down"), on a real
# throwaway server (tests/lib/pg.sh):
#   1. the server is stopped (fast: every session terminated) while a runner
#      has jobs running, and started again 3 s later: the runner claims
#      nothing meanwhile, keeps the ends of the jobs that finish, reconnects,
#      writes them (its leases are still its own) and ends with every item
#      done, one ok attempt each, no runner_lost, exit 0;
#   2. runner A is cut off past its --lease-timeout 3s (the server down for
#      4 s, then A's way to its socket kept away a while longer), while
#      runner B, started once the server is back, reclaims A's leases and
#      runs the files: A's kept ends are refused by
#      their fencing tokens and dropped, said on stderr; A rejoins, both
#      exit 0; one ok attempt per item, runner_lost = A's two leases;
#   3. a runner that stays cut off past ten lease timeouts gives up: its
#      jobs stopped, its kept ends dropped (said), exit 4; a later runner's
#      reclaim takes the items back (runner_lost) and finishes them. Its
#      way to the server leads meanwhile to a socket that accepts and never
#      answers: each try ends after 2 s ("no answer"), without blocking;
#   4. a runner still queueing its inputs (--files-from a pipe) loses its
#      store session (pg_terminate_backend, as a failover does; not its
#      wake-up session, whose loss would make it claim first) just before
#      the next paths come: queueing them is what meets the loss; the chunk
#      is kept and queued after the reconnect; every file done, exit 0.
# Without PostgreSQL server binaries the suite is a visible TAP skip.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build/test}
B=$(realpath "$B")
. tests/lib/pg.sh
pg_suite_start
pg_suite_workdir
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
. tests/lib/tap.sh

# pass DESCRIPTION, or fail DESCRIPTION DETAIL (indented below it)
pass() { ok "$1"; }
fail() { not_ok "$1"; printf '%s\n' "$2" | sed 's/^/#   /'; }
# q SCHEMA SQL; wait_for SECONDS SCHEMA SQL (until it returns t)
q() { pg_psql "set search_path = $1; $2"; }
wait_for() { pg_wait_for "$1" "set search_path = $2; $3"; }
# wait_exit PID SECONDS: its exit status (124 when it did not end in time).
wait_exit() {
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
	kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; wait "$1" 2>/dev/null; return 124; }
	wait "$1"
}
# The invariants after a run on SCHEMA with FILES files: every item done,
# exactly one ok attempt each and its result, every attempt closed, and
# each item's attempts count its own counted attempt rows (nothing twice).
invariants() {
	q "$1" "select (select count(*) filter (where status = 'done') from items),
	(select count(*) from items i where (select count(*) from attempts a where a.item_id = i.id
	 and a.outcome = 'ok') <> 1),
	(select count(*) from items i where not exists (select 1 from results r join attempts a
	 on a.id = r.attempt_id where r.item_id = i.id and a.outcome = 'ok')),
	(select count(*) from attempts where ended_at is null),
	(select count(*) from items i where i.attempts <> (select count(*) from attempts a
	 where a.item_id = i.id and a.budget = i.budget and a.counted = 1))"
}
echo "1..10"

# ---- 1. a restart while jobs run ------------------------------------------
mkdir "$W/r"
for i in $(seq 1 8); do echo "file $i" >"$W/r/f$i"; done
"$B/sandrun" run --db "$PG_URI" --lease-timeout 10s -j 2 --cmd 'sh -c "sleep 1.5; wc -c"' \
	--output text "$W"/r/* >"$W/r.out" 2>"$W/r.err" &
rp=$!; PIDS="$PIDS $rp"
if wait_for 30 sandrun "select count(*) = 2 from items where status = 'running'"; then
	pg_server_down; sleep 3; pg_server_up
fi
wait_exit "$rp" 90; rc=$?
kept=$(sed -n 's/.*reconnected to the database after .*; writing \([0-9]*\) kept end.*/\1/p' "$W/r.err" | head -1)
[ "$rc" = 0 ] && grep -q "claiming nothing until the database is back" "$W/r.err" && [ "${kept:-0}" -ge 1 ] &&
	pass "a runner rides through a server restart: said, reconnected, wrote its $kept kept ends, exit 0" ||
	fail "a runner rides through a server restart" "rc=$rc kept=${kept:-none}: $(cat "$W/r.err")"
v=$(invariants sandrun)
lost=$(q sandrun "select count(*) from attempts where outcome = 'runner_lost'")
[ "$v" = "8|0|0|0|0" ] && [ "$lost" = 0 ] &&
	pass "after the restart: 8 done, one ok attempt and its result each, none lost, nothing twice" ||
	fail "after the restart: 8 done, one ok attempt each, none lost" "done|!1 ok|no result|open|miscounted = $v; runner_lost=$lost"
echo "# the runner said:"; sed 's/^/#   /' "$W/r.err"

# ---- 2. cut off past the lease while another runner takes it over -------
# A reaches the server through its own path to the socket directory (a
# symbolic link): removed, A cannot reconnect while B, by the direct path,
# can.
ln -s "$PG_DIR" "$W/asock"
AURI="postgresql:///postgres?host=$W/asock&user=sandrun&options=-c%20sandrun.schema%3Dcut"
BURI=$(pg_uri_schema cut)
mkdir "$W/c"
for i in 1 2 3 4; do echo "cut $i" >"$W/c/f$i"; done
CMD='sh -c "sleep 3; wc -c"'
"$B/sandrun" run --db "$AURI" --lease-timeout 3s -j 2 --cmd "$CMD" --output text "$W"/c/* \
	>"$W/a.out" 2>"$W/a.err" &
ap=$!; PIDS="$PIDS $ap"
bp=
if wait_for 30 cut "select count(*) = 2 from items where status = 'running' and lease_run = 1"; then
	rm "$W/asock"
	pg_server_down; sleep 4; pg_server_up # down past the lease timeout (3 s)
	wait_for 20 cut "select heartbeat_at < now_ms() - 3500 from runs where id = 1" || true
	"$B/sandrun" run --db "$BURI" --lease-timeout 3s -j 2 --cmd "$CMD" --output text \
		--files-from /dev/null >"$W/b.out" 2>"$W/b.err" &
	bp=$!; PIDS="$PIDS $bp"
	wait_for 20 cut "select how = 'lost' from runs where id = 1" || true
	sleep 3 # A's two jobs have ended, their ends kept; A still cut off
	ln -s "$PG_DIR" "$W/asock"
fi
wait_exit "$ap" 90; rc_a=$?
rc_b=none; [ -n "$bp" ] && { wait_exit "$bp" 90; rc_b=$?; }
said=$(grep -c "the lease of attempt [0-9]* was taken back" "$W/a.err")
[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ] && [ "$said" = 2 ] && grep -q "run 1 was judged lost" "$W/a.err" &&
	pass "the cut-off runner's two kept ends are refused (fencing) and said, it rejoins; both exit 0" ||
	fail "the cut-off runner's kept ends are refused and said, it rejoins; both exit 0" \
		"a=$rc_a b=$rc_b said=$said: $(cat "$W/a.err" "$W/b.err" 2>/dev/null)"
v=$(invariants cut)
lost=$(q cut "select count(*) filter (where outcome = 'runner_lost'),
	count(*) filter (where run_id = 1 and outcome = 'runner_lost'), count(*) filter (where run_id = 1)
	from attempts")
[ "$v" = "4|0|0|0|0" ] && [ "$lost" = "2|2|2" ] &&
	pass "4 done, one ok attempt each, A's two leases runner_lost and nothing of them written or counted twice" ||
	fail "4 done, one ok attempt each, runner_lost = A's two leases" \
		"done|!1 ok|no result|open|miscounted = $v; lost|lost of A|A's attempts = $lost"
grep -q "the summary counts this run's own attempts" "$W/a.err" &&
	pass "the run that lost its session's batch says its summary counts its own attempts" ||
	fail "the run that lost its session's batch says its summary counts its own attempts" "$(cat "$W/a.err")"
echo "# runner A said:"; sed 's/^/#   /' "$W/a.err"

# ---- 3. cut off for good: give up, nothing stranded ----------------------
ln -sfn "$PG_DIR" "$W/gsock"
GURI="postgresql:///postgres?host=$W/gsock&user=sandrun&options=-c%20sandrun.schema%3Dgive"
mkdir "$W/g"
for i in 1 2; do echo "give $i" >"$W/g/f$i"; done
"$B/sandrun" run --db "$GURI" --lease-timeout 1s -j 2 --cmd 'sh -c "sleep 1; wc -c"' --output text \
	"$W"/g/* >"$W/g.out" 2>"$W/g.err" &
gp=$!; PIDS="$PIDS $gp"
t0=$SECONDS
mkdir "$W/silent"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64); time.sleep(120)' \
	"$W/silent/.s.PGSQL.5432" &
PIDS="$PIDS $!"
if wait_for 30 give "select count(*) = 2 from items where status = 'running'"; then
	ln -sfn "$W/silent" "$W/gsock"
	t0=$SECONDS
	pg_psql "select pg_terminate_backend(pid) from pg_stat_activity
		where application_name like 'sandrun/%' and pid <> pg_backend_pid()" >/dev/null
fi
wait_exit "$gp" 60; rc=$?
took=$((SECONDS - t0))
dropped=$(grep -c "not recorded, its end dropped: the database stayed unreachable" "$W/g.err")
[ "$rc" = 4 ] && [ "$dropped" = 2 ] && grep -q "giving up on it" "$W/g.err" && [ "$took" -ge 9 ] && [ "$took" -le 30 ] &&
	grep -q "cannot reconnect: no answer within 2 s" "$W/g.err" &&
	pass "cut off for 10 lease timeouts (a server that never answers): gives up after ${took}s, both kept ends dropped and said, exit 4" ||
	fail "cut off for 10 lease timeouts: gives up, kept ends dropped and said, exit 4" \
		"rc=$rc dropped=$dropped took=${took}s: $(cat "$W/g.err")"
v=$(q give "select count(*) from items where status = 'running'")
[ "$v" = 2 ] && pass "its two items stay running under its lease (nothing written)" ||
	fail "its two items stay running under its lease" "running=$v"
# A later runner (same host: the dead one's process is gone) reclaims them.
"$B/sandrun" run --db "$(pg_uri_schema give)" --lease-timeout 1s -j 2 --cmd 'sh -c "sleep 1; wc -c"' \
	--output text "$W"/g/* >"$W/g2.out" 2>"$W/g2.err"
rc2=$?
v=$(invariants give)
lost=$(q give "select count(*) from attempts where outcome = 'runner_lost'")
[ "$rc2" = 0 ] && [ "$v" = "2|0|0|0|0" ] && [ "$lost" = 2 ] &&
	pass "the next runner's reclaim ends them as runner_lost and finishes both, nothing twice" ||
	fail "the next runner's reclaim ends them as runner_lost and finishes both" \
		"rc=$rc2 done|!1 ok|no result|open|miscounted = $v; runner_lost=$lost: $(cat "$W/g2.err")"

# ---- 4. down while queueing ------------------------------------------------
FURI=$(pg_uri_schema feed)
mkdir "$W/q"
for i in $(seq 1 6); do echo "queued $i" >"$W/q/q$i"; done
mkfifo "$W/list"
"$B/sandrun" run --db "$FURI" --lease-timeout 10s -j 2 --cmd 'sh -c "sleep 0.3; wc -c"' --output text \
	--files-from "$W/list" >"$W/f.out" 2>"$W/f.err" &
fp=$!; PIDS="$PIDS $fp"
exec 7>"$W/list"
printf '%s\n' "$W/q/q1" "$W/q/q2" >&7
if wait_for 30 feed "select count(*) = 2 from items where status = 'done'"; then
	sleep 0.5
	pg_psql "select pg_terminate_backend(pid) from pg_stat_activity where application_name
		like 'sandrun/%' and application_name not like '%/listen' and pid <> pg_backend_pid()" >/dev/null
	printf '%s\n' "$W"/q/q[3-6] >&7 # read at once: queueing them meets the dead session
fi
exec 7>&-
wait_exit "$fp" 60; rc=$?
where=$(grep -o 'sandrun.schema%3Dfeed: [a-z ]*:' "$W/f.err" | head -1 | cut -d' ' -f2-)
[ "$rc" = 0 ] && grep -q "claiming nothing until the database is back" "$W/f.err" &&
	[ "$where" = "adding to the batch:" ] &&
	pass "its session lost while a runner queues its list (met $where): it rides through, exit 0" ||
	fail "its session lost while a runner queues its list, met adding to the batch: it rides through, exit 0" \
		"rc=$rc, met in: $where: $(cat "$W/f.err")"
v=$(invariants feed)
[ "$v" = "6|0|0|0|0" ] && pass "all 6 files queued and done, one ok attempt each, nothing twice" ||
	fail "all 6 files queued and done, one ok attempt each" "done|!1 ok|no result|open|miscounted = $v; $(cat "$W/f.err")"
[ "$failed" -eq 0 ]
