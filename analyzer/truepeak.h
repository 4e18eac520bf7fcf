/* analyzer/truepeak.h — true-peak meter after ITU-R BS.1770-4 Annex 2.
 *
 * The signal is oversampled (x4 below 96 kHz, x2 below 192 kHz, none
 * above, as the Annex and libebur128 do) with a polyphase FIR
 * interpolator, and the largest absolute value of the oversampled signal
 * is the true peak. The filter is a Kaiser-windowed sinc of
 * AN_TP_TAPS_PER_PHASE taps per phase, cut off at the original Nyquist
 * frequency; every phase is scaled to unity gain at DC so that a constant
 * signal is not reported above itself. The phase that falls on the
 * original samples is an exact delta, so it is not computed: the sample
 * peak stands for it, and the true peak is never below the sample peak.
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

#include <stddef.h>
#include <stdint.h>

#define AN_TP_TAPS_PER_PHASE 12
#define AN_TP_MAX_FACTOR 4
#define AN_TP_HISTORY (AN_TP_TAPS_PER_PHASE - 1)

struct an_tp_filter {
	unsigned factor;   /* 1, 2 or 4 */
	/* coef[p][j] weighs x[k - j] for the output between x[k-D] and
	 * x[k-D+1] at fraction p/factor, D = TAPS/2 - 1 samples of delay. */
	float coef[AN_TP_MAX_FACTOR][AN_TP_TAPS_PER_PHASE];
	float gain_bound;  /* max over phases of sum |coef|: |y| <= bound * max|x| */
};

struct an_tp_channel {
	float history[AN_TP_HISTORY]; /* last samples, oldest first */
	unsigned primed;              /* how many of them are real samples */
	float peak;                   /* largest interpolated |y| so far */
};

/* Samples per skip decision (see an_tp_push). */
#define AN_TP_CHUNK 64

void an_tp_filter_init(struct an_tp_filter *f, uint32_t rate);
void an_tp_channel_init(struct an_tp_channel *c);

/* Feed n samples of one channel (contiguous). scratch must hold
 * AN_TP_HISTORY + n floats. Stretches of AN_TP_CHUNK samples that cannot
 * raise the peak (gain_bound times their largest |x| is not above the
 * peak so far) skip the filter. */
void an_tp_push(const struct an_tp_filter *f, struct an_tp_channel *c,
		const float *x, size_t n, float *scratch);

/* max(sample peak, interpolated peak), linear. */
double an_tp_result(const struct an_tp_channel *c, double sample_peak);

#endif
