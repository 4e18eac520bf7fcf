#!/usr/bin/env bats
# tests/cli/ops.bats — what an operator of an ingestion pipeline meets day to
# day (issue 15): the --json events read by a consumer of their own,
# --dry-run, two runners with different specs on one database, the wording
# of bad_input errors and of names with newlines. Runs as root inside the
# outer test namespace (tests/lib/outer-ns.sh), with the real analyzer and
# real sandboxes.

bats_require_minimum_version 1.5.0

setup() {
	load env
	cli_env
	cli_media
}

db() { sqlite3 -batch "${2:-sandrun.db}" "$1"; }

# ---- 8. JSON Lines events ---------------------------------------------------

@test "--json events: a consumer validates every line (envelope v/ts/run, item ids, progress events) against the store" {
	# Slow enough jobs for a few progress events at a 0.3 s interval.
	for i in 1 2 3 4 5 6; do printf 'x%.0s' $(seq "$i") >"media/t$i.txt"; done
	run --separate-stderr "$SANDRUN" --json --json-interval 0.3s -j 2 --output text \
		--cmd 'sh -c "sleep 0.5; wc -c"' media/t*.txt media/missing.txt
	[ "$status" -eq 1 ] # missing.txt is an input error
	echo "$output" >events.jsonl
	run python3 "$BATS_TEST_DIRNAME/events.py" events.jsonl sandrun.db
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "ok "*"progress "* ]]
	# The same stream, read with jq as a shell script would: every
	# finished file's item id and run are the store's.
	run_id=$(db "SELECT max(id) FROM runs")
	[ "$(jq -c 'select(.event=="finished" and .item!=null) | [.run, .item, .path]' events.jsonl | sort)" = \
	  "$(db "SELECT json_array($run_id, id, path) FROM items WHERE path LIKE '%/media/t_.txt'" | tr -d ' ' | sort)" ]
	# Progress events carry counts, a rate and an ETA, and end where the run ends.
	jq -e -s '[.[] | select(.event=="progress")] | length >= 2' events.jsonl
	jq -e -s '[.[] | select(.event=="progress")] | all(.total == 7 and .done <= 7 and .rate >= 0)' events.jsonl
	[ "$(jq -r 'select(.event=="summary") | .exit_status' events.jsonl)" = 1 ]
	# --json-interval 0: no progress events at all.
	run --separate-stderr "$SANDRUN" --db quiet.db --json --json-interval 0 media/a.wav
	[ "$status" -eq 0 ]
	[[ "$output" != *'"event":"progress"'* ]]
	echo "$output" >quiet.jsonl
	python3 "$BATS_TEST_DIRNAME/events.py" quiet.jsonl quiet.db
}

@test "--json events: the consumer refuses a stream that breaks the schema (it is not a rubber stamp)" {
	run --separate-stderr "$SANDRUN" --json media/a.wav
	[ "$status" -eq 0 ]
	echo "$output" >good.jsonl
	python3 "$BATS_TEST_DIRNAME/events.py" good.jsonl sandrun.db
	# Each corruption is caught: a missing key, time going back, a wrong
	# item id, a wrong run, another version.
	jq -c 'if .event=="started" then del(.item) else . end' good.jsonl >bad1.jsonl
	jq -c 'if .event=="summary" then .ts_ms -= 100000 | .ts = "2000-01-01T00:00:00.000Z" else . end' good.jsonl >bad2.jsonl
	jq -c 'if .event=="finished" then .item += 7 else . end' good.jsonl >bad3.jsonl
	jq -c '.run += 1' good.jsonl >bad4.jsonl
	jq -c '.v = 2' good.jsonl >bad5.jsonl
	for f in bad1 bad2 bad3 bad4 bad5; do
		run python3 "$BATS_TEST_DIRNAME/events.py" "$f.jsonl" sandrun.db
		[ "$status" -eq 1 ] || { echo "$f passed: $output"; false; }
	done
}

# ---- 9. --dry-run -------------------------------------------------------------

@test "--dry-run on a first try: what would be queued, the skips and the spec; no database is created" {
	mkdir -p lib/Album
	cp media/a.wav lib/Album/01.wav
	cp media/b.wav lib/Album/02.wav
	: >lib/Album/cover.jpg
	printf 'FILE "x.wav" WAVE\n' >lib/Album/album.cue
	run --separate-stderr "$SANDRUN" --dry-run -r lib --exclude '02.wav'
	[ "$status" -eq 0 ]
	[[ "$output" == *"queue $W/lib/Album/01.wav: new"* ]]
	[[ "$output" == *"skip $W/lib/Album/02.wav: excluded"* ]]
	[[ "$output" == *"skip $W/lib/Album/cover.jpg: not audio"* ]]
	[[ "$output" == *"dry run: 1 file would be analyzed (1 new,"*"3 skipped (excluded: 1, not audio: 2)"* ]]
	[[ "$output" == *"database: sandrun.db (does not exist; not created)"* ]]
	[[ "$output" == *'job spec sha256:'*'"kind":"analyzer"'* ]]
	[ ! -e sandrun.db ]
	[ ! -e sandrun.db-wal ]
	# -n is the short form; --json gives the spec as JSON.
	run --separate-stderr "$SANDRUN" -n --json --mem 256M -r lib
	[ "$status" -eq 0 ]
	echo "$output" | jq -e -s 'last | .event == "dry_run" and .would_queue == 2 and .db_exists == false
		and .spec.limits.mem_bytes == 268435456 and .run == null and .v == 1'
	echo "$output" | jq -e -s '[.[] | select(.event=="queue")] | length == 2'
	[ ! -e sandrun.db ]
	# The same input errors as a run: a file a {} job could not read.
	cp media/a.wav private.wav
	chmod 600 private.wav
	run --separate-stderr "$SANDRUN" --dry-run --cmd 'cat {}' --output text private.wav media/a.wav
	[ "$status" -eq 0 ]
	[[ "$output" == *"error $W/private.wav: not readable by others"* ]]
	[[ "$output" == *"queue $W/media/a.wav: new"* ]]
	[[ "$output" == *"1 input error"* ]]
	[ ! -e sandrun.db ]
}

@test "--dry-run on an existing store: done files are left, changed ones queued, and the database is byte-for-byte the same" {
	"$SANDRUN" media/a.wav media/b.wav media/garbage.bin 2>/dev/null || true
	sox -n -r 8000 -c 1 media/b.wav synth 0.5 sine 880 # b changed since
	cp sandrun.db before.db
	before=$(db "SELECT group_concat(id || status || attempts || updated_at) FROM items")
	run --separate-stderr "$SANDRUN" --dry-run media/a.wav media/b.wav media/garbage.bin media/sub/c.wav
	[ "$status" -eq 0 ]
	[[ "$output" == *"leave $W/media/a.wav: already done"* ]]
	[[ "$output" == *"queue $W/media/b.wav: changed (the file changed)"* ]]
	[[ "$output" == *"leave $W/media/garbage.bin: already failed"* ]]
	[[ "$output" == *"queue $W/media/sub/c.wav: new"* ]]
	[[ "$output" == *"2 files would be analyzed (1 new, 1 changed"*"1 already done, 1 already failed"* ]]
	# Another --cmd: every file would go again, under another spec.
	run --separate-stderr "$SANDRUN" --dry-run --cmd 'wc -c' --output text media/a.wav
	[[ "$output" == *"queue $W/media/a.wav: changed (another job spec)"* ]]
	[[ "$output" == *'"kind":"command"'* ]]
	cmp sandrun.db before.db
	[ "$(db "SELECT group_concat(id || status || attempts || updated_at) FROM items")" = "$before" ]
	[ "$(db "SELECT count(*) FROM runs")" = 1 ]
	# A --cmd typo is caught by the dry run too, before anything.
	run --separate-stderr "$SANDRUN" --dry-run --cmd 'nosuchprog {}' media/a.wav
	[ "$status" -eq 2 ]
	cmp sandrun.db before.db
}

# ---- 16. wording ----------------------------------------------------------------

@test "a bad_input's stderr carries the analyzer's own error, not only 'bad input'" {
	printf 'RIFF\x20\x00\x00\x00WAVEfmt ' >media/trunc.wav
	run --separate-stderr "$SANDRUN" media/trunc.wav media/garbage.bin
	[ "$status" -eq 1 ]
	run "$SANDRUN" show media/trunc.wav
	[[ "$output" == *"| sandrun-analyze: bad input: "*"WAV"* ]]
	[[ "$output" != *"| sandrun-analyze: bad input"$'\n'* ]]
	run "$SANDRUN" show media/garbage.bin
	[[ "$output" == *"| sandrun-analyze: bad input: unrecognised format"* ]]
}

@test "a newline in a name shows visibly (not as a space) in list, show, the failure line and --dry-run" {
	cp media/garbage.bin "media/two
lines.wav"
	cp media/garbage.bin "media/two lines.wav"
	run --separate-stderr "$SANDRUN" media/two*
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"sandrun: $W/media/two\\nlines.wav: bad_input"* ]]
	run "$SANDRUN" list
	[[ "$output" == *'two\x0alines.wav'* ]]
	[[ "$output" == *'two lines.wav'* ]]
	run "$SANDRUN" --dry-run media/two*
	[[ "$output" == *"leave $W/media/two\\x0alines.wav: already failed"* ]]
}

# ---- 15. two runners, two specs, one database --------------------------------------

@test "two concurrent runs with different --cmd on one db: the one that loses its files says so and exits 1, not 0" {
	for i in $(seq 20); do echo "$i" >"media/f$i.txt"; done
	# A: slow jobs one at a time (3 s: B starts well before A finishes
	# one, else B would stop at a done item of another spec). B starts
	# once A has started its first job, with another command: queueing
	# the same paths under its own spec takes A's pending files.
	"$SANDRUN" --json -j 1 --output text --cmd 'sh -c "sleep 3; wc -c"' media/f*.txt >a.out 2>a.err &
	a=$!
	for _ in $(seq 200); do grep -q '"event":"started"' a.out 2>/dev/null && break; sleep 0.05; done
	grep -q '"event":"started"' a.out
	"$SANDRUN" --json -j 1 --output text --cmd 'sh -c "sleep 0.5; wc -l"' media/f*.txt >b.out 2>b.err &
	b=$!
	rc_a=0
	wait $a || rc_a=$?
	kill -TERM $b
	wait $b || true
	cat a.err
	# A ran to its end but its batch is not finished: not exit 0.
	[ "$rc_a" -eq 1 ]
	pending=$(jq -r 'select(.event=="summary") | .pending' a.out)
	[ "$pending" -ge 1 ]
	grep -q "^sandrun: 20 files: [0-9]* ok, 0 failed, $pending pending" a.err
	grep -q "^sandrun: not finished: $pending files\? left pending that this run could not take (another runner queued" a.err
	[ "$(jq -r 'select(.event=="summary") | .exit_status' a.out)" = 1 ]
	# The store agrees: those files belong to B's spec now.
	b_spec=$(jq -r 'select(.event=="begin") | .spec_key' b.out)
	[ "$(db "SELECT count(*) FROM items WHERE spec_key = '$b_spec'")" -ge "$pending" ]
	# A run that went to its end with everything done still exits 0.
	run "$SANDRUN" --db solo.db media/a.wav
	[ "$status" -eq 0 ]
}

# ---- 9. what a job printed -------------------------------------------------------

@test "a --cmd that prints text instead of JSON: show says what it printed (its first 4 KiB, escaped), also in show --json" {
	printf 'one\n' >media/words.txt
	run --separate-stderr "$SANDRUN" --cmd 'printf "usage: features.py FILE\033[2J\nline 2\n"' media/words.txt
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"bad_output: the result is not valid JSON (35 bytes)"* ]]
	run "$SANDRUN" show media/words.txt
	[[ "$output" == *"  stdout (first 35 bytes):"$'\n'"    | usage: features.py FILE\\x1b[2J"$'\n'"    | line 2"* ]]
	[[ "$output" != *$'\033'* ]]
	run "$SANDRUN" show --json media/words.txt
	[ "$(echo "$output" | jq -r '.history[0].stdout_head')" = "$(printf 'usage: features.py FILE\033[2J\nline 2\n')" ]
	# Only the head is kept: a flood of text is cut at 4096 bytes.
	printf 'two\n' >media/flood.txt
	run "$SANDRUN" --cmd 'head -c 100000 /dev/zero' media/flood.txt
	[ "$(db "SELECT length(a.output_head) FROM attempts a JOIN items i ON i.id = a.item_id
		WHERE i.path LIKE '%/flood.txt'")" = 4096 ]
	# An ok attempt keeps its output as the result, not as a head.
	run "$SANDRUN" --db ok.db --cmd 'echo {}' --output text media/a.wav
	[ "$status" -eq 0 ]
	[ "$(db "SELECT count(output_head) FROM attempts" ok.db)" = 0 ]
}

@test "schema 2 (attempts.output_head): a schema 1 store is read as it is, upgraded by the next run; a newer one is still refused" {
	"$SANDRUN" --cmd 'echo nope' media/a.wav 2>/dev/null || true
	[ "$(db "PRAGMA user_version")" = 4 ]
	# What a store written before this column (and serve's, schema 3, and
	# --retry-delay's, schema 4) looks like.
	db "ALTER TABLE attempts DROP COLUMN output_head; DROP INDEX items_client; DROP INDEX items_claim;
		ALTER TABLE items DROP COLUMN client_uid; ALTER TABLE items DROP COLUMN client_gid;
		ALTER TABLE items DROP COLUMN client_pid; ALTER TABLE items DROP COLUMN client_name;
		ALTER TABLE items DROP COLUMN queue_seq; ALTER TABLE items DROP COLUMN not_before;
		CREATE INDEX items_claim ON items(spec_key, id) WHERE status = 'pending'; PRAGMA user_version = 1"
	cp sandrun.db v1.db
	run "$SANDRUN" show media/a.wav
	[ "$status" -eq 0 ]
	[[ "$output" == *"bad_output"* ]]
	[[ "$output" != *"stdout (first"* ]]
	run "$SANDRUN" status
	[ "$status" -eq 0 ]
	cmp sandrun.db v1.db # read-only commands do not upgrade
	run "$SANDRUN" --cmd 'echo still nope' media/b.wav
	[ "$status" -eq 1 ]
	[ "$(db "PRAGMA user_version")" = 4 ]
	[ "$(db "SELECT count(*) FROM pragma_table_info('attempts') WHERE name = 'output_head'")" = 1 ]
	run "$SANDRUN" show media/b.wav
	[[ "$output" == *"| still nope"* ]]
	[ "$(db "SELECT count(*) FROM pragma_table_info('items') WHERE name = 'not_before'")" = 1 ]
	db "PRAGMA user_version = 5"
	run "$SANDRUN" status
	[ "$status" -eq 4 ]
	[[ "$output" == *"written by a newer sandrun (schema 5; this one knows up to 4)"* ]]
}
