/* sandbox/cgroup.h — the one small v1/v2 layer over cgroupfs.
 *
 * sandrun writes cgroupfs files itself (as crun, isolate and nsjail do):
 * libcgroup 2.0.2 has no v2 name mapping and no directory fd for
 * CLONE_INTO_CGROUP. Layout:
 *   <own cgroup>/sandrun-<pid>-<starttime>-<pidns>/            one per run
 *   <own cgroup>/sandrun-<pid>-<starttime>-<pidns>/job-<seq>   one per job
 * On v1 the same relative layout exists in each controller hierarchy. */
#ifndef SANDRUN_CGROUP_H
#define SANDRUN_CGROUP_H

#include "sandbox.h"
#include <sys/types.h>

enum cg_ctl { CG_MEMORY, CG_CPU, CG_CPUACCT, CG_PIDS, CG_FREEZER, CG_NCTL };

struct cg_run {
	enum sbx_cgroup_mode mode;
	/* v2: [0] is the run directory. v1: one per controller, -1 when the
	 * controller is absent; controllers co-mounted share a hierarchy and
	 * only the first of them (hier_owner) is written to. */
	int run_dirfd[CG_NCTL];
	int hier_owner[CG_NCTL];
	char run_name[64];
	char parent_path[CG_NCTL][4096 + 512]; /* absolute path of the run's parent */
	unsigned long seq;
};

struct cg_job {
	int dirfd[CG_NCTL];  /* v2: [0]; v1: per owned controller */
	char name[32];
};

int cg_detect(enum sbx_cgroup_mode *mode);
/* Without root: 0 if the runner's own v2 cgroup is delegated to its user
 * with memory, cpu and pids, else -errno saying what is missing. */
int cg_check_delegated(struct sbx_err *err);
int cg_run_open(struct cg_run *run, struct sbx_err *err);
void cg_run_close(struct cg_run *run);
bool cg_run_has(const struct cg_run *run, enum cg_ctl ctl);

/* Make the job's cgroup and write its limits. Fails closed: a limit that
 * was asked for without its controller is -ENODEV with a message. */
int cg_job_create(struct cg_run *run, const struct sbx_limits *lim, struct cg_job *job,
		  struct sbx_err *err);
/* v2: a directory fd for clone3(CLONE_INTO_CGROUP); -1 on v1. */
int cg_job_clone_fd(const struct cg_run *run, const struct cg_job *job);
/* v1: open the job's "tasks" file in each hierarchy, for the child to join
 * by itself before anything else (cg_join_self). Returns how many fds were
 * stored in fds (0 on v2, where clone3 puts the child in place). */
int cg_job_open_tasks(const struct cg_run *run, const struct cg_job *job, int fds[CG_NCTL],
		      struct sbx_err *err);
/* In the child: join every hierarchy, closing the fds. No allocation. */
int cg_join_self(const int *fds, int n);
int cg_job_cpu_ms(const struct cg_run *run, const struct cg_job *job, uint64_t *ms);
int cg_job_peak_bytes(const struct cg_run *run, const struct cg_job *job, uint64_t *bytes);
int cg_job_oom_kills(const struct cg_run *run, const struct cg_job *job, uint64_t *n);
/* The job's v1 freezer directory, or -1 (v2, or no freezer hierarchy). */
int cg_job_freezer_fd(const struct cg_run *run, const struct cg_job *job);
int cg_job_freeze(const struct cg_run *run, const struct cg_job *job, bool frozen,
		  struct sbx_err *err);
/* Kill every process in the job's cgroup: cgroup.kill on v2. On v1 only
 * a THAWED write: call it after SIGKILLing the job's pid namespace init,
 * which is what kills every task there (cgroup.c says why no more). */
int cg_job_kill(const struct cg_run *run, const struct cg_job *job);
/* Remove the job's directories (killing stragglers first). */
int cg_job_remove(const struct cg_run *run, struct cg_job *job, struct sbx_err *err);

#endif
