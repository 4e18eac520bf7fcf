/* Unit tests of sandbox/'s pure parts: limit parsing, outcome names and
 * the classification of a finished job. No root, no kernel features. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "sandbox/reap.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_log.h"

static void test_parse_size(void **state)
{
	uint64_t v;
	assert_int_equal(sbx_parse_size("6G", &v), 0);
	assert_true(v == 6ull << 30);
	assert_int_equal(sbx_parse_size("512M", &v), 0);
	assert_true(v == 512ull << 20);
	assert_int_equal(sbx_parse_size("1.5K", &v), 0);
	assert_true(v == 1536);
	assert_int_equal(sbx_parse_size("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(sbx_parse_size("2GiB", &v), 0);
	assert_true(v == 2ull << 30);
	assert_int_equal(sbx_parse_size("1.5g", &v), 0);
	assert_true(v == 3ull << 29);
	assert_int_equal(sbx_parse_size("", &v), -EINVAL);
	assert_int_equal(sbx_parse_size("-1G", &v), -EINVAL);
	assert_int_equal(sbx_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(sbx_parse_size("G", &v), -EINVAL);
	assert_int_equal(sbx_parse_size("1e9", &v), -EINVAL);
	assert_int_equal(sbx_parse_size("0x10", &v), -EINVAL);
	assert_int_equal(sbx_parse_size("inf", &v), -EINVAL);
	assert_int_equal(sbx_parse_size("0", &v), -ERANGE);
	assert_int_equal(sbx_parse_size("99999999T", &v), -ERANGE);
}

static void test_parse_numbers(void **state)
{
	double d;
	uint32_t u;
	assert_int_equal(sbx_parse_positive_double("1.5", &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(sbx_parse_positive_double("0", &d), -ERANGE);
	assert_int_equal(sbx_parse_positive_double("1,5", &d), -EINVAL);
	assert_int_equal(sbx_parse_u32("64", &u), 0);
	assert_int_equal(u, 64);
	assert_int_equal(sbx_parse_u32("-2", &u), -EINVAL);
	assert_int_equal(sbx_parse_u32("0", &u), -ERANGE);
	assert_int_equal(sbx_parse_u32("4294967296", &u), -ERANGE);
	assert_int_equal(sbx_parse_u32("12abc", &u), -EINVAL);
}

static struct sbx_result classify(struct sbx_observation o)
{
	struct sbx_result r;
	memset(&r, 0, sizeof r);
	sbx_classify(&o, &r);
	return r;
}

static void test_classify_exit(void **state)
{
	struct sbx_result r = classify((struct sbx_observation){
		.cmd_status_known = true, .cmd_wait_status = W_EXITCODE(0, 0) });
	assert_int_equal(r.outcome, OUTCOME_OK);
	assert_int_equal(r.exit_code, 0);
	r = classify((struct sbx_observation){ .cmd_status_known = true, .cmd_wait_status = W_EXITCODE(3, 0) });
	assert_int_equal(r.outcome, OUTCOME_EXIT_NONZERO);
	assert_int_equal(r.exit_code, 3);
}

static void test_classify_signals(void **state)
{
	struct sbx_result r = classify((struct sbx_observation){
		.cmd_status_known = true, .cmd_wait_status = SIGSEGV });
	assert_int_equal(r.outcome, OUTCOME_SIGNALED);
	assert_int_equal(r.signal, SIGSEGV);
	assert_int_equal(r.exit_code, -1);
	r = classify((struct sbx_observation){ .cmd_status_known = true, .cmd_wait_status = SIGABRT | 0x80 });
	assert_int_equal(r.outcome, OUTCOME_SIGNALED);
	assert_int_equal(r.signal, SIGABRT);
	/* SIGSYS is a seccomp kill only when the policy can kill. */
	r = classify((struct sbx_observation){ .cmd_status_known = true, .cmd_wait_status = SIGSYS, .policy_kills = true });
	assert_int_equal(r.outcome, OUTCOME_SECCOMP);
	assert_int_equal(r.signal, SIGSYS);
	r = classify((struct sbx_observation){ .cmd_status_known = true, .cmd_wait_status = SIGSYS });
	assert_int_equal(r.outcome, OUTCOME_SIGNALED);
}

static void test_classify_precedence(void **state)
{
	/* A job we killed at its deadline died of SIGKILL: it is a timeout. */
	struct sbx_result r = classify((struct sbx_observation){
		.init_wait_status = SIGKILL, .killed = SBX_KILL_TIMEOUT });
	assert_int_equal(r.outcome, OUTCOME_TIMEOUT);
	r = classify((struct sbx_observation){ .init_wait_status = SIGKILL, .killed = SBX_KILL_CPU });
	assert_int_equal(r.outcome, OUTCOME_CPU_LIMIT);
	/* An OOM kill of a grandchild wins over a clean exit ... */
	r = classify((struct sbx_observation){ .cmd_status_known = true, .cmd_wait_status = 0, .oom_kills = 1 });
	assert_int_equal(r.outcome, OUTCOME_OOM);
	/* ... and over the timeout it may have caused. */
	r = classify((struct sbx_observation){ .killed = SBX_KILL_TIMEOUT, .oom_kills = 2 });
	assert_int_equal(r.outcome, OUTCOME_OOM);
	r = classify((struct sbx_observation){ .killed = SBX_KILL_OUTPUT, .oom_kills = 2 });
	assert_int_equal(r.outcome, OUTCOME_OUTPUT_LIMIT);
	r = classify((struct sbx_observation){ .setup_failed = true, .killed = SBX_KILL_TIMEOUT });
	assert_int_equal(r.outcome, OUTCOME_SETUP_ERROR);
	/* Interrupted: no command status, the init's SIGKILL is the evidence. */
	r = classify((struct sbx_observation){ .init_wait_status = SIGKILL, .killed = SBX_KILL_INTERRUPT });
	assert_int_equal(r.outcome, OUTCOME_SIGNALED);
	assert_int_equal(r.signal, SIGKILL);
}

static void test_limit_defaults(void **state)
{
	struct sbx_limits l;
	sbx_limits_defaults(&l);
	assert_true(l.mem_bytes == 1ull << 30);
	assert_true(l.timeout_ms == 600000);
	assert_int_equal(l.pids, 256);
	assert_true(l.tmp_bytes > 0 && l.fsize_bytes > 0 && l.nofile > 0);
}

static void test_seccomp_log_parse(void **state)
{
	int pid = 0, nr = 0;
	const char *rec = "5,1234,1033954020,-;audit: type=1326 audit(1795389107.876:4): auid=4294967295 "
			  "uid=0 gid=0 ses=4294967295 pid=6079 comm=\"sk\" exe=\"/x/sk\" sig=31 "
			  "arch=c000003e syscall=110 compat=0 ip=0x7f17296cd4f7 code=0x80000000";
	assert_int_equal(seccomp_log_parse(rec, &pid, &nr), 0);
	assert_int_equal(pid, 6079);
	assert_int_equal(nr, 110);
	/* a compat-ABI record would name the wrong syscall */
	const char *compat = "audit: type=1326 pid=7 sig=31 arch=40000003 syscall=20 compat=1 code=0";
	assert_int_equal(seccomp_log_parse(compat, &pid, &nr), -ENOENT);
	assert_int_equal(seccomp_log_parse("audit: type=1400 pid=1 syscall=2", &pid, &nr), -ENOENT);
	assert_int_equal(seccomp_log_parse("random kernel line", &pid, &nr), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_classify_exit),
		cmocka_unit_test(test_classify_signals),
		cmocka_unit_test(test_classify_precedence),
		cmocka_unit_test(test_limit_defaults),
		cmocka_unit_test(test_seccomp_log_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
