/* tests/unit/test_analyzer_kernels.c — the analyzer's faster per-sample
 * paths (issue 16 §4, third round) against their plain definitions, to
 * the bit: each fast path must leave every report unchanged, so each is
 * compared with the loop it stands for on random input and on the edges
 * (subnormal numbers, full scale, beyond full scale, digital silence that
 * lets a filter decay through subnormals, odd lengths, 1 to 8 channels,
 * blocks cut at every size).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/analysis.h"
#include "analyzer/loudness.h"
#include "analyzer/simd.h"
#include "analyzer/transcode.h"
#include "analyzer/truepeak.h"

static uint32_t rng(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

enum edge { E_RANDOM, E_SUBNORMAL, E_FULL_SCALE, E_BEYOND, E_BURSTS, E_EDGES };

/* n samples of one kind of input; the 16-bit kinds are on the int16
 * grid, as a WAV decodes. */
static void fill(float *x, size_t n, enum edge e, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		double u = (double)rng(&seed) / (double)(1u << 24) * 2.0 - 1.0;
		float v = (float)u;
		switch (e) {
		case E_RANDOM: break;
		case E_SUBNORMAL: v = (float)(u * 1e-3) * FLT_MIN; break;
		case E_FULL_SCALE: v = u < 0.0 ? -1.0f : 32767.0f / 32768.0f; break;
		case E_BEYOND: v = (float)(u * 4.0); break;
		/* loud, then digital silence: the filter decays */
		case E_BURSTS: v = (i / 3001) % 2 ? 0.0f : (float)round(u * 32767.0) / 32768.0f; break;
		case E_EDGES:
			switch (rng(&seed) % 6) {
			case 0: v = 0.0f; break;
			case 1: v = -0.0f; break;
			case 2: v = FLT_MIN / 4.0f; break;
			case 3: v = -1.0f; break;
			case 4: v = 1.0f; break;
			default: break;
			}
			break;
		}
		x[i] = v;
	}
}

#define FRAMES 24011 /* odd, and not a multiple of any block size below */

/* an_loudness_push with the AVX pair kernel and without: the same
 * filter state, sums and results, bit for bit. */
static void test_loudness_wide_matches(void **state)
{
	(void)state;
	if (!an_simd_avx())
		skip();
	static const uint32_t rates[] = { 8000, 44100, 48000 };
	float *x = malloc(sizeof(float) * FRAMES * 8);
	assert_non_null(x);
	for (unsigned nch = 1; nch <= 8; nch++)
		for (int e = E_RANDOM; e <= E_EDGES; e++)
			for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
				fill(x, (size_t)FRAMES * nch, (enum edge)e, 77u * nch + (uint32_t)e);
				struct an_loudness l[2];
				for (int w = 0; w < 2; w++) {
					bool was = an_simd_set_wide(w == 1);
					assert_int_equal(an_loudness_init(&l[w], nch, rates[r]), 0);
					/* blocks of every size, odd and even */
					for (size_t done = 0, step = 1; done < FRAMES;
					     done += step, step = step * 7 % 2999 + 1) {
						size_t m = FRAMES - done < step ? FRAMES - done : step;
						an_loudness_push(&l[w], x + done * nch, m);
					}
					an_simd_set_wide(was);
				}
				assert_memory_equal(l[0].pairs, l[1].pairs, sizeof(*l[0].pairs) * ((nch + 1) / 2));
				assert_memory_equal(l[0].ring, l[1].ring, sizeof(l[0].ring));
				assert_memory_equal(l[0].blocks, l[1].blocks, sizeof(*l[0].blocks));
				assert_memory_equal(l[0].short_term, l[1].short_term, sizeof(*l[0].short_term));
				double i0, r0, i1, r1;
				an_loudness_result(&l[0], &i0, &r0);
				an_loudness_result(&l[1], &i1, &r1);
				assert_memory_equal(&i0, &i1, sizeof(i0));
				assert_memory_equal(&r0, &r1, sizeof(r0));
				assert_memory_equal(&l[0].max_block, &l[1].max_block, sizeof(double));
				an_loudness_free(&l[0]);
				an_loudness_free(&l[1]);
			}
	free(x);
}

/* The definition: the lowest set bit of each finite non-zero sample,
 * as a power of two, the lowest of them (INT32_MAX: none). */
static int reference_lsb(const float *x, size_t n)
{
	int low = INT32_MAX;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || x[i] == 0.0f)
			continue;
		int e;
		double m = frexp((double)x[i], &e); /* x = m 2^e, m has 24 bits */
		long long q = llround(ldexp(fabs(m), 24));
		int lsb = e - 24 + __builtin_ctzll((unsigned long long)q);
		low = lsb < low ? lsb : low;
	}
	return low;
}

/* an_bitdepth_push eight lanes and four lanes, and the definition. */
static void test_bitdepth_wide_matches(void **state)
{
	(void)state;
	if (!an_simd_avx2())
		skip();
	enum { LEN = 4099 };
	static float x[LEN];
	/* the grids a sample can lie on: 8, 16, 20, 24 bits, finer, and any */
	static const int grid[] = { 7, 15, 19, 23, 30, 0 };
	for (size_t g = 0; g < sizeof(grid) / sizeof(grid[0]); g++)
		for (int e = E_RANDOM; e <= E_EDGES; e++)
			for (int special = 0; special < 4; special++) {
				fill(x, LEN, (enum edge)e, 31u * (uint32_t)g + (uint32_t)e);
				if (grid[g])
					for (size_t i = 0; i < LEN; i++)
						x[i] = (float)(nearbyint(ldexp(x[i], grid[g])) / ldexp(1.0, grid[g]));
				uint32_t seed = (uint32_t)special;
				size_t at = rng(&seed) % LEN;
				/* one sample of each kind the scalar way must see */
				if (special == 1)
					x[at] = INFINITY;
				else if (special == 2)
					x[at] = NAN;
				else if (special == 3)
					x[at] = 100.0f + 0x1p-10f; /* beyond 64, finer than the rest */
				for (size_t n = 1; n <= LEN; n = n * 3 + 1) {
					struct an_bitdepth b[2];
					for (int w = 0; w < 2; w++) {
						bool was = an_simd_set_wide(w == 1);
						an_bitdepth_init(&b[w]);
						/* in blocks of odd sizes */
						for (size_t done = 0, step = 5; done < n; done += step, step = step * 3 % 97 + 1)
							an_bitdepth_push(&b[w], x + done, n - done < step ? n - done : step);
						an_simd_set_wide(was);
					}
					assert_int_equal(b[0].min_lsb_exp, b[1].min_lsb_exp);
					int ref = reference_lsb(x, n);
					if (ref > -24)
						assert_int_equal(b[0].min_lsb_exp, ref);
					else
						assert_true(b[0].min_lsb_exp <= -24);
				}
			}
}

/* The true-peak meter with its AVX2 paths (the screen, the chunks'
 * peaks that decide which chunks to skip) and without: the same peak
 * and the same refinements, on every edge and block size. */
static void test_truepeak_wide_matches(void **state)
{
	(void)state;
	if (!an_simd_avx2())
		skip();
	enum { LEN = 20011 };
	static float x[LEN], scratch[AN_TP_HISTORY + LEN];
	for (int r = 0; r < 3; r++) {
		const uint32_t rate = r == 0 ? 44100 : r == 1 ? 48000 : 96000;
		struct an_tp_filter f;
		an_tp_filter_init(&f, rate);
		for (int e = E_RANDOM; e <= E_EDGES; e++)
			for (int shape = 0; shape < 3; shape++) {
				fill(x, LEN, (enum edge)e, 5u + (uint32_t)e);
				/* rising, so that new peaks keep coming and few chunks
				 * are skipped (with an infinity at the end, or not);
				 * or falling after a loud start, so that the chunks'
				 * peaks pass by the skipping threshold */
				for (size_t i = 0; i < LEN; i++)
					x[i] *= shape < 2 ? (float)(0.1 + (double)i / LEN)
						: i < 1000 ? 1.0f : (float)(1.0 - 0.8 * (double)i / LEN);
				if (shape == 1)
					x[LEN - 77] = -INFINITY;
				struct an_tp_channel c[2];
				for (int w = 0; w < 2; w++) {
					bool was = an_simd_set_wide(w == 1);
					an_tp_channel_init(&c[w]);
					for (size_t done = 0, step = 1; done < LEN; done += step, step = step * 7 % 4099 + 1)
						an_tp_push(&f, &c[w], x + done, LEN - done < step ? LEN - done : step, scratch);
					an_simd_set_wide(was);
				}
				assert_memory_equal(&c[0].peak, &c[1].peak, sizeof(float));
				assert_int_equal(c[0].refined, c[1].refined);
				/* which chunks were skipped: the chunks' peaks */
				assert_int_equal(c[0].screened, c[1].screened);
				assert_true(c[0].screened > 0 && c[0].refined > 0);
			}
	}
}

/* an_levels_push with two channels per AVX2 step and without: every
 * channel's statistics and the silence windows, bit for bit, NaN and
 * infinity included (the analysis zeroes them before, but the lanes do
 * the same operations either way). */
static void test_levels_wide_matches(void **state)
{
	(void)state;
	if (!an_simd_avx2())
		skip();
	float *x = malloc(sizeof(float) * FRAMES * 8);
	assert_non_null(x);
	for (unsigned nch = 1; nch <= 8; nch++)
		for (int e = E_RANDOM; e <= E_EDGES; e++)
			for (int r = 0; r < 2; r++) {
				const uint32_t rate = r ? 44100 : 8000;
				const float thr = r ? 32767.0f / 32768.0f : 1.0f;
				fill(x, (size_t)FRAMES * nch, (enum edge)e, 91u * nch + (uint32_t)e);
				if (e == E_EDGES) {
					x[FRAMES / 3] = NAN;
					x[FRAMES / 2] = INFINITY;
					x[FRAMES - 1] = -INFINITY;
				}
				struct an_level_channel ch[2][8];
				struct an_levels lv[2];
				float *planar[8];
				for (unsigned c = 0; c < nch; c++) {
					planar[c] = malloc(sizeof(float) * FRAMES);
					assert_non_null(planar[c]);
					for (size_t i = 0; i < FRAMES; i++)
						planar[c][i] = x[i * nch + c];
				}
				memset(ch, 0, sizeof(ch));
				for (int w = 0; w < 2; w++) {
					bool was = an_simd_set_wide(w == 1);
					an_levels_init(&lv[w], ch[w], nch, rate, thr);
					for (size_t done = 0, step = 1; done < FRAMES; done += step, step = step * 5 % 3001 + 1) {
						const float *part[8];
						for (unsigned c = 0; c < nch; c++)
							part[c] = planar[c] + done;
						an_levels_push(&lv[w], part, FRAMES - done < step ? FRAMES - done : step);
					}
					an_levels_finish(&lv[w]);
					an_simd_set_wide(was);
				}
				assert_memory_equal(ch[0], ch[1], sizeof(ch[0][0]) * nch);
				assert_int_equal(lv[0].windows, lv[1].windows);
				assert_int_equal(lv[0].silent_windows, lv[1].silent_windows);
				assert_true(ch[0][0].zero_crossings > 0);
				for (unsigned c = 0; c < nch; c++)
					free(planar[c]);
			}
	free(x);
}

/* The decoder reads 16-bit PCM as int16 and converts it itself
 * (decode.c): every code, in every container it does so for, must give
 * libsndfile's own float, bit for bit; odd lengths too. */
static void test_s16_reads_as_libsndfile(void **state)
{
	(void)state;
	static const int majors[] = { SF_FORMAT_WAV, SF_FORMAT_WAVEX, SF_FORMAT_RF64,
				      SF_FORMAT_W64, SF_FORMAT_AIFF, SF_FORMAT_CAF };
	enum { CODES = 65536 };
	static int16_t codes[CODES + 3], back[CODES + 3];
	static float want[CODES + 3], got[CODES + 3];
	for (size_t i = 0; i < CODES; i++)
		codes[i] = (int16_t)(i - 32768);
	codes[CODES] = 32767;
	codes[CODES + 1] = -32768;
	codes[CODES + 2] = 0;
	for (size_t m = 0; m < sizeof(majors) / sizeof(majors[0]); m++)
		for (int nch = 1; nch <= 3; nch += 2) {
			char path[] = "/tmp/sandrun-kernels-XXXXXX";
			int fd = mkstemp(path);
			assert_true(fd >= 0);
			SF_INFO info = { .samplerate = 44100, .channels = nch,
					 .format = majors[m] | SF_FORMAT_PCM_16 };
			SNDFILE *w = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
			assert_non_null(w);
			const sf_count_t frames = (CODES + 3) / nch;
			assert_int_equal(sf_writef_short(w, codes, frames), frames);
			sf_close(w);
			SF_INFO i1 = { 0 }, i2 = { 0 };
			SNDFILE *a = sf_open(path, SFM_READ, &i1), *b = sf_open(path, SFM_READ, &i2);
			assert_non_null(a);
			assert_non_null(b);
			unlink(path);
			assert_int_equal(sf_readf_float(a, want, frames), frames);
			assert_int_equal(sf_readf_short(b, back, frames), frames);
			sf_close(a);
			sf_close(b);
			size_t n = (size_t)frames * (size_t)nch;
			assert_memory_equal(back, codes, n * sizeof(int16_t));
			/* every length up to 17, then the whole */
			for (size_t len = 0; len <= 17; len++) {
				memset(got, 0xff, sizeof(got));
				an_s16_to_float(back, len, got);
				assert_memory_equal(got, want, len * sizeof(float));
				uint32_t past;
				memcpy(&past, &got[len], sizeof(past));
				assert_int_equal(past, 0xffffffffu); /* nothing written past n */
			}
			uint32_t all = an_s16_to_float(back, n, got);
			assert_memory_equal(got, want, n * sizeof(float));
			assert_int_equal(all, 0xffff);
			/* codes 256 .. 256 + 8 nch: 0x100 | (0 .. 8 nch) */
			assert_int_equal(an_s16_to_float(back + 32768 + 256, 8 * nch + 1, got),
					 nch == 1 ? 0x10f : 0x11f);
		}
}

/* Every result of two analyses of the same stream, bit for bit. */
static void assert_same_analysis(const struct an_analysis *a0, const struct an_analysis *a1, unsigned nch)
{
	assert_int_equal(a0->non_finite_samples, a1->non_finite_samples);
	assert_memory_equal(a0->level_ch, a1->level_ch, nch * sizeof(*a0->level_ch));
	assert_memory_equal(a0->tp_ch, a1->tp_ch, nch * sizeof(*a0->tp_ch));
	assert_memory_equal(&a0->stereo, &a1->stereo, sizeof(a0->stereo));
	assert_memory_equal(&a0->bitdepth, &a1->bitdepth, sizeof(a0->bitdepth));
	assert_memory_equal(a0->loudness.pairs, a1->loudness.pairs, sizeof(*a0->loudness.pairs) * ((nch + 1) / 2));
	assert_memory_equal(a0->loudness.blocks, a1->loudness.blocks, sizeof(*a0->loudness.blocks));
	assert_memory_equal(a0->centroid->power_sum, a1->centroid->power_sum,
			    sizeof(double) * (AN_FFT_SIZE / 2 + 1));
	assert_string_equal(a0->audio_sha256, a1->audio_sha256);
	for (unsigned c = 0; c <= nch; c++) {
		struct an_channel_result r0, r1;
		an_analysis_channel(a0, c, &r0);
		an_analysis_channel(a1, c, &r1);
		assert_memory_equal(&r0, &r1, sizeof(r0));
	}
	struct an_transcode_result t0, t1;
	memset(&t0, 0, sizeof(t0)); /* padding */
	memset(&t1, 0, sizeof(t1));
	an_analysis_transcode(a0, &t0);
	an_analysis_transcode(a1, &t1);
	assert_memory_equal(&t0, &t1, sizeof(t0));
}

/* The whole analysis with every fast path and with none: the same
 * numbers, bit for bit, on every channel count from 1 to 8, NaN and
 * infinity included (counted and zeroed the same way: the stereo split
 * counts them eight frames at a time). */
static void test_analysis_wide_matches(void **state)
{
	(void)state;
	if (!an_simd_avx2())
		skip();
	enum { BLOCK = 4096 };
	float *x = malloc(sizeof(float) * FRAMES * 8), *copy = malloc(sizeof(float) * BLOCK * 8);
	assert_non_null(x);
	assert_non_null(copy);
	for (unsigned nch = 1; nch <= 8; nch++)
		for (int e = E_RANDOM; e <= E_EDGES; e++) {
			fill(x, (size_t)FRAMES * nch, (enum edge)e, 13u * nch + (uint32_t)e);
			if (e == E_EDGES || e == E_RANDOM) {
				x[nch * 100] = NAN;
				x[nch * 5000 + 1] = INFINITY;
				x[(size_t)FRAMES * nch - 1] = -INFINITY;
			}
			struct an_analysis a[2];
			for (int w = 0; w < 2; w++) {
				an_simd_set_wide(w == 1);
				assert_int_equal(an_analysis_init(&a[w], nch, 44100, 32767.0f / 32768.0f, BLOCK), 0);
				for (size_t done = 0, step = 1; done < FRAMES; done += step, step = step * 3 % BLOCK + 1) {
					size_t m = FRAMES - done < step ? FRAMES - done : step;
					/* the analysis zeroes non-finite samples in place */
					memcpy(copy, x + done * nch, m * nch * sizeof(float));
					an_analysis_push(&a[w], copy, m);
				}
				an_analysis_finish(&a[w]);
			}
			an_simd_set_wide(true);
			if (e == E_EDGES)
				assert_int_equal(a[0].non_finite_samples, 3);
			assert_same_analysis(&a[0], &a[1], nch);
			an_analysis_free(&a[0]);
			an_analysis_free(&a[1]);
		}
	free(x);
	free(copy);
}

/* 16-bit PCM pushed as codes (converted and split in one pass, the bit
 * depth from their OR) against the same samples pushed as floats: the
 * same analysis, on 1 to 8 channels, every kind of code, odd blocks. */
static void test_push_s16_matches(void **state)
{
	(void)state;
	enum { BLOCK = 4096 };
	int16_t *codes = malloc(sizeof(int16_t) * FRAMES * 8);
	float *f = malloc(sizeof(float) * BLOCK * 8), *g = malloc(sizeof(float) * BLOCK * 8);
	assert_non_null(codes);
	assert_non_null(f);
	assert_non_null(g);
	/* any code; the extremes; 8 bits in 16 (a padded file); silence */
	/* the four-lane split, then the AVX2 one where the CPU has it */
	for (int wide = 0; wide < 2; wide++)
	for (unsigned nch = 1; nch <= 8; nch++)
		for (int kind = 0; kind < 4; kind++) {
			an_simd_set_wide(wide == 1);
			uint32_t seed = 7u * nch + (uint32_t)kind;
			for (size_t i = 0; i < (size_t)FRAMES * nch; i++) {
				uint32_t u = rng(&seed);
				int16_t c = (int16_t)(u & 0xffff);
				if (kind == 1)
					c = u % 3 == 0 ? -32768 : u % 3 == 1 ? 32767 : 0;
				else if (kind == 2)
					c = (int16_t)(c & ~0xff);
				else if (kind == 3)
					c = 0;
				codes[i] = c;
			}
			struct an_analysis a[2];
			for (int w = 0; w < 2; w++) {
				assert_int_equal(an_analysis_init(&a[w], nch, 44100, 32767.0f / 32768.0f, BLOCK), 0);
				for (size_t done = 0, step = 1; done < FRAMES; done += step, step = step * 3 % BLOCK + 1) {
					size_t m = FRAMES - done < step ? FRAMES - done : step;
					const int16_t *cs = codes + done * nch;
					if (w == 0) {
						for (size_t i = 0; i < m * nch; i++)
							f[i] = (float)cs[i] / 32768.0f;
						an_analysis_push(&a[w], f, m);
					} else {
						an_analysis_push_s16(&a[w], cs, g, m);
						/* the floats it made are the same too */
						for (size_t i = 0; i < m * nch; i++)
							assert_true(g[i] == (float)cs[i] / 32768.0f);
					}
				}
				an_analysis_finish(&a[w]);
			}
			an_simd_set_wide(true);
			assert_same_analysis(&a[0], &a[1], nch);
			struct an_transcode_result t;
			an_analysis_transcode(&a[1], &t);
			assert_int_equal(t.effective_bits, kind == 2 ? 8 : kind == 3 ? 0 : 16);
			an_analysis_free(&a[0]);
			an_analysis_free(&a[1]);
		}
	free(codes);
	free(f);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loudness_wide_matches),
		cmocka_unit_test(test_bitdepth_wide_matches),
		cmocka_unit_test(test_truepeak_wide_matches),
		cmocka_unit_test(test_levels_wide_matches),
		cmocka_unit_test(test_s16_reads_as_libsndfile),
		cmocka_unit_test(test_analysis_wide_matches),
		cmocka_unit_test(test_push_s16_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
