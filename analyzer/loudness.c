/* analyzer/loudness.c — see loudness.h. */
#include "analyzer/loudness.h"

#include "analyzer/simd.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SUB_MS 100u

#define ABS_GATE_LUFS (-70.0)
#define BLOCK_RELATIVE_GATE_LU (-10.0)
#define SHORT_TERM_RELATIVE_GATE_LU (-20.0)

static double lufs_of(double energy)
{
	return 10.0 * log10(energy) - 0.691;
}

static double energy_of(double lufs)
{
	return pow(10.0, (lufs + 0.691) / 10.0);
}

static size_t bin_of(double lufs)
{
	double b = floor((lufs - ABS_GATE_LUFS) / AN_LOUDNESS_BIN_LU);

	if (!(b >= 0.0))
		return 0;
	return b >= AN_LOUDNESS_BINS - 1 ? AN_LOUDNESS_BINS - 1 : (size_t)b;
}

/* BS.1770-4's K-weighting for a sample rate: the high-frequency shelf
 * (stage 1) and the RLB high-pass (stage 2), each a biquad from its
 * analogue prototype by the bilinear transform (the constants are those
 * that reproduce the 48 kHz coefficients of BS.1770 Table 1 and 2, as in
 * libebur128), multiplied into one 4th-order filter. */
static void kw_coefficients(double rate, double b[5], double a[5])
{
	double k = tan(M_PI * 1681.974450955533 / rate);
	const double q = 0.7071752369554196;
	const double vh = pow(10.0, 3.999843853973347 / 20.0);
	const double vb = pow(vh, 0.4996667741545416);
	const double a0 = 1.0 + k / q + k * k;
	const double pb[3] = { (vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0,
			       (vh - vb * k / q + k * k) / a0 };
	const double pa[3] = { 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0 };

	k = tan(M_PI * 38.13547087602444 / rate);
	const double q2 = 0.5003270373238773;
	const double rb[3] = { 1.0, -2.0, 1.0 };
	const double ra[3] = { 1.0, 2.0 * (k * k - 1.0) / (1.0 + k / q2 + k * k),
			       (1.0 - k / q2 + k * k) / (1.0 + k / q2 + k * k) };

	for (int i = 0; i < 5; i++) {
		b[i] = a[i] = 0.0;
		for (int j = 0; j <= i; j++)
			if (j < 3 && i - j < 3) {
				b[i] += pb[j] * rb[i - j];
				a[i] += pa[j] * ra[i - j];
			}
	}
}

static void set_weight(struct an_loudness *l, unsigned c, double w)
{
	l->pairs[c / 2].weight[c % 2] = w;
}

/* Without a layout: L R C (LFE) Ls Rs; 4 channels L R Ls Rs, 5 L R C Ls Rs. */
static void default_weights(struct an_loudness *l)
{
	static const double six[6] = { 1.0, 1.0, 1.0, 0.0, 1.41, 1.41 };
	static const double four[4] = { 1.0, 1.0, 1.41, 1.41 };
	static const double five[5] = { 1.0, 1.0, 1.0, 1.41, 1.41 };

	for (unsigned c = 0; c < l->channels; c++) {
		double w = c < 6 ? six[c] : 0.0;
		if (l->channels == 4)
			w = four[c];
		else if (l->channels == 5)
			w = five[c];
		set_weight(l, c, w);
	}
}

int an_loudness_init(struct an_loudness *l, unsigned channels, uint32_t rate)
{
	memset(l, 0, sizeof(*l));
	if (rate < AN_LOUDNESS_MIN_RATE || rate > AN_LOUDNESS_MAX_RATE) {
		l->skipped = "sample rate outside 16 Hz - 2.8224 MHz";
		return 0;
	}
	if (channels == 0 || channels > AN_LOUDNESS_MAX_CHANNELS) {
		l->skipped = "more than 64 channels";
		return 0;
	}
	l->channels = channels;
	l->sub_frames = rate * SUB_MS / 1000;
	kw_coefficients((double)rate, l->b, l->a);
	l->blocks = calloc(1, sizeof(*l->blocks));
	l->short_term = calloc(1, sizeof(*l->short_term));
	l->pairs = calloc((channels + 1) / 2, sizeof(*l->pairs));
	if (!l->blocks || !l->short_term || !l->pairs) {
		an_loudness_free(l);
		return -ENOMEM;
	}
	default_weights(l);
	l->active = true;
	return 0;
}

void an_loudness_free(struct an_loudness *l)
{
	free(l->blocks);
	free(l->short_term);
	free(l->pairs);
	l->blocks = l->short_term = NULL;
	l->pairs = NULL;
	l->active = false;
}

void an_loudness_set_layout(struct an_loudness *l, const uint8_t *roles, unsigned channels)
{
	bool known = false, sides = false;

	if (!l->active || !roles)
		return;
	/* roles holds AN_LAYOUT_MAX entries: channels past them (a decoder
	 * may claim up to 1024) keep the default map; never read past. */
	if (channels > AN_LAYOUT_MAX)
		channels = AN_LAYOUT_MAX;
	if (channels > l->channels)
		channels = l->channels;
	for (unsigned c = 0; c < channels; c++) {
		known |= roles[c] != AN_CH_UNKNOWN;
		sides |= roles[c] == AN_CH_SL || roles[c] == AN_CH_SR;
	}
	if (!known)
		return;
	for (unsigned c = 0; c < channels; c++) {
		double w;
		switch (roles[c]) {
		case AN_CH_LFE: w = 0.0; break;
		/* BS.1770-4 Table 4: 1.41 between 60 and 120 degrees. The
		 * back pair of a 5.1 is its surround pair (110 degrees);
		 * beside a side pair (7.1) it sits at 135-150 degrees. */
		case AN_CH_BL:
		case AN_CH_BR: w = sides ? 1.0 : 1.41; break;
		case AN_CH_SL:
		case AN_CH_SR: w = 1.41; break;
		case AN_CH_FL:
		case AN_CH_FR:
		case AN_CH_FC:
		case AN_CH_UNKNOWN: /* a layout that names some channels only */
		case AN_CH_OTHER:
		default: w = 1.0; break;
		}
		set_weight(l, c, w);
	}
}

static void hist_add(struct an_loudness_hist *h, double energy)
{
	double lufs = lufs_of(energy);
	size_t b = bin_of(lufs);

	h->count[b]++;
	h->energy[b] += energy;
	h->lufs[b] += lufs;
}

static double ring_mean(const struct an_loudness *l, unsigned n)
{
	double sum = 0.0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t k = (l->subs - 1 - i) % AN_LOUDNESS_SHORT_TERM_SUBS;
		sum += l->ring[k];
	}
	return sum / n;
}

/* A 100 ms sub-block is complete: its energy (the weighted mean square
 * of its filtered samples), then the 400 ms block and the 3 s
 * short-term value that end with it. */
static void sub_block_done(struct an_loudness *l)
{
	const double abs_gate = energy_of(ABS_GATE_LUFS);
	double sum = 0.0;

	for (unsigned p = 0; p < (l->channels + 1) / 2; p++) {
		an_f64x2 s = l->pairs[p].sum * l->pairs[p].weight;
		sum += s[0] + s[1];
		l->pairs[p].sum = (an_f64x2){ 0.0, 0.0 };
	}
	l->ring[l->subs % AN_LOUDNESS_SHORT_TERM_SUBS] = sum / (double)l->sub_frames;
	l->subs++;
	if (l->subs >= AN_LOUDNESS_BLOCK_SUBS) {
		double e = ring_mean(l, AN_LOUDNESS_BLOCK_SUBS);
		if (e > l->max_block)
			l->max_block = e;
		if (e >= abs_gate)
			hist_add(l->blocks, e);
	}
	if (l->subs >= AN_LOUDNESS_SHORT_TERM_SUBS) {
		double e = ring_mean(l, AN_LOUDNESS_SHORT_TERM_SUBS);
		if (e > l->max_short_term)
			l->max_short_term = e;
		if (e >= abs_gate)
			hist_add(l->short_term, e);
	}
}

static an_f64x2 flush_denormal(an_f64x2 v)
{
	for (int i = 0; i < 2; i++)
		if (fabs(v[i]) < DBL_MIN)
			v[i] = 0.0;
	return v;
}

typedef float an_f32x2 __attribute__((vector_size(8)));
typedef float kw_f32x4 __attribute__((vector_size(16)));

/* The two floats at p, widened to doubles (exactly). SSE2's cvtps2pd
 * on a 64-bit load, where GCC spells the 2-lane vector conversion as
 * two scalar ones (clang, which has no such builtin, does not). */
static inline an_f64x2 widen2(const float *p)
{
#if defined(__SSE2__) && !defined(__clang__)
	an_f32x2 f;
	memcpy(&f, p, sizeof(f));
	return __builtin_ia32_cvtps2pd(__builtin_shufflevector(f, (an_f32x2){ 0.0f, 0.0f }, 0, 1, 2, 3));
#else
	return (an_f64x2){ p[0], p[1] };
#endif
}

/* K-weights n frames of channels c and c + 1 (two = false: c only) of
 * interleaved x (stride channels per frame) and adds the squares of the
 * output to the pair's sum. The term through v[n-1] is added last: it is
 * the only one on the chain from one sample to the next. Inlined with
 * `two` a constant, so each case is its own loop. */
static inline __attribute__((always_inline)) void
kw_run(const struct an_loudness *l, struct an_kw_pair *s, const float *x, size_t stride, size_t n,
       bool two)
{
	const an_f64x2 a1 = { l->a[1], l->a[1] }, a2 = { l->a[2], l->a[2] };
	const an_f64x2 a3 = { l->a[3], l->a[3] }, a4 = { l->a[4], l->a[4] };
	const an_f64x2 b0 = { l->b[0], l->b[0] }, b1 = { l->b[1], l->b[1] };
	const an_f64x2 b2 = { l->b[2], l->b[2] }, b3 = { l->b[3], l->b[3] };
	const an_f64x2 b4 = { l->b[4], l->b[4] };
	an_f64x2 v1 = s->v[0], v2 = s->v[1], v3 = s->v[2], v4 = s->v[3], sum = s->sum;

	for (size_t i = 0; i < n; i++, x += stride) {
		an_f64x2 in;
		if (two) {
			in = widen2(x);
		} else {
			in = (an_f64x2){ x[0], 0.0 };
		}
		an_f64x2 v0 = (in - a2 * v2 - a3 * v3 - a4 * v4) - a1 * v1;
		an_f64x2 y = b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3 + b4 * v4;
		sum += y * y;
		v4 = v3;
		v3 = v2;
		v2 = v1;
		v1 = v0;
	}
	/* A decaying filter after the signal stops would crawl through
	 * subnormal numbers (each op ~100x slower); they are below what any
	 * sum here can register. */
	s->v[0] = flush_denormal(v1);
	s->v[1] = flush_denormal(v2);
	s->v[2] = flush_denormal(v3);
	s->v[3] = flush_denormal(v4);
	s->sum = sum;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define KW_WIDE 1
typedef double kw_f64x4 __attribute__((vector_size(32)));

/* kw_run() for a pair, two frames per step, on CPUs with AVX (chosen at
 * run time; the build stays baseline x86-64). The recursion (v0 of each
 * frame) is kw_run()'s very expression on two lanes, and the output y of
 * both frames is the same five products summed in the same order, the
 * frames side by side in one 4-lane vector: half the multiplies and adds
 * off the recursion's chain, which is what bounded the loop (it waits on
 * the FP ports, not on the chain's latency). The squares are added to the
 * sum frame by frame, in order. No FMA (ISO C mode keeps multiplies and
 * adds apart, and the target does not enable it), so every lane rounds as
 * kw_run() does: the same result, bit for bit. Returns the frames taken
 * (even); the caller finishes an odd one with kw_run(). The state is left
 * in *s without the subnormal flush, which kw_run() then does. */
__attribute__((target("avx"))) static size_t
kw_run_pair_avx(const struct an_loudness *l, struct an_kw_pair *s, const float *x, size_t stride,
		size_t n)
{
	const an_f64x2 a1 = { l->a[1], l->a[1] }, a2 = { l->a[2], l->a[2] };
	const an_f64x2 a3 = { l->a[3], l->a[3] }, a4 = { l->a[4], l->a[4] };
	const kw_f64x4 b0 = (kw_f64x4){ 0 } + l->b[0], b1 = (kw_f64x4){ 0 } + l->b[1];
	const kw_f64x4 b2 = (kw_f64x4){ 0 } + l->b[2], b3 = (kw_f64x4){ 0 } + l->b[3];
	const kw_f64x4 b4 = (kw_f64x4){ 0 } + l->b[4];
	an_f64x2 v1 = s->v[0], v2 = s->v[1], v3 = s->v[2], v4 = s->v[3], sum = s->sum;
	/* p2 = [v2 | v1], p3 = [v3 | v2], p4 = [v4 | v3]: the frame pairs
	 * the outputs read, carried from step to step. */
	kw_f64x4 p2 = __builtin_shufflevector(v2, v1, 0, 1, 2, 3);
	kw_f64x4 p3 = __builtin_shufflevector(v3, v2, 0, 1, 2, 3);
	kw_f64x4 p4 = __builtin_shufflevector(v4, v3, 0, 1, 2, 3);
	size_t i = 0;

	for (; i + 2 <= n; i += 2, x += 2 * stride) {
		an_f64x2 in0 = widen2(x), in1 = widen2(x + stride);
		an_f64x2 v0 = (in0 - a2 * v2 - a3 * v3 - a4 * v4) - a1 * v1;
		an_f64x2 w0 = (in1 - a2 * v1 - a3 * v2 - a4 * v3) - a1 * v0;
		kw_f64x4 p0 = __builtin_shufflevector(v0, w0, 0, 1, 2, 3);
		kw_f64x4 p1 = __builtin_shufflevector(v1, v0, 0, 1, 2, 3);
		kw_f64x4 y = b0 * p0 + b1 * p1 + b2 * p2 + b3 * p3 + b4 * p4;
		kw_f64x4 sq = y * y;
		sum += __builtin_shufflevector(sq, sq, 0, 1);
		sum += __builtin_shufflevector(sq, sq, 2, 3);
		v4 = v2;
		v3 = v1;
		v2 = v0;
		v1 = w0;
		p4 = p2;
		p3 = p1;
		p2 = p0;
	}
	s->v[0] = v1;
	s->v[1] = v2;
	s->v[2] = v3;
	s->v[3] = v4;
	s->sum = sum;
	return i;
}

static inline __attribute__((always_inline, target("avx"))) kw_f64x4 join2(an_f64x2 a, an_f64x2 b)
{
	return __builtin_shufflevector(a, b, 0, 1, 2, 3);
}

/* kw_run() for two pairs at once (four channels, c .. c + 3 of each
 * frame), on CPUs with AVX: the pairs side by side in one 4-lane vector,
 * each lane doing kw_run()'s very operations in its order, so each
 * pair's state and sum are kw_run()'s, bit for bit; but one chain of
 * latency carries four channels where kw_run() carries two. The state
 * is flushed of subnormal numbers at the end, as kw_run() does. */
__attribute__((target("avx"))) static void
kw_run_quad_avx(const struct an_loudness *l, struct an_kw_pair *p, const float *x, size_t stride, size_t n)
{
	const kw_f64x4 a1 = (kw_f64x4){ 0 } + l->a[1], a2 = (kw_f64x4){ 0 } + l->a[2];
	const kw_f64x4 a3 = (kw_f64x4){ 0 } + l->a[3], a4 = (kw_f64x4){ 0 } + l->a[4];
	const kw_f64x4 b0 = (kw_f64x4){ 0 } + l->b[0], b1 = (kw_f64x4){ 0 } + l->b[1];
	const kw_f64x4 b2 = (kw_f64x4){ 0 } + l->b[2], b3 = (kw_f64x4){ 0 } + l->b[3];
	const kw_f64x4 b4 = (kw_f64x4){ 0 } + l->b[4];
	kw_f64x4 v1 = join2(p[0].v[0], p[1].v[0]), v2 = join2(p[0].v[1], p[1].v[1]);
	kw_f64x4 v3 = join2(p[0].v[2], p[1].v[2]), v4 = join2(p[0].v[3], p[1].v[3]);
	kw_f64x4 sum = join2(p[0].sum, p[1].sum);

	for (size_t i = 0; i < n; i++, x += stride) {
		kw_f32x4 f;
		memcpy(&f, x, sizeof(f));
		kw_f64x4 in = __builtin_convertvector(f, kw_f64x4);
		kw_f64x4 v0 = (in - a2 * v2 - a3 * v3 - a4 * v4) - a1 * v1;
		kw_f64x4 y = b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3 + b4 * v4;
		sum += y * y;
		v4 = v3;
		v3 = v2;
		v2 = v1;
		v1 = v0;
	}
	const kw_f64x4 v[4] = { v1, v2, v3, v4 };
	for (int h = 0; h < 2; h++) {
		for (int k = 0; k < 4; k++)
			p[h].v[k] = flush_denormal(h ? __builtin_shufflevector(v[k], v[k], 2, 3)
						     : __builtin_shufflevector(v[k], v[k], 0, 1));
		p[h].sum = h ? __builtin_shufflevector(sum, sum, 2, 3) : __builtin_shufflevector(sum, sum, 0, 1);
	}
}
#else
#define KW_WIDE 0
#endif

static void kw_run_pair(const struct an_loudness *l, struct an_kw_pair *s, const float *x,
			size_t stride, size_t n)
{
#if KW_WIDE
	if (an_simd_avx()) {
		size_t done = kw_run_pair_avx(l, s, x, stride, n);
		x += done * stride;
		n -= done;
	}
#endif
	kw_run(l, s, x, stride, n, true);
}

static void kw_run_one(const struct an_loudness *l, struct an_kw_pair *s, const float *x,
		       size_t stride, size_t n)
{
	kw_run(l, s, x, stride, n, false);
}

void an_loudness_push(struct an_loudness *l, const float *frames, size_t nframes)
{
	const size_t nch = l->channels;
#if KW_WIDE
	const bool wide = an_simd_avx();
#endif

	while (l->active && nframes > 0) {
		size_t n = l->sub_frames - l->sub_fill;
		if (n > nframes)
			n = nframes;
		unsigned c = 0;
#if KW_WIDE
		/* four channels a chain where the CPU has AVX */
		if (wide)
			for (; c + 4 <= nch; c += 4)
				kw_run_quad_avx(l, &l->pairs[c / 2], frames + c, nch, n);
#endif
		for (; c < nch; c += 2) {
			if (c + 1 < nch)
				kw_run_pair(l, &l->pairs[c / 2], frames + c, nch, n);
			else
				kw_run_one(l, &l->pairs[c / 2], frames + c, nch, n);
		}
		frames += n * nch;
		nframes -= n;
		l->sub_fill += n;
		if (l->sub_fill == l->sub_frames) {
			l->sub_fill = 0;
			sub_block_done(l);
		}
	}
}

/* The first bin above a relative gate, with the bin that holds the gate
 * taken when its values' mean energy reaches it. Sets *count and *energy
 * to what lies at or above the gate. */
static size_t gate(const struct an_loudness_hist *h, double gate_energy, uint64_t *count,
		   double *energy)
{
	size_t first = bin_of(lufs_of(gate_energy));

	if (h->count[first] && h->energy[first] / (double)h->count[first] < gate_energy)
		first++;
	*count = 0;
	*energy = 0.0;
	for (size_t b = first; b < AN_LOUDNESS_BINS; b++) {
		*count += h->count[b];
		*energy += h->energy[b];
	}
	return first;
}

static void totals(const struct an_loudness_hist *h, uint64_t *count, double *energy)
{
	*count = 0;
	*energy = 0.0;
	for (size_t b = 0; b < AN_LOUDNESS_BINS; b++) {
		*count += h->count[b];
		*energy += h->energy[b];
	}
}

static double integrated(const struct an_loudness_hist *h)
{
	uint64_t n;
	double e;

	totals(h, &n, &e);
	if (n == 0)
		return -INFINITY;
	gate(h, e / (double)n * pow(10.0, BLOCK_RELATIVE_GATE_LU / 10.0), &n, &e);
	return n ? lufs_of(e / (double)n) : -INFINITY;
}

/* The mean loudness of the bin holding the value of 0-based rank k. */
static double value_at_rank(const struct an_loudness_hist *h, size_t first, uint64_t k)
{
	uint64_t seen = 0;

	for (size_t b = first; b < AN_LOUDNESS_BINS; b++) {
		seen += h->count[b];
		if (seen > k)
			return h->lufs[b] / (double)h->count[b];
	}
	return NAN;
}

static double range(const struct an_loudness_hist *h)
{
	uint64_t n;
	double e;

	totals(h, &n, &e);
	if (n == 0)
		return 0.0;
	size_t first = gate(h, e / (double)n * pow(10.0, SHORT_TERM_RELATIVE_GATE_LU / 10.0),
			    &n, &e);
	if (n == 0)
		return 0.0;
	uint64_t lo = (uint64_t)((double)(n - 1) * 0.10 + 0.5);
	uint64_t hi = (uint64_t)((double)(n - 1) * 0.95 + 0.5);
	return value_at_rank(h, first, hi) - value_at_rank(h, first, lo);
}

void an_loudness_result(const struct an_loudness *l, double *integrated_lufs, double *range_lu)
{
	*integrated_lufs = NAN;
	*range_lu = NAN;
	if (!l->active)
		return;
	*integrated_lufs = integrated(l->blocks);
	*range_lu = range(l->short_term);
}

void an_loudness_maxima(const struct an_loudness *l, double *momentary_lufs, double *short_term_lufs)
{
	*momentary_lufs = NAN;
	*short_term_lufs = NAN;
	if (!l->active)
		return;
	*momentary_lufs = l->max_block > 0.0 ? lufs_of(l->max_block) : -INFINITY;
	*short_term_lufs = l->max_short_term > 0.0 ? lufs_of(l->max_short_term) : -INFINITY;
}
