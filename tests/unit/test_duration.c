/* tests/unit/test_duration.c — durations as an operator types them
 * (lib/duration.c): plain seconds, units, sums, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/duration.h"

#include <errno.h>
#include <string.h>

static uint64_t ms_of(const char *s)
{
	uint64_t v = 12345;
	const char *why = NULL;
	int r = sr_parse_duration_ms(s, &v, &why);
	if (r != 0)
		fail_msg("'%s' refused: %s", s, why ? why : "?");
	return v;
}

static void test_plain_seconds(void **state)
{
	(void)state;
	assert_int_equal(ms_of("90"), 90000);
	assert_int_equal(ms_of("2.5"), 2500);
	assert_int_equal(ms_of("0"), 0);
	assert_int_equal(ms_of("0.0005"), 1); /* rounded to the nearest ms */
	assert_int_equal(ms_of(".5"), 500);
	assert_int_equal(ms_of("10."), 10000);
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(ms_of("90s"), 90000);
	assert_int_equal(ms_of("1m"), 60000);
	assert_int_equal(ms_of("10min"), 600000);
	assert_int_equal(ms_of("1.5h"), 5400000);
	assert_int_equal(ms_of("2hours"), 7200000);
	assert_int_equal(ms_of("1d"), 86400000);
	assert_int_equal(ms_of("250ms"), 250);
	assert_int_equal(ms_of("3sec"), 3000);
	assert_int_equal(ms_of("1 minute"), 60000);
}

static void test_sums(void **state)
{
	(void)state;
	assert_int_equal(ms_of("1h30m"), 5400000);
	assert_int_equal(ms_of("1h 30min"), 5400000);
	assert_int_equal(ms_of("2m30s"), 150000);
	assert_int_equal(ms_of("1h30"), 3630000); /* a bare number is seconds */
	assert_int_equal(ms_of(" 5s "), 5000);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *bad[] = {
		"", " ", "10x", "x", "s", "-5", "+5", "1e3", "0x10", "inf", "nan", "1..5",
		"1.5.h", "5 s x", "1h-30m", "10 mins", "1H", "5\t", "5,5",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 777;
		const char *why = NULL;
		int r = sr_parse_duration_ms(bad[i], &v, &why);
		if (r != -EINVAL)
			fail_msg("'%s': %d, expected -EINVAL", bad[i], r);
		assert_non_null(why);
		assert_int_equal(v, 777); /* untouched */
	}
	uint64_t v = 0;
	const char *why = NULL;
	assert_int_equal(sr_parse_duration_ms("99999999999999", &v, &why), -ERANGE);
	assert_non_null(why);
	assert_int_equal(sr_parse_duration_ms("400000d", &v, NULL), -ERANGE);
	assert_int_equal(sr_parse_duration_ms(NULL, &v, NULL), -EINVAL);
	const char *unit = NULL;
	sr_parse_duration_ms("10x", &v, &unit);
	assert_non_null(strstr(unit, "unit"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_seconds),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
