/* tests/unit/test_query.c — the pure parts of the query commands: reals
 * in the shortest form that reads back, CSV cells (lib/text.c), choosing
 * items by paths and globs, --since and --sort. Pure but for getcwd. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/text.h"
#include "runner/query_select.h"
#include "runner/query_util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_shortest_real(void **state)
{
	(void)state;
	char b[64];
	q_format_real(0.05, b, sizeof b, false);
	assert_string_equal(b, "0.05");
	q_format_real(0.1 + 0.2, b, sizeof b, false);
	assert_string_equal(b, "0.30000000000000004");
	q_format_real(-23.05, b, sizeof b, false);
	assert_string_equal(b, "-23.05");
	q_format_real(1.0, b, sizeof b, false);
	assert_string_equal(b, "1");
	q_format_real(1.0, b, sizeof b, true);
	assert_string_equal(b, "1.0");
	q_format_real(1e300, b, sizeof b, true);
	assert_string_equal(b, "1e+300");
	/* Every form reads back exactly, over many doubles. */
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		double v;
		memcpy(&v, &x, sizeof v);
		if (!isfinite(v))
			continue;
		q_format_real(v, b, sizeof b, true);
		assert_true(strtod(b, NULL) == v);
		assert_true(strlen(b) <= 26);
	}
	q_format_real(DBL_MIN, b, sizeof b, false);
	assert_true(strtod(b, NULL) == DBL_MIN);
}

static char *csv(const char *s, size_t len, bool text)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	sr_text_put_csv(f, s, len, text);
	fclose(f);
	return out;
}

static void test_csv_cell(void **state)
{
	(void)state;
	const struct {
		const char *in;
		bool text;
		const char *want;
	} cases[] = {
		{ "plain", true, "plain" },
		{ "a,b", true, "\"a,b\"" },
		{ "say \"x\"", true, "\"say \"\"x\"\"\"" },
		{ "two\nlines", true, "\"two\nlines\"" },
		{ "=HYPERLINK(\"x\")", true, "\"'=HYPERLINK(\"\"x\"\")\"" },
		{ "+1", true, "\"'+1\"" },
		{ "-23.5", false, "-23.5" }, /* a number is not a formula */
		{ "@SUM(A1)", true, "\"'@SUM(A1)\"" },
		{ "", true, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = csv(cases[i].in, strlen(cases[i].in), cases[i].text);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
	/* a NUL first byte is not a formula (strchr would find the terminator) */
	char *got = csv("\0x", 2, true);
	assert_memory_equal(got, "\0x", 2);
	free(got);
}

/* JSON strings: exactly what jansson writes, for any text. */
static void test_json_string(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 3000; i++) {
		unsigned char raw[48];
		size_t len = (size_t)(i % 48);
		for (size_t k = 0; k < len; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* mostly controls, quotes, backslashes and UTF-8 */
			static const char pick[] = "\"\\\n\t\x01\x1f\x7f/a\xc3\xa9\xe2\x80\xae";
			raw[k] = x & 1 ? (unsigned char)pick[(x >> 1) % (sizeof pick - 1)] : (unsigned char)(x >> 8);
		}
		json_t *v = q_json_bytes(raw, len);
		char *want = json_dumps(v, JSON_ENCODE_ANY);
		char *got = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&got, &n);
		sr_text_put_json_string(f, json_string_value(v), json_string_length(v));
		fclose(f);
		assert_string_equal(got, want);
		free(got);
		free(want);
		json_decref(v);
	}
}

static void test_select(void **state)
{
	(void)state;
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof cwd));
	char here[4200], below[4200], other[4200];
	snprintf(here, sizeof here, "%s/x.flac", cwd);
	snprintf(below, sizeof below, "%s/sub/y.flac", cwd);
	snprintf(other, sizeof other, "%s/sub/y.wav", cwd);
	char *words[] = { "*.flac", "./sub", "/nowhere/z.wav" };
	struct q_select s;
	assert_int_equal(q_select_init(&s, words, 3), 0);
	assert_true(q_select_match(&s, here));
	assert_true(q_select_match(&s, below)); /* '*' crosses '/' */
	assert_true(q_select_match(&s, other)); /* below ./sub */
	assert_true(q_select_match(&s, "/nowhere/z.wav"));
	assert_false(q_select_match(&s, "/nowhere/z.wav2"));
	assert_false(q_select_match(&s, "/elsewhere/a.flac"));
	assert_int_equal(s.hits[0], 2);
	assert_int_equal(s.hits[1], 2);
	assert_int_equal(s.hits[2], 1);
	assert_null(s.prefix); /* nothing in common but "/": no range */
	q_select_free(&s);
	char *near[] = { "media/*.wav", "media/sub" };
	assert_int_equal(q_select_init(&s, near, 2), 0);
	char want[4200];
	snprintf(want, sizeof want, "%s/media/", cwd);
	assert_string_equal(s.prefix, want);
	q_select_free(&s);
	assert_int_equal(q_select_init(&s, NULL, 0), 0);
	assert_true(q_select_match(&s, "/anything"));
	q_select_free(&s);
}

static void test_since_and_sort(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(q_parse_since("1h30m", 10000000, &ms), 0);
	assert_int_equal(ms, 10000000 - 5400000);
	assert_int_equal(q_parse_since("90", 100000, &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(q_parse_since("2024-05-01T12:00:00Z", 0, &ms), 0);
	assert_int_equal(ms, 1714564800000LL);
	assert_int_equal(q_parse_since("2024-05-01Z", 0, &ms), 0);
	assert_int_equal(ms, 1714521600000LL);
	assert_int_equal(q_parse_since("2024-05-01 12:00", 0, &ms), 0);
	assert_int_equal(q_parse_since("yesterday", 0, &ms), -EINVAL);
	assert_int_equal(q_parse_since("2024-05-01 12", 0, &ms), -EINVAL);
	enum store_sort o;
	assert_int_equal(q_parse_sort("wall", &o), 0);
	assert_int_equal(o, STORE_SORT_WALL);
	assert_int_equal(q_parse_sort("Wall", &o), -EINVAL);
	char b[32];
	q_format_elapsed(65000, b, sizeof b);
	assert_string_equal(b, "1m05s");
	q_format_elapsed(3 * 3600000 + 20 * 60000, b, sizeof b);
	assert_string_equal(b, "3h20m");
	q_format_elapsed(-5, b, sizeof b);
	assert_string_equal(b, "0s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shortest_real),
		cmocka_unit_test(test_csv_cell),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_since_and_sort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
