#!/usr/bin/env bats
# tests/cli/exec.bats — `sandrun exec` from the command line, the way an
# operator uses it: the outcome somewhere other than the command's own
# stdout, the one line that says which limit stopped a job, --env, --chdir,
# --bind-ro ., and exit statuses that collide with the command's own. Runs as
# root inside the outer test namespace (tests/lib/outer-ns.sh).

bats_require_minimum_version 1.5.0

setup() {
	load env
	cli_env
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W"
	cd "$W"
}

json() { # PYTHON-EXPRESSION over `d` (stdin parsed as JSON)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

@test "--json=stderr and --json-fd 3: the command's stdout stays the command's, the outcome goes elsewhere" {
	# A command whose stdout is data piped on: the outcome must not land in it.
	run --separate-stderr "$SANDRUN" exec --json=stderr -- sh -c 'printf "a,b\n1,2\n"'
	[ "$status" -eq 0 ]
	[ "$output" = $'a,b\n1,2' ]
	[ "$(echo "$stderr" | tail -1 | json 'd["outcome"]')" = ok ]
	"$SANDRUN" exec --json-fd 3 -- sh -c 'echo data' >out.txt 3>outcome.json
	[ "$(cat out.txt)" = data ]
	[ "$(json 'd["outcome"], d["exit_code"]' <outcome.json)" = "ok 0" ]
	# The descriptor is sandrun's, not the job's: the command cannot write to it.
	run "$SANDRUN" exec --json-fd 3 -- sh -c 'echo forged >&3' 3>outcome2.json
	[ "$status" -ne 0 ]
	[[ "$(cat outcome2.json)" != *forged* ]]
	[ "$(head -1 outcome2.json | json 'd["outcome"]')" = exit_nonzero ]
	# --json alone is still stdout, after the output.
	run --separate-stderr "$SANDRUN" exec --json -- echo hi
	[ "$(echo "$output" | head -1)" = hi ]
	[ "$(echo "$output" | tail -1 | json 'd["outcome"]')" = ok ]
	# Mistakes are usage errors.
	run "$SANDRUN" exec --json-fd 9 -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"--json-fd 9: not an open descriptor"* ]]
	run "$SANDRUN" exec --json=file -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"'file' for --json: expected stdout or stderr"* ]]
}

@test "a job stopped by a limit says which on stderr: memory, deadline, CPU time, seccomp" {
	run --separate-stderr "$SANDRUN" exec --mem 64M -- python3 -c 'bytearray(200<<20)'
	[ "$status" -eq 137 ]
	[[ "$stderr" == *"sandrun: killed: memory limit 64M reached (oom)"* ]]
	run --separate-stderr "$SANDRUN" exec --timeout 300ms -- sleep 10
	[ "$status" -eq 124 ]
	[ "$stderr" = "sandrun: killed: wall-clock deadline 300ms reached (timeout)" ]
	run --separate-stderr "$SANDRUN" exec --cpu-time 0.3 -- sh -c 'while :; do :; done'
	[ "$status" -eq 124 ]
	[ "$stderr" = "sandrun: killed: CPU time limit 300ms reached (cpu_limit)" ]
	# strict refuses fork: the shell's second command needs one.
	run --separate-stderr "$SANDRUN" exec --policy strict -- sh -c '/bin/true; /bin/true'
	[ "$status" -eq 159 ]
	[[ "$stderr" == "sandrun: killed: "*"system call"*"refused by the strict policy (seccomp)" ]]
	# An ordinary failure is the command's business: no line of ours.
	run --separate-stderr "$SANDRUN" exec -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	[ -z "$stderr" ]
}

@test "--env NAME=VALUE, --env NAME (copied), --chdir DIR inside the sandbox, --bind-ro . from where I stand" {
	mkdir proj
	echo 'print("from the script")' >proj/tool.py
	cd proj
	export API_REGION=eu
	run --separate-stderr "$SANDRUN" exec --bind-ro . --chdir "$PWD" --env MODE=fast --env API_REGION -- \
		sh -c 'python3 tool.py; echo "$MODE $API_REGION $HOME"; pwd'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = $'from the script\nfast eu /tmp\n'"$PWD" ]
	# Nothing else of sandrun's environment.
	run "$SANDRUN" exec -- sh -c 'echo "${API_REGION:-unset}"'
	[ "$output" = unset ]
	# The bind is read-only.
	run "$SANDRUN" exec --bind-ro . -- sh -c "echo x >'$PWD/new'"
	[ "$status" -ne 0 ]
	[ ! -e new ]
	# A relative --bind-ro through a link is refused like an absolute one.
	cd ..
	ln -s proj viaLink
	run "$SANDRUN" exec --bind-ro viaLink -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"symbolic link"* ]]
	# --chdir is the sandbox's path: a relative one is a usage error, a
	# missing one a setup error (125).
	run "$SANDRUN" exec --chdir proj -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"--chdir proj: give the directory as the command sees it"* ]]
	run "$SANDRUN" exec --chdir /nonexistent -- /bin/true
	[ "$status" -eq 125 ]
	[[ "$output" == *"chdir /nonexistent"* ]]
	run "$SANDRUN" exec --env 9LIVES=1 -- /bin/true
	[ "$status" -eq 2 ]
	run "$SANDRUN" exec --env NOT_SET_ANYWHERE -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"NOT_SET_ANYWHERE is not set"* ]]
}

@test "exit statuses that collide: a command exiting 124, 125 or 137 itself; --json tells them apart" {
	for code in 124 125 137; do
		run --separate-stderr "$SANDRUN" exec --json=stderr -- sh -c "exit $code"
		[ "$status" -eq "$code" ]
		[ "$(echo "$stderr" | tail -1 | json 'd["outcome"], d["exit_code"]')" = "exit_nonzero $code" ]
	done
	run --separate-stderr "$SANDRUN" exec --json=stderr --timeout 200ms -- sleep 5
	[ "$status" -eq 124 ]
	[ "$(echo "$stderr" | tail -1 | json 'd["outcome"], d["exit_code"]')" = "timeout None" ]
	run "$SANDRUN" exec --help
	[[ "$output" == *"--json's outcome tells which it was"* ]]
}
