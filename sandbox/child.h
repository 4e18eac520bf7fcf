/* sandbox/child.h — what the runner hands to the child it clones. */
#ifndef SANDRUN_CHILD_H
#define SANDRUN_CHILD_H

#include "cgroup.h"
#include "sandbox.h"
#include <stdint.h>
#include <sys/types.h>

/* Sent over the close-on-exec error pipe when a setup step fails. EOF on
 * that pipe without a report means execve succeeded. */
struct child_report {
	char step[40];
	int err;               /* positive errno */
	bool input_changed;    /* sbx_err.input_changed of the step */
	char detail[300];
};

/* Records on the status pipe (init/command -> runner). */
enum child_record_tag {
	REC_CMD_STATUS = 1,  /* value: the command's raw wait status */
	REC_T_START,         /* timestamps (CLOCK_MONOTONIC, us), spec->timing only */
	REC_T_MOUNTS,
	REC_T_PRIVS,
	REC_T_SECCOMP,
	REC_T_ENTRY,         /* the child's first instruction */
	REC_T_LAST = REC_T_ENTRY,
};
struct child_record {
	uint32_t tag;
	uint64_t value;
};
/* Write one record to the status pipe (FD_STATUS after the fds step). */
void child_record(uint32_t tag, uint64_t value);

/* A descriptor-named bind, made ready by the runner before clone3
 * (mounts_clone_binds): a detached mount tree with its attributes set, or
 * fd -1 for a path bind. */
#define SBX_MAX_BINDS 64
struct bind_tree {
	int fd;
	bool is_dir;
	/* Without root the runner cannot copy a mount of its own namespace
	 * (that needs CAP_SYS_ADMIN there): the child copies the source
	 * from its own namespace and checks it is the descriptor's inode
	 * (mounts_copy_in_child). */
	bool in_child;
};

struct child_ctx {
	const struct sbx_spec *spec;
	int runner_pidfd;  /* the runner's pidfd: readable once it has exited */
	int err_wr;        /* O_CLOEXEC: struct child_report */
	int status_wr;     /* init -> runner: the command's raw wait status */
	bool unshare_cgroup_ns; /* v1: enter a cgroup ns after joining */
	const int *cg_tasks;    /* v1: the job's "tasks" files, to join first */
	int n_cg_tasks;
	int netns;              /* a fresh network namespace to enter, or -1
	                           when clone3 made one */
	const struct bind_tree *binds; /* one per spec->binds[i] */
	uid_t uid;              /* the job's own uid and gid (ident.c) */
	int map_rd, map_wr;     /* without root: one byte once the runner has
	                           written the user namespace's maps; -1 as root */
	unsigned inotify_instances, inotify_watches; /* without root: the job's
	                           share (rootless.h); 0 as root */
};

/* The job's init (pid 1 of the new pid namespace). Never returns. */
_Noreturn void child_main(const struct child_ctx *ctx);

/* sandbox/mounts.c, in the runner before clone3: a detached, restricted
 * copy of each descriptor-named bind (trees[i].fd -1 for path binds).
 * trees has spec->nbinds entries; close them with mounts_close_binds
 * after clone3, whatever happened (also after a failure here). */
int mounts_clone_binds(const struct sbx_spec *spec, struct bind_tree *trees, bool in_child,
		       struct sbx_err *err);
void mounts_close_binds(struct bind_tree *trees, size_t n);
/* In the child: build the fresh root and pivot into it. */
int mounts_build_root(const struct sbx_spec *spec, const struct bind_tree *trees, uid_t job_uid,
		      struct sbx_err *err);

/* sandbox/harden.c: the init's own protection; the job's keyrings. */
int harden_init_name(struct sbx_err *err);
int harden_not_dumpable(struct sbx_err *err);
int harden_keyrings(struct sbx_err *err);
int harden_init_seccomp(struct sbx_err *err);

/* sandbox/landlock.c: build the ruleset (init), apply it (command). */
int landlock_prepare(const struct sbx_spec *spec, int *out_fd, struct sbx_err *err);
int landlock_restrict(int ruleset, struct sbx_err *err);
int sbx_landlock_abi(void);
/* Report a failed step to the runner over the error pipe, then _exit.
 * The detail is err's for this very code, else strerror (err may be NULL). */
_Noreturn void child_report_failure(const struct child_ctx *ctx, const struct sbx_err *err,
				    const char *step, int neg_errno);

/* One checked setup step, in a function that has `ctx` and `err` (the
 * child's own struct sbx_err *): the record is emptied first, so the
 * step's failure is told with the step's own detail or with strerror,
 * never with an earlier step's; on failure, report (step, errno, detail)
 * to the runner over the error pipe and exit. */
#define STEP(name, expr)                                               \
	do {                                                           \
		*err = (struct sbx_err)SBX_ERR_INIT;                   \
		int step_r_ = (expr);                                  \
		if (step_r_ < 0)                                       \
			child_report_failure(ctx, err, name, step_r_); \
	} while (0)


#endif
