/* sandbox/spawn.c — clone3() a contained child, watch it, reap it.
 *
 *   runner                                   job init (pid 1, new namespaces)
 *   ------                                   -------------------------------
 *   cg_job_create (limits written)
 *   [v1: open the job's "tasks" files]
 *   detached copies of the fd binds
 *   [idle: sbx_run_prepare makes a netns]
 *   clone3(PIDFD|NEW{PID,NS,IPC,UTS}
 *          [|NEWNET if none was prepared]
 *          [|NEWCGROUP|INTO_CGROUP on v2]) ->  [v1: join the cgroups itself]
 *   returns at once (nothing to hand over)      [enter the prepared netns]
 *                                               pdeathsig, runner still there?
 *                                               mounts, fds, session, rlimits,
 *                                               caps, nnp, pdeathsig again
 *   error pipe readable: EOF or report <----    fork -> command: seccomp, execve
 *   (EOF = execve done; a report = setup_error)
 *   ... pidfd readable ...                      init reaps, writes the command's
 *   waitid(P_PIDFD), read status pipe <-----    wait status, exits (the kernel
 *   counters, rmdir, classify                   kills whatever is left)
 *
 * Nothing waits for anything on the way in: the runner can start the next
 * job, or read another job's output, while this one builds its sandbox.
 */
#include "cgroup.h"
#include "child.h"
#include "ident.h"
#include "reap.h"
#include "thaw_guard.h"
#include "rootless.h"
#include "seccomp_log.h"
#include "lib/fd.h"
#include "watch.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct sbx_run {
	struct cg_run cg;
	struct seccomp_log seclog;
	int self_pidfd;    /* the runner's own pidfd: jobs poll it to see it die */
	int spare_netns;   /* a fresh, never used network namespace, or -1 */
	bool no_spare;     /* preparing failed once: let clone3 do it */
	int uid_dir;       /* /run/sandrun/uid: one lock file per job uid */
	unsigned uid_next; /* where the next claim starts (rotating) */
	struct rootless rl; /* rl.on: not root, every job in a user namespace */
};

struct sbx_job {
	struct sbx_run *run;
	struct cg_job cg;
	struct ident ident; /* its uid, locked until the init is reaped */
	pid_t pid;
	pid_t cmd_pid;     /* host pid of the command (pid 2 inside) */
	int pidfd, status_rd;
	int err_rd;        /* setup report or EOF at execve; -1 once collected */
	uint64_t start_us;
	bool timing;
	uint64_t t_cgroup, t_exec; /* runner-side stamps */
	enum sbx_kill_reason killed;
	struct job_watch watch; /* its deadline and CPU check */
	struct thaw_guard guard; /* while paused on v1 (thaw_guard.c) */
	bool setup_failed, policy_kills, input_changed;
	char setup_msg[256];
};

int sbx_run_open(const struct sbx_run_opts *opts, struct sbx_run **out, struct sbx_err *err)
{
	struct sbx_run *run = calloc(1, sizeof *run);
	if (!run)
		return -ENOMEM;
	run->spare_netns = -1;
	int r;
	if (geteuid() != 0) {
		/* Without root (rootless.c): refused unless every job can get
		 * its user namespace, its own subordinate id and its cgroup
		 * limits. A namespace made by the runner would be owned by the
		 * host's user namespace, where the job has no rights to enter
		 * it: clone3 makes each job's network namespace. */
		run->no_spare = true;
		if ((r = rootless_open(&run->rl, err)) < 0 || (r = run->uid_dir = ident_open_user_dir(err)) < 0) {
			free(run);
			return r;
		}
	} else if ((r = ident_check_range(err)) < 0 || (r = run->uid_dir = ident_open_dir(err)) < 0) {
		/* Fail closed: no job may run as a uid an account or a
		 * subordinate range (a user namespace's mapping) could also be. */
		free(run);
		return r;
	}
	run->uid_next = ident_random_start() % (run->rl.on ? run->rl.slots : SBX_UID_COUNT);
	/* A job polls this to learn that the runner died before its
	 * parent-death signal was armed (child.c). A pipe would not do: jobs
	 * cloned while another is still setting up inherit its copy. */
	run->self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (run->self_pidfd < 0) {
		r = sbx_fail(err, -errno, "pidfd_open");
		close(run->uid_dir);
		free(run);
		return r;
	}
	r = cg_run_open(&run->cg, err);
	if (r < 0) {
		close(run->self_pidfd);
		close(run->uid_dir);
		free(run);
		return r;
	}
	seccomp_log_open(&run->seclog); /* optional: names seccomp kills */
	*out = run;
	return 0;
}

void sbx_run_close(struct sbx_run *run)
{
	if (!run)
		return;
	cg_run_close(&run->cg);
	seccomp_log_close(&run->seclog);
	sr_closep(&run->spare_netns);
	sr_closep(&run->self_pidfd);
	sr_closep(&run->uid_dir);
	free(run);
}

/* Creating a network namespace is the costliest part of clone3 (~0.5 ms:
 * loopback device, sysctl tables), and clone3 runs in the runner. So the
 * runner makes the next job's namespace while it has nothing else to do:
 * it steps into a new one, keeps a descriptor to it, and steps back. The
 * job enters it first thing (child.c), so it is exactly as fresh and as
 * private as one made by clone3: nothing else ever ran in it and only that
 * job gets the descriptor. */
int sbx_run_prepare(struct sbx_run *run, struct sbx_err *err)
{
	if (run->spare_netns >= 0 || run->no_spare)
		return 0;
	run->no_spare = true; /* until it worked: one warning, not one per event */
	_cleanup_close_ int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return sbx_fail(err, -errno, "open /proc/thread-self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return sbx_fail(err, -errno, "unshare(CLONE_NEWNET)");
	int fresh = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int e = errno;
	if (setns(home, CLONE_NEWNET) < 0) {
		/* Cannot happen with CAP_SYS_ADMIN; if it does, the runner uses
		 * no network, so staying here harms nothing but this spare. */
		sr_closep(&fresh);
		return sbx_fail(err, -errno, "setns back to the runner's own network namespace (the "
				"runner now stays in an empty one; jobs are unaffected)");
	}
	if (fresh < 0)
		return sbx_fail(err, -e, "open the new network namespace");
	run->spare_netns = fresh;
	run->no_spare = false;
	return 0;
}

const char *sbx_cgroup_mode_name(enum sbx_cgroup_mode m)
{
	switch (m) {
	case SBX_CG_V1: return "v1";
	case SBX_CG_HYBRID: return "hybrid (v1 controllers)";
	case SBX_CG_V2: return "v2";
	default: return "none";
	}
}

static void job_free(struct sbx_job *job)
{
	sr_closep(&job->pidfd);
	sr_closep(&job->status_rd);
	sr_closep(&job->err_rd);
	watch_close(&job->watch);
	thaw_guard_disarm(&job->guard);
	ident_release(&job->ident);
	free(job);
}

/* Read the child's setup report; EOF with nothing means it exec'd. The
 * report is one write of less than PIPE_BUF, so it arrives whole. */
static void collect_setup_report(struct sbx_job *job, int err_rd)
{
	struct child_report rep;
	int n = sr_read_full(err_rd, &rep, sizeof rep);
	if (n != (int)sizeof rep)
		return;
	rep.step[sizeof rep.step - 1] = '\0';
	rep.detail[sizeof rep.detail - 1] = '\0';
	job->setup_failed = true;
	job->input_changed = rep.input_changed;
	snprintf(job->setup_msg, sizeof job->setup_msg, "%s: %s", rep.step, rep.detail);
}

/* The init's only child is the command; its host pid names it in the
 * kernel's seccomp audit records. */
static pid_t command_host_pid(pid_t init)
{
	char path[64], buf[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
	if (sr_read_file_at(AT_FDCWD, path, buf, sizeof buf) <= 0)
		return 0;
	return (pid_t)atoi(buf);
}

/* A job record and what it holds before clone3: its deadline and CPU
 * timers, a uid of its own, its cgroup with the limits written. */
static int job_new(struct sbx_run *run, const struct sbx_spec *spec, struct sbx_job **out,
		   struct sbx_err *err)
{
	struct sbx_job *job = calloc(1, sizeof *job);
	if (!job)
		return sbx_fail(err, -ENOMEM, "a job record");
	job->run = run;
	job->pidfd = job->status_rd = job->err_rd = -1;
	job->ident.lock_fd = -1;
	job->guard = (struct thaw_guard)THAW_GUARD_INIT;
	job->policy_kills = sbx_policy_kills(spec->policy);
	job->timing = spec->timing;
	/* Armed before anything exists: a job whose deadline or CPU check
	 * cannot be had is refused, never run unlimited. */
	int r = watch_arm(&job->watch, &spec->limits, err);
	/* ... and a uid no other job of any runner holds now. (job_free
	 * releases whatever of these was had.) */
	if (r < 0 || (r = ident_claim(run->uid_dir, run->rl.on ? run->rl.slots : SBX_UID_COUNT, &run->uid_next,
				 &job->ident, err)) < 0 ||
	    (r = cg_job_create(&run->cg, &spec->limits, &job->cg, err)) < 0) {
		job_free(job);
		return r;
	}
	*out = job;
	return 0;
}

/* Without root: write the new user namespace's uid/gid maps, then let
 * the child go on (one byte on the map pipe). If the maps cannot be
 * written, the child is killed where it waits and nothing was started. */
static int map_job_ids(struct sbx_run *run, struct sbx_job *job, pid_t pid, int pidfd, int map_wr,
		       struct sbx_err *err)
{
	int r = rootless_map(&run->rl, pid, job->ident.id - SBX_UID_BASE, job->ident.id, err);
	if (r == 0 && write(map_wr, "m", 1) != 1)
		r = sbx_fail(err, -errno, "release the child after its uid map");
	close(map_wr);
	if (r < 0) {
		pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		close(pidfd);
	}
	return r;
}

/* clone3 the job's init into its namespaces (on v2 into its cgroup too);
 * the child runs child_main and never returns here. The pid, or -errno. */
static long job_clone(struct sbx_run *run, struct sbx_job *job, const struct sbx_spec *spec,
		      const int pipes[2], int *tasks, int ntasks, int *pidfd, struct sbx_err *err)
{
	bool v2 = run->cg.mode == SBX_CG_V2;
	struct clone_args args = {
		.flags = CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	if (v2) {
		/* Born inside its limits: no window where it runs uncharged. */
		args.flags |= CLONE_INTO_CGROUP | CLONE_NEWCGROUP;
		args.cgroup = (uint64_t)cg_job_clone_fd(&run->cg, &job->cg);
	}
	/* A prepared network namespace, or a new one from clone3. */
	int netns = sr_steal_fd(&run->spare_netns);
	if (netns < 0)
		args.flags |= CLONE_NEWNET;
	/* Without root: a user namespace owns all the others, and the child
	 * waits on map[0] until the runner has written its uid/gid maps. */
	int map[2] = { -1, -1 };
	if (run->rl.on) {
		args.flags |= CLONE_NEWUSER;
		if (pipe2(map, O_CLOEXEC) < 0) {
			sr_closep(&netns);
			return sbx_fail(err, -errno, "pipe2");
		}
	}
	struct bind_tree trees[SBX_MAX_BINDS];
	struct child_ctx ctx = {
		.spec = spec, .runner_pidfd = run->self_pidfd, .err_wr = pipes[0], .status_wr = pipes[1],
		.unshare_cgroup_ns = !v2, .cg_tasks = tasks, .n_cg_tasks = ntasks, .netns = netns,
		.binds = trees,
		.uid = job->ident.id,
		.map_rd = map[0], .map_wr = map[1],
		.inotify_instances = run->rl.inotify_instances, .inotify_watches = run->rl.inotify_watches,
	};
	job->start_us = sr_now_us();
	/* The inputs and --bind sources are bound from the descriptors the
	 * runner checked, never by path. The copies are made here, in the
	 * runner: open_tree(OPEN_TREE_CLONE) copies only mounts of the
	 * caller's own namespace, and the child's is a copy of ours. The
	 * child just moves them into its new root (timed as clone_us). */
	int r = mounts_clone_binds(spec, trees, run->rl.on, err);
	if (r < 0) {
		mounts_close_binds(trees, spec->nbinds <= SBX_MAX_BINDS ? spec->nbinds : 0);
		sr_closep(&netns);
		sr_closep(&map[0]);
		sr_closep(&map[1]);
		return r;
	}
	long pid = syscall(SYS_clone3, &args, sizeof args);
	int e = errno;
	if (pid == 0)
		child_main(&ctx);
	/* The child has its own copies (or failed); ours would only keep the
	 * detached trees alive. */
	mounts_close_binds(trees, spec->nbinds);
	sr_closep(&netns);
	sr_closep(&map[0]);
	if (pid < 0) {
		sr_closep(&map[1]);
		return sbx_fail(err, -e, "clone3");
	}
	if (run->rl.on && (r = map_job_ids(run, job, (pid_t)pid, *pidfd, map[1], err)) < 0)
		return r;
	return pid;
}

int sbx_job_start(struct sbx_run *run, const struct sbx_spec *spec, struct sbx_job **out,
		  struct sbx_err *err)
{
	if (!spec->argv || !spec->argv[0] || !spec->policy)
		return sbx_fail(err, -EINVAL, "a job needs a command and a policy");
	uint64_t t0 = sr_now_us();
	struct sbx_job *job = NULL;
	int r = job_new(run, spec, &job, err);
	if (r < 0)
		return r;
	int errp[2] = { -1, -1 }, status[2] = { -1, -1 };
	int tasks[CG_NCTL];
	int ntasks = 0;
	if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
		r = sbx_fail(err, -errno, "pipe2");
		goto fail;
	}
	if ((r = ntasks = cg_job_open_tasks(&run->cg, &job->cg, tasks, err)) < 0) {
		ntasks = 0;
		goto fail;
	}
	int pidfd = -1;
	long pid = job_clone(run, job, spec, (const int[2]){ errp[1], status[1] }, tasks, ntasks,
			     &pidfd, err);
	if (pid < 0) {
		r = (int)pid;
		goto fail;
	}
	job->t_cgroup = job->start_us - t0;
	job->pid = (pid_t)pid;
	job->pidfd = pidfd;
	job->status_rd = status[0];
	job->err_rd = errp[0];
	close(errp[1]);
	close(status[1]);
	for (int i = 0; i < ntasks; i++)
		close(tasks[i]);
	*out = job;
	return 0;

fail:
	for (int i = 0; i < ntasks; i++)
		close(tasks[i]);
	for (int i = 0; i < 2; i++) {
		sr_closep(&errp[i]);
		sr_closep(&status[i]);
	}
	cg_job_remove(&run->cg, &job->cg, NULL); /* r's detail is the one to tell */
	job_free(job);
	return r;
}

int sbx_job_setup_fd(const struct sbx_job *job)
{
	return job->err_rd;
}

void sbx_job_setup_collect(struct sbx_job *job)
{
	if (job->err_rd < 0)
		return;
	collect_setup_report(job, job->err_rd);
	close(job->err_rd);
	job->err_rd = -1;
	job->t_exec = sr_now_us();
	/* Right after execve the command is normally still alive; if it is
	 * already gone, a seccomp kill goes unnamed, never misattributed. */
	if (job->policy_kills && !job->setup_failed)
		job->cmd_pid = command_host_pid(job->pid);
}

int sbx_job_pidfd(const struct sbx_job *job)
{
	return job->pidfd;
}

int sbx_job_cpu_ms(const struct sbx_job *job, uint64_t *out, struct sbx_err *err)
{
	int r = cg_job_cpu_ms(&job->run->cg, &job->cg, out);
	return r < 0 ? sbx_fail(err, r, "read the job's CPU time") : 0;
}

int sbx_job_freeze(struct sbx_job *job, bool frozen, struct sbx_err *err)
{
	/* On v1 the guard is armed before the freeze: there is no moment at
	 * which the job is frozen and its runner's death would leave it so. */
	int ffd = cg_job_freezer_fd(&job->run->cg, &job->cg), r;
	if (frozen && ffd >= 0 && (r = thaw_guard_arm(&job->guard, ffd)) < 0)
		return sbx_fail(err, r, "start the guard that thaws a paused job if the runner dies");
	r = cg_job_freeze(&job->run->cg, &job->cg, frozen, err);
	/* The guard goes only once the job is known to be thawed: a thaw that
	 * failed leaves it armed (and the kill writes THAWED again). */
	if (r < 0 && frozen && cg_job_freeze(&job->run->cg, &job->cg, false, NULL) == 0)
		thaw_guard_disarm(&job->guard);
	if (r == 0 && !frozen)
		thaw_guard_disarm(&job->guard);
	if (r < 0)
		return r;
	return watch_pause(&job->watch, frozen, err);
}

int sbx_job_watch_fds(const struct sbx_job *job, int fds[SBX_JOB_MAX_WATCH])
{
	int n = 0;
	if (job->watch.deadline_fd >= 0)
		fds[n++] = job->watch.deadline_fd;
	if (job->watch.cpu_fd >= 0)
		fds[n++] = job->watch.cpu_fd;
	return n;
}

static int job_cpu_used(const void *ctx, uint64_t *out)
{
	return sbx_job_cpu_ms(ctx, out, NULL);
}

enum sbx_kill_reason sbx_job_watch_event(struct sbx_job *job)
{
	return watch_event(&job->watch, job_cpu_used, job);
}

int sbx_job_kill(struct sbx_job *job, enum sbx_kill_reason why, struct sbx_err *err)
{
	if (job->killed == SBX_KILL_NONE)
		job->killed = why;
	/* SIGKILL to the namespace's init takes every process of the namespace
	 * with it; the cgroup kill catches anything that is somehow not. */
	if (pidfd_send_signal(job->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return sbx_fail(err, -errno, "kill job %d", (int)job->pid);
	cg_job_kill(&job->run->cg, &job->cg);
	return 0;
}

static int wait_init(int pidfd, int *raw_status, struct sbx_err *err)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		if (errno != EINTR)
			return sbx_fail(err, -errno, "waitid");
	*raw_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : (si.si_status & 0x7f);
	return 0;
}

/* The init has exited, so the pipe holds everything it will ever hold. */
static void read_child_records(int fd, struct sbx_observation *obs, uint64_t *stamps)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct child_record rec;
	while (sr_read_full(fd, &rec, sizeof rec) == (int)sizeof rec) {
		if (rec.tag == REC_CMD_STATUS) {
			obs->cmd_status_known = true;
			obs->cmd_wait_status = (int)rec.value;
		} else if (rec.tag <= REC_T_LAST) {
			stamps[rec.tag] = rec.value;
		}
	}
}

static uint64_t span(uint64_t from, uint64_t to)
{
	return from && to > from ? to - from : 0;
}

static void fill_timing(const struct sbx_job *job, const uint64_t *st, uint64_t t_finish,
			uint64_t t_reaped, struct sbx_timing *t)
{
	/* the child's own v1 join is cgroup time, not clone time */
	t->cgroup_us = job->t_cgroup + span(st[REC_T_ENTRY], st[REC_T_START]);
	t->clone_us = span(job->start_us, st[REC_T_ENTRY]);
	t->mounts_us = span(st[REC_T_START], st[REC_T_MOUNTS]);
	t->privs_us = span(st[REC_T_MOUNTS], st[REC_T_PRIVS]);
	t->seccomp_us = span(st[REC_T_PRIVS], st[REC_T_SECCOMP]);
	t->exec_us = span(st[REC_T_SECCOMP], job->t_exec);
	t->run_us = span(job->t_exec, t_finish);
	t->reap_us = span(t_finish, t_reaped);
	t->cleanup_us = span(t_reaped, sr_now_us());
}

int sbx_job_finish(struct sbx_job *job, struct sbx_result *res, struct sbx_err *err)
{
	struct cg_run *cg = &job->run->cg;
	struct sbx_observation obs = {
		.setup_failed = job->setup_failed,
		.killed = job->killed,
		.policy_kills = job->policy_kills,
	};
	memset(res, 0, sizeof *res);
	res->syscall_nr = -1;

	uint64_t t_finish = sr_now_us();
	int r = wait_init(job->pidfd, &obs.init_wait_status, err);
	/* Every process of the namespace is gone, so this cannot block. */
	if (r == 0)
		sbx_job_setup_collect(job);
	obs.setup_failed = job->setup_failed;
	uint64_t t_reaped = sr_now_us();
	res->wall_ms = (t_reaped - job->start_us) / 1000;
	uint64_t stamps[REC_T_LAST + 1] = { 0 };
	if (r == 0)
		read_child_records(job->status_rd, &obs, stamps);
	cg_job_cpu_ms(cg, &job->cg, &res->cpu_ms);
	cg_job_peak_bytes(cg, &job->cg, &res->peak_memory_bytes);
	cg_job_oom_kills(cg, &job->cg, &res->oom_kills);
	obs.oom_kills = res->oom_kills;
	/* The init has been reaped, so the kernel has already killed every
	 * process of its pid namespace: the cgroup is empty. No freeze-and-kill
	 * here on every job; cg_job_remove kills stragglers if rmdir finds any. */
	int rm = cg_job_remove(cg, &job->cg, r < 0 ? NULL : err); /* r first */

	if (job->timing)
		fill_timing(job, stamps, t_finish, t_reaped, &res->timing);
	sbx_classify(&obs, res);
	res->interrupted = job->killed == SBX_KILL_INTERRUPT;
	if (res->outcome == OUTCOME_SETUP_ERROR) {
		snprintf(res->error, sizeof res->error, "%s", job->setup_msg);
		res->input_changed = job->input_changed;
	} else if (res->outcome == OUTCOME_SECCOMP) {
		res->syscall_nr = seccomp_log_lookup(&job->run->seclog, job->cmd_pid);
		const char *name = res->syscall_nr >= 0 ? sbx_syscall_name(res->syscall_nr) : NULL;
		snprintf(res->syscall, sizeof res->syscall, "%s", name ? name : "");
		if (res->syscall_nr < 0)
			res->syscall_nr = -1;
		if (name)
			snprintf(res->error, sizeof res->error, "killed by the seccomp policy at %s", name);
		else
			snprintf(res->error, sizeof res->error, "killed by the seccomp policy");
	}
	job_free(job);
	if (r < 0)
		return r;
	return rm;
}
