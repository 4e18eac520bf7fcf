/* runner/progress.c — the live status line, JSON Lines events, the summary.
 * The formatting is pure (unit-tested); the drawing keeps one rule: a line
 * that is being redrawn in place is cleared before anything else is
 * written to stderr. */
#include "runner/progress.h"
#include "lib/text.h"
#include "runner/jobspec.h"
#include "lib/fd.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_MS 250

/* ---- pure formatting -------------------------------------------------- */

void progress_format_duration(double seconds, char *buf, size_t len)
{
	if (!(seconds >= 0) || seconds > 360000.0 * 24) {
		snprintf(buf, len, "--");
		return;
	}
	long s = (long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* Append ", name N" for each nonzero count; returns the new length. */
static size_t append_by_outcome(char *buf, size_t len, size_t at, const int64_t *a, const int64_t *b)
{
	bool first = true;
	for (int o = 0; o < OUTCOME_COUNT; o++) {
		int64_t n = a[o] + (b ? b[o] : 0);
		if (n <= 0 || at >= len)
			continue;
		int w = snprintf(buf + at, len - at, "%s%s %lld", first ? " (" : ", ",
				 outcome_name((enum outcome)o), (long long)n);
		at = w < 0 ? at : at + (size_t)w;
		first = false;
	}
	if (!first && at < len) {
		int w = snprintf(buf + at, len - at, ")");
		at = w < 0 ? at : at + (size_t)w;
	}
	return at < len ? at : len - 1;
}

static size_t appendf(char *buf, size_t len, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t appendf(char *buf, size_t len, size_t at, const char *fmt, ...)
{
	if (at >= len)
		return len ? len - 1 : 0;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
	if (w < 0)
		return at;
	return at + (size_t)w < len ? at + (size_t)w : len - 1;
}

/* The numbers of the line and of the progress event. eta_s: -1 unknown. */
struct line_numbers {
	int64_t done, total;
	double rate, eta_s;
};

static struct line_numbers line_numbers(const struct progress_counts *c)
{
	struct line_numbers n;
	int64_t finished = c->ok + c->damaged + c->failed;
	n.done = c->done_before + c->failed_before + finished;
	n.rate = c->elapsed_s > 0.05 ? (double)finished / c->elapsed_s : 0;
	int64_t left = c->total - n.done;
	/* While queueing, the total is only what is queued so far, and an
	 * item claimed before its chunk was counted may be done already:
	 * never show fewer in all than done. */
	n.total = c->total > n.done ? c->total : n.done;
	n.eta_s = c->queueing ? -1 : left <= 0 ? 0 : n.rate > 0 ? (double)left / n.rate : -1;
	return n;
}

size_t progress_format_line(const struct progress_counts *c, size_t width, char *buf, size_t len)
{
	if (len == 0)
		return 0;
	struct line_numbers n = line_numbers(c);
	char eta[32];
	progress_format_duration(n.eta_s, eta, sizeof eta);
	int64_t damaged = c->damaged_before + c->damaged;
	size_t at = appendf(buf, len, 0, "%lld/%lld%s done, %.1f files/s, ETA %s | ok %lld",
			    (long long)n.done, (long long)n.total, c->queueing ? "+" : "", n.rate, eta,
			    (long long)(c->done_before - c->damaged_before + c->ok));
	if (damaged)
		at = appendf(buf, len, at, ", damaged %lld", (long long)damaged);
	at = appendf(buf, len, at, ", failed %lld", (long long)(c->failed_before + c->failed));
	at = append_by_outcome(buf, len, at, c->failed_before_by, c->failed_by);
	at = appendf(buf, len, at, " | %lld running", (long long)c->running);
	if (c->paused)
		at = appendf(buf, len, at, ", PAUSED (SIGUSR1 resumes)");
	if (c->stopping)
		at = appendf(buf, len, at, ", stopping");
	if (c->waiting_memory)
		at = appendf(buf, len, at, ", waiting for memory");
	if (c->queueing)
		at = appendf(buf, len, at, c->watching ? ", watching" : ", queueing");
	if (width > 0 && at > width - 1) { /* never wrap: \r redraws one row */
		at = width - 1;
		buf[at] = '\0';
	}
	return at;
}

size_t progress_format_summary(const struct progress_summary *s, char *buf, size_t len)
{
	if (len == 0)
		return 0;
	size_t at = appendf(buf, len, 0, "%lld file%s: %lld ok", (long long)s->total,
			    s->total == 1 ? "" : "s", (long long)s->ok);
	if (s->damaged)
		at = appendf(buf, len, at, ", %lld damaged (analyzed; 'sandrun list --outcome damaged')",
			     (long long)s->damaged);
	at = appendf(buf, len, at, ", %lld failed", (long long)s->failed);
	at = append_by_outcome(buf, len, at, s->failed_by, NULL);
	if (s->pending)
		at = appendf(buf, len, at, ", %lld pending", (long long)s->pending);
	if (s->running)
		at = appendf(buf, len, at, ", %lld running in another runner", (long long)s->running);
	double rate = s->elapsed_s > 0.05 ? (double)s->finished / s->elapsed_s : 0;
	if (s->nothing_to_do) {
		at = appendf(buf, len, at, "\nnothing to do: %lld file%s already done", (long long)(s->ok + s->damaged),
			     s->ok + s->damaged == 1 ? "" : "s");
		if (s->failed)
			return appendf(buf, len, at, ", %lld already failed ('sandrun retry' to try the failed"
				       " again, --force to redo all)", (long long)s->failed);
		return appendf(buf, len, at, " (--force to redo)");
	}
	at = appendf(buf, len, at, "\nthis run: %lld attempt%s finished in %.1f s (%.1f/s)",
		     (long long)s->finished, s->finished == 1 ? "" : "s", s->elapsed_s, rate);
	if (s->retried)
		at = appendf(buf, len, at, ", %lld to be retried", (long long)s->retried);
	if (s->released)
		at = appendf(buf, len, at, ", %lld interrupted and put back (no attempt spent)",
			     (long long)s->released);
	if (s->skipped_entries) {
		at = appendf(buf, len, at, "\nskipped: %lld (", (long long)s->skipped_entries);
		for (int i = 0; i < PROGRESS_SKIP_KINDS && s->skipped_by[i].reason; i++)
			at = appendf(buf, len, at, "%s%s: %lld", i ? ", " : "", s->skipped_by[i].reason,
				     (long long)s->skipped_by[i].n);
		at = appendf(buf, len, at, ")");
	}
	if (s->interrupted_by && s->watch)
		at = appendf(buf, len, at, "\nstopped by %s%s", s->interrupted_by,
			     s->pending || s->released ? ": the files not done yet are taken at the next start" : "");
	else if (s->interrupted_by)
		at = appendf(buf, len, at, "\ninterrupted by %s: run the same command again to resume",
			     s->interrupted_by);
	if (s->left_pending)
		at = appendf(buf, len, at, "\nnot finished: %lld file%s left pending that this run could not"
			     " take (another runner queued %s again, e.g. with another job spec: see 'sandrun list"
			     " --status pending'); exit status 1", (long long)s->pending, s->pending == 1 ? "" : "s",
			     s->pending == 1 ? "it" : "them");
	return at;
}

/* A JSON string of a path or message: paths are bytes, JSON is UTF-8. */
static json_t *json_text(const char *s)
{
	if (!s || !*s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s) + 1;
	char *lossy = malloc(n);
	if (!lossy)
		return json_null();
	j = json_string(jobspec_utf8_lossy(s, lossy, n));
	free(lossy);
	return j ? j : json_null();
}

static json_t *int_or_null(int64_t v, int64_t null_below)
{
	return v < null_below ? json_null() : json_integer((json_int_t)v);
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(o);
	return s;
}

void progress_format_rfc3339(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char day[24] = "1970-01-01T00:00:00";
	if (ms >= 0 && gmtime_r(&t, &tm))
		strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", day, ms >= 0 ? (int)(ms % 1000) : 0);
}

/* The envelope every event starts with (docs/runner.md). */
static json_t *event_new(const struct progress_stamp *st, const char *name)
{
	char ts[32];
	progress_format_rfc3339(st->ts_ms, ts, sizeof ts);
	json_t *o = json_object();
	json_object_set_new(o, "v", json_integer(PROGRESS_EVENTS_VERSION));
	json_object_set_new(o, "event", json_string(name));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "ts_ms", json_integer(st->ts_ms));
	json_object_set_new(o, "run", int_or_null(st->run_id, 1));
	return o;
}

char *progress_event_begin(const struct progress_stamp *st, const char *version, const char *spec_key, int jobs)
{
	json_t *o = event_new(st, "begin");
	json_object_set_new(o, "version", json_text(version));
	json_object_set_new(o, "spec_key", json_text(spec_key));
	json_object_set_new(o, "jobs", json_integer(jobs));
	return dump(o);
}

char *progress_event_started(const struct progress_stamp *st, int64_t item_id, const char *path, int attempt)
{
	json_t *o = event_new(st, "started");
	json_object_set_new(o, "item", int_or_null(item_id, 1));
	json_object_set_new(o, "path", json_text(path));
	json_object_set_new(o, "attempt", json_integer(attempt));
	return dump(o);
}

char *progress_event_finished(const struct progress_stamp *st, const struct progress_finished *f)
{
	json_t *o = event_new(st, "finished");
	json_object_set_new(o, "item", int_or_null(f->item_id, 1));
	json_object_set_new(o, "path", json_text(f->path));
	json_object_set_new(o, "attempt", json_integer(f->attempt));
	json_object_set_new(o, "outcome", json_text(f->outcome));
	json_object_set_new(o, "status", json_text(f->status));
	json_object_set_new(o, "exit_code", int_or_null(f->exit_code, 0));
	json_object_set_new(o, "signal", int_or_null(f->signal, 1));
	json_object_set_new(o, "syscall", json_text(f->syscall));
	json_object_set_new(o, "wall_ms", int_or_null(f->wall_ms, 0));
	json_object_set_new(o, "cpu_ms", int_or_null(f->cpu_ms, 0));
	json_object_set_new(o, "peak_memory_bytes", int_or_null(f->peak_memory_bytes, 0));
	json_object_set_new(o, "oom_kills", int_or_null(f->oom_kills, 0));
	json_object_set_new(o, "error", json_text(f->error));
	return dump(o);
}

char *progress_event_progress(const struct progress_stamp *st, const struct progress_counts *c)
{
	struct line_numbers n = line_numbers(c);
	json_t *o = event_new(st, "progress");
	json_object_set_new(o, "done", json_integer(n.done));
	json_object_set_new(o, "total", json_integer(n.total));
	json_object_set_new(o, "queueing", json_boolean(c->queueing));
	json_object_set_new(o, "ok", json_integer(c->done_before - c->damaged_before + c->ok));
	json_object_set_new(o, "damaged", json_integer(c->damaged_before + c->damaged));
	json_object_set_new(o, "failed", json_integer(c->failed_before + c->failed));
	json_object_set_new(o, "running", json_integer(c->running));
	json_object_set_new(o, "finished", json_integer(c->ok + c->damaged + c->failed));
	json_object_set_new(o, "retried", json_integer(c->retried));
	json_object_set_new(o, "released", json_integer(c->released));
	/* files/s of this run, to 3 decimals: a rate, not a measurement */
	json_object_set_new(o, "rate", json_real((double)(int64_t)(n.rate * 1000 + 0.5) / 1000));
	json_object_set_new(o, "eta_s", n.eta_s < 0 ? json_null() : json_integer((json_int_t)(n.eta_s + 0.5)));
	json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)(c->elapsed_s * 1000)));
	json_object_set_new(o, "paused", json_boolean(c->paused));
	json_object_set_new(o, "stopping", json_boolean(c->stopping));
	return dump(o);
}

char *progress_event_summary(const struct progress_stamp *st, const struct progress_summary *s)
{
	json_t *o = event_new(st, "summary"), *by = json_object();
	for (int i = 0; i < OUTCOME_COUNT; i++)
		if (s->failed_by[i] > 0)
			json_object_set_new(by, outcome_name((enum outcome)i), json_integer(s->failed_by[i]));
	json_object_set_new(o, "total", json_integer(s->total));
	json_object_set_new(o, "ok", json_integer(s->ok));
	json_object_set_new(o, "damaged", json_integer(s->damaged));
	json_object_set_new(o, "failed", json_integer(s->failed));
	json_object_set_new(o, "pending", json_integer(s->pending));
	json_object_set_new(o, "running", json_integer(s->running));
	json_object_set_new(o, "failed_by_outcome", by);
	json_object_set_new(o, "finished", json_integer(s->finished));
	json_object_set_new(o, "retried", json_integer(s->retried));
	json_object_set_new(o, "released", json_integer(s->released));
	json_object_set_new(o, "skipped_entries", json_integer(s->skipped_entries));
	json_t *skipped = json_object();
	for (int i = 0; i < PROGRESS_SKIP_KINDS && s->skipped_by[i].reason; i++)
		json_object_set_new(skipped, s->skipped_by[i].reason, json_integer(s->skipped_by[i].n));
	json_object_set_new(o, "skipped_by", skipped);
	json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)(s->elapsed_s * 1000)));
	json_object_set_new(o, "interrupted_by", json_text(s->interrupted_by));
	json_object_set_new(o, "exit_status", json_integer(s->exit_status));
	return dump(o);
}

/* ---- drawing --------------------------------------------------------- */

struct progress {
	struct progress_opts o;
	struct progress_counts c;
	bool line_drawn;
	uint64_t last_draw_ms;
	int64_t run_id;               /* the events' "run" */
	uint64_t last_event_ms;       /* the last "progress" event */
};

/* This moment, for an event. */
static const struct progress_stamp *stamp_now(struct progress *p, struct progress_stamp *st)
{
	*st = (struct progress_stamp){ .run_id = p->run_id, .ts_ms = (int64_t)sr_wall_ms() };
	return st;
}

int progress_new(const struct progress_opts *o, struct progress **out)
{
	struct progress *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->o = *o;
	*out = p;
	return 0;
}

void progress_free(struct progress *p)
{
	free(p);
}

struct progress_counts *progress_counts(struct progress *p)
{
	return &p->c;
}

static void clear_line(struct progress *p)
{
	if (p->line_drawn) {
		fputs("\r\033[K", p->o.status);
		p->line_drawn = false;
	}
}

/* syslog priorities, as sd-daemon(3) prefixes them. */
enum { PRIO_ERR = 3, PRIO_WARNING = 4, PRIO_INFO = 6 };

/* One line on stderr: "sandrun: text", after "<N>" for the journal. The
 * text is already printable. */
static void put_line(struct progress *p, int prio, const char *text)
{
	clear_line(p);
	if (p->o.journal)
		fprintf(p->o.status, "<%d>", prio);
	fprintf(p->o.status, "sandrun: %s\n", text);
	fflush(p->o.status);
	p->last_draw_ms = 0; /* redraw at the next tick */
}

/* "PATH: message": the path escaped as a name (a newline in it shows as
 * \n), the message as a line. */
static void log_item(struct progress *p, int prio, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void log_item(struct progress *p, int prio, const char *path, const char *fmt, ...)
{
	char raw[2048], name[4 * 1024], msg[4 * 2048], line[sizeof name + sizeof msg + 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sr_text_escape_name(path, strlen(path), name, sizeof name);
	sr_text_escape_line(raw, strlen(raw), msg, sizeof msg);
	snprintf(line, sizeof line, "%s: %s", name, msg);
	put_line(p, prio, line);
}

/* One finished attempt as a log line: a failure always (an error), the
 * rest with --verbose. */
static void log_finished(struct progress *p, const struct progress_finished *f)
{
	const char *err = f->error && *f->error ? f->error : NULL;
	if (f->attempt <= 0 || strcmp(f->status, "unrecorded") == 0)
		return; /* input errors have their own line, the store's refusal too */
	if (strcmp(f->status, "failed") == 0) {
		log_item(p, PRIO_ERR, f->path, "%s%s%s", f->outcome, err ? ": " : "", err ? err : "");
		return;
	}
	if (strcmp(f->status, "done") == 0 && strcmp(f->outcome, "damaged") == 0 &&
	    p->o.verbosity > PROGRESS_QUIET) {
		log_item(p, PRIO_WARNING, f->path, "%s%s%s", f->outcome, err ? ": " : "", err ? err : "");
		return;
	}
	if (p->o.verbosity < PROGRESS_VERBOSE)
		return;
	double secs = f->wall_ms >= 0 ? (double)f->wall_ms / 1000 : 0;
	if (strcmp(f->status, "done") == 0)
		log_item(p, PRIO_INFO, f->path, "ok (attempt %d, %.2f s)", f->attempt, secs);
	else if (strcmp(f->outcome, "interrupted") == 0)
		log_item(p, PRIO_INFO, f->path, "interrupted and put back (attempt %d not counted)", f->attempt);
	else
		log_item(p, PRIO_WARNING, f->path, "%s%s%s; to be retried (attempt %d)", f->outcome, err ? ": " : "",
			 err ? err : "", f->attempt);
}

/* One event line on stdout, flushed so a consumer sees it as it happens.
 * A closed stdout (EPIPE: SIGPIPE is blocked) only stops the events. */
static void emit(struct progress *p, char *line)
{
	if (!line || !p->o.json || !p->o.events) {
		free(line);
		return;
	}
	if (fprintf(p->o.events, "%s\n", line) < 0 || fflush(p->o.events) == EOF) {
		p->o.json = false;
		clearerr(p->o.events);
	}
	free(line);
}

void progress_begin(struct progress *p, int64_t run_id, const char *version, const char *spec_key, int jobs)
{
	struct progress_stamp st;
	p->run_id = run_id;
	p->last_event_ms = sr_now_ms();
	if (p->o.json)
		emit(p, progress_event_begin(stamp_now(p, &st), version, spec_key, jobs));
}

void progress_started(struct progress *p, int64_t item_id, const char *path, int attempt)
{
	struct progress_stamp st;
	p->c.running++;
	if (p->o.json)
		emit(p, progress_event_started(stamp_now(p, &st), item_id, path, attempt));
}

void progress_finished(struct progress *p, const struct progress_finished *f, enum outcome o)
{
	if (f->attempt > 0 && p->c.running > 0)
		p->c.running--;
	if (strcmp(f->status, "done") == 0) {
		if (o == OUTCOME_DAMAGED)
			p->c.damaged++;
		else
			p->c.ok++;
	} else if (strcmp(f->status, "failed") == 0) {
		p->c.failed++;
		if ((unsigned)o < OUTCOME_COUNT)
			p->c.failed_by[o]++;
	} else if (strcmp(f->outcome, "interrupted") == 0) {
		p->c.released++;
	} else {
		p->c.retried++;
	}
	struct progress_stamp st;
	if (p->o.json)
		emit(p, progress_event_finished(stamp_now(p, &st), f));
	log_finished(p, f);
}

void progress_input_error(struct progress *p, int64_t item_id, const char *path, const char *error,
			  bool counted)
{
	log_item(p, PRIO_ERR, path, "%s", error);
	p->c.input_errors++;
	if (counted) {
		p->c.failed++;
		p->c.failed_by[OUTCOME_INPUT_ERROR]++;
	}
	if (p->o.json) {
		struct progress_finished f = {
			.item_id = item_id, .path = path, .attempt = 0, .outcome = "input_error",
			.status = "failed", .exit_code = -1, .wall_ms = -1, .cpu_ms = -1,
			.peak_memory_bytes = -1, .oom_kills = -1, .error = error,
		};
		struct progress_stamp st;
		emit(p, progress_event_finished(stamp_now(p, &st), &f));
	}
}

void progress_skipped(struct progress *p, const char *path, const char *reason, const char *detail)
{
	progress_message(p, "skipped %s: %s%s%s%s", path, reason, detail ? " (" : "", detail ? detail : "",
			 detail ? ")" : "");
	if (p->o.json) {
		struct progress_stamp st;
		json_t *o = event_new(stamp_now(p, &st), "skipped");
		json_object_set_new(o, "path", json_text(path));
		json_object_set_new(o, "reason", json_text(reason));
		json_object_set_new(o, "detail", json_text(detail));
		emit(p, dump(o));
	}
}

void progress_message(struct progress *p, const char *fmt, ...)
{
	char raw[2048], clean[4 * 2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* paths and errors are untrusted: the text module's one-line form */
	put_line(p, strncmp(raw, "warning: ", 9) == 0 ? PRIO_WARNING : PRIO_ERR,
		 sr_text_escape_line(raw, strlen(raw), clean, sizeof clean));
}

void progress_notice(struct progress *p, const char *fmt, ...)
{
	char raw[2048], clean[4 * 2048];
	if (p->o.verbosity == PROGRESS_QUIET)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	put_line(p, PRIO_INFO, sr_text_escape_line(raw, strlen(raw), clean, sizeof clean));
}

bool progress_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static size_t term_width(FILE *f)
{
	struct winsize ws;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

void progress_tick(struct progress *p, bool force)
{
	uint64_t now = sr_now_ms();
	if (p->o.json && p->o.json_interval_ms && now - p->last_event_ms >= p->o.json_interval_ms) {
		struct progress_stamp st;
		p->last_event_ms = now;
		emit(p, progress_event_progress(stamp_now(p, &st), &p->c));
	}
	if (!p->o.live)
		return;
	if (!force && p->last_draw_ms && now - p->last_draw_ms < REDRAW_MS)
		return;
	char line[1024];
	/* "sandrun: " takes 9 columns. */
	size_t w = term_width(p->o.status);
	progress_format_line(&p->c, w > 9 ? w - 9 : 1, line, sizeof line);
	fprintf(p->o.status, "\r\033[Ksandrun: %s", line);
	fflush(p->o.status);
	p->line_drawn = true;
	p->last_draw_ms = now;
}

void progress_print_status(struct progress *p)
{
	char line[1024];
	progress_format_line(&p->c, 0, line, sizeof line);
	put_line(p, PRIO_INFO, line);
}

void progress_summary(struct progress *p, const struct progress_summary *s)
{
	char text[2048];
	progress_format_summary(s, text, sizeof text);
	/* Each line of the summary carries the prefix, like every message. */
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		put_line(p, PRIO_INFO, l);
	struct progress_stamp st;
	if (p->o.json)
		emit(p, progress_event_summary(stamp_now(p, &st), s));
}
