#!/usr/bin/env bats
# tests/cli/retry.bats — --retry-delay as an operator meets it (issue 15,
# item 5): retries of a failing command spaced by an exponential backoff,
# the wait visible in list/show/status, and a runner SIGKILLed or stopped
# during the wait that leaves the item pending with its wait, so the next
# run counts nothing extra. Runs as root inside the outer test namespace
# (tests/lib/outer-ns.sh).

bats_require_minimum_version 1.5.0

setup() {
	load env
	cli_env
	cli_media
	RUNNER=
}

teardown() {
	[ -n "${RUNNER:-}" ] && kill -KILL "$RUNNER" 2>/dev/null
	return 0
}

db() { sqlite3 -batch sandrun.db "$1"; }

# Milliseconds between the starts of attempts N and N+1 of the only item.
gap() {
	db "SELECT b.started_at - a.started_at FROM attempts a JOIN attempts b
		ON b.attempt_no = a.attempt_no + 1 AND b.item_id = a.item_id AND b.budget = a.budget
		WHERE a.attempt_no = $1"
}

# Wait (at most 20 s) until SQL prints what is expected.
wait_for() { # SQL EXPECTED
	for _ in $(seq 200); do
		[ "$(db "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	echo "waited in vain for [$1] = [$2], last: [$(db "$1" 2>&1)]" >&2
	return 1
}

@test "--retry-delay: bad values are usage errors; --help names it" {
	for v in abc -1s 2h; do
		run "$SANDRUN" --retry-delay "$v" media/a.wav
		[ "$status" -eq 2 ]
		[[ "$output" == *"--retry-delay"* ]]
	done
	[ ! -e sandrun.db ]
	run "$SANDRUN" run --help
	[[ "$output" == *"--retry-delay TIME"* ]]
}

@test "--retries 2 --retry-delay 1s on a failing --cmd: attempts start >= 1 s, then >= 2 s apart" {
	run "$SANDRUN" --retries 2 --retry-on exit_nonzero --retry-delay 1s --cmd false media/a.wav
	[ "$status" -eq 1 ]
	[ "$(db "SELECT status, attempts FROM items")" = "failed|3" ]
	[ "$(db "SELECT count(*) FROM attempts WHERE outcome = 'exit_nonzero' AND counted = 1")" = 3 ]
	[ "$(gap 1)" -ge 1000 ]
	[ "$(gap 2)" -ge 2000 ]
	# the second wait is the doubled one, not the first again
	[ "$(gap 2)" -gt "$(gap 1)" ]
	# nothing waits once the budget is spent
	[ "$(db "SELECT count(not_before) FROM items")" = 0 ]
}

@test "SIGKILL during the wait, then the same command: nothing counted twice, the wait honoured" {
	"$SANDRUN" --retries 1 --retry-on exit_nonzero --retry-delay 3s --cmd false media/a.wav \
		2>run1.txt &
	RUNNER=$!
	# The first attempt is recorded and the item waits for its retry.
	wait_for "SELECT status, attempts, not_before IS NOT NULL FROM items" "pending|1|1"
	sleep 0.3
	kill -0 "$RUNNER" # still running: waiting, not ended
	kill -KILL "$RUNNER"; wait "$RUNNER" 2>/dev/null || true; RUNNER=
	[ "$(db "SELECT count(*) FROM attempts")" = 1 ]
	[ "$(db "SELECT status, attempts FROM items")" = "pending|1" ]
	# The wait is shown where the operator looks.
	run "$SANDRUN" list
	[ "$status" -eq 0 ]
	[[ "$output" =~ "retry after "[0-9]{2}:[0-9]{2}:[0-9]{2} ]]
	run "$SANDRUN" show media/a.wav
	[[ "$output" == *"retry after "*"(--retry-delay)"* ]]
	run "$SANDRUN" status
	[[ "$output" == *"1 pending (1 of them waiting for --retry-delay)"* ]]
	run "$SANDRUN" status --json
	[ "$(echo "$output" | jq .items.pending_delayed)" = 1 ]
	run "$SANDRUN" list --json
	[ "$(echo "$output" | jq -r '.not_before | type')" = string ]
	# Resume without --retry-delay: the stored wait still holds.
	nb=$(db "SELECT not_before FROM items")
	run "$SANDRUN" --retries 1 --retry-on exit_nonzero --cmd false media/a.wav
	[ "$status" -eq 1 ]
	[ "$(db "SELECT status, attempts FROM items")" = "failed|2" ]
	# Two attempts in all, both counted, neither runner_lost nor interrupted.
	[ "$(db "SELECT group_concat(outcome || ':' || counted, ' ') FROM attempts ORDER BY id")" = \
		"exit_nonzero:1 exit_nonzero:1" ]
	[ "$(db "SELECT started_at >= $nb FROM attempts WHERE attempt_no = 2")" = 1 ]
}

@test "SIGTERM during the wait stops at once (143), leaving the item pending with its wait" {
	"$SANDRUN" --retries 1 --retry-on exit_nonzero --retry-delay 1m --cmd false media/a.wav \
		2>run1.txt &
	RUNNER=$!
	wait_for "SELECT status, attempts, not_before IS NOT NULL FROM items" "pending|1|1"
	start=$(date +%s%N)
	kill -TERM "$RUNNER"
	rc=0; wait "$RUNNER" || rc=$?; RUNNER=
	[ "$rc" -eq 143 ]
	# stopped within a few ticks, not after the minute
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ]
	[ "$(db "SELECT status, attempts, not_before IS NOT NULL FROM items")" = "pending|1|1" ]
	[ "$(db "SELECT count(*) FROM attempts")" = 1 ]
	# --force starts a fresh budget without the wait (not a minute later).
	run timeout 30 "$SANDRUN" --force --retries 0 --cmd false media/a.wav
	[ "$status" -eq 1 ]
	[ "$(db "SELECT status, attempts, not_before IS NULL FROM items")" = "failed|1|1" ]
}
