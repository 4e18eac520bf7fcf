#!/bin/bash
# tests/run.sh BUILD_DIR — run every test suite and end with one line:
#   N passed, N failed
# Every suite speaks TAP. Suites that start sandboxes run inside an outer
# throwaway namespace (tests/lib/outer-ns.sh), so a broken sandbox cannot
# reach the machine. A suite that dies without reporting counts as a failure.
set -u
B=${1:-build/test}
B=$(realpath "$B")
cd "$(dirname "$0")/.."
export SANDRUN_BUILD=$B
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
logdir=$(mktemp -d /tmp/sandrun-tests.XXXXXX)
passed=0 failed=0

run_suite() { # name cmd...
	local name=$1; shift
	local log="$logdir/$name.tap"
	echo "# suite: $name"
	local t0=$SECONDS
	"$@" >"$log" 2>"$log.err"
	local rc=$?
	cat "$log"
	local ok notok
	ok=$(grep -cE '^ok ' "$log")
	notok=$(grep -cE '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		echo "not ok - suite $name exited $rc without a failing test"
		notok=$((notok + 1))
	fi
	if [ "$rc" -ne 0 ] || [ "$notok" -ne 0 ]; then
		echo "# stderr of $name (last 40 lines):"; tail -n 40 "$log.err" | sed 's/^/#   /'
	fi
	echo "# suite $name: $ok passed, $notok failed ($((SECONDS - t0)) s)"
	passed=$((passed + ok)); failed=$((failed + notok))
}

# 1. Unit tests of the pure logic: no root, no kernel features.
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit-$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done

# 2. Integration suites, each inside an outer throwaway namespace.
for s in tests/suites/*.sh; do
	[ -x "$s" ] || continue
	run_suite "$(basename "$s" .sh)" tests/lib/outer-ns.sh "$s" "$B"
done
for s in tests/cli/*.bats; do
	[ -f "$s" ] || continue
	run_suite "cli-$(basename "$s" .bats)" tests/lib/outer-ns.sh bats --tap "$s"
done

# 3. The same sandbox suite on a pure cgroup v2 kernel, under QEMU/TCG.
if [ -x tests/vm/run.sh ] && [ "${SANDRUN_SKIP_VM:-0}" != 1 ]; then
	run_suite vm-cgroup2 tests/vm/run.sh "$B"
fi

rm -rf "$logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
