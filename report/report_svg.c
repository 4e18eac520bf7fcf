/* report/report_svg.c — what `sandrun report` draws with: number
 * formatting, axes and ticks, and the SVG charts (bars, stacked histogram,
 * scatter); untrusted text is escaped by lib/text.h. See report_internal.h. */
#include "report/report_internal.h"
#include "lib/text.h"
#include "lib/hash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- formatting ------------------------------------------------------------ */

/* "%.3g" without a trailing ".0" noise and without exponents for the
 * magnitudes a report shows. */
static void fmt_sig(char *buf, size_t len, double v)
{
	double a = fabs(v);
	if (a >= 100 || a == 0 || v == rint(v))
		snprintf(buf, len, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, len, "%.1f", v);
	else if (a >= 1)
		snprintf(buf, len, "%.2g", v);
	else
		snprintf(buf, len, "%.2g", v);
	/* "1.5" stays; "2.0" is never produced by %g. */
}

void rp_fmt(char *buf, size_t len, double v, enum rp_unit u)
{
	char n[48];
	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	switch (u) {
	case RP_MS:
		if (fabs(v) < 1000) {
			fmt_sig(n, sizeof n, v);
			snprintf(buf, len, "%s ms", n);
		} else if (fabs(v) < 120000) {
			fmt_sig(n, sizeof n, v / 1000);
			snprintf(buf, len, "%s s", n);
		} else if (fabs(v) < 7200000) {
			fmt_sig(n, sizeof n, v / 60000);
			snprintf(buf, len, "%s min", n);
		} else {
			fmt_sig(n, sizeof n, v / 3600000);
			snprintf(buf, len, "%s h", n);
		}
		return;
	case RP_SECONDS:
		rp_fmt(buf, len, v * 1000, RP_MS);
		return;
	case RP_BYTES: {
		static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
		int k = 0;
		double b = v;
		while (fabs(b) >= 1024 && k < 5) {
			b /= 1024;
			k++;
		}
		fmt_sig(n, sizeof n, b);
		snprintf(buf, len, "%s %s", n, units[k]);
		return;
	}
	case RP_DB:
		snprintf(buf, len, "%.1f", v);
		return;
	case RP_NUM:
	default:
		fmt_sig(buf, len, v);
		return;
	}
}

void rp_fmt_count(char *buf, size_t len, int64_t n)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n));
	size_t nd = strlen(digits), o = 0;
	char out[48];
	if (n < 0)
		out[o++] = '-';
	for (size_t i = 0; i < nd; i++) {
		if (i && (nd - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	snprintf(buf, len, "%s", out);
}

/* ---- axes ------------------------------------------------------------------ */

/* The smallest of 1, 2, 5 × 10^k that is >= x (x > 0). */
static double nice_step(double x)
{
	double p = pow(10, floor(log10(x)));
	double m = x / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* A linear step for a unit: bytes step in 1, 2, 5 × a power of 1024. */
static double unit_step(double x, enum rp_unit u)
{
	if (u == RP_BYTES) {
		double base = 1;
		while (x / base >= 1024)
			base *= 1024;
		return nice_step(x / base) * base;
	}
	return nice_step(x);
}

void rp_axis_fit(struct rp_axis *ax, double dmin, double dmax, const double *extra, size_t nextra,
		 bool allow_log, bool from_zero, double floor_pos, enum rp_unit unit)
{
	double lo = dmin, hi = dmax;
	bool have_data = isfinite(dmax) && dmax > 0;
	for (size_t i = 0; i < nextra; i++) {
		if (!isfinite(extra[i]) || (have_data && extra[i] > dmax * RP_OFFSCALE_FACTOR))
			continue; /* off scale: a marker at the edge, not empty width */
		lo = fmin(lo, extra[i]);
		hi = fmax(hi, extra[i]);
	}
	/* Hostile values (1e308 in a result) must not overflow the arithmetic
	 * below: such a range is drawn from 0 to 1, its values at the edges. */
	if (!isfinite(lo) || !isfinite(hi) || fabs(lo) > 1e250 || fabs(hi) > 1e250) {
		lo = 0;
		hi = 1;
	}
	ax->unit = unit;
	ax->log = allow_log && hi > 0 && hi / fmax(lo, floor_pos) > 50;
	if (ax->log) {
		lo = fmax(lo, floor_pos);
		/* Half-decade bounds: bins of 1/8 decade then line up with them. */
		ax->lo = pow(10, floor(2 * log10(lo)) / 2);
		ax->hi = pow(10, ceil(2 * log10(hi)) / 2);
		if (ax->hi <= ax->lo)
			ax->hi = ax->lo * pow(10, 0.5);
		return;
	}
	if (from_zero && lo >= 0)
		lo = 0;
	/* One value (or a few close ones): a span around it, 2 dB for levels. */
	double span = unit == RP_DB ? 2 : lo == 0 ? 1 : fabs(lo) * 0.2;
	if (hi - lo < span) {
		double mid = (lo + hi) / 2;
		lo = from_zero && mid - span / 2 < 0 ? 0 : mid - span / 2;
		hi = lo + span;
	}
	double step = unit_step((hi - lo) / 32, unit);
	ax->lo = floor(lo / step) * step;
	ax->hi = ceil(hi / step) * step;
	if (ax->hi <= hi)
		ax->hi += step; /* the maximum falls inside the last bin */
}

double rp_axis_pos(const struct rp_axis *ax, double v)
{
	double p;
	if (ax->log)
		p = v <= 0 ? 0 : (log10(v) - log10(ax->lo)) / (log10(ax->hi) - log10(ax->lo));
	else
		p = (v - ax->lo) / (ax->hi - ax->lo);
	return !isfinite(p) ? 0 : p < 0 ? 0 : p > 1 ? 1 : p;
}

double rp_axis_value(const struct rp_axis *ax, double p)
{
	if (ax->log)
		return pow(10, log10(ax->lo) + p * (log10(ax->hi) - log10(ax->lo)));
	return ax->lo + p * (ax->hi - ax->lo);
}

int rp_axis_bin(double lo, double hi, bool log, int nbins, double v)
{
	double p;
	if (log)
		p = v <= 0 ? 0 : (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
	else
		p = (v - lo) / (hi - lo);
	if (!isfinite(p) || p < 0)
		return 0;
	int b = (int)(p * nbins);
	return b >= nbins ? nbins - 1 : b;
}

int rp_hist_bins(const struct rp_axis *ax)
{
	int n;
	if (ax->log) {
		n = (int)lrint(8 * (log10(ax->hi) - log10(ax->lo)));
	} else {
		double step = unit_step((ax->hi - ax->lo) / 32, ax->unit);
		n = (int)lrint((ax->hi - ax->lo) / step);
	}
	return n < 4 ? 4 : n > RP_MAX_BINS ? RP_MAX_BINS : n;
}

#define MAX_TICKS 12

/* Tick values for an axis, at most MAX_TICKS. */
static size_t axis_ticks(const struct rp_axis *ax, double *t)
{
	size_t n = 0;
	if (!ax->log) {
		double step = unit_step((ax->hi - ax->lo) / 5, ax->unit);
		for (double v = ceil(ax->lo / step - 1e-9) * step; v <= ax->hi + step * 1e-9 && n < MAX_TICKS;
		     v += step)
			t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
		return n;
	}
	/* Candidates: time-friendly values for durations, powers of two for
	 * bytes, 1-2-5 decades otherwise; thinned until they fit. */
	double cand[256];
	size_t nc = 0;
	if (ax->unit == RP_MS || ax->unit == RP_SECONDS) {
		static const double ms[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 3e4,
					     6e4, 3e5, 6e5, 18e5, 36e5, 36e6, 864e5 };
		double scale = ax->unit == RP_SECONDS ? 1e-3 : 1;
		for (double d = 1e-3; d < 1; d *= 10)
			for (int k = 0; k < 3; k++)
				cand[nc++] = d * (k == 0 ? 1 : k == 1 ? 2 : 5) * scale;
		for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
			cand[nc++] = ms[i] * scale;
	} else if (ax->unit == RP_BYTES) {
		for (int k = 0; k < 60; k++)
			cand[nc++] = ldexp(1, k);
	} else {
		for (int e = -6; e <= 15; e++)
			for (int k = 0; k < 3; k++)
				cand[nc++] = pow(10, e) * (k == 0 ? 1 : k == 1 ? 2 : 5);
	}
	double in[256];
	size_t ni = 0;
	for (size_t i = 0; i < nc; i++)
		if (cand[i] >= ax->lo * 0.999 && cand[i] <= ax->hi * 1.001)
			in[ni++] = cand[i];
	size_t stride = 1;
	while (ni / stride > 7)
		stride++;
	for (size_t i = 0; i < ni && n < MAX_TICKS; i += stride)
		t[n++] = in[i];
	return n;
}

/* ---- charts ---------------------------------------------------------------- */

void rp_svg_bars(FILE *f, const char *id, const char *aria, const struct rp_bar *bars, size_t n)
{
	const int W = 720, label_w = 130, count_w = 90, row = 24, top = 6;
	int H = top * 2 + row * (int)(n ? n : 1);
	int64_t max = 1;
	for (size_t i = 0; i < n; i++)
		if (bars[i].n > max)
			max = bars[i].n;
	fprintf(f, "<svg id=\"%s\" class=\"chart bars\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
		id, W, H);
	sr_text_put_str(f, aria, SR_TEXT_HTML_LINE);
	fputs("\">\n", f);
	int bar_w = W - label_w - count_w;
	for (size_t i = 0; i < n; i++) {
		int y = top + row * (int)i;
		double w = bars[i].n > 0 ? fmax(2, (double)bar_w * (double)bars[i].n / (double)max) : 0;
		char cnt[32];
		rp_fmt_count(cnt, sizeof cnt, bars[i].n);
		if (bars[i].href) {
			fputs("<a href=\"", f);
			sr_text_put_str(f, bars[i].href, SR_TEXT_HTML_LINE);
			fputs("\">", f);
		}
		fprintf(f, "<text class=\"lbl\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w - 8,
			y + row / 2 + 4);
		sr_text_put_str(f, bars[i].label, SR_TEXT_HTML_LINE);
		fprintf(f, "</text><rect class=\"bar %s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
			   "<title>",
			bars[i].cls, label_w, y + 3, w, row - 6);
		sr_text_put_str(f, bars[i].label, SR_TEXT_HTML_LINE);
		fprintf(f, ": %s</title></rect><text class=\"cnt\" x=\"%.1f\" y=\"%d\">%s</text>", cnt,
			label_w + w + 6, y + row / 2 + 4, cnt);
		fputs(bars[i].href ? "</a>\n" : "\n", f);
	}
	fputs("</svg>\n", f);
}

/* Plot frame shared by the histogram and the scatter. */
struct frame {
	int W, H, L, R, T, B;
};
static double fx(const struct frame *fr, const struct rp_axis *ax, double v)
{
	return fr->L + rp_axis_pos(ax, v) * (fr->W - fr->L - fr->R);
}
static double fy(const struct frame *fr, const struct rp_axis *ax, double v)
{
	return fr->H - fr->B - rp_axis_pos(ax, v) * (fr->H - fr->T - fr->B);
}

static void x_axis(FILE *f, const struct frame *fr, const struct rp_axis *ax, const char *title)
{
	double t[MAX_TICKS];
	size_t n = axis_ticks(ax, t);
	int y0 = fr->H - fr->B;
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", fr->L, y0,
		fr->W - fr->R, y0);
	for (size_t i = 0; i < n; i++) {
		char lbl[48];
		rp_fmt(lbl, sizeof lbl, t[i], ax->unit);
		double x = fx(fr, ax, t[i]);
		/* A label at the right edge ends there instead of leaving the chart. */
		bool edge = x > fr->W - fr->R - 20;
		fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			   "<text class=\"tl\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>\n",
			x, y0, x, y0 + 4, edge ? fr->W - 2.0 : x, y0 + 16, edge ? "end" : "middle", lbl);
	}
	fprintf(f, "<text class=\"at\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s%s</text>\n",
		(fr->L + fr->W - fr->R) / 2, fr->H - 6, title, ax->log ? " (log scale)" : "");
}

static void y_axis(FILE *f, const struct frame *fr, const struct rp_axis *ax, const char *title)
{
	double t[MAX_TICKS];
	size_t n = axis_ticks(ax, t);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", fr->L, fr->T,
		fr->L, fr->H - fr->B);
	for (size_t i = 0; i < n; i++) {
		char lbl[48];
		rp_fmt(lbl, sizeof lbl, t[i], ax->unit);
		double y = fy(fr, ax, t[i]);
		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			   "<text class=\"tl\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			fr->L, y, fr->W - fr->R, y, fr->L - 5, y + 4, lbl);
	}
	fprintf(f, "<text class=\"at\" transform=\"translate(13 %d) rotate(-90)\" "
		   "text-anchor=\"middle\">%s%s</text>\n",
		(fr->T + fr->H - fr->B) / 2, title, ax->log ? " (log)" : "");
}

/* Where the mark labels of one chart went: each new one moves down a row
 * until it overlaps none of them (widths estimated from the 11px bold
 * label font; tests/suites/report.sh measures the real boxes). */
struct placed {
	int n;
	double x0[2 * RP_MAX_MARKS], y0[2 * RP_MAX_MARKS], x1[2 * RP_MAX_MARKS], y1[2 * RP_MAX_MARKS];
};

#define LABEL_CHAR_W 7.0
#define LABEL_ROW 13.0

/* The baseline for a label of `chars` characters anchored at x ("start"
 * or "end"), wanted at baseline y; rows downwards from there. */
static double place_label(struct placed *pl, double x, bool end, size_t chars, double y)
{
	double w = (double)chars * LABEL_CHAR_W, x0 = end ? x - w : x, x1 = end ? x : x + w;
	for (int tries = 0; tries < 2 * RP_MAX_MARKS; tries++, y += LABEL_ROW) {
		bool clear = true;
		for (int i = 0; i < pl->n && clear; i++)
			clear = x1 < pl->x0[i] || x0 > pl->x1[i] || y < pl->y0[i] || y - 11 > pl->y1[i];
		if (clear)
			break;
	}
	if (pl->n < 2 * RP_MAX_MARKS) {
		pl->x0[pl->n] = x0;
		pl->x1[pl->n] = x1;
		pl->y0[pl->n] = y - 11;
		pl->y1[pl->n] = y + 2;
		pl->n++;
	}
	return y;
}

/* A mark's label, escaped; off: it lies beyond the axis (arrow). */
static void put_mark_label(FILE *f, const struct rp_mark *m, const char *cls, double x, double y, bool end,
			   const char *arrow)
{
	fprintf(f, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", cls, x, y,
		end ? "end" : "start");
	sr_text_put_str(f, m->label, SR_TEXT_HTML_LINE);
	if (arrow)
		fprintf(f, " %s", arrow);
	fputs("</text>\n", f);
}

/* A vertical limit line with its label at the top; a limit beyond the
 * axis: a short dashed stub at the right edge and "LABEL →". */
static void x_mark(FILE *f, const struct frame *fr, const struct rp_axis *ax, const struct rp_mark *m,
		   struct placed *pl)
{
	if (!isfinite(m->v) || m->v < ax->lo)
		return;
	size_t chars = strlen(m->label) + 2;
	if (m->v > ax->hi) {
		double x = fr->W - fr->R;
		double y = place_label(pl, x, true, chars, fr->T + 10);
		fprintf(f, "<line class=\"mark off\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>", x, fr->T,
			x, y + 4);
		put_mark_label(f, m, "ml off", x - 4, y, true, "\u2192");
		return;
	}
	double x = fx(fr, ax, m->v);
	bool left = x > fr->W - fr->R - 140;
	double y = place_label(pl, left ? x - 4 : x + 4, left, chars, fr->T + 10);
	fprintf(f, "<line class=\"mark\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, fr->T, x,
		fr->H - fr->B);
	put_mark_label(f, m, "ml", left ? x - 4 : x + 4, y, left, NULL);
}

/* A horizontal limit line with its label above it at the left; a limit
 * beyond the axis: a short dashed stub at the top and "LABEL ↑". */
static void y_mark(FILE *f, const struct frame *fr, const struct rp_axis *ax, const struct rp_mark *m,
		   struct placed *pl)
{
	if (!isfinite(m->v) || m->v < ax->lo)
		return;
	size_t chars = strlen(m->label) + 2;
	if (m->v > ax->hi) {
		double y = place_label(pl, fr->L + 8, false, chars, fr->T + 10);
		fprintf(f, "<line class=\"mark off\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", fr->L,
			fr->T, fr->L + 6, fr->T);
		put_mark_label(f, m, "ml off", fr->L + 8, y, false, "\u2191");
		return;
	}
	double yl = fy(fr, ax, m->v);
	double y = place_label(pl, fr->L + 8, false, chars, yl < fr->T + 14 ? yl + 13 : yl - 4);
	fprintf(f, "<line class=\"mark\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", fr->L, yl,
		fr->W - fr->R, yl);
	put_mark_label(f, m, "ml", fr->L + 8, y, false, NULL);
}

void rp_svg_hist(FILE *f, const char *id, const char *aria, const struct rp_hist *h)
{
	const struct frame fr = { .W = 720, .H = 250, .L = 60, .R = 16, .T = 12, .B = 42 };
	int64_t max = 1;
	for (int b = 0; b < h->nbins; b++) {
		int64_t s = 0;
		for (int k = 0; k < h->nseries; k++)
			s += h->count[k][b];
		if (s > max)
			max = s;
	}
	struct rp_axis yax;
	rp_axis_fit(&yax, 0, (double)max, NULL, 0, false, true, 1, RP_NUM);
	yax.hi = fmax(yax.hi, 1);
	fprintf(f, "<svg id=\"%s\" class=\"chart hist\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
		id, fr.W, fr.H);
	sr_text_put_str(f, aria, SR_TEXT_HTML_LINE);
	fputs("\">\n", f);
	y_axis(f, &fr, &yax, "count");
	double pw = fr.W - fr.L - fr.R;
	for (int b = 0; b < h->nbins; b++) {
		double base = 0;
		double x0 = fr.L + pw * b / h->nbins, w = fmax(pw / h->nbins - 1, 1);
		char from[48], to[48];
		rp_fmt(from, sizeof from, rp_axis_value(&h->x, (double)b / h->nbins), h->x.unit);
		rp_fmt(to, sizeof to, rp_axis_value(&h->x, (double)(b + 1) / h->nbins), h->x.unit);
		for (int k = 0; k < h->nseries; k++) {
			int64_t c = h->count[k][b];
			if (!c)
				continue;
			double y1 = fy(&fr, &yax, base), y2 = fy(&fr, &yax, base + (double)c);
			char cnt[32];
			rp_fmt_count(cnt, sizeof cnt, c);
			fprintf(f, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				   "height=\"%.1f\"><title>%s to %s: %s %s</title></rect>\n",
				h->series_cls[k], x0, y2, w, fmax(y1 - y2, 0.5), from, to, cnt,
				h->series_label[k]);
			base += (double)c;
		}
	}
	x_axis(f, &fr, &h->x, h->x_title);
	struct placed pl = { 0 };
	for (int k = 0; k < h->nmarks; k++)
		x_mark(f, &fr, &h->x, &h->marks[k], &pl);
	fputs("</svg>\n", f);
}

void rp_svg_scatter(FILE *f, const char *id, const char *aria, const struct rp_scatter *s)
{
	const struct frame fr = { .W = 720, .H = 380, .L = 72, .R = 16, .T = 12, .B = 42 };
	fprintf(f, "<svg id=\"%s\" class=\"chart scatter\" viewBox=\"0 0 %d %d\" role=\"img\" "
		   "aria-label=\"",
		id, fr.W, fr.H);
	sr_text_put_str(f, aria, SR_TEXT_HTML_LINE);
	fputs("\">\n", f);
	y_axis(f, &fr, &s->y, s->y_title);
	x_axis(f, &fr, &s->x, s->x_title);
	/* Series 0: one path of zero-length round-capped segments. */
	fprintf(f, "<path class=\"pts %s\" d=\"", s->series_cls[0]);
	size_t col = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->pts[i].series != 0)
			continue;
		fprintf(f, "M%.1f %.1fh0", fx(&fr, &s->x, s->pts[i].x), fy(&fr, &s->y, s->pts[i].y));
		if (++col % 16 == 0)
			fputc('\n', f);
	}
	fputs("\"/>\n", f);
	for (size_t i = 0; i < s->n; i++) {
		const struct rp_point *p = &s->pts[i];
		if (p->series == 0)
			continue;
		fprintf(f, "<circle class=\"pt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\">",
			s->series_cls[p->series], fx(&fr, &s->x, p->x), fy(&fr, &s->y, p->y));
		if (p->title) {
			fputs("<title>", f);
			fputs(p->title, f); /* already escaped by the caller */
			fputs("</title>", f);
		}
		fputs("</circle>\n", f);
	}
	struct placed pl = { 0 };
	for (int k = 0; k < s->nxmarks; k++)
		x_mark(f, &fr, &s->x, &s->xmarks[k], &pl);
	for (int k = 0; k < s->nymarks; k++)
		y_mark(f, &fr, &s->y, &s->ymarks[k], &pl);
	fputs("</svg>\n", f);
}

/* ---- the page's fixed parts -------------------------------------------------- */

const char rp_css[] =
	":root{--ok:#2e8b57;--fail:#c0392b;--limit:#e67e22;--pend:#95a5a6;--run:#2980b9;"
	"--ink:#1d2330;--mute:#5d6675;--line:#d9dde3;--bg:#f6f7f9}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--ink);"
	"background:var(--bg)}\n"
	"header,main,footer{max-width:1040px;margin:0 auto;padding:0 20px}\n"
	"header{padding-top:18px}\n"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 10px}"
	"h3{font-size:15px;margin:16px 0 6px}\n"
	"section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px;"
	"margin:14px 0}\n"
	".sub{color:var(--mute);margin:0}.note{color:var(--mute);font-size:13px}\n"
	"nav{margin:10px 0}nav a{margin-right:14px}\n"
	".cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}\n"
	".card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 14px;"
	"min-width:110px}.card b{display:block;font-size:20px}.card span{color:var(--mute);"
	"font-size:12px}\n"
	".chart{width:100%;max-width:720px;height:auto;display:block;font-size:11px}\n"
	".chart .lbl,.chart .cnt,.chart .tl,.chart .at,.chart .ml{fill:var(--ink)}\n"
	".chart .at{font-size:12px}.chart .ml{font-size:11px;font-weight:600;"
	"paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}\n"
	".axis,.tick{stroke:#777}.grid{stroke:#eceef1}\n"
	".mark{stroke:var(--fail);stroke-dasharray:5 4;stroke-width:1.5}\n"
	".c-ok{fill:var(--ok)}.c-fail{fill:var(--fail)}.c-limit{fill:var(--limit)}"
	".c-pend{fill:var(--pend)}.c-run{fill:var(--run)}\n"
	".pts{fill:none;stroke-width:6;stroke-linecap:round;stroke-opacity:.6}"
	".pts.c-ok{stroke:var(--ok)}\n"
	".pt{fill-opacity:.85;stroke:#fff;stroke-width:.5}\n"
	"#runs-table td:nth-child(2),#runs-table td:nth-child(4),td.lim{white-space:nowrap}\n"
	".legend{font-size:12px;color:var(--mute);margin:4px 0}"
	".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}\n"
	".sw.c-ok{background:var(--ok)}.sw.c-fail{background:var(--fail)}"
	".sw.c-limit{background:var(--limit)}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);"
	"vertical-align:top}th{color:var(--mute);font-weight:600}td.n,th.n{text-align:right;"
	"font-variant-numeric:tabular-nums}\n"
	"ol.files{margin:0;padding-left:28px}ol.files li{margin:5px 0}\n"
	/* Long lists are laid out only when scrolled to: at 100,000 items the
	 * failure lists are most of the page. */
	"ol.files{content-visibility:auto;contain-intrinsic-size:auto 600px}\n"
	"code,pre{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',monospace}"
	"code.path{word-break:break-all}\n"
	".err{color:var(--fail)}.meta{color:var(--mute);font-size:12px}\n"
	"pre{background:#f3f4f6;border:1px solid var(--line);padding:6px 8px;margin:4px 0;"
	"max-height:16em;overflow:auto;white-space:pre-wrap;word-break:break-all}\n"
	"details summary{cursor:pointer;color:var(--mute);font-size:12px}\n"
	"details.flag>summary{color:var(--ink)}details.flag>summary h3{display:inline-block}\n"
	".more{color:var(--mute);font-style:italic}\n"
	".tbar{display:inline-block;height:8px;background:var(--run);border-radius:2px;"
	"vertical-align:middle;margin-right:6px}\n"
	".tag{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;background:#eef0f3}"
	".tag.bad{background:#fbe3e0;color:#8e2418}.tag.good{background:#e0f2e8;color:#1d6b40}\n"
	"footer{color:var(--mute);font-size:12px;padding-bottom:30px}\n"
	"@media print{body{background:#fff}section{break-inside:avoid}}\n";

/* Records when the page was parsed, loaded and first painted (for the
 * suite's timing and for anyone who wonders). Fixed text: its SHA-256 is in
 * the page's Content-Security-Policy, so no other script can run. */
const char rp_script[] =
	"(function(){var m=document.getElementById('render-ms');"
	"m.setAttribute('data-parsed-ms',performance.now().toFixed(1));"
	"addEventListener('load',function(){var t=performance.now();"
	"m.setAttribute('data-load-ms',t.toFixed(1));"
	"m.textContent='Opened in '+Math.round(t)+' ms.';"
	"requestAnimationFrame(function(){requestAnimationFrame(function(){"
	"m.setAttribute('data-paint-ms',performance.now().toFixed(1));});});});})();";

void rp_script_hash(char *buf, size_t len)
{
	char b64[SR_SHA256_B64_LEN + 1];
	sr_sha256_base64(rp_script, strlen(rp_script), b64);
	snprintf(buf, len, "'sha256-%s'", b64);
}
