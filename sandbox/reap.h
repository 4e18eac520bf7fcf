/* sandbox/reap.h — pure classification of a finished job (unit-tested). */
#ifndef SANDRUN_REAP_H
#define SANDRUN_REAP_H

#include "sandbox.h"

/* Everything known about a job when it has ended; collected by spawn.c
 * from the kernel, classified here without touching the kernel. */
struct sbx_observation {
	bool setup_failed;           /* the child reported a failed step */
	bool cmd_status_known;       /* init reported the command's wait status */
	int cmd_wait_status;         /* raw wait status of the command */
	int init_wait_status;        /* raw wait status of the job's init */
	enum sbx_kill_reason killed; /* why the runner killed it, if it did */
	uint64_t oom_kills;          /* from memory.events / memory.oom_control */
	bool policy_kills;           /* SIGSYS can only mean a seccomp kill */
};

/* Exactly one outcome, in this order of precedence:
 * setup_error > output_limit > oom > cpu_limit > timeout > seccomp >
 * signaled > exit_nonzero > ok.  Fills outcome, exit_code and signal. */
void sbx_classify(const struct sbx_observation *obs, struct sbx_result *res);

#endif
