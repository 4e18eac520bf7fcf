/* tests/unit/test_outcome.c — the one outcome catalog (lib/outcome.c): the
 * stored names, exactly, and what the table says of each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/outcome.h"

#include <errno.h>
#include <string.h>

/* The names are a stored format (the store's outcome columns): pinned. */
static const char *const stored[OUTCOME_COUNT] = {
	"ok",       "exit_nonzero", "signaled",  "oom",        "timeout",
	"cpu_limit", "seccomp",     "setup_error", "output_limit", "bad_input",
	"bad_output", "runner_lost", "input_error", "damaged",
};

static void test_names(void **state)
{
	for (int i = 0; i < OUTCOME_COUNT; i++) {
		assert_string_equal(outcome_name((enum outcome)i), stored[i]);
		assert_int_equal(outcome_from_name(stored[i]), i);
	}
	assert_null(outcome_name(OUTCOME_COUNT));
	assert_null(outcome_name((enum outcome)-1));
	assert_int_equal(outcome_from_name("nonsense"), -EINVAL);
	assert_int_equal(outcome_from_name(NULL), -EINVAL);
	assert_int_equal(outcome_from_name("OK"), -EINVAL); /* names are exact */
	assert_int_equal(outcome_from_name("interrupted"), -EINVAL); /* not an outcome */
}

static void test_classes(void **state)
{
	assert_int_equal(OUTCOME_SANDBOX_COUNT, 9);
	for (int i = 0; i < OUTCOME_COUNT; i++)
		assert_int_equal(outcome_from_sandbox((enum outcome)i), i <= OUTCOME_OUTPUT_LIMIT);
	assert_false(outcome_from_sandbox(OUTCOME_COUNT));
	int limits = 0;
	for (int i = 0; i < OUTCOME_COUNT; i++)
		limits += outcome_at_limit((enum outcome)i);
	assert_int_equal(limits, 4);
	assert_true(outcome_at_limit(OUTCOME_TIMEOUT));
	assert_true(outcome_at_limit(OUTCOME_CPU_LIMIT));
	assert_true(outcome_at_limit(OUTCOME_OOM));
	assert_true(outcome_at_limit(OUTCOME_OUTPUT_LIMIT));
	assert_false(outcome_at_limit(OUTCOME_COUNT));
	/* done with the result kept: ok and damaged, nothing else */
	for (int i = 0; i < OUTCOME_COUNT; i++)
		assert_int_equal(outcome_succeeded((enum outcome)i), i == OUTCOME_OK || i == OUTCOME_DAMAGED);
	assert_false(outcome_succeeded(OUTCOME_COUNT));
	assert_true(outcome_name_succeeded("damaged"));
	assert_true(outcome_name_succeeded("ok"));
	assert_false(outcome_name_succeeded("bad_input"));
	assert_false(outcome_name_succeeded(NULL));
	assert_false(outcome_name_succeeded("interrupted"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
