/* tests/unit/test_jobspec.c — the pure parts of a run: the spec key
 * (runner/jobspec.c), the mapping from a finished job to its stored
 * outcome, the output captures, text made safe for a terminal, and what the
 * user sees of it (runner/progress.c: status line, summary, JSON events;
 * runner/loop.c: MemAvailable). No kernel, no sandbox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner/jobspec.h"
#include "runner/spec_guard.h"
#include "runner/loop.h"
#include "runner/failures.h"
#include "runner/progress.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SHA-256 ------------------------------------------------------------ */

static void check_sha(const char *data, size_t len, const char *want)
{
	char hex[65];
	jobspec_sha256_hex(data, len, hex);
	assert_string_equal(hex, want);
}

static void test_sha256_vectors(void **state)
{
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* Around the padding boundaries (reference: Python's hashlib). */
	static const struct { size_t n; const char *hex; } a[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
		{ 1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3" },
	};
	char buf[1000];
	memset(buf, 'a', sizeof buf);
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
		check_sha(buf, a[i].n, a[i].hex);
}

/* ---- the spec key ---------------------------------------------------------- */

static char *argv_analyzer[] = { "/opt/sandrun/sandrun-analyze", NULL };
static char *argv_other[] = { "/opt/sandrun/sandrun-analyze", "--fast", NULL };
static const char *const etc_one[] = { "papersize" };
static const char *const etc_two[] = { "papersize", "mailcap" };
static const char *const etc_two_swapped[] = { "mailcap", "papersize" };

static void base_spec(struct jobspec *js)
{
	memset(js, 0, sizeof *js);
	js->kind = JOBSPEC_ANALYZER;
	js->argv = argv_analyzer;
	snprintf(js->program_sha256, sizeof js->program_sha256, "%064d", 1);
	snprintf(js->policy_sha256, sizeof js->policy_sha256, "%064d", 2);
	sbx_limits_defaults(&js->limits);
	js->max_output = JOBSPEC_DEFAULT_MAX_OUTPUT;
	js->bad_input_exit = JOBSPEC_ANALYZER_BAD_INPUT_EXIT;
	js->result_kind = STORE_RESULT_JSON;
}

static void key_of(struct jobspec *js, char out[72])
{
	assert_int_equal(jobspec_compute_key(js), 0);
	snprintf(out, 72, "%s", js->key);
	free(js->description);
	free(js->run_description);
	js->description = NULL;
	js->run_description = NULL;
}

static void test_key_stable_and_sensitive(void **state)
{
	struct jobspec js;
	char k0[72], k[72];
	base_spec(&js);
	key_of(&js, k0);
	assert_int_equal(strlen(k0), 7 + 64);
	assert_memory_equal(k0, "sha256:", 7);
	base_spec(&js);
	key_of(&js, k);
	assert_string_equal(k, k0); /* same spec, same key */

	/* Each thing that can change a result changes the key; limits and
	 * the output cap change how a job may run, not what a finished one
	 * found: not in the key (a resume with --mem 8G redoes nothing). */
#define KEY(mutation, same)                                   \
	do {                                                  \
		base_spec(&js);                               \
		mutation;                                     \
		key_of(&js, k);                               \
		assert_int_equal(strcmp(k, k0) == 0, same);   \
	} while (0)
#define DIFFERS(mutation) KEY(mutation, false)
#define SAME(mutation) KEY(mutation, true)
	DIFFERS(js.program_sha256[0] = 'f');
	DIFFERS(js.policy_sha256[5] = '9');
	DIFFERS(js.argv = argv_other);
	DIFFERS(js.bad_input_exit = -1);
	DIFFERS((js.etc_extra = etc_one, js.netc_extra = 1));
	DIFFERS(js.kind = JOBSPEC_COMMAND);
	DIFFERS(js.result_kind = STORE_RESULT_TEXT);
	/* Without a readable policy text, the name stands in for it. */
	DIFFERS((js.policy_sha256[0] = '\0', js.policy_arg = "strict"));
	SAME(js.limits.mem_bytes *= 2);
	SAME(js.limits.timeout_ms = 1000);
	SAME(js.limits.cpu_time_ms = 1000);
	SAME(js.limits.cpus = 1.5);
	SAME(js.limits.pids = 7);
	SAME(js.limits.fsize_bytes = 1);
	SAME(js.limits.nofile = 9);
	SAME(js.limits.tmp_bytes = 1 << 20);
	SAME(js.max_output = 1 << 10);
#undef SAME
#undef DIFFERS
#undef KEY
	char k2[72];
	base_spec(&js);
	js.etc_extra = etc_two;
	js.netc_extra = 2;
	key_of(&js, k);
	js.etc_extra = etc_two_swapped;
	key_of(&js, k2);
	assert_string_equal(k, k2);
	/* Where the program is installed is not part of its identity. */
	base_spec(&js);
	js.program = "/somewhere/else/sandrun-analyze";
	key_of(&js, k);
	assert_string_equal(k, k0);
}

static void test_description_is_canonical_json(void **state)
{
	struct jobspec js;
	base_spec(&js);
	assert_int_equal(jobspec_compute_key(&js), 0);
	json_error_t e;
	json_t *d = json_loads(js.description, 0, &e);
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "kind")), "analyzer");
	assert_int_equal(json_integer_value(json_object_get(d, "format")), JOBSPEC_KEY_FORMAT);
	assert_null(json_object_get(d, "limits"));
	assert_null(json_object_get(d, "max_output"));
	/* Sorted keys, compact: the text itself is what is hashed. */
	char *again = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(again, js.description);
	char hex[65];
	jobspec_sha256_hex(js.description, strlen(js.description), hex);
	assert_string_equal(js.key + 7, hex);
	free(again);
	json_decref(d);
	free(js.description);
	free(js.run_description);
}

/* A store written by format 1 (limits in the key): its description, made
 * today's, has today's key; its own key was another. */
static void test_old_key_format(void **state)
{
	struct jobspec js;
	base_spec(&js);
	assert_int_equal(jobspec_compute_key(&js), 0);
	json_t *d = json_loads(js.description, 0, NULL);
	json_object_set_new(d, "format", json_integer(1));
	json_object_del(d, "etc");
	json_object_set_new(d, "limits", json_pack("{s:I, s:f}", "mem_bytes", (json_int_t)6 << 30, "cpus", 0.0));
	json_object_set_new(d, "max_output", json_integer(1 << 24));
	char *old = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	char key[72], old_key[72], hex[65];
	assert_int_equal(jobspec_keys_of_run_spec(old, old_key, key), 0);
	assert_string_equal(key, js.key);
	jobspec_sha256_hex(old, strlen(old), hex); /* format 1's key: the text's hash */
	assert_string_equal(old_key + 7, hex);
	/* What a run records today (limits beside the description) maps to
	 * the key, whatever its limits. */
	assert_int_equal(jobspec_keys_of_run_spec(js.run_description, old_key, key), 0);
	assert_string_equal(key, js.key);
	assert_string_equal(old_key, js.key);
	assert_non_null(strstr(js.run_description, "\"limits\":{"));
	assert_int_equal(jobspec_keys_of_run_spec("{\"format\":9}", old_key, key), -EINVAL);
	assert_int_equal(jobspec_keys_of_run_spec("not json", old_key, key), -EINVAL);
	/* What the guard names when two descriptions differ. */
	json_t *now = json_loads(js.description, 0, NULL);
	json_t *then = jobspec_description_now(old);
	char what[256];
	spec_guard_differences(then, now, what, sizeof what);
	assert_string_equal(what, "");
	json_object_set_new(then, "policy", json_pack("{s:s}", "sha256", "0"));
	json_object_set_new(then, "etc", json_pack("[s]", "papersize"));
	spec_guard_differences(then, now, what, sizeof what);
	assert_string_equal(what, "--policy (or the policy file's text), --etc");
	json_object_set_new(then, "kind", json_string("command"));
	spec_guard_differences(then, now, what, sizeof what);
	assert_string_equal(what, "--cmd (one of the two used the built-in analyzer)");
	json_decref(now);
	json_decref(then);
	json_decref(d);
	free(old);
	free(js.description);
	free(js.run_description);
}

static void test_sbx_spec(void **state)
{
	struct jobspec js;
	base_spec(&js);
	js.binds[0] = (struct sbx_bind){ .src = "/b/sandrun-analyze", .dst = JOBSPEC_ANALYZER_DST };
	js.nbinds = 1;
	struct sbx_spec s;
	jobspec_sbx_spec(&js, &(struct jobspec_input){ .path = "/x/a.wav", .fd = 7, .bind_fd = -1 }, 8, 9, &s);
	assert_int_equal(s.stdin_fd, 7);
	assert_int_equal(s.stdout_fd, 8);
	assert_int_equal(s.stderr_fd, 9);
	assert_ptr_equal(s.argv, js.argv);
	assert_int_equal(s.nbinds, 1);
	assert_false(s.binds[0].writable); /* the analyzer is bound read-only */
	assert_int_equal(s.limits.timeout_ms, js.limits.timeout_ms);
}

/* ---- verdicts ---------------------------------------------------------------- */

static struct sbx_result result(enum outcome o, int exit_code, int sig)
{
	struct sbx_result r = { .outcome = o, .exit_code = exit_code, .signal = sig, .syscall_nr = -1 };
	return r;
}

static void verdict(const struct jobspec *js, struct sbx_result r, const char *out, const char *err,
		    bool overflow, bool valid, struct job_verdict *v)
{
	struct job_capture cap = {
		.out = out, .out_len = out ? strlen(out) : 0, .out_overflow = overflow,
		.err_tail = err, .err_len = err ? strlen(err) : 0,
	};
	jobspec_verdict(js, &r, &cap, valid, v);
}

static void test_verdict_ok_and_bad_output(void **state)
{
	struct jobspec js;
	struct job_verdict v;
	base_spec(&js);
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"a\":1}", NULL, false, true, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
	assert_true(v.store_result);
	assert_string_equal(v.error, "");
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"a\":", NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_BAD_OUTPUT);
	assert_false(v.store_result);
	assert_non_null(strstr(v.error, "not valid JSON (5 bytes)"));
	verdict(&js, result(OUTCOME_OK, 0, 0), "", NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_BAD_OUTPUT);
	assert_non_null(strstr(v.error, "empty"));
	/* A text result needs no JSON check. */
	js.result_kind = STORE_RESULT_TEXT;
	verdict(&js, result(OUTCOME_OK, 0, 0), "plain", NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
}

/* A JSON result that says its input is damaged: the outcome damaged, the
 * result kept, an account from the damage fields, made printable. */
static void test_verdict_damaged(void **state)
{
	struct jobspec js;
	struct job_verdict v;
	base_spec(&js);
	verdict(&js, result(OUTCOME_OK, 0, 0),
		"{\"format\":{},\"damage\":{\"damaged\":true,\"truncated\":true,\"frames_missing\":28000,"
		"\"stopped_early\":false,\"implausible\":[\"sample_rate\"],\"decoder_error\":\"bad\\u001b[2J\"}}",
		NULL, false, true, &v);
	assert_int_equal(v.outcome, OUTCOME_DAMAGED);
	assert_true(v.store_result);
	assert_string_equal(v.error, "damaged input: truncated (28000 frames missing), implausible sample_rate: bad?[2J");
	/* damaged false, no damage object, damage not an object: ok */
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"damage\":{\"damaged\":false}}", NULL, false, true, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"damaged\":true}", NULL, false, true, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"damage\":\"damaged\"}", NULL, false, true, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
	/* only a JSON true counts */
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"damage\":{\"damaged\":1}}", NULL, false, true, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
	/* the bare key, nothing else known */
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"damage\":{\"damaged\":true}}", NULL, false, true, &v);
	assert_int_equal(v.outcome, OUTCOME_DAMAGED);
	assert_string_equal(v.error, "damaged input");
	/* a text result is never parsed for it */
	js.result_kind = STORE_RESULT_TEXT;
	verdict(&js, result(OUTCOME_OK, 0, 0), "{\"damage\":{\"damaged\":true}}", NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_OK);
}

static void test_verdict_bad_input(void **state)
{
	struct jobspec js;
	struct job_verdict v;
	base_spec(&js);
	verdict(&js, result(OUTCOME_EXIT_NONZERO, 65, 0), "{\"error\":\"Format not recognised.\"}",
		"sandrun-analyze: bad input\n", false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_BAD_INPUT);
	assert_int_equal(v.exit_code, 65);
	assert_string_equal(v.error, "Format not recognised.");
	/* No usable JSON: the last line of stderr says why. */
	verdict(&js, result(OUTCOME_EXIT_NONZERO, 65, 0), "garbage", "first\nthe real reason\n\n", false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_BAD_INPUT);
	assert_string_equal(v.error, "the real reason");
	verdict(&js, result(OUTCOME_EXIT_NONZERO, 65, 0), NULL, NULL, false, false, &v);
	assert_string_equal(v.error, "the input was rejected");
	/* The message is untrusted: no escape sequence reaches a terminal. */
	verdict(&js, result(OUTCOME_EXIT_NONZERO, 65, 0), "{\"error\":\"\\u001b[2Jgone\\u009b\"}", NULL, false,
		false, &v);
	assert_null(strchr(v.error, '\033'));
	assert_string_equal(v.error, "?[2Jgone?");
	/* A spec without a bad-input status (a --cmd) sees a plain exit 65. */
	js.bad_input_exit = -1;
	verdict(&js, result(OUTCOME_EXIT_NONZERO, 65, 0), "{\"error\":\"x\"}", NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_EXIT_NONZERO);
}

static void test_verdict_failures(void **state)
{
	struct jobspec js;
	struct job_verdict v;
	base_spec(&js);
	js.limits.mem_bytes = 64 << 20;
	js.limits.timeout_ms = 2500;
	js.limits.cpu_time_ms = 1000;
	js.max_output = 1024;

	verdict(&js, result(OUTCOME_EXIT_NONZERO, 3, 0), NULL, "warming up\nfailing on purpose\n", false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_EXIT_NONZERO);
	assert_string_equal(v.error, "exited with status 3: failing on purpose");
	verdict(&js, result(OUTCOME_SIGNALED, -1, SIGSEGV), NULL, NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_SIGNALED);
	assert_int_equal(v.signal, SIGSEGV);
	assert_string_equal(v.error, "killed by signal 11 (SIGSEGV)");
	struct sbx_result r = result(OUTCOME_OOM, -1, 0);
	r.oom_kills = 2;
	verdict(&js, r, NULL, NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_OOM);
	assert_string_equal(v.error, "out of memory (limit 64 MiB, 2 OOM kills)");
	verdict(&js, result(OUTCOME_TIMEOUT, -1, 0), NULL, NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_TIMEOUT);
	assert_string_equal(v.error, "wall-clock timeout after 2.5 s");
	verdict(&js, result(OUTCOME_CPU_LIMIT, -1, 0), NULL, NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_CPU_LIMIT);
	r = result(OUTCOME_SECCOMP, -1, SIGSYS);
	snprintf(r.syscall, sizeof r.syscall, "socket");
	verdict(&js, r, NULL, NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_SECCOMP);
	assert_string_equal(v.syscall, "socket");
	assert_string_equal(v.error, "stopped by the seccomp policy at syscall socket");
	r = result(OUTCOME_SETUP_ERROR, -1, 0);
	snprintf(r.error, sizeof r.error, "mounts: open_tree: Permission denied");
	verdict(&js, r, NULL, NULL, false, false, &v);
	assert_int_equal(v.outcome, OUTCOME_SETUP_ERROR);
	assert_non_null(strstr(v.error, "mounts: open_tree"));
	verdict(&js, result(OUTCOME_OUTPUT_LIMIT, -1, 0), NULL, NULL, true, false, &v);
	assert_int_equal(v.outcome, OUTCOME_OUTPUT_LIMIT);
	assert_string_equal(v.error, "wrote more than 1024 bytes to stdout (--max-output)");
	/* The runner's own kill for output wins over how the job died... */
	verdict(&js, result(OUTCOME_SIGNALED, -1, SIGKILL), "xxxx", NULL, true, false, &v);
	assert_int_equal(v.outcome, OUTCOME_OUTPUT_LIMIT);
	assert_int_equal(v.signal, 0);
	assert_false(v.store_result);
	/* ... and over a clean exit that came too late. */
	verdict(&js, result(OUTCOME_OK, 0, 0), "{}", NULL, true, true, &v);
	assert_int_equal(v.outcome, OUTCOME_OUTPUT_LIMIT);
	assert_false(v.store_result);
}

/* ---- text and captures ---------------------------------------------------------- */

static void test_printable(void **state)
{
	char out[64];
	assert_string_equal(jobspec_printable("a\tb\nc", 5, out, sizeof out), "a b c");
	assert_string_equal(jobspec_printable("\033[31mred\007", 9, out, sizeof out), "?[31mred?");
	/* UTF-8 stays; C1 controls (0x9b is a CSI) and broken bytes do not. */
	assert_string_equal(jobspec_printable("caf\xc3\xa9", 5, out, sizeof out), "caf\xc3\xa9");
	assert_string_equal(jobspec_printable("\xc2\x9b" "x", 3, out, sizeof out), "?x");
	assert_string_equal(jobspec_printable("\xff\xe2\x82", 3, out, sizeof out), "???");
	assert_string_equal(jobspec_printable("\xed\xa0\x80", 3, out, sizeof out), "???"); /* surrogate */
	/* Cut at a character boundary, always terminated. */
	char small[5];
	assert_string_equal(jobspec_printable("ab\xc3\xa9\xc3\xa9", 6, small, sizeof small), "ab\xc3\xa9");
	assert_string_equal(jobspec_printable("abc\xc3\xa9", 5, small, sizeof small), "abc");

	char lossy[32];
	assert_string_equal(jobspec_utf8_lossy("/m\xe9" "dia/\xc3\xa9" "t\xc3\xa9.wav", lossy, sizeof lossy),
			    "/m?dia/\xc3\xa9" "t\xc3\xa9.wav");
}

static void test_out_capture(void **state)
{
	struct out_capture c = { .limit = 10 };
	assert_int_equal(out_capture_append(&c, "12345", 5), 0);
	assert_int_equal(out_capture_append(&c, "67890", 5), 0); /* exactly the cap is fine */
	assert_false(c.overflow);
	assert_int_equal(out_capture_append(&c, "!", 1), 1);
	assert_true(c.overflow);
	assert_int_equal(c.len, 10);
	assert_memory_equal(c.buf, "1234567890", 10);
	out_capture_free(&c);
	assert_null(c.buf);
	assert_int_equal(c.limit, 10);
}

static void test_tail_capture(void **state)
{
	struct tail_capture t = { .size = 8 };
	assert_int_equal(tail_capture_append(&t, "abc", 3), 0);
	assert_int_equal(tail_capture_append(&t, "defgh", 5), 0);
	assert_memory_equal(t.buf, "abcdefgh", 8);
	assert_int_equal(tail_capture_append(&t, "ij", 2), 0);
	assert_int_equal(t.len, 8);
	assert_memory_equal(t.buf, "cdefghij", 8); /* the last 8 bytes */
	assert_int_equal(tail_capture_append(&t, "0123456789AB", 12), 0);
	assert_memory_equal(t.buf, "456789AB", 8);
	tail_capture_free(&t);
}

/* ---- what the user sees ------------------------------------------------------------ */

static void test_duration(void **state)
{
	char b[32];
	progress_format_duration(0, b, sizeof b);
	assert_string_equal(b, "0:00");
	progress_format_duration(62.4, b, sizeof b);
	assert_string_equal(b, "1:02");
	progress_format_duration(3723, b, sizeof b);
	assert_string_equal(b, "1:02:03");
	progress_format_duration(-1, b, sizeof b);
	assert_string_equal(b, "--");
}

static void test_status_line(void **state)
{
	struct progress_counts c = { .total = 100, .done_before = 10, .failed_before = 2 };
	c.failed_before_by[OUTCOME_INPUT_ERROR] = 2;
	c.ok = 26;
	c.failed = 2;
	c.failed_by[OUTCOME_BAD_INPUT] = 1;
	c.failed_by[OUTCOME_TIMEOUT] = 1;
	c.running = 3;
	c.elapsed_s = 10;
	char line[512];
	progress_format_line(&c, 0, line, sizeof line);
	/* 40 of 100 done, 28 finished here in 10 s: 2.8/s, 60 left: 21 s. */
	assert_string_equal(line, "40/100 done, 2.8 files/s, ETA 0:21 | ok 36, failed 4 "
				  "(timeout 1, bad_input 1, input_error 2) | 3 running");
	c.paused = true;
	c.waiting_memory = true;
	progress_format_line(&c, 0, line, sizeof line);
	assert_non_null(strstr(line, "PAUSED"));
	assert_non_null(strstr(line, "waiting for memory"));
	/* Never wider than the terminal: a wrapped line cannot be redrawn. */
	size_t n = progress_format_line(&c, 30, line, sizeof line);
	assert_int_equal(n, 29);
	assert_int_equal(strlen(line), 29);
	/* Still queueing: the total is a floor, so no ETA yet. */
	c.paused = c.waiting_memory = false;
	c.queueing = true;
	progress_format_line(&c, 0, line, sizeof line);
	assert_non_null(strstr(line, "40/100+ done, 2.8 files/s, ETA -- |"));
	assert_non_null(strstr(line, "| 3 running, queueing"));
	/* Never below what is done (items claimed before their chunk was counted). */
	struct progress_counts q = { .total = 3, .ok = 5, .elapsed_s = 1, .queueing = true };
	progress_format_line(&q, 0, line, sizeof line);
	assert_non_null(strstr(line, "5/5+ done"));
	/* Nothing finished yet: no rate, no ETA. */
	struct progress_counts z = { .total = 5, .elapsed_s = 1 };
	progress_format_line(&z, 0, line, sizeof line);
	assert_non_null(strstr(line, "0/5 done, 0.0 files/s, ETA --"));
	/* Damaged files: counted apart from ok, before and in this run. */
	struct progress_counts d = { .total = 4, .done_before = 2, .damaged_before = 1, .ok = 1, .damaged = 1,
				     .elapsed_s = 1 };
	progress_format_line(&d, 0, line, sizeof line);
	assert_non_null(strstr(line, "4/4 done, 2.0 files/s, ETA 0:00 | ok 2, damaged 2, failed 0 |"));
}

static void test_summary_text(void **state)
{
	struct progress_summary s = { .total = 40, .ok = 35, .failed = 3, .pending = 2, .finished = 20,
				      .released = 2, .elapsed_s = 4, .interrupted_by = "SIGINT",
				      .exit_status = 130 };
	s.failed_by[OUTCOME_BAD_INPUT] = 2;
	s.failed_by[OUTCOME_INPUT_ERROR] = 1;
	char text[1024];
	progress_format_summary(&s, text, sizeof text);
	assert_non_null(strstr(text, "40 files: 35 ok, 3 failed (bad_input 2, input_error 1), 2 pending"));
	assert_non_null(strstr(text, "20 attempts finished in 4.0 s (5.0/s)"));
	assert_non_null(strstr(text, "2 interrupted and put back (no attempt spent)"));
	assert_non_null(strstr(text, "interrupted by SIGINT"));
	/* A rerun with nothing left: say so, not "0 attempts in 0.0 s". */
	struct progress_summary done = { .total = 213, .ok = 213, .nothing_to_do = true };
	progress_format_summary(&done, text, sizeof text);
	assert_string_equal(text, "213 files: 213 ok, 0 failed\n"
				  "nothing to do: 213 files already done (--force to redo)");
	done.ok = 200, done.failed = 13;
	progress_format_summary(&done, text, sizeof text);
	assert_non_null(strstr(text, "\nnothing to do: 200 files already done, 13 already failed ("));
	assert_null(strstr(text, "this run"));
	/* damaged: between ok and failed, and in the rerun's count of done */
	struct progress_summary dm = { .total = 3, .ok = 1, .damaged = 1, .failed = 1, .nothing_to_do = true };
	dm.failed_by[OUTCOME_BAD_INPUT] = 1;
	progress_format_summary(&dm, text, sizeof text);
	assert_non_null(strstr(text, "3 files: 1 ok, 1 damaged (analyzed; 'sandrun list --outcome damaged'), "
				     "1 failed (bad_input 1)\nnothing to do: 2 files already done, 1 already failed"));
	char *ev = progress_event_summary(&(struct progress_stamp){ .run_id = 1, .ts_ms = 0 }, &dm);
	assert_non_null(strstr(ev, "\"ok\":1,\"damaged\":1,\"failed\":1"));
	free(ev);
}

static json_t *parse(char *s)
{
	assert_non_null(s);
	json_error_t e;
	json_t *o = json_loads(s, 0, &e);
	assert_non_null(o);
	free(s);
	return o;
}

static void test_events(void **state)
{
	/* 2026-12-04 17:00:42.007 UTC */
	const struct progress_stamp st = { .run_id = 7, .ts_ms = 1796403642007LL };
	json_t *o = parse(progress_event_started(&st, 42, "/m/a.wav", 2));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "started");
	assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 2);
	/* the envelope: version, both timestamps, the run and the item */
	assert_int_equal(json_integer_value(json_object_get(o, "v")), PROGRESS_EVENTS_VERSION);
	assert_string_equal(json_string_value(json_object_get(o, "ts")), "2026-12-04T17:00:42.007Z");
	assert_int_equal(json_integer_value(json_object_get(o, "ts_ms")), 1796403642007LL);
	assert_int_equal(json_integer_value(json_object_get(o, "run")), 7);
	assert_int_equal(json_integer_value(json_object_get(o, "item")), 42);
	json_decref(o);

	/* progress: counts, a rate and an ETA; an unknown ETA is null */
	struct progress_counts pc = { .total = 10, .done_before = 2, .ok = 3, .failed = 1, .running = 2,
				      .elapsed_s = 2.0 };
	o = parse(progress_event_progress(&st, &pc));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "progress");
	assert_int_equal(json_integer_value(json_object_get(o, "done")), 6);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 10);
	assert_int_equal(json_integer_value(json_object_get(o, "ok")), 5);
	assert_true(json_real_value(json_object_get(o, "rate")) == 2.0);
	assert_int_equal(json_integer_value(json_object_get(o, "eta_s")), 2);
	json_decref(o);
	pc.queueing = true;
	o = parse(progress_event_progress(&st, &pc));
	assert_true(json_is_null(json_object_get(o, "eta_s")));
	assert_true(json_is_true(json_object_get(o, "queueing")));
	json_decref(o);

	struct progress_finished f = {
		.path = "/m/\xff.wav", .attempt = 1, .outcome = "signaled", .status = "failed",
		.exit_code = -1, .signal = 11, .wall_ms = 12, .cpu_ms = 3, .peak_memory_bytes = 4096,
		.oom_kills = 0, .error = "killed by signal 11 (SIGSEGV)",
	};
	o = parse(progress_event_finished(&st, &f));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "finished");
	/* A path that is not UTF-8 still makes valid JSON. */
	assert_string_equal(json_string_value(json_object_get(o, "path")), "/m/?.wav");
	assert_true(json_is_null(json_object_get(o, "exit_code")));
	assert_int_equal(json_integer_value(json_object_get(o, "signal")), 11);
	assert_true(json_is_null(json_object_get(o, "syscall")));
	assert_int_equal(json_integer_value(json_object_get(o, "peak_memory_bytes")), 4096);
	assert_int_equal(json_integer_value(json_object_get(o, "oom_kills")), 0);
	/* Every documented field is there, even when null. */
	static const char *fields[] = { "v", "event", "ts", "ts_ms", "run", "item", "path", "attempt", "outcome", "status", "exit_code",
					"signal", "syscall", "wall_ms", "cpu_ms", "peak_memory_bytes",
					"oom_kills", "error" };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		assert_non_null(json_object_get(o, fields[i]));
	json_decref(o);

	struct progress_summary s = { .total = 3, .ok = 2, .failed = 1, .finished = 3, .exit_status = 1 };
	s.failed_by[OUTCOME_OOM] = 1;
	o = parse(progress_event_summary(&st, &s));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "summary");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "failed_by_outcome"), "oom")), 1);
	assert_true(json_is_null(json_object_get(o, "interrupted_by")));
	assert_int_equal(json_integer_value(json_object_get(o, "exit_status")), 1);
	json_decref(o);
}

static void test_memavailable(void **state)
{
	uint64_t b = 0;
	assert_int_equal(loop_parse_memavailable("MemTotal:  100 kB\nMemFree:  50 kB\nMemAvailable:  2048 kB\n", &b), 0);
	assert_int_equal(b, 2048 * 1024);
	assert_int_equal(loop_parse_memavailable("MemTotal: 100 kB\n", &b), -ENOENT);
	/* Only at the start of a line. */
	assert_int_equal(loop_parse_memavailable("XMemAvailable: 5 kB\n", &b), -ENOENT);
	/* --halt N counts failures; N% waits for 10 finished attempts. */
	assert_false(failures_halt(3, 0, 2, 50));
	assert_true(failures_halt(3, 0, 3, 3));
	assert_false(failures_halt(0, 50, 5, 5));
	assert_true(failures_halt(0, 50, 5, 10));
	assert_false(failures_halt(0, 50, 4, 10));
	assert_false(failures_halt(0, 0, 100, 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_key_stable_and_sensitive),
		cmocka_unit_test(test_description_is_canonical_json),
		cmocka_unit_test(test_old_key_format),
		cmocka_unit_test(test_sbx_spec),
		cmocka_unit_test(test_verdict_ok_and_bad_output),
		cmocka_unit_test(test_verdict_damaged),
		cmocka_unit_test(test_verdict_bad_input),
		cmocka_unit_test(test_verdict_failures),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_out_capture),
		cmocka_unit_test(test_tail_capture),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_summary_text),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_memavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
