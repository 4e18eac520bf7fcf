#!/usr/bin/env bats
# tests/cli/store.bats — the store's query commands (status, list, show,
# retry, export, quarantine, report) and databases a command must refuse: garbage,
# truncated, from a newer sandrun, locked too long, on a read-only path, on
# a full file system. Runs as root inside the outer test namespace
# (tests/lib/outer-ns.sh), so it may mount tmpfs.
#
# Stores are seeded through the store's own functions by
# $SANDRUN_BUILD/tests/test_store seed DB OUTCOME=PATH...

bats_require_minimum_version 1.5.0

setup() {
	B=${SANDRUN_BUILD:?SANDRUN_BUILD must point to the build directory}
	SANDRUN=$B/sandrun
	SEED=$B/tests/test_store
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/media/sub"
	cd "$W"
	for f in a b c d e; do head -c 1000 /dev/urandom >"media/$f.wav"; done
	echo tiny >media/sub/f.wav
	export SANDRUN_DB_BUSY_TIMEOUT_MS=400
}

teardown() {
	cd /
	for m in "$W/ro" "$W/full"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	true
}

seed_store() { # DB
	"$SEED" seed "$1" ok="$W/media/a.wav" timeout="$W/media/b.wav" \
		exit_nonzero="$W/media/c.wav" signaled="$W/media/sub/f.wav" \
		pending="$W/media/d.wav" input_error="$W/media/missing.wav" \
		running="$W/media/e.wav"
}

json() { # PYTHON-EXPRESSION over `d` (stdin parsed as JSON)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# ---- outputs ---------------------------------------------------------------

@test "status counts by status and outcome, text and JSON" {
	seed_store sandrun.db
	run "$SANDRUN" status
	[ "$status" -eq 0 ]
	[[ "$output" == *"items      7: 1 pending, 1 running"* ]]
	[[ "$output" == *"1 done, 4 failed"* ]]
	[[ "$output" == *"dead runner"* ]]
	[[ "$output" == *"timeout 1"* ]]
	[[ "$output" == *"last run   #1"*", completed; 4 attempts finished, "* ]]
	run "$SANDRUN" status --json --db sandrun.db
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json 'd["items"]["failed"], d["outcomes"]["signaled"], d["attempts"]["total"], d["last_run"]["how"]')" = "4 1 5 completed" ]
	[ "$(echo "$output" | json 'd["items"]["running_orphaned"], d["attempts"]["wall_ms"]["max"]')" = "1 120" ]
}

@test "status: a lost run reads as the run lost, not as attempts lost" {
	seed_store sandrun.db
	sqlite3 sandrun.db "UPDATE runs SET how = 'lost'"
	run "$SANDRUN" status
	[ "$status" -eq 0 ]
	[[ "$output" == *"last run   #1"*", lost (its runner died without ending it); 4 attempts finished, "* ]]
	[[ "$output" != *"lost: "* ]]
}

@test "list: one line per item with its error, filters, JSON Lines" {
	seed_store sandrun.db
	run "$SANDRUN" list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 7 ]
	[[ "${lines[1]}" == "failed  timeout        1  $W/media/b.wav: wall-clock timeout after 0.1 s" ]]
	run "$SANDRUN" list --status failed --outcome exit_nonzero
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"media/c.wav: exited with status 3" ]]
	run "$SANDRUN" list --json --status done
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(echo "$output" | json 'd["status"], d["attempts"], d["exit_code"], d["wall_ms"], d["peak_memory_bytes"], d["result"]["lufs"], d["error"]')" = "done 1 0 120 1048576 -23.5 None" ]
	run "$SANDRUN" list --json --outcome signaled
	[ "$(echo "$output" | json 'd["signal"], d["exit_code"], d["outcome"]')" = "11 None signaled" ]
}

@test "list and status refuse bad options with exit 2" {
	seed_store sandrun.db
	run "$SANDRUN" list --status sleeping
	[ "$status" -eq 2 ]
	[[ "$output" == *"--status 'sleeping'"* ]]
	run "$SANDRUN" list --outcome melted
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown outcome"* ]]
	run "$SANDRUN" status --frobnicate
	[ "$status" -eq 2 ]
	run "$SANDRUN" status extra
	[ "$status" -eq 2 ]
	run "$SANDRUN" show
	[ "$status" -eq 2 ]
	run "$SANDRUN" export --format xml
	[ "$status" -eq 2 ]
	run "$SANDRUN" quarantine
	[ "$status" -eq 2 ]
	run "$SANDRUN" status --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: sandrun status"* ]]
}

@test "show: every attempt with its stderr tail (escaped), and the result" {
	seed_store sandrun.db
	run "$SANDRUN" show media/b.wav
	[ "$status" -eq 0 ]
	[[ "$output" == *"status failed, last outcome timeout"* ]]
	[[ "$output" == *"attempt 1 (run 1)"*": timeout"* ]]
	[[ "$output" == *'| error: \x1b[31mbad frame\x1b[0m at 12'* ]]
	# No raw escape byte from the job reaches the terminal.
	! printf '%s' "$output" | grep -q $'\x1b'
	run "$SANDRUN" show --json "$W/media/a.wav"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json 'd["result"]["size"], len(d["history"]), d["history"][0]["outcome"], d["history"][0]["stderr_tail"].startswith("decoding")')" = "1000 1 ok True" ]
	run "$SANDRUN" show media/nothere.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"nothere.wav is not in the store"* ]]
}

@test "show: a name with a newline that is not in the store is shown escaped (\\n), on one line" {
	seed_store sandrun.db
	run "$SANDRUN" show "$W/media/no"$'\n'"such.wav"
	[ "$status" -eq 1 ]
	[[ "$output" == *"show: $W/media/no\\nsuch.wav is not in the store"* ]]
}

@test "report says where it wrote the page, on stderr; -q says nothing" {
	seed_store sandrun.db
	run --separate-stderr "$SANDRUN" report -o out.html
	[ "$status" -eq 0 ]
	[ -s out.html ]
	[ -z "$output" ]
	[ "$stderr" = "sandrun: report written to out.html" ]
	run --separate-stderr "$SANDRUN" report -q -o quiet.html
	[ "$status" -eq 0 ]
	[ -s quiet.html ]
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "retry: failed back to pending with a fresh budget" {
	seed_store sandrun.db
	run "$SANDRUN" retry --outcome timeout
	[ "$status" -eq 0 ]
	[ "$output" = "1 item back to pending" ]
	run "$SANDRUN" list --json --status pending
	[[ "$output" == *"media/b.wav\",\"status\":\"pending\",\"outcome\":\"timeout\",\"attempts\":0"* ]]
	run "$SANDRUN" retry media/c.wav media/a.wav media/nothere.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"1 item back to pending"* ]]
	[[ "$output" == *"a.wav: done, not failed"* ]]
	[[ "$output" == *"nothere.wav: not in the store"* ]]
	run "$SANDRUN" retry --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json 'd["reset"]')" = 2 ]  # signaled + input_error
	run "$SANDRUN" status --json
	[ "$(echo "$output" | json 'd["items"]["failed"], d["items"]["pending"]')" = "0 5" ]
}

@test "export: results of done items as JSON or CSV, atomically to a file" {
	seed_store sandrun.db
	run "$SANDRUN" export
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json 'len(d), d[0]["result"]["tags"], d[0]["attempts"]')" = "1 ['a', 'b'] 1" ]
	run "$SANDRUN" export --format csv -o out.csv
	[ "$status" -eq 0 ]
	[ "$(head -1 out.csv | tr -d '\r')" = "path,size,mtime_ns,attempts,wall_ms,cpu_ms,peak_memory_bytes,result.size,lufs,formula,tags" ]
	# A result string that a spreadsheet would run as a formula is defused.
	grep -q "\"'=1+1\"" out.csv
	[ "$(python3 -c 'import csv; r=list(csv.reader(open("out.csv"))); print(len(r), r[1][8], r[1][10])')" = '2 -23.5 ["a","b"]' ]
	[ -z "$(ls out.csv.tmp.* 2>/dev/null)" ]
	# An unwritable destination: exit 1, the old file is kept.
	run "$SANDRUN" export -o /proc/nope/out.json
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot create /proc/nope/out.json"* ]]
}

@test "export: CSV of a result with 80,000 keys (collected in linear time), columns in first-appearance order" {
	seed_store sandrun.db
	# The done item's result becomes an object with 80,000 keys, in an order
	# that is not sorted; a linear search per key took 6.9 s on this size.
	python3 - <<'PY'
import json, sqlite3
c = sqlite3.connect("sandrun.db")
d = {"k%05d" % ((i * 7919) % 80000): i for i in range(80000)}
d["path"] = "clash"
c.execute("UPDATE results SET value = ?", (json.dumps(d),))
c.commit()
PY
	run "$SANDRUN" export --format csv -o big.csv
	[ "$status" -eq 0 ]
	python3 - <<'PY'
import csv, sqlite3, json
rows = list(csv.reader(open("big.csv", newline="")))
res = json.loads(sqlite3.connect("sandrun.db").execute("SELECT value FROM results").fetchone()[0])
want = list(res)
fixed = ["path", "size", "mtime_ns", "attempts", "wall_ms", "cpu_ms", "peak_memory_bytes"]
assert len(rows) == 2, len(rows)
hdr = rows[0]
assert hdr[:7] == fixed, hdr[:7]
assert len(hdr) == 7 + 80001, len(hdr)
assert hdr[7:] == [("result." + k if k in fixed else k) for k in want], "column order"
for k in ("k00000", "k00001", "k79999", "path"):
    assert rows[1][7 + want.index(k)] == str(res[k]), k
PY
}

@test "quarantine moves (or copies) failed inputs, keeping relative paths, and records it" {
	seed_store sandrun.db
	run "$SANDRUN" quarantine --outcome signaled --copy q
	[ "$status" -eq 0 ]
	[ -f q/media/sub/f.wav ] && [ -f media/sub/f.wav ]
	run "$SANDRUN" quarantine qq
	[ "$status" -eq 0 ]
	[[ "$output" == *"moved $W/media/b.wav -> $W/qq/media/b.wav"* ]]
	[[ "$output" == *"skipped $W/media/missing.wav: the input no longer exists"* ]]
	[ -f qq/media/b.wav ] && [ ! -e media/b.wav ]
	[ -f qq/media/c.wav ] && [ -f qq/media/sub/f.wav ] && [ ! -e media/sub/f.wav ]
	[ -f media/a.wav ] && [ -f media/d.wav ]  # done and pending stay
	run "$SANDRUN" list --json --outcome timeout
	[ "$(echo "$output" | json 'd["quarantined_to"]')" = "$W/qq/media/b.wav" ]
	# Again: nothing left to move, nothing overwritten.
	run "$SANDRUN" quarantine qq
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 moved, 0 copied, 4 skipped, 0 failed"* ]]
	# An input outside the current directory keeps its absolute path.
	cd /
	run "$SANDRUN" quarantine --db "$W/sandrun.db" --copy "$W/abs" --outcome exit_nonzero
	[ "$status" -eq 0 ]
	[[ "$output" == *"skipped"* ]]  # c.wav was moved above
}

# ---- databases that must be refused ---------------------------------------

@test "a missing database: clear message, exit 4, nothing created" {
	run "$SANDRUN" status --db nothing.db
	[ "$status" -eq 4 ]
	[[ "$output" == *"database nothing.db: does not exist"* ]]
	[ ! -e nothing.db ]
	run "$SANDRUN" list
	[ "$status" -eq 4 ]
	[[ "$output" == *"./sandrun.db: does not exist"* ]]
}

@test "a garbage database file: clear message, exit 4, file unchanged" {
	head -c 20000 /dev/urandom >g.db
	sum=$(sha256sum g.db)
	for cmd in status list export retry "quarantine q"; do
		run "$SANDRUN" $cmd --db g.db
		[ "$status" -eq 4 ]
		[[ "$output" == *"database g.db: not an SQLite database"* ]]
		[[ "$output" == *"restore it from a backup"* ]]
	done
	[ "$(sha256sum g.db)" = "$sum" ]
	[ ! -e g.db-wal ]
}

@test "a truncated database file: clear message, exit 4, file unchanged" {
	seed_store full.db
	python3 - <<-'EOF'
	import sqlite3
	db = sqlite3.connect("full.db")
	db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
	db.close()
	EOF
	size=$(stat -c %s full.db)
	head -c $((size / 2)) full.db >cut.db
	sum=$(sha256sum cut.db)
	run "$SANDRUN" status --db cut.db
	[ "$status" -eq 4 ]
	[[ "$output" == *"database cut.db: truncated"* ]]
	run "$SANDRUN" retry --db cut.db
	[ "$status" -eq 4 ]
	[ "$(sha256sum cut.db)" = "$sum" ]
	run "$SANDRUN" status --db full.db
	[ "$status" -eq 0 ]
}

@test "a database from a newer sandrun or another program: refused, unchanged" {
	seed_store new.db
	sqlite3 new.db 'PRAGMA user_version = 99'
	sum=$(sha256sum new.db)
	run "$SANDRUN" retry --db new.db
	[ "$status" -eq 4 ]
	[[ "$output" == *"written by a newer sandrun (schema 99"* ]]
	[ "$(sha256sum new.db)" = "$sum" ]
	sqlite3 other.db 'CREATE TABLE photos(x); INSERT INTO photos VALUES (1)'
	run "$SANDRUN" status --db other.db
	[ "$status" -eq 4 ]
	[[ "$output" == *"another program"* ]]
}

@test "a lock held too long: clear message, exit 4; readers still read" {
	seed_store sandrun.db
	# Another writer holds the write lock for 3 s.
	( { echo 'BEGIN IMMEDIATE; UPDATE items SET size = size;'; sleep 3; echo 'ROLLBACK;'; } |
		sqlite3 sandrun.db ) &
	holder=$!
	sleep 0.5
	run "$SANDRUN" retry
	[ "$status" -eq 4 ]
	[[ "$output" == *"another process holds its lock"* ]]
	run "$SANDRUN" status --json
	[ "$status" -eq 0 ]
	wait "$holder"
	run "$SANDRUN" retry --outcome timeout
	[ "$status" -eq 0 ]
}

@test "a database on a read-only path: writes refused with exit 4, reads work, data intact" {
	mkdir ro
	mount -t tmpfs -o size=4m tmpfs ro
	seed_store ro/s.db
	"$SANDRUN" list --db ro/s.db >before.txt
	# As a cleanly closed store is: no -wal or -shm beside it (SQLite cannot
	# create them on a read-only file system).
	rm -f ro/s.db-wal ro/s.db-shm
	mount -o remount,ro ro
	run "$SANDRUN" retry --db ro/s.db
	[ "$status" -eq 4 ]
	[[ "$output" == *"database ro/s.db: read-only"* ]]
	run "$SANDRUN" quarantine --db ro/s.db q
	[ "$status" -eq 4 ]
	run "$SANDRUN" list --db ro/s.db
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat before.txt)" ]
	# A new store cannot be created there either.
	run "$SANDRUN" retry --db ro/new.db
	[ "$status" -eq 4 ]
	[[ "$output" == *"cannot create it in ro"* ]]
}

@test "a database on a full file system: clear message, exit 4, data intact" {
	mkdir full
	mount -t tmpfs -o size=1m tmpfs full
	seed_store full/s.db
	"$SANDRUN" list --db full/s.db >before.txt
	rm -f full/s.db-wal full/s.db-shm
	# Fill the file system to the last block.
	dd if=/dev/zero of=full/filler bs=4k 2>/dev/null || true
	run "$SANDRUN" retry --db full/s.db
	[ "$status" -eq 4 ]
	[[ "$output" == *"full/s.db"* ]]
	[[ "$output" == *"disk is full"* ]]
	run "$SANDRUN" quarantine --db full/s.db --copy q
	[ "$status" -eq 4 ]
	# Reading still works on the full file system.
	run "$SANDRUN" list --db full/s.db
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat before.txt)" ]
	rm full/filler
	run "$SANDRUN" list --db full/s.db
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat before.txt)" ]
	[ "$(sqlite3 full/s.db 'PRAGMA integrity_check')" = ok ]
	# With room again, the same command succeeds.
	run "$SANDRUN" retry --db full/s.db
	[ "$status" -eq 0 ]
	[ "$output" = "4 items back to pending" ]
}

# libpq and its twenty libraries are loaded only for a PostgreSQL store
# (store/pg_lib.h): a host without libpq5 still runs everything on SQLite,
# and a PostgreSQL URI there says what to install.
@test "a PostgreSQL URI on a host without libpq5: exit 4 naming it; SQLite never loads libpq" {
	! ldd "$SANDRUN" | grep -q libpq
	lib=$(ldconfig -p | awk '/libpq\.so\.5 /{print $NF; exit}')
	[ -n "$lib" ] || skip "libpq5 is not installed here"
	run unshare -m sh -c "mount --bind /dev/null '$lib' &&
		exec '$SANDRUN' status --db 'postgresql:///sandrun?host=/nonexistent'"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"PostgreSQL client library is missing"*"install libpq5"* ]]
	run unshare -m sh -c "mount --bind /dev/null '$lib' && exec '$SANDRUN' status --db '$BATS_TEST_TMPDIR/new.db'"
	echo "$output"
	[ "$status" -ne 4 ] || [[ "$output" != *libpq* ]]
}
