#!/bin/bash
# tests/suites/store-pg.sh [BUILD_DIR] — the store on PostgreSQL, against a
# throwaway cluster (tests/lib/pg.sh: initdb/pg_ctl as postgres, unix socket
# only, in this namespace's private /tmp; stopped at the end):
#   1. the store conformance suite (test_store, test_store_leases,
#      test_store_query) with
#      SANDRUN_TEST_PG_URI set: the same tests SQLite passes in make check;
#   2. open failures, each exit 4 with a clear message and nothing changed:
#      no server, bad user, missing database, newer schema;
#   3. a real batch: sandrun run --db postgresql://… then status;
#   4. the query commands give the same output on both backends: one batch
#      (ok, failed on garbage input, a missing input, quarantined) run into
#      an SQLite store and into a PostgreSQL one, then list, show, export
#      and quarantine compared byte for byte after normalizing only what
#      legitimately differs between two runs: wall/cpu/memory measurements
#      and attempt start/end times; then list's paths, globs, --sort,
#      --limit, --since, --run, show of several items and by id, the dry
#      runs of retry, quarantine and forget, the refused quarantine inside
#      the tree, export's filters and formats, forget and gc;
#   5. schema 1 (before results.value_json_text) read as it is by read-only
#      commands and upgraded by the next run; schema 6's counts taken from
#      the items by that upgrade.
# Without PostgreSQL server binaries the whole suite is a visible TAP skip.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build/test}
B=$(realpath "$B")
. tests/lib/pg.sh
pg_suite_start
trap pg_stop EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
N=0 FAILED=0
result() { # ok|fail description [detail]
	N=$((N + 1))
	if [ "$1" = ok ]; then echo "ok $N - $2"; else
		echo "not ok $N - $2"; printf '%s\n' "${3:-}" | sed 's/^/#   /'; FAILED=$((FAILED + 1)); fi
}
echo "1..57"

# 1. conformance: every cmocka result must be ok (or a named skip).
for t in test_store test_store_leases test_store_query test_store_serve; do
	out=$(SANDRUN_TEST_PG_URI=$PG_URI CMOCKA_MESSAGE_OUTPUT=TAP "$B/tests/$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^(ok|not ok)' | sed 's/^/#   /'
	if [ $rc -eq 0 ] && ! printf '%s\n' "$out" | grep -v '# SKIP' | grep -q '^not ok'; then
		result ok "conformance $t on PostgreSQL"
	else
		result fail "conformance $t on PostgreSQL" "$out"
	fi
done

# 2. open failures: exit 4, the cause named.
expect4() { # description grep-pattern args...
	local d=$1 pat=$2; shift 2
	out=$("$B/sandrun" "$@" 2>&1); rc=$?
	if [ $rc -eq 4 ] && printf '%s\n' "$out" | grep -q -- "$pat"; then result ok "$d"
	else result fail "$d" "rc=$rc: $out"; fi
}
expect4 "no server: exit 4, cannot reach" "cannot reach the server" \
	status --db "postgresql:///postgres?host=/nonexistent&user=sandrun"
expect4 "bad user: exit 4, credentials refused" "refused these credentials" \
	status --db "postgresql:///postgres?host=$PG_DIR&user=nobody"
expect4 "missing database: exit 4, named" 'database "nope" does not exist' \
	run --db "postgresql:///nope?host=$PG_DIR&user=sandrun" --cmd /bin/true /etc/hostname
expect4 "no store yet: read-only status exits 4 and creates nothing" "no sandrun store" \
	status --db "$PG_URI"
n=$(pg_psql "select count(*) from pg_namespace where nspname = 'sandrun'")
[ "$n" = 0 ] && result ok "status created no schema" || result fail "status created no schema" "$n"

# 3. a real batch on PostgreSQL.
in=$(mktemp -d); for i in $(seq 1 20); do echo "file $i" >"$in/f$i"; done
printf '\xff' >"$in/bad-$(printf '\x01')name"
out=$("$B/sandrun" run --db "$PG_URI" -j 4 --cmd 'wc -c' --output text "$in"/* 2>&1); rc=$?
[ $rc -eq 0 ] && result ok "sandrun run --db postgresql://… analyzes 21 files" ||
	result fail "sandrun run --db postgresql://… analyzes 21 files" "rc=$rc: $out"
done=$(pg_psql "select count(*) from sandrun.items where status = 'done'")
bad=$(pg_psql "select count(*) from sandrun.items i where i.attempts <> (select count(*) from sandrun.attempts a where a.item_id = i.id and a.budget = i.budget and a.counted = 1)")
host=$(pg_psql "select count(*) from sandrun.runs where hostname <> '' and ended_at is not null and how = 'completed'")
[ "$done" = 21 ] && [ "$bad" = 0 ] && [ "$host" = 1 ] && result ok "21 done, attempts consistent, the run recorded with its host" ||
	result fail "21 done, attempts consistent, the run recorded with its host" "done=$done bad=$bad runs=$host"
out=$("$B/sandrun" status --db "$PG_URI" --json 2>&1); rc=$?
printf '%s\n' "$out" | grep -q '"done": *21' && [ $rc -eq 0 ] && result ok "sandrun status on it" ||
	result fail "sandrun status on it" "rc=$rc: $out"
out=$("$B/sandrun" run --db "$PG_URI" --cmd 'wc -c' --output text "$in"/* 2>&1); rc=$?
n=$(pg_psql "select count(*) from sandrun.attempts")
[ $rc -eq 0 ] && [ "$n" = 21 ] && result ok "a second run leaves done items alone" ||
	result fail "a second run leaves done items alone" "rc=$rc attempts=$n: $out"
out=$(SANDRUN_DB=$PG_URI "$B/sandrun" status --json 2>&1); rc=$?
printf '%s\n' "$out" | grep -q '"done": *21' && [ $rc -eq 0 ] && result ok "SANDRUN_DB is the default of --db" ||
	result fail "SANDRUN_DB is the default of --db" "rc=$rc: $out"
out=$("$B/sandrun" report --db "$PG_URI" -o "$in/r.html" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q 'id="analyzer-none"' "$in/r.html" && grep -qF '>21</b><span>done' "$in/r.html" &&
	result ok "report on PostgreSQL: 21 done, text results (no analyzer charts)" ||
	result fail "report on PostgreSQL: 21 done, text results (no analyzer charts)" "rc=$rc: $out"

# A newer schema is refused, and nothing changes.
pg_psql "update sandrun.meta set value = '99' where key = 'schema_version'"
before=$(pg_psql "select count(*) from sandrun.items; select count(*) from sandrun.runs")
expect4 "newer schema: exit 4, refused" "written by a newer sandrun" run --db "$PG_URI" --cmd /bin/true "$in/f1"
after=$(pg_psql "select count(*) from sandrun.items; select count(*) from sandrun.runs")
[ "$before" = "$after" ] || { result fail "newer schema left unchanged" "$before / $after"; }
rm -rf "$in"

# 4. the same batch into both backends, the query commands compared.
cmp=$(mktemp -d); mkdir "$cmp/in"
for i in 1 2 3; do sox -n -r 8000 -c 1 "$cmp/in/tone$i.wav" synth 0.2 sine $((220 * i)); done
sox -n -r 8000 -c 2 "$cmp/in/caf$(printf '\xe9').wav" synth 0.1 sine 330
head -c 300 /dev/urandom >"$cmp/in/garbage.wav"; printf 'not a flac' >"$cmp/in/garbage.flac"
head -c 1044 "$cmp/in/tone1.wav" >"$cmp/in/cut.wav" # truncated: the outcome damaged
SQ=$cmp/s.db PG=$(pg_uri_schema cmp)
for db in "$SQ" "$PG"; do
	"$B/sandrun" run --db "$db" "$cmp"/in/* "$cmp/in/missing.wav" >"$cmp/run.out" 2>&1; rc=$?
	[ $rc -eq 1 ] || result fail "the comparison batch into $db" "rc=$rc: $(cat "$cmp/run.out")"
done
# Measurements and times differ between any two runs; nothing else may.
norm() {
	sed -E -e 's/"(wall_ms|cpu_ms|peak_memory_bytes)": ?[0-9]+/"\1":N/g' \
		-e 's/"(started_at|ended_at)": ?"[^"]*"/"\1":T/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/T/g' \
		-e 's/wall [0-9.]+ s, cpu [0-9.]+ s, peak memory [0-9.]+ [KMG]?i?B/wall W, cpu C, peak memory M/' \
		-e 's/^([^,"]*,[0-9]*,[0-9]*,[0-9]*),[0-9]*,[0-9]*,[0-9]*,/\1,W,C,M,/' \
		-e 's/"running_since": ?"[^"]*"/"running_since":T/g'
}
same() { # description sandrun-args... (--db is added)
	local d=$1; shift
	"$B/sandrun" "$@" --db "$SQ" >"$cmp/sq.out" 2>&1; local rs=$?
	"$B/sandrun" "$@" --db "$PG" >"$cmp/pg.out" 2>&1; local rp=$?
	norm <"$cmp/sq.out" >"$cmp/sq.norm"; norm <"$cmp/pg.out" >"$cmp/pg.norm"
	if [ $rs -eq $rp ] && [ -s "$cmp/sq.out" ] && cmp -s "$cmp/sq.norm" "$cmp/pg.norm"; then
		result ok "same on both backends: $d"
	else
		result fail "same on both backends: $d" "rc sqlite=$rs postgresql=$rp
$(diff "$cmp/sq.norm" "$cmp/pg.norm" | head -20)"
	fi
}
# quarantine --copy into the same directory, emptied in between: both
# stores record the same destinations.
"$B/sandrun" quarantine "$cmp/q" --copy --outcome bad_input --db "$SQ" >"$cmp/q-sq.out" 2>&1; rs=$?
rm -rf "$cmp/q"
"$B/sandrun" quarantine "$cmp/q" --copy --outcome bad_input --db "$PG" >"$cmp/q-pg.out" 2>&1; rp=$?
[ $rs -eq 0 ] && [ $rp -eq 0 ] && [ "$(grep -c '^copied' "$cmp/q-pg.out")" = 2 ] &&
	cmp -s "$cmp/q-sq.out" "$cmp/q-pg.out" && result ok "same on both backends: quarantine --copy" ||
	result fail "same on both backends: quarantine --copy" "rc $rs $rp: $(cat "$cmp/q-sq.out" "$cmp/q-pg.out")"
same "list" list
same "list --status failed" list --status failed
same "list --outcome bad_input" list --outcome bad_input
same "list --outcome damaged" list --outcome damaged
same "list --json" list --json
same "show of an ok item" show "$cmp/in/tone2.wav"
same "show of a quarantined item" show "$cmp/in/garbage.wav"
same "show --json of a non-UTF-8 name" show --json "$cmp/in/caf$(printf '\xe9').wav"
same "export (json)" export
same "export --format csv" export --format csv
# Issue 15 items 12 and 13: every new choice gives the same rows on both.
same "list GLOB --sort size --limit 3" list "$cmp/in/*.wav" --sort size --limit 3
same "list DIR --sort outcome" list "$cmp/in" --sort outcome
same "list --sort mtime -n 2" list --sort mtime -n 2
same "list --since 1h --run 1 --json" list --since 1h --run 1 --json
same "show of two items" show "$cmp/in/tone1.wav" "$cmp/in/garbage.flac"
same "show --json of two items (an array)" show --json "$cmp/in/tone3.wav" "$cmp/in/missing.wav"
same "show --id" show --id 2
same "retry --dry-run" retry --dry-run
same "retry --dry-run --json PATH..." retry --dry-run --json "$cmp/in/garbage.wav" "$cmp/in/tone1.wav"
same "quarantine --dry-run" quarantine "$cmp/qd" --dry-run
same "quarantine into the analyzed tree: refused" quarantine "$cmp/in/q"
same "export --all --format csv" export --all --format csv
same "export --failed --format jsonl" export --failed --format jsonl
same "forget --dry-run GLOB" forget --dry-run "$cmp/in/garbage.*"
same "forget PATH" forget --json "$cmp/in/tone3.wav"
same "list after forget" list
out=$("$B/sandrun" gc --json --db "$SQ" 2>&1 && "$B/sandrun" gc --json --db "$PG" 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c '"bytes_after": *[1-9]')" = 2 ] &&
	result ok "gc on both backends" || result fail "gc on both backends" "rc=$rc: $out"
same "list after gc: nothing lost" list --json

# report: the same page from both stores. What legitimately differs
# between the two runs (measurements, times) is first set to the same
# values in both, by item; then only the store's name and the time the
# page was written may differ.
for sql in "update attempts set wall_ms = 40 + 37 * item_id, peak_memory_bytes = 1048576 * (3 + item_id)
	where wall_ms is not null" \
	"update runs set started_at = 1700000000000 + 60000 * id, heartbeat_at = 1700000005000 + 60000 * id,
	ended_at = case when ended_at is not null then 1700000005000 + 60000 * id end"; do
	sqlite3 "$SQ" "$sql"; pg_psql "set search_path = cmp; $sql" >/dev/null
done
pnorm() { S=$2 perl -pe 's/ · written [^<]*</ · written T</; s/\Q$ENV{S}\E/STORE/g' "$1"; }
TZ=UTC "$B/sandrun" report --db "$SQ" -o "$cmp/sq.html" 2>"$cmp/rs.err"; rs=$?
TZ=UTC "$B/sandrun" report --db "$PG" -o "$cmp/pg.html" 2>"$cmp/rp.err"; rp=$?
pnorm "$cmp/sq.html" "$SQ" >"$cmp/sq.hnorm"; pnorm "$cmp/pg.html" "${PG//&/&amp;}" >"$cmp/pg.hnorm"
if [ $rs -eq 0 ] && [ $rp -eq 0 ] && grep -q 'id="chart-truepeak"' "$cmp/pg.html" &&
	grep -q 'id="fail-bad_input-list"' "$cmp/pg.html" && cmp -s "$cmp/sq.hnorm" "$cmp/pg.hnorm"; then
	result ok "same on both backends: report (the whole page: charts, lists, runs)"
else
	result fail "same on both backends: report (the whole page: charts, lists, runs)" "rc sqlite=$rs postgresql=$rp $(cat "$cmp/rs.err" "$cmp/rp.err")
$(diff "$cmp/sq.hnorm" "$cmp/pg.hnorm" | head -20)"
fi
if command -v chromium >/dev/null 2>&1; then
	prof=$(mktemp -d)
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir="$prof" --enable-logging=stderr --v=0 \
		--dump-dom "file://$cmp/pg.html" >"$cmp/pg.dom" 2>"$cmp/pg.log"; rc=$?
	rm -rf "$prof"
	errs=$(grep -E 'CONSOLE|Uncaught|Refused to' "$cmp/pg.log" | head -3)
	[ $rc -eq 0 ] && [ -z "$errs" ] && grep -q 'data-load-ms' "$cmp/pg.dom" && grep -q 'id="chart-scatter"' "$cmp/pg.dom" &&
		result ok "the PostgreSQL store's report renders in Chromium (no console message, its script ran)" ||
		result fail "the PostgreSQL store's report renders in Chromium" "rc=$rc: $errs"
else
	N=$((N + 1)); echo "ok $N # SKIP Chromium not installed: the PostgreSQL store's report in a browser"
fi

# 5. schema 1: results without value_json_text. Read-only commands read it
# as it is (JSON results in jsonb's own text); the next run upgrades it.
pg_psql "alter table cmp.results drop column value_json_text; alter table cmp.attempts drop column output_head; update cmp.meta set value = '1' where key = 'schema_version'"
# (and without schema 6's maintained counts: the upgrade counts every item)
pg_psql "set client_min_messages = warning; drop table cmp.item_counts; drop function cmp.item_counts_apply() cascade; drop function cmp.item_counts_truncate() cascade; drop function cmp.item_count_shard(); drop index cmp.items_delayed"
st_old=$("$B/sandrun" status --db "$PG" 2>&1 | grep -v '^store\|^last run')
out=$("$B/sandrun" export --db "$PG" 2>&1); rc=$?
# (three done items: tone3 was forgotten above)
[ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c '"schema": *1')" -ge 3 ] &&
	[ "$(pg_psql "select value from cmp.meta where key = 'schema_version'")" = 1 ] &&
	result ok "schema 1: export reads it, changes nothing" || result fail "schema 1: export reads it, changes nothing" "rc=$rc: $out"
"$B/sandrun" run --db "$PG" "$cmp"/in/tone1.wav >/dev/null 2>&1; rc=$?
v=$(pg_psql "select value from cmp.meta where key = 'schema_version'; select count(*) from information_schema.columns where table_schema = 'cmp' and column_name in ('value_json_text', 'output_head', 'queue_seq', 'not_before')")
[ $rc -eq 0 ] && [ "$v" = "$(printf '6\n4')" ] && result ok "schema 1 upgraded to 6 by the next run (value_json_text, output_head, queue_seq, not_before, counts)" ||
	result fail "schema 1 upgraded to 6 by the next run (value_json_text, output_head, queue_seq, not_before, counts)" "rc=$rc: $v"
# Schema 6: the upgrade counted the existing items, and status (from the
# counts now) prints what it printed from the items before.
diff=$(pg_psql "select count(*) from (select spec_key, status, coalesce(last_outcome, '') as outcome, count(*) as n from cmp.items group by 1, 2, 3) a full join (select spec_key, status, outcome, sum(n) as n from cmp.item_counts group by 1, 2, 3 having sum(n) <> 0) b using (spec_key, status, outcome) where a.n is distinct from b.n")
st_new=$("$B/sandrun" status --db "$PG" 2>&1 | grep -v '^store\|^last run')
[ "$diff" = 0 ] && [ -n "$st_old" ] && [ "$st_old" = "$st_new" ] && result ok "schema 6 upgrade: the maintained counts equal count(*) by group; status prints the same" ||
	result fail "schema 6 upgrade: the maintained counts equal count(*) by group; status prints the same" "groups differing: $diff; before: $st_old; after: $st_new"
# A change made by hand (psql, another search path) is counted too: rolled back after the check.
diff_sql="select count(*) from (select spec_key, status, coalesce(last_outcome, '') as outcome, count(*) as n from cmp.items group by 1, 2, 3) a full join (select spec_key, status, outcome, sum(n) as n from cmp.item_counts group by 1, 2, 3 having sum(n) <> 0) b using (spec_key, status, outcome) where a.n is distinct from b.n"
hand=$("$PGBIN/psql" "host=$PG_DIR user=sandrun dbname=postgres" -v ON_ERROR_STOP=1 -Atq 2>&1 <<EOF
begin;
update cmp.items set status = 'failed', last_outcome = 'timeout' where status = 'done';
delete from cmp.results; delete from cmp.attempts; delete from cmp.items where id = (select min(id) from cmp.items);
$diff_sql;
select count(*) > 0 from cmp.items where status = 'failed' and last_outcome = 'timeout';
rollback;
EOF
)
[ "$hand" = "$(printf '0\nt')" ] && result ok "schema 6: changes made by hand in psql (update, delete) are counted" ||
	result fail "schema 6: changes made by hand in psql (update, delete) are counted" "$hand"
# Schema 3: a job's non-JSON stdout is kept with its attempt (its head) and
# shown, escaped, by show on both backends alike.
printf 'one\n' >"$cmp/in/words.txt"
for d in "$SQ" "$PG"; do
	"$B/sandrun" run --db "$d" --new-spec --cmd 'printf "not json\033[2J\n"' "$cmp/in/words.txt" >/dev/null 2>&1
done
# (The run ids differ: the PostgreSQL store had one run more.)
head_sq=$("$B/sandrun" show --db "$SQ" "$cmp/in/words.txt" 2>&1 | sed -n '/stdout (first/,/stderr/p')
head_pg=$("$B/sandrun" show --db "$PG" "$cmp/in/words.txt" 2>&1 | sed -n '/stdout (first/,/stderr/p')
[ -n "$head_pg" ] && [ "$head_sq" = "$head_pg" ] && printf '%s\n' "$head_pg" | grep -qF '| not json\x1b[2J' &&
	result ok "same on both backends: show of a bad_output item prints its stdout's head, escaped" ||
	result fail "same on both backends: show of a bad_output item prints its stdout's head, escaped" \
		"sqlite: $head_sq / postgresql: $head_pg"
# --lease-timeout: taken on PostgreSQL, ignored on SQLite, 0 refused. Its
# effect (runners judged lost) is tests/suites/scale-pg.sh.
out=$("$B/sandrun" run --lease-timeout 0 --db "$PG" "$cmp/in/tone1.wav" 2>&1); rc=$?
[ $rc -eq 2 ] && printf '%s\n' "$out" | grep -q "for --lease-timeout" &&
	result ok "--lease-timeout 0: usage error" || result fail "--lease-timeout 0: usage error" "rc=$rc: $out"
out=$("$B/sandrun" run --lease-timeout 5s --db "$PG" "$cmp/in/tone1.wav" 2>&1 &&
	"$B/sandrun" run --lease-timeout 5s --db "$SQ" "$cmp/in/tone1.wav" 2>&1); rc=$?
[ $rc -eq 0 ] && result ok "--lease-timeout 5s on both backends" || result fail "--lease-timeout 5s on both backends" "rc=$rc: $out"
# A lease stranded under a run that had already ended (its finish failed,
# then the run ended): the next run's reclaim ends the attempt as
# runner_lost and runs the file again; nothing stays running.
it=$(pg_psql "select id from cmp.items where status = 'done' order by id limit 1")
rid=$(pg_psql "select max(id) from cmp.runs where ended_at is not null")
pg_psql "with a as (insert into cmp.attempts (item_id, run_id, budget, attempt_no, counted, started_at)
	select id, $rid, budget, attempts + 1, 1, (extract(epoch from now()) * 1000)::bigint from cmp.items where id = $it returning id)
	update cmp.items set status = 'running', attempts = attempts + 1, lease_run = $rid,
	lease_attempt = (select id from a), lease_pid = 1, lease_pid_start = 1,
	lease_heartbeat_at = (extract(epoch from now()) * 1000)::bigint where id = $it" >/dev/null
"$B/sandrun" run --db "$PG" --force "$cmp"/in/tone1.wav >/dev/null 2>&1
v=$(pg_psql "select count(*) from cmp.items where status = 'running'; select count(*) from cmp.attempts where item_id = $it and outcome = 'runner_lost' and ended_at is not null")
[ "$v" = "$(printf '0\n1')" ] && result ok "a lease left under an ended run is reclaimed (runner_lost), nothing stays running" ||
	result fail "a lease left under an ended run is reclaimed (runner_lost), nothing stays running" "$v"
# A password never reaches runs.argv or a message: given in the URI (the
# trust cluster ignores it), percent-encoded as libpq also reads it, or
# malformed (libpq repeats the bad token in its error).
pw="$PG&password=S3cretOne"
pw2="$PG&%70assword=S3cretTwo"
o1=$(SANDRUN_DB="$pw2" "$B/sandrun" run "$cmp/in/tone1.wav" 2>&1)
o2=$("$B/sandrun" run --db "$pw" "$cmp/in/tone1.wav" 2>&1)
bad=$("$B/sandrun" status --db "$PG_URI&password=S3cr%zzet" 2>&1); rc=$?
argvs=$(pg_psql "select string_agg(argv::text, ' ') from cmp.runs")
case "$argvs$bad" in
*S3cret* | *S3cr%zzet*) result fail "no password in runs.argv or a message" "$argvs / $bad" ;;
*) [ $rc -eq 4 ] && printf '%s' "$argvs" | grep -q 'password=\*\*\*' &&
	result ok "no password in runs.argv or a message" ||
	result fail "no password in runs.argv or a message" "rc=$rc: $argvs / $bad / $o1 / $o2" ;;
esac

# 6. sandrun serve on PostgreSQL (docs/serve.md): a submission is an item
# with its client's identity; the query commands see it.
PS=$(pg_uri_schema served)
"$B/sandrun" serve --socket "$cmp/s.sock" --db "$PS" --spool "$cmp/spool" --cmd cat --output text -q 2>"$cmp/serve.log" &
spid=$!
for _ in $(seq 100); do "$B/sandrun" submit --socket "$cmp/s.sock" --stats >/dev/null 2>&1 && break; sleep 0.1; done
echo "served on PostgreSQL" >"$cmp/f"
out=$("$B/sandrun" submit --socket "$cmp/s.sock" --wait --json "$cmp/f" 2>&1); rc=$?
kill "$spid"; wait "$spid"; src=$?
who=$(pg_psql "select client_uid, client_pid > 0, queue_seq, status from served.items")
n=$("$B/sandrun" list --db "$PS" | grep -c "^done ")
[ $rc -eq 0 ] && [ $src -eq 0 ] && [ "$n" = 1 ] && [ "$who" = "0|t|1|done" ] &&
	printf '%s' "$out" | grep -q '"result":"served on PostgreSQL\\n"' &&
	result ok "serve on PostgreSQL: submit --wait, the item with its client, list sees it" ||
	result fail "serve on PostgreSQL: submit --wait, the item with its client, list sees it" \
		"rc=$rc serve=$src n=$n who=$who: $out $(cat "$cmp/serve.log")"
rm -rf "$cmp"
[ "$FAILED" -eq 0 ]
