#!/usr/bin/env bats
# The man page renders without a troff warning, and every option that
# --help shows, every variable the code reads and every signal the runner
# takes is in it; the help and check --json say what they do.

bats_require_minimum_version 1.5.0

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
	for cmd in "" run watch exec check status list show retry export quarantine report forget gc; do
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

@test "sandrun(1) renders at 80 and 200 columns with no troff warning at all, and no JSON key is hyphenated" {
	for w in 80 200; do
		page=$(MANWIDTH=$w man --warnings=w -l docs/sandrun.1 2>"$BATS_TEST_TMPDIR/warn" | col -b)
		[ ! -s "$BATS_TEST_TMPDIR/warn" ] || { echo "at $w columns:"; cat "$BATS_TEST_TMPDIR/warn"; false; }
		# A line of JSON that ends in a hyphen was broken inside a key.
		bad=$(grep -E '[{,]"[a-z_]*' <<<"$page" | grep -E '(-|‐)$' || true)
		[ -z "$bad" ] || { echo "at $w columns, hyphenated: $bad"; false; }
	done
}

@test "ENVIRONMENT names every variable the code reads, and SIGNALS every signal the runner takes" {
	page=$(render docs/sandrun.1)
	env=$(sed -n '/^ENVIRONMENT/,/^EXAMPLES/p' <<<"$page")
	vars=$(grep -rhoE 'getenv\("[A-Z_]+"\)' runner sandbox lib analyzer | grep -oE '[A-Z_]+' | sort -u)
	[ -n "$vars" ]
	for v in $vars JOURNAL_STREAM; do
		grep -qw -- "$v" <<<"$env" || { echo "$v is not in ENVIRONMENT"; false; }
	done
	signals=$(sed -n '/^SIGNALS/,/^EXIT STATUS/p' <<<"$page")
	for s in SIGINT SIGTERM SIGHUP SIGUSR1 SIGUSR2; do
		grep -qw -- "$s" <<<"$signals" || { echo "$s is not in SIGNALS"; false; }
	done
	exits=$(sed -n '/^EXIT STATUS/,/^FILES/p' <<<"$page")
	for code in 129 130 143; do
		grep -qw -- "$code" <<<"$exits" || { echo "exit $code is not in EXIT STATUS"; false; }
	done
}

@test "status --help promises no path argument; list --help takes paths and globs; show --help paths or ids" {
	run "$B/sandrun" status --help
	[ "$status" -eq 0 ]
	[[ "$output" != *"path is not in the store"* ]] || { echo "status: $output"; false; }
	[[ "$output" != *"] PATH"* ]]
	run "$B/sandrun" list --help
	[[ "$output" == *"Usage: sandrun list [OPTIONS] [PATH|GLOB...]"* ]]
	run "$B/sandrun" show --help
	[[ "$output" == *"PATH|ID..."* ]]
	[[ "$output" == *"1 some item is not in the store"* ]]
}

@test "check --json: keys without spaces, and missing is an array of what is missing" {
	run "$B/sandrun" check --json
	[[ "$status" -eq 0 || "$status" -eq 3 ]]
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
bad = [k for k in d if not k.replace("_", "").isalnum() or k != k.lower()]
assert not bad, bad
for k in ("running_as_root", "pid_namespace", "clone_into_cgroup", "job_uid_range_free", "policies"):
    assert isinstance(d[k], bool), k
assert isinstance(d["missing"], list), d["missing"]
assert d["complete"] == (d["missing"] == []), d
' "$output"
	# A host without cgroups: what is missing is listed, one entry each.
	run unshare -m sh -c "mount -t tmpfs none /sys/fs/cgroup && exec '$B/sandrun' check --json"
	[ "$status" -eq 3 ]
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["complete"] is False, d
m = d["missing"]
assert isinstance(m, list) and m and all(isinstance(x, str) and x and "," not in x for x in m), m
' "$output"
}
