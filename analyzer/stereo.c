/* analyzer/stereo.c — see stereo.h. */
#include "analyzer/stereo.h"

#include "analyzer/simd.h"

#include <math.h>

void an_stereo_push(struct an_stereo *s, const float *l, const float *r, size_t n)
{
	an_f32x4 vlr = an_splat(0.0f), vside = an_splat(0.0f), vmid = an_splat(0.0f);
	double lr = 0.0, side = 0.0, mid = 0.0;
	size_t i = 0;

	/* Float lanes within a block (at most a few thousand frames), double
	 * across blocks, as the levels sum their squares. */
	for (; i + AN_LANES <= n; i += AN_LANES) {
		an_f32x4 a = an_load(l + i), b = an_load(r + i), d = a - b, m = a + b;
		vlr += a * b;
		vside += d * d;
		vmid += m * m;
	}
	lr = an_hsum(vlr);
	side = an_hsum(vside);
	mid = an_hsum(vmid);
	for (; i < n; i++) {
		double d = (double)l[i] - (double)r[i], m = (double)l[i] + (double)r[i];
		lr += (double)l[i] * (double)r[i];
		side += d * d;
		mid += m * m;
	}
	s->sum_lr += lr;
	s->sum_side2 += side;
	s->sum_mid2 += mid;
}

void an_stereo_result(const struct an_stereo *s, double sum_l2, double sum_r2,
		      struct an_stereo_result *out)
{
	/* Mid and side are summed themselves rather than derived from the
	 * others: identical or inverted channels cancel exactly, not to a
	 * rounding residue. */
	double mean = (sum_l2 + sum_r2) / 2.0;
	double side = s->sum_side2 / 4.0;
	double mid = s->sum_mid2 / 4.0;
	out->correlation = sum_l2 > 0.0 && sum_r2 > 0.0 ? s->sum_lr / sqrt(sum_l2 * sum_r2) : NAN;
	if (out->correlation > 1.0)
		out->correlation = 1.0;
	if (out->correlation < -1.0)
		out->correlation = -1.0;
	out->fold_down_loss_db = mean > 0.0 ? 10.0 * log10(mean / mid) : NAN;
	out->side_to_mid_db = mean > 0.0 ? 10.0 * log10(side / mid) : NAN;
	out->dual_mono = mean > 0.0 && side <= mid * pow(10.0, AN_STEREO_DUAL_MONO_DB / 10.0);
	out->inverted_polarity = out->correlation <= AN_STEREO_INVERTED_BELOW;
}
