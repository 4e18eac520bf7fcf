#!/bin/sh
# tests/vm/rootless.sh BUILD_DIR — the hostile probe suite (tests/suites/sandbox.sh)
# with every sandrun call made by an unprivileged user, on the pure cgroup v2
# guest: `tests/vm/run.sh BUILD_DIR tests/vm/rootless.sh` (tests/run.sh's
# vm-rootless; docs/testing-vm.md). The suite itself stays root, to look from
# outside (host files, listeners, leftover processes and cgroups).
#
# The guest has no systemd, so this script does by hand what a deployment
# gets from it (docs/deployment.md, "Without root"):
#   - the account sbxuser (uid/gid 4343; 4242 is the suite's hostile tree owner) and its subordinate ranges
#     200000-265535 in /etc/subuid and /etc/subgid (what useradd or
#     `usermod --add-subuids ... --add-subgids ...` write);
#   - a delegated cgroup v2 subtree: /sys/fs/cgroup/rootless.slice/sandrun.service,
#     the directory and its cgroup.procs, cgroup.subtree_control and
#     cgroup.threads chowned to the user, with memory, cpu and pids enabled
#     in its parent — exactly what systemd's Delegate=yes does for a User=
#     service (and systemd-run --user -p Delegate=yes for a user's scope) —
#     and this shell moved into it, so sandrun starts there;
#   - its home /home/sbxuser (the user's, 0755), where its job-uid locks
#     live (~/.sandrun-locks/uid, from the password database, never from
#     the environment), and XDG_RUNTIME_DIR=/run/user/4343 (0700) for the
#     policy cache, what pam_systemd gives a user session.
# newuidmap and newgidmap come in with SANDRUN_VM_TOOLS, copied setuid root.
set -u
B=${1:?usage: $0 BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
U=4343
bail() {
	echo "1..1"
	echo "not ok 1 - rootless setup: $*"
	exit 1
}
[ "$(id -u)" = 0 ] || bail "must start as root (it creates the user and its cgroup)"
for t in /usr/bin/newuidmap /usr/bin/newgidmap; do
	[ -u "$t" ] || bail "$t missing or not setuid (SANDRUN_VM_TOOLS must name it)"
done
grep -q '^sbxuser:' /etc/passwd || echo "sbxuser:x:$U:$U:sandrun rootless test:/home/sbxuser:/bin/sh" >>/etc/passwd
mkdir -p /home/sbxuser && chown $U:$U /home/sbxuser && chmod 0755 /home/sbxuser || bail "make sbxuser's home"
grep -q '^sbxuser:' /etc/group || echo "sbxuser:x:$U:" >>/etc/group
echo "sbxuser:200000:65536" >/etc/subuid
echo "sbxuser:200000:65536" >/etc/subgid

cg=/sys/fs/cgroup/rootless.slice
mkdir -p "$cg/sandrun.service" || bail "mkdir $cg/sandrun.service"
echo "+memory +cpu +pids" >/sys/fs/cgroup/cgroup.subtree_control || bail "enable controllers at the root"
echo "+memory +cpu +pids" >"$cg/cgroup.subtree_control" || bail "enable controllers in $cg"
for f in "" /cgroup.procs /cgroup.subtree_control /cgroup.threads; do
	chown "$U:$U" "$cg/sandrun.service$f" || bail "chown $cg/sandrun.service$f"
done
echo $$ >"$cg/sandrun.service/cgroup.procs" || bail "move the suite into $cg/sandrun.service"

mkdir -p /run/user/$U && chown $U:$U /run/user/$U && chmod 0700 /run/user/$U
export XDG_RUNTIME_DIR=/run/user/$U
export SANDRUN_CACHE_DIR=/run/user/$U/cache

# Run the arguments as sbxuser with this environment (-m), its own group
# only (busybox su: initgroups of a user in no other group).
as=/usr/local/bin/sandrun-as-sbxuser
cat >"$as" <<'EOS'
#!/bin/sh
exec su -m -s /bin/sh -c 'exec "$0" "$@"' -- sbxuser "$@"
EOS
chmod 0755 "$as"
[ "$("$as" id -u)" = $U ] || bail "su to sbxuser does not work: $("$as" id -u 2>&1)"

export SANDRUN_AS=$as SANDRUN_AS_UID=$U SANDRUN_ROOTLESS_SUBUID=200000
exec sh "$ROOT/tests/suites/sandbox.sh" "$B"
