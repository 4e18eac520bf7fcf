/* analyzer/spectral.h — a spectral summary defined as librosa 0.10 defines
 * its features, so thresholds move over (`sandrun-analyze --spectral`).
 *
 * The reference, for a file at its own rate (docs/analyzer.md has it as
 * Python):
 *   y, sr = librosa.load(path, sr=None, mono=True)   # mean of the channels
 *   S = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))  # hann, center
 *   mel = librosa.feature.melspectrogram(S=S**2, sr=sr)      # 128 Slaney mels
 *   L = librosa.power_to_db(mel, top_db=None)
 *   rolloff   = mean(librosa.feature.spectral_rolloff(S=S, sr=sr))  # 85 %
 *   flatness  = mean(librosa.feature.spectral_flatness(S=S))
 *   centroid  = mean(librosa.feature.spectral_centroid(S=S, sr=sr))
 *   bandwidth = mean(librosa.feature.spectral_bandwidth(S=S, sr=sr))
 *   onset     = mean(librosa.onset.onset_strength(S=L, sr=sr))
 *   mfcc      = mean(librosa.feature.mfcc(S=L, n_mfcc=20), axis=1)
 * top_db=None: librosa's default clips at 80 dB below the file's loudest
 * mel bin, which no single pass can know before the end.
 *
 * Streaming, constant memory: a 2048-sample window of the mono mix, the
 * mel filterbank (sparse), the previous frame's mel levels, sums. Frames
 * wait, windowed, until AN_LANES of them go through the FFT together
 * (fft.h; a frame's spectrum does not depend on its batch), then are
 * measured in their order; the last few at an_spectral_finish. The MFCC
 * mean is the DCT of the mean log-mel spectrum (the DCT is linear). The
 * onset strength's mean keeps librosa's framing: 3 leading zeros and the
 * last two differences dropped, over all frames.
 */
#ifndef SANDRUN_ANALYZER_SPECTRAL_H
#define SANDRUN_ANALYZER_SPECTRAL_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/fft.h"
#include "analyzer/music.h"

#define AN_SP_NFFT AN_FFT_N
#define AN_SP_HOP 512
#define AN_SP_BINS (AN_SP_NFFT / 2 + 1)
#define AN_SP_MELS 128
#define AN_SP_MFCC 20
#define AN_SP_ROLL 0.85
#define AN_SP_AMIN 1e-10

struct an_mel_band {
	unsigned lo, n;          /* bins lo .. lo + n - 1 */
	unsigned w;              /* offset of their weights in weights[] */
};

struct an_spectral {
	struct an_fft fft;       /* tables */
	uint32_t rate;
	unsigned channels;
	size_t fill;             /* samples in buf[] (the padded stream's tail) */
	unsigned batched;        /* frames waiting in windowed[] */
	uint64_t frames;         /* frames computed */
	double sum_centroid, sum_bandwidth, sum_rolloff, sum_flatness;
	double sum_onset;        /* all differences, t = 1 .. frames - 1 */
	double last_onset[2];    /* the last two, which librosa drops */
	double mel_db_sum[AN_SP_MELS];
	float prev_db[AN_SP_MELS];
	float buf[AN_SP_NFFT];
	float window[AN_SP_NFFT];
	an_fft_batch windowed;   /* frames waiting for the FFT */
	struct an_fft_spectrum spectrum; /* the last batch's */
	float power[AN_SP_BINS];
	struct an_mel_band band[AN_SP_MELS];
	float weights[2 * AN_SP_BINS + 2 * AN_SP_MELS];
	struct an_music music;   /* tempo and key (music.h) */
};

struct an_spectral_result {
	double centroid_hz, bandwidth_hz, rolloff_hz, flatness, onset_strength;
	double mfcc[AN_SP_MFCC];
	uint64_t frames;
	struct an_music_result music;
};

/* rate >= 1. Returns 0 (nothing is allocated; an int for the callers'
 * error paths). */
int an_spectral_init(struct an_spectral *s, unsigned channels, uint32_t rate);
void an_spectral_free(struct an_spectral *s);
/* Interleaved frames. */
void an_spectral_push(struct an_spectral *s, const float *frames, size_t nframes);
/* The trailing padding, then the means. */
void an_spectral_finish(struct an_spectral *s, struct an_spectral_result *out);

/* librosa.filters.mel(sr=rate, n_fft=2048) (Slaney scale and norm), as
 * bands of consecutive non-zero weights; exposed for the tests. */
void an_mel_filterbank(uint32_t rate, struct an_mel_band *band, float *weights);
double an_hz_to_mel(double hz);
double an_mel_to_hz(double mel);

#endif
