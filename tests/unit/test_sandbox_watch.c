/* tests/unit/test_sandbox_watch.c — a job's own supervision
 * (sandbox/watch.c): the deadline and the CPU check fire, stop while the
 * job is paused, and a timer that cannot be had is an error, never an
 * unenforced limit. Real timerfds, no root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/watch.h"
#include "tests/unit/testkit.h"

static uint64_t fake_cpu_ms;

static int fake_cpu(const void *ctx, uint64_t *out)
{
	(void)ctx;
	*out = fake_cpu_ms;
	return 0;
}

/* Wait until one of the watch's timers is readable (or timeout_ms). */
static bool wait_readable(const struct job_watch *w, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = w->deadline_fd, .events = POLLIN },
			       { .fd = w->cpu_fd, .events = POLLIN } };
	return poll(p, 2, timeout_ms) > 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static void test_no_limits_no_timers(void **state)
{
	(void)state;
	struct job_watch w;
	struct sbx_limits lim = { 0 };
	assert_int_equal(watch_arm(&w, &lim, NULL), 0);
	assert_int_equal(w.deadline_fd, -1);
	assert_int_equal(w.cpu_fd, -1);
	assert_int_equal(watch_event(&w, fake_cpu, NULL), SBX_KILL_NONE);
	watch_close(&w);
}

static void test_deadline_fires(void **state)
{
	(void)state;
	struct job_watch w;
	struct sbx_limits lim = { .timeout_ms = 30 };
	assert_int_equal(watch_arm(&w, &lim, NULL), 0);
	assert_true(w.deadline_fd >= 0);
	assert_int_equal(watch_event(&w, fake_cpu, NULL), SBX_KILL_NONE); /* not yet */
	assert_true(wait_readable(&w, 5000));
	assert_int_equal(watch_event(&w, fake_cpu, NULL), SBX_KILL_TIMEOUT);
	watch_close(&w);
	assert_int_equal(w.deadline_fd, -1);
}

static void test_cpu_check(void **state)
{
	(void)state;
	struct job_watch w;
	struct sbx_limits lim = { .cpu_time_ms = 500 };
	assert_int_equal(watch_arm(&w, &lim, NULL), 0);
	assert_true(w.cpu_fd >= 0);
	fake_cpu_ms = 100;
	assert_true(wait_readable(&w, 5000));
	assert_int_equal(watch_event(&w, fake_cpu, NULL), SBX_KILL_NONE); /* under the limit */
	fake_cpu_ms = 500;
	assert_true(wait_readable(&w, 5000));
	assert_int_equal(watch_event(&w, fake_cpu, NULL), SBX_KILL_CPU);
	watch_close(&w);
}

/* A paused job uses none of its time: the deadline waits for it. */
static void test_pause_keeps_what_was_left(void **state)
{
	(void)state;
	struct job_watch w;
	struct sbx_limits lim = { .timeout_ms = 150, .cpu_time_ms = 1 };
	fake_cpu_ms = 1000;
	assert_int_equal(watch_arm(&w, &lim, NULL), 0);
	assert_int_equal(watch_pause(&w, true, NULL), 0);
	sleep_ms(300); /* twice the deadline, paused */
	assert_false(wait_readable(&w, 0));
	assert_int_equal(watch_event(&w, fake_cpu, NULL), SBX_KILL_NONE);
	assert_int_equal(watch_pause(&w, false, NULL), 0);
	assert_true(w.deadline_left_ms > 0 && w.deadline_left_ms <= 151);
	/* after the resume, the CPU check runs again and the deadline comes */
	assert_true(wait_readable(&w, 5000));
	enum sbx_kill_reason why = watch_event(&w, fake_cpu, NULL);
	assert_true(why == SBX_KILL_CPU || why == SBX_KILL_TIMEOUT);
	watch_close(&w);
}

/* No descriptor left for a timer: watch_arm fails and leaves nothing open.
 * In a child, so the exhausted descriptor table is its own. */
static int arm_without_fds(void *arg)
{
	(void)arg;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 10;
	rl.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 11;
	while (dup(0) >= 0) {}
	if (errno != EMFILE)
		return 12;
	close(63); /* one left: the deadline gets it, the CPU check cannot */
	struct job_watch w;
	struct sbx_limits lim = { .timeout_ms = 1000, .cpu_time_ms = 1000 };
	struct sbx_err e = SBX_ERR_INIT;
	int r = watch_arm(&w, &lim, &e);
	if (r != -EMFILE)
		return 13;
	if (!strstr(sbx_err_text(&e, r), "timerfd for the CPU check"))
		return 16; /* the record names the timer that could not be had */
	if (w.deadline_fd != -1 || w.cpu_fd != -1)
		return 14;
	if (dup(0) != 63) /* the deadline's descriptor was given back */
		return 15;
	return 0;
}

static void test_arming_fails_closed(void **state)
{
	(void)state;
	int st = tk_run(arm_without_fds, NULL);
	assert_true(st >= 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("child status 0x%x (the number is the failed check)", st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_limits_no_timers),
		cmocka_unit_test(test_deadline_fires),
		cmocka_unit_test(test_cpu_check),
		cmocka_unit_test(test_pause_keeps_what_was_left),
		cmocka_unit_test(test_arming_fails_closed),
	};
	return cmocka_run_group_tests_name("sandbox_watch", tests, NULL, NULL);
}
