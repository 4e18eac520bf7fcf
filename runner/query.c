/* runner/query.c — sandrun status, list and show (read-only: they open the
 * store with STORE_RO and never write to it). show is in query_show.c,
 * retry and quarantine in query_edit.c, forget and gc in query_forget.c,
 * export in query_export.c. */
#include "runner/query.h"
#include "runner/common.h"
#include "runner/query_util.h"
#include "runner/query_select.h"
#include "lib/duration.h"
#include "lib/text.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_Q_DB = 0x200, OPT_Q_JSON, OPT_Q_STATUS, OPT_Q_OUTCOME, OPT_Q_SINCE, OPT_Q_RUN, OPT_Q_SORT };

#define COMMON_LONGOPTS                                        \
	{ "db", required_argument, NULL, OPT_Q_DB },           \
	{ "json", no_argument, NULL, OPT_Q_JSON },             \
	{ "help", no_argument, NULL, 'h' }

#define COMMON_HELP                                                              \
	"      --db PATH   the store (default " QUERY_DEFAULT_DB ")\n"               \
	"      --json      machine-readable output\n"                                \
	"  -h, --help      show this help\n"
#define EXIT_HELP "Exit status: 0 ok, 2 usage error, 4 store error.\n"

/* ---- status ---------------------------------------------------------- */

static const char status_usage[] =
	"Usage: sandrun status [--db PATH] [--json]\n"
	"Counts of items by status and by the outcome of their last attempt, mean and\n"
	"max wall time and peak memory of the attempts, throughput of the last run.\n\n" COMMON_HELP EXIT_HELP;

static json_t *status_json(const char *db, const struct store_status *s)
{
	json_t *outcomes = json_object();
	for (size_t i = 0; i < s->noutcomes; i++)
		if (s->outcomes[i].name[0])
			json_object_set_new(outcomes, s->outcomes[i].name,
					    json_integer(s->outcomes[i].n));
	json_t *last = json_null();
	if (s->last_run_id) {
		last = json_pack("{s:I, s:s?, s:s, s:o, s:o, s:I, s:f}", "id",
				 (json_int_t)s->last_run_id, "version", s->last_run_version, "how",
				 s->last_run_how ? s->last_run_how : "running", "started_at",
				 q_json_time(s->last_run_started_ms), "until",
				 q_json_time(s->last_run_until_ms), "finished_attempts",
				 (json_int_t)s->last_run_finished, "files_per_second",
				 s->last_run_per_second);
	}
	return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o,"
			 " s:{s:I, s:I, s:{s:f, s:I}, s:{s:f, s:I}}, s:o}",
			 "db", q_json_str(db), "items", "total", (json_int_t)s->items, "pending",
			 (json_int_t)s->pending, "pending_delayed", (json_int_t)s->pending_delayed,
			 "running", (json_int_t)s->running,
			 "running_orphaned", (json_int_t)s->running_orphaned, "done",
			 (json_int_t)s->done, "damaged", (json_int_t)s->damaged, "failed",
			 (json_int_t)s->failed, "outcomes", outcomes,
			 "attempts", "total", (json_int_t)s->attempts, "measured",
			 (json_int_t)s->measured, "wall_ms", "mean", s->wall_ms_mean, "max",
			 (json_int_t)s->wall_ms_max, "peak_memory_bytes", "mean",
			 s->peak_memory_mean, "max", (json_int_t)s->peak_memory_max, "last_run",
			 last);
}

static void status_text(const char *db, const struct store_status *s)
{
	fputs("store      ", stdout);
	sr_text_put_str(stdout, db, SR_TEXT_TERMINAL);
	printf("\nitems      %lld: %lld pending", (long long)s->items, (long long)s->pending);
	if (s->pending_delayed)
		printf(" (%lld of them waiting for --retry-delay)", (long long)s->pending_delayed);
	printf(", %lld running", (long long)s->running);
	if (s->running_orphaned)
		printf(" (%lld of them with a dead runner; the next run takes them back)",
		       (long long)s->running_orphaned);
	printf(", %lld done", (long long)s->done);
	if (s->damaged)
		printf(" (%lld of them damaged: 'sandrun list --outcome damaged')", (long long)s->damaged);
	printf(", %lld failed\n", (long long)s->failed);
	fputs("outcomes  ", stdout);
	bool any = false;
	for (size_t i = 0; i < s->noutcomes; i++) {
		if (!s->outcomes[i].name[0])
			continue;
		printf("%s %s %lld", any ? "," : "", s->outcomes[i].name,
		       (long long)s->outcomes[i].n);
		any = true;
	}
	printf("%s\n", any ? "" : " (no attempt finished yet)");
	char mean[32], max[32];
	q_format_bytes(s->peak_memory_mean, mean, sizeof mean);
	q_format_bytes((double)s->peak_memory_max, max, sizeof max);
	printf("attempts   %lld (%lld measured): wall time mean %.3f s, max %.3f s;"
	       " peak memory mean %s, max %s\n",
	       (long long)s->attempts, (long long)s->measured, s->wall_ms_mean / 1000.0,
	       (double)s->wall_ms_max / 1000.0, mean, max);
	if (!s->last_run_id) {
		puts("last run   none");
		return;
	}
	char from[32], until[32];
	q_format_time(s->last_run_started_ms, from, sizeof from);
	q_format_time(s->last_run_until_ms, until, sizeof until);
	printf("last run   #%lld (sandrun ", (long long)s->last_run_id);
	sr_text_put_str(stdout, s->last_run_version, SR_TEXT_TERMINAL);
	/* The run is what was lost, not its attempts: say so before the count. */
	const char *how = !s->last_run_how ? "still running"
			  : strcmp(s->last_run_how, "lost") == 0 ? "lost (its runner died without ending it)"
								 : s->last_run_how;
	printf(") %s to %s, %s; %lld attempt%s finished, %.2f files/s\n", from, until, how,
	       (long long)s->last_run_finished, s->last_run_finished == 1 ? "" : "s", s->last_run_per_second);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	const char *db = QUERY_DEFAULT_DB;
	bool json = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_Q_DB: db = optarg; break;
		case OPT_Q_JSON: json = true; break;
		case 'h': fputs(status_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("status ", "bad option");
		}
	}
	if (optind < argc)
		return sr_usage_error("status ", "unexpected argument '%s'", argv[optind]);
	struct store *st;
	int rc = q_open(db, STORE_RO, &st);
	if (rc)
		return rc;
	struct store_status s;
	int r = store_get_status(st, &s);
	if (r < 0) {
		rc = q_store_error(st);
		store_close(st);
		return rc;
	}
	if (json) {
		json_t *v = status_json(db, &s);
		q_json_print(stdout, v, JSON_COMPACT);
		json_decref(v);
	} else {
		status_text(db, &s);
	}
	store_status_free(&s);
	store_close(st);
	return SR_EXIT_OK;
}

/* ---- list ------------------------------------------------------------ */

static const char list_usage[] =
	"Usage: sandrun list [OPTIONS] [PATH|GLOB...]\n"
	"One line per item: status, outcome of the last attempt, attempts of its\n"
	"current budget, path and error; a running item also shows how long its\n"
	"attempt has run and on which host. With --json, one JSON object per line\n"
	"(JSON Lines) with id, path, status, outcome, attempts, exit_code, signal,\n"
	"wall_ms, cpu_ms, peak_memory_bytes, error, result, running_host,\n"
	"running_since and not_before (a retry held back by --retry-delay waits\n"
	"until then; the text says \"retry after TIME\").\n"
	"A PATH chooses that item, or every item below it when it is a directory;\n"
	"a GLOB (quote it: '*.flac') is matched against the stored absolute paths,\n"
	"relative to the current directory, and its * also matches '/'.\n\n"
	"      --status S   only items in status S (pending, running, done, failed)\n"
	"      --outcome O  only items whose last attempt ended in O (timeout, oom,\n"
	"                   damaged, ...)\n"
	"      --since T    only items changed since T: a duration ago (90s, 1h30m,\n"
	"                   2d) or a date (2024-05-01, '2024-05-01 14:00', ...Z for UTC)\n"
	"      --run N      only items with an attempt in run N (status: last run)\n"
	"      --sort KEY   path (default), mtime (newest first), size (largest\n"
	"                   first), wall (longest last attempt first), outcome,\n"
	"                   attempts (most first), updated (latest change first)\n"
	"  -n, --limit N    at most N items\n" COMMON_HELP EXIT_HELP;

/* The JSON object of one item, as list --json and show --json print it. */
json_t *q_item_json(const struct store_item_row *row)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(row->id));
	json_object_set_new(o, "path", q_json_str(row->path));
	json_object_set_new(o, "status", json_string(row->status));
	json_object_set_new(o, "outcome", row->outcome ? json_string(row->outcome) : json_null());
	json_object_set_new(o, "attempts", json_integer(row->attempts));
	json_object_set_new(o, "exit_code", q_json_int_or_null(row->has_attempt ? row->exit_code : -1));
	json_object_set_new(o, "signal", row->signal > 0 ? json_integer(row->signal) : json_null());
	json_object_set_new(o, "syscall", q_json_str(row->syscall));
	json_object_set_new(o, "wall_ms", q_json_int_or_null(row->wall_ms));
	json_object_set_new(o, "cpu_ms", q_json_int_or_null(row->cpu_ms));
	json_object_set_new(o, "peak_memory_bytes", q_json_int_or_null(row->peak_memory_bytes));
	json_object_set_new(o, "oom_kills", q_json_int_or_null(row->oom_kills));
	json_object_set_new(o, "error", q_json_str(row->error));
	json_object_set_new(o, "result", q_json_result(row->result_kind, row->result, row->result_len));
	json_object_set_new(o, "size", q_json_int_or_null(row->size));
	json_object_set_new(o, "mtime_ns", q_json_int_or_null(row->mtime_ns));
	json_object_set_new(o, "quarantined_to", q_json_str(row->quarantined_to));
	json_object_set_new(o, "running_host", q_json_str(row->running_host));
	json_object_set_new(o, "running_since", q_json_time(row->running_since_ms));
	/* --retry-delay: not claimed before this time (null: no wait) */
	json_object_set_new(o, "not_before", q_json_time(strcmp(row->status, "pending") == 0
								 ? row->not_before_ms : -1));
	return o;
}

/* Output errors (a closed pipe, a full disk) stop the listing; they are
 * told apart from store errors by this flag. */
struct list_ctx {
	int write_error;
};

static int list_print_json(const struct store_item_row *row, void *ctx)
{
	struct list_ctx *lc = ctx;
	json_t *o = q_item_json(row);
	int r = q_json_print(stdout, o, JSON_COMPACT);
	json_decref(o);
	if (r < 0)
		lc->write_error = r;
	return r;
}

static int list_print_text(const struct store_item_row *row, void *ctx)
{
	printf("%-7s %-12s %3d  ", row->status, row->outcome ? row->outcome : "-", row->attempts);
	sr_text_put_str(stdout, row->path, SR_TEXT_TERMINAL);
	if (row->error && strcmp(row->status, "done") != 0) {
		fputs(": ", stdout);
		sr_text_put_str(stdout, row->error, SR_TEXT_TERMINAL);
	}
	q_put_running(row, " [", "]");
	q_put_retry_after(row, " [", "]");
	if (row->quarantined_to) {
		fputs(" [quarantined to ", stdout);
		sr_text_put_str(stdout, row->quarantined_to, SR_TEXT_TERMINAL);
		fputc(']', stdout);
	}
	if (fputc('\n', stdout) == EOF) {
		((struct list_ctx *)ctx)->write_error = -EIO;
		return -EIO;
	}
	return 0;
}

/* The filters of list, parsed; 0 or the exit code of a usage error. */
static int list_option(int c, struct store_filter *f)
{
	int rc;
	char *end;
	switch (c) {
	case OPT_Q_STATUS:
		if ((rc = q_check_status("list ", optarg)))
			return rc;
		f->status = optarg;
		return 0;
	case OPT_Q_OUTCOME:
		if ((rc = q_check_outcome("list ", optarg)))
			return rc;
		f->outcome = optarg;
		return 0;
	case OPT_Q_SINCE:
		if (q_parse_since(optarg, q_now_ms(), &f->since_ms) < 0)
			return sr_usage_error("list ", "--since '%s': give a duration ago (" SR_DURATION_HINT
						       ") or a date like 2024-05-01 or '2024-05-01 14:00'",
					      optarg);
		return 0;
	case OPT_Q_RUN:
		f->run_id = strtoll(optarg, &end, 10);
		if (*optarg < '0' || *optarg > '9' || *end || f->run_id <= 0)
			return sr_usage_error("list ", "--run '%s': give a run number (status shows the last)",
					      optarg);
		return 0;
	case OPT_Q_SORT:
		if (q_parse_sort(optarg, &f->sort) < 0)
			return sr_usage_error("list ", "--sort '%s': give one of " Q_SORT_NAMES, optarg);
		return 0;
	case 'n':
		f->limit = strtoll(optarg, &end, 10);
		if (*optarg < '0' || *optarg > '9' || *end || f->limit <= 0)
			return sr_usage_error("list ", "--limit '%s': give a positive number", optarg);
		return 0;
	}
	return sr_usage_error("list ", "bad option");
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "status", required_argument, NULL, OPT_Q_STATUS },
		{ "outcome", required_argument, NULL, OPT_Q_OUTCOME },
		{ "since", required_argument, NULL, OPT_Q_SINCE },
		{ "run", required_argument, NULL, OPT_Q_RUN },
		{ "sort", required_argument, NULL, OPT_Q_SORT },
		{ "limit", required_argument, NULL, 'n' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB;
	bool json = false;
	struct store_filter f = { 0 };
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hn:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_Q_DB: db = optarg; break;
		case OPT_Q_JSON: json = true; break;
		case 'h': fputs(list_usage, stdout); return SR_EXIT_OK;
		default:
			if ((rc = list_option(c, &f)))
				return rc;
		}
	}
	f.with_result = json;
	struct q_select sel;
	if (q_select_init(&sel, argv + optind, (size_t)(argc - optind)) < 0) {
		sr_err("list: out of memory");
		return SR_EXIT_STORE;
	}
	struct store *st;
	if ((rc = q_open(db, STORE_RO, &st))) {
		q_select_free(&sel);
		return rc;
	}
	struct list_ctx lc = { 0 };
	int r = q_select_list(st, &f, &sel, json ? list_print_json : list_print_text, &lc);
	rc = SR_EXIT_OK;
	if (lc.write_error) {
		sr_err("list: cannot write the output: %s", strerror(-lc.write_error));
		rc = SR_EXIT_SOME_FAILED;
	} else if (r < 0) {
		rc = q_store_error(st);
	}
	store_close(st);
	q_select_free(&sel);
	if (fflush(stdout) == EOF && rc == SR_EXIT_OK)
		rc = SR_EXIT_SOME_FAILED;
	return rc;
}
