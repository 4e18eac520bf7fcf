/* analyzer/analysis.c — see analysis.h. */
#include "analyzer/analysis.h"

#include "analyzer/simd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int an_analysis_init(struct an_analysis *a, unsigned channels, uint32_t rate,
		     float clip_threshold, size_t max_block_frames)
{
	int r;

	memset(a, 0, sizeof(*a));
	if (channels == 0 || rate == 0 || max_block_frames == 0)
		return -EINVAL;
	a->channels = channels;
	a->rate = rate;
	a->max_block_frames = max_block_frames;
	a->level_ch = calloc(channels, sizeof(*a->level_ch));
	a->tp_ch = calloc(channels, sizeof(*a->tp_ch));
	a->centroid = malloc(sizeof(*a->centroid));
	a->planar = malloc(max_block_frames * channels * sizeof(float));
	a->chan = malloc(channels * sizeof(*a->chan));
	a->tp_scratch = malloc((AN_TP_HISTORY + max_block_frames) * sizeof(float));
	if (!a->level_ch || !a->tp_ch || !a->centroid || !a->planar || !a->chan ||
	    !a->tp_scratch) {
		r = -ENOMEM;
		goto fail;
	}
	r = an_centroid_init(a->centroid, channels, rate);
	if (r < 0) {
		free(a->centroid);
		a->centroid = NULL;
		goto fail;
	}
	r = an_loudness_init(&a->loudness, channels, rate);
	if (r < 0)
		goto fail;
	for (unsigned c = 0; c < channels; c++)
		a->chan[c] = a->planar + (size_t)c * max_block_frames;
	an_levels_init(&a->levels, a->level_ch, channels, rate, clip_threshold);
	an_tp_filter_init(&a->tp_filter, rate);
	an_audio_hash_init(&a->audio_hash);
	an_bitdepth_init(&a->bitdepth);
	for (unsigned c = 0; c < channels; c++)
		an_tp_channel_init(&a->tp_ch[c]);
	return 0;
fail:
	an_analysis_free(a);
	return r;
}

void an_analysis_free(struct an_analysis *a)
{
	if (a->centroid)
		an_centroid_free(a->centroid);
	an_loudness_free(&a->loudness);
	free(a->centroid);
	free(a->level_ch);
	free(a->tp_ch);
	free(a->planar);
	free(a->chan);
	free(a->tp_scratch);
	memset(a, 0, sizeof(*a));
}

static uint64_t count_non_finite(const float *x, size_t n)
{
	an_i32x4 vbad = { 0 };
	uint64_t bad = 0;
	size_t i = 0;

	/* x - x is 0 for every finite x and NaN for NaN and +-inf, and NaN
	 * compares unequal to everything. */
	for (; i + AN_LANES <= n; i += AN_LANES) {
		an_f32x4 v = an_load(x + i);
		vbad += (v - v) != an_splat(0.0f);
	}
	bad = (uint64_t)an_hcount(vbad);
	for (; i < n; i++)
		bad += !((x[i] - x[i]) == 0.0f);
	return bad;
}

static void zero_non_finite(float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			x[i] = 0.0f;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SPLIT_WIDE 1
typedef float an_f32x8 __attribute__((vector_size(32)));
typedef int32_t an_i32x8 __attribute__((vector_size(32)));

/* Eight interleaved stereo frames (x0: frames 0-3, x1: 4-7) stored as
 * eight samples of each channel. */
__attribute__((target("avx2"))) static inline void store_split8(an_f32x8 x0, an_f32x8 x1, float *l, float *r)
{
	const an_i32x8 even = { 0, 2, 4, 6, 1, 3, 5, 7 };
	/* l0 l1 l2 l3 r0 r1 r2 r3, then frames 4-7 alike */
	an_f32x8 a = __builtin_ia32_permvarsf256(x0, even), b = __builtin_ia32_permvarsf256(x1, even);
	an_f32x8 vl = __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11);
	an_f32x8 vr = __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15);
	memcpy(l, &vl, sizeof(vl));
	memcpy(r, &vr, sizeof(vr));
}

/* The stereo split eight frames per step, for CPUs with AVX2 (chosen at
 * run time): the samples are only moved, and the count of non-finite
 * ones is a count, so the result is the four-lane loop's. Returns the
 * frames taken (a multiple of eight) and adds the count to *bad. */
__attribute__((target("avx2"))) static size_t split8(const float *frames, size_t n, float *l, float *r,
						      uint64_t *bad)
{
	an_i32x8 vbad = { 0 };
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		an_f32x8 x0, x1;
		memcpy(&x0, frames + 2 * i, sizeof(x0));
		memcpy(&x1, frames + 2 * i + 8, sizeof(x1));
		/* as count_non_finite() */
		vbad += (x0 - x0) != (an_f32x8){ 0 };
		vbad += (x1 - x1) != (an_f32x8){ 0 };
		store_split8(x0, x1, l + i, r + i);
	}
	int64_t s = 0;
	for (int k = 0; k < 8; k++)
		s -= vbad[k];
	*bad += (uint64_t)s;
	return i;
}
#else
#define SPLIT_WIDE 0
#endif

/* Split interleaved frames into one contiguous array per channel: every
 * accumulator below runs on contiguous samples, four lanes at a time.
 * Returns how many samples are not finite: counted on the way for
 * stereo (one pass over the block instead of two), apart otherwise. */
static uint64_t deinterleave(struct an_analysis *a, const float *frames, size_t n)
{
	const unsigned nch = a->channels;

	if (nch == 2) {
		float *l = a->chan[0], *r = a->chan[1];
		an_i32x4 vbad = { 0 };
		uint64_t bad = 0;
		size_t i = 0;
#if SPLIT_WIDE
		if (an_simd_avx2())
			i = split8(frames, n, l, r, &bad);
#endif
		for (; i + AN_LANES <= n; i += AN_LANES) {
			an_f32x4 x0 = an_load(frames + 2 * i), x1 = an_load(frames + 2 * i + AN_LANES);
			an_f32x4 vl = __builtin_shufflevector(x0, x1, 0, 2, 4, 6);
			an_f32x4 vr = __builtin_shufflevector(x0, x1, 1, 3, 5, 7);
			/* as count_non_finite() */
			vbad += (x0 - x0) != an_splat(0.0f);
			vbad += (x1 - x1) != an_splat(0.0f);
			memcpy(l + i, &vl, sizeof(vl));
			memcpy(r + i, &vr, sizeof(vr));
		}
		bad += (uint64_t)an_hcount(vbad);
		for (; i < n; i++) {
			l[i] = frames[2 * i];
			r[i] = frames[2 * i + 1];
			bad += !((l[i] - l[i]) == 0.0f) + !((r[i] - r[i]) == 0.0f);
		}
		return bad;
	}
	for (unsigned c = 0; c < nch; c++) {
		float *dst = a->chan[c];
		for (size_t i = 0; i < n; i++)
			dst[i] = frames[i * nch + c];
	}
	return count_non_finite(frames, n * nch);
}

/* Every measurement of one block, once it is split into a->chan and
 * free of non-finite samples. codes: the block as int16 codes when it came
 * so (an_analysis_push_s16), hashed as they are, and codes_or their OR,
 * whose lowest bit is the block's bit depth; both NULL: the audio hash
 * and the bit depth from the floats. */
static void measure(struct an_analysis *a, const float *frames, size_t nframes, const int16_t *codes,
		    const uint32_t *codes_or)
{
	size_t nsamples = nframes * a->channels;
	const float *const *chan = (const float *const *)a->chan;
	an_levels_push(&a->levels, chan, nframes);
	for (unsigned c = 0; c < a->channels; c++)
		an_tp_push(&a->tp_filter, &a->tp_ch[c], chan[c], nframes, a->tp_scratch);
	an_centroid_push(a->centroid, chan, nframes);
	if (a->channels == 2)
		an_stereo_push(&a->stereo, chan[0], chan[1], nframes);
	an_loudness_push(&a->loudness, frames, nframes);
	if (codes)
		an_audio_hash_push_s16(&a->audio_hash, codes, nsamples);
	else
		an_audio_hash_push(&a->audio_hash, frames, nsamples);
	if (codes_or)
		an_bitdepth_push_codes(&a->bitdepth, *codes_or, -15);
	else
		an_bitdepth_push(&a->bitdepth, frames, nsamples);
	for (const struct an_tap *t = a->tap; t; t = t->next)
		t->push(t->u, frames, nframes);
}

void an_analysis_push(struct an_analysis *a, float *frames, size_t nframes)
{
	if (nframes == 0)
		return;
	uint64_t bad = deinterleave(a, frames, nframes);
	if (bad) {
		/* rare: zero them, then split again */
		a->non_finite_samples += bad;
		zero_non_finite(frames, nframes * a->channels);
		deinterleave(a, frames, nframes);
	}
	measure(a, frames, nframes, NULL, NULL);
}

typedef int16_t an_i16x8 __attribute__((vector_size(16)));

/* Eight codes as floats, code * 2^-15, in two vectors. */
static inline void widen8(an_i16x8 v, an_f32x4 *lo, an_f32x4 *hi)
{
	const an_f32x4 scale = an_splat(1.0f / 32768.0f);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* each code twice, as one int32: code * 65536 + its low bits; the
	 * arithmetic shift leaves the code, sign extended (SSE2's
	 * punpcklwd and psrad) */
	an_i32x4 a = (an_i32x4)__builtin_shufflevector(v, v, 0, 0, 1, 1, 2, 2, 3, 3) >> 16;
	an_i32x4 b = (an_i32x4)__builtin_shufflevector(v, v, 4, 4, 5, 5, 6, 6, 7, 7) >> 16;
#else
	an_i32x4 a = { v[0], v[1], v[2], v[3] }, b = { v[4], v[5], v[6], v[7] };
#endif
	*lo = __builtin_convertvector(a, an_f32x4) * scale;
	*hi = __builtin_convertvector(b, an_f32x4) * scale;
}

static inline uint32_t or_lanes(an_i16x8 v)
{
	uint16_t m = 0;
	for (int i = 0; i < 8; i++)
		m |= (uint16_t)v[i];
	return m;
}

uint32_t an_s16_to_float(const int16_t *s, size_t n, float *out)
{
	an_i16x8 all = { 0 };
	uint16_t tail = 0;
	size_t i = 0;

	/* Every int16 is exact in a float and the scale is a power of two:
	 * each product is exact, as libsndfile's own is. */
	for (; i + 8 <= n; i += 8) {
		an_i16x8 v;
		an_f32x4 lo, hi;
		memcpy(&v, s + i, sizeof(v));
		all |= v;
		widen8(v, &lo, &hi);
		memcpy(out + i, &lo, sizeof(lo));
		memcpy(out + i + 4, &hi, sizeof(hi));
	}
	for (; i < n; i++) {
		tail |= (uint16_t)s[i];
		out[i] = (float)s[i] * (1.0f / 32768.0f);
	}
	return or_lanes(all) | tail;
}

#if SPLIT_WIDE
typedef int16_t an_i16x16 __attribute__((vector_size(32)));

/* split_s16_stereo() eight frames per step, for CPUs with AVX2 (chosen
 * at run time): the same exact conversion, moves and OR. Returns the
 * frames taken (a multiple of eight) and ORs the codes into *all. */
__attribute__((target("avx2"))) static size_t split_s16_8(const int16_t *s, float *frames, float *l, float *r,
							   size_t n, uint16_t *all)
{
	const an_f32x8 scale = (an_f32x8){ 0 } + 1.0f / 32768.0f;
	an_i16x16 acc = { 0 };
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		an_i16x16 v;
		memcpy(&v, s + 2 * i, sizeof(v));
		acc |= v;
		an_i16x8 v0 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
		an_i16x8 v1 = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
		an_f32x8 x0 = __builtin_convertvector(__builtin_convertvector(v0, an_i32x8), an_f32x8) * scale;
		an_f32x8 x1 = __builtin_convertvector(__builtin_convertvector(v1, an_i32x8), an_f32x8) * scale;
		memcpy(frames + 2 * i, &x0, sizeof(x0));
		memcpy(frames + 2 * i + 8, &x1, sizeof(x1));
		store_split8(x0, x1, l + i, r + i);
	}
	uint16_t m = 0;
	for (int k = 0; k < 16; k++)
		m |= (uint16_t)acc[k];
	*all |= m;
	return i;
}
#endif

/* A stereo block of codes into floats, interleaved (frames) and split
 * (a->chan) in one pass; returns the OR of the codes. */
static uint32_t split_s16_stereo(struct an_analysis *a, const int16_t *s, float *frames, size_t n)
{
	float *l = a->chan[0], *r = a->chan[1];
	an_i16x8 all = { 0 };
	uint16_t tail = 0;
	size_t i = 0;

#if SPLIT_WIDE
	if (an_simd_avx2())
		i = split_s16_8(s, frames, l, r, n, &tail);
#endif

	for (; i + AN_LANES <= n; i += AN_LANES) {
		an_i16x8 v;
		an_f32x4 x0, x1;
		memcpy(&v, s + 2 * i, sizeof(v));
		all |= v;
		widen8(v, &x0, &x1);
		an_f32x4 vl = __builtin_shufflevector(x0, x1, 0, 2, 4, 6);
		an_f32x4 vr = __builtin_shufflevector(x0, x1, 1, 3, 5, 7);
		memcpy(frames + 2 * i, &x0, sizeof(x0));
		memcpy(frames + 2 * i + AN_LANES, &x1, sizeof(x1));
		memcpy(l + i, &vl, sizeof(vl));
		memcpy(r + i, &vr, sizeof(vr));
	}
	for (; i < n; i++) {
		tail |= (uint16_t)(s[2 * i] | s[2 * i + 1]);
		frames[2 * i] = l[i] = (float)s[2 * i] * (1.0f / 32768.0f);
		frames[2 * i + 1] = r[i] = (float)s[2 * i + 1] * (1.0f / 32768.0f);
	}
	return or_lanes(all) | tail;
}

void an_analysis_push_s16(struct an_analysis *a, const int16_t *codes, float *frames, size_t nframes)
{
	uint32_t codes_or;

	if (nframes == 0)
		return;
	/* Integers: nothing to count or zero. */
	if (a->channels == 2) {
		codes_or = split_s16_stereo(a, codes, frames, nframes);
	} else {
		codes_or = an_s16_to_float(codes, nframes * a->channels, frames);
		deinterleave(a, frames, nframes);
	}
	measure(a, frames, nframes, codes, &codes_or);
}

void an_analysis_set_tap(struct an_analysis *a, const struct an_tap *tap)
{
	a->tap = tap;
	for (const struct an_tap *t = tap; t; t = t->next)
		t->start(t->u, a->channels, a->rate);
}

void an_analysis_finish(struct an_analysis *a)
{
	an_levels_finish(&a->levels);
	an_centroid_finish(a->centroid);
	an_audio_hash_hex(&a->audio_hash, a->audio_sha256);
}

void an_analysis_channel(const struct an_analysis *a, unsigned channel,
			 struct an_channel_result *out)
{
	an_levels_summary(&a->levels, channel, &out->level);
	double tp = 0.0;
	if (channel < a->channels) {
		tp = an_tp_result(&a->tp_ch[channel], a->level_ch[channel].peak);
	} else {
		for (unsigned c = 0; c < a->channels; c++) {
			double v = an_tp_result(&a->tp_ch[c], a->level_ch[c].peak);
			tp = v > tp ? v : tp;
		}
	}
	out->true_peak_dbtp = an_db_from_amplitude(tp);
}

bool an_analysis_stereo(const struct an_analysis *a, struct an_stereo_result *out, int *dead_channel)
{
	if (a->channels != 2)
		return false;
	an_stereo_result(&a->stereo, a->level_ch[0].sum_sq, a->level_ch[1].sum_sq, out);
	/* Dead: silent in every window while the other is not. */
	uint64_t w = a->levels.windows;
	bool dead0 = w && a->level_ch[0].silent_windows == w;
	bool dead1 = w && a->level_ch[1].silent_windows == w;
	*dead_channel = dead0 && !dead1 ? 0 : dead1 && !dead0 ? 1 : -1;
	return true;
}

void an_analysis_transcode(const struct an_analysis *a, struct an_transcode_result *out)
{
	double cutoff = an_cutoff_hz(a->centroid->power_sum, AN_FFT_SIZE / 2 + 1,
				     (double)a->rate / AN_FFT_SIZE);
	an_transcode_judge(cutoff, a->rate, out);
	out->effective_bits = an_bitdepth_bits(&a->bitdepth);
}
