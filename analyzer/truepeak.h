/* analyzer/truepeak.h — true-peak meter after ITU-R BS.1770-4 Annex 2.
 *
 * The signal is oversampled (x4 below 96 kHz, x2 below 192 kHz, none
 * above, as the Annex and libebur128 do) with a polyphase FIR
 * interpolator, and the largest absolute value of the oversampled signal
 * is the true peak. The filter is a Kaiser-windowed sinc of
 * AN_TP_TAPS_PER_PHASE taps per phase (flat within 0.01 dB to 0.45 fs,
 * see docs/analyzer.md), cut off at the original Nyquist frequency; every
 * phase is scaled to unity gain at DC so that a constant signal is not
 * reported above itself. The phase that falls on the original samples is
 * an exact delta, so it is not computed: the sample peak stands for it.
 *
 * Refinement: on a 4x grid a peak between two grid points can read up to
 * 0.69 dB low (a tone at fs/2: cos(pi/8)); that is the Annex's own
 * bound, and most of the error on high-frequency content. So the grid is
 * first screened with a shorter filter (AN_TP_SCREEN_TAPS per phase);
 * wherever a screened grid point (or a sample) comes within that margin
 * of the peak so far, the grid points of the interval are computed with
 * the full filter and the AN_TP_FINE (16x) points around the largest one
 * too: the grid error drops to cos(pi/32), 0.04 dB at fs/2. Intervals
 * that cannot hold a new peak are not refined, so this costs little once
 * the loud passages have been seen.
 *
 * Only points whose every tap falls on a real sample are measured: no
 * zeros are invented before the first sample or after the last, so the
 * first and last few inter-sample gaps of a stream are covered by the
 * sample peak alone.
 *
 * Memory is constant: TAPS-1 samples of history per channel. Pure
 * computation; the caller deinterleaves.
 */
#ifndef SANDRUN_ANALYZER_TRUEPEAK_H
#define SANDRUN_ANALYZER_TRUEPEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AN_TP_TAPS_PER_PHASE 48
#define AN_TP_SCREEN_TAPS 24
#define AN_TP_MAX_FACTOR 4
#define AN_TP_FINE 16
#define AN_TP_HISTORY (AN_TP_TAPS_PER_PHASE - 1)

struct an_tp_filter {
	unsigned factor;   /* 1, 2 or 4 */
	/* fine[p][j] weighs x[k - j] for the point between x[k-D] and
	 * x[k-D+1] at fraction p/AN_TP_FINE, D = TAPS/2 samples of
	 * delay. Grid phase q of factor L is fine[q * AN_TP_FINE / L]. */
	float fine[AN_TP_FINE][AN_TP_TAPS_PER_PHASE];
	/* The screen: grid phase q (1 .. factor-1) with AN_TP_SCREEN_TAPS
	 * taps, screen[q][i] weighing s[k + AN_TP_SCREEN_OFF + i]. Cheaper
	 * than the fine bank and good enough to say where a peak cannot be. */
	float screen[AN_TP_MAX_FACTOR][AN_TP_SCREEN_TAPS];
	/* The same screen folded on its symmetry (the taps sit symmetrically
	 * about the mid phase; the quarter phases mirror each other): with
	 * a_i = s[i] + s[23-i] and b_i = s[i] - s[23-i] over the screen's
	 * taps, the mid phase is sum mid[i] a_i, and the quarter phases u, v
	 * give u + v = sum qsum[i] a_i, u - v = sum qdif[i] b_i, so
	 * max(|u|, |v|) = (|u + v| + |u - v|) / 2: half the multiplies. */
	float mid[AN_TP_SCREEN_TAPS / 2], qsum[AN_TP_SCREEN_TAPS / 2], qdif[AN_TP_SCREEN_TAPS / 2];
	float gain_bound;  /* max over phases of sum |coef|: |y| <= bound * max|x| */
	float grid_ratio;   /* cos(pi / (2 factor)) times the screen's worst
			     * gain over its largest (see refine()) */
	float refine_ratio; /* cos(pi / (2 factor)) times the screen's worst
			     * pass-band gain to 0.45 fs: a screened grid
			     * value below ratio * peak cannot sit next to a
			     * new peak */
};

struct an_tp_channel {
	float history[AN_TP_HISTORY]; /* last samples, oldest first */
	unsigned primed;              /* how many of them are real samples */
	float peak;                   /* largest interpolated |y| so far */
	uint64_t refined;             /* intervals evaluated at AN_TP_FINE phases */
	uint64_t screened;            /* chunks not skipped (see an_tp_push) */
};

#define AN_TP_SCREEN_OFF (AN_TP_TAPS_PER_PHASE / 2 - AN_TP_SCREEN_TAPS / 2)

/* Samples per skip decision (see an_tp_push); at least AN_TP_HISTORY. */
#define AN_TP_CHUNK 64
_Static_assert(AN_TP_CHUNK >= AN_TP_HISTORY, "a chunk's history lies in the chunk before");

void an_tp_filter_init(struct an_tp_filter *f, uint32_t rate);
void an_tp_channel_init(struct an_tp_channel *c);
/* The factor-4 screen and the chunks' peaks run eight lanes wide on CPUs
 * with AVX2 (simd.h), with the same result to the bit. */


/* Feed n samples of one channel (contiguous). scratch must hold
 * AN_TP_HISTORY + n floats. Stretches of AN_TP_CHUNK samples that cannot
 * raise the peak (gain_bound times their largest |x| is not above the
 * peak so far) skip the filter. */
void an_tp_push(const struct an_tp_filter *f, struct an_tp_channel *c,
		const float *x, size_t n, float *scratch);

/* max(sample peak, interpolated peak), linear. */
double an_tp_result(const struct an_tp_channel *c, double sample_peak);

#endif
