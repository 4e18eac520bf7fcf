/* analyzer/transcode.c — see transcode.h. */
#include "analyzer/transcode.h"

#include "analyzer/simd.h"

#include <math.h>
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

void an_bitdepth_push(struct an_bitdepth *b, const float *x, size_t n)
{
	const an_f32x4 scale = an_splat(16777216.0f), big = an_splat(64.0f);
	i32x4 bits = { 0 }, frac = { 0 }, wide = { 0 };
	size_t i = 0;

	/* Below 2^-24 nothing more is to be learned: stop looking. */
	if (b->min_lsb_exp <= -24)
		return;
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

int an_bitdepth_bits(const struct an_bitdepth *b)
{
	if (b->min_lsb_exp == INT32_MAX)
		return 0;
	int bits = 1 - b->min_lsb_exp;
	if (bits < 1)
		bits = 1;
	return bits > 24 ? AN_TC_MORE_THAN_24 : bits;
}

double an_cutoff_hz(const double *power_sum, size_t bins, double bin_hz)
{
	double best = 0.0;
	const size_t h = AN_TC_SMOOTH_BINS / 2;

	if (bins <= 2 * h)
		return NAN;
	/* bin k's smoothed level: the mean power of bins k-h .. k+h (DC and
	 * the lowest bins are left out of the maximum: DC offset is not
	 * content) */
	double max = 0.0;
	for (size_t k = h + 1; k + h < bins; k++) {
		double s = 0.0;
		for (size_t j = k - h; j <= k + h; j++)
			s += power_sum[j];
		if (s > max)
			max = s;
	}
	if (!(max > 0.0))
		return NAN;
	double limit = max * pow(10.0, AN_TC_CUTOFF_DB / 10.0);
	for (size_t k = bins - 1 - h; k > h; k--) {
		double s = 0.0;
		for (size_t j = k - h; j <= k + h; j++)
			s += power_sum[j];
		if (s >= limit) {
			best = (double)k * bin_hz;
			break;
		}
	}
	return best;
}

void an_transcode_judge(double cutoff_hz, uint32_t rate, struct an_transcode_result *out)
{
	double nyquist = rate / 2.0;

	out->cutoff_hz = cutoff_hz;
	out->band_limited = isfinite(cutoff_hz) && cutoff_hz < 0.9 * nyquist && cutoff_hz < 20000.0;
	out->upsampled = isfinite(cutoff_hz) && rate > 48000 && cutoff_hz <= 24000.0;
	out->upsampled_from_hz = !out->upsampled ? 0 : cutoff_hz <= 22050.0 ? 44100 : 48000;
}
