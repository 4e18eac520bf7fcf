#!/bin/sh
# tests/suites/sandbox.sh BUILD_DIR — the hostile probe suite of the sandbox.
#
# Runs every probe of tests/probes/ (built as BUILD_DIR/probes/*) inside
# `BUILD_DIR/sandrun exec --json --bind-ro BUILD_DIR/probes`, and checks both
# sandrun's verdict (JSON outcome, exit status) and the probe's own verdict
# (exit 0 = refused, non-zero = it got through), plus what can only be seen
# from outside: files that must not appear on the host, host listeners that
# must not be reached, a host process that must survive, processes and
# cgroups that must not be left behind. Speaks TAP.
#
# Must run as root inside the outer test namespace (tests/lib/outer-ns.sh):
# the probes are hostile. POSIX sh + busybox applets only (it also runs in a
# busybox-only QEMU guest on a pure cgroup v2 kernel): no bash, no jq.
#
# Environment:
#   SANDRUN_AS=CMD            run every sandrun call through CMD (one word, a
#                             program that runs its arguments as another,
#                             unprivileged user): the rootless run of
#                             tests/vm/rootless.sh; SANDRUN_AS_UID is that uid
#   SANDRUN_SUITE_VERBOSE=1   print the diagnostics of passing tests too
#   SANDRUN_BIGOUT_MIB=N      size of the big-output test (default 1024)
set -u
export LC_ALL=C

B=${1:-}
if [ -z "$B" ] || [ ! -d "$B" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
B=$(cd "$B" && pwd)
SANDRUN=$B/sandrun
AS=${SANDRUN_AS:-}   # empty: sandrun runs as the suite's own user (root)
P=$B/probes
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERBOSE=${SANDRUN_SUITE_VERBOSE:-0}
BIG_MIB=${SANDRUN_BIGOUT_MIB:-1024}
HANG=60                          # the watchdog around every sandrun call
# unique name for files, processes and cgroups of this run (the suite is
# pid 1 of its outer namespace, so $$ alone is the same in every run)
UNIQ=$(date +%s)x$(od -An -N4 -tu4 /dev/urandom 2>/dev/null | tr -d ' ')x$$
TOKEN=sbxprobe$UNIQ
T=$(mktemp -d "${TMPDIR:-/tmp}/sandrun-suite.XXXXXX") || exit 2
# without root, sandrun writes its outputs, stores and caches here
[ -n "$AS" ] && chown "${SANDRUN_AS_UID:?SANDRUN_AS needs SANDRUN_AS_UID}" "$T"
PLAN=42
# The hostile-tree and hostile-job probes live one file per threat in
# tests/suites/hostile/sbx-*.sh, sourced at the end (section 13b). Each
# file's first line "# plan: K" adds its K tests to the plan.
HOSTILE_DIR=$ROOT/tests/suites/hostile
for _f in "$HOSTILE_DIR"/sbx-*.sh; do
	[ -f "$_f" ] || continue
	_k=$(sed -n '1s/^# plan: \([0-9][0-9]*\)$/\1/p' "$_f")
	[ -n "$_k" ] || { echo "1..1"; echo "not ok 1 - $_f starts with '# plan: K'"; exit 1; }
	PLAN=$((PLAN + _k))
done

N=0
FAILED=0
WHY=""
OUT=/dev/null ERR=/dev/null RC="" ELAPSED=0 JSON="" SBX_PTY=0

# ---- TAP ---------------------------------------------------------------

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

fail() { # reason — one more reason why the current test fails
	if [ -z "$WHY" ]; then WHY=$*; else WHY="$WHY
$*"; fi
}

show_run() { # the last sandrun call, as diagnostics
	echo "# sandrun exit status: ${RC:-?} after ${ELAPSED}s"
	echo "# json: ${JSON:-<none>}"
	if [ -s "$OUT" ]; then
		echo "# stdout:"
		tr -d '\000' <"$OUT" | grep -v '^ *{ *"outcome"' | head -n 60 | sed 's/^/#   /'
	fi
	if [ -s "$ERR" ]; then
		echo "# stderr:"
		head -n 40 "$ERR" | sed 's/^/#   /'
	fi
}

result() { # description — ok / not ok from $WHY, then reset
	N=$((N + 1))
	if [ -z "$WHY" ]; then
		echo "ok $N - $1"
		[ "$VERBOSE" = 1 ] && show_run
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $1"
		printf '%s\n' "$WHY" | sed 's/^/#   FAIL: /'
		show_run
	fi
	WHY=""
}

skip() { # description reason
	N=$((N + 1))
	echo "ok $N - $1 # SKIP $2"
	WHY=""
}

# ---- small helpers -------------------------------------------------------

nap() { sleep 0.2 2>/dev/null || usleep 200000 2>/dev/null || sleep 1; }

# The watchdog: busybox timeout (new: [-k SECS] SECS, old: -t SECS) or
# coreutils; SIGTERM first (sandrun cleans up), SIGKILL 5 s later.
if timeout -k 5 5 true 2>/dev/null; then
	TO="timeout -k 5 $HANG"
elif timeout 5 true 2>/dev/null; then
	TO="timeout $HANG"
elif timeout -t 5 true 2>/dev/null; then
	TO="timeout -t $HANG"
else
	TO=""
fi

# JSON field access with sed (one flat object, no nesting).
jget() { # field -> the string value, the number, or "null"; "" if absent
	_v=$(printf '%s\n' "$JSON" | sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p")
	[ -n "$_v" ] || _v=$(printf '%s\n' "$JSON" | sed -n "s/.*\"$1\" *: *\([-0-9.a-z]*\).*/\1/p")
	printf '%s' "$_v"
}

parse_json() { # file — sets JSON and the fields
	JSON=$(tr -d '\000' <"$1" | grep '{ *"outcome"' | tail -n 1 | sed 's/^.*\({ *"outcome"\)/\1/')
	OUTCOME=$(jget outcome)
	SYSCALL=$(jget syscall)
	WALL_MS=$(jget wall_ms)
	CPU_MS=$(jget cpu_ms)
	PEAK=$(jget peak_memory_bytes)
	OOM_KILLS=$(jget oom_kills)
	ERROR=$(jget error)
}

# sbx NAME [exec options] -- CMD [ARG...]
# Runs sandrun exec --json --bind-ro $P ... with stdin from /dev/null (or,
# with SBX_PTY=1, with a fresh terminal as stdin and controlling terminal;
# with SBX_PTY=n, with a fresh terminal as stdin that is nobody's
# controlling terminal).
# Sets OUT, ERR (files), RC, ELAPSED and the JSON fields.
sbx() {
	_name=$1
	shift
	OUT=$T/$_name.out
	ERR=$T/$_name.err
	_t0=$(date +%s)
	case $SBX_PTY in
	1) $TO $AS "$P/pty_run" "$SANDRUN" exec --json --bind-ro "$P" "$@" \
		</dev/null >"$OUT" 2>"$ERR" ;;
	n) $TO $AS "$P/pty_run" -n "$SANDRUN" exec --json --bind-ro "$P" "$@" \
		</dev/null >"$OUT" 2>"$ERR" ;;
	*) $TO $AS "$SANDRUN" exec --json --bind-ro "$P" "$@" </dev/null >"$OUT" 2>"$ERR" ;;
	esac
	RC=$?
	ELAPSED=$(($(date +%s) - _t0))
	parse_json "$OUT"
	if [ "$ELAPSED" -ge "$HANG" ]; then
		fail "sandrun HUNG: killed by the suite's ${HANG}s watchdog"
	fi
}

expect_outcome() { # outcome...  (any of)
	for _o in "$@"; do [ "$OUTCOME" = "$_o" ] && return 0; done
	if [ -z "$JSON" ]; then
		fail "no JSON line on stdout (expected outcome $*)"
	else
		fail "outcome '$OUTCOME', expected $*"
	fi
}

expect_rc() { # status
	[ "$RC" = "$1" ] || fail "sandrun exit status $RC, expected $1"
}

expect_field() { # field value
	_g=$(jget "$1")
	[ "$_g" = "$2" ] || fail "$1 is '${_g:-<absent>}', expected $2"
}

expect_out() { # regex — must appear in the job's stdout
	tr -d '\000' <"$OUT" | grep -q -e "$1" || fail "stdout lacks /$1/"
}

expect_no_out() { # regex — must not appear in the job's stdout
	_l=$(tr -d '\000' <"$OUT" | grep -e "$1" | head -n 5)
	[ -z "$_l" ] || fail "stdout has: $_l"
}

num_ge() { # value min — numeric and >= min
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ "$1" -ge "$2" ]
}

num_lt() { # value max — numeric and < max
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ "$1" -lt "$2" ]
}

# Every process (of the outer pid namespace) whose command line contains
# the string, as "PID CMDLINE" lines. Our own shell is skipped.
procs_like() {
	for _d in /proc/[0-9]*; do
		_pid=${_d#/proc/}
		[ "$_pid" = "$$" ] && continue
		_cmd=$(tr '\000' ' ' 2>/dev/null <"$_d/cmdline") || continue
		case $_cmd in
		"timeout "*) ;; # the suite's own watchdog (busybox's lingers ~1 s)
		*"$1"*) printf '%s %s\n' "$_pid" "$_cmd" ;;
		esac
	done
}

# Every process whose executable is sandrun.
SANDRUN_REAL=$(readlink -f "$SANDRUN" 2>/dev/null || echo "$SANDRUN")
sandrun_procs() {
	for _d in /proc/[0-9]*; do
		_e=$(readlink "$_d/exe" 2>/dev/null) || continue
		[ "$_e" = "$SANDRUN_REAL" ] && printf '%s\n' "${_d#/proc/}"
	done
}

expect_no_procs() { # string — no process with it on its command line
	_left=$(procs_like "$1")
	if [ -n "$_left" ]; then # allow a moment for the kill to land
		sleep 1
		_left=$(procs_like "$1")
		[ -n "$_left" ] && fail "processes left behind: $(printf '%s\n' "$_left" | head -n 10)"
	fi
}

# ---- cgroups -------------------------------------------------------------
# sandrun makes its cgroups, named sandrun-*, under its own cgroup. Other
# people may run sandrun on the same host at the same time, so on v1/hybrid
# the suite moves itself into a fresh cgroup of its own in each hierarchy
# sandrun uses and looks for leftovers only below those. On pure v2 the
# suite stays where it is (a v2 cgroup with processes cannot hold child
# cgroups with controllers) and looks below its own cgroup.
CG_DIRS=""
CG_MODE=none
CG_NOTE=""
cg_setup() {
	[ -r /proc/self/cgroup ] || return 0
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		CG_MODE=v2
		_p=$(sed -n 's/^0:://p' /proc/self/cgroup)
		CG_DIRS=/sys/fs/cgroup${_p%/}
		return 0
	fi
	CG_MODE=v1
	[ -d /sys/fs/cgroup/unified ] && CG_MODE=hybrid
	while IFS=: read -r _id _ctrl _path; do
		case ",$_ctrl," in
		,,) _mnt=/sys/fs/cgroup/unified ;;
		*,memory,* | *,cpu,* | *,cpuacct,* | *,pids,* | *,freezer,*) _mnt=/sys/fs/cgroup/$_ctrl ;;
		*) continue ;;
		esac
		[ -d "$_mnt" ] || continue
		_dir=$_mnt${_path%/}/sandrun_suite.$UNIQ
		if _e=$(mkdir "$_dir" 2>&1 && echo $$ 2>&1 >"$_dir/cgroup.procs"); then
			CG_DIRS="$CG_DIRS $_dir"
		else
			rmdir "$_dir" 2>/dev/null
			CG_DIRS="$CG_DIRS $_mnt${_path%/}"
			CG_NOTE="$CG_NOTE could not use $_dir ($_e);"
		fi
	done </proc/self/cgroup
}

cg_leftovers() { # sandrun-* directories below our cgroups
	for _c in $CG_DIRS; do
		# (sandrun-supervisor is where a delegated sandrun moves its own
		# cgroup's processes, this suite's shell among them: not a leftover)
		find "$_c" -mindepth 1 -type d -name 'sandrun-*' ! -name sandrun-supervisor 2>/dev/null
	done
}

expect_no_cgroups() {
	_left=$(cg_leftovers)
	if [ -n "$_left" ]; then
		sleep 1
		_left=$(cg_leftovers)
		[ -n "$_left" ] && fail "cgroups left behind: $(printf '%s\n' "$_left" | head -n 10)"
	fi
}

cg_teardown() {
	for _c in $CG_DIRS; do
		case $_c in */sandrun_suite.$UNIQ) ;; *) continue ;; esac
		echo $$ >"${_c%/*}/cgroup.procs" 2>/dev/null
		# leftovers were reported; remove what is empty, deepest first
		# (a child of ours, e.g. busybox timeout's watcher, may need a
		# moment to exit)
		for _i in 1 2 3 4 5; do
			find "$_c" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$_c" ] || break
			sleep 1
		done
	done
}

LISTENER=""
SLEEPER=""
cleanup() {
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	[ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null
	exec 7<&- 8<&- 2>/dev/null
	cg_teardown
	rm -rf "$T"
	rm -f "/tmp/$TOKEN"* "/var/tmp/$TOKEN"* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ==== 0. can we run at all? ===============================================

cg_setup

bail() { # description reason...
	echo "1..1"
	echo "not ok 1 - $1"
	shift
	for _r in "$@"; do diag "FAIL: $_r"; done
	[ -n "$JSON$RC" ] && show_run
	exit 1
}

[ "$(id -u)" = 0 ] || bail "the suite runs as root" "uid is $(id -u)"
[ -x "$SANDRUN" ] || bail "sandrun exec runs a trivial job" "no executable $SANDRUN (build it first)"
for _p in crash spin sleeper mem_anon mem_memfd mem_shm forkbomb threadbomb daemonize \
	hostfs netprobe listen_helper hostproc privs tty pty_run fdscan blocked_syscall bigout; do
	[ -x "$P/$_p" ] || bail "the probes are built" "no executable $P/$_p (make programs)"
done

sbx exit0 -- "$P/crash" exit 0
expect_outcome ok
expect_rc 0
expect_field exit_code 0
expect_out 'crash: exit 0'
if [ -n "$WHY" ]; then
	case $RC in
	2) fail "exit status 2: usage error (is 'sandrun exec' implemented?)" ;;
	3) fail "exit status 3: isolation not available on this host" ;;
	125) fail "exit status 125: setup_error: $ERROR" ;;
	esac
	bail "sandrun exec runs a trivial job (crash exit 0) and reports ok" "$WHY"
fi

echo "1..$PLAN"
diag "sandrun: $SANDRUN"
# shellcheck disable=SC2086 # a list
diag "cgroups: $CG_MODE; leftovers looked for below:$(printf ' %s' $CG_DIRS)"
[ -n "$CG_NOTE" ] && diag "cgroups: $CG_NOTE"
[ -z "$TO" ] && diag "WARNING: no timeout utility: a hanging sandrun hangs the suite"
result "a clean job (crash exit 0): outcome ok, exit status 0, exit_code 0"

# The command is looked up on the job's own PATH, never on the runner's
# (which may name other directories, or a relative ".").
_jp=$($TO env PATH=/nonexistent-sandrun-path $AS "$SANDRUN" exec --json -- true </dev/null 2>&1)
case $_jp in *'"outcome":"ok"'*) ;; *) fail "with the runner's PATH=/nonexistent-sandrun-path: $_jp" ;; esac
result "the command is found on the job's PATH, not the runner's"

# ==== 1. how a job ends ===================================================

sbx exit3 -- "$P/crash" exit 3
expect_outcome exit_nonzero
expect_rc 3
expect_field exit_code 3
expect_field signal null
result "exit 3: outcome exit_nonzero, exit_code 3, exit status 3"

sbx segv -- "$P/crash" segv
expect_outcome signaled
expect_field signal 11
expect_field exit_code null
expect_rc 139
result "segfault: outcome signaled, signal 11, exit status 139"

sbx abort -- "$P/crash" abort
expect_outcome signaled
expect_field signal 6
expect_rc 134
result "abort(): outcome signaled, signal 6, exit status 134"

# ==== 2. memory bombs =====================================================

oom_checks() { # probe
	expect_outcome oom
	expect_rc 137
	expect_no_out 'LIMIT NOT ENFORCED'
	num_ge "$OOM_KILLS" 1 || fail "oom_kills is '$OOM_KILLS', expected >= 1"
	diag "$1: peak_memory_bytes $PEAK, oom_kills $OOM_KILLS"
}

sbx mem_anon --mem 64M --timeout 30 -- "$P/mem_anon"
oom_checks mem_anon
result "anonymous memory bomb under --mem 64M: outcome oom, exit status 137"

sbx mem_memfd --mem 64M --timeout 30 -- "$P/mem_memfd"
oom_checks mem_memfd
result "memfd (shmem) memory bomb under --mem 64M: outcome oom, exit status 137"

sbx mem_shm --mem 64M --timeout 30 -- "$P/mem_shm"
expect_no_out 'LIMIT NOT ENFORCED'
if [ "$OUTCOME" = oom ]; then
	expect_rc 137
	diag "mem_shm: ended by the OOM killer"
else
	expect_outcome oom ok
	expect_rc 0
	expect_out 'refused cleanly'
	[ -z "$WHY" ] && diag "mem_shm: $(grep -E 'ENOSPC|EFBIG' "$OUT" | head -n 1)"
fi
result "/dev/shm (tmpfs) bomb under --mem 64M: outcome oom, or a clean ENOSPC"

# ==== 3. fork and thread bombs ============================================

for _b in forkbomb threadbomb; do
	sbx $_b --pids 32 --timeout 2 --mem 128M -- "$P/$_b"
	expect_outcome timeout
	expect_rc 124
	expect_no_out 'LIMIT NOT ENFORCED'
	expect_out 'refused'
	result "$_b under --pids 32 --timeout 2: held (creation refused), outcome timeout, exit status 124"
	expect_no_procs "$P/$_b"
	result "$_b: no process of the bomb is left"
	expect_no_cgroups
	result "$_b: no sandrun-* cgroup is left"
done

# ==== 4. CPU and time =====================================================

sbx spin_timeout --timeout 2 -- "$P/spin"
expect_outcome timeout
expect_rc 124
num_ge "$WALL_MS" 1900 || fail "wall_ms '$WALL_MS' < 1900: stopped before the timeout"
num_lt "$WALL_MS" 10000 || fail "wall_ms '$WALL_MS' >= 10000: stopped far too late"
result "CPU spin under --timeout 2: outcome timeout, exit status 124, wall_ms ~2000"

sbx spin_cpu --cpu-time 1 --timeout 10 -- "$P/spin"
expect_outcome cpu_limit
expect_rc 124
num_ge "$CPU_MS" 900 || fail "cpu_ms '$CPU_MS' < 900: stopped before using 1 s of CPU"
num_lt "$WALL_MS" 9000 || fail "wall_ms '$WALL_MS': not stopped well before the 10 s timeout"
result "CPU spin under --cpu-time 1 --timeout 10: outcome cpu_limit, exit status 124"

sbx sleeper --timeout 2 -- "$P/sleeper"
expect_outcome timeout
expect_rc 124
num_ge "$WALL_MS" 1900 || fail "wall_ms '$WALL_MS' < 1900"
num_lt "$CPU_MS" 1000 || fail "cpu_ms '$CPU_MS': a sleeper should use almost no CPU"
result "sleep under --timeout 2: outcome timeout, exit status 124"

# ==== 5. a daemon left behind =============================================

sbx daemon --timeout 10 -- "$P/daemonize" "$TOKEN"
expect_outcome ok
expect_rc 0
expect_out 'daemon running'
result "daemonizing job (double fork + setsid): outcome ok when its main process exits"
expect_no_procs "$TOKEN"
result "the daemonized grandchild is gone once sandrun has returned"

# ==== 6. host files =======================================================

echo "secret of the host, $TOKEN" >"$T/secret"
_tree=$ROOT/Makefile
[ -r "$_tree" ] || _tree=$ROOT/tests/suites/sandbox.sh
# /root and /home must be invisible — unless the probes are bound below
# one of them: then the job sees the (empty) directories leading to them
_lists="" _names=""
for _d in /root /home; do
	case $P/ in
	"$_d"/*) diag "not listing $_d: the probes directory is bound below it" ;;
	*) _lists="$_lists l:$_d" _names="$_names $_d," ;;
	esac
done
# shellcheck disable=SC2086 # word splitting wanted
sbx hostfs --timeout 10 -- "$P/hostfs" r:/etc/shadow r:/etc/gshadow $_lists \
	"r:$_tree" "r:$T/secret" "w:/tmp/$TOKEN-tmp" "w:/var/tmp/$TOKEN-vartmp" \
	"W:/etc/$TOKEN-etc" "W:/usr/$TOKEN-usr" "W:$P/$TOKEN-probes"
expect_outcome ok
expect_rc 0
expect_out "r $_tree: "
result "host files: /etc/shadow, /etc/gshadow,$_names $_tree and a file in the host /tmp are unreadable"
for _f in "/tmp/$TOKEN-tmp" "/var/tmp/$TOKEN-vartmp" "/etc/$TOKEN-etc" "/usr/$TOKEN-usr" "$P/$TOKEN-probes"; do
	if [ -e "$_f" ]; then
		fail "$_f exists on the host"
		rm -f "$_f"
	fi
done
_f=$(find /tmp /var/tmp /etc "$P" -xdev -name "*$TOKEN*" 2>/dev/null | head -n 5)
[ -z "$_f" ] || fail "found on the host: $_f"
result "host files: writes to /tmp, /var/tmp, /etc, /usr and the probes dir did not reach the host"

# ==== 7. network ==========================================================

"$P/listen_helper" 60 "$TOKEN" "$T/unix.sock" >"$T/listen.out" 2>&1 &
LISTENER=$!
_i=0
while [ $_i -lt 50 ] && ! grep -q '^ready' "$T/listen.out" 2>/dev/null; do
	nap
	_i=$((_i + 1))
done
_port=$(sed -n 's/^tcp \([0-9][0-9]*\)$/\1/p' "$T/listen.out")
_targets=""
[ -n "$_port" ] && _targets="tcp:127.0.0.1:$_port"
grep -q '^abstract ' "$T/listen.out" && _targets="$_targets abstract:$TOKEN"
grep -q '^unix ' "$T/listen.out" && _targets="$_targets unix:$T/unix.sock"
if [ -n "$_targets" ]; then
	# shellcheck disable=SC2086 # word splitting wanted
	sbx net --timeout 20 -- "$P/netprobe" $_targets
fi
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null
LISTENER=""
for _k in tcp abstract unix; do
	case $_k in
	tcp) _d="network: a TCP listener on the host's 127.0.0.1${_port:+:$_port} is unreachable" ;;
	abstract) _d="network: a host abstract unix socket is unreachable" ;;
	unix) _d="network: a host unix socket at a path is unreachable" ;;
	esac
	if ! grep -q "^$_k [^u]" "$T/listen.out"; then
		skip "$_d" "no host listener: $(grep "^$_k" "$T/listen.out")"
		continue
	fi
	expect_outcome ok
	expect_rc 0
	expect_out "^$_k:"
	expect_no_out "^$_k:.*CONNECTED"
	grep -q "accepted $_k" "$T/listen.out" && fail "the host listener accepted a connection"
	result "$_d"
done

# ==== 8. host processes ===================================================

# a host process with a pid that cannot be one of the sandbox's own
_i=0
while :; do
	sleep 30 &
	SLEEPER=$!
	[ "$SLEEPER" -gt 100 ] || [ $_i -ge 200 ] && break
	kill "$SLEEPER"
	wait "$SLEEPER" 2>/dev/null
	_i=$((_i + 1))
done
sbx hostproc --timeout 10 -- "$P/hostproc" "$SLEEPER"
expect_outcome ok
expect_rc 0
expect_out 'kill(pid, SIGTERM):'
kill -0 "$SLEEPER" 2>/dev/null || fail "the host process $SLEEPER is gone"
kill "$SLEEPER" 2>/dev/null
wait "$SLEEPER" 2>/dev/null
SLEEPER=""
result "host process: kill(0/SIGTERM), ptrace, pidfd_open, /proc on a host pid all fail; it survives"

# ==== 9. privileges =======================================================

sbx privs --timeout 20 -- "$P/privs"
expect_outcome ok
expect_rc 0
expect_out '^privs: '
result "privileges: the privs probe ran to the end and everything was refused"
PRIVS_OUT=$OUT
privs_group() { # description regex — the probe's lines for this group
	_lines=$(grep -E "^($2)" "$PRIVS_OUT")
	if [ -z "$_lines" ]; then
		fail "no line of the probe matches /^($2)/"
	else
		_bad=$(printf '%s\n' "$_lines" | grep -E 'SUCCEEDED|BAD')
		[ -z "$_bad" ] || fail "$_bad"
	fi
	result "$1"
}
privs_group "privileges: not root (a uid = gid of its own, not 0 nor 65534, no group 0), NoNewPrivs 1, Seccomp 2" \
	'ids:|groups:|NoNewPrivs:|Seccomp:'
privs_group "privileges: no capability (Cap{Inh,Prm,Eff,Bnd,Amb} 0, capget empty, capset/ambient raise refused)" \
	'Cap|capget|capset|raise ambient'
privs_group "privileges: mount/umount/unshare/clone(NEWUSER)/clone3/setns/chroot/pivot_root refused" \
	'mount|bind-mount|remount|umount|unshare|clone|setns|chroot|pivot_root'
privs_group "privileges: setuid(0), setgid(0), setgroups refused" \
	'setuid|setgid|setgroups'
privs_group "privileges: RLIMIT_CORE hard 0, RLIMIT_FSIZE bounded, raising hard limits refused" \
	'RLIMIT_|setrlimit'
privs_group "privileges: keyctl, add_key, bpf, perf_event_open, userfaultfd, io_uring_setup, mknod, sethostname, finit_module, open_by_handle_at, iopl, ptrace, acct refused" \
	'keyctl|add_key|bpf|perf_event_open|userfaultfd|io_uring_setup|mknod|sethostname|finit_module|open_by_handle_at|iopl|ptrace|acct'

# ==== 10. the terminal ====================================================

# Two ways a terminal reaches a job: sandrun started from an interactive
# shell (the terminal is stdin and sandrun's controlling terminal), and a
# terminal as stdin that is nobody's controlling terminal (a job starting a
# session of its own could acquire it). pty_run provides both and counts
# the bytes pushed into the terminal's input queue.
for _mode in 1 n; do
	case $_mode in
	1) _d="terminal: a job started from an interactive terminal cannot TIOCSCTTY/TIOCSTI into it" ;;
	n) _d="terminal: a job given a terminal that is no one's controlling terminal cannot TIOCSTI into it, even after setsid+TIOCSCTTY" ;;
	esac
	SBX_PTY=$_mode # (not as a prefix: whether that outlives a function is unspecified)
	sbx tty$_mode --timeout 10 -- "$P/tty"
	SBX_PTY=0
	if [ "$RC" = 125 ] && grep -q 'pty_run: no pty' "$ERR"; then
		# no pseudo-terminal here; is there any terminal at all?
		if [ $_mode = 1 ] && { [ -t 0 ] || [ -t 1 ] || [ -t 2 ]; }; then
			sbx tty --timeout 10 -- "$P/tty"
			expect_outcome ok
			expect_rc 0
			result "terminal: TIOCSCTTY/TIOCSTI on fds 0-2 and /dev/tty are refused (no pty: stdin /dev/null)"
		else
			skip "$_d" "no tty: $(grep 'no pty' "$ERR")"
		fi
		continue
	fi
	expect_outcome ok
	expect_rc 0
	expect_out '^tty: '
	grep -q '^pty_run: injected 0$' "$ERR" ||
		fail "characters were pushed into the terminal: $(grep 'pty_run: injected' "$ERR")"
	grep -q '^stdin: terminal' "$OUT" ||
		diag "note: the terminal did not reach the job as stdin (sandrun replaced it)"
	_l=$(grep 'TIOCSCTTY: acquired' "$OUT")
	[ -n "$_l" ] && diag "note: the job could make the terminal its controlling terminal ($_l); only TIOCSTI being refused stopped the injection"
	result "$_d"
done

# ==== 11. descriptors =====================================================

echo "an open file of the host, $TOKEN" >"$T/fdfile"
exec 7<"$T/fdfile" 8</
sbx fds --timeout 10 -- "$P/fdscan"
exec 7<&- 8<&-
expect_out '^fdscan: '
expect_no_out 'LEAK'
result "descriptors: no file, directory or socket beyond 0, 1, 2 reaches the job (fds 7, 8 open in the caller)"
expect_outcome ok
expect_rc 0
expect_no_out 'EXTRA'
result "descriptors: nothing at all is open in the job beyond 0, 1, 2"

# ==== 12. seccomp =========================================================

sbx strict --policy strict --timeout 10 -- "$P/blocked_syscall"
expect_outcome seccomp
expect_rc 159
expect_field signal 31
expect_out 'calling socket'
expect_no_out 'NOT KILLED'
case $SYSCALL in
socket) ;;
null | "") diag "note: syscall is '${SYSCALL:-<absent>}', the blocked call (socket) is not named" ;;
*) fail "syscall is '$SYSCALL', expected socket" ;;
esac
result "socket() under --policy strict: outcome seccomp, signal 31, exit status 159, syscall socket"

# The same from the compiled-policy cache (docs/policy.md), in a cache of
# its own: the first run compiles and writes the entry, the second installs
# it (a hit leaves the entry alone; a miss renames a new one in), and a
# group-writable entry is not used but replaced.
_saved_cache=${SANDRUN_CACHE_DIR-}
export SANDRUN_CACHE_DIR="$T/policy-cache"
_entry() { ls "$SANDRUN_CACHE_DIR/policy/"*.bpf 2>/dev/null; }
_strict_killed() {
	expect_outcome seccomp
	expect_rc 159
	expect_field signal 31
	expect_no_out 'NOT KILLED'
}
sbx strict-miss --policy strict --timeout 10 -- "$P/blocked_syscall"
_strict_killed
_e=$(_entry)
[ "$(printf '%s\n' "$_e" | grep -c '\.bpf$')" = 1 ] || fail "expected one entry in \$SANDRUN_CACHE_DIR/policy, found: ${_e:-none}"
_ino=$(stat -c %i "$_e" 2>/dev/null)
sbx strict-hit --policy strict --timeout 10 -- "$P/blocked_syscall"
_strict_killed
[ "$(stat -c %i "$_e" 2>/dev/null)" = "$_ino" ] || fail "the second run rewrote the entry: not a cache hit"
chmod g+w "$_e"
sbx strict-groupw --policy strict --timeout 10 -- "$P/blocked_syscall"
_strict_killed
if [ "$(stat -c %i "$_e" 2>/dev/null)" = "$_ino" ] || [ "$(stat -c %a "$_e" 2>/dev/null)" != 600 ]; then
	fail "a group-writable entry was used (not replaced by a new 0600 one)"
fi
export SANDRUN_CACHE_DIR="$_saved_cache"
result "socket() under --policy strict from the policy cache: miss, hit, group-writable entry replaced; seccomp each time"

# ==== 13. a gigabyte of output ============================================

OUT=$T/big.last
ERR=$T/big.err
rm -f "$T/big.fifo"
mkfifo "$T/big.fifo"
# the reader keeps only the end of the stream: the trailer and the JSON
tail -c 4096 <"$T/big.fifo" >"$OUT" &
_tailpid=$!
_t0=$(date +%s)
$TO $AS "$SANDRUN" exec --json --bind-ro "$P" -- "$P/bigout" "$BIG_MIB" \
	</dev/null >"$T/big.fifo" 2>"$ERR" &
_spid=$!
_hwm=0
_samples=0
while kill -0 "$_spid" 2>/dev/null; do
	for _sp in $(sandrun_procs); do
		_kb=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB.*/\1/p' "/proc/$_sp/status" 2>/dev/null)
		case $_kb in '' | *[!0-9]*) continue ;; esac
		_samples=$((_samples + 1))
		[ "$_kb" -gt "$_hwm" ] && _hwm=$_kb
	done
	nap
done
wait "$_spid"
RC=$?
ELAPSED=$(($(date +%s) - _t0))
wait "$_tailpid" 2>/dev/null
parse_json "$OUT"
[ "$ELAPSED" -ge "$HANG" ] && fail "sandrun HUNG: killed by the suite's ${HANG}s watchdog"
expect_outcome ok
expect_rc 0
_want=$((BIG_MIB * 1048576))
grep -q "bigout: wrote $_want bytes" "$ERR" || fail "bigout did not write all $_want bytes"
tr -d '\000' <"$OUT" | grep -q "^bigout-end $_want\$" ||
	fail "the end of the stream lacks the trailer 'bigout-end $_want'"
diag "big output: $BIG_MIB MiB through a pipe in ${ELAPSED}s"
result "$BIG_MIB MiB of output through a pipe: outcome ok, the stream arrives whole at its end"
if [ "$_samples" -eq 0 ]; then
	fail "could not sample sandrun's VmHWM (no sandrun process seen while it ran)"
elif [ "$_hwm" -ge 65536 ]; then
	fail "sandrun's peak RSS (VmHWM) reached $_hwm kB"
fi
diag "sandrun VmHWM: max $_hwm kB over $_samples samples"
result "$BIG_MIB MiB of output: sandrun's own peak RSS stays under 64 MiB"

# ==== 13b. hostile trees and hostile jobs (tests/suites/hostile/sbx-*.sh) ==

for _f in "$HOSTILE_DIR"/sbx-*.sh; do
	[ -f "$_f" ] || continue
	# shellcheck disable=SC1090
	. "$_f"
done

# ==== 14. nothing left behind =============================================

expect_no_cgroups
if [ "$CG_MODE" != v2 ]; then
	_g=$(find /sys/fs/cgroup -type d -name 'sandrun-*' 2>/dev/null | head -n 10)
	[ -n "$_g" ] && diag "note: sandrun-* cgroups outside this suite's (other runs on this host?): $_g"
fi
result "after the suite: no sandrun-* cgroup directory is left"
_left=$(sandrun_procs)
[ -n "$_left" ] && fail "sandrun processes still running: $_left"
_left=$(procs_like "$P/")
[ -n "$_left" ] && fail "probe processes still running: $(printf '%s\n' "$_left" | head -n 10)"
_left=$(procs_like "$TOKEN")
[ -n "$_left" ] && fail "processes with the run's token still running: $(printf '%s\n' "$_left" | head -n 10)"
OUT=/dev/null ERR=/dev/null JSON="" RC=""
result "after the suite: no sandrun or probe process is left"

if [ "$N" -ne "$PLAN" ]; then
	N=$((N + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $N - the suite ran $((N - 1)) tests but planned $PLAN (fix PLAN)"
fi
[ "$FAILED" -eq 0 ]
