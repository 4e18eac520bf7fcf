/* report/report.c — the store as one self-contained HTML page
 * (docs/report.md; `sandrun report` is runner/report_cmd.c). Read-only:
 * the store (SQLite or PostgreSQL) is opened with store_open(STORE_RO) and
 * read through store/store.h in one snapshot (report_data.c); lists are
 * capped and the scatter is a deterministic sample, so the page stays
 * small at 100,000 items. */
#include "report/report.h"
#include "report/report_internal.h"
#include "store/store.h"
#include "lib/outcome.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
static void put_stderr_tail(FILE *f, const struct rp_failed *v)
{
	int64_t total = v->stderr_total;
	const char *tail = v->stderr_end;
	size_t len = v->stderr_len;
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
static void put_failure_row(FILE *f, const struct rp_failed *v)
{
	fputs("<li><code class=\"path\">", f);
	sr_text_put_str(f, v->path ? v->path : "", SR_TEXT_HTML_LINE);
	fputs("</code>", f);
	if (v->error) {
		fputs("<br><span class=\"err\">", f);
		sr_text_put_str(f, v->error, SR_TEXT_HTML_LINE);
		fputs("</span>", f);
	}
	fputs(" <span class=\"meta\">", f);
	int64_t att = v->attempts, ex = v->exit_code, sig = v->signal;
	fprintf(f, "%lld attempt%s", (long long)att, att == 1 ? "" : "s");
	if (ex >= 0)
		fprintf(f, " · exit %lld", (long long)ex);
	if (sig > 0) {
		const char *abbr = sig < 65 ? sigabbrev_np((int)sig) : NULL;
		fprintf(f, " · signal %lld%s%s%s", (long long)sig, abbr ? " (SIG" : "",
			abbr ? abbr : "", abbr ? ")" : "");
	}
	if (v->syscall) {
		fputs(" · syscall ", f);
		sr_text_put_str(f, v->syscall, SR_TEXT_HTML_LINE);
	}
	if (v->wall_ms >= 0) {
		fputs(" · ", f);
		rp_put_val(f, (double)v->wall_ms, RP_MS);
	}
	if (v->mem >= 0) {
		fputs(" · ", f);
		rp_put_val(f, (double)v->mem, RP_BYTES);
	}
	fputs("</span>", f);
	put_stderr_tail(f, v);
	fputs("</li>\n", f);
}

int rp_write_failures(struct rp *r)
{
	FILE *f = r->f;
	fputs("<section id=\"failures\"><h2>Failed files</h2>\n", f);
	if (!r->nfails)
		fputs("<p class=\"note\" id=\"failures-none\">No failed files.</p>\n", f);
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
		for (size_t i = 0; i < r->nfailed_rows[k]; i++)
			put_failure_row(f, &r->failed_rows[k][i]);
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
	return 0;
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
	    rp_write_failures(r) < 0)
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
	struct rp r = { 0 };
	/* STORE_RO refuses what is not a usable store and never writes. */
	if (store_open(db, STORE_RO, &r.st, err, errlen) < 0)
		return REPORT_ERR_STORE;
	char *shown = store_redact_uri(db);
	r.path = shown ? shown : db;
	enum report_status status = REPORT_OK;
	char *tmp = NULL;
	if (!shown || rp_read(&r) < 0) {
		snprintf(err, errlen, "%s", shown ? r.err : "report: out of memory");
		status = REPORT_ERR_STORE;
		goto out;
	}
	store_close(r.st); /* everything is in memory: no connection held while writing */
	r.st = NULL;
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
	rp_data_free(&r);
	store_close(r.st);
	free(shown);
	return status;
}
