/* tests/analyzer/analyze.h — the analyzer's whole path over a buffer, as
 * the unit tests use it: bytes in, the parsed JSON object out (report or
 * error), never AN_STATUS_FAILED. Needs cmocka and jansson included first.
 */
#ifndef SANDRUN_TESTS_ANALYZER_ANALYZE_H
#define SANDRUN_TESTS_ANALYZER_ANALYZE_H

#include "analyzer/decode.h"
#include "analyzer/input.h"

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

#endif
