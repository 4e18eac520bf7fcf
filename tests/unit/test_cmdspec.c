/* tests/unit/test_cmdspec.c — the pure parts of --cmd (runner/cmdspec.c):
 * --output and --ok-codes parsing, --env names, {} substitution, the name
 * an input gets under /input, what the sandbox can see, and that the spec
 * key covers the command's settings and leaves the analyzer's alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/cmdspec.h"
#include "runner/common.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_output(void **state)
{
	(void)state;
	enum store_result_kind k;
	assert_int_equal(cmdspec_parse_output(NULL, &k), 0);
	assert_int_equal(k, STORE_RESULT_JSON);
	assert_int_equal(cmdspec_parse_output("text", &k), 0);
	assert_int_equal(k, STORE_RESULT_TEXT);
	assert_int_equal(cmdspec_parse_output("blob", &k), 0);
	assert_int_equal(k, STORE_RESULT_BLOB);
	assert_int_equal(cmdspec_parse_output("json", &k), 0);
	assert_int_equal(k, STORE_RESULT_JSON);
	assert_int_equal(cmdspec_parse_output("JSON", &k), -EINVAL);
	assert_int_equal(cmdspec_parse_output("", &k), -EINVAL);
}

static void test_ok_codes(void **state)
{
	(void)state;
	int c[4];
	size_t n;
	char err[256];
	assert_int_equal(cmdspec_parse_ok_codes("3", c, 4, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0], 3);
	assert_int_equal(cmdspec_parse_ok_codes("1,65,255", c, 4, &n, err, sizeof err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(c[2], 255);
	const char *bad[] = { "", "0", "256", "-1", "1,", ",1", "1,,2", "a", "1 ,2", " 1", "+1", "1,2,3,4,5" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		assert_int_equal(cmdspec_parse_ok_codes(bad[i], c, 4, &n, err, sizeof err), -EINVAL);
		assert_non_null(strstr(err, "ok-codes"));
	}
}

static void test_env_names(void **state)
{
	(void)state;
	assert_true(cmdspec_env_name_valid("PATH"));
	assert_true(cmdspec_env_name_valid("_x1=value with = signs"));
	assert_true(cmdspec_env_name_valid("OMP_NUM_THREADS=1"));
	assert_false(cmdspec_env_name_valid(""));
	assert_false(cmdspec_env_name_valid("=x"));
	assert_false(cmdspec_env_name_valid("1ABC"));
	assert_false(cmdspec_env_name_valid("A-B=1"));
	assert_false(cmdspec_env_name_valid("A B"));
}

static void test_subst(void **state)
{
	(void)state;
	char *s = cmdspec_subst("{}", "/input/a.wav");
	assert_string_equal(s, "/input/a.wav");
	free(s);
	s = cmdspec_subst("--in={},{}.json", "/input/x");
	assert_string_equal(s, "--in=/input/x,/input/x.json");
	free(s);
	s = cmdspec_subst("{x}{{}}", "Y");
	assert_string_equal(s, "{x}{Y}");
	free(s);
	s = cmdspec_subst("plain", "Y");
	assert_string_equal(s, "plain");
	free(s);
}

static void test_input_name(void **state)
{
	(void)state;
	char n[256];
	cmdspec_input_name("/home/u/podcasts/ep 1.mp3", n, sizeof n);
	assert_string_equal(n, "ep 1.mp3");
	cmdspec_input_name("/x/a..b.wav", n, sizeof n);
	assert_null(strstr(n, ".."));
	assert_string_equal(n, "a._b.wav");
	cmdspec_input_name("/x/...", n, sizeof n);
	assert_null(strstr(n, ".."));
	cmdspec_input_name("", n, sizeof n);
	assert_string_equal(n, "input");
	cmdspec_input_name("/x/", n, sizeof n);
	assert_string_equal(n, "input");
	cmdspec_input_name("noslash.flac", n, sizeof n);
	assert_string_equal(n, "noslash.flac");
}

static void test_visible(void **state)
{
	(void)state;
	struct sbx_bind b[] = { { .src = "/opt/ex", .dst = "/opt/ex" } };
	assert_true(cmdspec_path_visible("/usr/bin/python3", b, 1));
	assert_true(cmdspec_path_visible("/bin/true", b, 1));
	assert_true(cmdspec_path_visible("/lib64/ld-linux-x86-64.so.2", b, 1));
	assert_true(cmdspec_path_visible("/opt/ex/features.py", b, 1));
	assert_true(cmdspec_path_visible("/opt/ex", b, 1));
	assert_false(cmdspec_path_visible("/opt/exx/tool", b, 1));
	assert_false(cmdspec_path_visible("/usrx/bin/tool", b, 1));
	assert_false(cmdspec_path_visible("/home/u/tool", b, 1));
	assert_false(cmdspec_path_visible("/usr/../home/u/tool", b, 1));
	assert_false(cmdspec_path_visible("usr/bin/true", b, 1));
	assert_false(cmdspec_path_visible("/home/u/tool", NULL, 0));
}

/* A command spec by hand, as jobspec_open_command would fill it. */
static char *argv_cmd[] = { "python3", "features.py", "{}", NULL };
static char *env_base[] = { "PATH=/usr/bin", "HOME=/tmp", "LANG=C.UTF-8", NULL };
static char *env_more[] = { "PATH=/usr/bin", "HOME=/tmp", "LANG=C.UTF-8", "OMP_NUM_THREADS=1", NULL };

static void cmd_spec(struct jobspec *js)
{
	memset(js, 0, sizeof *js);
	js->kind = JOBSPEC_COMMAND;
	js->argv = argv_cmd;
	js->command = "python3 features.py {}";
	js->program = "/usr/bin/python3.11";
	js->envp = env_base;
	js->input_arg = true;
	snprintf(js->program_sha256, sizeof js->program_sha256, "%064d", 1);
	snprintf(js->policy_sha256, sizeof js->policy_sha256, "%064d", 2);
	sbx_limits_defaults(&js->limits);
	js->max_output = JOBSPEC_DEFAULT_MAX_OUTPUT;
	js->bad_input_exit = -1;
	js->result_kind = STORE_RESULT_JSON;
}

static void key(struct jobspec *js, char out[72])
{
	assert_int_equal(jobspec_compute_key(js), 0);
	snprintf(out, 72, "%s", js->key);
	free(js->description);
	free(js->run_description);
	js->description = NULL;
	js->run_description = NULL;
}

static void test_key_covers_command(void **state)
{
	(void)state;
	struct jobspec js;
	char base[72], k[72];
	cmd_spec(&js);
	key(&js, base);
	key(&js, k);
	assert_string_equal(base, k);

	cmd_spec(&js);
	js.command = "python3  features.py {}"; /* same words, another string */
	key(&js, k);
	assert_string_not_equal(base, k);

	cmd_spec(&js);
	js.envp = env_more;
	key(&js, k);
	assert_string_not_equal(base, k);

	cmd_spec(&js);
	js.ok_codes[0] = 65;
	js.nok_codes = 1;
	key(&js, k);
	assert_string_not_equal(base, k);

	cmd_spec(&js);
	js.binds[0] = (struct sbx_bind){ .src = "/opt/ex", .dst = "/opt/ex" };
	js.nbinds = 1;
	key(&js, k);
	assert_string_not_equal(base, k);
	char k2[72];
	js.binds[0].writable = true;
	key(&js, k2);
	assert_string_not_equal(k, k2);

	cmd_spec(&js);
	js.result_kind = STORE_RESULT_TEXT;
	key(&js, k);
	assert_string_not_equal(base, k);

	cmd_spec(&js);
	js.input_arg = false;
	key(&js, k);
	assert_string_not_equal(base, k);

	/* A limit is not part of a command's identity either. */
	cmd_spec(&js);
	js.limits.mem_bytes *= 2;
	key(&js, k);
	assert_string_equal(base, k);

	cmd_spec(&js);
	snprintf(js.policy_sha256, sizeof js.policy_sha256, "%064d", 3);
	key(&js, k);
	assert_string_not_equal(base, k);

	/* The description names the command's settings. */
	cmd_spec(&js);
	assert_int_equal(jobspec_compute_key(&js), 0);
	assert_non_null(strstr(js.description, "\"command\":{"));
	assert_non_null(strstr(js.description, "python3 features.py {}"));
	free(js.description);
	free(js.run_description);
}

static void test_ok_codes_verdict(void **state)
{
	(void)state;
	struct jobspec js;
	cmd_spec(&js);
	js.result_kind = STORE_RESULT_TEXT;
	js.ok_codes[0] = 3;
	js.nok_codes = 1;
	struct sbx_result res = { .outcome = OUTCOME_EXIT_NONZERO, .exit_code = 3 };
	struct job_verdict v;
	jobspec_verdict(&js, &res, NULL, true, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
	assert_true(v.store_result);
	assert_int_equal(v.exit_code, 3);
	res.exit_code = 4;
	jobspec_verdict(&js, &res, NULL, true, &v);
	assert_int_equal(v.outcome, OUTCOME_EXIT_NONZERO);
	/* no bad-input status for a command: 65 is just a failure */
	res.exit_code = 65;
	jobspec_verdict(&js, &res, NULL, true, &v);
	assert_int_equal(v.outcome, OUTCOME_EXIT_NONZERO);
}

/* --bind sources: opened once, O_PATH, above stdio; a link anywhere on the
 * path is refused with a message that says so. */
static void test_bind_source(void **state)
{
	char root[] = "/tmp/sandrun-bindsrc.XXXXXX", p[PATH_MAX], abs[PATH_MAX], err[PATH_MAX + 300];
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof p, "%s/real", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/link", root);
	assert_int_equal(symlink("real", p), 0);

	snprintf(p, sizeof p, "%s/real/../real", root);
	int fd = sr_open_bind_source("--bind-ro", p, abs, sizeof abs, err, sizeof err);
	assert_true(fd > 2);
	assert_true(fcntl(fd, F_GETFL) & O_PATH);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	snprintf(p, sizeof p, "%s/real", root);
	assert_string_equal(abs, p); /* lexical: the target inside the sandbox */

	snprintf(p, sizeof p, "%s/link", root);
	assert_int_equal(sr_open_bind_source("--bind-ro", p, abs, sizeof abs, err, sizeof err), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	snprintf(p, sizeof p, "%s/link/.", root); /* through a link, not only at the end */
	assert_int_equal(sr_open_bind_source("--bind", p, abs, sizeof abs, err, sizeof err), -ELOOP);
	snprintf(p, sizeof p, "%s/none", root);
	assert_int_equal(sr_open_bind_source("--bind", p, abs, sizeof abs, err, sizeof err), -ENOENT);

	snprintf(p, sizeof p, "%s/link", root);
	unlink(p);
	snprintf(p, sizeof p, "%s/real", root);
	rmdir(p);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output),       cmocka_unit_test(test_ok_codes),
		cmocka_unit_test(test_env_names),    cmocka_unit_test(test_subst),
		cmocka_unit_test(test_input_name),   cmocka_unit_test(test_visible),
		cmocka_unit_test(test_key_covers_command), cmocka_unit_test(test_ok_codes_verdict),
		cmocka_unit_test(test_bind_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
