/* runner/query_select.h — choosing items on the command line of the query
 * commands (list, show, forget): paths and globs, --since, --sort, --limit,
 * and the listing that applies them. docs/runner.md "Query commands". */
#ifndef SANDRUN_QUERY_SELECT_H
#define SANDRUN_QUERY_SELECT_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The PATH arguments of list and forget. A word with a glob character
 * (* ? [) is a pattern, made absolute against the current directory (a
 * leading ./ dropped) and matched with fnmatch(3) without FNM_PATHNAME:
 * '*' also matches '/', so '*.flac' is every FLAC below here. Any other
 * word is a path as the store holds it (q_store_path_of): that item, or
 * every item below it when it names a directory. */
struct q_select {
	char **pat;        /* absolute patterns or paths */
	bool *is_glob;
	size_t *hits;      /* items each word matched */
	size_t n;
	char *prefix;      /* the bytes every chosen path begins with (the
			      words' common literal start), or NULL: the store
			      reads only that range of its path index */
};
/* 0, or -ENOMEM. */
int q_select_init(struct q_select *s, char **words, size_t n);
void q_select_free(struct q_select *s);
/* Whether `path` is chosen (always, with no words); counts the hit. */
bool q_select_match(struct q_select *s, const char *path);

/* List the items of f that sel chooses, at most f->limit of them (0: no
 * limit), calling fn on each. The limit goes to the store when there is
 * no word to match (it then stops early), else it counts matches here. */
int q_select_list(struct store *st, const struct store_filter *f, struct q_select *sel,
		  store_item_fn fn, void *ctx);

/* --since: a duration ago (lib/duration.h: 90s, 1h30m, 2d) or a date in
 * local time, "2024-05-01", "2024-05-01 14:00[:05]" or with a T; a
 * trailing Z means UTC. *ms: milliseconds since the epoch. 0 or -EINVAL. */
int q_parse_since(const char *s, int64_t now_ms, int64_t *ms);
/* --sort: path mtime size wall outcome attempts updated. 0 or -EINVAL. */
int q_parse_sort(const char *s, enum store_sort *out);
#define Q_SORT_NAMES "path, mtime, size, wall, outcome, attempts, updated"
/* "45s", "12m05s", "3h20m", "2d04h": an elapsed time for a list line. */
void q_format_elapsed(int64_t ms, char *buf, size_t len);

/* For a running item: before, "running for 3m05s on HOST" (escaped),
 * after, on stdout; nothing for any other. */
void q_put_running(const struct store_item_row *row, const char *before, const char *after);
/* A pending item held back by --retry-delay: before "retry after 12:03:05"
 * after (the date too when it is not within a day); nothing otherwise. */
void q_put_retry_after(const struct store_item_row *row, const char *before, const char *after);

#endif
