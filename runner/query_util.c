/* runner/query_util.c — see query_util.h. */
#include "runner/query_util.h"
#include "lib/text.h"
#include "runner/common.h"
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int q_open(const char *db, enum store_open_mode mode, struct store **st)
{
	char err[1024];
	int r = store_open(db, mode, st, err, sizeof err);
	if (r < 0) {
		sr_err("%s", err);
		return SR_EXIT_STORE;
	}
	return 0;
}

int q_store_error(struct store *st)
{
	sr_err("%s", store_errmsg(st));
	return SR_EXIT_STORE;
}

json_t *q_json_bytes(const void *bytes, size_t len)
{
	char *fixed;
	size_t n;
	int r = sr_text_utf8_repair(bytes, len, &fixed, &n);
	if (r == 0)
		return json_stringn((const char *)bytes, len);
	if (r < 0)
		return NULL;
	json_t *v = json_stringn(fixed, n);
	free(fixed);
	return v;
}

json_t *q_json_int_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static char *base64(const unsigned char *s, size_t len)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		*o++ = tbl[v >> 18 & 63];
		*o++ = tbl[v >> 12 & 63];
		*o++ = i + 1 < len ? tbl[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

json_t *q_json_result(const char *kind, const void *data, size_t len)
{
	if (!kind)
		return json_null();
	if (strcmp(kind, "json") == 0) {
		json_error_t jerr;
		json_t *v = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		if (v)
			return v;
		/* Valid for SQLite's json_valid() but not for jansson (e.g. a
		 * number out of range): keep the text. */
		return q_json_bytes(data, len);
	}
	if (strcmp(kind, "text") == 0)
		return q_json_bytes(data, len);
	char *b64 = base64(data, len);
	json_t *v = b64 ? json_pack("{s:s}", "base64", b64) : NULL;
	free(b64);
	return v;
}

json_t *q_json_time(int64_t ms)
{
	if (ms < 0)
		return json_null();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[64];
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(ms % 1000));
	return json_string(buf);
}

void q_format_time(int64_t ms, char *buf, size_t len)
{
	if (ms < 0) {
		snprintf(buf, len, "-");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void q_format_bytes(double bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f B", bytes);
	else
		snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

int64_t q_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int q_json_print(FILE *f, json_t *v, size_t flags)
{
	if (!v)
		return -ENOMEM;
	int r = q_json_write(f, v, (int)(flags & 0x1F));
	if (r == 0 && fputc('\n', f) == EOF)
		r = errno ? -errno : -EIO;
	return r;
}

/* Lexically clean an absolute path: no "//", "/./", "/../". */
static void clean_path(char *p)
{
	char *out = p;
	const char *s = p;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if (n == 0)
			break;
		if (n == 1 && s[0] == '.') {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, s, n);
			out += n;
		}
		s = e;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

char *q_store_path_of(const char *arg)
{
	char *real = realpath(arg, NULL);
	if (real)
		return real;
	/* The input is gone (moved, deleted): resolve its directory if that
	 * still exists, else make the path absolute by hand. */
	char *copy = strdup(arg);
	if (!copy)
		return NULL;
	char *slash = strrchr(copy, '/');
	const char *base = slash ? slash + 1 : copy;
	char *dir = NULL;
	if (slash && slash != copy) {
		*slash = '\0';
		dir = realpath(copy, NULL);
	} else if (!slash) {
		dir = realpath(".", NULL);
	}
	char *out = NULL;
	if (dir && *base) {
		if (asprintf(&out, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, base) < 0)
			out = NULL;
	} else {
		char cwd[PATH_MAX];
		if (arg[0] == '/')
			out = strdup(arg);
		else if (getcwd(cwd, sizeof cwd) && asprintf(&out, "%s/%s", cwd, arg) < 0)
			out = NULL;
		if (out)
			clean_path(out);
	}
	free(dir);
	free(copy);
	return out;
}

int q_check_status(const char *cmd, const char *status)
{
	static const char *const valid[] = { "pending", "running", "done", "failed" };
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		if (strcmp(status, valid[i]) == 0)
			return 0;
	return sr_usage_error(cmd, "--status '%s': give one of pending, running, done, failed",
			      status);
}

int q_check_outcome(const char *cmd, const char *outcome)
{
	if (outcome_from_name(outcome) >= 0)
		return 0;
	char all[256] = "";
	for (int i = 0; i < OUTCOME_COUNT; i++) {
		strcat(all, i ? ", " : "");
		strcat(all, outcome_name(i));
	}
	return sr_usage_error(cmd, "--outcome '%s': unknown outcome; give one of %s", outcome, all);
}
