# plan: 10
# Identities, keyrings, the init and Landlock (issue 12, items 4, 7, 9, 12).
# Every job runs as a uid of its own (SBX_UID_BASE/COUNT, sandbox/sandbox.h),
# claimed with a lock across sandrun processes; its session keyring is a
# fresh one; its init shows no argv of the runner, is not dumpable and is
# under a seccomp filter of its own; Landlock confines the command's file
# access (command / code-only profiles) and, on ABI >= 6, its signals and
# abstract unix sockets to its own domain.
_ib=2147418112 _ic=4096
_id=$T/ident
mkdir -p "$_id" && chmod 777 "$_id"
_wait_file() { # file seconds — until it exists and is not empty
	_n=0
	while [ ! -s "$1" ] && [ "$_n" -lt $(($2 * 5)) ]; do nap; _n=$((_n + 1)); done
	[ -s "$1" ]
}

# ---- item 4: a uid per job, across sandrun processes ---------------------
rm -f "$_id/u1" "$_id/u2"
$TO $AS "$SANDRUN" exec --bind-ro "$P" --bind "$_id" -- /bin/sh -c \
	"\"$P/ident\" ids $_ib $_ic >\"$_id/u1\"; sleep 4" </dev/null >"$T/ident1.out" 2>&1 &
_pa=$!
_wait_file "$_id/u1" 20 || fail "the first job never wrote its ids"
sbx ident2 --bind "$_id" -- /bin/sh -c "\"$P/ident\" ids $_ib $_ic | tee \"$_id/u2\""
wait "$_pa"
expect_outcome ok
expect_rc 0
_u1=$(sed -n 's/^ids: uid \([0-9]*\)\/.*/\1/p' "$_id/u1")
_u2=$(sed -n 's/^ids: uid \([0-9]*\)\/.*/\1/p' "$_id/u2")
grep -q BAD "$_id/u1" "$_id/u2" && fail "$(cat "$_id/u1" "$_id/u2")"
{ [ -n "$_u1" ] && [ -n "$_u2" ] && [ "$_u1" != "$_u2" ]; } || fail "uids of two concurrent jobs: '$_u1' and '$_u2'"
diag "concurrent jobs of two sandrun processes ran as $_u1 and $_u2"
result "identity: two sandrun processes at once give their jobs different uids (= gid), in $_ib+$_ic, neither 0 nor 65534"

# inotify instances are counted per user (fs.inotify.max_user_instances):
# one job taking them all must not starve a concurrent job; and that job
# cannot reach the other's process through /proc or kill().
rm -f "$_id/hog"
$TO $AS "$SANDRUN" exec --bind-ro "$P" --bind "$_id" -- "$P/ident" inotify-hog "$_id/hog" 6 \
	</dev/null >"$T/hog.out" 2>&1 &
_pa=$!
_wait_file "$_id/hog" 20 || fail "the hog never said ready"
_max=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null)
# Without root a job's user namespace gets 1/8 of the runner uid's
# instances, which the kernel charges for every job (sandbox/rootless.h).
[ -n "$AS" ] && [ -n "$_max" ] && _max=$((_max / 8))
_hog=$(cat "$_id/hog" 2>/dev/null)
# Only meaningful if the per-user limit comes before the job's
# RLIMIT_NOFILE (1024 by default); Debian's default is 128.
case $_hog in
"ready $_max EMFILE") ;;
*) num_lt "${_max:-x}" 1000 && fail "the hog did not stop at the per-user limit ($_max): '$_hog'" ;;
esac
_hogpid=$(procs_like "inotify-hog $_id/hog" | awk -v p="$P/ident" '$2 == p { print $1; exit }')
sbx inotify --timeout 10 -- /bin/sh -c "\"$P/ident\" inotify-one && \"$P/ident\" peer ${_hogpid:-999999}"
expect_outcome ok
expect_rc 0
expect_out '^inotify: ok'
diag "hog: $_hog; the other job: $(tr '\n' ';' <"$OUT")"
result "identity: a job holding all $_max inotify instances of its uid does not make a concurrent job's inotify_init1 fail"
expect_out '^kill(peer, 0): '
expect_no_out SUCCEEDED
[ -n "$_hogpid" ] || fail "could not find the hog's host pid"
wait "$_pa"
result "identity: a job cannot kill(0) or open /proc/PID/{status,environ} of a concurrent job's process"

# ---- item 7: a fresh session keyring -------------------------------------
# root's key in the runner's session keyring (keys with-key starts sandrun
# in a new session keyring holding it); the job's policy allows keyctl.
_pol=$T/keys-policy.json
sed -e 's/"keyctl", "add_key", "request_key",//' \
	-e 's/"syscalls": \[/"syscalls": [ { "names": ["keyctl", "add_key", "request_key"], "action": "SCMP_ACT_ALLOW" },/' \
	"$ROOT/policies/default.json" >"$_pol"
OUT=$T/keys.out ERR=$T/keys.err
rm -f "$_id/serial"
$TO "$P/keys" with-key "sbxkey$UNIQ" "secret$TOKEN" "$_id/serial" /bin/sh -c \
	'exec $6 "$1" exec --json --policy "$2" --bind-ro "$3" -- "$3/keys" probe "$4" "$(cat "$5")"' \
	sh "$SANDRUN" "$_pol" "$P" "sbxkey$UNIQ" "$_id/serial" "$AS" </dev/null >"$OUT" 2>"$ERR"
RC=$?
parse_json "$OUT"
if [ "$RC" = 125 ] && [ ! -s "$_id/serial" ]; then
	skip "keyrings: a job does not inherit the runner's session keyring" "no keyrings here: $(head -c 200 "$ERR")"
else
	expect_outcome ok
	expect_rc 0
	expect_out '^read key'
	expect_no_out "secret$TOKEN"
	expect_no_out 'BAD'
	diag "$(tr '\n' ';' <"$OUT" | head -c 400)"
	result "keyrings: under a policy allowing keyctl, a job cannot find or read root's key in the runner's session keyring"
fi

# ---- item 9: the init ----------------------------------------------------
sbx init --timeout 10 -- "$P/ident" init "$TOKEN"
expect_outcome ok
expect_rc 0
expect_out "^cmdline of pid 1: 'sandrun-init '"
expect_no_out BAD
expect_no_out SUCCEEDED
result "init: /proc/1/cmdline is sandrun-init (no argv of the runner), environ and mem cannot be opened (not dumpable), Seccomp 2"

# ---- item 12: Landlock ---------------------------------------------------
$AS "$SANDRUN" check >"$T/check.out" 2>&1
_abi=$(sed -n 's/^landlock *ABI \([0-9]*\)$/\1/p' "$T/check.out")
grep -q "^job uids *$_ib-$((_ib + _ic - 1)) " "$T/check.out" || fail "check does not show the uid range: $(grep -i uid "$T/check.out")"
grep -q '^landlock ' "$T/check.out" || fail "check does not show Landlock"
# The hard-link protection the threat model relies on, as the kernel says.
_hl=$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null)
case $_hl in
1 | 2) grep -q '^protected hardlinks *yes' "$T/check.out" || fail "check does not say hard links are protected" ;;
0) grep -q '^protected hardlinks *NO' "$T/check.out" || fail "check does not warn that hard links are unprotected" ;;
esac
diag "$(grep -E '^(landlock|job uids|protected hardlinks)' "$T/check.out")"
result "check: shows the job uid range, the Landlock ABI and whether hard links are protected"

if [ -z "$_abi" ]; then
	skip "landlock: a --cmd job cannot list / (DAC allows it), reads /etc, writes /tmp" "no Landlock on this kernel"
	skip "landlock: the analyzer's profile reads no data and writes nowhere, even a writable bind" "no Landlock on this kernel"
else
	sbx llcmd --timeout 10 -- /bin/sh -c 'if ls / >/dev/null 2>&1; then echo "list /: SUCCEEDED"; else echo "list /: refused"; fi
		read _h </etc/hostname && echo "read /etc: ok"; echo x >/tmp/f && echo "write /tmp: ok"; echo x >/dev/null && echo "write /dev/null: ok"'
	expect_outcome ok
	expect_out '^list /: refused'
	expect_out '^read /etc: ok'
	expect_out '^write /tmp: ok'
	expect_out '^write /dev/null: ok'
	result "landlock: a --cmd job cannot list / (DAC allows it), reads /etc, writes /tmp"

	rm -f "$_id/cc"
	export SANDRUN_TEST_FS_CODE_ONLY=1
	sbx llcode --timeout 10 --bind "$_id" -- /bin/sh -c "if read _h </etc/hostname; then echo 'read /etc/hostname: SUCCEEDED'; else echo 'read /etc/hostname: refused'; fi
		if echo x >\"$_id/cc\"; then echo 'write bind: SUCCEEDED'; else echo 'write bind: refused'; fi
		if ls /usr >/dev/null 2>&1; then echo 'list /usr: SUCCEEDED'; else echo 'list /usr: refused'; fi"
	unset SANDRUN_TEST_FS_CODE_ONLY
	expect_outcome ok
	expect_out '^read /etc/hostname: refused'
	expect_out '^write bind: refused'
	expect_out '^list /usr: refused'
	[ -e "$_id/cc" ] && fail "the job created $_id/cc on the host"
	result "landlock: the analyzer's profile reads no data and writes nowhere, even a writable bind"
fi

if [ -z "$_abi" ] || [ "$_abi" -lt 6 ]; then
	skip "landlock scope: a job cannot signal its init (outside its domain)" "Landlock ABI ${_abi:-none} < 6"
	skip "landlock scope: a job cannot connect to an abstract socket made outside its domain" "Landlock ABI ${_abi:-none} < 6"
else
	sbx llkill --timeout 10 -- "$P/ident" kill-init
	expect_outcome ok
	expect_rc 0
	expect_out '^kill(1, 0): EPERM'
	result "landlock scope: a job cannot signal its init (outside its domain)"

	# A listener placed in the job's own network namespace from outside
	# (nsenter): the namespace does not separate them, the scope must.
	if ! command -v nsenter >/dev/null 2>&1; then
		skip "landlock scope: a job cannot connect to an abstract socket made outside its domain" "no nsenter"
	else
		_abs=sbxabs$UNIQ
		$TO $AS "$SANDRUN" exec --json --bind-ro "$P" -- "$P/ident" abstract "$_abs" 15 \
			</dev/null >"$T/abs.out" 2>"$T/abs.err" &
		_pa=$!
		_n=0 _ppid=""
		while [ -z "$_ppid" ] && [ "$_n" -lt 50 ]; do
			_ppid=$(procs_like "ident abstract $_abs" | awk -v p="$P/ident" '$2 == p { print $1; exit }')
			[ -n "$_ppid" ] || nap
			_n=$((_n + 1))
		done
		[ -n "$_ppid" ] && nsenter -t "$_ppid" -n "$P/listen_helper" 8 "$_abs" "$T/abs.sock" >"$T/abs.lh" 2>&1 &
		_pl=$!
		wait "$_pa"
		RC=$?
		OUT=$T/abs.out ERR=$T/abs.err
		parse_json "$OUT"
		kill "$_pl" 2>/dev/null
		wait "$_pl" 2>/dev/null
		grep -q "^abstract $_abs" "$T/abs.lh" || fail "the listener did not start: $(head -c 200 "$T/abs.lh")"
		expect_outcome ok
		expect_out "^abstract $_abs: EPERM"
		grep -q '^accepted abstract' "$T/abs.lh" && fail "the outside listener accepted the job's connection"
		result "landlock scope: a job cannot connect to an abstract socket made outside its domain"
	fi
fi
