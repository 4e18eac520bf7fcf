/* sandbox/watch.h — a job's own supervision (private to sandbox/): the
 * wall-clock deadline and the CPU-time check, as two timerfds armed from
 * the job's limits before it is cloned. See sbx_job_watch_fds(). */
#ifndef SANDRUN_SANDBOX_WATCH_H
#define SANDRUN_SANDBOX_WATCH_H

#include "sandbox.h"

#include <stdbool.h>
#include <stdint.h>

struct job_watch {
	int deadline_fd;        /* one-shot at limits.timeout_ms, or -1 */
	int cpu_fd;             /* periodic CPU check for limits.cpu_time_ms, or -1 */
	uint64_t cpu_limit_ms;
	uint64_t deadline_left_ms; /* while paused */
	bool paused;
};

/* Interval of the CPU check: how far past --cpu-time a job may run. */
#define WATCH_CPU_TICK_MS 100

/* Create and arm both timers that `lim` asks for. Any failure is an error
 * (fail closed: a job must not run without the limits it was given);
 * nothing is left open then. */
int watch_arm(struct job_watch *w, const struct sbx_limits *lim, struct sbx_err *err);
/* Stop (pause) or restart both timers; the deadline keeps what was left:
 * it is the job's own time, and a frozen job uses none. */
int watch_pause(struct job_watch *w, bool paused, struct sbx_err *err);
/* One of the timers became readable: drain both (non-blocking) and say
 * what is due, the deadline first. cpu_used_ms is asked only when the CPU
 * check expired. */
enum sbx_kill_reason watch_event(struct job_watch *w,
				 int (*cpu_used_ms)(const void *ctx, uint64_t *out), const void *ctx);
void watch_close(struct job_watch *w);

#endif
