/* runner/query_show.c — sandrun show: items by path or by id, each with
 * every attempt and its result (read-only: STORE_RO). */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/query_util.h"
#include "runner/query_select.h"
#include "lib/text.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_S_DB = 0x200, OPT_S_JSON, OPT_S_ID };

/* ---- show ------------------------------------------------------------ */

static const char show_usage[] =
	"Usage: sandrun show [--db PATH] [--json] [--id] PATH|ID...\n"
	"Each item: its state, every attempt (outcome, resources, error, the tail of\n"
	"its stderr; for an attempt that did not end ok, the first 4 KiB the job\n"
	"printed on stdout) and its result. An item is named by its path, or by its id\n"
	"(list --json and show print it): a word of digits is the path when the\n"
	"store holds that path, else the id; --id makes every word an id, and\n"
	"./42 is always a path. With --json, one object for one item, an array\n"
	"for several (in the order given; those not in the store are left out).\n\n"
	"      --id        every argument is an item id\n"
	"      --db PATH   the store (default " QUERY_DEFAULT_DB ")\n"
	"      --json      machine-readable output\n"
	"  -h, --help      show this help\n"
	"Exit status: 0 ok, 1 some item is not in the store, 2 usage error,\n"
	"4 store error.\n";

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
		sc->item = q_item_json(row);
		json_object_set_new(sc->item, "spec_key", q_json_str(row->spec_key));
		sc->history = json_array();
		json_object_set(sc->item, "history", sc->history);
		return 0;
	}
	sr_text_put_str(stdout, row->path, SR_TEXT_TERMINAL);
	printf("\n  item %lld, status %s, last outcome %s, %d attempt%s in its current budget\n",
	       (long long)row->id, row->status, row->outcome ? row->outcome : "-", row->attempts,
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
	q_put_running(row, "  ", "\n");
	q_put_retry_after(row, "  ", " (--retry-delay)\n");
	if (row->quarantined_to) {
		fputs("  quarantined to ", stdout);
		sr_text_put_str(stdout, row->quarantined_to, SR_TEXT_TERMINAL);
		fputc('\n', stdout);
	}
	return 0;
}

/* What a job wrote (untrusted bytes): a heading with its size, then one
 * "| " prefix per line, every byte through the text module. */
static void put_job_text(const char *heading, const void *bytes, size_t len)
	__attribute__((format(printf, 1, 0)));
static void put_job_text(const char *heading, const void *bytes, size_t len)
{
	fputs("  ", stdout);
	printf(heading, len);
	fputs("\n    | ", stdout);
	const char *s = bytes, *end = s + len;
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
		json_object_set_new(o, "stdout_head",
				    a->output_head ? q_json_bytes(a->output_head, a->output_len) : json_null());
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
	if (a->output_head && a->output_len)
		put_job_text("stdout (first %zu bytes):", a->output_head, a->output_len);
	if (a->stderr_tail && a->stderr_len)
		put_job_text("stderr (last %zu bytes):", a->stderr_tail, a->stderr_len);
	return 0;
}

/* Whether w is a plain decimal item id. */
static bool is_id(const char *w, int64_t *id)
{
	char *end;
	if (*w < '0' || *w > '9')
		return false;
	errno = 0;
	long long v = strtoll(w, &end, 10);
	if (*end || errno || v <= 0)
		return false;
	*id = v;
	return true;
}

/* One word: by path, or by id (see show_usage). -ENOENT when neither. */
static int show_one(struct store *st, const char *w, bool by_id, struct show_ctx *sc)
{
	int64_t id = 0;
	bool digits = is_id(w, &id);
	if (by_id)
		return digits ? store_show_item_id(st, id, show_item, show_attempt, sc) : -ENOENT;
	char *path = q_store_path_of(w);
	if (!path)
		return -ENOMEM;
	int r = store_show_item(st, path, show_item, show_attempt, sc);
	free(path);
	if (r == -ENOENT && digits)
		r = store_show_item_id(st, id, show_item, show_attempt, sc);
	return r;
}

static void show_missing(const char *w, bool by_id, const char *db)
{
	/* the word may be pasted from a hostile tree: escaped */
	char shown[4 * 1024];
	if (by_id) {
		sr_text_escape_name(w, strlen(w), shown, sizeof shown);
		sr_err("show: no item with id %s in the store %s (list --json shows ids)", shown, db);
		return;
	}
	char *path = q_store_path_of(w);
	const char *p = path ? path : w;
	sr_text_escape_name(p, strlen(p), shown, sizeof shown);
	sr_err("show: %s is not in the store %s (list shows what is)", shown, db);
	free(path);
}

/* Ready for the next item. */
static void show_reset(struct show_ctx *sc)
{
	json_decref(sc->item);
	json_decref(sc->history);
	json_decref(sc->result);
	sc->item = sc->history = sc->result = NULL;
}

/* Text: the result of the item just shown. JSON: the item, complete. */
static int show_finish(struct show_ctx *sc, json_t *all)
{
	int r = 0;
	if (sc->json) {
		json_object_set(sc->item, "result", sc->result);
		r = all ? json_array_append(all, sc->item) : q_json_print(stdout, sc->item, JSON_INDENT(2));
	} else if (!json_is_null(sc->result)) {
		printf("result%s:\n", sc->result_is_current ? "" : " (of an earlier ok attempt)");
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		if (mem && (q_json_write(mem, sc->result, 2) < 0) + fclose(mem) == 0)
			sr_text_put(stdout, text, len, SR_TEXT_KEEP_NEWLINES | SR_TEXT_KEEP_BACKSLASH);
		fputc('\n', stdout);
		free(text);
	}
	show_reset(sc);
	return r;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_S_DB },
		{ "json", no_argument, NULL, OPT_S_JSON },
		{ "id", no_argument, NULL, OPT_S_ID },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB;
	struct show_ctx sc = { 0 };
	bool by_id = false;
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_S_DB: db = optarg; break;
		case OPT_S_JSON: sc.json = true; break;
		case OPT_S_ID: by_id = true; break;
		case 'h': fputs(show_usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("show ", "bad option");
		}
	}
	if (argc == optind)
		return sr_usage_error("show ", "give a PATH or an item ID");
	struct store *st;
	if ((rc = q_open(db, STORE_RO, &st)))
		return rc;
	int n = argc - optind, shown = 0;
	json_t *all = sc.json && n > 1 ? json_array() : NULL;
	for (int i = optind; i < argc && rc != SR_EXIT_STORE; i++) {
		int r = show_one(st, argv[i], by_id, &sc);
		if (r == -ENOENT) {
			show_missing(argv[i], by_id, db);
			rc = SR_EXIT_SOME_FAILED;
		} else if (r == -ENOMEM && !store_errmsg(st)[0]) {
			sr_err("show: out of memory");
			rc = SR_EXIT_STORE;
		} else if (r < 0) {
			rc = q_store_error(st);
		} else {
			if (!sc.json && shown++)
				fputc('\n', stdout);
			show_finish(&sc, all);
			continue;
		}
		show_reset(&sc);
	}
	if (all && rc != SR_EXIT_STORE)
		q_json_print(stdout, all, JSON_INDENT(2));
	json_decref(all);
	store_close(st);
	return rc;
}
