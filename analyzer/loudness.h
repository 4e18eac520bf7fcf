/* analyzer/loudness.h — integrated loudness and loudness range per
 * ITU-R BS.1770-4 / EBU R128 (Tech 3341, Tech 3342), from libebur128.
 *
 * libebur128 runs in histogram mode (EBUR128_MODE_HISTOGRAM): gating
 * blocks are counted in 0.1 LU bins instead of kept in a list, so memory
 * does not grow with the file's length. Its remaining buffer is one 3 s
 * window of filtered audio, rate * channels * 3 s * 8 bytes, which a
 * hostile header can make huge (2.8 MHz x 64 channels = 4 GiB): above
 * AN_LOUDNESS_MAX_BUFFER bytes loudness is skipped, with the reason in
 * the report, rather than allocated.
 *
 * Channel weighting is libebur128's default map: L, R, C, (LFE unused),
 * Ls, Rs for up to six channels; 4 channels are L R Ls Rs and 5 are
 * L R C Ls Rs; further channels are not counted. A mono file is one
 * channel of weight 1.
 */
#ifndef SANDRUN_ANALYZER_LOUDNESS_H
#define SANDRUN_ANALYZER_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

#include <ebur128.h>

#define AN_LOUDNESS_MAX_BUFFER (64u << 20)

struct an_loudness {
	ebur128_state *st;
	const char *skipped;   /* why loudness is not measured, or NULL */
	int error;             /* first libebur128 error code, 0 if none */
};

/* Returns 0 (also when skipped: then l->skipped says why) or -ENOMEM. */
int an_loudness_init(struct an_loudness *l, unsigned channels, uint32_t rate);
void an_loudness_free(struct an_loudness *l);
void an_loudness_push(struct an_loudness *l, const float *frames, size_t nframes);
/* LUFS and LU; NaN where not measured, -INFINITY for integrated loudness
 * of a signal with no block above the absolute gate. */
void an_loudness_result(const struct an_loudness *l, double *integrated_lufs, double *range_lu);

#endif
