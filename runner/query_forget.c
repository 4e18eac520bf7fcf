/* runner/query_forget.c — sandrun forget (remove items from the store) and
 * sandrun gc (compact the store). */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/query_select.h"
#include "runner/query_util.h"
#include "lib/text.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_F_DB = 0x200, OPT_F_JSON, OPT_F_DRY_RUN };

/* ---- forget ---------------------------------------------------------- */

static const char forget_usage[] =
	"Usage: sandrun forget [--dry-run] [--db PATH] [--json] PATH|GLOB...\n"
	"Remove items from the store, with every attempt and result they have: the\n"
	"next `sandrun run` that names them queues them as new. PATH and GLOB choose\n"
	"items as for `sandrun list` (a directory: every item below it). An item\n"
	"that is running is refused while its runner lives; one whose runner died\n"
	"is removed. The input files are not touched.\n\n"
	"      --dry-run    print what would be removed; change nothing\n"
	"      --db PATH    the store (default " QUERY_DEFAULT_DB ")\n"
	"      --json       print {\"forgotten\": N, \"dry_run\": B, \"items\":\n"
	"                   [{path, status, action}], \"not_found\": [WORD...]}\n"
	"  -h, --help       show this help\n"
	"Exit status: 0 ok, 1 a word chose no item or an item was refused,\n"
	"2 usage error, 4 store error.\n";

struct forget_ctx {
	bool json, dry_run;
	char **paths;
	size_t n, cap;
	json_t *items;
	int refused;
};

static int collect_path(const struct store_item_row *row, void *ctx)
{
	struct forget_ctx *fc = ctx;
	if (fc->n == fc->cap) {
		size_t cap = fc->cap ? 2 * fc->cap : 64;
		char **v = realloc(fc->paths, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		fc->paths = v;
		fc->cap = cap;
	}
	if (!(fc->paths[fc->n] = strdup(row->path)))
		return -ENOMEM;
	fc->n++;
	return 0;
}

static void forget_report(const char *path, const char *status, bool forgotten, void *ctx)
{
	struct forget_ctx *fc = ctx;
	const char *action = !status      ? "gone"
			     : !forgotten ? "refused"
			     : fc->dry_run ? "would_forget"
					   : "forgotten";
	fc->refused += status && !forgotten;
	if (fc->json) {
		json_array_append_new(fc->items, json_pack("{s:o, s:o, s:s}", "path", q_json_str(path),
							   "status", q_json_str(status), "action",
							   action));
		return;
	}
	FILE *f = status && !forgotten ? stderr : stdout;
	if (f == stderr)
		fputs("sandrun: forget: refused ", f);
	else
		fputs(!status ? "already gone " : fc->dry_run ? "would forget " : "forgot ", f);
	sr_text_put_str(f, path, SR_TEXT_TERMINAL);
	if (status && !forgotten)
		fputs(": running under a live runner (stop it first, or wait for it)", f);
	else if (status)
		fprintf(f, " (%s)", status);
	fputc('\n', f);
}

/* The words that chose nothing: on stderr, or into `missing`. */
static int report_unmatched(const struct q_select *sel, char **words, json_t *missing)
{
	int n = 0;
	for (size_t i = 0; i < sel->n; i++) {
		if (sel->hits[i])
			continue;
		n++;
		if (missing) {
			json_array_append_new(missing, q_json_str(words[i]));
			continue;
		}
		fputs("sandrun: forget: ", stderr);
		sr_text_put_str(stderr, sel->pat[i], SR_TEXT_TERMINAL);
		fputs(": no item in the store\n", stderr);
	}
	return n;
}

int cmd_forget(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_F_DB },
		{ "json", no_argument, NULL, OPT_F_JSON },
		{ "dry-run", no_argument, NULL, OPT_F_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB;
	struct forget_ctx fc = { 0 };
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_F_DB: db = optarg; break;
		case OPT_F_JSON: fc.json = true; break;
		case OPT_F_DRY_RUN: fc.dry_run = true; break;
		case 'h': fputs(forget_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("forget ", "bad option");
		}
	}
	if (argc == optind)
		return sr_usage_error("forget ", "give the PATHs (or GLOBs) of the items to forget");
	struct q_select sel;
	if (q_select_init(&sel, argv + optind, (size_t)(argc - optind)) < 0) {
		sr_err("forget: out of memory");
		return SR_EXIT_STORE;
	}
	struct store *st;
	/* A dry run never writes: read-only, so it works on a store it may
	 * not change. */
	if ((rc = q_open(db, fc.dry_run ? STORE_RO : STORE_RW, &st))) {
		q_select_free(&sel);
		return rc;
	}
	struct store_filter all = { 0 };
	int64_t n = 0;
	int r = q_select_list(st, &all, &sel, collect_path, &fc);
	fc.items = json_array();
	if (r == 0 && fc.n)
		r = store_forget(st, (const char *const *)fc.paths, fc.n, fc.dry_run, forget_report,
				 &fc, &n);
	if (r < 0 && !store_errmsg(st)[0]) {
		sr_err("forget: out of memory");
		rc = SR_EXIT_STORE;
	} else if (r < 0) {
		rc = q_store_error(st);
	} else {
		json_t *missing = fc.json ? json_array() : NULL;
		int unmatched = report_unmatched(&sel, argv + optind, missing);
		if (fc.json) {
			json_t *v = json_pack("{s:I, s:b, s:O, s:o}", "forgotten", (json_int_t)n,
					      "dry_run", fc.dry_run, "items", fc.items, "not_found",
					      missing);
			q_json_print(stdout, v, JSON_COMPACT);
			json_decref(v);
		} else {
			printf("%lld item%s %s\n", (long long)n, n == 1 ? "" : "s",
			       fc.dry_run ? "would be forgotten (dry run: nothing changed)"
					  : "forgotten");
		}
		rc = unmatched || fc.refused ? SR_EXIT_SOME_FAILED : SR_EXIT_OK;
	}
	for (size_t i = 0; i < fc.n; i++)
		free(fc.paths[i]);
	free(fc.paths);
	json_decref(fc.items);
	store_close(st);
	q_select_free(&sel);
	return rc;
}

/* ---- gc -------------------------------------------------------------- */

static const char gc_usage[] =
	"Usage: sandrun gc [--db PATH] [--json]\n"
	"Compact the store and refresh the query planner's statistics. Nothing that\n"
	"a command shows is deleted (to remove items, use `sandrun forget`).\n"
	"SQLite: checkpoint the WAL into the file and truncate it, VACUUM (rewrite\n"
	"the file without its free pages), checkpoint again, PRAGMA optimize; it\n"
	"waits for other connections' writes like any writer. PostgreSQL: VACUUM\n"
	"(ANALYZE) of sandrun's tables (space is freed for reuse; the files seldom\n"
	"shrink). Prints the size before and after.\n\n"
	"      --db PATH    the store (default " QUERY_DEFAULT_DB ")\n"
	"      --json       print {db, backend, bytes_before, bytes_after}\n"
	"  -h, --help       show this help\n"
	"Exit status: 0 ok, 2 usage error, 4 store error.\n";

int cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_F_DB },
		{ "json", no_argument, NULL, OPT_F_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB;
	bool json = false;
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_F_DB: db = optarg; break;
		case OPT_F_JSON: json = true; break;
		case 'h': fputs(gc_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("gc ", "bad option");
		}
	}
	if (optind < argc)
		return sr_usage_error("gc ", "unexpected argument '%s'", argv[optind]);
	struct store *st;
	if ((rc = q_open(db, STORE_RW, &st)))
		return rc;
	int64_t before, after;
	int r = store_gc(st, &before, &after);
	const char *backend = store_is_postgresql(db) ? "postgresql" : "sqlite";
	if (r < 0) {
		rc = q_store_error(st);
	} else if (json) {
		/* A PostgreSQL password stays out of the output. */
		char *shown = store_redact_uri(db);
		json_t *v = json_pack("{s:o, s:s, s:I, s:I}", "db", q_json_str(shown ? shown : ""),
				      "backend", backend, "bytes_before", (json_int_t)before,
				      "bytes_after", (json_int_t)after);
		q_json_print(stdout, v, JSON_COMPACT);
		json_decref(v);
		free(shown);
	} else {
		char b[32], a[32];
		q_format_bytes((double)before, b, sizeof b);
		q_format_bytes((double)after, a, sizeof a);
		printf("%s store compacted: %s before, %s after\n", backend, b, a);
	}
	store_close(st);
	return rc;
}
