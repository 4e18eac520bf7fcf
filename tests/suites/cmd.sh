#!/bin/bash
# tests/suites/cmd.sh BUILD_DIR — `sandrun run --cmd`: custom analyzers.
#
# Bad specs fail before any job (exit 2, no database); {} and stdin; the
# environment (nothing of the runner's leaks); the input that the job's own uid
# cannot read; the spec key; the hostile probes of tests/probes as --cmd
# jobs in one batch, each with its outcome in the database; the hostile
# Python examples of examples/ in one batch with good files; resume after
# SIGKILL of the runner. Speaks TAP.
#
# Must run as root inside the outer test namespace (tests/lib/outer-ns.sh):
# the probes and examples are hostile. Needs bash, sqlite3, /usr/bin/python3
# with numpy and soundfile.
set -u
export LC_ALL=C

B=${1:-}
if [ -z "$B" ] || [ ! -d "$B" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
B=$(cd "$B" && pwd)
SANDRUN=$B/sandrun
P=$B/probes
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EX=$ROOT/examples
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/sandrun-cmd.XXXXXX") || exit 2
chmod 755 "$T"
UNIQ=$(date +%s)x$$x$RANDOM
TOKEN=sbxcmd$UNIQ
HANG=120
N=0
FAILED=0
WHY=""

cleanup() { rm -rf "$T"; }
trap cleanup EXIT

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
fail() { WHY="${WHY:+$WHY
}$*"; }
result() {
	N=$((N + 1))
	if [ -z "$WHY" ]; then
		echo "ok $N - $1"
	else
		echo "not ok $N - $1"
		diag "$WHY"
		FAILED=$((FAILED + 1))
	fi
	WHY=""
}
bail() { echo "Bail out! $*"; exit 1; }
q() { sqlite3 -batch -noheader "$1" "$2"; }

# outcome of PATH in DB: "outcome|status|exit_code|signal"
item() {
	q "$1" "SELECT i.last_outcome || '|' || i.status || '|' || IFNULL(a.exit_code,'') || '|' || IFNULL(a.signal,'')
	        FROM items i LEFT JOIN attempts a ON a.id = i.last_attempt WHERE i.path = '$2'"
}
expect_item() { # DB PATH PATTERN (a case glob over outcome|status|exit|signal)
	local got
	got=$(item "$1" "$2")
	# shellcheck disable=SC2254
	case $got in
	$3) ;;
	*) fail "$(basename "$2"): got '$got', expected '$3'" ;;
	esac
}

RC=0
# Hostile-tree checks: " DB:secret" when DB's results hold a TOPSECRET
# token, " DB:path-in-ro" when an item lies under DIR; nothing otherwise.
leaks() { # DB DIR
	[ "$(q "$1" "SELECT count(*) FROM results WHERE value LIKE '%TOPSECRET%'")" = 0 ] || printf ' %s:secret' "$(basename "$1")"
	[ "$(q "$1" "SELECT count(*) FROM items WHERE path LIKE '$2/%'")" = 0 ] || printf ' %s:path-in-ro' "$(basename "$1")"
}

run() { # sandrun run ARGS... ; stdout/stderr in $T/out $T/err, status in RC
	RC=0
	timeout -k 5 $HANG "$SANDRUN" run "$@" >"$T/out" 2>"$T/err" || RC=$?
}

[ "$(id -u)" = 0 ] || bail "must run as root (inside tests/lib/outer-ns.sh)"
[ -x "$SANDRUN" ] || bail "no $SANDRUN (make)"
for _p in crash mem_anon forkbomb spin daemonize hostfs netprobe listen_helper; do
	[ -x "$P/$_p" ] || bail "no probe $P/$_p (make programs)"
done
command -v sqlite3 >/dev/null || bail "sqlite3 is needed"
$PY -c 'import numpy, soundfile' 2>/dev/null || bail "$PY with numpy and soundfile is needed"

# The hostile-tree and hostile-job probes of --cmd jobs: one file per
# threat, tests/suites/hostile/cmd-*.sh, sourced at the end; each file's
# first line "# plan: K" adds its K tests to the plan.
PLAN=25
HOSTILE_DIR=$ROOT/tests/suites/hostile
for _f in "$HOSTILE_DIR"/cmd-*.sh; do
	[ -f "$_f" ] || continue
	_k=$(sed -n '1s/^# plan: \([0-9][0-9]*\)$/\1/p' "$_f")
	[ -n "$_k" ] || bail "$_f must start with '# plan: K'"
	PLAN=$((PLAN + _k))
done
echo "1..$PLAN"

# ---- inputs -------------------------------------------------------------
mkdir -p "$T/audio" "$T/ex"
$PY - "$T/audio" <<'EOF'
import sys, numpy as np, soundfile as sf
d = sys.argv[1]
rate = 16000
t = np.arange(rate) / rate
sf.write(f"{d}/sine440.wav", 0.5 * np.sin(2 * np.pi * 440 * t), rate)
sf.write(f"{d}/sine2k.flac", 0.25 * np.sin(2 * np.pi * 2000 * t), rate)
sf.write(f"{d}/stereo.wav", np.stack([0.1 * np.sin(2 * np.pi * 1000 * t)] * 2, axis=1), rate)
EOF
head -c 4096 /dev/urandom >"$T/audio/garbage.wav"
chmod 644 "$T"/audio/*

# ==== 1. bad specs: before any job, exit 2, no database ===================
bad_spec() { # DESCRIPTION EXPECTED-MESSAGE-REGEX ARGS...
	local what=$1 msg=$2
	shift 2
	rm -f "$T/bad.db"
	run --db "$T/bad.db" "$@" "$T/audio/sine440.wav"
	[ "$RC" = 2 ] || fail "exit status $RC, expected 2"
	grep -Eq -- "$msg" "$T/err" || fail "stderr lacks /$msg/: $(head -c 400 "$T/err")"
	[ -e "$T/bad.db" ] && fail "the database was created"
	[ -z "$WHY" ] && diag "$(head -n 1 "$T/err")"
	result "bad spec fails before any job: $what"
}
bad_spec "empty command" "empty" --cmd ''
bad_spec "unbalanced quotes" "quote" --cmd "python3 'features.py {}"
bad_spec "--bind-ro of a missing path" "--bind-ro $T/nonexistent: No such file" \
	--cmd 'cat {}' --bind-ro "$T/nonexistent"
bad_spec "a program not on the sandbox PATH" "no-such-program-$UNIQ.*not on the sandbox PATH" \
	--cmd "no-such-program-$UNIQ {}"
bad_spec "a program outside every bound path" "$P/crash is not visible in the sandbox" \
	--cmd "$P/crash exit 0"
bad_spec "a bad --ok-codes list" "ok-codes" --cmd 'cat' --ok-codes 'x,1'
bad_spec "--output other than json|text|blob" "--output" --cmd 'cat' --output yaml
bad_spec "--env NAME that is not set" "NOT_SET_$UNIQ is not set" --cmd 'cat' --env "NOT_SET_$UNIQ"

# ==== 2. {} and stdin; the bench's syntax ==================================
run --db "$T/true.db" --cmd '/bin/true {}' --output text "$T/audio/sine440.wav"
[ "$RC" = 0 ] || fail "--cmd '/bin/true {}' --output text: exit $RC: $(tail -n 2 "$T/err")"
expect_item "$T/true.db" "$T/audio/sine440.wav" "ok|done|0|"
run --db "$T/true2.db" --cmd /bin/true --output text "$T/audio/sine440.wav"
[ "$RC" = 0 ] || fail "--cmd /bin/true (stdin): exit $RC"
expect_item "$T/true2.db" "$T/audio/sine440.wav" "ok|done|0|"
run --db "$T/true3.db" --cmd '/bin/true {}' "$T/audio/sine440.wav"
expect_item "$T/true3.db" "$T/audio/sine440.wav" "bad_output|failed|*"
result "/bin/true with {} and on stdin (--output text); json (the default) makes empty output bad_output"

# ==== 3. features.py: a real analyzer ======================================
run --db "$T/feat.db" --cmd "python3 $EX/features.py {}" --bind-ro "$EX" --mem 512M --timeout 60 \
	-j 2 -r "$T/audio"
[ "$RC" = 1 ] || fail "exit status $RC, expected 1 (the garbage file fails)"
for _f in sine440.wav sine2k.flac stereo.wav; do
	expect_item "$T/feat.db" "$T/audio/$_f" "ok|done|0|"
done
expect_item "$T/feat.db" "$T/audio/garbage.wav" "exit_nonzero|failed|65|"
_c=$(q "$T/feat.db" "SELECT round(json_extract(r.value,'\$.spectral_centroid_hz')) FROM results r JOIN items i ON i.id=r.item_id WHERE i.path='$T/audio/sine440.wav'")
_n=$(q "$T/feat.db" "SELECT json_extract(r.value,'\$.file') FROM results r JOIN items i ON i.id=r.item_id WHERE i.path='$T/audio/sine2k.flac'")
[ "${_c%.*}" -ge 400 ] 2>/dev/null && [ "${_c%.*}" -le 480 ] || fail "centroid of a 440 Hz sine: '$_c'"
[ "$_n" = /input/sine2k.flac ] || fail "the file as the job saw it: '$_n', expected /input/sine2k.flac"
diag "centroid of sine440.wav: $_c Hz; sine2k.flac seen as $_n"
result "features.py: JSON results for 3 audio files at /input/<name> (extension kept), garbage -> exit_nonzero 65"

run --db "$T/feat2.db" --cmd "python3 $EX/features.py" --bind-ro "$EX" --mem 512M "$T/audio/stereo.wav"
_ch=$(q "$T/feat2.db" "SELECT json_extract(value,'\$.channels') FROM results")
[ "$RC" = 0 ] && [ "$_ch" = 2 ] || fail "exit $RC, channels '$_ch'"
result "features.py on stdin (no {})"

run --db "$T/feat3.db" --cmd "python3 $EX/features.py {}" --bind-ro "$EX" --ok-codes 3,65 --mem 512M \
	"$T/audio/garbage.wav"
expect_item "$T/feat3.db" "$T/audio/garbage.wav" "ok|done|65|"
result "--ok-codes 3,65 makes exit status 65 ok"

# ==== 4. environment, filesystem view, unreadable input ===================
SECRET_API_KEY=sk-$TOKEN PASSTHRU=from-runner run --db "$T/env.db" --output text \
	--cmd 'sh -c "env; echo cwd=$(pwd)"' --env PASSTHRU --env EXTRA=given "$T/audio/sine440.wav"
_env=$(q "$T/env.db" "SELECT value FROM results")
case $_env in *"$TOKEN"*) fail "the runner's SECRET_API_KEY reached the job" ;; esac
for _v in "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" HOME=/tmp LANG=C.UTF-8 PASSTHRU=from-runner EXTRA=given cwd=/; do
	printf '%s\n' "$_env" | grep -qx "$_v" || fail "missing $_v"
done
_extra=$(printf '%s\n' "$_env" | grep -Ev '^(PATH|HOME|LANG|PASSTHRU|EXTRA|PWD|cwd)=' || true)
[ -z "$_extra" ] || fail "unexpected variables: $_extra"
result "environment: PATH, HOME=/tmp, LANG, --env only; the runner's API key does not leak"

mkdir -p "$T/home-like" && echo "$TOKEN" >"$T/home-like/secret" && chmod 644 "$T/home-like/secret"
run --db "$T/fs.db" --output text --cmd \
	'sh -c "pwd; ls -d /home/* /root/* /work /srv 2>&1; cat {} | head -c 4; echo; touch {} 2>&1; ls /input; cat '"$T"'/home-like/secret 2>&1; grep \" /input/\" /proc/self/mountinfo; true"' \
	"$T/audio/sine440.wav"
_fs=$(q "$T/fs.db" "SELECT value FROM results")
printf '%s\n' "$_fs" | grep -qx /input || fail "the working directory is not /input"
printf '%s\n' "$_fs" | grep -q 'RIFF' || fail "the input could not be read at /input"
printf '%s\n' "$_fs" | grep -E ' /input/sine440.wav ro,nosuid,nodev,noexec' >/dev/null ||
	fail "the input is not mounted ro,nosuid,nodev,noexec"
printf '%s\n' "$_fs" | grep -q '^RIFF$' || fail "the input was not readable"
case $_fs in *"$TOKEN"*) fail "a host file outside the binds was readable" ;; esac
diag "$(printf '%s\n' "$_fs" | tr '\n' ';' | head -c 400)"
result "filesystem: cwd /input, the input read-only, no /home /root /work /srv or other host files"

# The batch runner makes each job's network namespace ahead of time
# (sbx_run_prepare): every job must still get its own, fresh and empty.
# Distinct only means something for jobs alive at the same time: the
# kernel reuses a freed namespace's inode number (an IDA), so all six run
# at once (-j 6) and stay until the last has started (sleep 2).
mkdir -p "$T/net" && chmod 755 "$T/net"
for _i in 1 2 3 4 5 6; do echo "$_i" >"$T/net/f$_i"; chmod 644 "$T/net/f$_i"; done
run --db "$T/net.db" --output text -j 6 \
	--cmd 'sh -c "readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d \" \"; cat /proc/net/unix | wc -l; sleep 2"' "$T/net"/f*
_ns=$(q "$T/net.db" "SELECT value FROM results" | grep '^net:' | sort)
[ "$(printf '%s\n' "$_ns" | grep -c .)" = 6 ] || fail "expected 6 results with a netns, got: $_ns"
[ "$(printf '%s\n' "$_ns" | sort -u | grep -c .)" = 6 ] || fail "jobs shared a network namespace: $_ns"
printf '%s\n' "$_ns" | grep -qx "$(readlink /proc/self/ns/net)" && fail "a job ran in the runner's network namespace"
_ifs=$(q "$T/net.db" "SELECT value FROM results" | grep -v '^net:' | grep . | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$_ifs" = " 6 1; 6 lo;" ] || fail "interfaces / unix sockets not (lo; none): $_ifs"
result "network: each batch job has its own fresh namespace (distinct, not the runner's, only lo, no unix sockets)"

cp "$T/audio/sine440.wav" "$T/private.wav" && chmod 600 "$T/private.wav"
run --db "$T/priv.db" --output text --cmd 'cat {}' "$T/private.wav"
expect_item "$T/priv.db" "$T/private.wav" "input_error|failed|*"
q "$T/priv.db" "SELECT last_error FROM items" | grep -q "world-readable" || fail "message: $(q "$T/priv.db" "SELECT last_error FROM items")"
[ "$(q "$T/priv.db" "SELECT count(*) FROM attempts WHERE counted=1")" = 0 ] || fail "an attempt was spent"
run --db "$T/priv2.db" --output blob --cmd 'cat' "$T/private.wav"
expect_item "$T/priv2.db" "$T/private.wav" "ok|done|0|"
_len=$(q "$T/priv2.db" "SELECT length(value) || typeof(value) FROM results")
[ "$_len" = "$(stat -c %s "$T/private.wav")blob" ] || fail "blob result: $_len"
diag "$(q "$T/priv.db" "SELECT last_error FROM items")"
result "a mode-600 input: input_error with {} (no attempt spent), fine on stdin (--output blob)"

# ==== 5. the spec key ======================================================
run --db "$T/feat.db" --cmd "python3 $EX/features.py {}" --bind-ro "$EX" --mem 512M --timeout 60 \
	-j 2 -r "$T/audio"
_att=$(q "$T/feat.db" "SELECT count(*) FROM attempts")
[ "$_att" = 4 ] || fail "the same spec ran again: $_att attempts"
run --db "$T/feat.db" --cmd "python3 $EX/features.py {}" --bind-ro "$EX" --mem 256M --timeout 60 \
	-j 2 -r "$T/audio"
_att2=$(q "$T/feat.db" "SELECT count(*) FROM attempts")
[ "$_att2" = 4 ] || fail "another --mem analyzed again: $_att2 attempts"
run --db "$T/feat.db" --cmd "python3 -B $EX/features.py {}" --bind-ro "$EX" --mem 256M --timeout 60 \
	-j 2 -r "$T/audio"
[ "$RC" = 2 ] || fail "another --cmd without --new-spec: exit $RC"
grep -q "differs in: --cmd" "$T/err" || fail "another --cmd: $(cat "$T/err")"
run --db "$T/feat.db" --cmd "python3 -B $EX/features.py {}" --bind-ro "$EX" --mem 256M --timeout 60 \
	-j 2 --new-spec -r "$T/audio"
_att3=$(q "$T/feat.db" "SELECT count(*) FROM attempts")
[ "$_att3" = 8 ] || fail "another --cmd did not analyze again: $_att3 attempts"
[ "$(q "$T/feat.db" "SELECT count(DISTINCT spec_key) FROM items")" = 1 ] || fail "items keep an old key"
result "the spec key: same spec skips done items, other limits too; another command stops, then analyzes again with --new-spec"

# ==== 6. the hostile probes as --cmd jobs, one batch ======================
"$P/listen_helper" 60 "$TOKEN" "$T/unix.sock" >"$T/listen.out" 2>&1 &
LISTENER=$!
for _i in $(seq 50); do grep -q '^ready' "$T/listen.out" 2>/dev/null && break; sleep 0.1; done
_port=$(sed -n 's/^tcp \([0-9][0-9]*\)$/\1/p' "$T/listen.out")
mkdir -p "$T/cases"
mk() { printf '%s\n' "$2" >"$T/cases/$1"; chmod 644 "$T/cases/$1"; }
mk exit3 "$P/crash exit 3"
mk segv "$P/crash segv"
mk abort "$P/crash abort"
mk mem_anon "$P/mem_anon"
mk forkbomb "$P/forkbomb"
mk spin "$P/spin"
mk daemonize "$P/daemonize $TOKEN"
mk hostfs "$P/hostfs r:/etc/shadow l:/root l:/home r:$ROOT/Makefile r:$T/home-like/secret W:/etc/$TOKEN W:$P/$TOKEN"
mk netprobe "$P/netprobe tcp:127.0.0.1:${_port:-9} abstract:$TOKEN unix:$T/unix.sock"
# The job's sh reads its case file and runs that probe line.
run --db "$T/probes.db" --output text --bind-ro "$P" --mem 64M --timeout 5 --pids 32 -j 2 --retries 0 \
	--cmd 'sh -c "exec $(cat \"$1\")" sh {}' -r "$T/cases"
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null
diag "$(q "$T/probes.db" "SELECT replace(path,'$T/cases/','') || ': ' || last_outcome || ' ' || IFNULL(last_error,'') FROM items ORDER BY path")"
expect_item "$T/probes.db" "$T/cases/exit3" "exit_nonzero|failed|3|"
expect_item "$T/probes.db" "$T/cases/segv" "signaled|failed||11"
expect_item "$T/probes.db" "$T/cases/abort" "signaled|failed||6"
result "probes: crash exit 3 / segv / abort -> exit_nonzero 3, signaled 11, signaled 6"
expect_item "$T/probes.db" "$T/cases/mem_anon" "oom|failed|*"
result "probes: mem_anon -> oom (--mem 64M)"
expect_item "$T/probes.db" "$T/cases/forkbomb" "timeout|failed|*"
expect_item "$T/probes.db" "$T/cases/spin" "timeout|failed|*"
sleep 0.5
pgrep -f "$P/forkbomb" >/dev/null && fail "forkbomb processes survived"
result "probes: forkbomb and spin -> timeout (--pids 32 --timeout 5), nothing left"
expect_item "$T/probes.db" "$T/cases/daemonize" "ok|done|0|"
pgrep -f "$TOKEN" >/dev/null && fail "the daemonized grandchild survived: $(pgrep -af "$TOKEN")"
result "probes: daemonize -> ok, its grandchild is gone with the job"
expect_item "$T/probes.db" "$T/cases/hostfs" "ok|done|0|"
[ -e "/etc/$TOKEN" ] || [ -e "$P/$TOKEN" ] && fail "a write reached the host"
expect_item "$T/probes.db" "$T/cases/netprobe" "ok|done|0|"
grep -q "accepted" "$T/listen.out" && fail "the host listener accepted a connection"
[ -n "$_port" ] || fail "no host TCP listener (listen_helper: $(head -c 200 "$T/listen.out"))"
result "probes: hostfs and netprobe -> ok (host files and listeners unreachable)"
run --db "$T/probes2.db" --output text --bind-ro "$P" --cpu-time 1 --timeout 20 --cmd "$P/spin" \
	"$T/cases/spin"
expect_item "$T/probes2.db" "$T/cases/spin" "cpu_limit|failed|*"
result "probes: spin -> cpu_limit (--cpu-time 1)"

# ==== 7. the hostile Python examples, one batch with good files ===========
cp "$EX"/hang_ctypes.py "$EX"/leak.py "$EX"/segfault.py "$EX"/nested_pool.py "$T/ex/"
cp "$T/audio/sine440.wav" "$T/audio/sine2k.flac" "$T/ex/"
chmod 644 "$T"/ex/*
_t0=$(date +%s)
run --db "$T/ex.db" --bind-ro "$EX" --mem 512M --timeout 20 --pids 64 -j 2 --retries 0 \
	--cmd "sh -c 'case \$1 in *.py) exec python3 \"\$1\";; *) exec python3 $EX/features.py \"\$1\";; esac' sh {}" \
	-r "$T/ex"
_t1=$(date +%s)
diag "$(q "$T/ex.db" "SELECT replace(i.path,'$T/ex/','') || ': ' || i.last_outcome || ' wall ' || a.wall_ms || ' ms, peak ' || (a.peak_memory_bytes>>20) || ' MiB' FROM items i JOIN attempts a ON a.id=i.last_attempt ORDER BY i.path")"
expect_item "$T/ex.db" "$T/ex/hang_ctypes.py" "timeout|failed|*"
expect_item "$T/ex.db" "$T/ex/leak.py" "oom|failed|*"
expect_item "$T/ex.db" "$T/ex/segfault.py" "signaled|failed||11"
expect_item "$T/ex.db" "$T/ex/nested_pool.py" "timeout|failed|*"
expect_item "$T/ex.db" "$T/ex/sine440.wav" "ok|done|0|"
expect_item "$T/ex.db" "$T/ex/sine2k.flac" "ok|done|0|"
# A hang guard, not a speed goal (each example has --timeout 20; the
# watchdog around every sandrun call is $HANG s).
[ $((_t1 - _t0)) -le $HANG ] || fail "the batch took $((_t1 - _t0)) s"
pgrep -f nested_pool.py >/dev/null && fail "nested_pool processes survived"
result "examples: hang_ctypes timeout, leak oom, segfault signaled 11, nested_pool timeout; the good files ok ($((_t1 - _t0)) s)"

# ==== 8. resume after SIGKILL of the runner ================================
mkdir -p "$T/slow"
for _i in 1 2 3 4 5 6 7 8; do echo "$_i" >"$T/slow/f$_i"; done
chmod 644 "$T"/slow/*
"$SANDRUN" run --db "$T/resume.db" --output text -j 2 --cmd 'sh -c "sleep 1; cat"' -r "$T/slow" \
	>"$T/r1.out" 2>"$T/r1.err" &
_pid=$!
sleep 2.5
kill -KILL "$_pid"
wait "$_pid" 2>/dev/null
_mid=$(q "$T/resume.db" "SELECT status || ':' || count(*) FROM items GROUP BY status ORDER BY status" | tr '\n' ' ')
diag "after SIGKILL: $_mid"
case $_mid in *done*) ;; *) fail "nothing was done before the kill: $_mid" ;; esac
case $_mid in *running*|*pending*) ;; *) fail "nothing was left to resume: $_mid" ;; esac
sleep 0.5
pgrep -f 'sleep 1' >/dev/null && fail "jobs outlived the killed runner"
run --db "$T/resume.db" --output text -j 2 --cmd 'sh -c "sleep 1; cat"' -r "$T/slow"
[ "$RC" = 0 ] || fail "the rerun: exit $RC: $(tail -n 2 "$T/err")"
[ "$(q "$T/resume.db" "SELECT count(*) FROM items WHERE status='done'")" = 8 ] || fail "not all done"
_bad=$(q "$T/resume.db" "SELECT count(*) FROM attempts WHERE ended_at IS NULL OR outcome IS NULL")
[ "$_bad" = 0 ] || fail "$_bad attempts never ended"
_inc=$(q "$T/resume.db" "SELECT count(*) FROM items i WHERE i.attempts != (SELECT count(*) FROM attempts a WHERE a.item_id=i.id AND a.counted=1)")
[ "$_inc" = 0 ] || fail "$_inc items whose attempts count disagrees with their attempts"
_res=$(q "$T/resume.db" "SELECT count(*) FROM results r JOIN items i ON i.id=r.item_id WHERE r.value = substr(i.path, -1) || char(10)")
[ "$_res" = 8 ] || fail "$_res of 8 results are right"
diag "attempts: $(q "$T/resume.db" "SELECT outcome || ':' || count(*) FROM attempts GROUP BY outcome" | tr '\n' ' ')"
result "--cmd jobs resume after SIGKILL of the runner: all done, attempts consistent"

for _f in "$HOSTILE_DIR"/cmd-*.sh; do
	[ -f "$_f" ] || continue
	# shellcheck disable=SC1090
	. "$_f"
done

if [ "$N" -ne "$PLAN" ]; then
	N=$((N + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $N - the suite ran $((N - 1)) tests but planned $PLAN"
fi
if [ "$FAILED" -gt 0 ]; then
	diag "$FAILED of $N failed"
	exit 1
fi
exit 0
