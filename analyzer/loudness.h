/* analyzer/loudness.h — integrated loudness (ITU-R BS.1770-4, EBU R128,
 * Tech 3341) and loudness range (EBU Tech 3342 v4, 2016), sandrun's own
 * implementation; libebur128 is the unit tests' oracle only.
 *
 * K-weighting: BS.1770's two stages (the 1681.97 Hz shelf and the
 * 38.14 Hz high-pass), their coefficients derived for any rate by the
 * bilinear transform from the same analogue constants libebur128 uses,
 * multiplied into one 4th-order filter run in direct form II in double
 * precision, as libebur128 runs it. The recursion is latency-bound (each
 * output needs the previous one), so the channels are the vector lanes:
 * two channels per 16-byte vector of doubles, a stereo file in one chain.
 * The squares of the filtered samples are summed per channel as they are
 * made, and the sums are read once per 100 ms sub-block (rate / 10
 * frames); nothing filtered is stored.
 *
 * Gating: a ring of the last 30 sub-block energies gives, every 100 ms:
 *   - a 400 ms gating block (the last 4) for integrated loudness, and
 *   - a 3 s short-term loudness (the last 30) for the loudness range:
 *     10 values per second, as Tech 3342 v4 (2016) asks ("at least
 *     10 Hz"), where libebur128's own LRA mode takes one per second
 *     (the 2011 revision).
 * Values above the -70 LUFS absolute gate are counted in 0.1 LU bins
 * from -70 to +1000 LUFS (past anything a float sample can reach), each
 * bin keeping its count, its energy sum and its loudness sum, so memory
 * does not grow with the file's length and no value is capped:
 *   - integrated loudness is the exact mean energy of the blocks above
 *     the relative gate (-10 LU); only blocks in the one 0.1 LU bin that
 *     holds the gate are taken or left together, by their mean energy;
 *   - the range is L95 - L10 (nearest rank) of the short-term values
 *     above the -20 LU relative gate, each percentile read as the mean
 *     loudness of the values in its bin.
 *
 * Channel weights follow a channel layout (an_loudness_set_layout), or
 * without one the default map: L, R, C, (LFE unused), Ls, Rs for up to
 * six channels; 4 channels are L R Ls Rs and 5 are L R C Ls Rs; further
 * channels are not counted. A mono file is one channel of weight 1.
 *
 * Limits kept from libebur128 so that the oracle measures everything the
 * analyzer reports: 16 Hz to 2.8224 MHz, at most 64 channels; outside
 * them loudness is skipped, with the reason in the report. Memory is
 * a few doubles per channel and the two fixed histograms.
 */
#ifndef SANDRUN_ANALYZER_LOUDNESS_H
#define SANDRUN_ANALYZER_LOUDNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/layout.h"

#define AN_LOUDNESS_MIN_RATE 16u
#define AN_LOUDNESS_MAX_RATE 2822400u
#define AN_LOUDNESS_MAX_CHANNELS 64u
/* 0.1 LU bins from -70 LUFS up */
#define AN_LOUDNESS_BIN_LU 0.1
#define AN_LOUDNESS_BINS 10700u
#define AN_LOUDNESS_SHORT_TERM_SUBS 30u /* 3 s of 100 ms sub-blocks */
#define AN_LOUDNESS_BLOCK_SUBS 4u       /* 400 ms */

struct an_loudness_hist {
	uint64_t count[AN_LOUDNESS_BINS];
	double energy[AN_LOUDNESS_BINS];
	double lufs[AN_LOUDNESS_BINS];
};

typedef double an_f64x2 __attribute__((vector_size(16)));

/* The K-weighting filter of two channels (lanes 0 and 1): direct form II
 * state v[n-1]..v[n-4], the channels' weights, and the sum of squares of
 * the filtered samples of the sub-block in progress. */
struct an_kw_pair {
	an_f64x2 v[4];
	an_f64x2 weight;
	an_f64x2 sum;
};

struct an_loudness {
	const char *skipped;   /* why loudness is not measured, or NULL */
	bool active;           /* initialised and not skipped */
	unsigned channels;
	double b[5], a[5];     /* the K-weighting filter, a[0] = 1 */
	struct an_kw_pair *pairs; /* (channels + 1) / 2 */
	size_t sub_frames;     /* frames per 100 ms sub-block, rate / 10 */
	size_t sub_fill;       /* frames in the sub-block in progress */
	uint64_t subs;         /* sub-blocks completed */
	double ring[AN_LOUDNESS_SHORT_TERM_SUBS]; /* their energies, last 30 */
	double max_block;      /* largest 400 ms (momentary) energy, ungated */
	double max_short_term; /* largest 3 s (short-term) energy, ungated */
	struct an_loudness_hist *blocks;     /* 400 ms gating blocks */
	struct an_loudness_hist *short_term; /* 3 s short-term values */
};

/* Returns 0 (also when skipped: then l->skipped says why) or -ENOMEM. */
int an_loudness_init(struct an_loudness *l, unsigned channels, uint32_t rate);
void an_loudness_free(struct an_loudness *l);
/* roles (enum an_chan_role): one per channel, before the first push;
 * NULL or all AN_CH_UNKNOWN keeps the default map. */
void an_loudness_set_layout(struct an_loudness *l, const uint8_t *roles, unsigned channels);
void an_loudness_push(struct an_loudness *l, const float *frames, size_t nframes);
/* LUFS and LU; NaN where not measured, -INFINITY for integrated loudness
 * of a signal with no block above the absolute gate; a range of 0 when
 * no short-term value passes the gates (shorter than 3 s, silence). */
void an_loudness_result(const struct an_loudness *l, double *integrated_lufs, double *range_lu);
/* The loudest momentary (400 ms) and short-term (3 s) loudness, LUFS,
 * over every 100 ms step (Tech 3341's M and S, ungated); NaN where not
 * measured, -INFINITY when the stream is shorter than the window or
 * digital silence. */
void an_loudness_maxima(const struct an_loudness *l, double *momentary_lufs, double *short_term_lufs);

#endif
