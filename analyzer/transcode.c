/* analyzer/transcode.c — see transcode.h. */
#include "analyzer/transcode.h"

#include <math.h>
#include <string.h>

void an_bitdepth_init(struct an_bitdepth *b)
{
	b->min_lsb_exp = INT32_MAX;
}

void an_bitdepth_push(struct an_bitdepth *b, const float *x, size_t n)
{
	int low = b->min_lsb_exp;

	/* Below 2^-24 nothing more is to be learned: stop looking. */
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
	b->min_lsb_exp = low;
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
