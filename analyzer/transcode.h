/* analyzer/transcode.h — signs that a file is not what its container
 * claims: padded bit depth, a lossy encoder's lowpass, upsampling.
 *
 *   effective bits  1 - (the lowest set bit, as a power of two of full
 *                   scale, over every non-zero sample): a 24-bit file whose
 *                   samples are all multiples of 2^-15 holds 16-bit audio
 *                   (padded), however it got there. Exact for integer PCM
 *                   up to 24 bits (libsndfile's floats hold them exactly);
 *                   25 stands for "more than 24" (float content, 32-bit
 *                   PCM, lossy decoders); dither added after a bit-depth
 *                   change defeats it.
 *   cutoff          from the long-term average power spectrum of the
 *                   centroid's frames (centroid.h: 2048-point frames of the
 *                   mono mix, those above -60 dBFS), windowed by Hann
 *                   squared (sin^4: sidelobes -47 dB falling 30 dB an
 *                   octave, made from the centroid's Hann spectrum in the
 *                   frequency domain, no second FFT; the first and the
 *                   last loud frame left out: an_cutoff_accumulate). The highest bin whose
 *                   level, smoothed over 5 bins, is within AN_TC_CUTOFF_DB
 *                   of the loudest smoothed level lies on the window's
 *                   skirt above a steep edge; from there the reading walks
 *                   down, at most AN_TC_SKIRT_BINS bins, while each bin is
 *                   AN_TC_SKIRT_DB or more under the one below it: the top
 *                   of the edge. Measured within one bin (21.5 Hz at
 *                   44.1 kHz) of sox sinc lowpasses at 16, 17 and 19 kHz.
 *                   An MP3 at 128 kb/s is cut near 16-17 kHz, AAC and
 *                   Vorbis at moderate rates at 15-20 kHz.
 *   band_limited    cutoff below 90 % of the Nyquist frequency and below
 *                   20 kHz: a hint of a lossy ancestor (or an old or
 *                   deliberately filtered recording), not proof.
 *   upsampled       a rate above 48 kHz with no content above 24 kHz:
 *                   upsampled_from_hz 44100 (cutoff <= 22.05 kHz) or 48000.
 * Pure: no I/O, no allocation.
 */
#ifndef SANDRUN_ANALYZER_TRANSCODE_H
#define SANDRUN_ANALYZER_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/simd.h"

#define AN_TC_CUTOFF_DB (-80.0)
#define AN_TC_SMOOTH_BINS 5
#define AN_TC_SKIRT_DB 6.0
#define AN_TC_SKIRT_BINS 10
#define AN_TC_MORE_THAN_24 25

struct an_bitdepth {
	int min_lsb_exp;         /* lowest set bit seen, power of 2; INT32_MAX: none */
};

void an_bitdepth_init(struct an_bitdepth *b);
void an_bitdepth_push(struct an_bitdepth *b, const float *x, size_t n);
/* Integer samples, code * 2^unit_exp, given as the OR of their codes:
 * the same as an_bitdepth_push() on their values. */
void an_bitdepth_push_codes(struct an_bitdepth *b, uint32_t codes_or, int unit_exp);
/* 1 .. 24, AN_TC_MORE_THAN_24, or 0 for digital silence */
int an_bitdepth_bits(const struct an_bitdepth *b);

struct an_transcode_result {
	int effective_bits;
	double cutoff_hz;        /* NaN: no frame loud enough */
	bool band_limited;
	bool upsampled;
	uint32_t upsampled_from_hz; /* 0 when not upsampled */
};

/* Frames' power, windowed once more by Hann, toward power_sum: re/im
 * hold the spectra of `lanes` consecutive frames under a Hann window, one
 * frame per lane (fft.h's an_fft_spectrum; bins = N/2 + 1), taken in
 * lane order, as if one call per frame. The first and the last frame are
 * left out: a file's ends are where an encoder
 * starts up and where a source that stops short of the decoded end (the
 * encoder's padding) puts a step inside a frame, broadband energy that
 * is not content (AAC 96 kb/s of noise read 19.7 kHz instead of 16 kHz).
 * So each frame waits in pending (frames counts them) until the next one
 * comes; an_cutoff_finish adds it when there were only one or two. */
void an_cutoff_accumulate(double *power_sum, double *pending, uint64_t *frames, const an_f32x4 *re,
			  const an_f32x4 *im, size_t bins, unsigned lanes);
void an_cutoff_finish(double *power_sum, const double *pending, uint64_t frames, size_t bins);
/* power_sum: the summed power of bins 0 .. bins-1, each bin_hz wide
 * (an_cutoff_accumulate's). */
double an_cutoff_hz(const double *power_sum, size_t bins, double bin_hz);
void an_transcode_judge(double cutoff_hz, uint32_t rate, struct an_transcode_result *out);

#endif
