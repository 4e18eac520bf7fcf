/* runner/query.c — sandrun status, list and show (read-only: they open the
 * store with STORE_RO and never write to it). retry and quarantine are in
 * query_edit.c, export in query_export.c. */
#include "runner/query.h"
#include "runner/common.h"
#include "runner/query_util.h"
#include "lib/text.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_Q_DB = 0x200, OPT_Q_JSON, OPT_Q_STATUS, OPT_Q_OUTCOME };

#define COMMON_LONGOPTS                                        \
	{ "db", required_argument, NULL, OPT_Q_DB },           \
	{ "json", no_argument, NULL, OPT_Q_JSON },             \
	{ "help", no_argument, NULL, 'h' }

#define COMMON_HELP                                                              \
	"      --db PATH   the store (default " QUERY_DEFAULT_DB ")\n"               \
	"      --json      machine-readable output\n"                                \
	"  -h, --help      show this help\n"
/* Only show takes a path: only its help names the status 1 for one. */
#define EXIT_HELP "Exit status: 0 ok, 2 usage error, 4 store error.\n"
#define SHOW_EXIT_HELP "Exit status: 0 ok, 1 the path is not in the store, 2 usage error,\n4 store error.\n"

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
	return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o,"
			 " s:{s:I, s:I, s:{s:f, s:I}, s:{s:f, s:I}}, s:o}",
			 "db", q_json_str(db), "items", "total", (json_int_t)s->items, "pending",
			 (json_int_t)s->pending, "running", (json_int_t)s->running,
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
	printf("\nitems      %lld: %lld pending, %lld running", (long long)s->items,
	       (long long)s->pending, (long long)s->running);
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
	"Usage: sandrun list [--status S] [--outcome O] [--db PATH] [--json]\n"
	"One line per item, ordered by path: status, outcome of the last attempt,\n"
	"attempts of its current budget, path and error. With --json, one JSON object\n"
	"per line (JSON Lines) with path, status, outcome, attempts, exit_code, signal,\n"
	"wall_ms, cpu_ms, peak_memory_bytes, error and result.\n\n"
	"      --status S   only items in status S (pending, running, done, failed)\n"
	"      --outcome O  only items whose last attempt ended in O (timeout, oom,\n"
	"                   damaged, ...)\n" COMMON_HELP
	EXIT_HELP;

/* The JSON object of one item, as list --json and show --json print it. */
static json_t *item_json(const struct store_item_row *row)
{
	json_t *o = json_object();
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
	json_t *o = item_json(row);
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

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "status", required_argument, NULL, OPT_Q_STATUS },
		{ "outcome", required_argument, NULL, OPT_Q_OUTCOME },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB;
	bool json = false;
	struct store_filter f = { 0 };
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_Q_DB: db = optarg; break;
		case OPT_Q_JSON: json = true; break;
		case OPT_Q_STATUS:
			if ((rc = q_check_status("list ", optarg)))
				return rc;
			f.status = optarg;
			break;
		case OPT_Q_OUTCOME:
			if ((rc = q_check_outcome("list ", optarg)))
				return rc;
			f.outcome = optarg;
			break;
		case 'h': fputs(list_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("list ", "bad option");
		}
	}
	if (optind < argc)
		return sr_usage_error("list ", "unexpected argument '%s'", argv[optind]);
	f.with_result = json;
	struct store *st;
	if ((rc = q_open(db, STORE_RO, &st)))
		return rc;
	struct list_ctx lc = { 0 };
	int r = store_list_items(st, &f, json ? list_print_json : list_print_text, &lc);
	rc = SR_EXIT_OK;
	if (lc.write_error) {
		sr_err("list: cannot write the output: %s", strerror(-lc.write_error));
		rc = SR_EXIT_SOME_FAILED;
	} else if (r < 0) {
		rc = q_store_error(st);
	}
	store_close(st);
	if (fflush(stdout) == EOF && rc == SR_EXIT_OK)
		rc = SR_EXIT_SOME_FAILED;
	return rc;
}

/* ---- show ------------------------------------------------------------ */

static const char show_usage[] =
	"Usage: sandrun show [--db PATH] [--json] PATH\n"
	"One item: its state, every attempt (outcome, resources, error, the tail of\n"
	"its stderr) and its result.\n\n" COMMON_HELP SHOW_EXIT_HELP;

struct show_ctx {
	bool json;
	json_t *item;      /* --json: the object being built */
	json_t *history;
	json_t *result;    /* text: printed last */
	bool result_is_current;
};

static int show_item(const struct store_item_row *row, void *ctx)
{
	struct show_ctx *sc = ctx;
	sc->result = q_json_result(row->result_kind, row->result, row->result_len);
	sc->result_is_current = strcmp(row->status, "done") == 0;
	if (sc->json) {
		sc->item = item_json(row);
		json_object_set_new(sc->item, "spec_key", q_json_str(row->spec_key));
		sc->history = json_array();
		json_object_set(sc->item, "history", sc->history);
		return 0;
	}
	sr_text_put_str(stdout, row->path, SR_TEXT_TERMINAL);
	printf("\n  status %s, last outcome %s, %d attempt%s in its current budget\n",
	       row->status, row->outcome ? row->outcome : "-", row->attempts,
	       row->attempts == 1 ? "" : "s");
	char when[32];
	q_format_time(row->mtime_ns < 0 ? -1 : row->mtime_ns / 1000000, when, sizeof when);
	if (row->size >= 0)
		printf("  size %lld bytes, modified %s\n", (long long)row->size, when);
	if (row->error && strcmp(row->status, "done") != 0) {
		fputs("  error: ", stdout);
		sr_text_put_str(stdout, row->error, SR_TEXT_TERMINAL);
		fputc('\n', stdout);
	}
	if (row->quarantined_to) {
		fputs("  quarantined to ", stdout);
		sr_text_put_str(stdout, row->quarantined_to, SR_TEXT_TERMINAL);
		fputc('\n', stdout);
	}
	return 0;
}

static int show_attempt(const struct store_attempt_row *a, void *ctx)
{
	struct show_ctx *sc = ctx;
	if (sc->json) {
		json_t *o = json_object();
		json_object_set_new(o, "attempt_no", json_integer(a->attempt_no));
		json_object_set_new(o, "run", json_integer(a->run_id));
		json_object_set_new(o, "counted", json_boolean(a->counted));
		json_object_set_new(o, "started_at", q_json_time(a->started_ms));
		json_object_set_new(o, "ended_at", q_json_time(a->ended_ms));
		json_object_set_new(o, "outcome", q_json_str(a->outcome));
		json_object_set_new(o, "exit_code", q_json_int_or_null(a->exit_code));
		json_object_set_new(o, "signal", a->signal > 0 ? json_integer(a->signal) : json_null());
		json_object_set_new(o, "syscall", q_json_str(a->syscall));
		json_object_set_new(o, "wall_ms", q_json_int_or_null(a->wall_ms));
		json_object_set_new(o, "cpu_ms", q_json_int_or_null(a->cpu_ms));
		json_object_set_new(o, "peak_memory_bytes", q_json_int_or_null(a->peak_memory_bytes));
		json_object_set_new(o, "oom_kills", q_json_int_or_null(a->oom_kills));
		json_object_set_new(o, "error", q_json_str(a->error));
		json_object_set_new(o, "stderr_tail",
				    a->stderr_tail ? q_json_bytes(a->stderr_tail, a->stderr_len)
						   : json_null());
		return json_array_append_new(sc->history, o) == 0 ? 0 : -ENOMEM;
	}
	char from[32], until[32], mem[32];
	q_format_time(a->started_ms, from, sizeof from);
	q_format_time(a->ended_ms, until, sizeof until);
	printf("attempt %d (run %lld%s): %s to %s: %s\n", a->attempt_no, (long long)a->run_id,
	       a->counted ? "" : ", not counted", from, a->ended_ms < 0 ? "(running)" : until,
	       a->outcome ? a->outcome : "running");
	if (a->wall_ms >= 0) {
		q_format_bytes((double)a->peak_memory_bytes, mem, sizeof mem);
		printf("  wall %.3f s, cpu %.3f s, peak memory %s, OOM kills %lld", a->wall_ms / 1000.0,
		       a->cpu_ms / 1000.0, a->peak_memory_bytes >= 0 ? mem : "-",
		       (long long)(a->oom_kills < 0 ? 0 : a->oom_kills));
		if (a->exit_code >= 0)
			printf(", exit status %d", a->exit_code);
		if (a->signal > 0)
			printf(", signal %d", a->signal);
		if (a->syscall) {
			fputs(", syscall ", stdout);
			sr_text_put_str(stdout, a->syscall, SR_TEXT_TERMINAL);
		}
		fputc('\n', stdout);
	}
	if (a->error) {
		fputs("  error: ", stdout);
		sr_text_put_str(stdout, a->error, SR_TEXT_TERMINAL);
		fputc('\n', stdout);
	}
	if (a->stderr_tail && a->stderr_len) {
		printf("  stderr (last %zu bytes):\n    | ", a->stderr_len);
		/* One "| " prefix per line, every byte escaped. */
		const char *s = a->stderr_tail, *end = s + a->stderr_len;
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
			sr_text_put(stdout, s, n, SR_TEXT_TERMINAL_MULTILINE);
			s += n;
			if (nl && ++s < end)
				fputs("\n    | ", stdout);
		}
		fputc('\n', stdout);
	}
	return 0;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	const char *db = QUERY_DEFAULT_DB;
	struct show_ctx sc = { 0 };
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_Q_DB: db = optarg; break;
		case OPT_Q_JSON: sc.json = true; break;
		case 'h': fputs(show_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("show ", "bad option");
		}
	}
	if (argc - optind != 1)
		return sr_usage_error("show ", "give exactly one PATH");
	char *path = q_store_path_of(argv[optind]);
	if (!path) {
		sr_err("show: out of memory");
		return SR_EXIT_STORE;
	}
	struct store *st;
	if ((rc = q_open(db, STORE_RO, &st))) {
		free(path);
		return rc;
	}
	int r = store_show_item(st, path, show_item, show_attempt, &sc);
	if (r == -ENOENT) {
		/* the path may be pasted from a hostile tree: escaped */
		char shown[4 * 1024];
		sr_text_escape_name(path, strlen(path), shown, sizeof shown);
		sr_err("show: %s is not in the store %s (list shows what is)", shown, db);
		rc = SR_EXIT_SOME_FAILED;
	} else if (r < 0) {
		rc = q_store_error(st);
	} else if (sc.json) {
		json_object_set(sc.item, "result", sc.result);
		q_json_print(stdout, sc.item, JSON_INDENT(2));
	} else if (!json_is_null(sc.result)) {
		printf("result%s:\n", sc.result_is_current ? "" : " (of an earlier ok attempt)");
		char *text = json_dumps(sc.result, JSON_INDENT(2) | JSON_ENCODE_ANY);
		if (text)
			sr_text_put(stdout, text, strlen(text),
				    SR_TEXT_KEEP_NEWLINES | SR_TEXT_KEEP_BACKSLASH);
		fputc('\n', stdout);
		free(text);
	}
	json_decref(sc.item);
	json_decref(sc.history);
	json_decref(sc.result);
	store_close(st);
	free(path);
	return rc;
}
