/* tests/unit/test_retry.c — the retry policy over the outcome catalog
 * (store/retry.c): parsing --retry-on, the default, the decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"

#include <errno.h>
#include <string.h>

static void test_parse_lists(void **state)
{
	unsigned mask = 0;
	char err[512];
	assert_int_equal(retry_parse_outcomes("timeout", &mask, err, sizeof err), 0);
	assert_int_equal(mask, RETRY_BIT(OUTCOME_TIMEOUT));
	assert_int_equal(retry_parse_outcomes(" oom , seccomp,runner_lost ", &mask, err, sizeof err), 0);
	assert_int_equal(mask, RETRY_BIT(OUTCOME_OOM) | RETRY_BIT(OUTCOME_SECCOMP) |
				       RETRY_BIT(OUTCOME_RUNNER_LOST));
	assert_int_equal(retry_parse_outcomes("default", &mask, err, sizeof err), 0);
	assert_int_equal(mask, RETRY_DEFAULT_MASK);
	assert_int_equal(retry_parse_outcomes("default,bad_output", &mask, err, sizeof err), 0);
	assert_int_equal(mask, RETRY_DEFAULT_MASK | RETRY_BIT(OUTCOME_BAD_OUTPUT));
	assert_int_equal(retry_parse_outcomes("all", &mask, err, sizeof err), 0);
	assert_int_equal(mask, RETRY_ALLOWED_MASK);
	assert_false(mask & RETRY_BIT(OUTCOME_OK));
	assert_false(mask & RETRY_BIT(OUTCOME_INPUT_ERROR));
	mask = 123;
	assert_int_equal(retry_parse_outcomes("none", &mask, err, sizeof err), 0);
	assert_int_equal(mask, 0);
}

static void test_parse_errors(void **state)
{
	unsigned mask = 77;
	char err[512];
	assert_int_equal(retry_parse_outcomes("timeout,bogus", &mask, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "'bogus'"));
	assert_non_null(strstr(err, "runner_lost")); /* lists the valid ones */
	assert_int_equal(mask, 77);                  /* untouched on error */
	assert_int_equal(retry_parse_outcomes("ok", &mask, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a failure"));
	assert_int_equal(retry_parse_outcomes("input_error", &mask, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "re-checked"));
	assert_int_equal(retry_parse_outcomes("", &mask, err, sizeof err), -EINVAL);
	assert_int_equal(retry_parse_outcomes("timeout,,oom", &mask, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(retry_parse_outcomes(NULL, &mask, err, sizeof err), -EINVAL);
}

/* The documented default (docs/store.md): transient classes only. */
static void test_default_classes(void **state)
{
	static const struct {
		const char *outcome;
		bool retried;
	} table[] = {
		{ "runner_lost", true },   { "setup_error", true },  { "oom", false },
		{ "timeout", false },       { "ok", false },          { "exit_nonzero", false },
		{ "signaled", false },     { "cpu_limit", false },   { "seccomp", false },
		{ "output_limit", false }, { "bad_input", false },   { "bad_output", false },
		{ "input_error", false },  { "unknown", false },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		assert_int_equal(retry_decide(table[i].outcome, 1, RETRY_DEFAULT_RETRIES,
					      RETRY_DEFAULT_MASK),
				 table[i].retried);
	assert_int_equal(RETRY_DEFAULT_RETRIES, 2);
}

static void test_budget(void **state)
{
	/* --retries 2: attempts 1 and 2 may be retried, the 3rd is the last. */
	assert_true(retry_decide("timeout", 1, 2, RETRY_BIT(OUTCOME_TIMEOUT)));
	assert_true(retry_decide("timeout", 2, 2, RETRY_BIT(OUTCOME_TIMEOUT)));
	assert_false(retry_decide("timeout", 3, 2, RETRY_BIT(OUTCOME_TIMEOUT)));
	assert_false(retry_decide("timeout", 1, 0, RETRY_BIT(OUTCOME_TIMEOUT)));
	assert_false(retry_decide("timeout", 0, 2, RETRY_BIT(OUTCOME_TIMEOUT)));
	/* A mask without the outcome never retries it. */
	assert_false(retry_decide("timeout", 1, 5, RETRY_BIT(OUTCOME_OOM)));
	/* ok and input_error are never retried, even if a mask claims so. */
	assert_false(retry_decide("ok", 1, 5, ~0u));
	assert_false(retry_decide("input_error", 1, 5, ~0u));
	assert_int_equal(retry_max_attempts("runner_lost", 2, RETRY_DEFAULT_MASK), 3);
	assert_int_equal(retry_max_attempts("runner_lost", 2, 0), 1);
	assert_int_equal(retry_max_attempts("bad_input", 4, RETRY_DEFAULT_MASK), 1);
	assert_int_equal(retry_max_attempts("timeout", -3, RETRY_BIT(OUTCOME_TIMEOUT)), 1);
}

static void test_format(void **state)
{
	char buf[256];
	retry_format_outcomes(RETRY_DEFAULT_MASK, buf, sizeof buf);
	assert_string_equal(buf, "setup_error,runner_lost");
	retry_format_outcomes(0, buf, sizeof buf);
	assert_string_equal(buf, "none");
	/* Round trip through the parser. */
	unsigned mask;
	char err[256];
	retry_format_outcomes(RETRY_ALLOWED_MASK, buf, sizeof buf);
	assert_int_equal(retry_parse_outcomes(buf, &mask, err, sizeof err), 0);
	assert_int_equal(mask, RETRY_ALLOWED_MASK);
	/* A short buffer stays terminated. */
	char small[8];
	retry_format_outcomes(RETRY_ALLOWED_MASK, small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

/* --retry-delay's backoff: doubled per attempt, capped at an hour. */
static void test_delay(void **state)
{
	(void)state;
	assert_int_equal(retry_delay_for(0, 1), 0);
	assert_int_equal(retry_delay_for(-5, 3), 0);
	assert_int_equal(retry_delay_for(1000, 0), 1000);
	assert_int_equal(retry_delay_for(1000, 1), 1000);
	assert_int_equal(retry_delay_for(1000, 2), 2000);
	assert_int_equal(retry_delay_for(1000, 3), 4000);
	assert_int_equal(retry_delay_for(30 * 60 * 1000, 2), RETRY_DELAY_MAX_MS);
	assert_int_equal(retry_delay_for(1000, 1000), RETRY_DELAY_MAX_MS);
	assert_int_equal(retry_delay_for(INT64_MAX, 1), RETRY_DELAY_MAX_MS);
}

/* Reconnecting: doubled per try up to the cap, the upper half jitter. */
static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(retry_backoff_ms(500, 10000, 1, 0), 250);
	assert_int_equal(retry_backoff_ms(500, 10000, 1, 250), 500);
	assert_int_equal(retry_backoff_ms(500, 10000, 1, 251), 250); /* rnd % 251 */
	assert_int_equal(retry_backoff_ms(500, 10000, 3, 0), 1000);
	assert_int_equal(retry_backoff_ms(500, 10000, 3, 1000), 2000);
	assert_int_equal(retry_backoff_ms(500, 10000, 50, UINT32_MAX) <= 10000, 1);
	assert_int_equal(retry_backoff_ms(500, 10000, 50, 0), 5000);
	assert_int_equal(retry_backoff_ms(500, INT64_MAX, 1000, 0) > 0, 1);
	assert_int_equal(retry_backoff_ms(0, 0, 1, 7), 1);
	for (uint32_t r = 0; r < 5000; r += 37) {
		int64_t d = retry_backoff_ms(500, 30000, 4, r);
		assert_true(d >= 2000 && d <= 4000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lists),
		cmocka_unit_test(test_parse_errors),     cmocka_unit_test(test_default_classes),
		cmocka_unit_test(test_budget),           cmocka_unit_test(test_format),
		cmocka_unit_test(test_delay),            cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
