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
#include <stdlib.h>
#include <string.h>

#include "analyzer/analysis.h"
#include "analyzer/loudness.h"
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

static bool have_avx(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	return __builtin_cpu_supports("avx");
#else
	return false;
#endif
}

/* an_loudness_push with the AVX pair kernel and without: the same
 * filter state, sums and results, bit for bit. */
static void test_loudness_wide_matches(void **state)
{
	(void)state;
	if (!have_avx())
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
					bool was = an_loudness_set_wide(w == 1);
					assert_int_equal(an_loudness_init(&l[w], nch, rates[r]), 0);
					/* blocks of every size, odd and even */
					for (size_t done = 0, step = 1; done < FRAMES;
					     done += step, step = step * 7 % 2999 + 1) {
						size_t m = FRAMES - done < step ? FRAMES - done : step;
						an_loudness_push(&l[w], x + done * nch, m);
					}
					an_loudness_set_wide(was);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loudness_wide_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
