/* Unit tests of the caller-owned error record (sandbox.h: struct sbx_err,
 * sbx_fail, sbx_err_text), through real sandbox entry points that run
 * without root: a failure fills its caller's record and nothing else; a
 * later failure without a detail, given a fresh record, is told with its
 * own strerror, never with the earlier text; a success leaves its record
 * empty. With the old global buffer the second case read the first
 * failure's message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "testkit.h"

static char dir[] = "/tmp/sandrun-err-test.XXXXXX";

static int setup(void **state)
{
	(void)state;
	setenv("SANDRUN_NO_POLICY_CACHE", "1", 1); /* these policies are throwaway */
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char path[128];
	const char *names[] = { "broken.json", "allow.json" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

static void write_policy(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s.json", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* An entry of the host's /etc that --etc may show, or NULL. */
static const char *some_etc_entry(void)
{
	static const char *const candidates[] = { "ld.so.cache", "nsswitch.conf", "protocols",
						  "services", "host.conf" };
	struct stat st;
	char path[64];
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		snprintf(path, sizeof path, "/etc/%s", candidates[i]);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			return candidates[i];
	}
	return NULL;
}

/* The failing call's detail lands in the record its caller gave, with the
 * code it returned; no other record is touched. */
static void test_failure_fills_the_callers_record(void **state)
{
	(void)state;
	write_policy("broken", "{\"defaultAction\": \"SCMP_ACT_NOPE\"}");
	struct sbx_err mine = SBX_ERR_INIT, bystander = SBX_ERR_INIT;
	struct sbx_policy *p = NULL;
	int r = sbx_policy_load("broken", dir, &p, &mine);
	assert_int_equal(r, -EINVAL);
	assert_null(p);
	assert_int_equal(mine.code, -EINVAL);
	const char *text = sbx_err_text(&mine, r);
	assert_ptr_equal(text, mine.msg);
	assert_non_null(strstr(text, "broken.json"));
	assert_non_null(strstr(text, "SCMP_ACT_NOPE"));
	assert_int_equal(bystander.code, 0);
	assert_string_equal(bystander.msg, "");

	/* --etc: the refusal names the secret, in this call's record */
	struct sbx_err etc = SBX_ERR_INIT;
	r = sbx_etc_name_check("shadow", &etc);
	assert_int_equal(r, -EPERM);
	assert_non_null(strstr(sbx_err_text(&etc, r), "--etc shadow would show /etc/shadow"));
	/* the first record still holds its own failure, untouched */
	assert_non_null(strstr(sbx_err_text(&mine, -EINVAL), "SCMP_ACT_NOPE"));
}

/* After a failure with a detail, a failure that leaves none (the seccomp
 * install records only its code: strerror is not async-signal-safe) is
 * told with its own strerror: the old global buffer would have handed
 * back the policy parser's message here. */
static void test_no_detail_is_its_own_strerror(void **state)
{
	(void)state;
	write_policy("broken", "{\"defaultAction\": \"SCMP_ACT_NOPE\"}");
	struct sbx_err first = SBX_ERR_INIT;
	struct sbx_policy *p = NULL;
	int r1 = sbx_policy_load("broken", dir, &p, &first);
	assert_int_equal(r1, -EINVAL);
	assert_non_null(strstr(first.msg, "SCMP_ACT_NOPE"));

	struct sbx_err second = SBX_ERR_INIT;
	int r2 = sbx_policy_install(NULL, &second); /* fails before any syscall */
	assert_int_equal(r2, -EINVAL);
	assert_int_equal(second.code, -EINVAL);
	assert_string_equal(second.msg, "");
	const char *text = sbx_err_text(&second, r2);
	assert_string_equal(text, strerror(EINVAL));
	assert_null(strstr(text, "SCMP_ACT_NOPE"));
	assert_null(strstr(text, "broken"));

	/* A later failure with a detail of its own names its own cause. */
	struct sbx_err third = SBX_ERR_INIT;
	int r3 = sbx_etc_name_check("no-such-entry-of-sandrun-tests", &third);
	assert_int_equal(r3, -ENOENT);
	const char *t3 = sbx_err_text(&third, r3);
	assert_non_null(strstr(t3, "no-such-entry-of-sandrun-tests"));
	assert_null(strstr(t3, "SCMP_ACT_NOPE"));

	/* A record whose detail explains another code does not explain rc:
	 * only rc's strerror is told (a best-effort step that failed
	 * earlier in the same call, then the call failed otherwise). */
	assert_string_equal(sbx_err_text(&first, -ENOENT), strerror(ENOENT));
	/* No record at all: strerror too. */
	assert_string_equal(sbx_err_text(NULL, -EAGAIN), strerror(EAGAIN));
}

/* A success writes nothing into its record. */
static void test_success_leaves_the_record_empty(void **state)
{
	(void)state;
	write_policy("allow", "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
	struct sbx_err e = SBX_ERR_INIT;
	struct sbx_policy *p = NULL;
	assert_int_equal(sbx_policy_load("allow", dir, &p, &e), 0);
	assert_non_null(p);
	sbx_policy_free(p);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	assert_string_equal(sbx_err_text(&e, 0), "");

	const char *name = some_etc_entry();
	tk_skip_unless(name, "no regular /etc entry of the usual ones on this host");
	struct sbx_err etc = SBX_ERR_INIT;
	assert_int_equal(sbx_etc_name_check(name, &etc), 0);
	assert_int_equal(etc.code, 0);
	assert_string_equal(etc.msg, "");
}

/* sbx_fail itself: returns the code, formats "what: strerror", and a NULL
 * record (a best-effort call) discards the detail. */
static void test_sbx_fail(void **state)
{
	(void)state;
	struct sbx_err e = SBX_ERR_INIT;
	assert_int_equal(sbx_fail(&e, -ENOENT, "open %s", "/x"), -ENOENT);
	assert_int_equal(e.code, -ENOENT);
	char want[128];
	snprintf(want, sizeof want, "open /x: %s", strerror(ENOENT));
	assert_string_equal(e.msg, want);
	assert_string_equal(sbx_err_text(&e, -ENOENT), want);
	assert_int_equal(sbx_fail(NULL, -EIO, "ignored"), -EIO);
	/* a long detail is cut, never overflows */
	char big[2 * SBX_ERR_MSG];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(sbx_fail(&e, -E2BIG, "%s", big), -E2BIG);
	assert_true(strlen(e.msg) < sizeof e.msg);
}

/* sbx_fail_plain: a message that says why and what to do (running
 * without root) keeps its last word: no ": strerror" after it. */
static void test_sbx_fail_plain(void **state)
{
	(void)state;
	struct sbx_err e = SBX_ERR_INIT;
	assert_int_equal(sbx_fail_plain(&e, -ENODEV, "no %s; an admin runs `%s`", "range", "usermod"), -ENODEV);
	assert_int_equal(e.code, -ENODEV);
	assert_string_equal(e.msg, "no range; an admin runs `usermod`");
	assert_string_equal(sbx_err_text(&e, -ENODEV), "no range; an admin runs `usermod`");
	/* another code than the one recorded: its own strerror */
	assert_string_equal(sbx_err_text(&e, -EIO), strerror(EIO));
	assert_int_equal(sbx_fail_plain(NULL, -EIO, "ignored"), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_fills_the_callers_record),
		cmocka_unit_test(test_no_detail_is_its_own_strerror),
		cmocka_unit_test(test_success_leaves_the_record_empty),
		cmocka_unit_test(test_sbx_fail),
		cmocka_unit_test(test_sbx_fail_plain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
