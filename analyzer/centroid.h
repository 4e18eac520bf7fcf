/* analyzer/centroid.h — mean spectral centroid (and the cutoff's long-term
 * spectrum) with sandrun's own FFT, fft.h.
 *
 * The channels are averaged to one signal (the centroid of a mix is what
 * a listener hears; one FFT per frame instead of one per channel keeps
 * the cost flat in the channel count). Frames of AN_FFT_SIZE samples,
 * hop AN_FFT_HOP (no overlap), periodic Hann window, real FFT. A frame's centroid is
 *     sum_k f_k |X_k| / sum_k |X_k|,   k = 0 .. N/2,  f_k = k * rate / N
 * and the result is the mean over the frames whose RMS (before the
 * window) is at or above the silence threshold, so that the noise floor
 * of pauses does not drag the mean about. A stream shorter than one frame
 * is measured once, zero-padded; a partial trailing frame is otherwise
 * left out. The loud frames wait, windowed, until AN_LANES of them are
 * there and are transformed together (fft.h: one frame per vector lane),
 * then measured in their order; an_centroid_finish transforms the last
 * few with the unused lanes zero. A frame's results do not depend on its
 * batch (fft.h), so batching changes when frames are measured, not what.
 * Memory: one frame of samples, AN_LANES windowed frames, one batch's
 * spectra.
 */
#ifndef SANDRUN_ANALYZER_CENTROID_H
#define SANDRUN_ANALYZER_CENTROID_H

#include <stddef.h>
#include <stdint.h>

#include <kiss_fftr.h>

#include "analyzer/fft.h"

#define AN_FFT_SIZE AN_FFT_N
/* Frames do not overlap: the result is a mean over frames, which
 * overlap would only reweight near frame edges, and it would double the
 * FFT work, the largest cost here after decoding and libebur128. */
#define AN_FFT_HOP 2048
#define AN_CENTROID_MAX_MIX 64  /* channels mixed in one vector pass */

struct an_centroid {
	struct an_fft fft;             /* tables */
	uint32_t rate;
	unsigned channels;
	size_t fill;                   /* samples in frame[] */
	uint64_t frames_seen;          /* FFT frames computed */
	uint64_t frames_used;          /* ... of which were loud enough */
	double centroid_sum;           /* sum of per-frame centroids, Hz */
	double gate_sum_sq;            /* frame sum of squares threshold */
	unsigned batched;              /* loud frames waiting in windowed[] */
	float frame[AN_FFT_SIZE];      /* the mono mix, oldest first */
	float window[AN_FFT_SIZE];
	an_fft_batch windowed;         /* the loud frames, windowed */
	struct an_fft_spectrum spectrum; /* the last batch's */
	double power_sum[AN_FFT_SIZE / 2 + 1]; /* summed over the frames used, under
						* Hann squared (an_cutoff_accumulate):
						* the long-term spectrum (transcode.h) */
	double power_pending[AN_FFT_SIZE / 2 + 1]; /* the last frame's, not yet in it */
	uint64_t power_frames;
};

/* Returns 0 (nothing is allocated; an int for the callers' error paths). */
int an_centroid_init(struct an_centroid *c, unsigned channels, uint32_t rate);
void an_centroid_free(struct an_centroid *c);
/* chan[c] points at nframes samples of channel c. */
void an_centroid_push(struct an_centroid *c, const float *const *chan, size_t nframes);
void an_centroid_finish(struct an_centroid *c);
/* Mean centroid in Hz, NaN when no frame was loud enough. */
double an_centroid_result(const struct an_centroid *c);

/* One frame's centroid from its magnitudes, in double: the tests' scalar
 * reference (kissfft's spectrum type: the tests' oracle FFT). */
double an_centroid_of_spectrum(const kiss_fft_cpx *spectrum, size_t bins, double bin_hz);

#endif
