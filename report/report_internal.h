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

/* ---- shared by the report's sources (report_data.c: reading the store;
 * report.c: summary, failures, the page; report_sections.c: time and
 * memory, the analyzer, the runs) -- */

struct store;

#define LIST_CAP 200           /* files listed per failure outcome / flag */
#define SCATTER_MAX 2000       /* points in the scatter */
#define SCATTER_LIMIT_MAX 500  /* of which stopped at a limit, at most */
#define RUNS_MAX 500           /* runs listed, the most recent */
#define SILENT_RATIO 0.9       /* "mostly silent": silence.ratio at least this */

/* An attempt's class: its series on the charts (ok, stopped at a limit:
 * outcome_at_limit() of lib/outcome.h, other failure), or not measured:
 * given back on an interrupt (cut short) or still running. */
enum rp_class { RP_OK, RP_LIMIT, RP_FAIL, RP_INTERRUPTED, RP_OPEN };
#define RP_MEASURED(c) ((c) <= RP_FAIL)

/* One attempt, as the sections need it. */
struct rp_att {
	int64_t id, run_id;
	int64_t wall_ms, mem;  /* -1: not recorded */
	enum rp_class cls;
	bool ended;
	char *title;           /* a failure's tooltip (escaped), when it has both numbers */
};

/* One run (all of them, the newest first). */
struct rp_run {
	int64_t id, started_ms, until_ms;
	char *how, *by, *hostname, *version, *kind;
	double mem_bytes, timeout_ms;  /* NAN: not recorded */
	int64_t fin, ok, rel;          /* attempts finished, ok, given back */
};

/* One analyzer report; path and decoder_error kept only for flagged files. */
struct rp_an {
	double lufs, tp, dur, clipped, silence; /* NAN: absent */
	bool damaged, truncated;
	char *path, *decoder_error;
};

/* One failed file of a failure outcome's list (the first LIST_CAP by path). */
struct rp_failed {
	char *path, *error, *syscall;  /* error, syscall: NULL when none */
	int64_t attempts, exit_code, signal, wall_ms, mem, stderr_total;
	char *stderr_end;              /* the end of its stderr tail */
	size_t stderr_len;
};

struct rp {
	struct store *st;
	FILE *f;
	const char *path;          /* the store as shown (a URI's password masked) */
	char err[512];
	int64_t items, done, failed, pending, running, attempts, runs;
	struct rp_bar fails[32];   /* failed items by outcome, most first */
	size_t nfails;
	double mem[RP_MAX_MARKS], tmo[RP_MAX_MARKS]; /* distinct recorded limits */
	int nmem, ntmo;
	bool mem_unlimited, spec_seen;
	struct rp_att *att;        /* every attempt, by id */
	size_t natt;
	struct rp_run *run;        /* every run, the newest first */
	size_t nrun;
	struct rp_an *an;          /* every analyzer report of a done item */
	size_t nan;
	int64_t results;           /* done items with a result of any kind */
	struct rp_failed *failed_rows[32]; /* of fails[i], by path */
	size_t nfailed_rows[32];
	size_t att_cap, run_cap, an_cap;
};

/* report_data.c: read everything the page shows, in one snapshot; -1 with
 * r->err set (naming the store) on failure. rp_data_free() is safe after a
 * partial read. */
int rp_read(struct rp *r);
void rp_data_free(struct rp *r);
/* The failing helper: r->err from the store's message; returns -1. */
int rp_fail(struct rp *r);
/* Add v (skipped unless finite) to series k of a histogram whose axis and
 * bins are set. */
void rp_hist_add(struct rp_hist *h, double v, int k);
/* Sorts for the lists: bytes order of paths, as the store orders them. */
int rp_cmp_doubles(const void *a, const void *b);

void rp_put_count(FILE *f, int64_t n);
void rp_put_val(FILE *f, double v, enum rp_unit u);
void rp_put_time(FILE *f, int64_t ms); /* local time with its offset */
void rp_put_legend(FILE *f, const struct rp_hist *h);

int rp_write_resources(struct rp *r);
int rp_write_analyzer(struct rp *r);
int rp_write_runs(struct rp *r);
int rp_write_failures(struct rp *r);

#endif
