/* sandbox/rootless.c — running without root (docs/security.md, "Without
 * root").
 *
 * An unprivileged runner gives each job a user namespace (CLONE_NEWUSER
 * with the other CLONE_NEW* flags of clone3) and then builds exactly the
 * sandbox of root mode inside it. What that needs from the host, each a
 * check here with its own reason and fix (sandrun check shows every one;
 * sbx_run_open refuses with all that fail):
 *   - a delegated cgroup v2 subtree: the limits. On a v1 (or hybrid)
 *     hierarchy only root can create cgroups, so an unprivileged user gets
 *     no memory limit at all: refused, never run unlimited;
 *   - user namespaces that work (not off, not restricted by AppArmor);
 *   - a subordinate uid and gid range of the user (/etc/subuid, /etc/subgid)
 *     holding no account: each running job is one id of it, never the
 *     runner's own id and never an account's;
 *   - newuidmap/newgidmap (package uidmap), the setuid helpers that map
 *     subordinate ids, and a runner that can still exec them (no
 *     no_new_privs, CAP_SETUID/CAP_SETGID in its bounding set);
 *   - a directory of its own for the job-id locks, under its home from the
 *     password database (sandbox/ident.c).
 *
 * The map of a job's namespace (rootless_map): inside 0 -> the runner's own
 * uid/gid, for the setup steps only (they act with exactly the runner's
 * rights over host files, as the runner would); inside SBX_UID_BASE+slot ->
 * subordinate id first+slot, the job from its "job uid" step on. Nothing
 * else is mapped: any other host file's owner is the overflow id inside. */
#include "cgroup.h"
#include "rootless.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

int rootless_check_cgroup(struct sbx_err *err)
{
	enum sbx_cgroup_mode m;
	cg_detect(&m);
	if (m != SBX_CG_V2)
		return sbx_fail_plain(err, -ENODEV,
				"this host's cgroups are %s: on a cgroup v1 hierarchy only root can create "
				"cgroups, so an unprivileged user cannot get the memory, cpu and pids limits of a job, "
				"and there is no delegated cgroup v2 subtree. Without root, sandrun needs a cgroup v2 "
				"host and a subtree delegated to its user: `systemd-run --user -p Delegate=yes --scope "
				"sandrun ...`, or a User= service with Delegate=yes (docs/deployment.md); or run it as root",
				sbx_cgroup_mode_name(m));
	return cg_check_delegated(err);
}

static bool sysctl_is(const char *path, const char *want)
{
	char buf[32];
	if (sr_read_file_at(AT_FDCWD, path, buf, sizeof buf) <= 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, want) == 0;
}

/* A child in a new user namespace that uses its capabilities there (a new
 * mount and uts namespace): under Ubuntu's AppArmor restriction, creating
 * the namespace works but the capabilities in it are denied. */
static int try_userns(void)
{
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(unshare(CLONE_NEWNS | CLONE_NEWUTS) == 0 ? 0 : 1);
	siginfo_t si = { 0 };
	waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	close(pidfd);
	return si.si_code == CLD_EXITED && si.si_status == 0 ? 0 : -EPERM;
}

int rootless_check_userns(struct sbx_err *err)
{
	int r = try_userns();
	if (r == 0)
		return 0;
	if (sysctl_is("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1")) {
		char exe[512];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = '\0';
		return sbx_fail_plain(err, r, "AppArmor restricts unprivileged user namespaces on this host "
				"(kernel.apparmor_restrict_unprivileged_userns=1) and no profile allows them for %s: "
				"install the profile sandrun ships (packaging/apparmor/sandrun, installed as "
				"/etc/apparmor.d/sandrun; its path must name this binary) and load it with "
				"`apparmor_parser -r /etc/apparmor.d/sandrun`", exe);
	}
	if (sysctl_is("/proc/sys/user/max_user_namespaces", "0"))
		return sbx_fail(err, r, "user namespaces are disabled (user.max_user_namespaces=0)");
	if (sysctl_is("/proc/sys/kernel/unprivileged_userns_clone", "0"))
		return sbx_fail(err, r, "unprivileged user namespaces are disabled "
				"(kernel.unprivileged_userns_clone=0)");
	return sbx_fail(err, r, "cannot create a user namespace and use it");
}

/* The first "name:first:count" or "uid:first:count" line of path for this
 * user; -ENOENT if none. */
static int find_subid(const char *path, const char *name, unsigned long id, unsigned long *first,
		      unsigned long *count, struct sbx_err *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ENOENT : sbx_fail(err, -errno, "open %s", path);
	char line[512], num[32];
	snprintf(num, sizeof num, "%lu", id);
	int r = -ENOENT;
	while (r == -ENOENT && fgets(line, sizeof line, f)) {
		char *c = strchr(line, ':');
		if (!c)
			continue;
		*c = '\0';
		if (strcmp(line, name) != 0 && strcmp(line, num) != 0)
			continue;
		if (sscanf(c + 1, "%lu:%lu", first, count) == 2 && *count > 0)
			r = 0;
	}
	fclose(f);
	return r;
}

/* No account and not the runner may be one of the ids a job can get. */
static int check_no_account(unsigned long first, unsigned n, bool gids, struct sbx_err *err)
{
	unsigned long own = gids ? getegid() : geteuid();
	if (own >= first && own < first + n)
		return sbx_fail(err, -EEXIST, "the subordinate %s range %lu-%lu holds sandrun's own %s %lu",
				gids ? "gid" : "uid", first, first + n - 1, gids ? "gid" : "uid", own);
	FILE *f = fopen(gids ? "/etc/group" : "/etc/passwd", "re");
	if (!f)
		return sbx_fail(err, -errno, "open %s", gids ? "/etc/group" : "/etc/passwd");
	int r = 0;
	if (gids) {
		for (struct group *g; r == 0 && (g = fgetgrent(f));)
			if (g->gr_gid >= first && g->gr_gid < first + n)
				r = sbx_fail(err, -EEXIST, "group '%s' (gid %u) is in the subordinate gid range %lu-%lu",
					     g->gr_name, g->gr_gid, first, first + n - 1);
	} else {
		for (struct passwd *p; r == 0 && (p = fgetpwent(f));)
			if (p->pw_uid >= first && p->pw_uid < first + n)
				r = sbx_fail(err, -EEXIST, "account '%s' (uid %u) is in the subordinate uid range %lu-%lu",
					     p->pw_name, p->pw_uid, first, first + n - 1);
	}
	fclose(f);
	return r;
}

int rootless_check_subids(struct rootless *rl, struct sbx_err *err)
{
	rl->uid = geteuid();
	rl->gid = getegid();
	char name[256];
	struct passwd pw, *pp = NULL;
	char buf[4096];
	if (getpwuid_r(rl->uid, &pw, buf, sizeof buf, &pp) == 0 && pp)
		snprintf(name, sizeof name, "%s", pp->pw_name);
	else
		snprintf(name, sizeof name, "%u", (unsigned)rl->uid);
	unsigned long ucount = 0, gcount = 0;
	int r = find_subid("/etc/subuid", name, rl->uid, &rl->sub_uid, &ucount, err);
	int g = r == -ENOENT || r == 0 ? find_subid("/etc/subgid", name, rl->uid, &rl->sub_gid, &gcount, err) : r;
	if (r == -ENOENT || g == -ENOENT)
		return sbx_fail_plain(err, -ENOENT, "uid %u (%s) has no subordinate %s range in %s, so its jobs "
				"cannot get ids of their own: an admin runs `usermod --add-subuids 100000-165535 "
				"--add-subgids 100000-165535 %s` (or any free range; see docs/deployment.md)",
				(unsigned)rl->uid, name, r == -ENOENT ? "uid" : "gid",
				r == -ENOENT ? "/etc/subuid" : "/etc/subgid", name);
	if (r < 0 || g < 0)
		return r < 0 ? r : g;
	unsigned long n = ucount < gcount ? ucount : gcount;
	rl->slots = n < SBX_UID_COUNT ? (unsigned)n : SBX_UID_COUNT;
	if ((r = check_no_account(rl->sub_uid, rl->slots, false, err)) < 0)
		return r;
	return check_no_account(rl->sub_gid, rl->slots, true, err);
}

/* Setuid root, or the file capabilities Debian's uidmap may use instead. */
static int check_helper(const char *path, struct sbx_err *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return sbx_fail_plain(err, -errno, "%s is missing: an admin runs `apt-get install uidmap`", path);
	bool caps = getxattr(path, "security.capability", NULL, 0) > 0;
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || !(st.st_mode & S_IXOTH) ||
	    (!(st.st_mode & S_ISUID) && !caps))
		return sbx_fail_plain(err, -EPERM, "%s is not a root-owned setuid (or file-capability) program that "
				"everyone may run: reinstall the uidmap package", path);
	return 0;
}

int rootless_check_uidmap(struct sbx_err *err)
{
	int r;
	if ((r = check_helper(RL_NEWUIDMAP, err)) < 0 || (r = check_helper(RL_NEWGIDMAP, err)) < 0)
		return r;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return sbx_fail_plain(err, -EPERM, "sandrun runs with no_new_privs (NoNewPrivileges=yes in its unit?), "
				"so newuidmap cannot gain the privilege to map a job's ids: leave it off (every "
				"job sets no_new_privs itself)");
	if (prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0) != 1 || prctl(PR_CAPBSET_READ, CAP_SETGID, 0, 0, 0) != 1)
		return sbx_fail_plain(err, -EPERM, "CAP_SETUID or CAP_SETGID is missing from sandrun's capability "
				"bounding set (CapabilityBoundingSet= of its unit), so newuidmap/newgidmap cannot use "
				"them: allow exactly these two (sandrun itself holds no capability)");
	return 0;
}

/* Add one reason to the joined message of rootless_open. */
static void join_reason(char *out, size_t len, const struct sbx_err *e, int rc)
{
	size_t used = strlen(out);
	snprintf(out + used, len - used, "%s%s", used ? "; " : "", sbx_err_text(e, rc));
}

int rootless_open(struct rootless *rl, struct sbx_err *err)
{
	char why[SBX_ERR_MSG] = "";
	struct sbx_err e;
	int r, bad = 0;
	*rl = (struct rootless){ .on = true };
#define RL_CHECK(expr)                                        \
	do {                                                  \
		e = (struct sbx_err)SBX_ERR_INIT;             \
		if ((r = (expr)) < 0)                         \
			join_reason(why, sizeof why, &e, r), bad++; \
	} while (0)
	RL_CHECK(rootless_check_cgroup(&e));
	RL_CHECK(rootless_check_subids(rl, &e));
	RL_CHECK(rootless_check_userns(&e));
	RL_CHECK(rootless_check_uidmap(&e));
#undef RL_CHECK
	uint64_t v;
	if (sr_read_u64_at(AT_FDCWD, "/proc/sys/fs/inotify/max_user_instances", &v) == 0)
		rl->inotify_instances = v / RL_INOTIFY_SHARES ? (unsigned)(v / RL_INOTIFY_SHARES) : 1;
	if (sr_read_u64_at(AT_FDCWD, "/proc/sys/fs/inotify/max_user_watches", &v) == 0)
		rl->inotify_watches = v / RL_INOTIFY_SHARES ? (unsigned)(v / RL_INOTIFY_SHARES) : 1;
	if (bad)
		return sbx_fail_plain(err, -ENODEV, "not running as root, and running without root needs what is "
				"missing here: %s", why);
	return 0;
}

/* Run one map helper: helper PID 0 OWN 1 INNER SUB 1. Its complaint, if
 * any, becomes the message. */
static int run_map_helper(const char *helper, pid_t pid, unsigned long own, uid_t inner,
			  unsigned long sub, struct sbx_err *err)
{
	char a_pid[24], a_own[24], a_inner[24], a_sub[24];
	snprintf(a_pid, sizeof a_pid, "%d", (int)pid);
	snprintf(a_own, sizeof a_own, "%lu", own);
	snprintf(a_inner, sizeof a_inner, "%u", (unsigned)inner);
	snprintf(a_sub, sizeof a_sub, "%lu", sub);
	char *const argv[] = { (char *)helper, a_pid, "0", a_own, "1", a_inner, a_sub, "1", NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_fail(err, -errno, "pipe2");
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	pid_t h;
	int e = posix_spawn(&h, helper, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (e) {
		close(p[0]);
		return sbx_fail(err, -e, "run %s", helper);
	}
	char said[300];
	int n = sr_read_full(p[0], said, sizeof said - 1);
	close(p[0]);
	said[n > 0 ? n : 0] = '\0';
	said[strcspn(said, "\n")] = '\0';
	int st = 0;
	while (waitpid(h, &st, 0) < 0)
		if (errno != EINTR)
			return sbx_fail(err, -errno, "waitpid %s", helper);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return sbx_fail(err, -EPERM, "%s %s 0 %s 1 %s %s 1 failed%s%s", helper, a_pid, a_own, a_inner, a_sub,
				said[0] ? ": " : "", said);
	return 0;
}

int rootless_map(const struct rootless *rl, pid_t pid, unsigned slot, uid_t inner, struct sbx_err *err)
{
	int r = run_map_helper(RL_NEWUIDMAP, pid, rl->uid, inner, rl->sub_uid + slot, err);
	return r < 0 ? r : run_map_helper(RL_NEWGIDMAP, pid, rl->gid, inner, rl->sub_gid + slot, err);
}

static int write_sysctl(const char *path, unsigned v, struct sbx_err *err)
{
	char num[16];
	snprintf(num, sizeof num, "%u", v);
	int r = sr_write_file_at(AT_FDCWD, path, num);
	return r < 0 ? sbx_fail(err, r, "write %s=%s", path, num) : 0;
}

int rootless_cap_inotify(unsigned instances, unsigned watches, struct sbx_err *err)
{
	int r = 0;
	if (instances)
		r = write_sysctl("/proc/sys/user/max_inotify_instances", instances, err);
	if (r == 0 && watches)
		r = write_sysctl("/proc/sys/user/max_inotify_watches", watches, err);
	return r;
}
