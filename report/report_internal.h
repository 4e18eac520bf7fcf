/* report/report_internal.h — shared by the report's sources only; not an
 * API (report/report.h is the module's contract).
 *
 * report/report.c reads the store (read-only, in one read transaction,
 * every distribution aggregated in SQL) and writes the page;
 * report/report_svg.c holds what the page is drawn with: number
 * formatting, axes, and the SVG charts (untrusted text is escaped by
 * lib/text.h's HTML policy);
 * report/report_sections.c the sections on time and memory, the analyzer
 * and the runs. Nothing here reaches the network: the page has inline CSS
 * and SVG, one small inline script (a load time marker) allowed by its
 * hash in the page's Content-Security-Policy.
 */
#ifndef SANDRUN_REPORT_INTERNAL_H
#define SANDRUN_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/text.h"

/* ---- report_svg.c: formatting ------------------------------ */

/* Untrusted bytes (paths, errors, stderr, anything from a result) are
 * written with lib/text.h's sr_text_put: SR_TEXT_HTML_LINE, or
 * SR_TEXT_HTML_PRE for a <pre> block. The output is always valid UTF-8. */

/* Units of an axis or a value. */
enum rp_unit {
	RP_NUM,     /* plain number */
	RP_MS,      /* milliseconds, shown as "850 ms", "1.2 s", "3.5 min" */
	RP_BYTES,   /* "512 KiB", "1.5 GiB" */
	RP_SECONDS, /* seconds of audio: "45 s", "3.0 min", "1.2 h" */
	RP_DB,      /* "-23.0" (the axis title carries LUFS / dBTP) */
};
/* Format v in unit u (compact, for ticks and tables). */
void rp_fmt(char *buf, size_t len, double v, enum rp_unit u);
/* 1234567 -> "1,234,567". */
void rp_fmt_count(char *buf, size_t len, int64_t n);

/* ---- axes -------------------------------------------------------------- */

struct rp_axis {
	double lo, hi;    /* data range shown; for log, both > 0 */
	bool log;
	enum rp_unit unit;
};
/* An axis that shows [dmin, dmax] and the extra values (limits, NAN when
 * unknown) on it: logarithmic when allow_log and the range spans more than
 * a factor of 50 (lo then at least `floor_pos`), else linear with nice
 * bounds (from 0 when from_zero and the data are non-negative). */
void rp_axis_fit(struct rp_axis *ax, double dmin, double dmax, const double *extra, size_t nextra,
		 bool allow_log, bool from_zero, double floor_pos, enum rp_unit unit);
/* An extra value (a limit) further than this factor beyond the data's
 * maximum does not stretch the axis: the chart keeps its width for the
 * data, and the limit is drawn as an off-scale marker at the edge. */
#define RP_OFFSCALE_FACTOR 2.0
/* Position of v on the axis in [0, 1] (clamped). */
double rp_axis_pos(const struct rp_axis *ax, double v);
/* Inverse: the value at position p in [0, 1]. */
double rp_axis_value(const struct rp_axis *ax, double p);
/* The histogram bin of v (0 .. nbins-1, clamped): the SQL function
 * sr_bin(v, lo, hi, nbins, log) does the same (report.c registers it). */
int rp_axis_bin(double lo, double hi, bool log, int nbins, double v);
/* Bins for a histogram on the axis: 1/8 decade on a log axis, the nice step
 * of rp_axis_fit on a linear one; 4 .. RP_MAX_BINS. */
int rp_hist_bins(const struct rp_axis *ax);

/* ---- charts ------------------------------------------------------------ */

/* Horizontal bar chart: one row per category. cls is a CSS class (c-ok,
 * c-fail, c-limit, c-pend, c-run); href, when set, links the row. */
struct rp_bar {
	const char *label;
	int64_t n;
	const char *cls;
	const char *href;
};
void rp_svg_bars(FILE *f, const char *id, const char *aria, const struct rp_bar *bars, size_t n);

#define RP_MAX_BINS 48
#define RP_MAX_SERIES 3
#define RP_MAX_MARKS 4

/* A vertical (on x) or horizontal (on y) reference line: a limit, a target. */
struct rp_mark {
	double v;
	char label[64];
};

/* A histogram: stacked series over bins of equal width on the axis
 * (equal width in log space for a log axis). */
struct rp_hist {
	struct rp_axis x;
	int nbins;
	int nseries;
	const char *series_label[RP_MAX_SERIES];
	const char *series_cls[RP_MAX_SERIES];
	int64_t count[RP_MAX_SERIES][RP_MAX_BINS];
	struct rp_mark marks[RP_MAX_MARKS];
	int nmarks;
	const char *x_title;
};
void rp_svg_hist(FILE *f, const char *id, const char *aria, const struct rp_hist *h);

struct rp_point {
	double x, y;
	int series;          /* 0 ok, 1 limit hit, 2 other failure */
	char *title;         /* malloc'd tooltip (untrusted text inside), or NULL */
};
struct rp_scatter {
	struct rp_axis x, y;
	struct rp_point *pts;
	size_t n;
	const char *series_label[RP_MAX_SERIES];
	const char *series_cls[RP_MAX_SERIES];
	struct rp_mark xmarks[RP_MAX_MARKS], ymarks[RP_MAX_MARKS];
	int nxmarks, nymarks;
	const char *x_title, *y_title;
};
/* Points of series 0 are drawn as one <path> (cheap at thousands of
 * points); the others as <circle>s with their title as a tooltip. */
void rp_svg_scatter(FILE *f, const char *id, const char *aria, const struct rp_scatter *s);

/* The page's stylesheet and inline script (fixed text), and the CSP
 * source expression 'sha256-...' of the script. */
extern const char rp_css[];
extern const char rp_script[];
void rp_script_hash(char *buf, size_t len);

/* ---- shared by the report's sources (report.c: reading, summary, failures,
 * the page; report_sections.c: time and memory, the analyzer, the runs) -- */

#include <sqlite3.h>

#define LIST_CAP 200           /* files listed per failure outcome / flag */
#define SCATTER_MAX 2000       /* points in the scatter */
#define SCATTER_LIMIT_MAX 500  /* of which stopped at a limit, at most */
#define RUNS_MAX 500           /* runs listed, the most recent */
#define SILENT_RATIO 0.9       /* "mostly silent": silence.ratio at least this */

/* Attempts that stopped at a limit: drawn orange (outcome_at_limit() of
 * lib/outcome.h, in SQL). */
#define LIMIT_OUTCOMES "('timeout','cpu_limit','oom','output_limit')"
/* Attempts that ended with a result: ok, and damaged (the input is, the
 * analysis is not: outcome_succeeded() of lib/outcome.h, in SQL). */
#define SUCCEEDED_OUTCOMES "('ok','damaged')"
#define SERIES_SQL \
	"CASE WHEN outcome IN " SUCCEEDED_OUTCOMES " THEN 0 WHEN outcome IN " LIMIT_OUTCOMES " THEN 1 ELSE 2 END"
/* Measured attempts: ended, not given back on interrupt (cut short). */
#define MEASURED_SQL "outcome IS NOT NULL AND outcome <> 'interrupted'"

struct rp {
	sqlite3 *db;
	FILE *f;
	const char *path;
	char err[512];
	int64_t items, done, failed, pending, running, attempts, runs;
	struct rp_bar fails[32];   /* failed items by outcome, most first */
	size_t nfails;
	double mem[RP_MAX_MARKS], tmo[RP_MAX_MARKS]; /* distinct recorded limits */
	int nmem, ntmo;
	bool mem_unlimited, spec_seen;
};

/* The failing helpers set r->err (naming the database) and return -1. */
int rp_fail(struct rp *r);
sqlite3_stmt *rp_prep(struct rp *r, const char *sql);
/* Finalize s; -1 (message set) unless rc is SQLITE_DONE. */
int rp_finish(struct rp *r, sqlite3_stmt *s, int rc);
/* The first row's n columns as doubles (NAN for NULL or no row). */
int rp_query_nums(struct rp *r, const char *sql, double *out, int n);
const char *rp_col_text(sqlite3_stmt *s, int i);
int64_t rp_col_i64(sqlite3_stmt *s, int i); /* -1 for NULL */
/* Fill a histogram whose axis is set: `sql` selects (bin, series, count)
 * with sr_bin(x, ?1, ?2, ?3, ?4). */
int rp_hist_query(struct rp *r, const char *sql, struct rp_hist *h);
void rp_put_count(FILE *f, int64_t n);
void rp_put_val(FILE *f, double v, enum rp_unit u);
void rp_put_time(FILE *f, int64_t ms); /* local time with its offset */
void rp_put_legend(FILE *f, const struct rp_hist *h);

int rp_write_resources(struct rp *r);
int rp_write_analyzer(struct rp *r);
int rp_write_runs(struct rp *r);

#endif
