/* sandbox/host.c — what this host can enforce (sandrun check).
 * Every answer comes from trying the real thing, not from version numbers. */
#include "cgroup.h"
#include "child.h"
#include "ident.h"
#include "rootless.h"
#include "lib/fd.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* clone3 a child with these flags that exits at once; 0 if it worked. */
static int try_clone3(uint64_t flags, int cgroup_fd)
{
	int pidfd = -1;
	struct clone_args args = {
		.flags = flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
	};
	if (cgroup_fd >= 0)
		args.flags |= CLONE_INTO_CGROUP;
	long pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(0);
	siginfo_t si;
	waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	close(pidfd);
	return 0;
}

static void note_missing(struct sbx_host_report *r, bool ok, const char *what)
{
	if (ok)
		return;
	size_t len = strlen(r->missing);
	snprintf(r->missing + len, sizeof r->missing - len, "%s%s", len ? ", " : "", what);
}

/* Without root: every requirement of the user-namespace mode, each with
 * its own reason. */
static void probe_rootless(struct sbx_host_report *r)
{
	struct rootless rl;
	struct sbx_err e[SBX_RL_CHECKS];
	int rc[SBX_RL_CHECKS];
	for (int i = 0; i < SBX_RL_CHECKS; i++)
		e[i] = (struct sbx_err)SBX_ERR_INIT;
	rc[0] = rootless_check_cgroup(&e[0]);
	rc[1] = rootless_check_userns(&e[1]);
	rc[2] = rootless_check_subids(&rl, &e[2]);
	rc[3] = rootless_check_uidmap(&e[3]);
	int fd = rc[4] = ident_open_user_dir(&e[4]);
	if (fd >= 0)
		close(fd);
	static const char *const names[SBX_RL_CHECKS] = {
		"delegated cgroup v2", "user namespace", "subordinate ids", "newuidmap", "job uid lock dir",
	};
	for (int i = 0; i < SBX_RL_CHECKS; i++) {
		r->rl[i].name = names[i];
		r->rl[i].ok = rc[i] >= 0;
		snprintf(r->rl[i].why, sizeof r->rl[i].why, "%s", rc[i] < 0 ? sbx_err_text(&e[i], rc[i]) : "");
	}
}

int sbx_host_probe(struct sbx_host_report *r)
{
	memset(r, 0, sizeof *r);
	r->user_root = geteuid() == 0;
	r->rootless = !r->user_root;
	/* Without root, the namespaces come with a user namespace. */
	uint64_t userns = r->rootless ? CLONE_NEWUSER : 0;
	r->clone3 = try_clone3(0, -1) == 0;
	r->pidfd = r->clone3; /* the probe itself asked for CLONE_PIDFD */
	r->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
	r->ns_pid = try_clone3(userns | CLONE_NEWPID, -1) == 0;
	r->ns_mnt = try_clone3(userns | CLONE_NEWNS, -1) == 0;
	r->ns_net = try_clone3(userns | CLONE_NEWNET, -1) == 0;
	r->ns_ipc = try_clone3(userns | CLONE_NEWIPC, -1) == 0;
	r->ns_uts = try_clone3(userns | CLONE_NEWUTS, -1) == 0;
	r->ns_cgroup = try_clone3(userns | CLONE_NEWCGROUP, -1) == 0;
	if (r->rootless)
		probe_rootless(r);

	struct cg_run run;
	struct sbx_err cg_err = SBX_ERR_INIT, id_err = SBX_ERR_INIT;
	cg_detect(&r->cgroup_mode);
	int rc = cg_run_open(&run, &cg_err);
	if (rc == 0) {
		r->ctl_memory = cg_run_has(&run, CG_MEMORY);
		r->ctl_cpu = cg_run_has(&run, CG_CPU) && cg_run_has(&run, CG_CPUACCT);
		r->ctl_pids = cg_run_has(&run, CG_PIDS);
		r->ctl_freezer = cg_run_has(&run, CG_FREEZER);
		int first = run.mode == SBX_CG_V2 ? 0 : CG_MEMORY;
		snprintf(r->cgroup_parent, sizeof r->cgroup_parent, "%s", run.parent_path[first]);
		if (run.mode == SBX_CG_V2)
			r->into_cgroup = try_clone3(0, run.run_dirfd[0]) == 0;
		cg_run_close(&run);
	} else {
		snprintf(r->cgroup_parent, sizeof r->cgroup_parent, "(unusable: %s)",
			 sbx_err_text(&cg_err, rc));
	}

	/* Landlock is best effort (not "missing"); the uid range is not. */
	r->landlock_abi = sbx_landlock_abi();
	if (r->landlock_abi < 0)
		r->landlock_abi = 0;
	/* Without root, the job ids are the user's subordinate ones
	 * (checked above); the reserved range is root mode's. */
	rc = r->rootless ? (r->rl[2].ok ? 0 : -ENOENT) : ident_check_range(&id_err);
	r->uid_range_free = rc == 0;
	if (!r->uid_range_free)
		snprintf(r->uid_range_error, sizeof r->uid_range_error, "%s",
			 r->rootless ? "no usable subordinate ids (see above)" : sbx_err_text(&id_err, rc));

	for (int i = 0; r->rootless && i < SBX_RL_CHECKS; i++)
		note_missing(r, r->rl[i].ok, r->rl[i].name);
	if (!r->rootless)
		note_missing(r, r->uid_range_free, "a free job uid range");
	note_missing(r, r->clone3, "clone3");
	note_missing(r, r->seccomp, "seccomp");
	note_missing(r, r->ns_pid, "pid namespace");
	note_missing(r, r->ns_mnt, "mount namespace");
	note_missing(r, r->ns_net, "network namespace");
	note_missing(r, r->ns_ipc, "ipc namespace");
	note_missing(r, r->ns_uts, "uts namespace");
	note_missing(r, r->ns_cgroup, "cgroup namespace");
	note_missing(r, r->ctl_memory, "memory controller");
	note_missing(r, r->ctl_cpu, "cpu controller");
	note_missing(r, r->ctl_pids, "pids controller");
	note_missing(r, r->ctl_freezer || r->cgroup_mode == SBX_CG_V2, "freezer controller");
	return r->missing[0] ? -ENODEV : 0;
}
