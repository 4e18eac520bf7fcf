/* sandbox/watch.c — the deadline and the CPU check of one job. */
#include "watch.h"
#include "lib/fd.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int arm(int fd, uint64_t first_ms, uint64_t interval_ms)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ms / 1000), (long)(first_ms % 1000) * 1000000 },
		.it_interval = { (time_t)(interval_ms / 1000), (long)(interval_ms % 1000) * 1000000 },
	};
	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int new_timer(int *fd, const char *what, struct sbx_err *err)
{
	*fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return *fd < 0 ? sbx_fail(err, -errno, "timerfd for the %s", what) : 0;
}

int watch_arm(struct job_watch *w, const struct sbx_limits *lim, struct sbx_err *err)
{
	*w = (struct job_watch){ .deadline_fd = -1, .cpu_fd = -1, .cpu_limit_ms = lim->cpu_time_ms };
	int r = 0;
	if (lim->timeout_ms && (r = new_timer(&w->deadline_fd, "deadline", err)) == 0 &&
	    (r = arm(w->deadline_fd, lim->timeout_ms, 0)) < 0)
		r = sbx_fail(err, r, "arm the deadline");
	if (r == 0 && lim->cpu_time_ms && (r = new_timer(&w->cpu_fd, "CPU check", err)) == 0 &&
	    (r = arm(w->cpu_fd, WATCH_CPU_TICK_MS, WATCH_CPU_TICK_MS)) < 0)
		r = sbx_fail(err, r, "arm the CPU check");
	if (r < 0)
		watch_close(w);
	return r;
}

int watch_pause(struct job_watch *w, bool paused, struct sbx_err *err)
{
	if (w->paused == paused)
		return 0;
	int r = 0;
	if (w->deadline_fd >= 0 && paused) {
		struct itimerspec its;
		if (timerfd_gettime(w->deadline_fd, &its) < 0)
			return sbx_fail(err, -errno, "read the deadline");
		/* +1: a deadline due within the millisecond must not become "never". */
		w->deadline_left_ms = (uint64_t)its.it_value.tv_sec * 1000 +
				      (uint64_t)its.it_value.tv_nsec / 1000000 + 1;
		r = arm(w->deadline_fd, 0, 0);
	} else if (w->deadline_fd >= 0) {
		r = arm(w->deadline_fd, w->deadline_left_ms, 0);
	}
	if (r == 0 && w->cpu_fd >= 0)
		r = paused ? arm(w->cpu_fd, 0, 0) : arm(w->cpu_fd, WATCH_CPU_TICK_MS, WATCH_CPU_TICK_MS);
	if (r < 0)
		return sbx_fail(err, r, paused ? "stop the job's timers" : "restart the job's timers");
	w->paused = paused;
	return 0;
}

/* Has this timer expired since it was last read? (Non-blocking.) */
static bool expired(int fd)
{
	uint64_t n;
	return fd >= 0 && read(fd, &n, sizeof n) == (ssize_t)sizeof n;
}

enum sbx_kill_reason watch_event(struct job_watch *w,
				 int (*cpu_used_ms)(const void *ctx, uint64_t *out), const void *ctx)
{
	bool cpu_due = expired(w->cpu_fd);
	if (expired(w->deadline_fd))
		return SBX_KILL_TIMEOUT;
	uint64_t used = 0;
	if (cpu_due && cpu_used_ms(ctx, &used) == 0 && used >= w->cpu_limit_ms)
		return SBX_KILL_CPU;
	return SBX_KILL_NONE;
}

void watch_close(struct job_watch *w)
{
	sr_closep(&w->deadline_fd);
	sr_closep(&w->cpu_fd);
}
