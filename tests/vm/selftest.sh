#!/bin/sh
# tests/vm/selftest.sh BUILD_DIR — the self-test of the VM harness.
#
# It runs inside the guest (tests/vm/run.sh BUILD tests/vm/selftest.sh) and
# checks only what the harness promises, with no sandrun involved: a real
# cgroup2 hierarchy is mounted, with the memory, cpu and pids controllers
# enabled for children, and memory.max really OOM-kills.
# tests/vm/run.sh also runs it instead of tests/suites/sandbox.sh as long as
# that suite does not exist. POSIX sh (busybox); prints TAP.
set -u
B=${1:-}
cg=/sys/fs/cgroup
failed=0
ok() { echo "ok - selftest: $*"; }
notok() { echo "not ok - selftest: $*"; failed=$((failed + 1)); }
check() { # description command...
	desc=$1; shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}

echo "# selftest: BUILD_DIR=${B:-unset}"

# busybox stat has no name for cgroup2fs: compare the magic.
check "/sys/fs/cgroup is cgroup2" \
	test "$(stat -f -c %t "$cg" 2>/dev/null)" = 63677270

for c in memory cpu pids; do
	check "controller $c enabled for children" \
		grep -qw "$c" "$cg/cgroup.subtree_control"
done

# Run CMD... as the only process of cgroup $1; prints nothing, returns its
# exit status (137 when SIGKILLed).
in_cgroup() {
	dir=$1; shift
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' in-cgroup "$dir" "$@"
}
new_cgroup() {
	rmdir "$cg/$1" 2>/dev/null
	mkdir "$cg/$1" && echo "$cg/$1"
}

alloc=$(command -v sandrun-vm-alloc)
if [ -z "$alloc" ]; then
	notok "sandrun-vm-alloc is in the guest"
else
	# A control first: the allocator itself works under a loose limit.
	d=$(new_cgroup selftest-fits) && echo 128M >"$d/memory.max"
	out=$(in_cgroup "$d" "$alloc" 16 2>&1); rc=$?
	check "16 MiB fit in memory.max=128M (rc=$rc: $out)" test "$rc" -eq 0
	rmdir "$d" 2>/dev/null

	d=$(new_cgroup selftest-oom) && echo 64M >"$d/memory.max"
	[ -f "$d/memory.swap.max" ] && echo 0 >"$d/memory.swap.max"
	out=$(in_cgroup "$d" "$alloc" 200 2>&1); rc=$?
	check "200 MiB in memory.max=64M is SIGKILLed (rc=$rc${out:+: $out})" \
		test "$rc" -eq 137
	kills=$(awk '$1 == "oom_kill" {print $2}' "$d/memory.events")
	check "memory.events counts the OOM kill (oom_kill ${kills:-?})" \
		test "${kills:-0}" -ge 1
	rmdir "$d" 2>/dev/null
fi

d=$(new_cgroup selftest-pids) && echo 4 >"$d/pids.max"
in_cgroup "$d" sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait' 2>/dev/null
max=$(awk '$1 == "max" {print $2}' "$d/pids.events")
check "pids.max=4 refuses forks (pids.events max ${max:-?})" test "${max:-0}" -ge 1
echo 1 >"$d/cgroup.kill" 2>/dev/null
sleep 0.2
rmdir "$d" 2>/dev/null

d=$(new_cgroup selftest-cpu) && echo "50000 100000" >"$d/cpu.max"
check "cpu.max applies ($(cat "$d/cpu.max"))" \
	test "$(cat "$d/cpu.max")" = "50000 100000"
rmdir "$d" 2>/dev/null

[ "$failed" -eq 0 ]
