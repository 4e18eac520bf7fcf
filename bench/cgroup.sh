# bench/cgroup.sh — sourced by bench/run.sh and bench/pg.sh (inside the
# outer namespace, after $cg_mode is set from `sandrun check --json`):
# enter_bench_cgroup / leave_bench_cgroup.
#
# sandrun sweeps "sandrun-<pid>-<start>" directories next to its own cgroup
# whose pid is not alive *in its pid namespace*; with several outer
# namespaces sharing one cgroup tree, a neighbour's sandrun can remove our
# run's directories. In a child cgroup of our own, only our runs are there.
CG_NAME=bench-sandrun-$(date +%s%N)
CG_DIRS=()
enter_bench_cgroup() {
	case $cg_mode in v1 | hybrid*) ;; *) return 0 ;; esac
	local c own real d seen
	for c in memory cpu cpuacct pids freezer; do
		own=$(awk -F: -v c="$c" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
		[ -n "$own" ] && [ -d "/sys/fs/cgroup/$c" ] || continue
		real=$(realpath "/sys/fs/cgroup/$c")
		d=$real${own%/}/$CG_NAME
		seen=0
		for x in "${CG_DIRS[@]}"; do [ "$x" = "$d" ] && seen=1; done
		[ $seen = 0 ] || continue
		mkdir "$d" && echo $$ >"$d/cgroup.procs" && CG_DIRS+=("$d")
	done
}
leave_bench_cgroup() {
	local d p
	for d in "${CG_DIRS[@]}"; do
		echo $$ >"${d%/*}/cgroup.procs" 2>/dev/null || true
	done
	for d in "${CG_DIRS[@]}"; do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -9 "$p" 2>/dev/null || true; done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
			rmdir "$d" 2>/dev/null && break
			sleep 0.2
		done
	done
}
