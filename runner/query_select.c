/* runner/query_select.c — see query_select.h. */
#include "runner/query_select.h"
#include "runner/query_util.h"
#include "lib/duration.h"
#include "lib/text.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool has_glob(const char *w)
{
	return strpbrk(w, "*?[") != NULL;
}

/* A pattern made absolute against the current directory. */
static char *absolute_pattern(const char *w)
{
	if (w[0] == '/')
		return strdup(w);
	while (w[0] == '.' && w[1] == '/')
		for (w += 2; *w == '/'; w++)
			;
	char cwd[PATH_MAX], *out;
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	if (asprintf(&out, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, w) < 0)
		return NULL;
	return out;
}

/* How many leading bytes of word i every path it chooses begins with:
 * a path all of it, a glob up to its first special character. */
static size_t literal_len(const struct q_select *s, size_t i)
{
	return s->is_glob[i] ? strcspn(s->pat[i], "*?[\\") : strlen(s->pat[i]);
}

static int common_prefix(struct q_select *s)
{
	if (s->n == 0)
		return 0;
	size_t len = literal_len(s, 0);
	for (size_t i = 1; i < s->n; i++) {
		size_t k = 0, max = literal_len(s, i);
		while (k < len && k < max && s->pat[0][k] == s->pat[i][k])
			k++;
		len = k;
	}
	if (len <= 1) /* "/" or nothing: every path */
		return 0;
	s->prefix = strndup(s->pat[0], len);
	return s->prefix ? 0 : -ENOMEM;
}

int q_select_init(struct q_select *s, char **words, size_t n)
{
	memset(s, 0, sizeof *s);
	s->pat = calloc(n + 1, sizeof *s->pat);
	s->is_glob = calloc(n + 1, sizeof *s->is_glob);
	s->hits = calloc(n + 1, sizeof *s->hits);
	if (!s->pat || !s->is_glob || !s->hits) {
		q_select_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++, s->n++) {
		s->is_glob[i] = has_glob(words[i]);
		s->pat[i] = s->is_glob[i] ? absolute_pattern(words[i]) : q_store_path_of(words[i]);
		if (!s->pat[i]) {
			q_select_free(s);
			return -ENOMEM;
		}
	}
	if (common_prefix(s) < 0) {
		q_select_free(s);
		return -ENOMEM;
	}
	return 0;
}

void q_select_free(struct q_select *s)
{
	free(s->prefix);
	for (size_t i = 0; s->pat && i < s->n; i++)
		free(s->pat[i]);
	free(s->pat);
	free(s->is_glob);
	free(s->hits);
	memset(s, 0, sizeof *s);
}

bool q_select_match(struct q_select *s, const char *path)
{
	if (s->n == 0)
		return true;
	bool any = false;
	for (size_t i = 0; i < s->n; i++) {
		bool m;
		if (s->is_glob[i]) {
			m = fnmatch(s->pat[i], path, 0) == 0;
		} else {
			size_t len = strlen(s->pat[i]);
			/* "/" holds everything; else the path or a directory above it. */
			m = strncmp(path, s->pat[i], len) == 0 &&
			    (path[len] == '\0' || path[len] == '/' || (len == 1 && s->pat[i][0] == '/'));
		}
		if (m) {
			s->hits[i]++;
			any = true;
		}
	}
	return any;
}

struct select_ctx {
	struct q_select *sel;
	int64_t limit, seen;
	store_item_fn fn;
	void *ctx;
};

/* Stops the store's iteration once the limit is reached; not an error. */
#define SELECT_ENOUGH (-ECANCELED)

static int select_row(const struct store_item_row *row, void *ctx)
{
	struct select_ctx *sc = ctx;
	if (!q_select_match(sc->sel, row->path))
		return 0;
	if (sc->limit > 0 && sc->seen >= sc->limit)
		return SELECT_ENOUGH;
	sc->seen++;
	return sc->fn(row, sc->ctx);
}

int q_select_list(struct store *st, const struct store_filter *f, struct q_select *sel,
		  store_item_fn fn, void *ctx)
{
	if (sel->n == 0)
		return store_list_items(st, f, fn, ctx);
	struct store_filter g = *f;
	struct select_ctx sc = { .sel = sel, .limit = f->limit, .fn = fn, .ctx = ctx };
	g.limit = 0;
	g.path_prefix = sel->prefix;
	int r = store_list_items(st, &g, select_row, &sc);
	return r == SELECT_ENOUGH ? 0 : r;
}

/* "2024-05-01", "2024-05-01 14:00", "2024-05-01T14:00:05", each with an
 * optional trailing Z (UTC). */
static int parse_date(const char *s, int64_t *ms)
{
	static const char *const formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
					       "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		struct tm tm = { 0 };
		const char *end = strptime(s, formats[i], &tm);
		if (!end || (*end && strcmp(end, "Z") != 0))
			continue;
		tm.tm_isdst = -1;
		time_t t = *end == 'Z' ? timegm(&tm) : mktime(&tm);
		if (t == (time_t)-1)
			return -EINVAL;
		*ms = (int64_t)t * 1000;
		return 0;
	}
	return -EINVAL;
}

int q_parse_since(const char *s, int64_t now_ms, int64_t *ms)
{
	uint64_t d;
	if (sr_parse_duration_ms(s, &d, NULL) == 0) {
		*ms = now_ms - (int64_t)d;
		return 0;
	}
	return parse_date(s, ms);
}

int q_parse_sort(const char *s, enum store_sort *out)
{
	static const char *const names[STORE_SORT_COUNT] = {
		[STORE_SORT_PATH] = "path",       [STORE_SORT_MTIME] = "mtime",
		[STORE_SORT_SIZE] = "size",       [STORE_SORT_WALL] = "wall",
		[STORE_SORT_OUTCOME] = "outcome", [STORE_SORT_ATTEMPTS] = "attempts",
		[STORE_SORT_UPDATED] = "updated",
	};
	for (int i = 0; i < STORE_SORT_COUNT; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum store_sort)i;
			return 0;
		}
	return -EINVAL;
}

void q_format_elapsed(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s / 3600 % 24));
}

void q_put_running(const struct store_item_row *row, const char *before, const char *after)
{
	if (row->running_since_ms < 0)
		return;
	char took[32];
	q_format_elapsed(q_now_ms() - row->running_since_ms, took, sizeof took);
	printf("%srunning for %s on ", before, took);
	sr_text_put_str(stdout, row->running_host ? row->running_host : "?", SR_TEXT_TERMINAL);
	fputs(after, stdout);
}

void q_put_retry_after(const struct store_item_row *row, const char *before, const char *after)
{
	int64_t now = q_now_ms();
	if (row->not_before_ms <= now || strcmp(row->status, "pending") != 0)
		return;
	char when[32];
	q_format_time(row->not_before_ms, when, sizeof when);
	/* "YYYY-MM-DD HH:MM:SS": the time alone when the wait is under a day */
	const char *shown = row->not_before_ms - now < 86400000 && strlen(when) > 11 ? when + 11 : when;
	printf("%sretry after %s%s", before, shown, after);
}
