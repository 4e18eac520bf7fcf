/* analyzer/centroid.c — see centroid.h. */
#include "analyzer/centroid.h"
#include "analyzer/transcode.h"

#include <math.h>
#include <string.h>

#include "analyzer/levels.h"
#include "analyzer/simd.h"

int an_centroid_init(struct an_centroid *c, unsigned channels, uint32_t rate)
{
	memset(c, 0, sizeof(*c));
	an_fft_init(&c->fft);
	c->rate = rate;
	c->channels = channels;
	/* Periodic Hann. */
	for (size_t i = 0; i < AN_FFT_SIZE; i++)
		c->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / AN_FFT_SIZE));
	c->gate_sum_sq = AN_FFT_SIZE * pow(10.0, AN_SILENCE_THRESHOLD_DBFS / 10.0);
	return 0;
}

void an_centroid_free(struct an_centroid *c)
{
	(void)c; /* nothing allocated: kept for the callers' symmetry */
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

/* The centroids of the batch's frames, an_centroid_of_spectrum's sum with
 * float magnitudes: each lane sums the bins k = j mod 4 in num[j], den[j] in
 * float, the four partial sums and the last bin are added in double. */
static void batch_centroids(const struct an_centroid *c, double centroid[AN_LANES])
{
	const size_t bins = AN_FFT_SIZE / 2 + 1;
	an_f32x4 num[4] = { 0 }, den[4] = { 0 };
	size_t k = 0;

	for (; k + 4 <= bins; k += 4)
		for (size_t j = 0; j < 4; j++) {
			an_f32x4 r = c->spectrum.re[k + j], i = c->spectrum.im[k + j];
			an_f32x4 m = an_sqrt(r * r + i * i);
			num[j] += m * an_splat((float)(k + j));
			den[j] += m;
		}
	for (unsigned l = 0; l < AN_LANES; l++) {
		double n = 0.0, d = 0.0;
		for (size_t j = 0; j < 4; j++) {
			n += (double)num[j][l];
			d += (double)den[j][l];
		}
		for (size_t t = k; t < bins; t++) {
			float r = c->spectrum.re[t][l], i = c->spectrum.im[t][l];
			float m = sqrtf(r * r + i * i);
			n += (double)t * (double)m;
			d += (double)m;
		}
		centroid[l] = d > 0.0 ? (double)c->rate / AN_FFT_SIZE * n / d : NAN;
	}
}

/* The waiting frames through the FFT, then measured in their order; the
 * lanes past them are zero and their results not read. */
static void flush_batch(struct an_centroid *c)
{
	double centroid[AN_LANES];
	unsigned n = c->batched;

	if (n == 0)
		return;
	an_fft_batch_real(&c->fft, c->windowed, n, &c->spectrum);
	batch_centroids(c, centroid);
	an_cutoff_accumulate(c->power_sum, c->power_pending, &c->power_frames, c->spectrum.re,
			     c->spectrum.im, AN_FFT_SIZE / 2 + 1, n);
	for (unsigned l = 0; l < n; l++)
		if (isfinite(centroid[l])) {
			c->centroid_sum += centroid[l];
			c->frames_used++;
		}
	c->batched = 0;
}

/* len: how many of the frame's samples are signal (the rest is padding);
 * the loudness gate is scaled to it. A loud frame joins the batch. */
static void analyse_frame(struct an_centroid *c, size_t len)
{
	an_f32x4 vsq = an_splat(0.0f);
	float *windowed = c->windowed[c->batched];

	/* AN_FFT_SIZE is a multiple of AN_LANES. */
	for (size_t i = 0; i < AN_FFT_SIZE; i += AN_LANES) {
		an_f32x4 x = an_load(c->frame + i), w = an_load(c->window + i);
		an_f32x4 y = x * w;
		vsq += x * x;
		memcpy(windowed + i, &y, sizeof(y));
	}
	double sum_sq = an_hsum(vsq);
	c->frames_seen++;
	if (sum_sq < c->gate_sum_sq * (double)len / AN_FFT_SIZE)
		return;
	if (++c->batched == AN_LANES)
		flush_batch(c);
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
	flush_batch(c);
	an_cutoff_finish(c->power_sum, c->power_pending, c->power_frames, AN_FFT_SIZE / 2 + 1);
}

double an_centroid_result(const struct an_centroid *c)
{
	if (c->frames_used == 0)
		return NAN;
	return c->centroid_sum / (double)c->frames_used;
}
