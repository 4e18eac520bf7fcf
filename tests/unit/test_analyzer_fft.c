/* tests/unit/test_analyzer_fft.c — sandrun's own real FFT (analyzer/fft.h)
 * against its oracle, kissfft's kiss_fftr, and against closed forms; a
 * frame's spectrum the same to the bit in any lane of any batch; the
 * centroid and the cutoff spectrum (batched) against the same measured
 * frame by frame through kissfft.
 *
 * The tolerance: a float FFT's error in a bin is a few float roundings
 * (eps = 2^-24 ≈ 6e-8) of the largest partial sums, over log2(N) = 11
 * stages; measured, both FFTs stay within 2e-6 ||x||_2 of the exact DFT
 * in double on every input here (a cosine on a bin centre, which puts
 * all its energy in one bin of N/2, is the worst: half an ulp of that
 * bin). The test asserts TOL_EXACT = 4e-6 ||x||_2 for ours and for kiss
 * against the exact DFT, so 2 TOL_EXACT between the two, and prints the
 * worst it saw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <kiss_fftr.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/centroid.h"
#include "analyzer/fft.h"
#include "analyzer/transcode.h"

#define N AN_FFT_N
#define BINS AN_FFT_BINS
#define TOL_EXACT 4e-6
#define TOL (2 * TOL_EXACT) /* ours against kiss */

static struct an_fft plan;
static kiss_fftr_cfg kiss;
static struct an_fft_spectrum spec;
static float lanes[AN_LANES][N];

static int setup(void **state)
{
	(void)state;
	an_fft_init(&plan);
	kiss = kiss_fftr_alloc(N, 0, NULL, NULL);
	return kiss ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kiss_fftr_free(kiss);
	return 0;
}

static float uniform(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return (float)((double)(*seed >> 8) / 8388608.0 - 1.0); /* [-1, 1) */
}

/* x through our FFT in lane `lane`, the other lanes holding noise */
static void ours(const float *x, unsigned lane)
{
	const float *p[AN_LANES];
	uint32_t seed = 99;

	for (unsigned l = 0; l < AN_LANES; l++) {
		if (l == lane)
			memcpy(lanes[l], x, sizeof(lanes[l]));
		else
			for (size_t n = 0; n < N; n++)
				lanes[l][n] = uniform(&seed);
		p[l] = lanes[l];
	}
	an_fft_real(&plan, p, &spec);
}

/* The exact DFT of x (the floats as given), in double. */
static void exact_dft(const float *x, double *re, double *im)
{
	static double c[N], s[N];

	for (size_t t = 0; t < N; t++) {
		c[t] = cos(2.0 * M_PI * (double)t / N);
		s[t] = -sin(2.0 * M_PI * (double)t / N);
	}
	for (size_t k = 0; k < BINS; k++) {
		double r = 0.0, i = 0.0;
		for (size_t n = 0, t = 0; n < N; n++, t = (t + k) % N) {
			r += x[n] * c[t];
			i += x[n] * s[t];
		}
		re[k] = r;
		im[k] = i;
	}
}

/* The worst |ours - kiss_fftr| over the bins, over ||x||_2 (0 for x = 0
 * when both are exactly 0); each one's worst error against the exact DFT
 * printed and asserted within TOL_EXACT. */
static double against_kiss(const char *what, const float *x, unsigned lane)
{
	static kiss_fft_cpx ref[BINS];
	static double er[BINS], ei[BINS];
	double norm = 0.0, worst = 0.0, ours_err = 0.0, kiss_err = 0.0;

	ours(x, lane);
	kiss_fftr(kiss, x, ref);
	exact_dft(x, er, ei);
	for (size_t n = 0; n < N; n++)
		norm += (double)x[n] * x[n];
	norm = sqrt(norm);
	for (size_t k = 0; k < BINS; k++) {
		double r = spec.re[k][lane], i = spec.im[k][lane];
		worst = fmax(worst, hypot(r - ref[k].r, i - ref[k].i));
		ours_err = fmax(ours_err, hypot(r - er[k], i - ei[k]));
		kiss_err = fmax(kiss_err, hypot(ref[k].r - er[k], ref[k].i - ei[k]));
	}
	if (norm > 0.0) {
		worst /= norm;
		ours_err /= norm;
		kiss_err /= norm;
	}
	print_message("# %-22s lane %u: |ours - kiss| %.3g, |ours - exact| %.3g, |kiss - exact| %.3g (x ||x||)\n",
		      what, lane, worst, ours_err, kiss_err);
	assert_true(ours_err <= TOL_EXACT);
	assert_true(kiss_err <= TOL_EXACT);
	assert_true(worst <= TOL);
	return worst;
}

/* ours against the closed form: bin k0 (and its mirror) holds `peak`,
 * every other bin 0, within TOL_EXACT * ||x||. */
static void assert_single_bin(size_t k0, double peak_r, double norm)
{
	for (size_t k = 0; k < BINS; k++) {
		double er = k == k0 ? peak_r : 0.0;
		double dr = spec.re[k][1] - er, di = spec.im[k][1];
		assert_true(sqrt(dr * dr + di * di) <= TOL_EXACT * norm);
	}
}

static void test_matches_kissfft_and_closed_forms(void **state)
{
	static float x[N];
	uint32_t seed = 1;
	unsigned lane = 0;

	(void)state;
	memset(x, 0, sizeof(x)); /* silence: exactly 0 in both */
	assert_true(against_kiss("silence", x, lane++ % AN_LANES) == 0.0);
	for (size_t k = 0; k < BINS; k++)
		assert_true(spec.re[k][0] == 0.0f && spec.im[k][0] == 0.0f);

	x[0] = 1.0f; /* an impulse at 0: every bin 1 */
	against_kiss("impulse at 0", x, lane++ % AN_LANES);
	x[0] = 0.0f;
	x[777] = 1.0f; /* at 777: exp(-2 pi i k 777 / N) */
	against_kiss("impulse at 777", x, 1);
	for (size_t k = 0; k < BINS; k++) {
		double ph = -2.0 * M_PI * (double)k * 777.0 / N;
		assert_float_equal(spec.re[k][1], cos(ph), TOL_EXACT);
		assert_float_equal(spec.im[k][1], sin(ph), TOL_EXACT);
	}
	x[777] = 0.0f;

	for (size_t n = 0; n < N; n++)
		x[n] = 1.0f; /* DC: bin 0 is N */
	against_kiss("DC", x, 1);
	assert_single_bin(0, N, sqrt(N));
	for (size_t n = 0; n < N; n++)
		x[n] = n % 2 ? -1.0f : 1.0f; /* Nyquist: bin N/2 is N */
	against_kiss("Nyquist", x, 1);
	assert_single_bin(N / 2, N, sqrt(N));

	const size_t centres[] = { 1, 100, 511, 512, 513, 1023 };
	for (size_t c = 0; c < sizeof(centres) / sizeof(centres[0]); c++) {
		for (size_t n = 0; n < N; n++) /* a cosine on bin k0: N/2 there */
			x[n] = (float)cos(2.0 * M_PI * (double)centres[c] * (double)n / N);
		against_kiss("cosine on a bin centre", x, 1);
		assert_single_bin(centres[c], N / 2.0, sqrt(N / 2.0));
	}

	for (size_t n = 0; n < N; n++) /* full scale: +-1 at random */
		x[n] = uniform(&seed) < 0.0f ? -1.0f : 1.0f;
	against_kiss("full scale +-1", x, lane++ % AN_LANES);
	for (size_t n = 0; n < N; n++) /* beyond full scale: float WAVs */
		x[n] = 32768.0f * uniform(&seed);
	against_kiss("noise at 32768", x, lane++ % AN_LANES);
	for (int r = 0; r < 8; r++) {
		for (size_t n = 0; n < N; n++)
			x[n] = uniform(&seed) * (float)pow(10.0, -r);
		against_kiss("noise", x, lane++ % AN_LANES);
	}
}

/* A frame's spectrum is the same to the bit in any lane, whatever the
 * other lanes hold (NaN included): batching changes nothing. */
static void test_lanes_are_independent(void **state)
{
	static float frames[AN_LANES][N], nan_frame[N];
	static struct an_fft_spectrum together;
	const float *p[AN_LANES];
	uint32_t seed = 3;

	(void)state;
	for (unsigned l = 0; l < AN_LANES; l++) {
		for (size_t n = 0; n < N; n++)
			frames[l][n] = uniform(&seed) * (float)(l + 1);
		p[l] = frames[l];
	}
	for (size_t n = 0; n < N; n++)
		nan_frame[n] = NAN;
	an_fft_real(&plan, p, &together);
	for (unsigned f = 0; f < AN_LANES; f++)
		for (unsigned lane = 0; lane < AN_LANES; lane++) {
			for (unsigned l = 0; l < AN_LANES; l++)
				p[l] = l == lane ? frames[f] : nan_frame;
			an_fft_real(&plan, p, &spec);
			for (size_t k = 0; k < BINS; k++) {
				assert_memory_equal(&spec.re[k][lane], &together.re[k][f], sizeof(float));
				assert_memory_equal(&spec.im[k][lane], &together.im[k][f], sizeof(float));
			}
		}
}

/* The cutoff's sums take a batch's lanes in order, exactly as one call per
 * frame would, the first frame left out and the last pending. */
static void test_cutoff_batch_is_frame_by_frame(void **state)
{
	static struct an_fft_spectrum one;
	static double sum_a[BINS], pend_a[BINS], sum_b[BINS], pend_b[BINS];
	uint64_t frames_a = 0, frames_b = 0;
	uint32_t seed = 11;
	const unsigned per_call[] = { 4, 3, 1, 4, 2 };

	(void)state;
	for (size_t c = 0; c < sizeof(per_call) / sizeof(per_call[0]); c++) {
		for (size_t k = 0; k < BINS; k++)
			for (unsigned l = 0; l < AN_LANES; l++) {
				spec.re[k][l] = uniform(&seed);
				spec.im[k][l] = k == 0 || k == BINS - 1 ? 0.0f : uniform(&seed);
			}
		an_cutoff_accumulate(sum_a, pend_a, &frames_a, spec.re, spec.im, BINS, per_call[c]);
		for (unsigned l = 0; l < per_call[c]; l++) {
			for (size_t k = 0; k < BINS; k++) {
				one.re[k][0] = spec.re[k][l];
				one.im[k][0] = spec.im[k][l];
			}
			an_cutoff_accumulate(sum_b, pend_b, &frames_b, one.re, one.im, BINS, 1);
		}
	}
	assert_int_equal(frames_a, 14);
	assert_int_equal(frames_b, 14);
	assert_memory_equal(sum_a, sum_b, sizeof(sum_a));
	assert_memory_equal(pend_a, pend_b, sizeof(pend_a));
}

/* The centroid and the cutoff's long-term spectrum, batched through our
 * FFT, against the same frames one at a time through kiss_fftr: 11 full
 * frames (2 of them silent, so 9 loud ones: two batches of 4 and a tail
 * of 1, its other lanes zero) and a partial one, left out. */
static void test_centroid_matches_kissfft_frame_by_frame(void **state)
{
	enum { FRAMES = 11 };
	static float x[FRAMES * N + 1000], windowed[N];
	static kiss_fft_cpx ref[BINS];
	static struct an_fft_spectrum one;
	static struct an_centroid c;
	static double sum[BINS], pend[BINS];
	const uint32_t rate = 44100;
	uint32_t seed = 17;
	uint64_t frames = 0, used = 0;
	double centroid_sum = 0.0;

	(void)state;
	for (size_t f = 0; f < FRAMES; f++) /* frames 2 and 5 silent */
		for (size_t n = 0; n < N; n++)
			x[f * N + n] = f == 2 || f == 5 ? 0.0f
				       : 0.3f * uniform(&seed) + 0.2f * (float)sin(0.05 * (double)(f * N + n) * (double)(f + 1));
	for (size_t n = 0; n < 1000; n++)
		x[FRAMES * N + n] = uniform(&seed);
	assert_int_equal(an_centroid_init(&c, 1, rate), 0);
	for (size_t at = 0; at < sizeof(x) / sizeof(x[0]); at += 1500) {
		const float *chan[1] = { x + at };
		size_t n = sizeof(x) / sizeof(x[0]) - at;
		an_centroid_push(&c, chan, n < 1500 ? n : 1500);
	}
	an_centroid_finish(&c);

	for (size_t f = 0; f < FRAMES; f++) {
		if (f == 2 || f == 5)
			continue;
		for (size_t n = 0; n < N; n++)
			windowed[n] = x[f * N + n] * c.window[n];
		kiss_fftr(kiss, windowed, ref);
		centroid_sum += an_centroid_of_spectrum(ref, BINS, (double)rate / N);
		used++;
		for (size_t k = 0; k < BINS; k++) {
			one.re[k][0] = ref[k].r;
			one.im[k][0] = ref[k].i;
		}
		an_cutoff_accumulate(sum, pend, &frames, one.re, one.im, BINS, 1);
	}
	an_cutoff_finish(sum, pend, frames, BINS);
	assert_int_equal(c.frames_seen, FRAMES);
	assert_int_equal(c.frames_used, 9);
	assert_int_equal(used, 9);
	assert_int_equal(c.power_frames, frames);
	double want = centroid_sum / (double)used, got = an_centroid_result(&c);
	print_message("# centroid: batched %.9g Hz, kissfft %.9g Hz\n", got, want);
	assert_float_equal(got, want, 1e-6 * want);
	double max = 0.0;
	for (size_t k = 0; k < BINS; k++)
		max = sum[k] > max ? sum[k] : max;
	for (size_t k = 0; k < BINS; k++)
		assert_float_equal(c.power_sum[k], sum[k], 1e-5 * max);
	assert_float_equal(an_cutoff_hz(c.power_sum, BINS, (double)rate / N), an_cutoff_hz(sum, BINS, (double)rate / N),
			   0.0);
	an_centroid_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_kissfft_and_closed_forms),
		cmocka_unit_test(test_lanes_are_independent),
		cmocka_unit_test(test_cutoff_batch_is_frame_by_frame),
		cmocka_unit_test(test_centroid_matches_kissfft_frame_by_frame),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
