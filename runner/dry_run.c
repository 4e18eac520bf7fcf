/* runner/dry_run.c — `sandrun run --dry-run`: the inputs as the run would
 * queue them (the same feed, the same filters), each one judged against
 * the store the way store_enqueue() would, and the resolved job spec. See
 * dry_run.h.
 *
 * Nothing is written: no sandbox run (no cgroup, no namespace), the store
 * opened read-only and only when it exists (a missing database is not
 * created: every input is then new), no run row, no batch table. */
#include "runner/dry_run.h"
#include "runner/common.h"
#include "runner/run_queue.h"
#include "store/store.h"
#include "lib/fd.h"
#include "lib/text.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the run would do with one input, as store_enqueue() decides. */
enum dry_verdict {
	DRY_NEW,        /* not in the store: queued */
	DRY_CHANGED,    /* size, mtime or job spec changed: queued again */
	DRY_FORCED,     /* --force: queued again */
	DRY_PENDING,    /* already queued: analyzed */
	DRY_RUNNING,    /* another runner has it: left to it */
	DRY_DONE,       /* done with this spec, unchanged: left */
	DRY_FAILED,     /* failed with this spec, unchanged: left ('sandrun retry') */
	DRY_VERDICTS,
};

static const char *const verdict_name[DRY_VERDICTS] = {
	"new", "changed", "forced", "pending", "running elsewhere", "already done", "already failed",
};

static bool queued(enum dry_verdict v)
{
	return v <= DRY_PENDING;
}

struct dry {
	const struct run_opts *o;
	const struct jobspec *js;
	struct store *st;           /* NULL: no database yet */
	const struct input *in;     /* the input being judged */
	enum dry_verdict verdict;
	const char *why;            /* what changed, for DRY_CHANGED */
	int64_t n[DRY_VERDICTS], errors;
};

static int on_item(const struct store_item_row *row, void *ctx)
{
	struct dry *d = ctx;
	const struct input *in = d->in;
	bool same_spec = row->spec_key && strcmp(row->spec_key, d->js->key) == 0;
	bool same_file = row->size == in->size && row->mtime_ns == in->mtime_ns;
	if (strcmp(row->status, "running") == 0)
		d->verdict = DRY_RUNNING;
	else if (d->o->force)
		d->verdict = DRY_FORCED;
	else if (!same_spec || !same_file) {
		d->verdict = DRY_CHANGED;
		d->why = !same_spec ? "another job spec" : "the file changed";
	} else if (strcmp(row->status, "done") == 0)
		d->verdict = DRY_DONE;
	else if (strcmp(row->status, "failed") == 0)
		d->verdict = DRY_FAILED;
	else
		d->verdict = DRY_PENDING;
	return -ECANCELED; /* found; its attempts are not needed */
}

static void put_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s)
		printf("%s\n", s);
	free(s);
}

static json_t *event(const char *name)
{
	char ts[32];
	int64_t now = (int64_t)sr_wall_ms();
	progress_format_rfc3339(now, ts, sizeof ts);
	json_t *o = json_object();
	json_object_set_new(o, "v", json_integer(PROGRESS_EVENTS_VERSION));
	json_object_set_new(o, "event", json_string(name));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "ts_ms", json_integer(now));
	json_object_set_new(o, "run", json_null());
	return o;
}

/* One line per input, "WHAT PATH: HOW[ (DETAIL)]": "queue PATH: new",
 * "queue PATH: changed (another job spec)", "leave PATH: already done",
 * "skip PATH: not audio (JPEG image)", "error PATH: MESSAGE". Paths and
 * messages through the text module (a newline in a name shows as \x0a). */
static void say(const struct dry *d, const char *what, const char *path, const char *how, const char *detail)
{
	if (d->o->json) {
		json_t *o = event(what);
		char *fixed = NULL;
		size_t len = 0;
		int r = sr_text_utf8_repair(path, strlen(path), &fixed, &len);
		json_object_set_new(o, "path", r == 0 ? json_string(path) : r == 1 ? json_stringn(fixed, len)
										: json_null());
		free(fixed);
		json_object_set_new(o, "why", json_string(how));
		json_object_set_new(o, "detail", detail ? json_string(detail) : json_null());
		put_json(o);
		return;
	}
	printf("%s ", what);
	sr_text_put_str(stdout, path, SR_TEXT_TERMINAL);
	fputs(": ", stdout);
	sr_text_put_str(stdout, how, SR_TEXT_TERMINAL);
	if (detail) {
		fputs(" (", stdout);
		sr_text_put_str(stdout, detail, SR_TEXT_TERMINAL);
		fputs(")", stdout);
	}
	fputc('\n', stdout);
}

static int on_input(const struct input *in, void *ctx)
{
	struct dry *d = ctx;
	if (in->skip != INPUT_SKIP_NONE) {
		say(d, "skip", in->path, inputs_skip_name(in->skip), in->skip_detail);
		return 0;
	}
	const char *error = in->error ? in->error : run_queue_unreadable(d->js, in);
	if (error) {
		d->errors++;
		say(d, "error", in->path, error, NULL);
		return 0;
	}
	d->in = in;
	d->verdict = DRY_NEW;
	d->why = NULL;
	if (d->st) {
		int r = store_show_item(d->st, in->path, on_item, NULL, d);
		if (r < 0 && r != -ECANCELED && r != -ENOENT)
			return r;
	}
	d->n[d->verdict]++;
	say(d, queued(d->verdict) ? "queue" : "leave", in->path, verdict_name[d->verdict], d->why);
	return 0;
}

/* The end: counts, skips by reason, the job spec. */
static void finish(const struct dry *d, const struct inputs_stats *stats)
{
	int64_t q = d->n[DRY_NEW] + d->n[DRY_CHANGED] + d->n[DRY_FORCED] + d->n[DRY_PENDING];
	if (d->o->json) {
		json_t *o = event("dry_run"), *by = json_object(), *skips = json_object();
		json_error_t e;
		for (int v = 0; v < DRY_VERDICTS; v++)
			json_object_set_new(by, verdict_name[v], json_integer(d->n[v]));
		for (int i = 1; i < INPUT_SKIP_COUNT; i++)
			if (stats->skipped_by[i])
				json_object_set_new(skips, inputs_skip_name((enum input_skip)i),
						    json_integer((json_int_t)stats->skipped_by[i]));
		json_object_set_new(o, "db", json_string(d->o->db));
		json_object_set_new(o, "db_exists", json_boolean(d->st != NULL));
		json_object_set_new(o, "would_queue", json_integer(q));
		json_object_set_new(o, "by_verdict", by);
		json_object_set_new(o, "input_errors", json_integer(d->errors));
		json_object_set_new(o, "skipped_entries", json_integer((json_int_t)stats->skipped));
		json_object_set_new(o, "skipped_by", skips);
		json_object_set_new(o, "spec_key", json_string(d->js->key));
		json_t *spec = json_loads(d->js->run_description, 0, &e);
		json_object_set_new(o, "spec", spec ? spec : json_null());
		put_json(o);
		return;
	}
	printf("dry run: %lld file%s would be analyzed (%lld new, %lld changed, %lld forced, %lld pending);"
	       " %lld already done, %lld already failed, %lld running elsewhere; %lld input error%s;"
	       " %zu skipped",
	       (long long)q, q == 1 ? "" : "s", (long long)d->n[DRY_NEW], (long long)d->n[DRY_CHANGED],
	       (long long)d->n[DRY_FORCED], (long long)d->n[DRY_PENDING], (long long)d->n[DRY_DONE],
	       (long long)d->n[DRY_FAILED], (long long)d->n[DRY_RUNNING], (long long)d->errors,
	       d->errors == 1 ? "" : "s", stats->skipped);
	const char *sep = " (";
	for (int i = 1; i < INPUT_SKIP_COUNT; i++)
		if (stats->skipped_by[i]) {
			printf("%s%s: %zu", sep, inputs_skip_name((enum input_skip)i), stats->skipped_by[i]);
			sep = ", ";
		}
	printf("%s\n", *sep == ',' ? ")" : "");
	printf("database: ");
	sr_text_put_str(stdout, d->o->db, SR_TEXT_TERMINAL);
	printf("%s\njob spec %s: ", d->st ? "" : " (does not exist; not created)", d->js->key);
	sr_text_put_str(stdout, d->js->run_description, SR_TEXT_TERMINAL);
	printf("\nnothing was run or changed\n");
}

int dry_run(const struct run_opts *o, const struct jobspec *js, char **paths, int npaths)
{
	struct dry d = { .o = o, .js = js };
	char err[1024];
	/* Read-only, and only an existing store: STORE_RW would create it. */
	int r = store_open(o->db, STORE_RO, &d.st, err, sizeof err);
	if (r == -ENOENT && !store_is_postgresql(o->db)) {
		d.st = NULL;
	} else if (r < 0) {
		sr_err("%s", d.st ? store_errmsg(d.st) : err);
		store_close(d.st);
		return SR_EXIT_STORE;
	}
	int list_fd = -1;
	if (o->files_from) {
		list_fd = strcmp(o->files_from, "-") == 0 ? STDIN_FILENO : open(o->files_from, O_RDONLY | O_CLOEXEC);
		if (list_fd < 0) {
			sr_err("--files-from %s: %s", o->files_from, strerror(errno));
			store_close(d.st);
			return SR_EXIT_USAGE;
		}
	}
	/* A pipe is read blocking here: there are no jobs to watch. */
	struct inputs_feed_opts fo = {
		.paths = (const char *const *)paths, .npaths = (size_t)npaths, .list_fd = list_fd,
		.nul = o->nul, .recursive = o->recursive, .filter = &o->filter, .follow = o->follow,
	};
	struct inputs_feed *feed = NULL;
	struct inputs_stats stats = { 0 };
	r = inputs_feed_new(&fo, &feed);
	while (r == 0 && (r = inputs_feed_next(feed, on_input, &d, &stats)) > 0)
		r = 0;
	inputs_feed_free(feed);
	if (list_fd > STDIN_FILENO)
		close(list_fd);
	int status = SR_EXIT_OK;
	if (r < 0) {
		sr_err("%s: %s", o->files_from && r != -EIO ? o->files_from : "reading the inputs",
		       d.st && r == -EIO ? store_errmsg(d.st) : strerror(-r));
		status = r == -EIO ? SR_EXIT_STORE : SR_EXIT_USAGE;
	} else {
		finish(&d, &stats);
	}
	store_close(d.st);
	fflush(stdout);
	return status;
}
