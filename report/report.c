/* report/report.c — the store as one self-contained HTML page
 * (docs/report.md; `sandrun report` is runner/report_cmd.c). Read-only:
 * the store is checked by store_open
 * (STORE_RO), then read through a connection of our own opened read-only,
 * in one read transaction (one consistent snapshot while a runner writes).
 * Every distribution is aggregated in SQL (GROUP BY over sr_bin(), a bin
 * function registered here); lists are capped and the scatter is a
 * deterministic sample, so the page stays small at 100,000 items. */
#include "report/report.h"
#include "report/report_internal.h"
#include "store/store.h"
#include "lib/outcome.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STDERR_SHOWN 1024 /* bytes of a stderr tail shown (its end) */

/* ---- reading ------------------------------------------------------------- */

int rp_fail(struct rp *r)
{
	snprintf(r->err, sizeof r->err, "database %s: cannot read it for the report: %s", r->path,
		 sqlite3_errmsg(r->db));
	return -1;
}

sqlite3_stmt *rp_prep(struct rp *r, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rp_fail(r);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int rp_finish(struct rp *r, sqlite3_stmt *s, int rc)
{
	int ret = rc == SQLITE_DONE ? 0 : rp_fail(r);
	sqlite3_finalize(s);
	return ret;
}

/* One row of numbers. */
int rp_query_nums(struct rp *r, const char *sql, double *out, int n)
{
	sqlite3_stmt *s = rp_prep(r, sql);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	for (int i = 0; i < n; i++)
		out[i] = rc == SQLITE_ROW && sqlite3_column_type(s, i) != SQLITE_NULL
				 ? sqlite3_column_double(s, i)
				 : NAN;
	return rp_finish(r, s, rc == SQLITE_ROW ? sqlite3_step(s) : rc);
}

const char *rp_col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int64_t rp_col_i64(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

/* sr_bin(v, lo, hi, nbins, log): the histogram bin of v; NULL for NULL or
 * text (a hostile result may put a string where a number belongs). */
static void sql_bin(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	int t = sqlite3_value_numeric_type(v[0]);
	if (t != SQLITE_INTEGER && t != SQLITE_FLOAT) {
		sqlite3_result_null(ctx);
		return;
	}
	double x = sqlite3_value_double(v[0]);
	if (!isfinite(x)) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int(ctx, rp_axis_bin(sqlite3_value_double(v[1]), sqlite3_value_double(v[2]),
					    sqlite3_value_int(v[4]) != 0, sqlite3_value_int(v[3]), x));
}

/* "file:" URI of a path, for immutable=1 (as store_open does). */
static char *path_uri(const char *path)
{
	char *uri = malloc(strlen(path) * 3 + 32), *o = uri;
	if (!uri)
		return NULL;
	o += sprintf(o, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#' || *p < 0x20 || *p >= 0x7f)
			o += sprintf(o, "%%%02X", *p);
		else
			*o++ = (char)*p;
	sprintf(o, "?immutable=1");
	return uri;
}

/* Open our read-only connection and start the read transaction. The store
 * was already checked by store_open(STORE_RO). Where SQLite cannot create
 * the -shm file (a read-only file system) and the WAL is empty, the file is
 * the whole state and is read as immutable, as store_open does. */
static int open_reader(struct rp *r)
{
	for (int immutable = 0; immutable < 2; immutable++) {
		char *uri = immutable ? path_uri(r->path) : NULL;
		if (immutable && !uri)
			return -1;
		int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | (uri ? SQLITE_OPEN_URI : 0);
		int rc = sqlite3_open_v2(uri ? uri : r->path, &r->db, flags, NULL);
		free(uri);
		if (rc == SQLITE_OK) {
			sqlite3_busy_timeout(r->db, STORE_BUSY_TIMEOUT_MS);
			/* The report's temp tables in memory (set before the
			 * transaction starts). */
			double n;
			if (sqlite3_exec(r->db, "PRAGMA temp_store = MEMORY; BEGIN", NULL, NULL, NULL) ==
				    SQLITE_OK &&
			    rp_query_nums(r, "SELECT count(*) FROM items", &n, 1) == 0)
				break;
		}
		rp_fail(r);
		sqlite3_close_v2(r->db);
		r->db = NULL;
		char wal[PATH_MAX];
		struct stat sb;
		snprintf(wal, sizeof wal, "%s-wal", r->path);
		if (immutable || (stat(wal, &sb) == 0 && sb.st_size > 0))
			return -1;
	}
	/* A compact copy of the attempts without their stderr tails: the
	 * sections scan it a dozen times. */
	if (sqlite3_exec(r->db,
			 "CREATE TEMP TABLE rp_att AS SELECT id, item_id, run_id, outcome, wall_ms,"
			 " peak_memory_bytes, ended_at FROM attempts",
			 NULL, NULL, NULL) != SQLITE_OK)
		return rp_fail(r);
	if (sqlite3_create_function(r->db, "sr_bin", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				    sql_bin, NULL, NULL) != SQLITE_OK)
		return rp_fail(r);
	return 0;
}

/* Fill a histogram whose axis is set: `sql` selects (bin, series, count)
 * and uses sr_bin(x, ?1, ?2, ?3, ?4). */
int rp_hist_query(struct rp *r, const char *sql, struct rp_hist *h)
{
	h->nbins = rp_hist_bins(&h->x);
	sqlite3_stmt *s = rp_prep(r, sql);
	if (!s)
		return -1;
	sqlite3_bind_double(s, 1, h->x.lo);
	sqlite3_bind_double(s, 2, h->x.hi);
	sqlite3_bind_int(s, 3, h->nbins);
	sqlite3_bind_int(s, 4, h->x.log);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_NULL)
			continue;
		int b = sqlite3_column_int(s, 0), k = sqlite3_column_int(s, 1);
		if (b >= 0 && b < h->nbins && k >= 0 && k < h->nseries)
			h->count[k][b] += sqlite3_column_int64(s, 2);
	}
	return rp_finish(r, s, rc);
}

/* ---- small writers --------------------------------------------------------- */

void rp_put_count(FILE *f, int64_t n)
{
	char b[32];
	rp_fmt_count(b, sizeof b, n);
	fputs(b, f);
}

void rp_put_val(FILE *f, double v, enum rp_unit u)
{
	char b[48];
	rp_fmt(b, sizeof b, v, u);
	fputs(b, f);
}

void rp_put_time(FILE *f, int64_t ms)
{
	char b[64];
	if (ms < 0) {
		fputs("-", f);
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S %z", &tm);
	fputs(b, f);
}

void rp_put_legend(FILE *f, const struct rp_hist *h)
{
	fputs("<p class=\"legend\">", f);
	for (int k = 0; k < h->nseries; k++)
		fprintf(f, "<span class=\"sw %s\"></span>%s", h->series_cls[k], h->series_label[k]);
	fputs("</p>\n", f);
}

static void card(FILE *f, int64_t n, const char *what)
{
	fputs("<div class=\"card\"><b>", f);
	rp_put_count(f, n);
	fprintf(f, "</b><span>%s</span></div>", what);
}

/* ---- summary and outcomes ----------------------------------------------------- */

static int read_summary(struct rp *r)
{
	sqlite3_stmt *s = rp_prep(r, "SELECT status, last_outcome, count(*) FROM items"
				  " GROUP BY status, last_outcome ORDER BY 3 DESC");
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *st = rp_col_text(s, 0), *oc = rp_col_text(s, 1);
		int64_t n = sqlite3_column_int64(s, 2);
		r->items += n;
		if (!st)
			continue;
		if (strcmp(st, "done") == 0)
			r->done += n;
		else if (strcmp(st, "pending") == 0)
			r->pending += n;
		else if (strcmp(st, "running") == 0)
			r->running += n;
		else if (strcmp(st, "failed") == 0) {
			r->failed += n;
			if (r->nfails < sizeof r->fails / sizeof r->fails[0]) {
				char *label = strdup(oc ? oc : "(none)");
				if (!label)
					continue;
				struct rp_bar *b = &r->fails[r->nfails++];
				b->label = label;
				b->n = n;
				b->cls = outcome_at_limit(outcome_from_name(oc)) ? "c-limit" : "c-fail";
				char *href = malloc(strlen(b->label) + 8);
				if (href) {
					sprintf(href, "#fail-%s", b->label);
					for (char *p = href + 6; *p; p++)
						if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
							*p = '-';
				}
				b->href = href;
			}
		}
	}
	if (rp_finish(r, s, rc) < 0)
		return -1;
	double v[2];
	if (rp_query_nums(r, "SELECT (SELECT count(*) FROM rp_att), (SELECT count(*) FROM runs)", v, 2) < 0)
		return -1;
	r->attempts = (int64_t)v[0];
	r->runs = (int64_t)v[1];
	/* The limits each run recorded in its job spec (runs.spec). */
	s = rp_prep(r, "SELECT json_extract(spec, '$.limits.mem_bytes'), json_extract(spec,"
		    " '$.limits.timeout_ms') FROM runs WHERE spec IS NOT NULL ORDER BY id DESC");
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r->spec_seen = true;
		for (int k = 0; k < 2; k++) {
			if (sqlite3_column_type(s, k) == SQLITE_NULL)
				continue;
			double v1 = sqlite3_column_double(s, k);
			double *set = k ? r->tmo : r->mem;
			int *n = k ? &r->ntmo : &r->nmem;
			if (v1 <= 0) {
				if (!k)
					r->mem_unlimited = true;
				continue;
			}
			bool seen = false;
			for (int i = 0; i < *n; i++)
				seen |= set[i] == v1;
			if (!seen && *n < RP_MAX_MARKS)
				set[(*n)++] = v1;
		}
	}
	return rp_finish(r, s, rc);
}

static void write_outcomes(struct rp *r)
{
	FILE *f = r->f;
	struct rp_bar bars[40];
	size_t n = 0;
	bars[n++] = (struct rp_bar){ "ok", r->done, "c-ok", NULL };
	for (size_t i = 0; i < r->nfails; i++)
		bars[n++] = r->fails[i];
	if (r->pending)
		bars[n++] = (struct rp_bar){ "pending", r->pending, "c-pend", NULL };
	if (r->running)
		bars[n++] = (struct rp_bar){ "running", r->running, "c-run", NULL };
	fputs("<section id=\"outcomes\"><h2>Outcomes</h2>\n"
	      "<p class=\"note\">Items by the outcome of their last attempt (failed items link to"
	      " their list).</p>\n", f);
	rp_svg_bars(f, "chart-outcomes", "items by outcome", bars, n);
	fputs("</section>\n", f);
}

/* ---- failures ----------------------------------------------------------------- */

/* The end of a failed attempt's stderr, folded in a <details>. */
static void put_stderr_tail(FILE *f, sqlite3_stmt *s)
{
	int64_t total = rp_col_i64(s, 8);
	const char *tail = sqlite3_column_blob(s, 9);
	size_t len = (size_t)sqlite3_column_bytes(s, 9);
	if (total > 0 && tail && len) {
		/* A cut tail starts at its first whole line. */
		if ((int64_t)len < total) {
			const char *nl = memchr(tail, '\n', len);
			if (nl && (size_t)(nl - tail) + 1 < len) {
				len -= (size_t)(nl + 1 - tail);
				tail = nl + 1;
			}
		}
		fputs("<details><summary>stderr", f);
		if ((int64_t)len < total) {
			fputs(", the last ", f);
			rp_put_val(f, (double)len, RP_BYTES);
			fputs(" of ", f);
			rp_put_val(f, (double)total, RP_BYTES);
		}
		fputs("</summary><pre>", f);
		sr_text_put(f, tail, len, SR_TEXT_HTML_PRE);
		fputs("</pre></details>", f);
	}
}

/* One failed file: its path, error, attempt facts and stderr. */
static void put_failure_row(FILE *f, sqlite3_stmt *s)
{
	fputs("<li><code class=\"path\">", f);
	sr_text_put(f, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), SR_TEXT_HTML_LINE);
	fputs("</code>", f);
	if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
		fputs("<br><span class=\"err\">", f);
		sr_text_put(f, sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1), SR_TEXT_HTML_LINE);
		fputs("</span>", f);
	}
	fputs(" <span class=\"meta\">", f);
	int64_t att = rp_col_i64(s, 2), ex = rp_col_i64(s, 3), sig = rp_col_i64(s, 4);
	fprintf(f, "%lld attempt%s", (long long)att, att == 1 ? "" : "s");
	if (ex >= 0)
		fprintf(f, " · exit %lld", (long long)ex);
	if (sig > 0) {
		const char *abbr = sig < 65 ? sigabbrev_np((int)sig) : NULL;
		fprintf(f, " · signal %lld%s%s%s", (long long)sig, abbr ? " (SIG" : "",
			abbr ? abbr : "", abbr ? ")" : "");
	}
	if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
		fputs(" · syscall ", f);
		sr_text_put(f, sqlite3_column_blob(s, 5), (size_t)sqlite3_column_bytes(s, 5), SR_TEXT_HTML_LINE);
	}
	if (rp_col_i64(s, 6) >= 0) {
		fputs(" · ", f);
		rp_put_val(f, (double)rp_col_i64(s, 6), RP_MS);
	}
	if (rp_col_i64(s, 7) >= 0) {
		fputs(" · ", f);
		rp_put_val(f, (double)rp_col_i64(s, 7), RP_BYTES);
	}
	fputs("</span>", f);
	put_stderr_tail(f, s);
	fputs("</li>\n", f);
}

static int write_failures(struct rp *r)
{
	FILE *f = r->f;
	fputs("<section id=\"failures\"><h2>Failed files</h2>\n", f);
	if (!r->nfails)
		fputs("<p class=\"note\" id=\"failures-none\">No failed files.</p>\n", f);
	sqlite3_stmt *s = rp_prep(r, "SELECT i.path, i.last_error, i.attempts, a.exit_code, a.signal,"
				  " a.syscall, a.wall_ms, a.peak_memory_bytes, length(a.stderr_tail),"
				  " substr(a.stderr_tail, -?2) FROM items i LEFT JOIN attempts a"
				  " ON a.id = i.last_attempt WHERE i.status = 'failed'"
				  " AND i.last_outcome IS ?1 ORDER BY i.path LIMIT ?3");
	if (!s)
		return -1;
	for (size_t k = 0; k < r->nfails; k++) {
		const struct rp_bar *b = &r->fails[k];
		fprintf(f, "<h3 id=\"%s\">", b->href ? b->href + 1 : "");
		sr_text_put_str(f, b->label, SR_TEXT_HTML_LINE);
		fputs(" <span class=\"tag bad\">", f);
		rp_put_count(f, b->n);
		/* The list's height before it is laid out (content-visibility). */
		fprintf(f, " file%s</span></h3>\n<ol class=\"files\" id=\"%s-list\" style=\""
			   "contain-intrinsic-size:auto %dpx\">\n",
			b->n == 1 ? "" : "s", b->href ? b->href + 1 : "",
			48 * (int)(b->n < LIST_CAP ? b->n : LIST_CAP));
		sqlite3_reset(s);
		if (strcmp(b->label, "(none)") == 0)
			sqlite3_bind_null(s, 1);
		else
			sqlite3_bind_text(s, 1, b->label, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, STDERR_SHOWN);
		sqlite3_bind_int(s, 3, LIST_CAP);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			put_failure_row(f, s);
		}
		if (rc != SQLITE_DONE)
			return rp_finish(r, s, rc);
		fputs("</ol>\n", f);
		if (b->n > LIST_CAP) {
			fputs("<p class=\"more\">… and ", f);
			rp_put_count(f, b->n - LIST_CAP);
			fputs(" more: <code>sandrun list --status failed --outcome ", f);
			sr_text_put_str(f, b->label, SR_TEXT_HTML_LINE);
			fputs("</code></p>\n", f);
		}
	}
	fputs("</section>\n", f);
	return rp_finish(r, s, SQLITE_DONE);
}

/* ---- the page ---------------------------------------------------------------------- */

static int write_page(struct rp *r)
{
	FILE *f = r->f;
	char hash[80];
	rp_script_hash(hash, sizeof hash);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
		   " style-src 'unsafe-inline'; script-src %s\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<title>sandrun report: ",
		hash);
	sr_text_put_str(f, r->path, SR_TEXT_HTML_LINE);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head><body>\n<header><h1>sandrun report</h1>\n"
		   "<p class=\"sub\">Store <code class=\"path\">",
		rp_css);
	sr_text_put_str(f, r->path, SR_TEXT_HTML_LINE);
	fputs("</code> · written ", f);
	rp_put_time(f, (int64_t)time(NULL) * 1000);
	fputs(" by sandrun " SANDRUN_VERSION "</p>\n<div class=\"cards\" id=\"summary\">", f);
	card(f, r->items, "items");
	card(f, r->done, "done");
	card(f, r->failed, "failed");
	if (r->pending)
		card(f, r->pending, "pending");
	if (r->running)
		card(f, r->running, "running");
	card(f, r->attempts, "attempts");
	card(f, r->runs, "runs");
	fputs("</div>\n<nav><a href=\"#outcomes\">Outcomes</a><a href=\"#resources\">Time and memory</a>"
	      "<a href=\"#analyzer\">Audio</a><a href=\"#runs\">Runs</a>"
	      "<a href=\"#failures\">Failed files</a></nav>\n</header>\n<main>\n", f);
	/* The charts first; the long lists of failed files last. */
	write_outcomes(r);
	if (rp_write_resources(r) < 0 || rp_write_analyzer(r) < 0 || rp_write_runs(r) < 0 ||
	    write_failures(r) < 0)
		return -1;
	fprintf(f, "</main>\n<footer><p>A self-contained page: no network, no external file. Paths,"
		   " errors and stderr come from the jobs and are shown escaped; bytes that are not"
		   " UTF-8 and control characters appear as \\xNN.</p>\n"
		   "<p id=\"render-ms\"></p></footer>\n<script>%s</script>\n</body></html>\n",
		rp_script);
	return 0;
}

/* A temporary file beside `dest`, renamed over it once complete. */
static FILE *open_output(const char *dest, char **tmp)
{
	if (asprintf(tmp, "%s.tmp.XXXXXX", dest) < 0) {
		*tmp = NULL;
		return NULL;
	}
	int fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0644) < 0) {
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return fdopen(fd, "w");
}

enum report_status report_write(const char *db, const char *out, char *err, size_t errlen)
{
	struct store *st;
	if (store_open(db, STORE_RO, &st, err, errlen) < 0) /* refuses what is not a usable store */
		return REPORT_ERR_STORE;
	store_close(st);
	struct rp r = { .path = db };
	enum report_status status = REPORT_OK;
	char *tmp = NULL;
	if (open_reader(&r) < 0 || read_summary(&r) < 0) {
		snprintf(err, errlen, "%s", r.err);
		status = REPORT_ERR_STORE;
		goto out;
	}
	if (!(r.f = open_output(out, &tmp))) {
		snprintf(err, errlen, "report: cannot create %s: %s; choose a writable -o path", out,
			 strerror(errno));
		status = REPORT_ERR_OUTPUT;
		goto out;
	}
	if (write_page(&r) < 0) {
		snprintf(err, errlen, "%s", r.err);
		status = REPORT_ERR_STORE;
	}
	int werr = 0;
	if (fflush(r.f) == EOF || ferror(r.f) || fsync(fileno(r.f)) < 0)
		werr = errno ? errno : EIO;
	if (fclose(r.f) == EOF && !werr)
		werr = errno;
	if (!status && !werr && rename(tmp, out) < 0)
		werr = errno;
	if (status || werr)
		unlink(tmp);
	if (werr && !status) {
		snprintf(err, errlen, "report: cannot write %s: %s; nothing was replaced", out,
			 strerror(werr));
		status = REPORT_ERR_OUTPUT;
	}
out:
	free(tmp);
	for (size_t i = 0; i < r.nfails; i++) {
		free((char *)r.fails[i].label);
		free((char *)r.fails[i].href);
	}
	if (r.db) {
		sqlite3_exec(r.db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close_v2(r.db);
	}
	return status;
}
