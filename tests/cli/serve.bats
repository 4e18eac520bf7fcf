#!/usr/bin/env bats
# tests/cli/serve.bats — `sandrun serve` and `sandrun submit` from the
# command line: usage errors before anything starts, the exit statuses of
# the client, a second server on a live socket refused, a stale socket
# replaced. The protocol and the sandboxes are tests/suites/serve.sh. Runs
# as root inside the outer test namespace (tests/lib/outer-ns.sh).

bats_require_minimum_version 1.5.0

setup() {
	load env
	cli_env
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W"
	cd "$W"
}

teardown() {
	[ -z "${SPID:-}" ] || { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; } || true
}

start() { # ARGS...: serve on $W/s.sock
	"$SANDRUN" serve --socket "$W/s.sock" --db "$W/db" --cmd cat --output text -q "$@" 2>"$W/log" &
	SPID=$!
	for _ in $(seq 100); do
		"$SANDRUN" submit --socket "$W/s.sock" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$W/log"
	false
}

@test "serve: usage errors (exit 2) before anything is created" {
	run -2 "$SANDRUN" serve --db "$W/db" --cmd cat
	[[ "$output" == *"--socket PATH is required"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --db "$W/db" --cmd cat somefile
	[[ "$output" == *"serve takes no PATH"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --db "$W/db" -r --cmd cat
	[[ "$output" == *"apply to run, not to serve"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --socket-mode 999 --cmd cat
	[[ "$output" == *"invalid value '999' for --socket-mode"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --allow-uid bob --cmd cat
	[[ "$output" == *"for --allow-uid"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --max-queue 0 --cmd cat
	[[ "$output" == *"for --max-queue"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --quota-files many --cmd cat
	[[ "$output" == *"for --quota-files"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --quota-bytes lots --cmd cat
	[[ "$output" == *"for --quota-bytes"* ]]
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --spool-timeout 0 --cmd cat
	[[ "$output" == *"--spool-timeout"* ]]
	[ ! -e "$W/db" ] && [ ! -e "$W/s.sock" ]
}

@test "submit: usage errors (2), no server (69), a directory refused (65)" {
	run -2 "$SANDRUN" submit --socket "$W/s.sock"
	[[ "$output" == *"no files given"* ]]
	run -2 "$SANDRUN" submit --socket "$W/s.sock" --stats x
	run -69 "$SANDRUN" submit --socket "$W/nothing.sock" /etc/hostname
	[[ "$output" == *"cannot reach the server"* ]]
	start
	run -65 "$SANDRUN" submit --socket "$W/s.sock" "$W"
	[[ "$output" == *"is a directory"* ]]
	run -65 "$SANDRUN" submit --socket "$W/s.sock" "$W/missing"
	run -2 "$SANDRUN" submit --socket "$W/s.sock" --status 4242
	[[ "$output" == *"no item 4242"* ]]
}

@test "submit --wait: exit 0 when ok, 1 when the file failed; --status and --cancel" {
	start --max-output 4
	echo hi >small
	run -0 "$SANDRUN" submit --socket "$W/s.sock" --wait small
	[[ "$output" == *"done"*"ok"* ]]
	echo "longer than four bytes" >big
	run -1 "$SANDRUN" submit --socket "$W/s.sock" --wait big
	[[ "$output" == *"failed"*"output_limit"* ]]
	run -0 "$SANDRUN" submit --socket "$W/s.sock" --status 1 --json
	[[ "$output" == *'"result":"hi\n"'* ]]
	run -2 "$SANDRUN" submit --socket "$W/s.sock" --cancel 1
	[[ "$output" == *"nothing to cancel"* ]]
}

@test "a live server's socket is refused; a dead one's is replaced" {
	start
	run -2 "$SANDRUN" serve --socket "$W/s.sock" --db "$W/db2" --cmd cat
	[[ "$output" == *"another server is listening there"* ]]
	kill -KILL "$SPID"; wait "$SPID" 2>/dev/null || true
	[ -S "$W/s.sock" ]
	start
	echo again >f
	run -0 "$SANDRUN" submit --socket "$W/s.sock" --wait f
}

@test "the socket gets --socket-mode" {
	start --socket-mode 0600
	[ "$(stat -c %a "$W/s.sock")" = 600 ]
}

@test "cancel: a pending item never runs, a running one is stopped; both end failed, uncounted" {
	start -j 1 --cmd 'sleep 30' --grace 0
	echo a >a; echo b >b
	run -0 "$SANDRUN" submit --socket "$W/s.sock" a b
	for _ in $(seq 50); do
		[ "$(sqlite3 "$W/db" 'select status from items where id = 1')" = running ] && break
		sleep 0.1
	done
	run -0 "$SANDRUN" submit --socket "$W/s.sock" --cancel 2 --json
	[[ "$output" == *'"status":"failed"'*'"error":"cancelled by uid 0 before it ran'* ]]
	run -0 "$SANDRUN" submit --socket "$W/s.sock" --cancel 1 --json
	[[ "$output" == *'"stopping":true'* ]]
	for _ in $(seq 50); do
		[ "$(sqlite3 "$W/db" 'select status from items where id = 1')" = failed ] && break
		sleep 0.1
	done
	[ "$(sqlite3 "$W/db" "select group_concat(status || ':' || last_outcome || ':' || attempts) from items")" = \
		"failed:input_error:0,failed:input_error:0" ]
	[ "$(sqlite3 "$W/db" "select count(*) from attempts where counted = 1")" = 0 ]
}

@test "submit hands no file to a listener that is neither root, the user, nor the owner of its directory" {
	# A shared, sticky directory (like /tmp): anyone may bind a socket there.
	SH=$(mktemp -d /tmp/sandrun-shared.XXXXXX)
	chmod 1777 "$SH"
	setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
c, _ = s.accept()
data = c.recv(4096)
open(sys.argv[1] + ".got", "w").write(str(len(data)))
time.sleep(5)' "$SH/fake.sock" &
	SPID=$!
	for _ in $(seq 50); do [ -S "$SH/fake.sock" ] && break; sleep 0.1; done
	printf 'secret\n' >"$W/f.txt"
	run "$SANDRUN" submit --socket "$SH/fake.sock" "$W/f.txt"
	[ "$status" -eq 69 ]
	[[ "$output" == *"neither root, you, nor the owner of its directory"* ]]
	sleep 0.3
	got=$(cat "$SH/fake.sock.got" 2>/dev/null || echo 0)
	rm -rf "$SH"
	[ "$got" = 0 ]
}
