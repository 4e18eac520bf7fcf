/* report/report_sections.c — the sections of `sandrun report` that chart
 * distributions: time and memory against the limits, the built-in
 * analyzer's reports, the runs (see report_internal.h, docs/report.md). */
#include "report/report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- time and memory ------------------------------------------------------------- */

/* Percentiles (0..1 in q, ascending) of one column over ordered rows. */
static int percentiles(struct rp *r, const char *sql, int64_t n, const double *q, double *out, int nq)
{
	for (int i = 0; i < nq; i++)
		out[i] = NAN;
	if (n <= 0)
		return 0;
	sqlite3_stmt *s = rp_prep(r, sql);
	if (!s)
		return -1;
	int rc, i = 0;
	int64_t row = 0;
	while (i < nq && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		while (i < nq && row == (int64_t)ceil(q[i] * (double)n) - 1 + (q[i] == 0)) {
			out[i++] = sqlite3_column_double(s, 0);
		}
		row++;
	}
	if (i == nq)
		rc = SQLITE_DONE;
	return rp_finish(r, s, rc);
}

static char *point_title(sqlite3_stmt *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	sr_text_put(m, sqlite3_column_blob(s, 3), (size_t)sqlite3_column_bytes(s, 3), SR_TEXT_HTML_LINE);
	fputs(": ", m);
	sr_text_put_str(m, rp_col_text(s, 4), SR_TEXT_HTML_LINE);
	fputs(", ", m);
	rp_put_val(m, sqlite3_column_double(s, 0), RP_MS);
	fputs(", ", m);
	rp_put_val(m, sqlite3_column_double(s, 1), RP_BYTES);
	fclose(m);
	return buf;
}

/* The scatter's sample: every attempt that stopped at a limit (up to
 * SCATTER_LIMIT_MAX: those are what --mem and --timeout are tuned on), then
 * a uniform sample of the others. Deterministic: ordered by a hash of the
 * attempt id, so the same store gives the same page. */
static int scatter_points(struct rp *r, struct rp_scatter *sc)
{
	static const char sql[] =
		"SELECT a.wall_ms, a.peak_memory_bytes, " SERIES_SQL ", i.path, a.outcome"
		" FROM rp_att a JOIN items i ON i.id = a.item_id WHERE a.wall_ms IS NOT NULL"
		" AND a.peak_memory_bytes IS NOT NULL AND " MEASURED_SQL " AND (a.outcome IN "
		LIMIT_OUTCOMES ") = ?2 ORDER BY (a.id * 2654435761) % 4294967296 LIMIT ?1";
	sc->pts = calloc(SCATTER_MAX, sizeof *sc->pts);
	if (!sc->pts)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_stmt *s = rp_prep(r, sql);
		if (!s)
			return -1;
		sqlite3_bind_int(s, 1, pass ? (int)(SCATTER_MAX - sc->n) : SCATTER_LIMIT_MAX);
		sqlite3_bind_int(s, 2, !pass);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW && sc->n < SCATTER_MAX) {
			struct rp_point *p = &sc->pts[sc->n++];
			p->x = sqlite3_column_double(s, 0);
			p->y = sqlite3_column_double(s, 1);
			p->series = sqlite3_column_int(s, 2);
			p->title = p->series ? point_title(s) : NULL;
		}
		if (rp_finish(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc) < 0)
			return -1;
	}
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
	if (rp_hist_query(r, "SELECT sr_bin(wall_ms, ?1, ?2, ?3, ?4) AS b, " SERIES_SQL " AS k, count(*)"
			  " FROM rp_att WHERE wall_ms IS NOT NULL AND " MEASURED_SQL " GROUP BY b, k",
		       h) < 0)
		return -1;
	fputs("<h3>Wall time</h3>\n", r->f);
	rp_svg_hist(r->f, "chart-wall", "histogram of wall time per attempt", h);
	rp_put_legend(r->f, h);
	return 0;
}

static void scatter_free(struct rp_scatter *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->pts[i].title);
	free(sc->pts);
}

/* Peak memory against wall time, with the --mem limits as marks; *mmax is
 * the largest peak of any measured attempt (for the table). */
static int write_mem_scatter(struct rp *r, const struct rp_hist *h, double *mmax)
{
	FILE *f = r->f;
	struct rp_scatter sc = { .x_title = "wall time", .y_title = "peak memory" };
	for (int k = 0; k < 3; k++)
		sc.series_label[k] = h->series_label[k], sc.series_cls[k] = h->series_cls[k];
	double mmin, withmem = 0;
	if (rp_query_nums(r, "SELECT min(peak_memory_bytes) FROM rp_att WHERE peak_memory_bytes"
			  " IS NOT NULL AND wall_ms IS NOT NULL AND " MEASURED_SQL, &mmin, 1) < 0 ||
	    rp_query_nums(r, "SELECT max(peak_memory_bytes) FROM rp_att WHERE wall_ms IS NOT NULL AND "
			  MEASURED_SQL, mmax, 1) < 0 ||
	    rp_query_nums(r, "SELECT count(*) FROM rp_att WHERE wall_ms IS NOT NULL AND"
			  " peak_memory_bytes IS NOT NULL AND " MEASURED_SQL, &withmem, 1) < 0 ||
	    scatter_points(r, &sc) < 0) {
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

int rp_write_resources(struct rp *r)
{
	FILE *f = r->f;
	double st[6];
	if (rp_query_nums(r, "SELECT count(*), min(wall_ms), max(wall_ms), min(peak_memory_bytes),"
			  " max(peak_memory_bytes), sum(outcome IN " SUCCEEDED_OUTCOMES ") FROM rp_att WHERE wall_ms"
			  " IS NOT NULL AND " MEASURED_SQL, st, 6) < 0)
		return -1;
	int64_t measured = isfinite(st[0]) ? (int64_t)st[0] : 0;
	int64_t ok = isfinite(st[5]) ? (int64_t)st[5] : 0; /* ok with a wall time */
	fputs("<section id=\"resources\"><h2>Time and memory</h2>\n<p class=\"note\">", f);
	rp_put_count(f, measured);
	fputs(" measured attempts (of ", f);
	rp_put_count(f, r->attempts);
	fputs("; attempts given back on an interrupt are left out). Tune <code>--timeout</code> and"
	      " <code>--mem</code> from these: the dashed lines are the limits.</p>\n", f);
	static const double q[4] = { 0.5, 0.9, 0.99, 1 };
	double ok_wall[4], ok_mem[4];
	double okmem_n;
	if (percentiles(r, "SELECT wall_ms FROM rp_att WHERE outcome IN " SUCCEEDED_OUTCOMES " AND wall_ms IS NOT NULL"
			   " ORDER BY wall_ms", ok, q, ok_wall, 4) < 0 ||
	    rp_query_nums(r, "SELECT count(*) FROM rp_att WHERE outcome IN " SUCCEEDED_OUTCOMES " AND peak_memory_bytes"
			  " IS NOT NULL", &okmem_n, 1) < 0 ||
	    percentiles(r, "SELECT peak_memory_bytes FROM rp_att WHERE outcome IN " SUCCEEDED_OUTCOMES " AND"
			   " peak_memory_bytes IS NOT NULL ORDER BY peak_memory_bytes",
			(int64_t)okmem_n, q, ok_mem, 4) < 0)
		return -1;
	limits_note(r, ok_wall, ok_mem);
	if (measured == 0) {
		fputs("<p class=\"note\">No attempt has finished yet.</p></section>\n", f);
		return 0;
	}
	struct rp_hist h;
	double mmax;
	if (write_wall_hist(r, st, &h) < 0 || write_mem_scatter(r, &h, &mmax) < 0)
		return -1;
	write_resource_table(f, ok_wall, ok_mem, st[2], mmax);
	fputs("</section>\n", f);
	return 0;
}

/* ---- the built-in analyzer ---------------------------------------------------------- */

/* Element i of the extracted array, NULL unless it is a JSON number of a
 * sane size (a hostile result may put a string, an object or 1e999 there). */
#define NUM(i) "CASE WHEN json_type(j, '$[" #i "]') IN ('integer','real') AND abs(json_extract(j," \
	       " '$[" #i "]')) < 1e250 THEN json_extract(j, '$[" #i "]') END"

static int flag_list(struct rp *r, const char *id, const char *title, const char *where,
		     const char *order, const char *what)
{
	FILE *f = r->f;
	char sql[512];
	double n;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM rp_an WHERE %s", where);
	if (rp_query_nums(r, sql, &n, 1) < 0)
		return -1;
	/* A heading, and the list folded under it (open it to read). */
	fprintf(f, "<details class=\"flag\" id=\"%s\"><summary><h3>%s <span class=\"tag %s\">", id,
		title, n > 0 ? "bad" : "good");
	rp_put_count(f, (int64_t)n);
	fprintf(f, " file%s</span></h3></summary>\n", n == 1 ? "" : "s");
	if (n <= 0) {
		fputs("</details>\n", f);
		return 0;
	}
	snprintf(sql, sizeof sql,
		 "SELECT path, clipped, tp, silence, lufs, truncated, decoder_error FROM rp_an"
		 " WHERE %s ORDER BY %s, path LIMIT %d", where, order, LIST_CAP);
	sqlite3_stmt *s = rp_prep(r, sql);
	if (!s)
		return -1;
	fprintf(f, "<ol class=\"files\" id=\"%s-list\">\n", id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fputs("<li><code class=\"path\">", f);
		sr_text_put(f, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), SR_TEXT_HTML_LINE);
		fputs("</code> <span class=\"meta\">", f);
		if (what[0] == 'c') {
			rp_put_count(f, rp_col_i64(s, 1));
			fputs(" clipped samples · true peak ", f);
			rp_put_val(f, sqlite3_column_type(s, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 2),
				RP_DB);
			fputs(" dBTP", f);
		} else if (what[0] == 's') {
			fprintf(f, "%.0f%% silent", 100 * sqlite3_column_double(s, 3));
			if (sqlite3_column_type(s, 4) == SQLITE_NULL)
				fputs(" · no integrated loudness", f);
		} else {
			fputs(sqlite3_column_int(s, 5) ? "truncated" : "damaged", f);
			if (sqlite3_column_type(s, 6) == SQLITE_TEXT) {
				fputs(" · ", f);
				sr_text_put(f, sqlite3_column_blob(s, 6), (size_t)sqlite3_column_bytes(s, 6), SR_TEXT_HTML_LINE);
			}
		}
		fputs("</span></li>\n", f);
	}
	fputs("</ol>\n", f);
	if (n > LIST_CAP) {
		fputs("<p class=\"more\">… and ", f);
		rp_put_count(f, (int64_t)n - LIST_CAP);
		fputs(" more.</p>\n", f);
	}
	fputs("</details>\n", f);
	return rp_finish(r, s, rc);
}

static int an_hist(struct rp *r, const char *col, const char *id, const char *title,
		   const char *x_title, enum rp_unit u, bool allow_log, const double *marks,
		   const char *const *mark_labels, int nmarks)
{
	FILE *f = r->f;
	char sql[512];
	double mm[3];
	snprintf(sql, sizeof sql, "SELECT min(%s), max(%s), count(%s) FROM rp_an", col, col, col);
	if (rp_query_nums(r, sql, mm, 3) < 0)
		return -1;
	fprintf(f, "<h3>%s</h3>\n", title);
	if (!(mm[2] > 0)) {
		fprintf(f, "<p class=\"note\">No file has a %s.</p>\n", x_title);
		return 0;
	}
	struct rp_hist h = { .nseries = 1, .x_title = x_title };
	h.series_label[0] = "files", h.series_cls[0] = "c-run";
	rp_axis_fit(&h.x, mm[0], mm[1], NULL, 0, allow_log, u != RP_DB, 0.01, u);
	for (int i = 0; i < nmarks; i++) {
		h.marks[h.nmarks].v = marks[i];
		snprintf(h.marks[h.nmarks++].label, sizeof h.marks[0].label, "%s", mark_labels[i]);
	}
	snprintf(sql, sizeof sql, "SELECT sr_bin(%s, ?1, ?2, ?3, ?4) AS b, 0, count(*) FROM rp_an"
		 " WHERE %s IS NOT NULL GROUP BY b", col, col);
	if (rp_hist_query(r, sql, &h) < 0)
		return -1;
	char aria[128];
	snprintf(aria, sizeof aria, "histogram of %s", x_title);
	rp_svg_hist(f, id, aria, &h);
	return 0;
}

int rp_write_analyzer(struct rp *r)
{
	FILE *f = r->f;
	fputs("<section id=\"analyzer\"><h2>Audio (built-in analyzer)</h2>\n", f);
	/* One pass over the results: each report's JSON is parsed once here
	 * (one json_extract of every field), and every distribution below is
	 * a GROUP BY over this small table. */
	if (sqlite3_exec(r->db,
			 "CREATE TEMP TABLE rp_an AS WITH a AS MATERIALIZED (SELECT i.path AS path,"
			 " json_extract(r.value, '$.loudness.integrated_lufs', '$.levels.true_peak_dbtp',"
			 " '$.format.duration_s', '$.levels.clipped_samples', '$.silence.ratio',"
			 " '$.damage.damaged', '$.damage.truncated', '$.damage.decoder_error') AS j"
			 " FROM items i JOIN results r ON r.item_id = i.id WHERE i.status = 'done'"
			 " AND CASE WHEN r.kind = 'json' THEN json_type(r.value, '$.levels') = 'object'"
			 " AND json_type(r.value, '$.format') = 'object' ELSE 0 END)"
			 " SELECT path, " NUM(0) " AS lufs, " NUM(1) " AS tp, " NUM(2) " AS dur, "
			 NUM(3) " AS clipped, " NUM(4) " AS silence,"
			 " json_extract(j, '$[5]') IS 1 AS damaged, json_extract(j, '$[6]') IS 1 AS truncated,"
			 " CASE WHEN json_type(j, '$[7]') = 'text' THEN json_extract(j, '$[7]') END"
			 " AS decoder_error FROM a",
			 NULL, NULL, NULL) != SQLITE_OK)
		return rp_fail(r);
	double n[2];
	if (rp_query_nums(r, "SELECT (SELECT count(*) FROM rp_an), (SELECT count(*) FROM items i JOIN"
			  " results r ON r.item_id = i.id WHERE i.status = 'done')", n, 2) < 0)
		return -1;
	if (!(n[0] > 0)) {
		fputs("<p class=\"note\" id=\"analyzer-none\">No report of the built-in analyzer in this"
		      " store", f);
		if (n[1] > 0) {
			fputs(": its ", f);
			rp_put_count(f, (int64_t)n[1]);
			fputs(" results come from another job (<code>--cmd</code>), so there is no audio to"
			      " chart.", f);
		} else {
			fputs(" yet.", f);
		}
		fputs("</p>\n</section>\n", f);
		return 0;
	}
	fputs("<p class=\"note\">", f);
	rp_put_count(f, (int64_t)n[0]);
	fputs(" analyzer reports of done files", f);
	if (n[1] > n[0]) {
		fputs("; ", f);
		rp_put_count(f, (int64_t)(n[1] - n[0]));
		fputs(" other results are not analyzer reports and are left out", f);
	}
	fputs(".</p>\n", f);
	static const double lufs_marks[] = { -23 };
	static const char *const lufs_labels[] = { "EBU R128 −23 LUFS" };
	static const double tp_marks[] = { -1 };
	static const char *const tp_labels[] = { "−1 dBTP" };
	double nolufs;
	if (an_hist(r, "lufs", "chart-lufs", "Integrated loudness", "integrated loudness (LUFS)", RP_DB,
		    false, lufs_marks, lufs_labels, 1) < 0 ||
	    rp_query_nums(r, "SELECT count(*) FROM rp_an WHERE lufs IS NULL", &nolufs, 1) < 0)
		return -1;
	if (nolufs > 0) {
		fputs("<p class=\"note\">", f);
		rp_put_count(f, (int64_t)nolufs);
		fputs(nolufs == 1 ? " file has" : " files have", f);
		fputs(" no integrated loudness (silent, shorter than 400 ms, or not measurable).</p>\n",
		      f);
	}
	if (an_hist(r, "tp", "chart-truepeak", "True peak", "true peak (dBTP)", RP_DB, false, tp_marks,
		    tp_labels, 1) < 0 ||
	    an_hist(r, "dur", "chart-duration", "Duration", "duration", RP_SECONDS, true, NULL, NULL,
		    0) < 0)
		return -1;
	char silent[64];
	snprintf(silent, sizeof silent, "silence >= %g", SILENT_RATIO);
	if (flag_list(r, "clipping", "Files that clip", "clipped > 0", "clipped DESC", "c") < 0 ||
	    flag_list(r, "silent", "Mostly silent files (90% or more)", silent, "silence DESC", "s") < 0 ||
	    flag_list(r, "damaged", "Damaged or truncated files", "damaged", "truncated DESC", "d") < 0)
		return -1;
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

/* One row of the runs table from the query in rp_write_runs. */
static void put_run_row(FILE *f, sqlite3_stmt *s, int64_t start, double secs, int64_t fin,
			double rate, double maxrate)
{
	fprintf(f, "<tr><td>#%lld</td><td>", (long long)rp_col_i64(s, 0));
	rp_put_time(f, start);
	fputs("</td><td class=\"n\">", f);
	rp_put_val(f, secs * 1000, RP_MS);
	fputs("</td><td class=\"n\">", f);
	rp_put_count(f, fin);
	fputs(" <span class=\"meta\">(", f);
	rp_put_count(f, rp_col_i64(s, 6));
	fputs(" ok", f);
	if (rp_col_i64(s, 7) > 0) {
		fputs(", ", f);
		rp_put_count(f, rp_col_i64(s, 7));
		fputs(" given back", f);
	}
	fprintf(f, ")</span></td><td><span class=\"tbar\" style=\"width:%.0fpx\"></span>%.2f/s"
		   "</td><td>",
		maxrate > 0 ? fmax(1, 80 * rate / maxrate) : 0, rate);
	const char *how = rp_col_text(s, 3), *by = rp_col_text(s, 4);
	put_run_end(f, how, by);
	/* One limit per line, never wrapped inside (class lim: nowrap). */
	fputs("</td><td class=\"lim\">", f);
	if (sqlite3_column_type(s, 8) != SQLITE_NULL) {
		double mem = sqlite3_column_double(s, 8);
		fputs("--mem ", f);
		if (mem > 0)
			rp_put_val(f, mem, RP_BYTES);
		else
			fputs("none", f);
	}
	if (sqlite3_column_type(s, 9) != SQLITE_NULL) {
		fputs("<br>--timeout ", f);
		rp_put_val(f, sqlite3_column_double(s, 9), RP_MS);
	}
	fputs("</td><td>", f);
	sr_text_put_str(f, rp_col_text(s, 10), SR_TEXT_HTML_LINE);
	fputs("<br><span class=\"meta\">", f);
	sr_text_put_str(f, rp_col_text(s, 11), SR_TEXT_HTML_LINE);
	if (rp_col_text(s, 12)) {
		fputs(" · ", f);
		sr_text_put_str(f, rp_col_text(s, 12), SR_TEXT_HTML_LINE);
	}
	fputs("</span></td></tr>\n", f);
}

int rp_write_runs(struct rp *r)
{
	FILE *f = r->f;
	fputs("<section id=\"runs\"><h2>Runs</h2>\n", f);
	if (!r->runs) {
		fputs("<p class=\"note\">No run recorded.</p></section>\n", f);
		return 0;
	}
	double maxrate = 0;
	static const char sql[] =
		"WITH a AS (SELECT run_id, sum(ended_at IS NOT NULL AND outcome <> 'interrupted') AS fin,"
		" sum(outcome IN " SUCCEEDED_OUTCOMES ") AS ok, sum(outcome = 'interrupted') AS rel FROM rp_att"
		" GROUP BY run_id)"
		" SELECT r.id, r.started_at, coalesce(r.ended_at, r.heartbeat_at), r.how,"
		" json_extract(r.summary, '$.interrupted_by'), coalesce(a.fin, 0), coalesce(a.ok, 0),"
		" coalesce(a.rel, 0), json_extract(r.spec, '$.limits.mem_bytes'),"
		" json_extract(r.spec, '$.limits.timeout_ms'), r.hostname, r.version,"
		" json_extract(r.spec, '$.kind')"
		" FROM runs r LEFT JOIN a ON a.run_id = r.id ORDER BY r.id DESC LIMIT ?1";
	/* Pass 0: the fastest run, and how many ran no attempt at all (a rerun
	 * with nothing to do, one stopped before its first job); pass 1: the
	 * runs with attempts; pass 2: the others, folded away below. */
	int64_t empty = 0;
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 2 && !empty)
			break;
		sqlite3_stmt *s = rp_prep(r, sql);
		if (!s)
			return -1;
		sqlite3_bind_int(s, 1, RUNS_MAX);
		if (pass == 2) {
			fputs("<details id=\"runs-empty\"><summary>", f);
			rp_put_count(f, empty);
			fputs(empty == 1 ? " run" : " runs", f);
			fputs(" without any attempt (nothing to do, or stopped before the first job)</summary>\n", f);
		}
		if (pass)
			fprintf(f, "<table id=\"%s\"><tr><th>run</th><th>started</th><th class=\"n\">"
				   "duration</th><th class=\"n\">finished</th><th>throughput</th><th>end</th>"
				   "<th>limits</th><th>host, version</th></tr>\n",
				pass == 1 ? "runs-table" : "runs-empty-table");
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t start = rp_col_i64(s, 1), until = rp_col_i64(s, 2), fin = rp_col_i64(s, 5);
			bool none = fin == 0 && rp_col_i64(s, 7) == 0; /* nothing finished, nothing given back */
			double secs = until > start ? (double)(until - start) / 1000 : 0;
			double rate = secs > 0 ? (double)fin / secs : 0;
			if (!pass) {
				maxrate = fmax(maxrate, rate);
				empty += none;
				continue;
			}
			if (none == (pass == 2))
				put_run_row(f, s, start, secs, fin, rate, maxrate);
		}
		if (rp_finish(r, s, rc) < 0)
			return -1;
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

