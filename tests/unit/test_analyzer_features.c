/* tests/unit/test_analyzer_features.c — the analyzer's pure accumulators
 * (levels, clipping, zero crossings, silence, true peak, centroid,
 * loudness limits, non-finite samples) on signals whose answers are
 * known in closed form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/analysis.h"
#include "analyzer/centroid.h"
#include "analyzer/levels.h"
#include "analyzer/truepeak.h"
#include "tests/analyzer/signals.h"

/* ---- helpers ---------------------------------------------------------- */

/* Push interleaved frames through levels in chunks of `chunk` frames. */
static void levels_feed(struct an_levels *lv, const float *frames, size_t nframes, size_t chunk)
{
	unsigned nch = lv->channels;
	float *planar = malloc(sizeof(float) * nch * chunk);
	const float *chan[8];

	assert_non_null(planar);
	assert_true(nch <= 8);
	for (size_t done = 0; done < nframes; done += chunk) {
		size_t n = nframes - done < chunk ? nframes - done : chunk;
		for (unsigned c = 0; c < nch; c++) {
			for (size_t i = 0; i < n; i++)
				planar[c * chunk + i] = frames[(done + i) * nch + c];
			chan[c] = planar + c * chunk;
		}
		an_levels_push(lv, chan, n);
	}
	an_levels_finish(lv);
	free(planar);
}

/* ---- levels ----------------------------------------------------------- */

static void test_levels_constant_dc(void **state)
{
	float x[1000];
	struct an_level_channel ch[1] = { { 0 } };
	struct an_levels lv;
	struct an_level_summary s;

	for (size_t i = 0; i < 1000; i++)
		x[i] = 0.25f;
	an_levels_init(&lv, ch, 1, 1000, 1.0f);
	levels_feed(&lv, x, 1000, 1000);
	an_levels_summary(&lv, 0, &s);
	assert_float_equal(s.dc_offset, 0.25, 1e-9);
	assert_float_equal(s.peak_dbfs, 20.0 * log10(0.25), 1e-6);
	assert_float_equal(s.rms_dbfs, 20.0 * log10(0.25), 1e-6);
	assert_float_equal(s.crest_db, 0.0, 1e-6);
	assert_int_equal(s.zero_crossing_rate, 0);
	assert_int_equal(s.clipped, 0);
}

static void test_levels_sine_rms_and_zcr(void **state)
{
	const uint32_t rate = 48000;
	float *x = malloc(sizeof(float) * rate);
	struct an_level_channel ch[1] = { { 0 } };
	struct an_levels lv;
	struct an_level_summary s;

	assert_non_null(x);
	/* 1 kHz at 48 kHz, a quarter-sample phase offset so no sample is 0 */
	for (uint32_t i = 0; i < rate; i++)
		x[i] = (float)(0.5 * sin(2.0 * M_PI * 1000.0 * (i + 0.25) / rate));
	an_levels_init(&lv, ch, 1, rate, 1.0f);
	levels_feed(&lv, x, rate, 4096);
	an_levels_summary(&lv, 0, &s);
	assert_float_equal(s.rms_dbfs, 20.0 * log10(0.5 / sqrt(2.0)), 0.001);
	assert_float_equal(s.crest_db, 10.0 * log10(2.0), 0.01);
	/* two crossings per cycle, 1000 cycles, 47999 consecutive pairs */
	assert_int_equal(ch[0].zero_crossings, 1999);
	assert_float_equal(s.zero_crossing_rate, 1999.0 / 47999.0, 1e-12);
	assert_float_equal(s.dc_offset, 0.0, 1e-6);
	free(x);
}

static void test_levels_clipping_runs_across_blocks(void **state)
{
	const float x[] = { 0.0f, 1.0f, 1.0f, 0.5f, -1.0f, -1.0f, -1.2f, 0.0f, 1.0f };
	const size_t n = sizeof(x) / sizeof(x[0]);

	for (size_t chunk = 1; chunk <= n; chunk++) {
		struct an_level_channel ch[1] = { { 0 } };
		struct an_levels lv;
		an_levels_init(&lv, ch, 1, 8000, 1.0f);
		levels_feed(&lv, x, n, chunk);
		assert_int_equal(ch[0].clipped, 6);
		assert_int_equal(ch[0].clip_runs, 3);
		assert_int_equal(ch[0].zero_crossings, 2);
		/* only -1.2 lies beyond full scale; 1.0 itself does not */
		assert_int_equal(ch[0].over_full_scale, 1);
	}
}

/* Samples beyond full scale (a float file at int16 scale), counted the
 * same by the vector loop and the scalar edges, whatever the blocks. */
static void test_levels_over_full_scale(void **state)
{
	float x[203];
	uint64_t want = 0;
	struct an_level_summary s;

	for (size_t i = 0; i < 203; i++) {
		x[i] = (float)((i % 7) * 0.3 - 0.9) * (i % 3 ? 1.0f : 32767.0f);
		want += fabsf(x[i]) > 1.0f;
	}
	assert_true(want > 20);
	for (size_t chunk = 1; chunk <= 203; chunk += 13) {
		struct an_level_channel ch[1] = { { 0 } };
		struct an_levels lv;
		an_levels_init(&lv, ch, 1, 8000, 1.0f);
		levels_feed(&lv, x, 203, chunk);
		assert_int_equal(ch[0].over_full_scale, want);
		an_levels_summary(&lv, 1, &s);
		assert_int_equal(s.over_full_scale, want);
	}
}

static void test_levels_clip_threshold_per_subtype(void **state)
{
	assert_true(an_clip_threshold_for_subtype(SF_FORMAT_PCM_16) == 32767.0f / 32768.0f);
	assert_true(an_clip_threshold_for_subtype(SF_FORMAT_PCM_24) == 8388607.0f / 8388608.0f);
	assert_true(an_clip_threshold_for_subtype(SF_FORMAT_PCM_U8) == 127.0f / 128.0f);
	assert_true(an_clip_threshold_for_subtype(SF_FORMAT_FLOAT) == 1.0f);
	assert_true(an_clip_threshold_for_subtype(SF_FORMAT_VORBIS) == 1.0f);
	/* a 16-bit waveform cut at +32767 counts as clipped */
	float x[] = { 32767.0f / 32768.0f, 32767.0f / 32768.0f, 0.0f, -1.0f };
	struct an_level_channel ch[1] = { { 0 } };
	struct an_levels lv;
	an_levels_init(&lv, ch, 1, 8000, an_clip_threshold_for_subtype(SF_FORMAT_PCM_16));
	levels_feed(&lv, x, 4, 4);
	assert_int_equal(ch[0].clipped, 3);
	assert_int_equal(ch[0].clip_runs, 2);
}

/* The vector loop and the scalar head/tail must count identically,
 * whatever the block boundaries. */
static void test_levels_block_size_independent(void **state)
{
	enum { N = 10007 };
	float *x = malloc(sizeof(float) * N * 2);
	uint32_t seed = 12345;
	struct an_level_channel whole[2], pieces[2];
	struct an_levels a, b;

	assert_non_null(x);
	for (size_t i = 0; i < N * 2; i++)
		x[i] = sig_noise(&seed, 1.3f); /* exceeds full scale sometimes */
	memset(whole, 0, sizeof(whole));
	memset(pieces, 0, sizeof(pieces));
	an_levels_init(&a, whole, 2, 44100, 1.0f);
	an_levels_init(&b, pieces, 2, 44100, 1.0f);
	levels_feed(&a, x, N, N);
	levels_feed(&b, x, N, 7);
	for (int c = 0; c < 2; c++) {
		assert_true(whole[c].peak == pieces[c].peak);
		assert_int_equal(whole[c].clipped, pieces[c].clipped);
		assert_int_equal(whole[c].clip_runs, pieces[c].clip_runs);
		assert_int_equal(whole[c].zero_crossings, pieces[c].zero_crossings);
		assert_int_equal(whole[c].silent_windows, pieces[c].silent_windows);
		assert_float_equal(whole[c].sum_sq, pieces[c].sum_sq, whole[c].sum_sq * 1e-5);
		assert_float_equal(whole[c].sum, pieces[c].sum, 1e-2);
		assert_true(whole[c].clipped > 0);
	}
	free(x);
}

static void test_levels_file_dc_is_the_worst_channel(void **state)
{
	float x[2000];
	struct an_level_channel ch[2] = { { 0 } };
	struct an_levels lv;
	struct an_level_summary file;

	for (size_t i = 0; i < 1000; i++) {
		x[2 * i] = 0.05f;
		x[2 * i + 1] = -0.08f;
	}
	an_levels_init(&lv, ch, 2, 1000, 1.0f);
	levels_feed(&lv, x, 1000, 1000);
	an_levels_summary(&lv, 2, &file);
	assert_float_equal(file.dc_offset, -0.08, 1e-7);
	/* RMS over all samples: sqrt((0.05^2 + 0.08^2) / 2) */
	assert_float_equal(file.rms_dbfs, 20.0 * log10(sqrt((0.0025 + 0.0064) / 2.0)), 1e-5);
}

static void test_levels_silence_windows(void **state)
{
	const uint32_t rate = 48000;
	size_t n = 2 * rate;
	float *x = malloc(sizeof(float) * n * 2);
	struct an_level_channel ch[2] = { { 0 } };
	struct an_levels lv;
	struct an_level_summary file, left, right;

	assert_non_null(x);
	/* left: 1 s at -80 dBFS then 1 s at -20; right: -20 throughout */
	for (size_t i = 0; i < n; i++) {
		double s = sin(2.0 * M_PI * 1000.0 * (double)i / rate);
		x[2 * i] = (float)((i < rate ? pow(10, -80 / 20.0) : 0.1) * s);
		x[2 * i + 1] = (float)(0.1 * s);
	}
	an_levels_init(&lv, ch, 2, rate, 1.0f);
	assert_int_equal(lv.window_frames, 2400);
	levels_feed(&lv, x, n, 1000);
	an_levels_summary(&lv, 2, &file);
	an_levels_summary(&lv, 0, &left);
	an_levels_summary(&lv, 1, &right);
	assert_int_equal(lv.windows, 40);
	assert_float_equal(left.silence_ratio, 0.5, 1e-12);
	assert_float_equal(right.silence_ratio, 0.0, 1e-12);
	/* per file, a window is silent only when every channel is */
	assert_float_equal(file.silence_ratio, 0.0, 1e-12);
	free(x);
}

static void test_levels_digital_silence(void **state)
{
	float x[480] = { 0 };
	struct an_level_channel ch[1] = { { 0 } };
	struct an_levels lv;
	struct an_level_summary s;

	an_levels_init(&lv, ch, 1, 48000, 1.0f);
	levels_feed(&lv, x, 480, 100);
	an_levels_summary(&lv, 0, &s);
	assert_true(isinf(s.peak_dbfs) && s.peak_dbfs < 0);
	assert_true(isinf(s.rms_dbfs) && s.rms_dbfs < 0);
	assert_true(isnan(s.crest_db));
	assert_float_equal(s.silence_ratio, 1.0, 0);
}

/* ---- true peak -------------------------------------------------------- */

static void test_truepeak_block_size_independent(void **state)
{
	enum { N = 5000 };
	static float x[N], scratch[AN_TP_HISTORY + N];
	struct an_tp_filter f;
	struct an_tp_channel whole, pieces;
	uint32_t seed = 99;

	for (size_t i = 0; i < N; i++)
		x[i] = sig_noise(&seed, 0.7f) * (float)(i % 977) / 977.0f;
	an_tp_filter_init(&f, 44100);
	an_tp_channel_init(&whole);
	an_tp_channel_init(&pieces);
	an_tp_push(&f, &whole, x, N, scratch);
	for (size_t done = 0; done < N; done += 13)
		an_tp_push(&f, &pieces, x + done, N - done < 13 ? N - done : 13, scratch);
	assert_true(whole.peak == pieces.peak);
	assert_true(whole.peak > 0.0f);
}

static void test_truepeak_factor_by_rate(void **state)
{
	struct an_tp_filter f;

	an_tp_filter_init(&f, 44100);
	assert_int_equal(f.factor, 4);
	an_tp_filter_init(&f, 96000);
	assert_int_equal(f.factor, 2);
	an_tp_filter_init(&f, 192000);
	assert_int_equal(f.factor, 1);
	/* a constant signal is not reported above itself */
	an_tp_filter_init(&f, 48000);
	for (unsigned p = 1; p < AN_TP_FINE; p++) {
		float dc = 0.0f;
		for (unsigned j = 0; j < AN_TP_TAPS_PER_PHASE; j++)
			dc += f.fine[p][j];
		assert_float_equal(dc, 1.0, 1e-6);
	}
}

/* ---- spectral centroid ------------------------------------------------ */

static double centroid_of_sine(double hz, uint32_t rate, double seconds)
{
	struct an_analysis a;
	struct sig_section s[] = { { -6.0, seconds } };

	assert_int_equal(an_analysis_init(&a, 2, rate, 1.0f, SIG_BLOCK_FRAMES), 0);
	assert_int_equal(sig_feed_sine(&a, 2, rate, hz, 0.0, s, 1), 0);
	double c = an_centroid_result(a.centroid);
	an_analysis_free(&a);
	return c;
}

static void test_centroid_of_sines(void **state)
{
	assert_float_equal(centroid_of_sine(1000.0, 48000, 2.0), 1000.0, 20.0);
	assert_float_equal(centroid_of_sine(5000.0, 44100, 2.0), 5000.0, 100.0);
	/* shorter than one frame: measured once, zero-padded */
	assert_float_equal(centroid_of_sine(1000.0, 48000, 0.01), 1000.0, 60.0);
}

static void test_centroid_of_white_noise(void **state)
{
	enum { N = 48000 };
	static float x[N];
	uint32_t seed = 7;
	struct an_analysis a;

	for (size_t i = 0; i < N; i++)
		x[i] = sig_noise(&seed, 0.5f);
	assert_int_equal(an_analysis_init(&a, 1, 48000, 1.0f, N), 0);
	an_analysis_push(&a, x, N);
	an_analysis_finish(&a);
	/* a flat spectrum's centroid is half the Nyquist frequency */
	assert_float_equal(an_centroid_result(a.centroid), 12000.0, 600.0);
	an_analysis_free(&a);
}

static void test_centroid_ignores_silence(void **state)
{
	struct an_analysis a;
	float x[4096] = { 0 };

	assert_int_equal(an_analysis_init(&a, 1, 48000, 1.0f, 4096), 0);
	an_analysis_push(&a, x, 4096);
	an_analysis_finish(&a);
	assert_true(a.centroid->frames_seen > 0);
	assert_int_equal(a.centroid->frames_used, 0);
	assert_true(isnan(an_centroid_result(a.centroid)));
	an_analysis_free(&a);
}

static void test_centroid_of_spectrum(void **state)
{
	kiss_fft_cpx spec[8] = { { 0 } };

	spec[3].r = 2.0f;
	assert_float_equal(an_centroid_of_spectrum(spec, 8, 10.0), 30.0, 1e-9);
	spec[5].i = -2.0f;
	assert_float_equal(an_centroid_of_spectrum(spec, 8, 10.0), 40.0, 1e-9);
	memset(spec, 0, sizeof(spec));
	assert_true(isnan(an_centroid_of_spectrum(spec, 8, 10.0)));
}

/* ---- loudness limits and hostile samples ------------------------------ */

static void test_loudness_skipped_outside_limits(void **state)
{
	struct an_loudness l;
	double i, r;

	assert_int_equal(an_loudness_init(&l, 2, 8), 0);
	assert_non_null(l.skipped);
	an_loudness_result(&l, &i, &r);
	assert_true(isnan(i) && isnan(r));
	an_loudness_free(&l);
	assert_int_equal(an_loudness_init(&l, 65, 48000), 0);
	assert_non_null(l.skipped);
	an_loudness_free(&l);
	assert_int_equal(an_loudness_init(&l, 2, 2822401), 0);
	assert_non_null(l.skipped);
	an_loudness_free(&l);
	/* at the limits: the meter keeps a few doubles per channel, no
	 * ring of samples, so nothing is too large to allocate */
	assert_int_equal(an_loudness_init(&l, 64, 2822400), 0);
	assert_null(l.skipped);
	an_loudness_free(&l);
	assert_int_equal(an_loudness_init(&l, 1, 16), 0);
	assert_null(l.skipped);
	an_loudness_free(&l);
	assert_int_equal(an_loudness_init(&l, 2, 48000), 0);
	assert_null(l.skipped);
	an_loudness_free(&l);
}

/* 6 channels of sines at their own levels, in WAV order (FL FR FC LFE BL
 * BR), measured as WAV order (the default map) and permuted into Vorbis
 * order (FL FC FR BL BR LFE) with that layout set: the same loudness. The
 * LFE (channel 3) does not count, whatever it holds. */
static double loudness_51(const uint8_t *order, const uint8_t *roles, float lfe_amp)
{
	static const float amp[6] = { 0.3f, 0.3f, 0.1f, 0.5f, 0.25f, 0.05f };
	enum { FRAMES = 48000 * 5 };
	struct an_loudness l;
	float *x = malloc(sizeof(float) * FRAMES * 6);
	double i, r;

	assert_non_null(x);
	for (size_t t = 0; t < FRAMES; t++)
		for (unsigned c = 0; c < 6; c++) {
			unsigned src = order ? order[c] : c; /* WAV-order channel here */
			float a = src == 3 ? lfe_amp : amp[src];
			x[t * 6 + c] = a * (float)sin(2.0 * M_PI * (300.0 + 100.0 * src) * (double)t / 48000.0);
		}
	assert_int_equal(an_loudness_init(&l, 6, 48000), 0);
	an_loudness_set_layout(&l, roles, 6);
	an_loudness_push(&l, x, FRAMES);
	an_loudness_result(&l, &i, &r);
	an_loudness_free(&l);
	free(x);
	return i;
}

static void test_loudness_follows_channel_layout(void **state)
{
	static const uint8_t vorbis_from_wav[6] = { 0, 2, 1, 4, 5, 3 };
	uint8_t roles[6];
	double wav = loudness_51(NULL, NULL, 0.5f);

	assert_true(an_layout_fixed_order(AN_ORDER_VORBIS, 6, roles));
	assert_int_equal(roles[5], AN_CH_LFE);
	assert_float_equal(loudness_51(vorbis_from_wav, roles, 0.5f), wav, 1e-6);
	assert_float_equal(loudness_51(vorbis_from_wav, roles, 0.0f), wav, 1e-6);
	/* without the layout the Vorbis file was weighted in WAV order */
	assert_true(fabs(loudness_51(vorbis_from_wav, NULL, 0.5f) - wav) > 0.5);
	assert_true(an_layout_fixed_order(AN_ORDER_WAVE, 6, roles));
	assert_int_equal(roles[3], AN_CH_LFE);
	assert_float_equal(loudness_51(NULL, roles, 0.5f), wav, 1e-6);
	assert_false(an_layout_fixed_order(AN_ORDER_VORBIS, 2, roles));
	assert_false(an_layout_fixed_order(AN_ORDER_WAVE, 9, roles));
}

static void test_non_finite_samples_are_counted_and_zeroed(void **state)
{
	struct an_analysis a;
	float x[10] = { NAN, 0.5f, INFINITY, -INFINITY, 0.25f, 0.0f, -0.5f, NAN, 0.1f, 0.2f };
	struct an_channel_result r;

	assert_int_equal(an_analysis_init(&a, 2, 44100, 1.0f, 5), 0);
	an_analysis_push(&a, x, 5);
	an_analysis_finish(&a);
	assert_int_equal(a.non_finite_samples, 4);
	an_analysis_channel(&a, 2, &r);
	assert_float_equal(r.level.peak_dbfs, 20.0 * log10(0.5), 1e-9);
	assert_true(isfinite(r.level.rms_dbfs));
	an_analysis_free(&a);
}

static void test_many_channels_small_blocks(void **state)
{
	/* libsndfile's ceiling: 1024 channels, 16 frames per block */
	const unsigned nch = 1024;
	struct an_analysis a;
	float *x = calloc(16 * nch, sizeof(float));
	struct an_channel_result r;

	assert_non_null(x);
	for (unsigned c = 0; c < nch; c++)
		x[5 * nch + c] = (float)c / nch;
	assert_int_equal(an_analysis_init(&a, nch, 48000, 1.0f, 16), 0);
	assert_non_null(a.loudness.skipped);
	for (int b = 0; b < 10; b++)
		an_analysis_push(&a, x, 16);
	an_analysis_finish(&a);
	an_analysis_channel(&a, nch - 1, &r);
	assert_float_equal(r.level.peak_dbfs, 20.0 * log10(1023.0 / 1024.0), 1e-6);
	an_analysis_free(&a);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_constant_dc),
		cmocka_unit_test(test_levels_sine_rms_and_zcr),
		cmocka_unit_test(test_levels_clipping_runs_across_blocks),
		cmocka_unit_test(test_levels_over_full_scale),
		cmocka_unit_test(test_levels_clip_threshold_per_subtype),
		cmocka_unit_test(test_levels_block_size_independent),
		cmocka_unit_test(test_levels_file_dc_is_the_worst_channel),
		cmocka_unit_test(test_levels_silence_windows),
		cmocka_unit_test(test_levels_digital_silence),
		cmocka_unit_test(test_truepeak_block_size_independent),
		cmocka_unit_test(test_truepeak_factor_by_rate),
		cmocka_unit_test(test_centroid_of_sines),
		cmocka_unit_test(test_centroid_of_white_noise),
		cmocka_unit_test(test_centroid_ignores_silence),
		cmocka_unit_test(test_centroid_of_spectrum),
		cmocka_unit_test(test_loudness_skipped_outside_limits),
		cmocka_unit_test(test_loudness_follows_channel_layout),
		cmocka_unit_test(test_non_finite_samples_are_counted_and_zeroed),
		cmocka_unit_test(test_many_channels_small_blocks),
	};
	return cmocka_run_group_tests_name("analyzer_features", tests, NULL, NULL);
}
