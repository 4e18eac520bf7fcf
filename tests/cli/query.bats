#!/usr/bin/env bats
# tests/cli/query.bats — looking at results the way an operator of an
# ingestion pipeline does (issue 15, items 12 and 13): export to a
# spreadsheet or JSON Lines with filters, list with paths, globs, --sort,
# --limit, --since, --run and running items, show by paths and ids, the dry
# runs of retry, quarantine and forget, quarantine refused inside the
# analyzed tree, forget and gc, and status --json against status.
# Runs as root inside the outer test namespace (tests/lib/outer-ns.sh).
#
# Real runs use sox WAVs and the real sandrun-analyze (nested results);
# failures come from stores seeded through the store's own functions
# ($SANDRUN_BUILD/tests/test_store seed DB OUTCOME=PATH...), so they do not
# depend on which files the analyzer chooses to skip.

bats_require_minimum_version 1.5.0

setup() {
	load env
	cli_env
	SEED=$B/tests/test_store
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/media/sub"
	cd "$W"
	export SANDRUN_DB_BUSY_TIMEOUT_MS=2000
	unset SANDRUN_ANALYZER SANDRUN_DB
}

teardown() {
	[ -n "${RUNNER:-}" ] && kill -KILL "$RUNNER" 2>/dev/null
	cd /
	true
}

json() { # PYTHON-EXPRESSION over `d` (stdin parsed as JSON)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

tones() {
	sox -n -r 8000 -c 1 media/a.wav synth 0.2 sine 440
	sox -n -r 16000 -c 2 media/b.wav synth 0.3 sine 220
	sox -n -r 8000 -c 1 media/sub/c.wav synth 0.2 sine 330
}

seed_store() { # DB: one item per outcome, as store.bats seeds it
	for f in a b c d e; do head -c 1000 /dev/urandom >"media/$f.wav"; done
	echo tiny >media/sub/f.wav
	"$SEED" seed "$1" ok="$W/media/a.wav" timeout="$W/media/b.wav" \
		exit_nonzero="$W/media/c.wav" signaled="$W/media/sub/f.wav" \
		pending="$W/media/d.wav" input_error="$W/media/missing.wav" \
		running="$W/media/e.wav"
}

# ---- 12. export -------------------------------------------------------------

@test "export to a spreadsheet: nested results become dotted columns, arrays one JSON cell" {
	tones
	run "$SANDRUN" run -r media
	[ "$status" -eq 0 ]
	run "$SANDRUN" export -o library.csv
	[ "$status" -eq 0 ]
	python3 - <<'PY'
import csv, json
rows = list(csv.reader(open("library.csv", newline="")))
hdr, body = rows[0], rows[1:]
assert len(body) == 3, len(body)
assert hdr[:7] == ["path", "size", "mtime_ns", "attempts", "wall_ms", "cpu_ms", "peak_memory_bytes"], hdr[:7]
assert "loudness.integrated_lufs" in hdr and "format.sample_rate" in hdr, hdr
assert "loudness" not in hdr and "format" not in hdr, "an object kept as a blob"
assert len(hdr) == len(set(hdr)), "a column twice"
rate = {r[0].rsplit("/", 1)[1]: r[hdr.index("format.sample_rate")] for r in body}
assert rate == {"a.wav": "8000", "b.wav": "16000", "c.wav": "8000"}, rate
ch = json.loads(body[0][hdr.index("channels")])
assert isinstance(ch, list) and ch[0]["index"] == 0, ch
for r in body:
    float(r[hdr.index("loudness.integrated_lufs")] or "nan")
PY
	# The columns are the union of every row's keys, in a stable order.
	run "$SANDRUN" export --format csv
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | head -1)" = "$(head -1 library.csv)" ]
}

@test "export: numbers in the shortest form that reads back (0.05, not 0.050000000000000003)" {
	seed_store sandrun.db
	python3 - <<'PY'
import json, sqlite3
c = sqlite3.connect("sandrun.db")
c.execute("UPDATE results SET value = ?", ('{"gain": 0.05, "sum": 0.30000000000000004, "n": 3, "big": 1e300, "one": 1.0}',))
c.commit()
PY
	run "$SANDRUN" export --format csv
	[ "$status" -eq 0 ]
	[[ "$output" == *",0.05,0.30000000000000004,3,1e+300,1"* ]]
	[[ "$output" != *0.050000000000000003* ]]
	run "$SANDRUN" export
	[[ "$output" == *'"gain":0.05,"sum":0.30000000000000004,"n":3,"big":1e+300,"one":1.0'* ]]
	# What it prints reads back as the same doubles.
	[ "$(echo "$output" | json 'd[0]["result"]["gain"] == 0.05 and d[0]["result"]["sum"] == 0.1 + 0.2')" = True ]
	run "$SANDRUN" list --json media/a.wav
	[[ "$output" == *'"gain":0.05,'* ]]
}

@test "export the failures with their outcome and error; -o picks the format from the extension" {
	seed_store sandrun.db
	run "$SANDRUN" export --failed -o failed.jsonl
	[ "$status" -eq 0 ]
	[ "$(wc -l <failed.jsonl)" -eq 4 ]
	python3 - <<'PY'
import json
rows = [json.loads(l) for l in open("failed.jsonl")]
got = {r["path"].rsplit("/", 1)[1]: (r["status"], r["outcome"], bool(r["error"])) for r in rows}
assert got == {"b.wav": ("failed", "timeout", True), "c.wav": ("failed", "exit_nonzero", True),
               "missing.wav": ("failed", "input_error", True), "f.wav": ("failed", "signaled", True)}, got
PY
	run "$SANDRUN" export --outcome timeout -o t.csv
	[ "$status" -eq 0 ]
	[ "$(head -1 t.csv | tr -d '\r')" = "path,size,mtime_ns,attempts,wall_ms,cpu_ms,peak_memory_bytes,status,outcome,error" ]
	[ "$(sed -n 2p t.csv | cut -d, -f1,8,9,10 | tr -d '\r')" = "$W/media/b.wav,failed,timeout,wall-clock timeout after 0.1 s" ]
	run "$SANDRUN" export --all -o all.json
	[ "$status" -eq 0 ]
	[ "$(json 'len(d), sorted(set(r["status"] for r in d))' <all.json)" = "7 ['done', 'failed', 'pending', 'running']" ]
	# The default is unchanged: the done items, without state columns.
	run "$SANDRUN" export --status done --format jsonl
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[[ "$output" != *'"status"'* ]]
}

@test "export: conflicting flags are a usage error (exit 2) and write nothing" {
	seed_store sandrun.db
	run "$SANDRUN" export --format csv -o out.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"--format csv conflicts with -o out.json"* ]]
	run "$SANDRUN" export --json --format jsonl
	[ "$status" -eq 2 ]
	run "$SANDRUN" export --failed --all
	[ "$status" -eq 2 ]
	[[ "$output" == *"'--failed' and '--all' conflict"* ]]
	run "$SANDRUN" export --status done --failed
	[ "$status" -eq 2 ]
	run "$SANDRUN" export --status failed --failed -o ok.csv
	[ "$status" -eq 0 ]
	[ -z "$(ls out.json* 2>/dev/null)" ]
}

# ---- 13. list ---------------------------------------------------------------

@test "list takes paths, directories and globs, --limit and --sort" {
	seed_store sandrun.db
	run "$SANDRUN" list media/sub
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ] && [[ "${lines[0]}" == *"/media/sub/f.wav"* ]]
	run "$SANDRUN" list media/b.wav media/c.wav
	[ "${#lines[@]}" -eq 2 ]
	# A glob is matched against the stored absolute paths; * crosses '/'.
	run "$SANDRUN" list '*.wav'
	[ "${#lines[@]}" -eq 7 ]
	run "$SANDRUN" list 'media/[bc].wav' --limit 1
	[ "${#lines[@]}" -eq 1 ] && [[ "${lines[0]}" == *"/media/b.wav"* ]]
	run "$SANDRUN" list "$W/media/sub/*"
	[ "${#lines[@]}" -eq 1 ]
	run "$SANDRUN" list --sort outcome --status failed
	[ "$(printf '%s\n' "${lines[@]}" | awk '{print $2}' | tr '\n' ' ')" = "exit_nonzero input_error signaled timeout " ]
	run "$SANDRUN" list --sort attempts -n 2
	[ "${#lines[@]}" -eq 2 ]
	run "$SANDRUN" list --sort size
	[[ "${lines[-1]}" == *"missing.wav"* ]] # never stat'ed: last
	run "$SANDRUN" list --sort bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"path, mtime, size, wall, outcome, attempts, updated"* ]]
	run "$SANDRUN" list --limit 0
	[ "$status" -eq 2 ]
}

@test "list --since (a duration or a date) and --run N" {
	tones
	run "$SANDRUN" run media/a.wav
	[ "$status" -eq 0 ]
	sqlite3 sandrun.db "UPDATE items SET updated_at = updated_at - 7200000"
	run "$SANDRUN" run media/b.wav media/sub/c.wav
	[ "$status" -eq 0 ]
	run "$SANDRUN" list --since 1h
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" != *"/a.wav"* ]]
	run "$SANDRUN" list --since 3h
	[ "${#lines[@]}" -eq 3 ]
	run "$SANDRUN" list --since "$(date -d '-1 hour' '+%Y-%m-%d %H:%M')"
	[ "${#lines[@]}" -eq 2 ]
	run "$SANDRUN" list --since 2999-01-01
	[ "$status" -eq 0 ] && [ -z "$output" ]
	run "$SANDRUN" list --run 1
	[ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"/a.wav"* ]]
	run "$SANDRUN" list --run 2 --json
	[ "$(printf '%s\n' "${lines[0]}" | json 'd["path"]')" = "$W/media/b.wav" ]
	run "$SANDRUN" list --since yesterday-ish
	[ "$status" -eq 2 ]
	[[ "$output" == *"--since 'yesterday-ish'"* ]]
}

@test "list shows how long a running item has run and on which host; forget refuses it while its runner lives" {
	echo data >media/slow.wav
	"$SANDRUN" run --cmd 'sleep 60' media/slow.wav >runner.out 2>&1 &
	RUNNER=$!
	for _ in $(seq 200); do
		"$SANDRUN" list --status running 2>/dev/null | grep -q slow.wav && break
		sleep 0.05
	done
	sleep 1.1
	run "$SANDRUN" list --status running
	[ "$status" -eq 0 ]
	[[ "$output" == *"/media/slow.wav [running for "[0-9]*"s on $(hostname)]"* ]]
	run "$SANDRUN" list --json --status running
	[ "$(echo "$output" | json 'd["running_host"], d["running_since"] is not None')" = "$(hostname) True" ]
	run "$SANDRUN" show media/slow.wav
	[[ "$output" == *"running for "*" on $(hostname)"* ]]
	run "$SANDRUN" forget media/slow.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused $W/media/slow.wav: running under a live runner"* ]]
	[[ "$output" == *"0 items forgotten"* ]]
	# Its runner dies: the lease is dead, and forget takes the item.
	kill -KILL "$RUNNER"; wait "$RUNNER" 2>/dev/null || true; RUNNER=
	run "$SANDRUN" forget media/slow.wav
	[ "$status" -eq 0 ]
	[[ "$output" == *"forgot $W/media/slow.wav (running)"* ]]
	run "$SANDRUN" status --json
	[ "$(echo "$output" | json 'd["items"]["total"], d["attempts"]["total"]')" = "0 0" ]
}

# ---- 13. show ---------------------------------------------------------------

@test "show takes several paths, or ids; a file named like an id wins, --id forces the id" {
	seed_store sandrun.db
	run "$SANDRUN" show media/b.wav media/c.wav
	[ "$status" -eq 0 ]
	[[ "$output" == *"/media/b.wav"*"last outcome timeout"*"/media/c.wav"*"last outcome exit_nonzero"* ]]
	run "$SANDRUN" show --json media/a.wav media/nothere.wav media/b.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"nothere.wav is not in the store"* ]]
	id=$("$SANDRUN" list --json media/c.wav | json 'd["id"]')
	run "$SANDRUN" show "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/media/c.wav"*"item $id,"* ]]
	# A file named "$id" that is in the store is shown by its path...
	head -c 100 /dev/urandom >"$id"
	"$SEED" seed sandrun2.db ok="$W/$id" ok="$W/media/a.wav" timeout="$W/media/b.wav" exit_nonzero="$W/media/c.wav"
	run "$SANDRUN" show --db sandrun2.db "$id"
	[[ "${lines[0]}" == "$W/$id" ]]
	# ...--id shows the item with that id.
	run "$SANDRUN" show --db sandrun2.db --id "$id"
	[[ "${lines[0]}" != "$W/$id" ]] && [[ "${lines[1]}" == *"item $id,"* ]]
	run "$SANDRUN" show --id 999
	[ "$status" -eq 1 ]
	[[ "$output" == *"no item with id 999"* ]]
}

# ---- 13. retry, quarantine, forget: dry runs --------------------------------

@test "retry --dry-run says what would go back to pending and changes nothing" {
	seed_store sandrun.db
	before=$("$SANDRUN" list --json)
	run "$SANDRUN" retry --dry-run --outcome timeout
	[ "$status" -eq 0 ]
	[[ "$output" == *"would retry $W/media/b.wav (timeout)"* ]]
	[[ "$output" == *"1 item would go back to pending (dry run: nothing changed)"* ]]
	run "$SANDRUN" retry --dry-run --json media/c.wav media/a.wav
	[ "$(echo "$output" | json 'd["reset"], d["dry_run"], d["would_reset"], [x["status"] for x in d["not_reset"]]')" = "1 True ['$W/media/c.wav'] ['done']" ]
	[ "$("$SANDRUN" list --json)" = "$before" ]
	# The dry run needs no write access: a read-only store is enough.
	chmod a-w sandrun.db .
	run "$SANDRUN" retry --dry-run
	chmod u+w sandrun.db .
	[ "$status" -eq 0 ] && [[ "$output" == *"4 items would go back"* ]]
	run "$SANDRUN" retry
	[[ "$output" == *"4 items back to pending"* ]]
}

@test "quarantine --dry-run moves nothing; quarantining inside the analyzed tree is refused (exit 2)" {
	seed_store sandrun.db
	run "$SANDRUN" quarantine --dry-run q
	[ "$status" -eq 0 ]
	[[ "$output" == *"would move $W/media/b.wav -> $W/q/media/b.wav"* ]]
	[[ "$output" == *"dry run: nothing changed"* ]]
	[ ! -e q ] && [ -e media/b.wav ]
	[ "$("$SANDRUN" list --json | grep -c quarantined_to\":\")" -eq 0 ]
	run "$SANDRUN" quarantine media/bad
	[ "$status" -eq 2 ]
	[[ "$output" == *"media/bad is inside the analyzed tree"* ]]
	[ ! -e media/bad ]
	run "$SANDRUN" quarantine "$W/media/sub/deeper/q" --copy
	[ "$status" -eq 2 ]
	[ ! -e media/sub/deeper ]
	run "$SANDRUN" quarantine q
	[ "$status" -eq 0 ] && [ -e q/media/b.wav ]
}

@test "forget removes items with their attempts and results (--dry-run first); the next run queues them as new" {
	tones
	run "$SANDRUN" run -r media
	[ "$status" -eq 0 ]
	run "$SANDRUN" forget --dry-run 'media/sub/*' media/nothere.wav
	[ "$status" -eq 1 ]
	[[ "$output" == *"would forget $W/media/sub/c.wav (done)"* ]]
	[[ "$output" == *"nothere.wav: no item in the store"* ]]
	[ "$("$SANDRUN" status --json | json 'd["items"]["total"]')" = 3 ]
	run "$SANDRUN" forget --json media/sub
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json 'd["forgotten"], d["items"][0]["action"]')" = "1 forgotten" ]
	[ "$(sqlite3 sandrun.db "SELECT count(*) FROM attempts a LEFT JOIN items i ON i.id = a.item_id WHERE i.id IS NULL; SELECT count(*) FROM results")" = "$(printf '0\n2')" ]
	run "$SANDRUN" run -r media
	[ "$status" -eq 0 ]
	run "$SANDRUN" list --json media/sub/c.wav
	[ "$(echo "$output" | json 'd["status"], d["attempts"]')" = "done 1" ]
	run "$SANDRUN" forget
	[ "$status" -eq 2 ]
}

@test "gc compacts the store and loses nothing a command shows" {
	seed_store sandrun.db
	sqlite3 sandrun.db "UPDATE attempts SET stderr_tail = randomblob(60000)"
	sqlite3 sandrun.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	run "$SANDRUN" forget media/b.wav media/c.wav media/sub/f.wav
	[ "$status" -eq 0 ]
	before=$("$SANDRUN" list --json)
	run "$SANDRUN" gc --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json 'd["backend"], d["bytes_after"] < d["bytes_before"] - 100000')" = "sqlite True" ]
	[ "$("$SANDRUN" list --json)" = "$before" ]
	[ "$(sqlite3 sandrun.db 'PRAGMA integrity_check')" = ok ]
	run "$SANDRUN" gc
	[ "$status" -eq 0 ]
	[[ "$output" == "sqlite store compacted: "*" before, "*" after" ]]
	run "$SANDRUN" gc extra
	[ "$status" -eq 2 ]
}

# ---- 13. status --json ------------------------------------------------------

@test "status --json has a key for every number status prints" {
	tones
	run "$SANDRUN" run -r media
	[ "$status" -eq 0 ]
	seed_store other.db
	for db in sandrun.db other.db; do
		"$SANDRUN" status --db "$db" >text.out
		"$SANDRUN" status --db "$db" --json >json.out
		python3 - <<'PY'
import json, re
text = open("text.out").read()
d = json.load(open("json.out"))
leaves = []
def walk(v):
    if isinstance(v, dict):
        for x in v.values(): walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        leaves.append(v)
walk(d)
def forms(v):
    out = {str(int(v)) if float(v).is_integer() else None, "%.2f" % v, "%.3f" % (v / 1000)}
    b, u = float(v), 0
    while b >= 1024 and u < 4: b /= 1024; u += 1
    out.add("%.0f" % b if u == 0 else "%.1f" % b)
    return out
# Everything but the store path, the version and the local times.
body = re.sub(r"^store .*$", "", text, flags=re.M)
body = re.sub(r"\(sandrun [^)]*\)", "", body)
body = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "", body)
nums = re.findall(r"\d+(?:\.\d+)?", body)
assert nums, text
known = set().union(*(forms(v) for v in leaves))
missing = [n for n in nums if n not in known]
assert not missing, (missing, text, d)
# And the counts name the same things.
m = re.search(r"items +(\d+): (\d+) pending, (\d+) running", text)
assert [int(x) for x in m.groups()] == [d["items"]["total"], d["items"]["pending"], d["items"]["running"]]
outcomes = re.search(r"^outcomes +(.*)$", text, flags=re.M).group(1)
for name, n in re.findall(r"([a-z_]+) (\d+)", outcomes):
    assert d["outcomes"][name] == int(n), (name, n)
PY
	done
}
