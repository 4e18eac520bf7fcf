/* analyzer/transcode.c — see transcode.h. */
#include "analyzer/transcode.h"

#include "analyzer/simd.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

void an_bitdepth_init(struct an_bitdepth *b)
{
	b->min_lsb_exp = INT32_MAX;
}

/* The scalar definition: the lowest set bit of each sample's value. */
static int lowest_bit(const float *x, size_t n, int low)
{
	for (size_t i = 0; i < n && low > -24; i++) {
		uint32_t u;
		memcpy(&u, &x[i], sizeof(u));
		uint32_t mant = u & 0x7fffffu, e = (u >> 23) & 0xffu;
		if (e == 0 && mant == 0)
			continue; /* zero */
		if (e == 0xff)
			continue; /* not finite (already zeroed by the analysis) */
		int lsb = e == 0 ? -149 + __builtin_ctz(mant)
				 : (int)e - 150 + __builtin_ctz(mant | 0x800000u);
		if (lsb < low)
			low = lsb;
	}
	return low;
}

typedef int32_t i32x4 __attribute__((vector_size(16)));

/* The three masks of the loop below, OR-ed over its lanes. */
struct bit_masks {
	i32x4 bits, frac, wide;
};

#if defined(__x86_64__) && defined(__GNUC__)
#define BITDEPTH_WIDE 1
typedef float bd_f32x8 __attribute__((vector_size(32)));
typedef int32_t bd_i32x8 __attribute__((vector_size(32)));

/* The four-lane loop of an_bitdepth_push() eight samples at a time, for
 * CPUs with AVX2 (chosen at run time). Its lanes are ORs of integers and
 * comparisons, so folding eight lanes into four gives the very masks the
 * four-lane loop would: the same result. Returns the samples taken (a
 * multiple of eight); the four-lane loop goes on from there. */
__attribute__((target("avx2"))) static size_t bitdepth8(const float *x, size_t n, struct bit_masks *m)
{
	const bd_f32x8 scale = (bd_f32x8){ 0 } + 16777216.0f, big = (bd_f32x8){ 0 } + 64.0f;
	const bd_i32x8 absmask = (bd_i32x8){ 0 } + 0x7fffffff;
	bd_i32x8 bits = { 0 }, frac = { 0 }, wide = { 0 };
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		bd_f32x8 v, y;
		memcpy(&v, x + i, sizeof(v));
		y = v * scale;
		wide |= (bd_f32x8)((bd_i32x8)v & absmask) >= big;
		bd_i32x8 q = __builtin_convertvector(y, bd_i32x8);
		frac |= __builtin_convertvector(q, bd_f32x8) != y;
		bits |= q;
	}
	m->bits = __builtin_shufflevector(bits, bits, 0, 1, 2, 3) | __builtin_shufflevector(bits, bits, 4, 5, 6, 7);
	m->frac = __builtin_shufflevector(frac, frac, 0, 1, 2, 3) | __builtin_shufflevector(frac, frac, 4, 5, 6, 7);
	m->wide = __builtin_shufflevector(wide, wide, 0, 1, 2, 3) | __builtin_shufflevector(wide, wide, 4, 5, 6, 7);
	return i;
}
#else
#define BITDEPTH_WIDE 0
#endif

void an_bitdepth_push(struct an_bitdepth *b, const float *x, size_t n)
{
	const an_f32x4 scale = an_splat(16777216.0f), big = an_splat(64.0f);
	struct bit_masks m = { { 0 }, { 0 }, { 0 } };
	size_t i = 0;

	/* Below 2^-24 nothing more is to be learned: stop looking. */
	if (b->min_lsb_exp <= -24)
		return;
#if BITDEPTH_WIDE
	if (an_simd_avx2())
		i = bitdepth8(x, n, &m);
#endif
	i32x4 bits = m.bits, frac = m.frac, wide = m.wide;
	/* Four lanes: x * 2^24 is exact (a power of two); it is an integer
	 * exactly when the lowest set bit is 2^-24 or above, and then the
	 * OR of those integers has the lowest bit of them all. Samples of
	 * 64 or more (beyond int32 at that scale) go the scalar way. */
	for (; i + AN_LANES <= n; i += AN_LANES) {
		an_f32x4 v = an_load(x + i), y = v * scale;
		wide |= an_abs(v) >= big;
		i32x4 q = __builtin_convertvector(y, i32x4);
		frac |= __builtin_convertvector(q, an_f32x4) != y;
		bits |= q;
	}
	int low = b->min_lsb_exp;
	if (wide[0] | wide[1] | wide[2] | wide[3] | frac[0] | frac[1] | frac[2] | frac[3]) {
		low = lowest_bit(x, i, low);
	} else {
		uint32_t all = (uint32_t)(bits[0] | bits[1] | bits[2] | bits[3]);
		if (all) {
			int lsb = __builtin_ctz(all) - 24;
			low = lsb < low ? lsb : low;
		}
	}
	b->min_lsb_exp = lowest_bit(x + i, n - i, low);
}

void an_bitdepth_push_codes(struct an_bitdepth *b, uint32_t codes_or, int unit_exp)
{
	/* code * 2^unit_exp has its lowest set bit at ctz(code) +
	 * unit_exp, and the OR has the lowest of them all */
	if (codes_or == 0)
		return;
	int lsb = __builtin_ctz(codes_or) + unit_exp;
	if (lsb < b->min_lsb_exp)
		b->min_lsb_exp = lsb;
}

int an_bitdepth_bits(const struct an_bitdepth *b)
{
	if (b->min_lsb_exp == INT32_MAX)
		return 0;
	int bits = 1 - b->min_lsb_exp;
	if (bits < 1)
		bits = 1;
	return bits > 24 ? AN_TC_MORE_THAN_24 : bits;
}

/* One bin of the frames under Hann squared: multiplying a frame by Hann
 * once more is, in frequency, the kernel [-1/4, 1/2, -1/4] over the bins
 * (lo, y, hi); the power in float, as the frames' spectra are. */
static inline an_f32x4 hann2_power(an_f32x4 lr, an_f32x4 li, an_f32x4 yr, an_f32x4 yi, an_f32x4 hr,
				   an_f32x4 hi)
{
	an_f32x4 r = an_splat(0.5f) * yr - an_splat(0.25f) * (lr + hr);
	an_f32x4 i = an_splat(0.5f) * yi - an_splat(0.25f) * (li + hi);
	return r * r + i * i;
}

/* power_sum[k], pending[k] after the lanes' powers p, in lane order:
 * the pending frame joins the sum unless it was the file's first. */
static inline void take_bin(double *sum, double *pend, an_f32x4 p, uint64_t frames, unsigned lanes)
{
	double s = *sum, q = *pend;

	for (unsigned l = 0; l < lanes; l++) {
		if (frames + l >= 2)
			s += q;
		q = (double)p[l];
	}
	*sum = s;
	*pend = q;
}

typedef double f64x2 __attribute__((vector_size(16)));

/* take_bin for bins k and k+1 (powers p, p1) of a full batch past the
 * first frame, two bins a vector: each bin's additions are take_bin's,
 * in its order. */
static inline void take_two_bins(double *sum, double *pend, an_f32x4 p, an_f32x4 p1)
{
	f64x2 s, q;

	memcpy(&s, sum, sizeof(s));
	memcpy(&q, pend, sizeof(q));
	s += q;
	s += __builtin_convertvector(__builtin_shufflevector(p, p1, 0, 4), f64x2);
	s += __builtin_convertvector(__builtin_shufflevector(p, p1, 1, 5), f64x2);
	s += __builtin_convertvector(__builtin_shufflevector(p, p1, 2, 6), f64x2);
	q = __builtin_convertvector(__builtin_shufflevector(p, p1, 3, 7), f64x2);
	memcpy(sum, &s, sizeof(s));
	memcpy(pend, &q, sizeof(q));
}

static inline an_f32x4 inner_bin(const an_f32x4 *re, const an_f32x4 *im, size_t k)
{
	return hann2_power(re[k - 1], im[k - 1], re[k], im[k], re[k + 1], im[k + 1]);
}

void an_cutoff_accumulate(double *power_sum, double *pending, uint64_t *frames, const an_f32x4 *re,
			  const an_f32x4 *im, size_t bins, unsigned lanes)
{
	const uint64_t before = *frames;
	size_t k = 1;

	if (bins < 3 || lanes == 0)
		return;
	if (lanes > AN_LANES)
		lanes = AN_LANES;
	/* Below bin 0 and past the last the real input's spectrum mirrors as
	 * conjugates. */
	take_bin(&power_sum[0], &pending[0], hann2_power(re[1], -im[1], re[0], im[0], re[1], im[1]), before,
		 lanes);
	if (lanes == AN_LANES && before >= 2) /* the common case */
		for (; k + 2 < bins; k += 2)
			take_two_bins(&power_sum[k], &pending[k], inner_bin(re, im, k), inner_bin(re, im, k + 1));
	for (; k + 1 < bins; k++)
		take_bin(&power_sum[k], &pending[k], inner_bin(re, im, k), before, lanes);
	const size_t e = bins - 1;
	take_bin(&power_sum[e], &pending[e], hann2_power(re[e - 1], im[e - 1], re[e], im[e], re[e - 1], -im[e - 1]),
		 before, lanes);
	*frames = before + lanes;
}

void an_cutoff_finish(double *power_sum, const double *pending, uint64_t frames, size_t bins)
{
	/* Two frames or one: keep what there is rather than nothing. */
	if (frames == 0 || frames > 2)
		return;
	for (size_t k = 0; k < bins; k++)
		power_sum[k] += pending[k];
}

/* bin k's level smoothed: the mean power of bins k-h .. k+h */
static double smoothed(const double *p, size_t k, size_t h)
{
	double s = 0.0;
	for (size_t j = k - h; j <= k + h; j++)
		s += p[j];
	return s;
}

double an_cutoff_hz(const double *power_sum, size_t bins, double bin_hz)
{
	const size_t h = AN_TC_SMOOTH_BINS / 2;

	if (bins <= 2 * h + 1)
		return NAN;
	/* DC and the lowest bins are left out of the maximum: DC offset is
	 * not content */
	double max = 0.0;
	for (size_t k = h + 1; k + h < bins; k++) {
		double s = smoothed(power_sum, k, h);
		if (s > max)
			max = s;
	}
	if (!(max > 0.0))
		return NAN;
	double limit = max * pow(10.0, AN_TC_CUTOFF_DB / 10.0);
	size_t k = bins - 1 - h;
	while (k > h && smoothed(power_sum, k, h) < limit)
		k--;
	if (k <= h)
		return 0.0;
	/* The smoothed level reaches past the last bin that is itself above
	 * the limit (per bin: limit / (2h + 1)); start on that bin, not on
	 * the noise floor beyond it, where no skirt is left to walk. */
	const double bin_limit = limit / (double)(2 * h + 1);
	for (size_t top = k + h; top >= k - h; top--)
		if (power_sum[top] >= bin_limit) {
			k = top;
			break;
		}
	/* k is on the window's skirt below the edge, a few bins above
	 * it: walk down while each bin is AN_TC_SKIRT_DB under the one
	 * below it (the skirt; a long-term spectrum's content does not
	 * fall that fast), at most AN_TC_SKIRT_BINS bins. */
	const double step = pow(10.0, AN_TC_SKIRT_DB / 10.0); /* bin k-1 over bin k */
	for (size_t n = 0; n < AN_TC_SKIRT_BINS && k > 1 && power_sum[k - 1] >= step * power_sum[k]; n++)
		k--;
	return (double)k * bin_hz;
}

void an_transcode_judge(double cutoff_hz, uint32_t rate, struct an_transcode_result *out)
{
	double nyquist = rate / 2.0;

	out->cutoff_hz = cutoff_hz;
	out->band_limited = isfinite(cutoff_hz) && cutoff_hz < 0.9 * nyquist && cutoff_hz < 20000.0;
	out->upsampled = isfinite(cutoff_hz) && rate > 48000 && cutoff_hz <= 24000.0;
	out->upsampled_from_hz = !out->upsampled ? 0 : cutoff_hz <= 22050.0 ? 44100 : 48000;
}
