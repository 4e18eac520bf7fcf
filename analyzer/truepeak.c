/* analyzer/truepeak.c — see truepeak.h. */
#include "analyzer/truepeak.h"

#include "analyzer/simd.h"

#include <math.h>
#include <string.h>

/* Kaiser window shape: a beta of 6 keeps the passband ripple of a 12-tap
 * phase well under 0.1 dB up to about 0.4 fs, where the BS.1770 test
 * tones sit (fs/4, fs/6, fs/8), and bounds the side lobes near -60 dB. */
#define KAISER_BETA 6.0

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

void an_tp_filter_init(struct an_tp_filter *f, uint32_t rate)
{
	memset(f, 0, sizeof(*f));
	f->factor = rate < 96000 ? 4 : rate < 192000 ? 2 : 1;
	if (f->factor == 1) {
		f->gain_bound = 1.0f;
		return;
	}
	/* The prototype has L*T + 1 taps centred on tap L*T/2; phase q takes
	 * taps q, q+L, q+2L, ... A sinc of period L has its zeros on the
	 * other phase-0 taps, so phase 0 is a pure delay (see the header). */
	const unsigned L = f->factor, T = AN_TP_TAPS_PER_PHASE;
	const double centre = (double)(L * T) / 2.0;
	const double i0_beta = bessel_i0(KAISER_BETA);
	float bound = 0.0f;

	for (unsigned q = 1; q < L; q++) {
		double h[AN_TP_TAPS_PER_PHASE], dc = 0.0;
		for (unsigned j = 0; j < T; j++) {
			double m = (double)(q + L * j) - centre;
			double t = m / (double)L;
			double sinc = sin(M_PI * t) / (M_PI * t); /* t is never 0 for q >= 1 */
			double r = m / centre;
			double w = bessel_i0(KAISER_BETA * sqrt(fmax(0.0, 1.0 - r * r))) / i0_beta;
			h[j] = sinc * w;
			dc += h[j];
		}
		float l1 = 0.0f;
		for (unsigned j = 0; j < T; j++) {
			f->coef[q][j] = (float)(h[j] / dc);
			l1 += fabsf(f->coef[q][j]);
		}
		if (l1 > bound)
			bound = l1;
	}
	f->gain_bound = bound;
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

/* Interpolate phases 1..L-1 for n new samples; s holds AN_TP_HISTORY
 * samples of history and then the n new ones. Output k (0 <= k < n)
 * weighs s[k + T - 1 - j] by coef[q][j]: eight outputs per step, the
 * twelve shifted loads shared by every phase. */
static float interpolate_peak(const struct an_tp_filter *f, const float *s, size_t n, float peak)
{
	const unsigned T = AN_TP_TAPS_PER_PHASE;
	an_f32x4 vpeak = an_splat(peak);
	size_t k = 0;

	for (; k + AN_LANES <= n; k += AN_LANES) {
		an_f32x4 x[AN_TP_TAPS_PER_PHASE];
		for (unsigned j = 0; j < T; j++)
			x[j] = an_load(s + k + T - 1 - j);
		for (unsigned q = 1; q < f->factor; q++) {
			an_f32x4 y = an_splat(0.0f);
			for (unsigned j = 0; j < T; j++)
				y += an_splat(f->coef[q][j]) * x[j];
			vpeak = an_max(vpeak, an_abs(y));
		}
	}
	peak = an_hmax(vpeak);
	for (; k < n; k++) {
		for (unsigned q = 1; q < f->factor; q++) {
			float y = 0.0f;
			for (unsigned j = 0; j < T; j++)
				y += f->coef[q][j] * s[k + T - 1 - j];
			peak = fabsf(y) > peak ? fabsf(y) : peak;
		}
	}
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

	/* |y| <= gain_bound * max|x| over the taps holds exactly; the factor
	 * covers float rounding in y. So a chunk whose inputs cannot beat the
	 * peak so far is skipped without changing the result, and once the
	 * loudest passage has been seen most chunks are. */
	const float bound = f->gain_bound * 1.000001f;
	for (size_t k0 = first; k0 < n; k0 += AN_TP_CHUNK) {
		size_t m = n - k0 < AN_TP_CHUNK ? n - k0 : AN_TP_CHUNK;
		if (max_abs(scratch + k0, m + AN_TP_HISTORY) * bound <= c->peak)
			continue;
		c->peak = interpolate_peak(f, scratch + k0, m, c->peak);
	}
	keep_history(c, scratch, AN_TP_HISTORY + n);
}

double an_tp_result(const struct an_tp_channel *c, double sample_peak)
{
	return (double)c->peak > sample_peak ? (double)c->peak : sample_peak;
}
