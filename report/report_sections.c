/* report/report_sections.c — the sections of `sandrun report` that chart
 * distributions: time and memory against the limits, the built-in
 * analyzer's reports, the runs (see report_internal.h, docs/report.md). */
#include "report/report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- time and memory ------------------------------------------------------------- */

/* Percentiles (0..1 in q, ascending) of n sorted values. */
static void percentiles(const double *v, int64_t n, const double *q, double *out, int nq)
{
	for (int i = 0; i < nq; i++) {
		int64_t row = (int64_t)ceil(q[i] * (double)n) - 1 + (q[i] == 0);
		out[i] = n > 0 && row >= 0 && row < n ? v[row] : NAN;
	}
}

/* The sample's order: a hash of the attempt id (a bijection on 32 bits),
 * so the same store gives the same page. */
static uint32_t sample_key(int64_t id)
{
	return (uint32_t)((uint64_t)id * 2654435761u);
}

static int cmp_key(const void *a, const void *b)
{
	const struct rp_att *const *x = a, *const *y = b;
	uint32_t kx = sample_key((*x)->id), ky = sample_key((*y)->id);
	return (kx > ky) - (kx < ky);
}

static bool scatter_candidate(const struct rp_att *a)
{
	return a->wall_ms >= 0 && a->mem >= 0 && RP_MEASURED(a->cls);
}

/* The scatter's sample: every attempt that stopped at a limit (up to
 * SCATTER_LIMIT_MAX: those are what --mem and --timeout are tuned on), then
 * a uniform sample of the others, each in the order of sample_key(). */
static int scatter_points(struct rp *r, struct rp_scatter *sc)
{
	const struct rp_att **c = malloc((r->natt ? r->natt : 1) * sizeof *c);
	sc->pts = calloc(SCATTER_MAX, sizeof *sc->pts);
	if (!c || !sc->pts) {
		free(c);
		return -1;
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t n = 0;
		for (size_t i = 0; i < r->natt; i++)
			if (scatter_candidate(&r->att[i]) && (r->att[i].cls == RP_LIMIT) == !pass)
				c[n++] = &r->att[i];
		qsort(c, n, sizeof *c, cmp_key);
		size_t cap = pass ? SCATTER_MAX - sc->n : SCATTER_LIMIT_MAX;
		for (size_t i = 0; i < n && i < cap && sc->n < SCATTER_MAX; i++) {
			struct rp_point *p = &sc->pts[sc->n++];
			p->x = (double)c[i]->wall_ms;
			p->y = (double)c[i]->mem;
			p->series = (int)c[i]->cls;
			/* borrowed from the attempt: scatter_free() leaves it */
			p->title = p->series ? c[i]->title : NULL;
		}
	}
	free(c);
	return 0;
}

/* 0.0034 -> "0.34%", 0.5 -> "50%". */
static const char *pct(char *buf, size_t len, double frac)
{
	double p = 100 * frac;
	snprintf(buf, len, p >= 10 || p == 0 ? "%.0f%%" : p >= 1 ? "%.1f%%" : "%.2g%%", p);
	return buf;
}

static void limits_note(struct rp *r, const double *ok_wall, const double *ok_mem)
{
	char pb[32];
	FILE *f = r->f;
	fputs("<p class=\"note\" id=\"limits\">", f);
	if (!r->spec_seen) {
		fputs("The limits are not recorded in this store (no run recorded its job spec): no"
		      " limit lines are drawn.", f);
	} else {
		fputs("Limits recorded by the runs: ", f);
		for (int i = 0; i < r->nmem; i++) {
			fputs(i ? ", " : "--mem ", f);
			rp_put_val(f, r->mem[i], RP_BYTES);
		}
		if (!r->nmem)
			fputs(r->mem_unlimited ? "no memory limit" : "memory limit not recorded", f);
		for (int i = 0; i < r->ntmo; i++) {
			fputs(i ? ", " : "; --timeout ", f);
			rp_put_val(f, r->tmo[i], RP_MS);
		}
		fputs(r->ntmo ? "." : "; no timeout recorded.", f);
		if (r->nmem && isfinite(ok_mem[3])) {
			fputs(" Successful attempts peaked at ", f);
			rp_put_val(f, ok_mem[3], RP_BYTES);
			fprintf(f, " (%s of --mem", pct(pb, sizeof pb, ok_mem[3] / r->mem[0]));
			fputs(r->nmem > 1 ? " of the latest run)" : ")", f);
			if (isfinite(ok_wall[3]) && r->ntmo)
				fprintf(f, " and took at most %s of --timeout",
					pct(pb, sizeof pb, ok_wall[3] / r->tmo[0]));
			fputs(".", f);
		}
	}
	fputs("</p>\n", f);
}

/* The wall-time histogram, with the --timeout limits as marks; *h is
 * reused by the scatter plot (its axis, series and marks). */
static int write_wall_hist(struct rp *r, const double st[6], struct rp_hist *h)
{
	*h = (struct rp_hist){ .nseries = 3, .x_title = "wall time per attempt" };
	h->series_label[0] = "ok", h->series_cls[0] = "c-ok";
	h->series_label[1] = "stopped at a limit (timeout, cpu_limit, oom, output_limit)";
	h->series_cls[1] = "c-limit";
	h->series_label[2] = "other failures", h->series_cls[2] = "c-fail";
	rp_axis_fit(&h->x, st[1], st[2], r->tmo, (size_t)r->ntmo, true, true, 1, RP_MS);
	for (int i = 0; i < r->ntmo; i++) {
		h->marks[h->nmarks].v = r->tmo[i];
		char v[48];
		rp_fmt(v, sizeof v, r->tmo[i], RP_MS);
		snprintf(h->marks[h->nmarks++].label, sizeof h->marks[0].label, "--timeout %s", v);
	}
	h->nbins = rp_hist_bins(&h->x);
	for (size_t i = 0; i < r->natt; i++)
		if (r->att[i].wall_ms >= 0 && RP_MEASURED(r->att[i].cls))
			rp_hist_add(h, (double)r->att[i].wall_ms, (int)r->att[i].cls);
	fputs("<h3>Wall time</h3>\n", r->f);
	rp_svg_hist(r->f, "chart-wall", "histogram of wall time per attempt", h);
	rp_put_legend(r->f, h);
	return 0;
}

static void scatter_free(struct rp_scatter *sc)
{
	free(sc->pts); /* the titles are the attempts' */
}

/* Peak memory against wall time, with the --mem limits as marks; *mmax is
 * the largest peak of any measured attempt (for the table). */
static int write_mem_scatter(struct rp *r, const struct rp_hist *h, double *mmax)
{
	FILE *f = r->f;
	struct rp_scatter sc = { .x_title = "wall time", .y_title = "peak memory" };
	for (int k = 0; k < 3; k++)
		sc.series_label[k] = h->series_label[k], sc.series_cls[k] = h->series_cls[k];
	double mmin = NAN, withmem = 0;
	*mmax = NAN;
	for (size_t i = 0; i < r->natt; i++) {
		const struct rp_att *a = &r->att[i];
		if (a->wall_ms < 0 || a->mem < 0 || !RP_MEASURED(a->cls))
			continue;
		mmin = isnan(mmin) ? (double)a->mem : fmin(mmin, (double)a->mem);
		*mmax = isnan(*mmax) ? (double)a->mem : fmax(*mmax, (double)a->mem);
		withmem++;
	}
	if (scatter_points(r, &sc) < 0) {
		scatter_free(&sc);
		return -1;
	}
	sc.x = h->x;
	rp_axis_fit(&sc.y, mmin, *mmax, r->mem, (size_t)r->nmem, true, true, 65536, RP_BYTES);
	for (int i = 0; i < r->ntmo; i++)
		sc.xmarks[sc.nxmarks++] = h->marks[i];
	for (int i = 0; i < r->nmem; i++) {
		char v[48];
		rp_fmt(v, sizeof v, r->mem[i], RP_BYTES);
		sc.ymarks[sc.nymarks].v = r->mem[i];
		snprintf(sc.ymarks[sc.nymarks++].label, sizeof sc.ymarks[0].label, "--mem %s", v);
	}
	fputs("<h3>Peak memory against wall time</h3>\n", f);
	if (sc.n) {
		rp_svg_scatter(f, "chart-scatter", "peak memory against wall time per attempt", &sc);
		rp_put_legend(f, h);
		fputs("<p class=\"note\">", f);
		rp_put_count(f, (int64_t)sc.n);
		fputs(" points", f);
		if ((double)sc.n < withmem) {
			fputs(", a fixed sample of ", f);
			rp_put_count(f, (int64_t)withmem);
			fputs(" attempts: all that stopped at a limit (up to 500), the rest uniformly", f);
		}
		fputs(". Hover over a failure for its file.</p>\n", f);
	} else {
		fputs("<p class=\"note\">No attempt recorded its peak memory.</p>\n", f);
	}
	scatter_free(&sc);
	return 0;
}

/* Median, 90%, 99% and max of the successful attempts, and the max of all. */
static void write_resource_table(FILE *f, const double ok_wall[4], const double ok_mem[4],
				 double wall_max, double mem_max)
{
	fputs("<table id=\"resource-stats\"><tr><th>successful attempts</th><th class=\"n\">median</th>"
	      "<th class=\"n\">90%</th><th class=\"n\">99%</th><th class=\"n\">max</th>"
	      "<th class=\"n\">max of all attempts</th></tr>\n", f);
	for (int row = 0; row < 2; row++) {
		const double *v = row ? ok_mem : ok_wall;
		enum rp_unit u = row ? RP_BYTES : RP_MS;
		fprintf(f, "<tr><td>%s</td>", row ? "peak memory" : "wall time");
		for (int i = 0; i < 4; i++) {
			fputs("<td class=\"n\">", f);
			rp_put_val(f, v[i], u);
			fputs("</td>", f);
		}
		fputs("<td class=\"n\">", f);
		rp_put_val(f, row ? mem_max : wall_max, u);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* Count, min and max wall time, min and max peak memory, and the ok
 * ones, of the measured attempts with a wall time (NAN when none). */
static void resource_stats(const struct rp *r, double st[6])
{
	st[0] = st[5] = 0;
	for (int k = 1; k < 5; k++)
		st[k] = NAN;
	for (size_t i = 0; i < r->natt; i++) {
		const struct rp_att *a = &r->att[i];
		if (a->wall_ms < 0 || !RP_MEASURED(a->cls))
			continue;
		double w = (double)a->wall_ms, m = (double)a->mem;
		st[0]++;
		st[1] = isnan(st[1]) ? w : fmin(st[1], w);
		st[2] = isnan(st[2]) ? w : fmax(st[2], w);
		if (a->mem >= 0) {
			st[3] = isnan(st[3]) ? m : fmin(st[3], m);
			st[4] = isnan(st[4]) ? m : fmax(st[4], m);
		}
		st[5] += a->cls == RP_OK;
	}
}

/* Median, 90%, 99% and max of wall time and peak memory of the ok attempts. */
static int ok_percentiles(const struct rp *r, double ok_wall[4], double ok_mem[4])
{
	static const double q[4] = { 0.5, 0.9, 0.99, 1 };
	double *w = malloc((r->natt ? r->natt : 1) * sizeof *w);
	double *m = malloc((r->natt ? r->natt : 1) * sizeof *m);
	if (!w || !m) {
		free(w), free(m);
		return -1;
	}
	size_t nw = 0, nm = 0;
	for (size_t i = 0; i < r->natt; i++) {
		if (r->att[i].cls != RP_OK)
			continue;
		if (r->att[i].wall_ms >= 0)
			w[nw++] = (double)r->att[i].wall_ms;
		if (r->att[i].mem >= 0)
			m[nm++] = (double)r->att[i].mem;
	}
	qsort(w, nw, sizeof *w, rp_cmp_doubles);
	qsort(m, nm, sizeof *m, rp_cmp_doubles);
	percentiles(w, (int64_t)nw, q, ok_wall, 4);
	percentiles(m, (int64_t)nm, q, ok_mem, 4);
	free(w), free(m);
	return 0;
}

int rp_write_resources(struct rp *r)
{
	FILE *f = r->f;
	double st[6];
	resource_stats(r, st);
	int64_t measured = (int64_t)st[0];
	fputs("<section id=\"resources\"><h2>Time and memory</h2>\n<p class=\"note\">", f);
	rp_put_count(f, measured);
	fputs(" measured attempts (of ", f);
	rp_put_count(f, r->attempts);
	fputs("; attempts given back on an interrupt are left out). Tune <code>--timeout</code> and"
	      " <code>--mem</code> from these: the dashed lines are the limits.</p>\n", f);
	double ok_wall[4], ok_mem[4];
	if (ok_percentiles(r, ok_wall, ok_mem) < 0) {
		snprintf(r->err, sizeof r->err, "report: out of memory");
		return -1;
	}
	limits_note(r, ok_wall, ok_mem);
	if (measured == 0) {
		fputs("<p class=\"note\">No attempt has finished yet.</p></section>\n", f);
		return 0;
	}
	struct rp_hist h;
	double mmax;
	if (write_wall_hist(r, st, &h) < 0 || write_mem_scatter(r, &h, &mmax) < 0) {
		snprintf(r->err, sizeof r->err, "report: out of memory");
		return -1;
	}
	write_resource_table(f, ok_wall, ok_mem, st[2], mmax);
	fputs("</section>\n", f);
	return 0;
}

/* ---- the built-in analyzer ---------------------------------------------------------- */

/* The flagged files' lists. */
enum flag { FLAG_CLIP, FLAG_SILENT, FLAG_DAMAGED };

static bool flagged(const struct rp_an *a, enum flag k)
{
	return k == FLAG_CLIP ? a->clipped > 0 : k == FLAG_SILENT ? a->silence >= SILENT_RATIO
								  : a->damaged;
}

static int cmp_path(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : ""); /* byte order, as the store orders paths */
}

/* Most clipped, most silent, truncated before damaged; then by path. */
static int cmp_flagged(const void *pa, const void *pb, void *ctx)
{
	const struct rp_an *a = *(const struct rp_an *const *)pa, *b = *(const struct rp_an *const *)pb;
	enum flag sort_flag = *(const enum flag *)ctx;
	double x = sort_flag == FLAG_CLIP ? a->clipped : sort_flag == FLAG_SILENT ? a->silence
										    : a->truncated;
	double y = sort_flag == FLAG_CLIP ? b->clipped : sort_flag == FLAG_SILENT ? b->silence
										    : b->truncated;
	if (x != y)
		return x > y ? -1 : 1;
	return cmp_path(a->path, b->path);
}

static void put_flagged(FILE *f, const struct rp_an *a, enum flag k)
{
	fputs("<li><code class=\"path\">", f);
	sr_text_put_str(f, a->path ? a->path : "", SR_TEXT_HTML_LINE);
	fputs("</code> <span class=\"meta\">", f);
	if (k == FLAG_CLIP) {
		rp_put_count(f, (int64_t)a->clipped);
		fputs(" clipped samples · true peak ", f);
		rp_put_val(f, a->tp, RP_DB);
		fputs(" dBTP", f);
	} else if (k == FLAG_SILENT) {
		fprintf(f, "%.0f%% silent", 100 * a->silence);
		if (isnan(a->lufs))
			fputs(" · no integrated loudness", f);
	} else {
		fputs(a->truncated ? "truncated" : "damaged", f);
		if (a->decoder_error) {
			fputs(" · ", f);
			sr_text_put_str(f, a->decoder_error, SR_TEXT_HTML_LINE);
		}
	}
	fputs("</span></li>\n", f);
}

static int flag_list(struct rp *r, const char *id, const char *title, enum flag k)
{
	FILE *f = r->f;
	size_t n = 0;
	for (size_t i = 0; i < r->nan; i++)
		n += flagged(&r->an[i], k);
	/* A heading, and the list folded under it (open it to read). */
	fprintf(f, "<details class=\"flag\" id=\"%s\"><summary><h3>%s <span class=\"tag %s\">", id,
		title, n > 0 ? "bad" : "good");
	rp_put_count(f, (int64_t)n);
	fprintf(f, " file%s</span></h3></summary>\n", n == 1 ? "" : "s");
	if (n == 0) {
		fputs("</details>\n", f);
		return 0;
	}
	const struct rp_an **v = malloc(n * sizeof *v);
	if (!v)
		return -1;
	size_t m = 0;
	for (size_t i = 0; i < r->nan; i++)
		if (flagged(&r->an[i], k))
			v[m++] = &r->an[i];
	qsort_r(v, m, sizeof *v, cmp_flagged, &k);
	fprintf(f, "<ol class=\"files\" id=\"%s-list\">\n", id);
	for (size_t i = 0; i < m && i < LIST_CAP; i++)
		put_flagged(f, v[i], k);
	free(v);
	fputs("</ol>\n", f);
	if (n > LIST_CAP) {
		fputs("<p class=\"more\">… and ", f);
		rp_put_count(f, (int64_t)n - LIST_CAP);
		fputs(" more.</p>\n", f);
	}
	fputs("</details>\n", f);
	return 0;
}

/* A field of the analyzer's reports. */
enum an_col { AN_LUFS, AN_TP, AN_DUR };

static double an_value(const struct rp_an *a, enum an_col c)
{
	return c == AN_LUFS ? a->lufs : c == AN_TP ? a->tp : a->dur;
}

static void an_hist(struct rp *r, enum an_col col, const char *id, const char *title,
		    const char *x_title, enum rp_unit u, bool allow_log, const double *marks,
		    const char *const *mark_labels, int nmarks)
{
	FILE *f = r->f;
	double lo = NAN, hi = NAN;
	size_t n = 0;
	for (size_t i = 0; i < r->nan; i++) {
		double v = an_value(&r->an[i], col);
		if (isnan(v))
			continue;
		lo = n ? fmin(lo, v) : v;
		hi = n ? fmax(hi, v) : v;
		n++;
	}
	fprintf(f, "<h3>%s</h3>\n", title);
	if (!n) {
		fprintf(f, "<p class=\"note\">No file has a %s.</p>\n", x_title);
		return;
	}
	struct rp_hist h = { .nseries = 1, .x_title = x_title };
	h.series_label[0] = "files", h.series_cls[0] = "c-run";
	rp_axis_fit(&h.x, lo, hi, NULL, 0, allow_log, u != RP_DB, 0.01, u);
	for (int i = 0; i < nmarks; i++) {
		h.marks[h.nmarks].v = marks[i];
		snprintf(h.marks[h.nmarks++].label, sizeof h.marks[0].label, "%s", mark_labels[i]);
	}
	h.nbins = rp_hist_bins(&h.x);
	for (size_t i = 0; i < r->nan; i++)
		rp_hist_add(&h, an_value(&r->an[i], col), 0);
	char aria[128];
	snprintf(aria, sizeof aria, "histogram of %s", x_title);
	rp_svg_hist(f, id, aria, &h);
}

int rp_write_analyzer(struct rp *r)
{
	FILE *f = r->f;
	fputs("<section id=\"analyzer\"><h2>Audio (built-in analyzer)</h2>\n", f);
	int64_t reports = (int64_t)r->nan;
	if (reports == 0) {
		fputs("<p class=\"note\" id=\"analyzer-none\">No report of the built-in analyzer in this"
		      " store", f);
		if (r->results > 0) {
			fputs(": its ", f);
			rp_put_count(f, r->results);
			fputs(" results come from another job (<code>--cmd</code>), so there is no audio to"
			      " chart.", f);
		} else {
			fputs(" yet.", f);
		}
		fputs("</p>\n</section>\n", f);
		return 0;
	}
	fputs("<p class=\"note\">", f);
	rp_put_count(f, reports);
	fputs(" analyzer reports of done files", f);
	if (r->results > reports) {
		fputs("; ", f);
		rp_put_count(f, r->results - reports);
		fputs(" other results are not analyzer reports and are left out", f);
	}
	fputs(".</p>\n", f);
	static const double lufs_marks[] = { -23 };
	static const char *const lufs_labels[] = { "EBU R128 −23 LUFS" };
	static const double tp_marks[] = { -1 };
	static const char *const tp_labels[] = { "−1 dBTP" };
	an_hist(r, AN_LUFS, "chart-lufs", "Integrated loudness", "integrated loudness (LUFS)", RP_DB,
		false, lufs_marks, lufs_labels, 1);
	int64_t nolufs = 0;
	for (size_t i = 0; i < r->nan; i++)
		nolufs += isnan(r->an[i].lufs);
	if (nolufs > 0) {
		fputs("<p class=\"note\">", f);
		rp_put_count(f, nolufs);
		fputs(nolufs == 1 ? " file has" : " files have", f);
		fputs(" no integrated loudness (silent, shorter than 400 ms, or not measurable).</p>\n",
		      f);
	}
	an_hist(r, AN_TP, "chart-truepeak", "True peak", "true peak (dBTP)", RP_DB, false, tp_marks,
		tp_labels, 1);
	an_hist(r, AN_DUR, "chart-duration", "Duration", "duration", RP_SECONDS, true, NULL, NULL, 0);
	if (flag_list(r, "clipping", "Files that clip", FLAG_CLIP) < 0 ||
	    flag_list(r, "silent", "Mostly silent files (90% or more)", FLAG_SILENT) < 0 ||
	    flag_list(r, "damaged", "Damaged or truncated files", FLAG_DAMAGED) < 0) {
		snprintf(r->err, sizeof r->err, "report: out of memory");
		return -1;
	}
	fputs("</section>\n", f);
	return 0;
}

/* ---- runs ------------------------------------------------------------------------- */

/* How a run ended, as a tag. */
static void put_run_end(FILE *f, const char *how, const char *by)
{
	if (!how)
		fputs("<span class=\"tag\">running, or died unseen</span>", f);
	else if (strcmp(how, "completed") == 0)
		fputs("<span class=\"tag good\">completed</span>", f);
	else if (strcmp(how, "interrupted") == 0) {
		fputs("<span class=\"tag bad\">interrupted", f);
		if (by) {
			fputs(" by ", f);
			sr_text_put_str(f, by, SR_TEXT_HTML_LINE);
		}
		fputs("</span>", f);
	} else if (strcmp(how, "lost") == 0)
		fputs("<span class=\"tag bad\">lost: the runner died</span>", f);
	else
		sr_text_put_str(f, how, SR_TEXT_HTML_LINE);
}

/* One row of the runs table. */
static void put_run_row(FILE *f, const struct rp_run *u, double secs, double rate, double maxrate)
{
	fprintf(f, "<tr><td>#%lld</td><td>", (long long)u->id);
	rp_put_time(f, u->started_ms);
	fputs("</td><td class=\"n\">", f);
	rp_put_val(f, secs * 1000, RP_MS);
	fputs("</td><td class=\"n\">", f);
	rp_put_count(f, u->fin);
	fputs(" <span class=\"meta\">(", f);
	rp_put_count(f, u->ok);
	fputs(" ok", f);
	if (u->rel > 0) {
		fputs(", ", f);
		rp_put_count(f, u->rel);
		fputs(" given back", f);
	}
	fprintf(f, ")</span></td><td><span class=\"tbar\" style=\"width:%.0fpx\"></span>%.2f/s"
		   "</td><td>",
		maxrate > 0 ? fmax(1, 80 * rate / maxrate) : 0, rate);
	put_run_end(f, u->how, u->by);
	/* One limit per line, never wrapped inside (class lim: nowrap). */
	fputs("</td><td class=\"lim\">", f);
	if (!isnan(u->mem_bytes)) {
		fputs("--mem ", f);
		if (u->mem_bytes > 0)
			rp_put_val(f, u->mem_bytes, RP_BYTES);
		else
			fputs("none", f);
	}
	if (!isnan(u->timeout_ms)) {
		fputs("<br>--timeout ", f);
		rp_put_val(f, u->timeout_ms, RP_MS);
	}
	fputs("</td><td>", f);
	sr_text_put_str(f, u->hostname, SR_TEXT_HTML_LINE);
	fputs("<br><span class=\"meta\">", f);
	sr_text_put_str(f, u->version, SR_TEXT_HTML_LINE);
	if (u->kind) {
		fputs(" · ", f);
		sr_text_put_str(f, u->kind, SR_TEXT_HTML_LINE);
	}
	fputs("</span></td></tr>\n", f);
}

static double run_secs(const struct rp_run *u)
{
	return u->until_ms > u->started_ms ? (double)(u->until_ms - u->started_ms) / 1000 : 0;
}

/* Nothing finished and nothing given back. */
static bool run_is_empty(const struct rp_run *u)
{
	return u->fin == 0 && u->rel == 0;
}

int rp_write_runs(struct rp *r)
{
	FILE *f = r->f;
	fputs("<section id=\"runs\"><h2>Runs</h2>\n", f);
	if (!r->runs) {
		fputs("<p class=\"note\">No run recorded.</p></section>\n", f);
		return 0;
	}
	size_t shown = r->nrun < RUNS_MAX ? r->nrun : RUNS_MAX; /* the newest */
	double maxrate = 0;
	int64_t empty = 0; /* runs that ran no attempt: a rerun with nothing to do, one
			      stopped before its first job; folded away below */
	for (size_t i = 0; i < shown; i++) {
		double secs = run_secs(&r->run[i]);
		maxrate = fmax(maxrate, secs > 0 ? (double)r->run[i].fin / secs : 0);
		empty += run_is_empty(&r->run[i]);
	}
	for (int pass = 1; pass <= 2; pass++) {
		if (pass == 2 && !empty)
			break;
		if (pass == 2) {
			fputs("<details id=\"runs-empty\"><summary>", f);
			rp_put_count(f, empty);
			fputs(empty == 1 ? " run" : " runs", f);
			fputs(" without any attempt (nothing to do, or stopped before the first job)</summary>\n", f);
		}
		fprintf(f, "<table id=\"%s\"><tr><th>run</th><th>started</th><th class=\"n\">"
			   "duration</th><th class=\"n\">finished</th><th>throughput</th><th>end</th>"
			   "<th>limits</th><th>host, version</th></tr>\n",
			pass == 1 ? "runs-table" : "runs-empty-table");
		for (size_t i = 0; i < shown; i++) {
			if (run_is_empty(&r->run[i]) != (pass == 2))
				continue;
			double secs = run_secs(&r->run[i]);
			put_run_row(f, &r->run[i], secs, secs > 0 ? (double)r->run[i].fin / secs : 0, maxrate);
		}
		fputs(pass == 2 ? "</table></details>\n" : "</table>\n", f);
	}
	if (r->runs > RUNS_MAX) {
		fputs("<p class=\"more\">The ", f);
		rp_put_count(f, RUNS_MAX);
		fputs(" most recent of ", f);
		rp_put_count(f, r->runs);
		fputs(" runs.</p>\n", f);
	}
	fputs("</section>\n", f);
	return 0;
}
