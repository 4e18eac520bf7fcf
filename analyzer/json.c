/* analyzer/json.c — see json.h. */
#include "analyzer/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void an_json_init(struct an_json *j)
{
	memset(j, 0, sizeof(*j));
}

void an_json_free(struct an_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static bool reserve(struct an_json *j, size_t more)
{
	if (j->err)
		return false;
	if (more > SIZE_MAX / 2 - j->len) {
		j->err = -ENOMEM;
		return false;
	}
	if (j->len + more + 1 <= j->cap)
		return true;
	size_t cap = j->cap ? j->cap : 1024;
	while (cap < j->len + more + 1)
		cap *= 2;
	char *nb = realloc(j->buf, cap);
	if (!nb) {
		j->err = -ENOMEM;
		return false;
	}
	j->buf = nb;
	j->cap = cap;
	return true;
}

static void put(struct an_json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void put_c(struct an_json *j, char c)
{
	put(j, &c, 1);
}

static void put_escaped(struct an_json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	put_c(j, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': put(j, "\\\"", 2); break;
		case '\\': put(j, "\\\\", 2); break;
		case '\n': put(j, "\\n", 2); break;
		case '\r': put(j, "\\r", 2); break;
		case '\t': put(j, "\\t", 2); break;
		case '\0':
			/* Valid JSON as \u0000, but jansson (the runner's
			 * parser) refuses it by default. */
			put(j, "\\ufffd", 6);
			break;
		default:
			if (c < 0x20 || c >= 0x7f) {
				/* Bytes >= 0x80 are taken as Latin-1: whatever a
				 * hostile file puts in a chunk name, the report
				 * stays valid UTF-8. */
				char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				put(j, esc, sizeof(esc));
			} else {
				put_c(j, (char)c);
			}
		}
	}
	put_c(j, '"');
}

/* Comma and key before a value; marks the enclosing level non-empty. */
static void begin_value(struct an_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->need_comma[j->depth - 1])
			put_c(j, ',');
		j->need_comma[j->depth - 1] = true;
	}
	if (key) {
		put_escaped(j, key, strlen(key));
		put_c(j, ':');
	}
}

static void open_level(struct an_json *j, const char *key, char c)
{
	begin_value(j, key);
	if (j->depth >= AN_JSON_MAX_DEPTH) {
		if (!j->err)
			j->err = -EINVAL;
		return;
	}
	put_c(j, c);
	j->need_comma[j->depth++] = false;
}

static void close_level(struct an_json *j, char c)
{
	if (j->depth <= 0) {
		if (!j->err)
			j->err = -EINVAL;
		return;
	}
	j->depth--;
	put_c(j, c);
}

void an_json_begin_object(struct an_json *j, const char *key)
{
	open_level(j, key, '{');
}

void an_json_end_object(struct an_json *j)
{
	close_level(j, '}');
}

void an_json_begin_array(struct an_json *j, const char *key)
{
	open_level(j, key, '[');
}

void an_json_end_array(struct an_json *j)
{
	close_level(j, ']');
}

void an_json_string_n(struct an_json *j, const char *key, const char *s, size_t len)
{
	begin_value(j, key);
	if (!s)
		put(j, "null", 4);
	else
		put_escaped(j, s, len);
}

void an_json_string(struct an_json *j, const char *key, const char *s)
{
	an_json_string_n(j, key, s, s ? strlen(s) : 0);
}

void an_json_double(struct an_json *j, const char *key, double v)
{
	char tmp[40];
	int n;

	begin_value(j, key);
	if (!isfinite(v)) {
		put(j, "null", 4);
		return;
	}
	/* -0 reads oddly in a report and compares equal to 0 anyway. */
	if (v == 0.0)
		v = 0.0;
	n = snprintf(tmp, sizeof(tmp), "%.10g", v);
	put(j, tmp, (size_t)n);
}

void an_json_int(struct an_json *j, const char *key, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	begin_value(j, key);
	put(j, tmp, (size_t)n);
}

void an_json_uint(struct an_json *j, const char *key, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	begin_value(j, key);
	put(j, tmp, (size_t)n);
}

void an_json_bool(struct an_json *j, const char *key, bool v)
{
	begin_value(j, key);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void an_json_null(struct an_json *j, const char *key)
{
	begin_value(j, key);
	put(j, "null", 4);
}

int an_json_finish(struct an_json *j, const char **text, size_t *len)
{
	if (!j->err && j->depth != 0)
		j->err = -EINVAL;
	put_c(j, '\n');
	if (j->err)
		return j->err;
	*text = j->buf;
	*len = j->len;
	return 0;
}
