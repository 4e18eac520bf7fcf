/* analyzer/truepeak.c — see truepeak.h. */
#include "analyzer/truepeak.h"

#include "analyzer/simd.h"

#include <math.h>
#include <string.h>

/* Kaiser window shape: with 48 taps per phase a beta of 8 gives about
 * 80 dB of stop band and a pass band flat within 0.01 dB up to 0.45 fs
 * (measured in tests/unit/test_analyzer_features.c). */
#define KAISER_BETA 8.0
/* The screen trades stop band for a flatter pass band: it only has to
 * say where a peak cannot be, and its droop at 0.45 fs widens the margin
 * (refine_ratio), so the flatter the fewer intervals are refined. */
#ifndef SCREEN_BETA
#define SCREEN_BETA 4.0
#endif

/* Taps and fine phases below: rev[p][i] weighs s[k + i] (oldest first). */
#define T AN_TP_TAPS_PER_PHASE
#define F AN_TP_FINE
/* The point of interval k lies after s[k + T - 1 - D] = s[k + T/2 - 1] by
 * p/F: the taps reach T/2 samples on either side of the interval. */
#define D (T / 2)

/* Modified Bessel function of the first kind, order 0, by its series;
 * converges in a few dozen terms for the arguments used here. */
static double bessel_i0(double x)
{
	double sum = 1.0, term = 1.0, q = x * x / 4.0;

	for (int k = 1; k < 64; k++) {
		term *= q / ((double)k * (double)k);
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return sum;
}

/* One phase of a Kaiser-windowed sinc: ntaps taps, tap i weighing
 * s[k + off + i], the point p/F after s[k + T - 1 - D]. The window spans
 * |t| <= ntaps/2 + 1, just past the furthest tap. Scaled to unity gain
 * at DC; returns the sum of |coef|. */
static float design_phase(float *coef, unsigned ntaps, unsigned off, unsigned p, double beta)
{
	const double half = (double)ntaps / 2.0 + 1.0;
	const double i0_beta = bessel_i0(beta);
	double h[T], dc = 0.0;

	for (unsigned i = 0; i < ntaps; i++) {
		double t = (double)(T - 1 - D) - (double)(off + i) + (double)p / F;
		double sinc = sin(M_PI * t) / (M_PI * t); /* t is never 0 for 0 < p < F */
		double r = t / half;
		double w = bessel_i0(beta * sqrt(fmax(0.0, 1.0 - r * r))) / i0_beta;
		h[i] = sinc * w;
		dc += h[i];
	}
	float l1 = 0.0f;
	for (unsigned i = 0; i < ntaps; i++) {
		coef[i] = (float)(h[i] / dc);
		l1 += fabsf(coef[i]);
	}
	return l1;
}

/* The smallest gain of a phase for tones from 0 to 0.45 fs. */
static double min_passband_gain(const float *coef, unsigned ntaps, unsigned off, unsigned p)
{
	double g = 1.0;
	for (double fr = 0.0; fr <= 0.4501; fr += 0.005) {
		double re = 0.0, im = 0.0;
		for (unsigned i = 0; i < ntaps; i++) {
			double t = (double)(T - 1 - D) - (double)(off + i) + (double)p / F;
			re += coef[i] * cos(2.0 * M_PI * fr * t);
			im += coef[i] * sin(2.0 * M_PI * fr * t);
		}
		g = fmin(g, hypot(re, im));
	}
	return g;
}

void an_tp_filter_init(struct an_tp_filter *f, uint32_t rate)
{
	memset(f, 0, sizeof(*f));
	f->factor = rate < 96000 ? 4 : rate < 192000 ? 2 : 1;
	if (f->factor == 1) {
		f->gain_bound = 1.0f;
		return;
	}
	/* Phase 0 is a pure delay (the samples themselves): not stored. */
	float bound = 0.0f;
	for (unsigned p = 1; p < F; p++) {
		float l1 = design_phase(f->fine[p], T, 0, p, KAISER_BETA);
		bound = l1 > bound ? l1 : bound;
	}
	f->gain_bound = bound;
	double screen_gain = 1.0;
	for (unsigned q = 1; q < f->factor; q++) {
		unsigned p = q * F / f->factor;
		design_phase(f->screen[q], AN_TP_SCREEN_TAPS, AN_TP_SCREEN_OFF, p, SCREEN_BETA);
		screen_gain = fmin(screen_gain, min_passband_gain(f->screen[q], AN_TP_SCREEN_TAPS,
								  AN_TP_SCREEN_OFF, p));
	}
	/* A margin of 1e-4 for float rounding in the screen's sums. */
	f->refine_ratio = (float)(cos(M_PI / (2.0 * f->factor)) * screen_gain * (1.0 - 1e-4));
}

void an_tp_channel_init(struct an_tp_channel *c)
{
	memset(c, 0, sizeof(*c));
}

static void keep_history(struct an_tp_channel *c, const float *s, size_t len)
{
	/* s holds len >= AN_TP_HISTORY samples, history first. */
	memcpy(c->history, s + len - AN_TP_HISTORY, sizeof(c->history));
}

static float max_abs(const float *s, size_t n)
{
	an_f32x4 m = an_splat(0.0f);
	float peak;
	size_t i = 0;

	for (; i + AN_LANES <= n; i += AN_LANES)
		m = an_max(m, an_abs(an_load(s + i)));
	peak = an_hmax(m);
	for (; i < n; i++)
		peak = fabsf(s[i]) > peak ? fabsf(s[i]) : peak;
	return peak;
}

/* One point: phase p of the interval whose taps start at s. */
static float point(const struct an_tp_filter *f, unsigned p, const float *s)
{
	an_f32x4 acc = an_splat(0.0f);

	for (unsigned i = 0; i < T; i += AN_LANES) {
		an_f32x4 c;
		memcpy(&c, &f->fine[p][i], sizeof(c));
		acc += c * an_load(s + i);
	}
	return fabsf((float)an_hsum(acc));
}

/* |y| at fine position pos (0 .. F) of interval s: 0 and F are its samples. */
static float at(const struct an_tp_filter *f, const float *s, int pos)
{
	return pos == 0 ? fabsf(s[T - 1 - D]) : pos == F ? fabsf(s[T - D]) : point(f, (unsigned)pos, s);
}

/* An interval the screen flagged: its grid points with the full filter,
 * then the fine points within half a grid step of the largest (where the
 * continuous maximum near it must lie). A maximum past one of its samples
 * lies in the neighbouring interval, which holds that sample too and so
 * is flagged and refined on its own. */
static float refine(const struct an_tp_filter *f, struct an_tp_channel *c, const float *s, float peak)
{
	const int step = F / (int)f->factor;
	int best = 0;
	float top = -1.0f;

	c->refined++;
	for (int g = 0; g <= (int)f->factor; g++) {
		float y = at(f, s, g * step);
		if (y > top) {
			top = y;
			best = g * step;
		}
	}
	peak = top > peak ? top : peak;
	/* With the full filter's grid values, the plain grid margin applies. */
	if (top <= peak * (float)cos(M_PI / (2.0 * f->factor)))
		return peak;
	for (int d = 1; d <= step / 2; d++) {
		if (best - d > 0) {
			float a = at(f, s, best - d);
			peak = a > peak ? a : peak;
		}
		if (best + d < F) {
			float b = at(f, s, best + d);
			peak = b > peak ? b : peak;
		}
	}
	return peak;
}

/* The screened grid phases and both samples of interval k. */
static float grid_max(const struct an_tp_filter *f, const float *s)
{
	float m = fmaxf(fabsf(s[T - 1 - D]), fabsf(s[T - D]));
	for (unsigned q = 1; q < f->factor; q++) {
		float y = 0.0f;
		for (unsigned i = 0; i < AN_TP_SCREEN_TAPS; i++)
			y += f->screen[q][i] * s[AN_TP_SCREEN_OFF + i];
		m = fmaxf(m, fabsf(y));
	}
	return m;
}

/* Intervals k = 0 .. n-1 of s (AN_TP_HISTORY samples of history, then
 * the n new ones). Four intervals per step on the screened grid phases;
 * an interval whose screened grid value or sample passes
 * refine_ratio * peak is refined. */
static float interpolate_peak(const struct an_tp_filter *f, struct an_tp_channel *c, const float *s,
			      size_t n, float peak)
{
	const unsigned L = f->factor;
	size_t k = 0;

	for (; k + AN_LANES <= n; k += AN_LANES) {
		an_f32x4 m = an_max(an_abs(an_load(s + k + T - 1 - D)), an_abs(an_load(s + k + T - D)));
		for (unsigned q = 1; q < L; q++) {
			const float *coef = f->screen[q];
			an_f32x4 y = an_splat(0.0f);
			for (unsigned i = 0; i < AN_TP_SCREEN_TAPS; i++)
				y += an_splat(coef[i]) * an_load(s + k + AN_TP_SCREEN_OFF + i);
			m = an_max(m, an_abs(y));
		}
		const float thresh = peak * f->refine_ratio;
		if (an_hmax(m) <= thresh)
			continue;
		for (unsigned lane = 0; lane < AN_LANES; lane++)
			if (m[lane] > peak * f->refine_ratio)
				peak = refine(f, c, s + k + lane, peak);
	}
	for (; k < n; k++)
		if (grid_max(f, s + k) > peak * f->refine_ratio)
			peak = refine(f, c, s + k, peak);
	return peak;
}

void an_tp_push(const struct an_tp_filter *f, struct an_tp_channel *c,
		const float *x, size_t n, float *scratch)
{
	if (n == 0 || f->factor == 1)
		return;
	memcpy(scratch, c->history, sizeof(c->history));
	memcpy(scratch + AN_TP_HISTORY, x, n * sizeof(float));

	/* Output k reads scratch[k .. k + AN_TP_HISTORY]; until the stream
	 * has filled the history, its first outputs would read samples from
	 * before the start. Those are skipped rather than taken as zeros: a
	 * stream that starts at 0.43 of full scale is not a step from
	 * silence, and the step's ringing read 0.3 to 0.6 dB high on the EBU
	 * Tech 3341 true-peak items. */
	size_t first = AN_TP_HISTORY - c->primed;
	c->primed = n >= first ? AN_TP_HISTORY : c->primed + (unsigned)n;

	/* |y| <= gain_bound * max|x| over the taps holds exactly for every
	 * fine phase; the factor covers float rounding in y. So a chunk whose
	 * inputs cannot beat the peak so far is skipped without changing the
	 * result, and once the loudest passage has been seen most chunks are. */
	const float bound = f->gain_bound * 1.000001f;
	for (size_t k0 = first; k0 < n; k0 += AN_TP_CHUNK) {
		size_t m = n - k0 < AN_TP_CHUNK ? n - k0 : AN_TP_CHUNK;
		if (max_abs(scratch + k0, m + AN_TP_HISTORY) * bound <= c->peak)
			continue;
		c->peak = interpolate_peak(f, c, scratch + k0, m, c->peak);
	}
	keep_history(c, scratch, AN_TP_HISTORY + n);
}

double an_tp_result(const struct an_tp_channel *c, double sample_peak)
{
	return (double)c->peak > sample_peak ? (double)c->peak : sample_peak;
}
