/* analyzer/spectral.c — see spectral.h. */
#include "analyzer/spectral.h"

#include <math.h>
#include <string.h>

/* Slaney's mel scale, as librosa's hz_to_mel(htk=False): linear below
 * 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per factor 6.4). */
#define F_SP (200.0 / 3.0)
#define MIN_LOG_HZ 1000.0
#define MIN_LOG_MEL (MIN_LOG_HZ / F_SP)
#define LOGSTEP (log(6.4) / 27.0)

double an_hz_to_mel(double hz)
{
	return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + log(hz / MIN_LOG_HZ) / LOGSTEP : hz / F_SP;
}

double an_mel_to_hz(double mel)
{
	return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * exp(LOGSTEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

void an_mel_filterbank(uint32_t rate, struct an_mel_band *band, float *weights)
{
	double mel_f[AN_SP_MELS + 2];
	double top = an_hz_to_mel(rate / 2.0);
	unsigned used = 0;

	/* mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2): evenly in mel */
	for (unsigned i = 0; i < AN_SP_MELS + 2; i++)
		mel_f[i] = an_mel_to_hz(top * i / (AN_SP_MELS + 1));
	for (unsigned m = 0; m < AN_SP_MELS; m++) {
		double lo_d = mel_f[m + 1] - mel_f[m], hi_d = mel_f[m + 2] - mel_f[m + 1];
		double enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
		band[m] = (struct an_mel_band){ .lo = 0, .n = 0, .w = used };
		for (unsigned k = 0; k < AN_SP_BINS; k++) {
			double f = (double)k * rate / AN_SP_NFFT;
			double lower = (f - mel_f[m]) / lo_d, upper = (mel_f[m + 2] - f) / hi_d;
			double w = lower < upper ? lower : upper;
			if (!(w > 0.0))
				continue;
			if (band[m].n == 0)
				band[m].lo = k;
			/* a triangle: its non-zero weights are consecutive */
			weights[used++] = (float)(w * enorm);
			band[m].n = k - band[m].lo + 1;
		}
	}
}

int an_spectral_init(struct an_spectral *s, unsigned channels, uint32_t rate)
{
	memset(s, 0, sizeof(*s));
	an_fft_init(&s->fft);
	s->rate = rate;
	s->channels = channels;
	/* scipy.signal.get_window("hann", 2048): periodic */
	for (unsigned i = 0; i < AN_SP_NFFT; i++)
		s->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / AN_SP_NFFT));
	an_mel_filterbank(rate, s->band, s->weights);
	an_music_init(&s->music, (double)rate / AN_SP_HOP);
	/* center=True: the stream starts after n_fft / 2 zeros */
	s->fill = AN_SP_NFFT / 2;
	return 0;
}

void an_spectral_free(struct an_spectral *s)
{
	(void)s; /* nothing allocated: kept for the callers' symmetry */
}

/* One frame, measured from its spectrum in lane `lane` of the batch. */
static void measure(struct an_spectral *s, unsigned lane)
{
	const double bin_hz = (double)s->rate / AN_SP_NFFT;
	double sum_mag = 0.0, weighted = 0.0, sum_pow = 0.0, sum_log = 0.0, prod = 1.0;
	float mag[AN_SP_BINS];

	for (unsigned k = 0; k < AN_SP_BINS; k++) {
		float re = s->spectrum.re[k][lane], im = s->spectrum.im[k][lane];
		float p = re * re + im * im;
		s->power[k] = p;
		mag[k] = sqrtf(p);
		sum_mag += mag[k];
		weighted += mag[k] * (k * bin_hz);
		double pt = p > AN_SP_AMIN ? p : AN_SP_AMIN;
		sum_pow += pt;
		/* the sum of logs as the log of products of 8: each factor lies
		 * in [1e-10, 1e15], so 8 of them stay far inside a double's
		 * range, and a log per bin was most of this function's time */
		prod *= pt;
		if ((k & 7) == 7) {
			sum_log += log(prod);
			prod = 1.0;
		}
	}
	sum_log += log(prod);
	/* centroid and bandwidth on S normalised to sum 1 (a silent frame
	 * stays 0); rolloff: the first bin where the cumulative magnitude
	 * reaches 85 % of the total */
	double centroid = sum_mag > 0.0 ? weighted / sum_mag : 0.0, spread = 0.0, roll = 0.0;
	if (sum_mag > 0.0) {
		for (unsigned k = 0; k < AN_SP_BINS; k++) {
			double d = k * bin_hz - centroid;
			spread += mag[k] / sum_mag * d * d;
		}
	}
	double cum = 0.0, target = AN_SP_ROLL * sum_mag;
	for (unsigned k = 0; k < AN_SP_BINS; k++) {
		cum += mag[k];
		if (cum >= target) {
			roll = k * bin_hz;
			break;
		}
	}
	s->sum_centroid += centroid;
	s->sum_bandwidth += sqrt(spread);
	s->sum_rolloff += roll;
	s->sum_flatness += exp(sum_log / AN_SP_BINS) / (sum_pow / AN_SP_BINS);
	an_music_spectrum(&s->music, mag, AN_SP_BINS, bin_hz);

	/* log-mel (power_to_db, top_db=None) and its positive differences */
	double onset = 0.0;
	for (unsigned m = 0; m < AN_SP_MELS; m++) {
		const struct an_mel_band *b = &s->band[m];
		double e = 0.0;
		for (unsigned i = 0; i < b->n; i++)
			e += (double)s->weights[b->w + i] * s->power[b->lo + i];
		float db = (float)(10.0 * log10(e > AN_SP_AMIN ? e : AN_SP_AMIN));
		s->mel_db_sum[m] += db;
		if (s->frames > 0 && db > s->prev_db[m])
			onset += db - s->prev_db[m];
		s->prev_db[m] = db;
	}
	if (s->frames > 0) {
		onset /= AN_SP_MELS;
		s->sum_onset += onset;
		s->last_onset[0] = s->last_onset[1];
		s->last_onset[1] = onset;
		an_music_onset(&s->music, onset);
	}
	s->frames++;
}

/* The waiting frames through the FFT (the lanes past them zero, their
 * results not read), then measured in their order. */
static void flush_batch(struct an_spectral *s)
{
	if (s->batched == 0)
		return;
	an_fft_batch_real(&s->fft, s->windowed, s->batched, &s->spectrum);
	for (unsigned l = 0; l < s->batched; l++)
		measure(s, l);
	s->batched = 0;
}

/* One frame: buf[] holds it, oldest sample first; windowed, it joins the
 * batch. */
static void frame(struct an_spectral *s)
{
	float *w = s->windowed[s->batched];

	for (unsigned i = 0; i < AN_SP_NFFT; i++)
		w[i] = s->buf[i] * s->window[i];
	if (++s->batched == AN_LANES)
		flush_batch(s);
}

/* Append n mono samples to the padded stream; a frame every hop. */
static void append(struct an_spectral *s, const float *x, size_t n)
{
	while (n > 0) {
		size_t room = AN_SP_NFFT - s->fill, k = n < room ? n : room;
		memcpy(s->buf + s->fill, x, k * sizeof(float));
		s->fill += k;
		x += k;
		n -= k;
		if (s->fill == AN_SP_NFFT) {
			frame(s);
			memmove(s->buf, s->buf + AN_SP_HOP, (AN_SP_NFFT - AN_SP_HOP) * sizeof(float));
			s->fill = AN_SP_NFFT - AN_SP_HOP;
		}
	}
}

void an_spectral_push(struct an_spectral *s, const float *frames, size_t nframes)
{
	float mono[1024];
	const unsigned nch = s->channels;

	while (nframes > 0) {
		size_t n = nframes < 1024 ? nframes : 1024;
		for (size_t i = 0; i < n; i++) {
			float v = 0.0f;
			for (unsigned c = 0; c < nch; c++)
				v += frames[i * nch + c];
			mono[i] = nch == 1 ? v : v / (float)nch;
		}
		append(s, mono, n);
		frames += n * nch;
		nframes -= n;
	}
}

void an_spectral_finish(struct an_spectral *s, struct an_spectral_result *out)
{
	static const float zeros[AN_SP_NFFT / 2];
	double mean_db[AN_SP_MELS];

	append(s, zeros, AN_SP_NFFT / 2);
	flush_batch(s);
	memset(out, 0, sizeof(*out));
	out->frames = s->frames;
	an_music_result(&s->music, &out->music);
	if (s->frames == 0) {
		out->centroid_hz = out->bandwidth_hz = out->rolloff_hz = NAN;
		out->flatness = out->onset_strength = NAN;
		for (unsigned i = 0; i < AN_SP_MFCC; i++)
			out->mfcc[i] = NAN;
		return;
	}
	double t = (double)s->frames;
	out->centroid_hz = s->sum_centroid / t;
	out->bandwidth_hz = s->sum_bandwidth / t;
	out->rolloff_hz = s->sum_rolloff / t;
	out->flatness = s->sum_flatness / t;
	/* onset_strength: [0, 0, 0, d1 .. d(T-3)]: the last two are dropped */
	double onset = s->sum_onset;
	if (s->frames >= 3)
		onset -= s->last_onset[0] + s->last_onset[1];
	else
		onset = 0.0;
	out->onset_strength = onset / t;
	for (unsigned m = 0; m < AN_SP_MELS; m++)
		mean_db[m] = s->mel_db_sum[m] / t;
	/* scipy.fft.dct(type=2, norm="ortho") over the mel axis */
	for (unsigned k = 0; k < AN_SP_MFCC; k++) {
		double y = 0.0;
		for (unsigned n = 0; n < AN_SP_MELS; n++)
			y += mean_db[n] * cos(M_PI * k * (2.0 * n + 1.0) / (2.0 * AN_SP_MELS));
		out->mfcc[k] = 2.0 * y * (k == 0 ? sqrt(1.0 / (4.0 * AN_SP_MELS)) : sqrt(1.0 / (2.0 * AN_SP_MELS)));
	}
}
