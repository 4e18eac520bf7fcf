/* analyzer/levels.c — see levels.h. */
#include "analyzer/levels.h"

#include "analyzer/simd.h"

#include <math.h>
#include <sndfile.h>
#include <string.h>

double an_db_from_amplitude(double a)
{
	if (!(a > 0.0))
		return -INFINITY;
	return 20.0 * log10(a);
}

float an_clip_threshold_for_subtype(int subtype)
{
	switch (subtype) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
	case SF_FORMAT_DPCM_8:
		return 127.0f / 128.0f;
	case SF_FORMAT_PCM_16:
	case SF_FORMAT_DWVW_16:
	case SF_FORMAT_DPCM_16:
	case SF_FORMAT_ALAC_16:
		return 32767.0f / 32768.0f;
	case SF_FORMAT_PCM_24:
	case SF_FORMAT_DWVW_24:
	case SF_FORMAT_ALAC_24:
		return 8388607.0f / 8388608.0f;
	case SF_FORMAT_ALAC_20:
		return 524287.0f / 524288.0f;
	default:
		/* Float, lossy codecs, and 32-bit PCM, whose
		 * 2147483647/2147483648 rounds to 1.0f anyway. */
		return 1.0f;
	}
}

void an_levels_init(struct an_levels *lv, struct an_level_channel *ch,
		    unsigned channels, uint32_t rate, float clip_threshold)
{
	memset(lv, 0, sizeof(*lv));
	lv->channels = channels;
	lv->ch = ch;
	lv->clip_threshold = clip_threshold;
	double wf = floor((double)rate * AN_SILENCE_WINDOW_S + 0.5);
	lv->window_frames = wf < 1.0 ? 1 : (uint64_t)wf;
	/* RMS < 10^(thr/20)  <=>  sum_sq < n * 10^(thr/10) */
	lv->silence_sum_sq = (double)lv->window_frames * pow(10.0, AN_SILENCE_THRESHOLD_DBFS / 10.0);
	an_silence_init(&lv->silence, rate);
}

/* Scalar step for one sample; the vector loop below must agree with it. */
static inline void one_sample(float x, float thr, float *peak, double *sum, double *sq,
			      uint64_t *clipped, uint64_t *runs, uint64_t *zc, uint64_t *over,
			      bool *prev_clip, bool *prev_neg)
{
	float ax = fabsf(x);
	bool clip = ax >= thr;
	bool neg = x < 0.0f;

	*peak = ax > *peak ? ax : *peak;
	*sum += (double)x;
	*sq += (double)x * (double)x;
	*clipped += clip;
	*over += ax > 1.0f;
	*runs += clip & !*prev_clip;
	*zc += neg != *prev_neg;
	*prev_clip = clip;
	*prev_neg = neg;
}

/* Lane sums are folded into doubles every FOLD samples, so float
 * rounding never accumulates over more than FOLD / AN_LANES terms. */
#define FOLD 1024

/* One channel over n contiguous samples. Sample i is compared with
 * sample i - 1 (zero crossings, starts of clipping runs): the first
 * sample with the state left by the previous call, the others with a
 * second load one sample back. */
static void channel_segment(struct an_level_channel *c, const float *p, size_t n, float thr,
			    double *seg_sum_sq)
{
	float peak = c->peak;
	double sum = 0.0, sq = 0.0;
	uint64_t clipped = 0, runs = 0, zc = 0, over = 0;
	bool prev_clip = c->prev_clipped, prev_neg = c->prev_negative;
	size_t i = 0;

	if (n == 0) {
		*seg_sum_sq = 0.0;
		return;
	}
	one_sample(p[0], thr, &peak, &sum, &sq, &clipped, &runs, &zc, &over, &prev_clip,
			   &prev_neg);
	i = 1;
	const an_f32x4 vthr = an_splat(thr), zero = an_splat(0.0f), one = an_splat(1.0f);
	an_f32x4 vpeak = an_splat(peak);
	while (i + AN_LANES <= n) {
		an_f32x4 vsum = zero, vsq = zero;
		an_i32x4 vclip = { 0 }, vruns = { 0 }, vzc = { 0 }, vover = { 0 };
		size_t stop = i + FOLD < n ? i + FOLD : n;
		for (; i + AN_LANES <= stop; i += AN_LANES) {
			an_f32x4 x = an_load(p + i), xp = an_load(p + i - 1);
			an_f32x4 ax = an_abs(x);
			an_i32x4 clip = ax >= vthr, clip_prev = an_abs(xp) >= vthr;
			vpeak = an_max(vpeak, ax);
			vsum += x;
			vsq += x * x;
			vclip += clip;
			vover += ax > one;
			vruns += clip & ~clip_prev;
			vzc += (x < zero) ^ (xp < zero);
		}
		sum += an_hsum(vsum);
		sq += an_hsum(vsq);
		clipped += (uint64_t)an_hcount(vclip);
		runs += (uint64_t)an_hcount(vruns);
		zc += (uint64_t)an_hcount(vzc);
		over += (uint64_t)an_hcount(vover);
	}
	peak = an_hmax(vpeak) > peak ? an_hmax(vpeak) : peak;
	if (i > 1) {
		prev_clip = fabsf(p[i - 1]) >= thr;
		prev_neg = p[i - 1] < 0.0f;
	}
	for (; i < n; i++)
		one_sample(p[i], thr, &peak, &sum, &sq, &clipped, &runs, &zc, &over, &prev_clip,
			   &prev_neg);

	c->peak = peak;
	c->sum += sum;
	c->sum_sq += sq;
	c->clipped += clipped;
	c->clip_runs += runs;
	c->zero_crossings += zc;
	c->over_full_scale += over;
	c->prev_clipped = prev_clip;
	c->prev_negative = prev_neg;
	*seg_sum_sq = sq;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define LEVELS_WIDE 1
typedef float lv_f32x8 __attribute__((vector_size(32)));
typedef int32_t lv_i32x8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline, target("avx2"))) an_f32x4 lo4(lv_f32x8 v)
{
	return __builtin_shufflevector(v, v, 0, 1, 2, 3);
}

static inline __attribute__((always_inline, target("avx2"))) an_f32x4 hi4(lv_f32x8 v)
{
	return __builtin_shufflevector(v, v, 4, 5, 6, 7);
}

static inline __attribute__((always_inline, target("avx2"))) lv_f32x8 join(const float *a, const float *b)
{
	return __builtin_shufflevector(an_load(a), an_load(b), 0, 1, 2, 3, 4, 5, 6, 7);
}

/* channel_segment() for two channels at once, for CPUs with AVX2 (chosen
 * at run time): channel a in lanes 0-3, channel b in lanes 4-7, each
 * half doing the four-lane loop's very operations on the very samples,
 * its float sums folded into doubles at the same points in the same
 * order. So each channel's result is channel_segment()'s, bit for bit. */
__attribute__((target("avx2"))) static void
pair_segment(struct an_level_channel *const c[2], const float *const p[2], size_t n, float thr,
	     double seg_sum_sq[2])
{
	float peak[2];
	double sum[2] = { 0.0, 0.0 }, sq[2] = { 0.0, 0.0 };
	uint64_t clipped[2] = { 0, 0 }, runs[2] = { 0, 0 }, zc[2] = { 0, 0 }, over[2] = { 0, 0 };
	bool prev_clip[2], prev_neg[2];
	size_t i;

	if (n == 0) {
		seg_sum_sq[0] = seg_sum_sq[1] = 0.0;
		return;
	}
	for (int h = 0; h < 2; h++) {
		peak[h] = c[h]->peak;
		prev_clip[h] = c[h]->prev_clipped;
		prev_neg[h] = c[h]->prev_negative;
		one_sample(p[h][0], thr, &peak[h], &sum[h], &sq[h], &clipped[h], &runs[h], &zc[h],
			   &over[h], &prev_clip[h], &prev_neg[h]);
	}
	i = 1;
	const lv_f32x8 vthr = (lv_f32x8){ 0 } + thr, zero = { 0 }, one = (lv_f32x8){ 0 } + 1.0f;
	const lv_i32x8 absmask = (lv_i32x8){ 0 } + 0x7fffffff;
	lv_f32x8 vpeak = { peak[0], peak[0], peak[0], peak[0], peak[1], peak[1], peak[1], peak[1] };
	while (i + AN_LANES <= n) {
		lv_f32x8 vsum = zero, vsq = zero;
		lv_i32x8 vclip = { 0 }, vruns = { 0 }, vzc = { 0 }, vover = { 0 };
		size_t stop = i + FOLD < n ? i + FOLD : n;
		for (; i + AN_LANES <= stop; i += AN_LANES) {
			lv_f32x8 x = join(p[0] + i, p[1] + i), xp = join(p[0] + i - 1, p[1] + i - 1);
			lv_f32x8 ax = (lv_f32x8)((lv_i32x8)x & absmask);
			lv_i32x8 clip = ax >= vthr, clip_prev = (lv_f32x8)((lv_i32x8)xp & absmask) >= vthr;
			vpeak = __builtin_ia32_maxps256(vpeak, ax);
			vsum += x;
			vsq += x * x;
			vclip += clip;
			vover += ax > one;
			vruns += clip & ~clip_prev;
			vzc += (x < zero) ^ (xp < zero);
		}
		lv_f32x8 s8 = vsum, q8 = vsq;
		sum[0] += an_hsum(lo4(s8));
		sum[1] += an_hsum(hi4(s8));
		sq[0] += an_hsum(lo4(q8));
		sq[1] += an_hsum(hi4(q8));
		clipped[0] += (uint64_t)an_hcount(__builtin_shufflevector(vclip, vclip, 0, 1, 2, 3));
		clipped[1] += (uint64_t)an_hcount(__builtin_shufflevector(vclip, vclip, 4, 5, 6, 7));
		runs[0] += (uint64_t)an_hcount(__builtin_shufflevector(vruns, vruns, 0, 1, 2, 3));
		runs[1] += (uint64_t)an_hcount(__builtin_shufflevector(vruns, vruns, 4, 5, 6, 7));
		zc[0] += (uint64_t)an_hcount(__builtin_shufflevector(vzc, vzc, 0, 1, 2, 3));
		zc[1] += (uint64_t)an_hcount(__builtin_shufflevector(vzc, vzc, 4, 5, 6, 7));
		over[0] += (uint64_t)an_hcount(__builtin_shufflevector(vover, vover, 0, 1, 2, 3));
		over[1] += (uint64_t)an_hcount(__builtin_shufflevector(vover, vover, 4, 5, 6, 7));
	}
	for (int h = 0; h < 2; h++) {
		float m = an_hmax(h ? hi4(vpeak) : lo4(vpeak));
		peak[h] = m > peak[h] ? m : peak[h];
		if (i > 1) {
			prev_clip[h] = fabsf(p[h][i - 1]) >= thr;
			prev_neg[h] = p[h][i - 1] < 0.0f;
		}
		for (size_t k = i; k < n; k++)
			one_sample(p[h][k], thr, &peak[h], &sum[h], &sq[h], &clipped[h], &runs[h], &zc[h],
				   &over[h], &prev_clip[h], &prev_neg[h]);
		c[h]->peak = peak[h];
		c[h]->sum += sum[h];
		c[h]->sum_sq += sq[h];
		c[h]->clipped += clipped[h];
		c[h]->clip_runs += runs[h];
		c[h]->zero_crossings += zc[h];
		c[h]->over_full_scale += over[h];
		c[h]->prev_clipped = prev_clip[h];
		c[h]->prev_negative = prev_neg[h];
		seg_sum_sq[h] = sq[h];
	}
}
#else
#define LEVELS_WIDE 0
#endif

static void close_window(struct an_levels *lv)
{
	bool all_silent = true;

	for (unsigned c = 0; c < lv->channels; c++) {
		struct an_level_channel *ch = &lv->ch[c];
		/* A short last window is judged on its own length. */
		double limit = lv->silence_sum_sq * (double)lv->window_fill / (double)lv->window_frames;
		if (ch->window_sum_sq < limit)
			ch->silent_windows++;
		else
			all_silent = false;
		ch->window_sum_sq = 0.0;
	}
	lv->windows++;
	lv->silent_windows += all_silent;
	an_silence_window(&lv->silence, all_silent, lv->window_fill);
	lv->window_fill = 0;
}

void an_levels_push(struct an_levels *lv, const float *const *chan, size_t nframes)
{
	size_t done = 0;
	unsigned nch = lv->channels;
#if LEVELS_WIDE
	const bool wide = an_simd_avx2();
#endif

	/* A zero-crossing needs a previous sample: the first frame of the
	 * stream seeds prev_negative without counting. */
	if (lv->frames == 0 && nframes > 0) {
		for (unsigned c = 0; c < nch; c++)
			lv->ch[c].prev_negative = chan[c][0] < 0.0f;
	}
	while (done < nframes) {
		/* Cut the block at window boundaries so each segment's sum
		 * of squares belongs to exactly one window. */
		uint64_t room = lv->window_frames - lv->window_fill;
		size_t n = nframes - done;
		if ((uint64_t)n > room)
			n = (size_t)room;
		unsigned c = 0;
#if LEVELS_WIDE
		if (wide)
			for (; c + 2 <= nch; c += 2) {
				struct an_level_channel *const pc[2] = { &lv->ch[c], &lv->ch[c + 1] };
				const float *const pp[2] = { chan[c] + done, chan[c + 1] + done };
				double seg[2];
				pair_segment(pc, pp, n, lv->clip_threshold, seg);
				lv->ch[c].window_sum_sq += seg[0];
				lv->ch[c + 1].window_sum_sq += seg[1];
			}
#endif
		for (; c < nch; c++) {
			double seg;
			channel_segment(&lv->ch[c], chan[c] + done, n, lv->clip_threshold, &seg);
			lv->ch[c].window_sum_sq += seg;
		}
		lv->window_fill += n;
		done += n;
		if (lv->window_fill == lv->window_frames)
			close_window(lv);
	}
	lv->frames += nframes;
}

void an_levels_finish(struct an_levels *lv)
{
	if (lv->window_fill > 0)
		close_window(lv);
	an_silence_finish(&lv->silence);
}

void an_levels_summary(const struct an_levels *lv, unsigned channel,
		       struct an_level_summary *out)
{
	unsigned first = channel, last = channel + 1;
	double peak = 0.0, sum = 0.0, sum_sq = 0.0;
	uint64_t clipped = 0, runs = 0, zc = 0, silent;

	memset(out, 0, sizeof(*out));
	if (channel >= lv->channels) {
		first = 0;
		last = lv->channels;
		silent = lv->silent_windows;
	} else {
		silent = lv->ch[channel].silent_windows;
	}
	for (unsigned c = first; c < last; c++) {
		const struct an_level_channel *ch = &lv->ch[c];
		if (ch->peak > peak)
			peak = ch->peak;
		sum += ch->sum;
		sum_sq += ch->sum_sq;
		clipped += ch->clipped;
		runs += ch->clip_runs;
		zc += ch->zero_crossings;
		out->over_full_scale += ch->over_full_scale;
	}
	double samples = (double)lv->frames * (double)(last - first);
	double pairs = (double)(lv->frames > 0 ? lv->frames - 1 : 0) * (double)(last - first);

	out->peak_dbfs = an_db_from_amplitude(peak);
	out->rms_dbfs = samples > 0 ? an_db_from_amplitude(sqrt(sum_sq / samples)) : -INFINITY;
	out->dc_offset = samples > 0 ? sum / samples : NAN;
	if (channel >= lv->channels && lv->frames > 0) {
		/* Per file, the channel offset largest in magnitude, as sox's
		 * "Overall" column: offsets of opposite sign in two channels
		 * must not cancel out of the report. */
		double worst = 0.0;
		for (unsigned c = 0; c < lv->channels; c++) {
			double dc = lv->ch[c].sum / (double)lv->frames;
			if (fabs(dc) > fabs(worst))
				worst = dc;
		}
		out->dc_offset = worst;
	}
	out->crest_db = out->peak_dbfs - out->rms_dbfs;
	if (!isfinite(out->crest_db))
		out->crest_db = NAN;
	out->clipped = clipped;
	out->clip_runs = runs;
	out->zero_crossing_rate = pairs > 0 ? (double)zc / pairs : NAN;
	out->silence_ratio = lv->windows > 0 ? (double)silent / (double)lv->windows : NAN;
}
