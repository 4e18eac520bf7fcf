/* analyzer/stereo.h — the relation between the two channels of a stereo
 * file: correlation, what folding to mono loses, dual mono, inverted
 * polarity, a dead channel.
 *
 * Whole-file sums, one pass, constant memory: sum(L*R) and sum((L-R)^2)
 * here, sum(L^2) and sum(R^2) from the levels (levels.h). From them
 * (docs/analyzer.md repeats the definitions):
 *   correlation    sum(LR) / sqrt(sum(L^2) sum(R^2)): the phase meter's
 *                  uncentred correlation over the whole file, -1..+1
 *   mid, side      M = (L+R)/2, S = (L-R)/2, energies sum(M^2), sum(S^2)
 *   fold-down loss 10 log10(((sum(L^2) + sum(R^2)) / 2) / sum(M^2)) dB:
 *                  0 for identical channels, 3.01 for uncorrelated ones
 *                  of equal level, unbounded as they cancel (unweighted:
 *                  a K-weighted one would cost a second loudness filter)
 *   side to mid    10 log10(sum(S^2) / sum(M^2)) dB
 *   dual mono      sum(S^2) <= sum(M^2) * 10^(-40/10): the channels are
 *                  the same signal (a lossy codec's differences pass)
 *   inverted       correlation <= -0.5
 *   dead channel   every 50 ms window of it silent (levels.h, -60 dBFS)
 *                  while the other channel has sound
 * Pure: no I/O, no allocation.
 */
#ifndef SANDRUN_ANALYZER_STEREO_H
#define SANDRUN_ANALYZER_STEREO_H

#include <stdbool.h>
#include <stddef.h>

#define AN_STEREO_DUAL_MONO_DB (-40.0)
#define AN_STEREO_INVERTED_BELOW (-0.5)

struct an_stereo {
	double sum_lr;
	double sum_side2;   /* sum((L-R)^2) */
	double sum_mid2;    /* sum((L+R)^2) */
};

struct an_stereo_result {
	double correlation;      /* NaN when a channel is digital silence */
	double fold_down_loss_db; /* +inf when the fold-down cancels to silence, NaN for silence */
	double side_to_mid_db;   /* -inf for identical channels */
	bool dual_mono;
	bool inverted_polarity;
};

void an_stereo_push(struct an_stereo *s, const float *l, const float *r, size_t n);
/* sum_l2, sum_r2: the channels' sums of squares (levels.h). */
void an_stereo_result(const struct an_stereo *s, double sum_l2, double sum_r2,
		      struct an_stereo_result *out);

#endif
