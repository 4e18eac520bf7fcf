# plan: 1
# cgroup v1: a runner SIGKILLed while its jobs are paused (SIGUSR1 froze
# their freezer cgroups) must not leave them frozen forever. The next
# runner's sweep thaws what it kills, waits for the tasks to go and removes
# the directories, within a bounded total time. Without a v1 freezer
# hierarchy (pure cgroup v2 hosts, the QEMU guest) this is skipped visibly.
_fzmnt=/sys/fs/cgroup/freezer
if ! awk '$2 == "/sys/fs/cgroup/freezer" && $3 == "cgroup" { f = 1 } END { exit !f }' /proc/mounts; then
	N=$((N + 1))
	echo "ok $N # SKIP no cgroup v1 freezer"
else
	mkdir -p "$T/fz"
	for _i in 1 2 3 4; do echo "$_i" >"$T/fz/f$_i"; done
	"$SANDRUN" run --db "$T/fz.db" --cmd '/bin/sleep 60' --timeout 90 -j 2 "$T"/fz/f* \
		>"$T/fz.out" 2>"$T/fz.err" &
	_rp=$!
	_jobs=""
	for _w in $(seq 1 100); do
		_jobs=$(find "$_fzmnt" -maxdepth 5 -type d -path "*/sandrun-$_rp-*/*" 2>/dev/null)
		[ "$(printf '%s\n' "$_jobs" | grep -c .)" -ge 2 ] && break
		sleep 0.1
	done
	[ -n "$_jobs" ] || fail "no job cgroups of runner $_rp appeared: $(head -c 300 "$T/fz.err")"
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
	kill -KILL "$_rp"
	wait "$_rp" 2>/dev/null
	sleep 0.3
	_stuck=$(for _p in $_pids; do [ -e "/proc/$_p" ] && echo "$_p:$(awk '{print $3}' "/proc/$_p/stat")"; done | tr '\n' ' ')
	diag "runner $_rp SIGKILLed with paused jobs; still there before the next runner: ${_stuck:-none}"
	# The next runner sweeps them at its start.
	_t0=$(date +%s%N)
	_rc=0
	timeout -k 5 60 "$SANDRUN" run --db "$T/fz2.db" --cmd /bin/true --output text "$T/fz/f1" \
		>"$T/fz2.out" 2>"$T/fz2.err" || _rc=$?
	_ms=$((($(date +%s%N) - _t0) / 1000000))
	[ "$_rc" = 0 ] || fail "the next runner: exit $_rc: $(head -c 300 "$T/fz2.err")"
	[ "$_ms" -lt 3000 ] || fail "the next runner took $_ms ms (the sweep must be bounded and quick)"
	_left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "sandrun-$_rp-*" 2>/dev/null)
	[ -z "$_left" ] || fail "cgroup directories left: $_left"
	for _p in $_pids; do
		[ -e "/proc/$_p" ] && fail "job process $_p survived: state $(awk '{print $3}' "/proc/$_p/stat" 2>/dev/null)"
	done
	# Whatever the outcome, leave no frozen task behind on the host.
	for _j in $_jobs; do [ -e "$_j/freezer.state" ] && echo THAWED >"$_j/freezer.state"; done 2>/dev/null
	[ -s "$T/fz2.err" ] && diag "its stderr: $(head -c 300 "$T/fz2.err")"
	diag "the next runner took $_ms ms"
	result "v1: a runner SIGKILLed with paused (frozen) jobs: the next runner thaws, kills and removes them in < 3 s"
fi
