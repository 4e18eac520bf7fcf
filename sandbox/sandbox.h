/* sandbox/ — one job becomes one contained child.
 *
 * Contract: given a struct sbx_spec (plain data: argv, fds, binds, limits,
 * policy), sbx_job_start() creates a child with clone3() in fresh pid, mount,
 * net, ipc, uts and cgroup namespaces, inside its own cgroup, with no
 * capabilities, no_new_privs and a seccomp filter, and returns a pidfd to
 * watch. sbx_job_finish() reaps it, kills whatever is left of it, removes
 * its cgroup and classifies the end into exactly one enum outcome
 * (lib/outcome.h).
 *
 * This module knows nothing of SQLite, items or files-as-work: the runner
 * (runner/) calls it, never the other way round.
 *
 * Error idiom (used by every function here): return 0 (or a count) on
 * success, -errno on failure. A function that can fail takes, as its last
 * parameter, a struct sbx_err the caller owns (see "errors" at the end):
 * the detail of that call's failure goes there and nowhere else, so no
 * caller can read another call's message.
 */
#ifndef SANDRUN_SANDBOX_H
#define SANDRUN_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/outcome.h"

/* ---- errors ----------------------------------------------------------
 * The detail of a failure, in a record the caller owns (crun's
 * libcrun_error_t is the model). Why not one global "last error": a
 * message-less failure would hand its caller the text of some earlier,
 * unrelated one, which then lands in the store as this attempt's cause.
 * Declare a fresh record per call:
 *
 *	struct sbx_err e = SBX_ERR_INIT;
 *	int r = sbx_job_start(run, &spec, &job, &e);
 *	if (r < 0)
 *		log("start: %s", sbx_err_text(&e, r));
 */
#define SBX_ERR_MSG 2048
struct sbx_err {
	int code;              /* the -errno that msg explains; 0: none yet */
	char msg[SBX_ERR_MSG]; /* "what: strerror", "" when nothing was said */
	bool input_changed;    /* the failure is the input's (sbx_bind.input) */
};
#define SBX_ERR_INIT { 0 }

/* Fill *err with a formatted detail for the failure code `neg_errno` and
 * return the code unchanged, so callers write
 *	return sbx_fail(err, -errno, "mkdir %s", p);
 * err may be NULL: a best-effort call whose failure must not replace the
 * detail of the one that matters. */
int sbx_fail(struct sbx_err *err, int neg_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, for a message that already says why and what to do (the
 * requirements of running without root): no ": strerror" appended. */
int sbx_fail_plain(struct sbx_err *err, int neg_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* What to tell about the failure rc of the call that was given err: its
 * detail when that call left one for this very code, else strerror(-rc)
 * (a true text, never another call's); "" for rc >= 0 without a detail. */
const char *sbx_err_text(const struct sbx_err *err, int rc);

/* ---- outcomes -------------------------------------------------------- */

/* A job ends in one of the first OUTCOME_SANDBOX_COUNT outcomes of the one
 * catalog, enum outcome of lib/outcome.h (names: outcome_name()). */

/* ---- limits ---------------------------------------------------------- */

/* 0 means "not set" for every field; sbx_limits_defaults() fills the
 * defaults a job gets when the user says nothing. */
struct sbx_limits {
	uint64_t mem_bytes;      /* memory.max / memory.limit_in_bytes */
	uint64_t timeout_ms;     /* wall-clock deadline (timerfd) */
	uint64_t cpu_time_ms;    /* total CPU of the job's cgroup */
	double cpus;             /* cpu.max quota, in CPUs (1.5 = 150%) */
	uint32_t pids;           /* pids.max */
	uint64_t fsize_bytes;    /* RLIMIT_FSIZE */
	uint32_t nofile;         /* RLIMIT_NOFILE */
	uint64_t tmp_bytes;      /* size of the private /tmp and /dev/shm */
};

void sbx_limits_defaults(struct sbx_limits *l);

/* Pure parsers, unit-tested: "6G", "512M", "1.5K", "4096" -> bytes;
 * "1.5", "2.25" -> a positive double. (Durations: lib/duration.h.) */
int sbx_parse_size(const char *s, uint64_t *out);
int sbx_parse_positive_double(const char *s, double *out);
int sbx_parse_u32(const char *s, uint32_t *out);

/* ---- policy ---------------------------------------------------------- */

/* A seccomp policy compiled to BPF once per run (sandbox/policy.c).
 * Opaque; loaded in the child with one seccomp() call. */
struct sbx_policy;

/* name_or_path: "default", "strict", "analyzer", or a path to a JSON file (OCI /
 * Docker seccomp format, see docs/sandrun-policy.5). Bare names are looked
 * up as <policy_dir>/<name>.json. */
int sbx_policy_load(const char *name_or_path, const char *policy_dir,
		    struct sbx_policy **out, struct sbx_err *err);
void sbx_policy_free(struct sbx_policy *p);
const char *sbx_policy_name(const struct sbx_policy *p);
/* In the child, just before execve: install the filter. The caller has set
 * no_new_privs. Allocation-free and async-signal-safe (one seccomp() call
 * per compiled layer); returns -errno and records the code alone, no
 * message (formatting one is not async-signal-safe). */
int sbx_policy_install(const struct sbx_policy *p, struct sbx_err *err);
/* True if the policy's default or any rule can kill the process
 * (SCMP_ACT_KILL*, SCMP_ACT_TRAP), so a SIGSYS death means "seccomp". */
bool sbx_policy_kills(const struct sbx_policy *p);
/* Name of syscall `nr` for the native arch, or NULL. */
const char *sbx_syscall_name(int nr);

/* ---- the job spec ---------------------------------------------------- */

/* A bind names its source by descriptor, so the sandbox binds exactly the
 * file or directory the caller opened and checked: a path would be resolved
 * again later, as root with every capability, while whoever owns a
 * directory on it (an uploader's folder) swaps entries for symlinks.
 *
 *   src_fd > 2  bind this descriptor (O_PATH is enough), opened in the
 *               caller's mount namespace; the caller keeps it and may reuse
 *               it for every job. A directory is bound with its submounts,
 *               a regular file alone; anything else is refused. src is then
 *               only a label for messages.
 *   otherwise   bind the host path src, resolved in the child without
 *               following a final symlink. Only for paths the admin who
 *               starts sandrun controls (the analyzer binary): never an
 *               input and never a --bind/--bind-ro source. (0 counts as "no
 *               descriptor" so that a zero-initialised bind cannot bind the
 *               runner's stdin.) */
struct sbx_bind {
	const char *src;     /* host path, or a label (see above) */
	const char *dst;     /* path inside the sandbox (absolute) */
	int src_fd;          /* > 2: the source itself (see above) */
	bool writable;
	bool noexec;
	/* The job's input ({}), bound by descriptor. Without root the child
	 * finds it again by the descriptor's path (a copy can only be made in
	 * its own namespace): if the input's directory owner keeps renaming
	 * it away meanwhile, the job ends with sbx_result.input_changed, the
	 * input's fault (an input error), not a setup error to retry. */
	bool input;
};
/* Whether b is bound from its descriptor. */
static inline bool sbx_bind_by_fd(const struct sbx_bind *b)
{
	return b->src_fd > 2;
}

/* What the job may reach of its own filesystem, enforced with Landlock on
 * top of the mounts where the kernel has it (sandbox/landlock.c). */
enum sbx_fs_profile {
	/* --cmd and exec jobs: read+execute on the system directories and
	 * /proc, read+write on /dev's nodes, /tmp, /dev/shm and --bind
	 * targets, read (+execute) on --bind-ro targets. */
	SBX_FS_COMMAND = 0,
	/* The built-in analyzer reads only its descriptors: execute and read
	 * the program and its libraries (/usr, /lib*, /etc/ld.so.cache) and
	 * nothing else, no directory listing, no /etc, /proc, /dev or /tmp. */
	SBX_FS_CODE_ONLY,
};

struct sbx_spec {
	char *const *argv;        /* argv[0] is looked up in the sandbox PATH */
	char *const *envp;        /* complete environment; NULL = minimal */
	const char *cwd;          /* inside the sandbox; NULL = "/" */
	/* fds the child gets as 0, 1, 2; -1 means "inherit the runner's" */
	int stdin_fd, stdout_fd, stderr_fd;
	const struct sbx_bind *binds;
	size_t nbinds;
	/* More host /etc entries than the allowlist (sandbox/hostview.c),
	 * names relative to /etc; secrets are refused. */
	const char *const *etc_extra;
	size_t netc_extra;
	const struct sbx_policy *policy;  /* required */
	struct sbx_limits limits;
	bool timing;              /* record per-step timestamps (bench) */
	enum sbx_fs_profile fs_profile;
};

/* ---- job identities ---------------------------------------------------
 * Each running job has its own uid (= gid) of this range, claimed with a
 * lock under /run/sandrun/uid so that no two jobs of any sandrun processes
 * share one (sandbox/ident.c says why the range is safe). */
#define SBX_UID_BASE 0x7FFF0000u  /* 2147418112 */
#define SBX_UID_COUNT 4096u

/* ---- the run and its jobs ------------------------------------------- */

enum sbx_cgroup_mode { SBX_CG_NONE = 0, SBX_CG_V1, SBX_CG_HYBRID, SBX_CG_V2 };
const char *sbx_cgroup_mode_name(enum sbx_cgroup_mode m);

/* One per sandrun process: detects cgroups, makes the per-run cgroup
 * subtree. */
struct sbx_run;

struct sbx_run_opts {
	const char *name_hint;    /* used in the cgroup directory name */
};

int sbx_run_open(const struct sbx_run_opts *opts, struct sbx_run **out, struct sbx_err *err);
/* Whether NAME may be given as sbx_spec.etc_extra (sandbox/hostview.c):
 * relative to /etc, no "..", no secret, exists without a symlink on the way.
 * 0, or -errno with the reason in *err. */
int sbx_etc_name_check(const char *name, struct sbx_err *err);
/* The most etc_extra names a spec may carry. */
#define SBX_MAX_ETC_EXTRA 32
/* Optional, when idle: make the next job's network namespace ahead of
 * time, off the path of its start (see spawn.c). */
int sbx_run_prepare(struct sbx_run *run, struct sbx_err *err);
/* Removes the per-run cgroup subtree. Safe on NULL. */
void sbx_run_close(struct sbx_run *run);

struct sbx_job;

/* Make the job's cgroup, arm its supervision and clone the child; returns
 * at once, while the child builds its sandbox. A setup failure in the
 * child still gives a job, whose finish reports OUTCOME_SETUP_ERROR; -errno
 * means nothing could be started — among other reasons, because a limit
 * it was given (the deadline, the CPU check) could not be armed: a job
 * never runs without the limits it asked for. */
int sbx_job_start(struct sbx_run *run, const struct sbx_spec *spec,
		  struct sbx_job **out, struct sbx_err *err);
/* Readable once the command has exec'd or setup failed; -1 once
 * collected. Watching it is optional: sbx_job_finish collects it too, but
 * then the timing's exec/run split and the name of a seccomp-killed
 * syscall may be missing. */
int sbx_job_setup_fd(const struct sbx_job *job);
/* Read the setup outcome (blocks until exec or failure). Idempotent. */
void sbx_job_setup_collect(struct sbx_job *job);
int sbx_job_pidfd(const struct sbx_job *job);
/* CPU time used so far by everything in the job's cgroup. */
int sbx_job_cpu_ms(const struct sbx_job *job, uint64_t *out, struct sbx_err *err);
/* Freeze/thaw every process of the job (SIGUSR1 in the runner). The
 * deadline and the CPU check stop while frozen: a frozen job uses none of
 * its time. */
int sbx_job_freeze(struct sbx_job *job, bool frozen, struct sbx_err *err);

/* Why the runner stopped the job, if it did. */
enum sbx_kill_reason {
	SBX_KILL_NONE = 0,
	SBX_KILL_TIMEOUT,
	SBX_KILL_CPU,
	SBX_KILL_OUTPUT,
	SBX_KILL_INTERRUPT,
};
/* Kill everything in the job now; finish still has to be called. */
int sbx_job_kill(struct sbx_job *job, enum sbx_kill_reason why, struct sbx_err *err);

/* The job supervises itself: limits.timeout_ms (wall clock, counted from
 * sbx_job_start, the sandbox's setup included) and limits.cpu_time_ms
 * (the CPU of the job's whole cgroup, checked every 100 ms) are timers the
 * job owns. The caller only watches them: it puts the descriptors this
 * fills (0 to SBX_JOB_MAX_WATCH of them; returns how many) in its epoll
 * set with the job's pidfd, and when any is readable asks
 * sbx_job_watch_event what is due. SBX_KILL_TIMEOUT or SBX_KILL_CPU: the
 * job is past its limit, and the caller stops it (sbx_job_kill with that
 * reason); SBX_KILL_NONE: nothing to do. The descriptors stay the job's:
 * take them out of the epoll set before sbx_job_finish closes them. */
#define SBX_JOB_MAX_WATCH 2
int sbx_job_watch_fds(const struct sbx_job *job, int fds[SBX_JOB_MAX_WATCH]);
enum sbx_kill_reason sbx_job_watch_event(struct sbx_job *job);

/* Per-step cost of one job in microseconds, filled when spec->timing is
 * set (sandrun exec --timing; bench/). Child-side steps are measured with
 * CLOCK_MONOTONIC in the child, which is comparable across processes. */
struct sbx_timing {
	uint64_t cgroup_us;   /* create the job cgroup, write limits, (v1) attach */
	uint64_t clone_us;    /* clone3 until the child runs, with the detached
				 copies of descriptor binds made just before it */
	uint64_t mounts_us;   /* the fresh root */
	uint64_t privs_us;    /* fds, session, rlimits, caps, nnp */
	uint64_t seccomp_us;  /* fork the command + load the filter */
	uint64_t exec_us;     /* execve until the runner sees it done */
	uint64_t run_us;      /* the command itself */
	uint64_t reap_us;     /* waitid after the pidfd is readable */
	uint64_t cleanup_us;  /* counters, kill, rmdir */
};

struct sbx_result {
	enum outcome outcome;
	int exit_code;            /* valid for ok / exit_nonzero, else -1 */
	int signal;               /* valid for signaled / seccomp, else 0 */
	int syscall_nr;           /* seccomp: the syscall, -1 if unknown */
	char syscall[32];         /* its name, "" if unknown */
	uint64_t wall_ms, cpu_ms, peak_memory_bytes, oom_kills;
	bool interrupted;         /* killed with SBX_KILL_INTERRUPT */
	char error[256];          /* setup_error: "step: strerror"; else "" */
	bool input_changed;       /* setup_error: the input bind's source was
	                             swapped after the caller checked it */
	struct sbx_timing timing; /* zero unless spec->timing */
};

/* Blocks until the job's init has exited (call it when the pidfd is
 * readable, or after sbx_job_kill), collects counters, removes the cgroup,
 * classifies, frees the job. */
int sbx_job_finish(struct sbx_job *job, struct sbx_result *res, struct sbx_err *err);

/* ---- host capabilities (sandrun check) ------------------------------- */

#define SBX_RL_CHECKS 5
struct sbx_host_report {
	bool clone3, pidfd, seccomp, user_root;
	bool ns_pid, ns_mnt, ns_net, ns_ipc, ns_uts, ns_cgroup;
	enum sbx_cgroup_mode cgroup_mode;
	bool ctl_memory, ctl_cpu, ctl_pids, ctl_freezer;
	bool into_cgroup;          /* CLONE_INTO_CGROUP usable */
	char cgroup_parent[512];   /* where the per-run subtree goes */
	int landlock_abi;          /* 0: none (best effort: not "missing") */
	bool uid_range_free;       /* no account/subid range in SBX_UID_* */
	char uid_range_error[300]; /* why not, "" if free */
	char missing[512];         /* comma-separated list, "" if complete */
	/* Not root (sandbox/rootless.c): each job gets a user namespace, and
	 * these are what that needs, each with why it fails and the fix. */
	bool rootless;
	struct sbx_rootless_check {
		const char *name;  /* "delegated cgroup v2", "user namespace", ... */
		bool ok;
		char why[SBX_ERR_MSG]; /* "" when ok */
	} rl[SBX_RL_CHECKS];
};
int sbx_host_probe(struct sbx_host_report *r);

#endif
