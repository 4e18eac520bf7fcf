/* runner/query_util.h — helpers shared by the query subcommands
 * (runner/query*.c): opening the store, printing untrusted bytes safely,
 * JSON conversion. */
#ifndef SANDRUN_QUERY_UTIL_H
#define SANDRUN_QUERY_UTIL_H

#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define QUERY_DEFAULT_DB "./sandrun.db"

/* Open the store; on failure print the message and return the exit code
 * (4), else 0. */
int q_open(const char *db, enum store_open_mode mode, struct store **st);
/* Print a store failure and return 4. */
int q_store_error(struct store *st);

/* Bytes that may be hostile (file names, stderr of a job, errors) are
 * written with lib/text.h's sr_text_put (SR_TEXT_TERMINAL, ...). */

/* A JSON string of bytes: the bytes themselves when UTF-8, else with each
 * invalid byte replaced by U+FFFD. Never NULL except on ENOMEM. */
json_t *q_json_bytes(const void *bytes, size_t len);
static inline json_t *q_json_str(const char *s)
{
	return s ? q_json_bytes(s, __builtin_strlen(s)) : json_null();
}
/* An integer, or null when negative (absent). */
json_t *q_json_int_or_null(int64_t v);
/* A stored result: json → the value; text → a string; blob →
 * {"base64": "..."}; no result → null. */
json_t *q_json_result(const char *kind, const void *data, size_t len);
/* "2024-05-01T12:00:03.250Z", or null for a negative time. */
json_t *q_json_time(int64_t ms);
/* Local time "2024-05-01 14:00:03" for text output. */
void q_format_time(int64_t ms, char *buf, size_t len);
/* "512 B", "12.3 MiB". */
void q_format_bytes(double bytes, char *buf, size_t len);
/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t q_now_ms(void);
/* The JSON object of one item, as list --json and show --json print it
 * (runner/query.c). */
json_t *q_item_json(const struct store_item_row *row);
/* v written as JSON (runner/query_json.c), compact or indented by
 * `indent` spaces, every real in the shortest form that reads back as the
 * same double. 0 or -errno. */
int q_json_write(FILE *f, json_t *v, int indent);
/* That form of a real: %.15g, else %.16g, else %.17g, the first that
 * strtod() reads back exactly; keep_real appends ".0" to an integral
 * value (JSON), else "1" stays "1" (CSV). */
void q_format_real(double v, char *buf, size_t len, bool keep_real);
/* q_json_write, then a newline. flags: JSON_COMPACT or JSON_INDENT(n).
 * 0 or -errno. */
int q_json_print(FILE *f, json_t *v, size_t flags);

/* The path the store holds for a path given on the command line: its real
 * path when it exists, else made absolute by hand (the input may have been
 * moved away). malloc'd. */
char *q_store_path_of(const char *arg);

/* Validate --status / --outcome values; print a usage error and return 2,
 * else 0. */
int q_check_status(const char *cmd, const char *status);
int q_check_outcome(const char *cmd, const char *outcome);

#endif
