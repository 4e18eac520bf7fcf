#!/usr/bin/env bats
# tests/cli/rootless.bats — sandrun started by an unprivileged user on this
# host (docs/security.md, "Without root"). Each job would get a user
# namespace; what that needs is checked before anything runs, and what is
# missing is refused with exit 3 and the exact reason and fix: on a cgroup v1
# or hybrid host no memory limit can be had without root, and a user without
# a subordinate range is told the admin's usermod command. The sandbox
# itself, as that user, runs in the cgroup v2 guest (tests/vm/rootless.sh).
# Runs as root inside the outer test namespace, and drops to uid 65534 with
# setpriv for each sandrun call; /etc/subuid is replaced only inside a
# mount namespace of one command (unshare --mount).

bats_require_minimum_version 1.5.0

setup() {
	load env
	cli_env
	command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
	# A place uid 65534 can read and write, for inputs and the store.
	W=$(mktemp -d /tmp/rootless.XXXXXX)
	chmod 0777 "$W"
	printf 'RIFF' >"$W/a.wav"
	chmod 0644 "$W/a.wav"
	cd "$W"
	CG2=0
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && CG2=1
	NOBODY=$(getent passwd 65534 | cut -d: -f1)
	NOBODY=${NOBODY:-65534}
}

teardown() {
	cd /
	rm -rf "$W"
}

as_nobody() { # CMD... — as uid/gid 65534, no supplementary groups
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# CMD... as nobody with /etc/subuid and /etc/subgid giving it a range (in a
# mount namespace of this one command only)
as_nobody_with_subids() {
	printf '%s:100000:65536\n' "$NOBODY" >"$W/subid"
	chmod 0644 "$W/subid"
	unshare --mount sh -c 'mount --bind "$0" /etc/subuid && mount --bind "$0" /etc/subgid && shift &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' "$W/subid" - "$@"
}

# HOME CMD... as nobody whose home in the password database is HOME (a
# copy of /etc/passwd bound over it in a mount namespace of this command)
as_nobody_homed() {
	sed "s|^\([^:]*:[^:]*:65534:[^:]*:[^:]*:\)[^:]*:|\1$1:|" /etc/passwd >"$W/passwd"
	chmod 0644 "$W/passwd"
	shift
	unshare --mount sh -c 'mount --bind "$0" /etc/passwd && shift &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' "$W/passwd" - "$@"
}

v1_refusal_said() { # $output mentions why and what would work
	[[ $output == *"only root can create cgroups"* ]]
	[[ $output == *"cannot get the memory, cpu and pids limits"* ]]
	[[ $output == *"systemd-run --user -p Delegate=yes"* ]]
	[[ $output == *"User= service with Delegate=yes"* ]]
}

@test "exec and run as an unprivileged user on a cgroup v1/hybrid host: exit 3, why, and what would work" {
	[ "$CG2" = 0 ] || skip "this host is pure cgroup v2: the v1 refusal cannot be seen here"
	run -3 --separate-stderr as_nobody "$SANDRUN" exec -- /bin/true
	[ -z "$output" ]
	output=$stderr v1_refusal_said
	[[ $stderr == *"not running as root"* ]]
	run -3 --separate-stderr as_nobody "$SANDRUN" run --db "$W/s.db" "$W/a.wav"
	output=$stderr v1_refusal_said
	# nothing ran, nothing was recorded
	[ ! -e "$W/s.db" ] || [ "$(sqlite3 "$W/s.db" 'select count(*) from attempts' 2>/dev/null || echo 0)" = 0 ]
}

@test "no subordinate range: exec refuses with the admin's exact usermod command" {
	grep -qE "^($NOBODY|65534):" /etc/subuid 2>/dev/null && skip "uid 65534 has a subordinate range here"
	run -3 --separate-stderr as_nobody "$SANDRUN" exec -- /bin/true
	[[ $stderr == *"uid 65534 ($NOBODY) has no subordinate uid range in /etc/subuid"* ]]
	[[ $stderr == *"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $NOBODY"* ]]
}

@test "with a subordinate range the refusal names only what is still missing" {
	[ "$CG2" = 0 ] || skip "this host is pure cgroup v2"
	run -3 --separate-stderr as_nobody_with_subids "$SANDRUN" exec -- /bin/true
	[[ $stderr != *"usermod"* ]]
	output=$stderr v1_refusal_said
	run -3 as_nobody_with_subids "$SANDRUN" check
	[[ $output == *"subordinate ids      yes"* ]]
	[[ $output == *"delegated cgroup v2  NO"* ]]
}

@test "check as an unprivileged user: each requirement of the user-namespace mode, with why and the fix" {
	run -3 as_nobody "$SANDRUN" check
	[[ $output == *"running as root      NO (each job gets a user namespace"* ]]
	for row in "delegated cgroup v2" "user namespace" "subordinate ids" "newuidmap" "job uid lock dir"; do
		[[ $output == *"$row"* ]] || { echo "no row $row"; false; }
	done
	if [ "$CG2" = 0 ]; then
		v1_refusal_said
		[[ $output == *MISSING:*"delegated cgroup v2"* ]]
	fi
	if ! grep -qE "^($NOBODY|65534):" /etc/subuid 2>/dev/null; then
		[[ $output == *"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $NOBODY"* ]]
	fi
	# nobody's home (/nonexistent) cannot hold the locks: said so
	[[ $output == *"no directory for the job uid locks"* ]]
}

@test "the job uid locks live under the home of the password database, whatever the environment says" {
	mkdir -m 0700 "$W/xdg" "$W/rt" "$W/fakehome"
	chown 65534:65534 "$W/xdg" "$W/rt" "$W/fakehome"
	# nobody's home is /nonexistent: no environment moves the locks elsewhere
	run -3 as_nobody env XDG_RUNTIME_DIR="$W/xdg" RUNTIME_DIRECTORY="$W/rt" HOME="$W/fakehome" "$SANDRUN" check
	[[ $output == *"no directory for the job uid locks"*"/nonexistent/.sandrun-locks"* ]]
	[ -z "$(find "$W/xdg" "$W/rt" "$W/fakehome" -mindepth 1)" ]
	# a home of its own: the same directory from two different environments
	mkdir -m 0755 "$W/home" && chown 65534:65534 "$W/home"
	run -3 as_nobody_homed "$W/home" env XDG_RUNTIME_DIR="$W/xdg" RUNTIME_DIRECTORY="$W/rt" "$SANDRUN" check
	[[ $output == *"job uid lock dir     yes"* ]]
	run -3 as_nobody_homed "$W/home" env -u XDG_RUNTIME_DIR -u RUNTIME_DIRECTORY HOME=/ "$SANDRUN" check
	[[ $output == *"job uid lock dir     yes"* ]]
	[ "$(stat -c '%u %a' "$W/home/.sandrun-locks" "$W/home/.sandrun-locks/uid" | sort -u)" = "65534 700" ]
	[ -z "$(find "$W/xdg" "$W/rt" -mindepth 1)" ]
	# a home others may write (they could swap the lock directory): refused
	chmod 0777 "$W/home"
	run -3 as_nobody_homed "$W/home" "$SANDRUN" check
	[[ $output == *"must belong to it (or root) and be writable by no one else"* ]]
	# a link planted for the lock directory: refused, not followed
	chmod 0755 "$W/home" && rm -rf "$W/home/.sandrun-locks"
	ln -s "$W/xdg" "$W/home/.sandrun-locks"
	run -3 as_nobody_homed "$W/home" "$SANDRUN" check
	[[ $output != *"job uid lock dir     yes"* ]]
	[ -z "$(find "$W/xdg" -mindepth 1)" ]
}

@test "check --json as an unprivileged user: rootless, one entry per requirement, the reasons" {
	run -3 --separate-stderr as_nobody "$SANDRUN" check --json
	python3 - "$output" "$CG2" <<'EOF'
import json, sys
d = json.loads(sys.argv[1]); cg2 = sys.argv[2] == "1"
assert d["rootless"] is True and d["running_as_root"] is False and d["complete"] is False, d
checks = {c["name"]: c for c in d["rootless_checks"]}
assert set(checks) == {"delegated cgroup v2", "user namespace", "subordinate ids", "newuidmap",
                       "job uid lock dir"}, checks
for c in checks.values():
    assert (c["why"] == "") == c["ok"], c
if not cg2:
    c = checks["delegated cgroup v2"]
    assert not c["ok"] and "only root can create cgroups" in c["why"], c
    assert "delegated cgroup v2" in d["missing"], d["missing"]
assert "root" not in d["missing"], d["missing"]
EOF
}

@test "as root nothing changes: no user-namespace rows, rootless false" {
	[ "$(id -u)" = 0 ] || skip "not root"
	run --separate-stderr "$SANDRUN" check --json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["rootless"] is False and d["rootless_checks"] == [] and d["running_as_root"] is True, d' "$output"
}

@test "the shipped AppArmor profile grants userns to the installed sandrun binary" {
	P=$BATS_TEST_DIRNAME/../../packaging/apparmor/sandrun
	[ -f "$P" ]
	grep -qE '^profile sandrun /usr/bin/sandrun flags=\(unconfined\) \{' "$P"
	grep -qE '^[[:space:]]*userns,$' "$P"
	if command -v apparmor_parser >/dev/null; then
		apparmor_parser -Q -K "$P" || apparmor_parser --skip-kernel-load "$P"
	fi
}
