#!/usr/bin/env bats
# The man page renders, and every option that --help shows is in it.

setup() {
	B=${SANDRUN_BUILD:?}
	cd "$BATS_TEST_DIRNAME/../.."
}

render() {
	MANWIDTH=200 man --warnings -l "$1" 2>"$BATS_TEST_TMPDIR/warn" | col -b
}

@test "man ./docs/sandrun.1 renders without warnings" {
	run render docs/sandrun.1
	[ "$status" -eq 0 ]
	[[ "$output" == *"SYNOPSIS"* ]]
	[[ "$output" == *"EXIT STATUS"* ]]
	[ ! -s "$BATS_TEST_TMPDIR/warn" ] || { cat "$BATS_TEST_TMPDIR/warn"; false; }
}

@test "every option of every command's --help appears in sandrun(1)" {
	page=$(render docs/sandrun.1)
	missing=""
	for cmd in "" run exec check status list show retry export quarantine report; do
		help=$("$B/sandrun" $cmd --help) || { echo "no --help for '$cmd'"; false; }
		for opt in $(grep -oE -- '(^|[ ,[])--?[a-zA-Z0-9][a-zA-Z0-9-]*' <<<"$help" | grep -oE -- '--?[a-zA-Z0-9][a-zA-Z0-9-]*' | sort -u); do
			grep -qE -- "(^|[^a-zA-Z0-9-])${opt}([^a-zA-Z0-9-]|$)" <<<"$page" || missing="$missing ${cmd:-sandrun}:$opt"
		done
	done
	[ -z "$missing" ] || { echo "missing from the man page:$missing"; false; }
}

@test "every outcome is documented in sandrun(1)" {
	page=$(render docs/sandrun.1)
	for o in ok exit_nonzero signaled oom timeout cpu_limit seccomp setup_error output_limit \
		 bad_input bad_output input_error runner_lost; do
		grep -qw -- "$o" <<<"$page" || { echo "outcome $o missing"; false; }
	done
}

@test "the other man pages render" {
	for m in docs/*.[1-8]; do
		run render "$m"
		[ "$status" -eq 0 ] || { echo "$m failed"; false; }
		[ ! -s "$BATS_TEST_TMPDIR/warn" ] || { echo "$m:"; cat "$BATS_TEST_TMPDIR/warn"; false; }
	done
}
