# tests/cli/env.bash — what the tests/cli suites' setup shares (bats `load env`).

# The build under test and the sanitizers' exit code: in a sanitizer build a
# report must not pass for "some files failed".
cli_env() {
	B=${SANDRUN_BUILD:?SANDRUN_BUILD must point to the build directory}
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:exitcode=86"
	SANDRUN=$B/sandrun
}
