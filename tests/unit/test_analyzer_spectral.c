/* tests/unit/test_analyzer_spectral.c — the analyzer's --spectral
 * measurements on material whose answer is known: librosa's features in
 * closed form (a sine on a bin centre, white noise, silence, the Slaney
 * filterbank), tempo of click tracks, key of chord progressions; and the
 * transcode signs (padded bits, a lowpass, upsampling).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/analysis.h"
#include "analyzer/music.h"
#include "analyzer/spectral.h"
#include "analyzer/transcode.h"

/* ---- spectral summary (librosa's definitions) ---------------------------- */

static void spectral_of(const float *x, size_t n, unsigned ch, uint32_t rate,
			struct an_spectral_result *out)
{
	struct an_spectral *s = malloc(sizeof(*s));

	assert_non_null(s);
	assert_int_equal(an_spectral_init(s, ch, rate), 0);
	for (size_t done = 0; done < n; done += 1000)
		an_spectral_push(s, x + done * ch, n - done < 1000 ? n - done : 1000);
	an_spectral_finish(s, out);
	an_spectral_free(s);
	free(s);
}

/* Slaney's scale: 1 kHz is mel 15, linear below, and the two directions
 * invert; each normalised filter has unit area in Hz (2 / width is its
 * peak), which the bins' Riemann sum shows once a filter spans many bins. */
static void test_mel_scale_and_filterbank(void **state)
{
	struct an_mel_band band[AN_SP_MELS];
	float *w = malloc(sizeof(float) * (2 * AN_SP_BINS + 2 * AN_SP_MELS));

	assert_non_null(w);
	assert_float_equal(an_hz_to_mel(1000.0), 15.0, 1e-12);
	assert_float_equal(an_hz_to_mel(200.0), 3.0, 1e-12);
	assert_float_equal(an_hz_to_mel(6400.0), 42.0, 1e-9);
	for (double hz = 10.0; hz < 30000.0; hz *= 1.7)
		assert_float_equal(an_mel_to_hz(an_hz_to_mel(hz)), hz, 1e-9 * hz);
	an_mel_filterbank(44100, band, w);
	for (unsigned m = 0; m < AN_SP_MELS; m++) {
		double area = 0.0;
		for (unsigned i = 0; i < band[m].n; i++)
			area += w[band[m].w + i] * (44100.0 / AN_SP_NFFT);
		if (band[m].n >= 20)
			assert_float_equal(area, 1.0, 0.02);
		if (m > 0)
			assert_true(band[m].lo >= band[m - 1].lo);
	}
	free(w);
}

/* A sine on a bin centre: Hann's three bins 1/4, 1/2, 1/4: centroid f,
 * bandwidth bin/sqrt(2), rolloff f + one bin (85 % is past the centre).
 * Uniform white noise: flatness e^-gamma = 0.5615 (an exponentially
 * distributed power spectrum). Digital silence: centroid, rolloff and
 * onset 0, flatness 1, MFCC 0 = -100 dB * sqrt(128), the rest 0. */
static void test_spectral_summary_known_answers(void **state)
{
	const uint32_t rate = 48000;
	const size_t n = 20 * rate;
	const double bin = (double)rate / AN_SP_NFFT, f = 64 * bin;
	float *x = malloc(sizeof(float) * n);
	struct an_spectral_result r;
	uint32_t seed = 7;

	assert_non_null(x);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(0.5 * sin(2.0 * M_PI * f * (double)i / rate));
	spectral_of(x, n, 1, rate, &r);
	assert_int_equal(r.frames, 1 + n / AN_SP_HOP);
	/* the 4 padded frames at either end are a fraction 0.002 of them */
	assert_float_equal(r.centroid_hz, f, 0.01 * f);
	/* bin/sqrt(2) plus what KISS FFT's float32 rounding noise (~-140 dB)
	 * adds far from the tone, weighted by distance squared: a few Hz */
	assert_true(r.bandwidth_hz > bin / sqrt(2.0) - 0.5 && r.bandwidth_hz < 2.0 * bin);
	assert_float_equal(r.rolloff_hz, f + bin, 0.01 * f);

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = (float)((double)(seed >> 8) / 16777216.0 - 0.5);
	}
	spectral_of(x, n, 1, rate, &r);
	assert_float_equal(r.flatness, exp(-0.5772156649), 0.01);
	assert_float_equal(r.rolloff_hz, 0.85 * rate / 2, 0.01 * rate);

	memset(x, 0, sizeof(float) * n);
	spectral_of(x, n / 2, 2, rate, &r); /* stereo: the mean of two channels */
	assert_int_equal(r.frames, 1 + (n / 2) / AN_SP_HOP);
	assert_float_equal(r.centroid_hz, 0.0, 0);
	assert_float_equal(r.rolloff_hz, 0.0, 0);
	assert_float_equal(r.onset_strength, 0.0, 0);
	assert_float_equal(r.flatness, 1.0, 1e-12);
	assert_float_equal(r.mfcc[0], -100.0 * sqrt(128.0), 1e-3);
	for (unsigned k = 1; k < AN_SP_MFCC; k++)
		assert_float_equal(r.mfcc[k], 0.0, 1e-3);
	free(x);
}

/* Onset strength: nothing for silence; a step from silence to a tone in
 * the middle rises more than a tone that is there from the start (whose
 * only rise is the first frames filling from the zero padding). The
 * framing itself (3 leading zeros, the last two differences dropped) is
 * checked against the numpy transcription in tests/suites/analyzer.sh. */
static void test_onset_strength_framing(void **state)
{
	const uint32_t rate = 22050;
	const size_t n = 10 * AN_SP_HOP;
	float *x = calloc(n, sizeof(float));
	struct an_spectral_result r;

	assert_non_null(x);
	spectral_of(x, n, 1, rate, &r);
	assert_float_equal(r.onset_strength, 0.0, 0);
	assert_int_equal(r.frames, 11);
	for (size_t i = n / 2; i < n; i++)
		x[i] = (float)sin(0.3 * (double)i);
	spectral_of(x, n, 1, rate, &r);
	double step = r.onset_strength;
	for (size_t i = 0; i < n; i++)
		x[i] = (float)sin(0.3 * (double)i);
	spectral_of(x, n, 1, rate, &r);
	assert_true(step > 1.0);
	assert_true(r.onset_strength < step);
	free(x);
}

/* ---- transcode signs ------------------------------------------------------ */

static void test_effective_bits(void **state)
{
	struct an_bitdepth b;
	float x[4];

	an_bitdepth_init(&b);
	assert_int_equal(an_bitdepth_bits(&b), 0); /* nothing: silence */
	x[0] = 12345.0f / 32768.0f, x[1] = -1.0f, x[2] = 0.0f, x[3] = 1.0f / 32768.0f;
	an_bitdepth_push(&b, x, 4);
	assert_int_equal(an_bitdepth_bits(&b), 16);
	x[0] = 4.0f / 32768.0f; /* a 14-bit value does not lower it */
	an_bitdepth_push(&b, x, 1);
	assert_int_equal(an_bitdepth_bits(&b), 16);
	x[0] = 3.0f / 8388608.0f; /* one 24-bit sample raises it */
	an_bitdepth_push(&b, x, 1);
	assert_int_equal(an_bitdepth_bits(&b), 24);
	x[0] = 0.1f; /* no binary fraction: more than 24 */
	an_bitdepth_push(&b, x, 1);
	assert_int_equal(an_bitdepth_bits(&b), AN_TC_MORE_THAN_24);

	an_bitdepth_init(&b);
	x[0] = 64.0f / 128.0f, x[1] = -3.0f / 128.0f; /* 8-bit PCM */
	an_bitdepth_push(&b, x, 2);
	assert_int_equal(an_bitdepth_bits(&b), 8);
}

/* 200 sines below `top` Hz of random frequency and phase (a band-limited
 * noise); mono, 10 s at rate, through the analysis. */
/* Returns the highest of the 200 frequencies: where the content stops. */
static double band_limited(uint32_t rate, double top, struct an_transcode_result *out)
{
	double highest = 0.0;
	const size_t n = 10 * rate, block = 4096;
	double f[200], ph[200];
	uint32_t seed = 3;
	float *x = malloc(sizeof(float) * block);
	struct an_analysis a;

	assert_non_null(x);
	for (int k = 0; k < 200; k++) {
		seed = seed * 1664525u + 1013904223u;
		f[k] = 50.0 + (top - 50.0) * (double)(seed >> 8) / 16777216.0;
		seed = seed * 1664525u + 1013904223u;
		ph[k] = 2.0 * M_PI * (double)(seed >> 8) / 16777216.0;
		highest = f[k] > highest ? f[k] : highest;
	}
	assert_int_equal(an_analysis_init(&a, 1, rate, 1.0f, block), 0);
	for (size_t done = 0; done < n; done += block) {
		for (size_t i = 0; i < block; i++) {
			double t = (double)(done + i) / rate, v = 0.0;
			for (int k = 0; k < 200; k++)
				v += sin(2.0 * M_PI * f[k] * t + ph[k]);
			x[i] = (float)(0.01 * v);
		}
		an_analysis_push(&a, x, block);
	}
	an_analysis_finish(&a);
	an_analysis_transcode(&a, out);
	an_analysis_free(&a);
	free(x);
	return highest;
}

static void test_cutoff_and_upsampling(void **state)
{
	struct an_transcode_result r;

	/* Sines up to a highest one: the reading is that sine's bin, within
	 * two bins (measured: 0-1; the old plain-Hann reading was up to 15
	 * bins high). A bin is 21.5 Hz at 44.1 kHz, 46.9 Hz at 96 kHz. */
	double top = band_limited(44100, 16000.0, &r); /* an MP3's lowpass */
	print_message("# 44.1 kHz: highest sine %.1f Hz, cutoff %.1f Hz\n", top, r.cutoff_hz);
	assert_true(fabs(r.cutoff_hz - top) <= 2 * 44100.0 / 2048);
	assert_true(r.band_limited);
	assert_false(r.upsampled);
	top = band_limited(96000, 20000.0, &r); /* a CD's content at 96 kHz */
	print_message("# 96 kHz: highest sine %.1f Hz, cutoff %.1f Hz\n", top, r.cutoff_hz);
	assert_true(fabs(r.cutoff_hz - top) <= 2 * 96000.0 / 2048);
	assert_true(r.upsampled);
	assert_int_equal(r.upsampled_from_hz, 44100);
	band_limited(44100, 21900.0, &r); /* full band */
	assert_false(r.band_limited);
}

/* A file's first and last frame are left out of the long-term spectrum:
 * five frames, the middle three band-limited at bin 400, the two at the
 * ends full band (an encoder's start, a source stopping inside the last
 * frame). The reading is the middle frames' edge; a file of one frame
 * still gets its reading. */
static void test_cutoff_leaves_out_the_ends(void **state)
{
	enum { BINS = 1025 };
	static an_f32x4 re[BINS], im[BINS]; /* one frame, in lane 0 */
	static double sum[BINS], pending[BINS];
	uint64_t frames = 0;
	const double bin_hz = 44100.0 / 2048;

	uint32_t seed = 5;
	for (int f = 0; f < 5; f++) {
		for (int k = 0; k < BINS; k++) { /* noise: random phases */
			seed = seed * 1664525u + 1013904223u;
			double ph = 2.0 * M_PI * (double)(seed >> 8) / 16777216.0;
			float on = (f == 0 || f == 4 || k < 400) ? 1.0f : 0.0f;
			re[k][0] = on * (float)cos(ph);
			im[k][0] = on * (float)sin(ph);
		}
		an_cutoff_accumulate(sum, pending, &frames, re, im, BINS, 1);
	}
	an_cutoff_finish(sum, pending, frames, BINS);
	double cut = an_cutoff_hz(sum, BINS, bin_hz);
	print_message("# ends left out: cutoff %.1f Hz (edge at %.1f)\n", cut, 400 * bin_hz);
	assert_true(fabs(cut - 400 * bin_hz) <= 2 * bin_hz);

	memset(sum, 0, sizeof(sum));
	frames = 0;
	an_cutoff_accumulate(sum, pending, &frames, re, im, BINS, 1); /* full band, alone */
	an_cutoff_finish(sum, pending, frames, BINS);
	assert_true(an_cutoff_hz(sum, BINS, bin_hz) > 21000.0);
}

/* ---- tempo and key ------------------------------------------------------- */

/* A click track: a 1.5 kHz burst decaying over ~1.4 ms every 60/bpm s,
 * 20 s at 44.1 kHz mono. */
static void click_tempo(double bpm, struct an_music_result *out)
{
	const uint32_t rate = 44100;
	const size_t n = 20 * rate;
	float *x = calloc(n, sizeof(float));
	struct an_spectral_result r;

	assert_non_null(x);
	for (double t = 0.0; t < 20.0; t += 60.0 / bpm) {
		size_t at = (size_t)(t * rate);
		for (size_t i = 0; i < 400 && at + i < n; i++)
			x[at + i] = (float)(0.6 * exp(-(double)i / 60.0) * sin(2.0 * M_PI * 1500.0 * i / rate));
	}
	spectral_of(x, n, 1, rate, &r);
	*out = r.music;
	free(x);
}

static void test_tempo_of_click_tracks(void **state)
{
	const double tempi[] = { 80.0, 100.0, 120.0, 140.0, 174.0 };
	struct an_music_result m;

	for (size_t i = 0; i < sizeof(tempi) / sizeof(tempi[0]); i++) {
		click_tempo(tempi[i], &m);
		print_message("click track %.0f BPM: %.2f BPM, confidence %.2f\n", tempi[i], m.bpm, m.bpm_confidence);
		assert_float_equal(m.bpm, tempi[i], 1.0);
		assert_true(m.bpm_confidence > 0.5);
	}
}

/* I-IV-V-I (major) or i-iv-V-i (harmonic minor: a raised 7th in V) in
 * sine tones with the root an octave below, 0.5 s a chord, 8 s. */
static void progression_key(int tonic, int minor, struct an_music_result *out)
{
	static const int major[4][3] = { { 0, 4, 7 }, { 5, 9, 12 }, { 7, 11, 14 }, { 0, 4, 7 } };
	static const int minor_[4][3] = { { 0, 3, 7 }, { 5, 8, 12 }, { 7, 11, 14 }, { 0, 3, 7 } };
	const uint32_t rate = 44100;
	const size_t chord = rate / 2, n = 16 * chord;
	float *x = malloc(sizeof(float) * n);
	struct an_spectral_result r;

	assert_non_null(x);
	for (size_t i = 0; i < n; i++) {
		const int *c = (minor ? minor_ : major)[(i / chord) % 4];
		double f[4], t = (double)(i % chord) / rate, v = 0.0;
		for (int k = 0; k < 3; k++)
			f[k] = 261.63 * pow(2.0, (tonic + c[k]) / 12.0);
		f[3] = f[0] / 2.0; /* the root an octave below */
		for (int k = 0; k < 3; k++)
			v += sin(2.0 * M_PI * f[k] * t) / 3.0;
		v += 0.5 * sin(2.0 * M_PI * f[3] * t);
		x[i] = (float)(0.35 * v * exp(-2.0 * t));
	}
	spectral_of(x, n, 1, rate, &r);
	*out = r.music;
	free(x);
}

static void test_key_of_progressions(void **state)
{
	struct an_music_result m;

	for (int tonic = 0; tonic < 12; tonic += 5) {
		for (int minor = 0; minor < 2; minor++) {
			progression_key(tonic, minor, &m);
			print_message("%s %s: %s %s, r %.2f, margin %.2f, %.1f BPM\n", an_music_pitch_name(tonic),
				      minor ? "minor" : "major", an_music_pitch_name(m.key_tonic),
				      m.key_minor ? "minor" : "major", m.key_confidence, m.key_margin, m.bpm);
			assert_int_equal(m.key_tonic, tonic);
			assert_int_equal(m.key_minor, minor);
			assert_true(m.key_margin > 0.01);
			assert_float_equal(m.bpm, 120.0, 1.0); /* a chord every 0.5 s */
		}
	}
	/* silence: no key, no tempo */
	struct an_spectral_result r;
	float *z = calloc(44100 * 5, sizeof(float));
	assert_non_null(z);
	spectral_of(z, 44100 * 5, 1, 44100, &r);
	assert_int_equal(r.music.key_tonic, -1);
	assert_true(isnan(r.music.bpm));
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mel_scale_and_filterbank),
		cmocka_unit_test(test_spectral_summary_known_answers),
		cmocka_unit_test(test_onset_strength_framing),
		cmocka_unit_test(test_tempo_of_click_tracks),
		cmocka_unit_test(test_key_of_progressions),
		cmocka_unit_test(test_effective_bits),
		cmocka_unit_test(test_cutoff_and_upsampling),
		cmocka_unit_test(test_cutoff_leaves_out_the_ends),
	};
	return cmocka_run_group_tests_name("analyzer_spectral", tests, NULL, NULL);
}
