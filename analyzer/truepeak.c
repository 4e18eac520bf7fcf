/* analyzer/truepeak.c — see truepeak.h. */
#include "analyzer/truepeak.h"

#include "analyzer/simd.h"

#include <math.h>
#include <stdbool.h>
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

/* The smallest gain of a phase for tones from 0 to 0.45 fs; the largest
 * goes to *max. */
static double min_passband_gain(const float *coef, unsigned ntaps, unsigned off, unsigned p, double *max)
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
		*max = fmax(*max, hypot(re, im));
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
	double screen_gain = 1.0, screen_max = 1.0;
	for (unsigned q = 1; q < f->factor; q++) {
		unsigned p = q * F / f->factor;
		design_phase(f->screen[q], AN_TP_SCREEN_TAPS, AN_TP_SCREEN_OFF, p, SCREEN_BETA);
		screen_gain = fmin(screen_gain, min_passband_gain(f->screen[q], AN_TP_SCREEN_TAPS,
								  AN_TP_SCREEN_OFF, p, &screen_max));
	}
	const unsigned H = AN_TP_SCREEN_TAPS / 2, qm = f->factor / 2, qq = f->factor / 4;
	for (unsigned i = 0; i < H; i++) {
		const unsigned j = AN_TP_SCREEN_TAPS - 1 - i;
		f->mid[i] = f->screen[qm][i]; /* == screen[qm][j] */
		if (qq) {
			f->qsum[i] = f->screen[qq][i] + f->screen[qq][j];
			f->qdif[i] = f->screen[qq][i] - f->screen[qq][j];
		}
	}
	/* A margin of 1e-4 for float rounding in the sums. */
	const double grid = cos(M_PI / (2.0 * f->factor));
	f->refine_ratio = (float)(grid * screen_gain * (1.0 - 1e-4));
	f->grid_ratio = (float)(grid * screen_gain / screen_max * (1.0 - 1e-4));
}

void an_tp_channel_init(struct an_tp_channel *c)
{
	memset(c, 0, sizeof(*c));
}

/* The last AN_TP_HISTORY samples of history, then x[0 .. n). */
static void keep_history(struct an_tp_channel *c, const float *x, size_t n)
{
	if (n >= AN_TP_HISTORY) {
		memcpy(c->history, x + n - AN_TP_HISTORY, sizeof(c->history));
		return;
	}
	memmove(c->history, c->history + n, (AN_TP_HISTORY - n) * sizeof(float));
	memcpy(c->history + AN_TP_HISTORY - n, x, n * sizeof(float));
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

/* The screened value at grid point g (0 .. factor) of interval s. */
static float screened(const struct an_tp_filter *f, const float *s, unsigned g)
{
	if (g == 0 || g == f->factor)
		return fabsf(s[T - 1 - D + (g ? 1 : 0)]);
	float y = 0.0f;
	for (unsigned i = 0; i < AN_TP_SCREEN_TAPS; i++)
		y += f->screen[g][i] * s[AN_TP_SCREEN_OFF + i];
	return fabsf(y);
}

/* An interval the screen flagged. The largest screened grid point is
 * computed with the full filter; unless even that value, less the worst
 * case a 4x grid can miss and the screen can misjudge (grid_ratio), stays
 * below the peak, the 16x points within one grid step of it are too: the
 * continuous maximum lies within half a step of the nearest grid point,
 * and the screen picks that point or its neighbour. A maximum past one of
 * the interval's samples lies in the neighbouring interval, which holds
 * that sample too and so is flagged and refined on its own. */
static float refine(const struct an_tp_filter *f, struct an_tp_channel *c, const float *s, float peak)
{
	const int step = F / (int)f->factor;
	unsigned best = 0;
	float top = -1.0f;

	/* Slow content: around a crest between two samples a signal is
	 * nearly a parabola, so it rises above the larger sample by at most
	 * |second difference| / 8; twice that is the bound taken. Trusted
	 * only where the second differences are small next to the samples
	 * (below a quarter of them: a tone below about 0.08 fs, or little
	 * energy higher up), where it holds with room; there it spares the
	 * many intervals near the crests of a loud low tone. */
	{
		const float *x = s + T - 1 - D; /* x[0], x[1]: the interval's samples */
		float hi = fmaxf(fabsf(x[0]), fabsf(x[1]));
		float d2 = fmaxf(fabsf(x[-1] - 2.0f * x[0] + x[1]), fabsf(x[0] - 2.0f * x[1] + x[2]));
		if (d2 <= 0.25f * hi && hi + 0.25f * d2 <= peak)
			return peak;
	}
	c->refined++;
	for (unsigned g = 0; g <= f->factor; g++) {
		float y = screened(f, s, g);
		if (y > top) {
			top = y;
			best = g;
		}
	}
	const int pos = (int)best * step;
	top = at(f, s, pos);
	peak = top > peak ? top : peak;
	if (top <= peak * f->grid_ratio)
		return peak;
	for (int d = 1; d <= step; d++) {
		if (pos - d > 0) {
			float a = at(f, s, pos - d);
			peak = a > peak ? a : peak;
		}
		if (pos + d < F) {
			float b = at(f, s, pos + d);
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

/* The screen's coefficients, each splatted to four lanes once per call:
 * the loop below then multiplies by a vector in memory instead of
 * broadcasting a scalar per tap and step (the same products, so the same
 * result). */
struct screen_lanes {
	an_f32x4 mid[AN_TP_SCREEN_TAPS / 2], qsum[AN_TP_SCREEN_TAPS / 2], qdif[AN_TP_SCREEN_TAPS / 2];
};

/* Intervals k = 0 .. n-1 of s (AN_TP_HISTORY samples of history, then
 * the n new ones). Four intervals per step on the screened grid phases;
 * an interval whose screened grid value or sample passes
 * refine_ratio * peak is refined. Inlined with L a constant (4 or 2), so
 * each factor is its own loop without a test per tap. */
static inline __attribute__((always_inline)) float
interpolate_peak_l(const struct an_tp_filter *f, struct an_tp_channel *c, const float *s, size_t k,
		   size_t n, float peak, const unsigned L)
{
	struct screen_lanes v;

	for (unsigned i = 0; i < AN_TP_SCREEN_TAPS / 2; i++) {
		v.mid[i] = an_splat(f->mid[i]);
		v.qsum[i] = an_splat(f->qsum[i]);
		v.qdif[i] = an_splat(f->qdif[i]);
	}
	for (; k + AN_LANES <= n; k += AN_LANES) {
		an_f32x4 m = an_max(an_abs(an_load(s + k + T - 1 - D)), an_abs(an_load(s + k + T - D)));
		const float *lo = s + k + AN_TP_SCREEN_OFF, *hi = lo + AN_TP_SCREEN_TAPS - 1;
		an_f32x4 ymid = an_splat(0.0f), ysum = an_splat(0.0f), ydif = an_splat(0.0f);
		for (unsigned i = 0; i < AN_TP_SCREEN_TAPS / 2; i++) {
			an_f32x4 x0 = an_load(lo + i), x1 = an_load(hi - i);
			an_f32x4 a = x0 + x1;
			ymid += v.mid[i] * a;
			if (L == 4) {
				ysum += v.qsum[i] * a;
				ydif += v.qdif[i] * (x0 - x1);
			}
		}
		m = an_max(m, an_abs(ymid));
		if (L == 4)
			m = an_max(m, (an_abs(ysum) + an_abs(ydif)) * an_splat(0.5f));
		/* No lane above the threshold: nothing to refine (the test
		 * below sees the same peak until a lane passes it). */
		if (!an_any(m > an_splat(peak * f->refine_ratio)))
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

#if defined(__x86_64__) && defined(__GNUC__)
#define TP_WIDE 1
typedef float tp_f32x8 __attribute__((vector_size(32)));
typedef int32_t tp_i32x8 __attribute__((vector_size(32)));

/* The factor-4 screen eight intervals at a time, for CPUs with AVX2
 * (chosen at run time; the build stays baseline x86-64). Each lane does
 * the very operations of interpolate_peak_l() in the same order (no FMA:
 * ISO C mode keeps multiplies and adds apart), and flagged intervals are
 * refined lane by lane in order with the peak carried along, so the
 * result is the same bit for bit. Returns how many intervals it took
 * (a multiple of 16); interpolate_peak_l() does the rest. */
__attribute__((target("avx2"))) static size_t
screen8(const struct an_tp_filter *f, struct an_tp_channel *c, const float *s, size_t n, float *peakp)
{
	tp_f32x8 mid[AN_TP_SCREEN_TAPS / 2], qsum[AN_TP_SCREEN_TAPS / 2], qdif[AN_TP_SCREEN_TAPS / 2];
	const tp_i32x8 absmask = { 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff,
				   0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff };
	const tp_f32x8 half = { 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f };
	float peak = *peakp;
	size_t k = 0;

	for (unsigned i = 0; i < AN_TP_SCREEN_TAPS / 2; i++) {
		mid[i] = (tp_f32x8){ 0 } + f->mid[i];
		qsum[i] = (tp_f32x8){ 0 } + f->qsum[i];
		qdif[i] = (tp_f32x8){ 0 } + f->qdif[i];
	}
	/* Two groups of eight per step: their sums are independent chains,
	 * so one group's adds fill the other's latency. */
	for (; k + 16 <= n; k += 16) {
		tp_f32x8 m[2];
		for (int g = 0; g < 2; g++) {
			tp_f32x8 a0, a1;
			memcpy(&a0, s + k + 8 * g + T - 1 - D, sizeof(a0));
			memcpy(&a1, s + k + 8 * g + T - D, sizeof(a1));
			m[g] = __builtin_ia32_maxps256((tp_f32x8)((tp_i32x8)a0 & absmask),
						       (tp_f32x8)((tp_i32x8)a1 & absmask));
		}
		/* Named apart, not arrays: GCC keeps them in registers. */
		tp_f32x8 ymid0 = { 0 }, ysum0 = { 0 }, ydif0 = { 0 };
		tp_f32x8 ymid1 = { 0 }, ysum1 = { 0 }, ydif1 = { 0 };
		const float *lo = s + k + AN_TP_SCREEN_OFF, *hi = lo + AN_TP_SCREEN_TAPS - 1;
		for (unsigned i = 0; i < AN_TP_SCREEN_TAPS / 2; i++) {
			tp_f32x8 x0, x1, u0, u1;
			memcpy(&x0, lo + i, sizeof(x0));
			memcpy(&x1, hi - i, sizeof(x1));
			memcpy(&u0, lo + 8 + i, sizeof(u0));
			memcpy(&u1, hi + 8 - i, sizeof(u1));
			tp_f32x8 a = x0 + x1, b = u0 + u1;
			ymid0 += mid[i] * a;
			ymid1 += mid[i] * b;
			ysum0 += qsum[i] * a;
			ysum1 += qsum[i] * b;
			ydif0 += qdif[i] * (x0 - x1);
			ydif1 += qdif[i] * (u0 - u1);
		}
		const tp_f32x8 ymid[2] = { ymid0, ymid1 }, ysum[2] = { ysum0, ysum1 };
		const tp_f32x8 ydif[2] = { ydif0, ydif1 };
		for (int g = 0; g < 2; g++) {
			m[g] = __builtin_ia32_maxps256(m[g], (tp_f32x8)((tp_i32x8)ymid[g] & absmask));
			m[g] = __builtin_ia32_maxps256(m[g], ((tp_f32x8)((tp_i32x8)ysum[g] & absmask) +
							      (tp_f32x8)((tp_i32x8)ydif[g] & absmask)) * half);
		}
		/* Group by group, lane by lane, in order, with the peak
		 * carried: a group with no lane above the threshold has
		 * nothing to refine (the test below sees the same peak until
		 * a lane passes it). */
		for (int g = 0; g < 2; g++) {
			const tp_f32x8 vthresh = (tp_f32x8){ 0 } + peak * f->refine_ratio;
			if (!__builtin_ia32_movmskps256((tp_f32x8)(m[g] > vthresh)))
				continue;
			for (unsigned lane = 0; lane < 8; lane++)
				if (m[g][lane] > peak * f->refine_ratio)
					peak = refine(f, c, s + k + 8 * g + lane, peak);
		}
	}
	*peakp = peak;
	return k;
}
#else
#define TP_WIDE 0
#endif

/* How many chunks an_tp_push() measures at once (on the stack). */
#define PEAK_BATCH 32

#if TP_WIDE
/* max_abs() of each whole AN_TP_CHUNK-sample chunk of x[0 .. n), eight
 * lanes at a time, for CPUs with AVX2. The largest of a set of numbers
 * is the same whatever order they are compared in (none is NaN: the
 * analysis zeroes them), so own[j] is max_abs()'s, bit for bit. Returns
 * how many chunks it took. */
__attribute__((target("avx2"))) static size_t chunk_peaks8(const float *x, size_t n, float *own)
{
	const tp_i32x8 absmask = (tp_i32x8){ 0 } + 0x7fffffff;
	size_t j = 0;

	for (; (j + 1) * AN_TP_CHUNK <= n; j++) {
		const float *p = x + j * AN_TP_CHUNK;
		tp_f32x8 m = { 0 }, m2 = { 0 };
		for (unsigned i = 0; i < AN_TP_CHUNK; i += 16) {
			tp_f32x8 v, u;
			memcpy(&v, p + i, sizeof(v));
			memcpy(&u, p + i + 8, sizeof(u));
			m = __builtin_ia32_maxps256(m, (tp_f32x8)((tp_i32x8)v & absmask));
			m2 = __builtin_ia32_maxps256(m2, (tp_f32x8)((tp_i32x8)u & absmask));
		}
		m = __builtin_ia32_maxps256(m, m2);
		an_f32x4 h = an_max(__builtin_shufflevector(m, m, 0, 1, 2, 3),
				    __builtin_shufflevector(m, m, 4, 5, 6, 7));
		h = an_max(h, __builtin_shufflevector(h, h, 2, 3, 0, 1));
		h = an_max(h, __builtin_shufflevector(h, h, 1, 0, 3, 2));
		own[j] = h[0];
	}
	return j;
}
#endif

/* own[j] = max_abs() of x[j * AN_TP_CHUNK ..], the last chunk maybe
 * shorter; n <= PEAK_BATCH * AN_TP_CHUNK. */
static void chunk_peaks(const float *x, size_t n, float *own)
{
	size_t j = 0;

#if TP_WIDE
	if (an_simd_avx2())
		j = chunk_peaks8(x, n, own);
#endif
	for (; j * AN_TP_CHUNK < n; j++) {
		size_t k0 = j * AN_TP_CHUNK;
		own[j] = max_abs(x + k0, n - k0 < AN_TP_CHUNK ? n - k0 : AN_TP_CHUNK);
	}
}

static float interpolate_peak(const struct an_tp_filter *f, struct an_tp_channel *c, const float *s,
			      size_t n, float peak)
{
	size_t k = 0;

	if (f->factor != 4)
		return interpolate_peak_l(f, c, s, 0, n, peak, 2);
#if TP_WIDE
	if (an_simd_avx2())
		k = screen8(f, c, s, n, &peak);
#endif
	return interpolate_peak_l(f, c, s, k, n, peak, 4);
}

void an_tp_push(const struct an_tp_filter *f, struct an_tp_channel *c,
		const float *x, size_t n, float *scratch)
{
	if (n == 0 || f->factor == 1)
		return;

	/* Seen from here the stream is s = history, then x: s[j] is
	 * c->history[j] below AN_TP_HISTORY and x[j - AN_TP_HISTORY] from
	 * there. Output k reads s[k .. k + AN_TP_HISTORY]; until the stream
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
	 * result, and once the loudest passage has been seen most chunks are.
	 * A chunk's taps reach over s[k0 .. k0 + HISTORY + m): its own m
	 * samples x[k0 .. k0 + m) and the HISTORY before them, which lie
	 * within the previous chunk's own samples (AN_TP_CHUNK >=
	 * AN_TP_HISTORY) or, for the first chunk, are measured apart. So
	 * each sample's |x| is taken once; the window judged may be a little
	 * wider than the taps, which can only skip less, never change the
	 * result. */
	const float bound = f->gain_bound * 1.000001f;
	float before = 0.0f;
	if (first < n) {
		float h = max_abs(c->history + first, AN_TP_HISTORY - first);
		float y = max_abs(x, first);
		before = h > y ? h : y;
	}
	float own_batch[PEAK_BATCH];
	for (size_t k0 = first; k0 < n; k0 += AN_TP_CHUNK) {
		size_t m = n - k0 < AN_TP_CHUNK ? n - k0 : AN_TP_CHUNK;
		/* the chunks' peaks a batch at a time, in one loop */
		size_t j = (k0 - first) / AN_TP_CHUNK % PEAK_BATCH;
		if (j == 0) {
			size_t left = n - k0;
			chunk_peaks(x + k0, left < PEAK_BATCH * AN_TP_CHUNK ? left : PEAK_BATCH * AN_TP_CHUNK,
				    own_batch);
		}
		float own = own_batch[j];
		float reach = own > before ? own : before;
		before = own;
		if (reach * bound <= c->peak)
			continue;
		c->screened++;
		/* The window, contiguous: inside x, or (a window that starts in
		 * the history: the first chunk only) joined in scratch. No
		 * sample is copied for a chunk that is skipped. */
		const float *s;
		if (k0 >= AN_TP_HISTORY) {
			s = x + (k0 - AN_TP_HISTORY);
		} else {
			size_t old = AN_TP_HISTORY - k0;
			memcpy(scratch, c->history + k0, old * sizeof(float));
			memcpy(scratch + old, x, (k0 + m) * sizeof(float));
			s = scratch;
		}
		c->peak = interpolate_peak(f, c, s, m, c->peak);
	}
	keep_history(c, x, n);
}

double an_tp_result(const struct an_tp_channel *c, double sample_peak)
{
	return (double)c->peak > sample_peak ? (double)c->peak : sample_peak;
}
