/* analyzer/centroid.c — see centroid.h. */
#include "analyzer/centroid.h"
#include "analyzer/transcode.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "analyzer/levels.h"
#include "analyzer/simd.h"

int an_centroid_init(struct an_centroid *c, unsigned channels, uint32_t rate)
{
	memset(c, 0, sizeof(*c));
	c->cfg = kiss_fftr_alloc(AN_FFT_SIZE, 0, NULL, NULL);
	if (!c->cfg)
		return -ENOMEM;
	c->rate = rate;
	c->channels = channels;
	/* Periodic Hann. */
	for (size_t i = 0; i < AN_FFT_SIZE; i++)
		c->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / AN_FFT_SIZE));
	for (size_t k = 0; k < AN_FFT_SIZE / 2 + 1; k++)
		c->bin_index[k] = (float)k;
	c->gate_sum_sq = AN_FFT_SIZE * pow(10.0, AN_SILENCE_THRESHOLD_DBFS / 10.0);
	return 0;
}

void an_centroid_free(struct an_centroid *c)
{
	kiss_fftr_free(c->cfg);
	c->cfg = NULL;
}

double an_centroid_of_spectrum(const kiss_fft_cpx *spectrum, size_t bins, double bin_hz)
{
	double num = 0.0, den = 0.0;

	/* float magnitudes: a spectrum large enough to overflow them ends
	 * as a NaN centroid, which the caller drops. */
	for (size_t k = 0; k < bins; k++) {
		float r = spectrum[k].r, i = spectrum[k].i;
		float mag = sqrtf(r * r + i * i);
		num += (double)k * (double)mag;
		den += (double)mag;
	}
	if (!(den > 0.0))
		return NAN;
	return bin_hz * num / den;
}

/* The same sum for a full frame, four bins at a time; the bins' indices
 * come from c->bin_index. */
static double frame_centroid(struct an_centroid *c)
{
	const size_t bins = AN_FFT_SIZE / 2 + 1;
	an_f32x4 vnum = an_splat(0.0f), vden = an_splat(0.0f);
	size_t k = 0;

	_Static_assert(sizeof(kiss_fft_cpx) == 2 * sizeof(float), "bins are (r, i) float pairs");
	/* Four bins at a time: the same float products, sum and square
	 * root per bin as the scalar tail, so the same values. */
	for (; k + AN_LANES <= bins; k += AN_LANES) {
		an_f32x4 lo = an_load(&c->spectrum[k].r), hi = an_load(&c->spectrum[k + 2].r);
		an_f32x4 r = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
		an_f32x4 i = __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
		an_f32x4 p = r * r + i * i;
		an_f32x4 m = an_sqrt(p);
		memcpy(c->magnitude + k, &m, sizeof(m));
	}
	for (; k < bins; k++) {
		float r = c->spectrum[k].r, i = c->spectrum[k].i;
		c->magnitude[k] = sqrtf(r * r + i * i);
	}
	an_cutoff_accumulate(c->power_sum, c->power_pending, &c->power_frames, c->spectrum, bins);
	for (k = 0; k + AN_LANES <= bins; k += AN_LANES) {
		an_f32x4 m = an_load(c->magnitude + k);
		vnum += m * an_load(c->bin_index + k);
		vden += m;
	}
	double num = an_hsum(vnum), den = an_hsum(vden);
	for (; k < bins; k++) {
		num += (double)k * (double)c->magnitude[k];
		den += (double)c->magnitude[k];
	}
	if (!(den > 0.0))
		return NAN;
	return (double)c->rate / AN_FFT_SIZE * num / den;
}

/* len: how many of the frame's samples are signal (the rest is padding);
 * the loudness gate is scaled to it. */
static void analyse_frame(struct an_centroid *c, size_t len)
{
	an_f32x4 vsq = an_splat(0.0f);

	/* AN_FFT_SIZE is a multiple of AN_LANES. */
	for (size_t i = 0; i < AN_FFT_SIZE; i += AN_LANES) {
		an_f32x4 x = an_load(c->frame + i), w = an_load(c->window + i);
		an_f32x4 y = x * w;
		vsq += x * x;
		memcpy(c->windowed + i, &y, sizeof(y));
	}
	double sum_sq = an_hsum(vsq);
	c->frames_seen++;
	if (sum_sq < c->gate_sum_sq * (double)len / AN_FFT_SIZE)
		return;
	kiss_fftr(c->cfg, c->windowed, c->spectrum);
	double centroid = frame_centroid(c);
	if (isfinite(centroid)) {
		c->centroid_sum += centroid;
		c->frames_used++;
	}
}

/* dst[i] = mean over channels of chan[c][i], i < n. */
static void mix_down(float *dst, const float *const *chan, unsigned nch, size_t n)
{
	const an_f32x4 scale = an_splat(1.0f / (float)nch);
	size_t i = 0;

	for (; i + AN_LANES <= n; i += AN_LANES) {
		an_f32x4 m = an_load(chan[0] + i);
		for (unsigned c = 1; c < nch; c++)
			m += an_load(chan[c] + i);
		m *= scale;
		memcpy(dst + i, &m, sizeof(m));
	}
	for (; i < n; i++) {
		float m = chan[0][i];
		for (unsigned c = 1; c < nch; c++)
			m += chan[c][i];
		dst[i] = m * (1.0f / (float)nch);
	}
}

void an_centroid_push(struct an_centroid *c, const float *const *chan, size_t nframes)
{
	const float *at[AN_CENTROID_MAX_MIX];
	size_t done = 0;
	unsigned nch = c->channels;

	if (nch == 0) /* an_analysis_init() refuses it; keep the loops honest */
		return;
	/* Channels past AN_CENTROID_MAX_MIX are mixed in a second pass. */
	while (done < nframes) {
		size_t n = AN_FFT_SIZE - c->fill;
		if (n > nframes - done)
			n = nframes - done;
		float *dst = c->frame + c->fill;
		if (nch <= AN_CENTROID_MAX_MIX) {
			for (unsigned k = 0; k < nch; k++)
				at[k] = chan[k] + done;
			mix_down(dst, at, nch, n);
		} else {
			memset(dst, 0, n * sizeof(float));
			for (unsigned k = 0; k < nch; k++)
				for (size_t i = 0; i < n; i++)
					dst[i] += chan[k][done + i];
			for (size_t i = 0; i < n; i++)
				dst[i] *= 1.0f / (float)nch;
		}
		c->fill += n;
		done += n;
		if (c->fill == AN_FFT_SIZE) {
			analyse_frame(c, AN_FFT_SIZE);
			if (AN_FFT_HOP < AN_FFT_SIZE)
				memmove(c->frame, c->frame + AN_FFT_HOP,
					(AN_FFT_SIZE - AN_FFT_HOP) * sizeof(float));
			c->fill = AN_FFT_SIZE - AN_FFT_HOP;
		}
	}
}

void an_centroid_finish(struct an_centroid *c)
{
	if (c->frames_seen == 0 && c->fill > 0) {
		/* A stream shorter than one frame: the window is fitted to the
		 * samples there are, so they are not lost under the taper of a
		 * full-length one, and the rest of the frame is zero. */
		size_t n = c->fill;
		memset(c->frame + n, 0, (AN_FFT_SIZE - n) * sizeof(float));
		for (size_t i = 0; i < n; i++)
			c->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n));
		memset(c->window + n, 0, (AN_FFT_SIZE - n) * sizeof(float));
		analyse_frame(c, n);
	}
	an_cutoff_finish(c->power_sum, c->power_pending, c->power_frames, AN_FFT_SIZE / 2 + 1);
}

double an_centroid_result(const struct an_centroid *c)
{
	if (c->frames_used == 0)
		return NAN;
	return c->centroid_sum / (double)c->frames_used;
}
