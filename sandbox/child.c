/* sandbox/child.c — the job's init and its command: every setup step, in
 * order, checked, from clone3 to execve.
 *
 * The child is pid 1 of a new pid namespace. It builds the sandbox, drops
 * every privilege, then forks the command (pid 2), which takes the last
 * steps (cwd, Landlock, seccomp) and execs; the init stays as a minimal
 * init: it reaps orphans and reports the command's exact wait status. Why
 * not exec the command as pid 1? The kernel ignores default-action signals
 * that pid 1 sends itself, so abort() in pid 1 would end as SIGSEGV, not
 * SIGABRT; and when pid 1 exits, the kernel kills everything left in the
 * namespace — exactly what we want once the command is done. */
#include "child.h"
#include "rootless.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fixed descriptors in the child once the fds step has run. */
enum { FD_ERR = 3, FD_STATUS = 4, FD_RUNNER = 5, FD_FIRST_FREE = 6 };

/* Where the error pipe is: ctx->err_wr until the fds step moves it. */
static int report_fd = -1;

_Noreturn void child_report_failure(const struct child_ctx *ctx, const struct sbx_err *err,
				    const char *step, int neg_errno)
{
	struct child_report rep = { .err = -neg_errno, .input_changed = err && err->input_changed };
	snprintf(rep.step, sizeof rep.step, "%s", step);
	/* This step's own detail, or strerror: the child is a copy of the
	 * runner's memory, so any message it did not write itself would be
	 * the runner's, about something else. */
	snprintf(rep.detail, sizeof rep.detail, "%s", sbx_err_text(err, neg_errno));
	if (write(report_fd >= 0 ? report_fd : ctx->err_wr, &rep, sizeof rep) < 0)
		_exit(126);
	_exit(125);
}

/* The runner blocks signals for its signalfd; a job must not inherit that. */
static int reset_signals(struct sbx_err *err)
{
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return sbx_fail(err, -errno, "sigprocmask");
	return 0;
}

/* The runner's umask (077 under a strict service) would make the new
 * root's directories unreadable to the job's uid. */
static int set_umask(void)
{
	umask(022);
	return 0;
}

/* Without root, the child starts in a user namespace without maps (every
 * id is the overflow id, no file can be created): wait until the runner
 * has written them (newuidmap/newgidmap) before anything else. EOF without
 * the byte: the runner could not, and kills us anyway. */
static int wait_for_id_map(const struct child_ctx *ctx, struct sbx_err *err)
{
	if (ctx->map_rd < 0)
		return 0;
	close(ctx->map_wr);
	char c;
	ssize_t n;
	while ((n = read(ctx->map_rd, &c, 1)) < 0 && errno == EINTR)
		;
	close(ctx->map_rd);
	return n == 1 ? 0 : sbx_fail(err, -EPERM, "the runner wrote no uid/gid map for the user namespace");
}

/* v1 only (v2 children are born in their cgroup by CLONE_INTO_CGROUP):
 * before anything else, so that every page and process of the job is
 * charged to its limits. The runner opened the files; see cg_join_self
 * for why the child moves itself. */
static int join_cgroup(const struct child_ctx *ctx, struct sbx_err *err)
{
	int r = cg_join_self(ctx->cg_tasks, ctx->n_cg_tasks);
	return r < 0 ? sbx_fail(err, r, "join the job's cgroup") : 0;
}

/* The runner made this namespace for this job alone (sbx_run_prepare);
 * entering it before anything else leaves the job exactly where
 * CLONE_NEWNET would have put it. */
static int enter_prepared_netns(int fd, struct sbx_err *err)
{
	if (fd < 0)
		return 0;
	if (setns(fd, CLONE_NEWNET) < 0)
		return sbx_fail(err, -errno, "setns(CLONE_NEWNET)");
	close(fd);
	return 0;
}

/* A pidfd is readable once its process has exited: the runner is gone. */
static int runner_gone(int runner_pidfd)
{
	struct pollfd p = { .fd = runner_pidfd, .events = POLLIN };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

/* If the runner dies (even SIGKILL), the job dies with it: the kernel
 * sends us SIGKILL, and as pid 1 we take the whole namespace along. A
 * runner that died before the signal was armed is caught by the check.
 * Done twice: the uid change clears the parent-death signal. */
static int die_with_runner(int runner_pidfd, struct sbx_err *err)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return sbx_fail(err, -errno, "PR_SET_PDEATHSIG");
	if (runner_gone(runner_pidfd))
		return sbx_fail(err, -EPIPE, "the runner is gone");
	return 0;
}

static int enter_cgroup_ns(bool needed, struct sbx_err *err)
{
	if (needed && unshare(CLONE_NEWCGROUP) < 0)
		return sbx_fail(err, -errno, "unshare(CLONE_NEWCGROUP)");
	return 0;
}

/* Only stdin, stdout and stderr reach the command; the three pipes to the
 * runner sit at fixed numbers, close-on-exec; everything else is closed. */
static int setup_fds(const struct child_ctx *ctx, struct sbx_err *err)
{
	const struct sbx_spec *s = ctx->spec;
	int want[3] = { s->stdin_fd, s->stdout_fd, s->stderr_fd };
	int keep[3] = { ctx->err_wr, ctx->status_wr, ctx->runner_pidfd };
	int high[6];
	/* Lift everything above the target range (0..FD_FIRST_FREE-1) first,
	 * so no dup2 below can clobber a descriptor that is still to be moved.
	 * FD_FIRST_FREE, not a round 64: under RLIMIT_NOFILE <= 64 that would
	 * be EINVAL and fail every job. */
	for (int i = 0; i < 3; i++) {
		high[i] = want[i] < 0 ? -1 : fcntl(want[i], F_DUPFD_CLOEXEC, FD_FIRST_FREE);
		high[3 + i] = fcntl(keep[i], F_DUPFD_CLOEXEC, FD_FIRST_FREE);
		if ((want[i] >= 0 && high[i] < 0) || high[3 + i] < 0)
			return sbx_fail(err, -errno, "dup");
	}
	for (int i = 0; i < 3; i++)
		if (high[i] >= 0 && dup2(high[i], i) < 0) /* dup2 clears CLOEXEC */
			return sbx_fail(err, -errno, "dup2 onto fd %d", i);
	for (int i = 0; i < 3; i++)
		if (dup3(high[3 + i], FD_ERR + i, O_CLOEXEC) < 0)
			return sbx_fail(err, -errno, "dup3 onto fd %d", FD_ERR + i);
	report_fd = FD_ERR;
	if (close_range(FD_FIRST_FREE, ~0U, 0) < 0)
		return sbx_fail(err, -errno, "close_range");
	return 0;
}

/* No controlling terminal: TIOCSTI and job-control tricks on an inherited
 * tty need one. */
static int new_session(struct sbx_err *err)
{
	return setsid() < 0 ? sbx_fail(err, -errno, "setsid") : 0;
}

static int set_hostname(struct sbx_err *err)
{
	return sethostname("sandrun", 7) < 0 ? sbx_fail(err, -errno, "sethostname") : 0;
}

/* soft == hard: without CAP_SYS_RESOURCE the job cannot raise them. */
static int set_rlimits(const struct sbx_limits *l, struct sbx_err *err)
{
	struct { int res; rlim_t v; } lim[] = {
		{ RLIMIT_CORE, 0 },  /* a crash must not write memory to disk */
		{ RLIMIT_FSIZE, l->fsize_bytes ? l->fsize_bytes : RLIM_INFINITY },
		{ RLIMIT_NOFILE, l->nofile ? l->nofile : 1024 },
		{ RLIMIT_MEMLOCK, 0 },
		{ RLIMIT_MSGQUEUE, 0 },
	};
	for (size_t i = 0; i < SR_ARRAY_LEN(lim); i++) {
		struct rlimit rl = { lim[i].v, lim[i].v };
		if (setrlimit(lim[i].res, &rl) < 0)
			return sbx_fail(err, -errno, "setrlimit %d", lim[i].res);
	}
	return 0;
}

/* The bounding set can only shrink while we still hold CAP_SETPCAP, so it
 * goes before the uid change. */
static int drop_bounding_set(struct sbx_err *err)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP || cap_valid(c); c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return sbx_fail(err, -errno, "drop capability %d from the bounding set", (int)c);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return sbx_fail(err, -errno, "clear ambient capabilities");
	return 0;
}

/* uid 0 without capabilities still owns root's files; the job's own uid
 * (sandbox/ident.c) owns none, and shares the kernel's per-user accounts
 * (inotify, pipe pages, signals, keys) and ptrace/proc ownership with no
 * other job and no account. */
static int become_job_user(uid_t id, struct sbx_err *err)
{
	if (setgroups(0, NULL) < 0)
		return sbx_fail(err, -errno, "setgroups");
	if (setresgid(id, id, id) < 0)
		return sbx_fail(err, -errno, "setresgid %u", (unsigned)id);
	if (setresuid(id, id, id) < 0)
		return sbx_fail(err, -errno, "setresuid %u", (unsigned)id);
	return 0;
}

static int clear_capabilities(struct sbx_err *err)
{
	cap_t empty = cap_init();
	if (!empty)
		return sbx_fail(err, -errno, "cap_init");
	int r = cap_set_proc(empty);
	int e = errno;
	cap_free(empty);
	return r < 0 ? sbx_fail(err, -e, "cap_set_proc") : 0;
}

static int set_no_new_privs(struct sbx_err *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_fail(err, -errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

extern char **environ;

static char *const minimal_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
	"HOME=/tmp",
	"LANG=C.UTF-8",
	NULL,
};

/* In the init, before the vfork: the command's PATH search and its
 * environment must be the job's, never the runner's (whose PATH may hold
 * other directories, or a relative "."). The init's memory is its own
 * copy since clone3, so this changes nothing in the runner. */
static int use_job_environ(const struct sbx_spec *spec)
{
	environ = spec->envp ? (char **)spec->envp : (char **)minimal_env;
	return 0;
}

/* The command (pid 2), from here to its execve. */

/* SIG_IGN survives execve; a job must start with default dispositions. */
static int default_dispositions(void)
{
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	return 0;
}

static int enter_cwd(const char *cwd, struct sbx_err *err)
{
	if (cwd && chdir(cwd) < 0)
		return sbx_fail(err, -errno, "chdir %s", cwd);
	return 0;
}

void child_record(uint32_t tag, uint64_t value)
{
	struct child_record rec = { .tag = tag, .value = value };
	if (write(FD_STATUS, &rec, sizeof rec) < 0) { /* the runner is gone: nothing to tell */ }
}

/* pid 1 from here on: reap everything, report the command's status. */
static _Noreturn void run_init(pid_t cmd)
{
	int status = 0;
	for (;;) {
		int st;
		pid_t p = wait(&st);
		if (p == cmd) {
			status = st;
			break;
		}
		if (p < 0 && errno != EINTR)
			_exit(127);
	}
	child_record(REC_CMD_STATUS, (uint64_t)(unsigned)status);
	_exit(0);
}

_Noreturn void child_main(const struct child_ctx *ctx)
{
	const struct sbx_spec *spec = ctx->spec;
	uint64_t t_entry = spec->timing ? sr_now_us() : 0;
	int landlock_fd = -1;
	/* The child's own error record: STEP empties it before each step and
	 * sends its text over the error pipe when the step fails. */
	struct sbx_err step_err = SBX_ERR_INIT, *err = &step_err;

	STEP("user namespace map", wait_for_id_map(ctx, err));
	STEP("join cgroup", join_cgroup(ctx, err));
	uint64_t t_start = spec->timing ? sr_now_us() : 0;
	STEP("network namespace", enter_prepared_netns(ctx->netns, err));
	STEP("signals", reset_signals(err));
	STEP("umask", set_umask());
	STEP("die with runner", die_with_runner(ctx->runner_pidfd, err));
	STEP("cgroup namespace", enter_cgroup_ns(ctx->unshare_cgroup_ns, err));
	/* Before the host's /proc is gone: its /proc/sys/user is this
	 * namespace's own. */
	STEP("inotify share", rootless_cap_inotify(ctx->inotify_instances, ctx->inotify_watches, err));
	STEP("mounts", mounts_build_root(spec, ctx->binds, ctx->uid, err));
	uint64_t t_mounts = spec->timing ? sr_now_us() : 0;
	STEP("descriptors", setup_fds(ctx, err));
	STEP("landlock ruleset", landlock_prepare(spec, &landlock_fd, err)); /* applied by the command */
	STEP("session", new_session(err));
	STEP("hostname", set_hostname(err));
	STEP("rlimits", set_rlimits(&spec->limits, err));
	STEP("hide the runner's argv", harden_init_name(err));
	STEP("bounding set", drop_bounding_set(err));
	STEP("job uid", become_job_user(ctx->uid, err));
	STEP("capabilities", clear_capabilities(err));
	STEP("no_new_privs", set_no_new_privs(err));
	STEP("not dumpable", harden_not_dumpable(err)); /* setresuid reset it */
	STEP("keyrings", harden_keyrings(err));
	STEP("die with runner again", die_with_runner(FD_RUNNER, err)); /* setresuid cleared it */
	STEP("environment", use_job_environ(spec));
	if (spec->timing) {
		child_record(REC_T_ENTRY, t_entry);
		child_record(REC_T_START, t_start);
		child_record(REC_T_MOUNTS, t_mounts);
		child_record(REC_T_PRIVS, sr_now_us());
	}

	/* vfork: the command borrows our address space until its execve
	 * instead of copying it (a copy of the runner's, whose page tables and
	 * copy-on-write faults cost more than everything else in this step).
	 * Safe here: we are single threaded and suspended until the command
	 * execs or exits; before that it only makes system calls from its own
	 * stack frames and writes to its own copies of the descriptor table,
	 * signal handlers, credentials and seccomp filter (all per task, not
	 * per address space); no untrusted instruction runs before execve
	 * gives it a fresh address space. */
	pid_t cmd = vfork();
	if (cmd < 0)
		child_report_failure(ctx, NULL, "fork command", -errno);
	if (cmd == 0) {
		/* The command: it never returns from this block, and every
		 * failure ends in _exit. It writes no state the init reads
		 * afterwards (a failure fills the error record, which the
		 * init's next STEP empties before using it). */
		STEP("dispositions", default_dispositions());
		STEP("cwd", enter_cwd(spec->cwd, err));
		/* Only the command enters the Landlock domain: the init stays
		 * outside it, so the job cannot even signal it (ABI >= 6). */
		STEP("landlock", landlock_restrict(landlock_fd, err));
		/* Seccomp last: every earlier step may use syscalls the policy
		 * refuses; only execve itself runs under the filter. */
		STEP("seccomp", sbx_policy_install(spec->policy, err));
		if (spec->timing)
			child_record(REC_T_SECCOMP, sr_now_us());
		/* execvp searches the PATH of environ, which the init set to
		 * the job's own environment before the vfork. */
		execvp(spec->argv[0], spec->argv);
		child_report_failure(ctx, err, "exec", sbx_fail(err, -errno, "%s", spec->argv[0]));
	}
	STEP("init seccomp", harden_init_seccomp(err)); /* the command has exec'd: not inherited */
	close(FD_ERR);  /* the command held the last other copy until its execve */
	close(FD_RUNNER);
	sr_closep(&landlock_fd);
	run_init(cmd);
}
