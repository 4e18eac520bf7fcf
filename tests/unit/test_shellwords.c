/* Unit tests of lib/shellwords.c: POSIX word splitting, no expansion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/shellwords.h"

static void expect_words(const char *in, const char **want, size_t nwant)
{
	char **w = NULL, err[128];
	size_t n = 0;
	assert_int_equal(shellwords_split(in, &w, &n, err, sizeof err), 0);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_string_equal(w[i], want[i]);
	assert_null(w[n]);
	shellwords_free(w);
}

static void expect_error(const char *in, const char *msg_part)
{
	char **w = NULL, err[128] = "";
	assert_int_equal(shellwords_split(in, &w, NULL, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, msg_part));
}

static void test_plain(void **state)
{
	expect_words("python3 features.py {}", (const char *[]){ "python3", "features.py", "{}" }, 3);
	expect_words("  a \t b\n c  ", (const char *[]){ "a", "b", "c" }, 3);
}

static void test_quotes(void **state)
{
	expect_words("sh -c 'echo $HOME; ls *'", (const char *[]){ "sh", "-c", "echo $HOME; ls *" }, 3);
	expect_words("echo \"a b\" c", (const char *[]){ "echo", "a b", "c" }, 3);
	expect_words("echo \"x\\\"y\\\\z\\$w\"", (const char *[]){ "echo", "x\"y\\z$w" }, 2);
	expect_words("echo \"\\n\"", (const char *[]){ "echo", "\\n" }, 2); /* \n is kept in "" */
	expect_words("a'b'\"c\"d", (const char *[]){ "abcd" }, 1);
	expect_words("''", (const char *[]){ "" }, 1);
}

static void test_backslash(void **state)
{
	expect_words("a\\ b c", (const char *[]){ "a b", "c" }, 2);
	expect_words("a\\'b", (const char *[]){ "a'b" }, 1);
}

static void test_no_expansion(void **state)
{
	expect_words("echo $(id) `id` ~ $PATH *.wav",
		     (const char *[]){ "echo", "$(id)", "`id`", "~", "$PATH", "*.wav" }, 6);
}

static void test_errors(void **state)
{
	expect_error("", "empty");
	expect_error("   ", "empty");
	expect_error("echo 'abc", "single quote");
	expect_error("echo \"abc", "double quote");
	expect_error("echo abc\\", "backslash");
}

static void test_many_words(void **state)
{
	char buf[4096] = "";
	for (int i = 0; i < 100; i++)
		strcat(buf, "w ");
	char **w = NULL, err[64];
	size_t n = 0;
	assert_int_equal(shellwords_split(buf, &w, &n, err, sizeof err), 0);
	assert_int_equal(n, 100);
	shellwords_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),      cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_backslash),  cmocka_unit_test(test_no_expansion),
		cmocka_unit_test(test_errors),     cmocka_unit_test(test_many_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
