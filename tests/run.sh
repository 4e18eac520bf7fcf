#!/bin/bash
# tests/run.sh [--unit] BUILD_DIR — run the test suites and end with one line:
#   N passed, N failed, N skipped
# Every suite speaks TAP. A suite's results are counted against its plan
# (the "1..N" line): a suite that prints more results than it planned (a
# forked child that ran tests of its own), fewer (it died), none, or no
# plan at all is a failure, named. "ok N # SKIP why" and cmocka's
# "not ok N # SKIP name" are skips: counted and named, never passes.
#
# Suites that start sandboxes run inside an outer throwaway namespace
# (tests/lib/outer-ns.sh), so a broken sandbox cannot reach the machine.
#
#   --unit                       the unit tests only (make check: no root)
#   SANDRUN_EMULATE_NO_IA32=1    run everything as on a host without i386
#                                and x32 syscalls (tests/lib/no-ia32.c)
#   SANDRUN_SKIP_VM=1            no QEMU/TCG cgroup v2 run
set -u
unit_only=0
if [ "${1:-}" = --unit ]; then unit_only=1; shift; fi
B=${1:-build/test}
B=$(realpath "$B")
cd "$(dirname "$0")/.."
export SANDRUN_BUILD=$B
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
logdir=$(mktemp -d /tmp/sandrun-tests.XXXXXX)
passed=0 failed=0 skipped=0
skipped_names=() failed_names=()

wrap=()
if [ "${SANDRUN_EMULATE_NO_IA32:-0}" = 1 ]; then
	wrap=("$B/tests/no-ia32")
	echo "# emulating a host without i386 and x32 syscalls (tests/lib/no-ia32.c)"
fi

# Host capabilities, probed once for the whole run; every suite and unit
# test reads the same answer (tests/unit/testkit.h).
if [ -x "$B/tests/hostcaps" ]; then
	SANDRUN_HOST_CAPS=$("${wrap[@]}" "$B/tests/hostcaps") || SANDRUN_HOST_CAPS=""
	export SANDRUN_HOST_CAPS
	echo "# host: $SANDRUN_HOST_CAPS, $(nproc) CPUs, $(uname -r)"
fi

# count_tap NAME LOG RC — add LOG's results to the totals, judged by its plan.
count_tap() {
	local name=$1 log=$2 rc=$3
	local plan ok=0 notok=0 skip=0 n=0 line why
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -d. -f3)
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*) ;;
		*) continue ;;
		esac
		n=$((n + 1))
		if printf '%s\n' "$line" | grep -qiE '^(not )?ok [0-9]*[^#]*# *skip'; then
			skip=$((skip + 1))
			why=$(printf '%s\n' "$line" | sed -E 's/^(not )?ok [0-9]+ *-? *//')
			skipped_names+=("$name: $why")
		elif [ "${line#not ok }" != "$line" ]; then
			notok=$((notok + 1))
			failed_names+=("$name: ${line#not ok }")
		else
			ok=$((ok + 1))
		fi
	done <"$log"
	# "1..0 # SKIP why": the whole suite could not run here; one skip.
	if [ "$plan" = 0 ] && [ "$n" -eq 0 ]; then
		why=$(grep -m1 -iE '^1\.\.0 *# *skip' "$log" | sed -E 's/^1\.\.0 *# *[Ss][Kk][Ii][Pp] *//')
		if [ -n "$why" ]; then
			skip=1
			skipped_names+=("$name: the whole suite: $why")
		fi
	fi
	local bad=""
	if [ -z "$plan" ]; then
		bad="printed no TAP plan"
	elif [ "$n" -ne "$plan" ]; then
		bad="printed $n results for a plan of $plan"
	elif [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		bad="exited $rc without a failing test"
	fi
	if [ -n "$bad" ]; then
		echo "not ok - suite $name $bad"
		notok=$((notok + 1))
		failed_names+=("$name: suite $bad")
	fi
	if [ "$notok" -ne 0 ]; then
		echo "# stderr of $name (last 40 lines):"; tail -n 40 "$log.err" | sed 's/^/#   /'
	fi
	echo "# suite $name: $ok passed, $notok failed, $skip skipped"
	passed=$((passed + ok)); failed=$((failed + notok)); skipped=$((skipped + skip))
}

run_suite() { # name cmd...
	local name=$1; shift
	local log="$logdir/$name.tap"
	echo "# suite: $name"
	local t0=$SECONDS
	"${wrap[@]}" "$@" >"$log" 2>"$log.err"
	local rc=$?
	cat "$log"
	echo "# $name took $((SECONDS - t0)) s"
	count_tap "$name" "$log" "$rc"
}

# 1. Unit tests of the pure logic: no root, no kernel features.
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit-$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done

if [ "$unit_only" = 0 ]; then
	# 1b. The unit tests again as on a host without i386 syscalls: the
	# capability checks must skip there, never crash or falsely pass.
	if [ "${SANDRUN_EMULATE_NO_IA32:-0}" != 1 ] && [ -x "$B/tests/no-ia32" ]; then
		caps=$("$B/tests/no-ia32" "$B/tests/hostcaps")
		# The suites with i386 checks: those whose source asks tk_have_ia32.
		for src in $(grep -l tk_have_ia32 tests/unit/test_*.c); do
			t=$B/tests/$(basename "$src" .c)
			[ -x "$t" ] || continue
			run_suite "noia32-$(basename "$t")" env SANDRUN_HOST_CAPS="$caps" \
				CMOCKA_MESSAGE_OUTPUT=TAP "$B/tests/no-ia32" "$t"
		done
	fi

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
		# ... and once more with every sandrun call made by an unprivileged
		# user in a delegated subtree (tests/vm/rootless.sh); newuidmap and
		# newgidmap (package uidmap) go into the guest, setuid root.
		if [ -u /usr/bin/newuidmap ] && [ -u /usr/bin/newgidmap ]; then
			run_suite vm-rootless env SANDRUN_VM_TOOLS="${SANDRUN_VM_TOOLS-sqlite3} newuidmap newgidmap" \
				tests/vm/run.sh "$B" tests/vm/rootless.sh
		else
			run_suite vm-rootless echo "1..0 # SKIP no setuid /usr/bin/newuidmap, newgidmap (apt-get install uidmap)"
		fi
	fi
fi

rm -rf "$logdir"
if [ "${#skipped_names[@]}" -gt 0 ]; then
	echo "# skipped:"
	printf '#   %s\n' "${skipped_names[@]}"
fi
if [ "${#failed_names[@]}" -gt 0 ]; then
	echo "# failed:"
	printf '#   %s\n' "${failed_names[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
