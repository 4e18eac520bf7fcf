/* analyzer/fuzz/fuzz_analyzer.c — libFuzzer target for the analyzer's
 * whole path from bytes to JSON: the same an_analyze_to_json() the
 * program runs, over a memory source instead of a descriptor.
 *
 * Beyond "does not crash" (ASan, UBSan), every input must end in one of
 * the two documented results, as JSON that parses:
 *   - AN_STATUS_OK with a report holding "schema" and "format", or
 *   - AN_STATUS_BAD_INPUT with {"error": "<non-empty text>"}.
 * A violation aborts, which libFuzzer records as a crash.
 *
 * Build: tests/analyzer/build-fuzz.sh OUT_DIR; run: see docs/analyzer.md.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/decode.h"
#include "analyzer/input.h"
#include "analyzer/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void violated(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_analyzer: %s\n%s\n", what, text ? text : "(no output)");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct an_input in;
	struct an_json out;
	json_error_t err;

	an_input_from_memory(&in, data, size);
	an_json_init(&out);
	enum an_status st = an_analyze_to_json(&in, &out);
	if (st == AN_STATUS_FAILED)
		violated("analysis failed (out of memory?)", out.buf);
	if (!out.buf || out.len == 0 || out.buf[out.len - 1] != '\n')
		violated("output is not one line", out.buf);
	json_t *v = json_loadb(out.buf, out.len, JSON_REJECT_DUPLICATES, &err);
	if (!v || !json_is_object(v))
		violated("output is not a JSON object", out.buf);
	if (st == AN_STATUS_OK) {
		if (!json_is_integer(json_object_get(v, "schema")) ||
		    !json_is_object(json_object_get(v, "format")))
			violated("report without schema or format", out.buf);
	} else {
		const char *e = json_string_value(json_object_get(v, "error"));
		if (!e || !*e)
			violated("bad_input without error text", out.buf);
	}
	json_decref(v);
	an_json_free(&out);
	return 0;
}
