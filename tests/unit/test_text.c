/* tests/unit/test_text.c — the text module (lib/text.h): one predicate
 * for what a terminal must not get raw, one escaped form, and every
 * escaper that shows untrusted text using them (issue 12 item 11). Pure. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "runner/jobspec.h"
#include "lib/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI, U+061C ALM, U+2028 LS */
#define RLO "\xe2\x80\xae"
#define LRI "\xe2\x81\xa6"
#define ALM "\xd8\x9c"
#define LS "\xe2\x80\xa8"

static void test_predicate(void **state)
{
	(void)state;
	static const uint32_t unsafe[] = { 0x00, 0x07, 0x0a, 0x1b, 0x1f, 0x7f, 0x80, 0x9b, 0x9f,
					   0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c,
					   0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
					   0x2028, 0x2029 };
	for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++)
		if (!sr_text_unsafe(unsafe[i]))
			fail_msg("U+%04X should be unsafe", (unsigned)unsafe[i]);
	/* neighbours and ordinary text stay */
	static const uint32_t safe[] = { 0x20, 'a', 0x7e, 0xa0, 0xe9, 0x061b, 0x061d, 0x200d,
					 0x2010, 0x2027, 0x202f, 0x2065, 0x206a, 0x4e2d,
					 0x1f600 };
	for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
		if (sr_text_unsafe(safe[i]))
			fail_msg("U+%04X should be safe", (unsigned)safe[i]);
	assert_int_equal(sr_utf8_printable_len((const unsigned char *)RLO, 3), 0);
	assert_int_equal(sr_utf8_printable_len((const unsigned char *)"\xc3\xa9", 2), 2);
}

static void test_escape_at(void **state)
{
	(void)state;
	char esc[SR_ESC_MAX];
	assert_int_equal(sr_text_escape_at((const unsigned char *)RLO "x", 4, esc), 3);
	assert_string_equal(esc, "\\u{202e}");
	assert_int_equal(sr_text_escape_at((const unsigned char *)ALM, 2, esc), 2);
	assert_string_equal(esc, "\\u{061c}");
	assert_int_equal(sr_text_escape_at((const unsigned char *)LS, 3, esc), 3);
	assert_string_equal(esc, "\\u{2028}");
	assert_int_equal(sr_text_escape_at((const unsigned char *)"\x1b[", 2, esc), 1);
	assert_string_equal(esc, "\\x1b");
	assert_int_equal(sr_text_escape_at((const unsigned char *)"\xc2\x9b", 2, esc), 2);
	assert_string_equal(esc, "\\xc2\\x9b");
	assert_int_equal(sr_text_escape_at((const unsigned char *)"\xff", 1, esc), 1);
	assert_string_equal(esc, "\\xff");
	/* a truncated RLO is three invalid bytes, one at a time */
	assert_int_equal(sr_text_escape_at((const unsigned char *)"\xe2\x80", 2, esc), 1);
	assert_string_equal(esc, "\\xe2");
	assert_int_equal(sr_text_escape_at((const unsigned char *)"\xc3\xa9", 2, esc), 2);
	assert_string_equal(esc, "");
	assert_int_equal(sr_text_escape_at((const unsigned char *)"\\", 1, esc), 1);
	assert_string_equal(esc, "");
}

static void test_escape_line(void **state)
{
	(void)state;
	char out[256];
	const char *name = "evil" RLO "gpj.wav";
	assert_string_equal(sr_text_escape_line(name, strlen(name), out, sizeof out),
			    "evil\\u{202e}gpj.wav");
	const char *mix = "a\tb\nc\\d\x1b[31m" LRI "x" LS "\xc2\x9b\xff" ALM;
	assert_string_equal(sr_text_escape_line(mix, strlen(mix), out, sizeof out),
			    "a b c\\\\d\\x1b[31m\\u{2066}x\\u{2028}\\xc2\\x9b\\xff\\u{061c}");
	/* cut at an escape boundary, never inside one */
	char small[8];
	assert_string_equal(sr_text_escape_line(name, strlen(name), small, sizeof small), "evil");
	char tiny[1];
	assert_string_equal(sr_text_escape_line(name, strlen(name), tiny, sizeof tiny), "");
}

static void test_escape_name(void **state)
{
	(void)state;
	char out[256];
	/* a line break in a name is part of it: shown, never a space */
	const char *name = "a\nb.wav";
	assert_string_equal(sr_text_escape_name(name, strlen(name), out, sizeof out), "a\\nb.wav");
	const char *mix = "t\tr\rb\\s\x1b" RLO;
	assert_string_equal(sr_text_escape_name(mix, strlen(mix), out, sizeof out),
			    "t\\tr\\rb\\\\s\\x1b\\u{202e}");
	char small[3]; /* "\n" does not fit after "a": cut before it */
	assert_string_equal(sr_text_escape_name(name, strlen(name), small, sizeof small), "a");
}

static char *captured(void (*put)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	put(f, s);
	fclose(f);
	return buf;
}

static void put_query(FILE *f, const char *s)
{
	sr_text_put(f, s, strlen(s), SR_TEXT_TERMINAL);
}

static void put_query_nl(FILE *f, const char *s)
{
	sr_text_put(f, s, strlen(s), SR_TEXT_TERMINAL_MULTILINE);
}

static void put_html(FILE *f, const char *s)
{
	sr_text_put(f, s, strlen(s), SR_TEXT_HTML_LINE);
}

/* list/show/status (SR_TEXT_TERMINAL*) and the HTML report (SR_TEXT_HTML*)
 * give the same form for the same character: no raw bidi byte in any of them. */
static void test_escapers_agree(void **state)
{
	(void)state;
	const char *s = "evil" RLO "gpj.wav " LRI ALM LS "\xe2\x80\xa9 \x1b \xc2\x9b";
	const char *want = "evil\\u{202e}gpj.wav \\u{2066}\\u{061c}\\u{2028}\\u{2029} \\x1b \\xc2\\x9b";
	char *q = captured(put_query, s), *qn = captured(put_query_nl, s), *h = captured(put_html, s);
	assert_string_equal(q, want);
	assert_string_equal(qn, want);
	assert_string_equal(h, want);
	assert_null(strstr(q, "\xe2\x80"));
	free(q);
	free(qn);
	free(h);
	char *t = captured(put_query_nl, "line1\n" RLO "line2\t.");
	assert_string_equal(t, "line1\n\\u{202e}line2\t.");
	free(t);
}

static void put_html_pre(FILE *f, const char *s)
{
	sr_text_put(f, s, strlen(s), SR_TEXT_HTML_PRE);
}

/* HTML's own characters; a backslash doubled on one line, kept in <pre>. */
static void test_html_policy(void **state)
{
	(void)state;
	char *h = captured(put_html, "<a href='x'>&\"\\</a>");
	assert_string_equal(h, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\\\\&lt;/a&gt;");
	free(h);
	char *p = captured(put_html_pre, "a\\b\n\t<" RLO);
	assert_string_equal(p, "a\\b\n\t&lt;\\u{202e}");
	free(p);
}

/* JSON: valid UTF-8 (C1 included) as it is, else U+FFFD per bad byte. */
static void test_json_repair(void **state)
{
	(void)state;
	char *out = NULL;
	size_t n = 0;
	assert_int_equal(sr_text_utf8_repair("ok \xc2\x9b " RLO, 9, &out, &n), 0);
	assert_null(out);
	assert_int_equal(sr_text_utf8_repair("a\xff" "b\xc3", 4, &out, &n), 1);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd", 8);
	free(out);
}

/* The stored one-line error: '?' for every unsafe character, as for
 * controls since the beginning. */
static void test_printable_bidi(void **state)
{
	(void)state;
	char out[64];
	const char *s = "bad " RLO "frame" LS ALM "\xc3\xa9";
	assert_string_equal(jobspec_printable(s, strlen(s), out, sizeof out), "bad ?frame??\xc3\xa9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_predicate),
		cmocka_unit_test(test_escape_at),
		cmocka_unit_test(test_escape_line),
		cmocka_unit_test(test_escape_name),
		cmocka_unit_test(test_escapers_agree),
		cmocka_unit_test(test_html_policy),
		cmocka_unit_test(test_json_repair),
		cmocka_unit_test(test_printable_bidi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
