/* analyzer/fft.h — sandrun's own real FFT of AN_FFT_N (2048) points, four
 * frames at a time (the centroid's and the cutoff's spectra, centroid.h;
 * --spectral's, spectral.h).
 *
 * "Vertical" SIMD: each of the AN_LANES lanes of a vector holds a
 * different frame, so the transform is a plain radix-4 algorithm written
 * once on vectors, with no shuffles but in reading the frames in; a
 * lane's result does not depend on what the other lanes hold (the same
 * float operations in the same order per lane), so a frame's spectrum is
 * the same to the bit whichever lane it goes through and whatever shares
 * the batch.
 *
 * The real frame x[0 .. N-1] is packed as the complex sequence
 * z[n] = x[2n] + i x[2n+1] (N/2 = 1024 points), transformed by an
 * iterative radix-4 decimation-in-time FFT (1024 = 4^5: the input is read
 * into base-4 digit-reversed order, five stages, natural order out), and
 * split into the real input's spectrum by the standard post-processing
 * step:
 *     X[k] = E[k] + W^k O[k],  E = (Z[k] + conj Z[M-k]) / 2,
 *     O = (Z[k] - conj Z[M-k]) / 2i,  W = exp(-2 pi i / N),  M = N/2
 * X is the unscaled DFT, sum_n x[n] exp(-2 pi i k n / N), k = 0 .. N/2,
 * as kiss_fftr computes it (kissfft stays as the tests' oracle: it agrees
 * within float rounding, tests/unit/test_analyzer_fft.c).
 *
 * Why not a library: Debian's FFTW is GPL (the analyzer links no GPL
 * code), and no permissively licensed SIMD FFT is packaged; kissfft is
 * scalar and was a fifth of the analyzer's time. docs/analyzer.md,
 * "Issue 16 §4, third round".
 *
 * Pure: no I/O, no allocation; the tables are the caller's.
 */
#ifndef SANDRUN_ANALYZER_FFT_H
#define SANDRUN_ANALYZER_FFT_H

#include <stdint.h>

#include "analyzer/simd.h"

#define AN_FFT_N 2048
#define AN_FFT_M (AN_FFT_N / 2)         /* the complex transform's size */
#define AN_FFT_BINS (AN_FFT_N / 2 + 1)  /* bins 0 .. N/2 of a real input */

struct an_fft {
	float tw_re[AN_FFT_M], tw_im[AN_FFT_M];       /* exp(-2 pi i t / M) */
	float post_re[AN_FFT_M / 2 + 1], post_im[AN_FFT_M / 2 + 1]; /* -i exp(-2 pi i k / N) */
	uint16_t order[AN_FFT_M];                     /* base-4 digit reversal */
};

/* AN_LANES frames' spectra, bin k of lane l in re[k][l], im[k][l]. */
struct an_fft_spectrum {
	an_f32x4 re[AN_FFT_BINS], im[AN_FFT_BINS];
};

/* AN_LANES frames of AN_FFT_N samples each, waiting for the FFT. */
typedef float an_fft_batch[AN_LANES][AN_FFT_N];

void an_fft_init(struct an_fft *f);
/* The first n (1 .. AN_LANES) frames of batch through an_fft_real; the
 * frames past them are zeroed (their lanes' output is not to be read). */
void an_fft_batch_real(const struct an_fft *f, an_fft_batch batch, unsigned n, struct an_fft_spectrum *out);
/* x[l]: the AN_FFT_N samples of lane l's frame (a lane not wanted may
 * point at zeros, or at anything: its output is just not read). */
void an_fft_real(const struct an_fft *f, const float *const x[AN_LANES], struct an_fft_spectrum *out);

#endif
