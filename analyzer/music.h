/* analyzer/music.h — tempo (BPM) and key, each with a confidence, written
 * in-house (no permissively licensed Debian library does them well); fed
 * frame by frame by the spectral summary (spectral.h, `--spectral`).
 *
 * Tempo: the onset strength envelope o(t) (librosa's, spectral.h) at
 * sr/512 frames per second; its autocorrelation A(L) = sum o(t) o(t-L),
 * centred with the mean, summed as the frames go for every lag of 40 to
 * 240 BPM (a ring of the last Lmax values: constant memory); each lag
 * weighted by a log-normal prior around 120 BPM, one octave wide (as
 * librosa.beat.tempo), the best lag refined by a parabola through its
 * neighbours. Confidence: A(L) / A(0), the envelope's normalised
 * autocorrelation at the beat period (1: perfectly periodic).
 *
 * Key: a chroma vector from the spectral peaks of every frame (each local
 * maximum of the magnitude between 55 Hz and 5 kHz, its frequency refined
 * by a parabola through the log magnitudes, its magnitude added to its
 * pitch class), correlated with the Krumhansl-Kessler major and minor
 * profiles in all 12 transpositions. The key is the best of 24; the
 * confidence its correlation, and the margin over the runner-up (which is
 * often the relative or parallel key).
 */
#ifndef SANDRUN_ANALYZER_MUSIC_H
#define SANDRUN_ANALYZER_MUSIC_H

#include <stddef.h>
#include <stdint.h>

#define AN_MUSIC_BPM_MIN 40.0
#define AN_MUSIC_BPM_MAX 240.0
#define AN_MUSIC_MAX_LAG 512

struct an_music {
	double frame_rate;       /* frames per second */
	unsigned lag_min, lag_max;
	uint64_t n;              /* onset values seen */
	double sum, sum_sq;
	double ac[AN_MUSIC_MAX_LAG + 1];
	float ring[AN_MUSIC_MAX_LAG + 1];
	double chroma[12];
};

struct an_music_result {
	double bpm, bpm_confidence;  /* NaN when too short or no onsets */
	int key_tonic;               /* 0 = C .. 11 = B; -1: no key */
	int key_minor;
	double key_confidence, key_margin;
};

void an_music_init(struct an_music *m, double frame_rate);
void an_music_onset(struct an_music *m, double onset);
/* One frame's magnitude spectrum, bins of bin_hz. */
void an_music_spectrum(struct an_music *m, const float *mag, size_t bins, double bin_hz);
void an_music_result(const struct an_music *m, struct an_music_result *out);
const char *an_music_pitch_name(int pc);

#endif
