/* analyzer/json.h — a small streaming JSON writer into a growable buffer.
 *
 * Why not jansson: the report must never hold NaN or infinity (JSON has
 * neither), strings can carry bytes from a hostile file (libsndfile's log
 * quotes chunk names), and the output must be byte-for-byte stable. This
 * writer turns any non-finite number into null, escapes every control
 * byte and every byte >= 0x80 (read as Latin-1, so the output is always
 * valid UTF-8 whatever the input), writes a NUL byte as U+FFFD (jansson
 * refuses \u0000 unless told otherwise), and prints numbers with "%.10g".
 *
 * Errors are sticky: after a failed allocation every call is a no-op and
 * an_json_finish() returns -ENOMEM. Keys are only checked for nesting in
 * the sense that the writer inserts commas; the caller writes a key
 * before every member of an object and none inside an array.
 */
#ifndef SANDRUN_ANALYZER_JSON_H
#define SANDRUN_ANALYZER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AN_JSON_MAX_DEPTH 16

struct an_json {
	char *buf;
	size_t len, cap;
	int err;                         /* 0 or -errno, sticky */
	int depth;
	bool need_comma[AN_JSON_MAX_DEPTH];
	bool after_key;                  /* a key was written, value pending */
};

void an_json_init(struct an_json *j);
void an_json_free(struct an_json *j);

/* key may be NULL inside arrays and at the top level. */
void an_json_begin_object(struct an_json *j, const char *key);
void an_json_end_object(struct an_json *j);
void an_json_begin_array(struct an_json *j, const char *key);
void an_json_end_array(struct an_json *j);

void an_json_string(struct an_json *j, const char *key, const char *s);
/* NULL s writes null; otherwise len bytes, NULs escaped too. */
void an_json_string_n(struct an_json *j, const char *key, const char *s, size_t len);
void an_json_double(struct an_json *j, const char *key, double v);
void an_json_int(struct an_json *j, const char *key, int64_t v);
void an_json_uint(struct an_json *j, const char *key, uint64_t v);
void an_json_bool(struct an_json *j, const char *key, bool v);
void an_json_null(struct an_json *j, const char *key);

/* Append the final "\n" and hand back the text (NUL-terminated, owned by
 * j). Returns 0, -ENOMEM or -EINVAL when objects/arrays are left open. */
int an_json_finish(struct an_json *j, const char **text, size_t *len);

#endif
