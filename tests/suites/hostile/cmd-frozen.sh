# plan: 2
# cgroup v1: a runner SIGKILLed while its jobs are paused (SIGUSR1 froze
# their freezer cgroups) must not leave them frozen (a frozen v1 task
# ignores SIGKILL). 1: each paused job's thaw guard (sandbox/thaw_guard.c)
# thaws it when the runner dies, and the jobs die at once, with no other
# runner. 2: if the guards are SIGKILLed too (a unit's final SIGKILL to its
# whole cgroup), the next runner's sweep thaws, kills and removes them
# within a bounded time. Without a v1 freezer hierarchy (pure cgroup v2
# hosts, the QEMU guest) both are skipped visibly.
_fzmnt=/sys/fs/cgroup/freezer
if ! awk '$2 == "/sys/fs/cgroup/freezer" && $3 == "cgroup" { f = 1 } END { exit !f }' /proc/mounts; then
	N=$((N + 2))
	echo "ok $((N - 1)) # SKIP no cgroup v1 freezer"
	echo "ok $N # SKIP no cgroup v1 freezer"
else
	# Start a runner with two sleeping jobs and pause them; sets _rp, _jobs, _pids.
	frozen_runner() { # TAG
		mkdir -p "$T/$1"
		for _i in 1 2 3 4; do echo "$_i" >"$T/$1/f$_i"; done
		"$SANDRUN" run --db "$T/$1.db" --cmd '/bin/sleep 60' --timeout 90 -j 2 "$T/$1"/f* \
			>"$T/$1.out" 2>"$T/$1.err" &
		_rp=$!
		_jobs=""
		for _w in $(seq 1 100); do
			_jobs=$(find "$_fzmnt" -maxdepth 5 -type d -path "*/sandrun-$_rp-*/*" 2>/dev/null)
			[ "$(printf '%s\n' "$_jobs" | grep -c .)" -ge 2 ] && break
			sleep 0.1
		done
		[ -n "$_jobs" ] || fail "no job cgroups of runner $_rp appeared: $(head -c 300 "$T/$1.err")"
		kill -USR1 "$_rp"
		_frozen=0
		for _w in $(seq 1 100); do
			_frozen=0
			for _j in $_jobs; do
				[ "$(cat "$_j/freezer.state" 2>/dev/null)" = FROZEN ] && _frozen=$((_frozen + 1))
			done
			[ "$_frozen" -ge 2 ] && break
			sleep 0.1
		done
		[ "$_frozen" -ge 2 ] || fail "the paused jobs' cgroups are not FROZEN ($_frozen)"
		_pids=$(for _j in $_jobs; do cat "$_j/cgroup.procs" 2>/dev/null; done)
	}
	pids_left() { for _p in $_pids "$@"; do [ -e "/proc/$_p" ] && echo "$_p:$(awk '{print $3}' "/proc/$_p/stat")"; done | tr '\n' ' '; }
	thaw_left() { # leave no frozen task behind on the host, whatever happened
		for _j in $_jobs; do [ -e "$_j/freezer.state" ] && echo THAWED >"$_j/freezer.state"; done 2>/dev/null
	}
	
	# 1: the guards thaw the jobs when the runner dies.
	frozen_runner fz1
	_guards=$(pgrep -P "$_rp" -x sandrun-thaw | tr '\n' ' ')
	[ "$(echo $_guards | wc -w)" -ge 2 ] || fail "expected a thaw guard per paused job, found: '${_guards}'"
	kill -KILL "$_rp"
	wait "$_rp" 2>/dev/null
	_stuck=""
	for _w in $(seq 1 50); do
		_stuck=$(pids_left $_guards)
		[ -z "$_stuck" ] && break
		sleep 0.1
	done
	[ -z "$_stuck" ] || fail "paused jobs (or their guards) outlived their runner by 5 s: $_stuck"
	thaw_left
	"$SANDRUN" run --db "$T/fz1b.db" --cmd /bin/true --output text "$T/fz1/f1" >/dev/null 2>&1 # sweeps the dirs
	result "v1: a runner SIGKILLed with paused (frozen) jobs: their thaw guards thaw them and they die within 5 s, with no other runner"
	
	# 2: runner and guards SIGKILLed together; the next runner sweeps.
	frozen_runner fz2
	_guards=$(pgrep -P "$_rp" -x sandrun-thaw | tr '\n' ' ')
	kill -KILL "$_rp" $_guards
	wait "$_rp" 2>/dev/null
	sleep 0.3
	diag "runner $_rp and its guards SIGKILLed; still there before the next runner: $(pids_left)"
	_t0=$(date +%s%N)
	_rc=0
	timeout -k 5 60 "$SANDRUN" run --db "$T/fz2b.db" --cmd /bin/true --output text "$T/fz2/f1" \
		>"$T/fz2b.out" 2>"$T/fz2b.err" || _rc=$?
	_ms=$((($(date +%s%N) - _t0) / 1000000))
	[ "$_rc" = 0 ] || fail "the next runner: exit $_rc: $(head -c 300 "$T/fz2b.err")"
	[ "$_ms" -lt 3000 ] || fail "the next runner took $_ms ms (the sweep must be bounded and quick)"
	_left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "sandrun-$_rp-*" 2>/dev/null)
	[ -z "$_left" ] || fail "cgroup directories left: $_left"
	_stuck=$(pids_left)
	[ -z "$_stuck" ] || fail "job processes survived the sweep: $_stuck"
	thaw_left
	[ -s "$T/fz2b.err" ] && diag "its stderr: $(head -c 300 "$T/fz2b.err")"
	diag "the next runner took $_ms ms"
	result "v1: a runner SIGKILLed with paused jobs and their guards: the next runner thaws, kills and removes them in < 3 s"
fi
