/* runner/query_json.c — JSON as the query commands print it: jansson's
 * values, written with every real number in the shortest form that reads
 * back as the same double (0.05, not jansson's 0.050000000000000003).
 * Strings are escaped by lib/text.c in jansson's own form (jansson keeps
 * them valid UTF-8). */
#include "runner/query_util.h"
#include "lib/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void q_format_real(double v, char *buf, size_t len, bool keep_real)
{
	/* 15 significant digits always read back for a decimal of up to 15
	 * (DBL_DIG); 17 always suffice for any double. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* "1" would read back as an integer: JSON keeps it a real. */
	if (keep_real && !strpbrk(buf, ".eEni")) {
		size_t n = strlen(buf);
		if (n + 2 < len)
			memcpy(buf + n, ".0", 3);
	}
}

struct jw {
	FILE *f;
	int indent; /* 0: compact */
};

static void jw_newline(struct jw *w, int depth)
{
	if (!w->indent)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < depth * w->indent; i++)
		fputc(' ', w->f);
}

static int jw_string(struct jw *w, const char *s, size_t len)
{
	sr_text_put_json_string(w->f, s, len);
	return 0;
}

static int jw_value(struct jw *w, json_t *v, int depth)
{
	char num[64];
	int r = 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		bool first = true;
		fputc('{', w->f);
		json_object_foreach(v, key, val) {
			if (!first)
				fputc(',', w->f);
			first = false;
			jw_newline(w, depth + 1);
			if ((r = jw_string(w, key, strlen(key))) < 0)
				return r;
			fputs(w->indent ? ": " : ":", w->f);
			if ((r = jw_value(w, val, depth + 1)) < 0)
				return r;
		}
		if (!first)
			jw_newline(w, depth);
		fputc('}', w->f);
		return 0;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *val;
		fputc('[', w->f);
		json_array_foreach(v, i, val) {
			if (i)
				fputc(',', w->f);
			jw_newline(w, depth + 1);
			if ((r = jw_value(w, val, depth + 1)) < 0)
				return r;
		}
		if (json_array_size(v))
			jw_newline(w, depth);
		fputc(']', w->f);
		return 0;
	}
	case JSON_STRING:
		return jw_string(w, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		fprintf(w->f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		q_format_real(json_real_value(v), num, sizeof num, true);
		fputs(num, w->f);
		return 0;
	case JSON_TRUE: fputs("true", w->f); return 0;
	case JSON_FALSE: fputs("false", w->f); return 0;
	case JSON_NULL: fputs("null", w->f); return 0;
	}
	return -EINVAL;
}

int q_json_write(FILE *f, json_t *v, int indent)
{
	if (!v)
		return -ENOMEM;
	struct jw w = { .f = f, .indent = indent };
	int r = jw_value(&w, v, 0);
	if (r == 0 && ferror(f))
		r = errno ? -errno : -EIO;
	return r;
}
