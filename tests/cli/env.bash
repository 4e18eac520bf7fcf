# tests/cli/env.bash — what the tests/cli suites' setup shares (bats `load env`).

# The build under test and the sanitizers' exit code: in a sanitizer build a
# report must not pass for "some files failed".
cli_env() {
	B=${SANDRUN_BUILD:?SANDRUN_BUILD must point to the build directory}
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:exitcode=86"
	SANDRUN=$B/sandrun
}

# The media every CLI suite starts from, in a fresh $W (the working
# directory): three short WAVs (one in a subdirectory) and 2000 bytes of
# garbage. The real analyzer is used unless a test says otherwise.
cli_media() {
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/media/sub"
	cd "$W" || return 1
	sox -n -r 8000 -c 1 media/a.wav synth 0.2 sine 440
	sox -n -r 16000 -c 2 media/b.wav synth 0.3 sine 220
	sox -n -r 8000 -c 1 media/sub/c.wav synth 0.2 sine 330
	head -c 2000 /dev/urandom >media/garbage.bin
	unset SANDRUN_ANALYZER
}
