/* tests/analyzer/analyze.h — the analyzer's whole path over a buffer, as
 * the unit tests use it: bytes in, the parsed JSON object out (report or
 * error), never AN_STATUS_FAILED; or the report's text from a descriptor
 * or a pipe. Needs cmocka and jansson included first.
 */
#ifndef SANDRUN_TESTS_ANALYZER_ANALYZE_H
#define SANDRUN_TESTS_ANALYZER_ANALYZE_H

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/input.h"
#include "tests/unit/testkit.h"

static inline enum an_status analyze_memory(const void *data, size_t len, json_t **out)
{
	struct an_input in;
	struct an_json j;
	json_error_t err;

	an_input_from_memory(&in, data, len);
	an_json_init(&j);
	enum an_status st = an_analyze_to_json(&in, &j);
	assert_int_not_equal(st, AN_STATUS_FAILED);
	*out = json_loads(j.buf, 0, &err);
	if (!*out)
		fail_msg("invalid JSON: %s", err.text);
	an_json_free(&j);
	return st;
}

/* A report (never an error object) and one field of one of its objects. */
static inline json_t *analyze_report(const void *data, size_t len)
{
	json_t *r;
	assert_int_equal(analyze_memory(data, len, &r), AN_STATUS_OK);
	return r;
}

static inline json_t *report_field(json_t *r, const char *obj, const char *key)
{
	return json_object_get(json_object_get(r, obj), key);
}

/* The report's text of what fd holds (a file or a pipe). */
static inline char *analyze_fd_text(int fd)
{
	struct an_input in;
	struct an_json j;

	assert_int_equal(an_input_from_fd(&in, fd), 0);
	an_json_init(&j);
	an_analyze_to_json(&in, &j);
	an_input_release(&in);
	char *text = strdup(j.buf);
	assert_non_null(text);
	an_json_free(&j);
	return text;
}

/* The writing end of a pipe, in a child: the whole buffer, then EOF. */
struct analyze_pipe_writer {
	int *p;
	const void *data;
	size_t len;
};

static inline int analyze_write_pipe(void *arg)
{
	struct analyze_pipe_writer *w = arg;
	close(w->p[0]);
	ssize_t n = write(w->p[1], w->data, w->len);
	return n == (ssize_t)w->len ? 0 : 1;
}

/* The report's text of len bytes read from a pipe that a child fills. */
static inline char *analyze_pipe_text(const void *data, size_t len)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	struct analyze_pipe_writer w = { p, data, len };
	pid_t pid = tk_spawn(analyze_write_pipe, &w);
	assert_true(pid > 0);
	close(p[1]);
	char *text = analyze_fd_text(p[0]);
	close(p[0]);
	int status = tk_wait(pid);
	assert_true(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return text;
}

#endif
