/* analyzer/music.c — see music.h. */
#include "analyzer/music.h"

#include <math.h>
#include <string.h>

void an_music_init(struct an_music *m, double frame_rate)
{
	memset(m, 0, sizeof(*m));
	m->frame_rate = frame_rate;
	double lmin = floor(frame_rate * 60.0 / AN_MUSIC_BPM_MAX), lmax = ceil(frame_rate * 60.0 / AN_MUSIC_BPM_MIN);
	m->lag_min = lmin < 2 ? 2 : (unsigned)lmin;
	m->lag_max = lmax > AN_MUSIC_MAX_LAG - 1 ? AN_MUSIC_MAX_LAG - 1 : (unsigned)lmax;
}

void an_music_onset(struct an_music *m, double o)
{
	const unsigned size = AN_MUSIC_MAX_LAG + 1;

	m->ring[m->n % size] = (float)o;
	for (unsigned l = 0; l <= m->lag_max + 1 && l <= m->n; l++)
		m->ac[l] += o * m->ring[(m->n - l) % size];
	m->n++;
	m->sum += o;
	m->sum_sq += o * o;
}

void an_music_spectrum(struct an_music *m, const float *mag, size_t bins, double bin_hz)
{
	float top = 0.0f;

	for (size_t k = 0; k < bins; k++)
		top = mag[k] > top ? mag[k] : top;
	if (!(top > 0.0f))
		return;
	for (size_t k = 1; k + 1 < bins; k++) {
		double f0 = k * bin_hz;
		if (f0 < 55.0 || f0 > 5000.0 || mag[k] < 1e-3f * top)
			continue;
		if (!(mag[k] > mag[k - 1] && mag[k] >= mag[k + 1]))
			continue;
		double a = log(mag[k - 1] + 1e-30), b = log(mag[k]), c = log(mag[k + 1] + 1e-30);
		double den = a - 2.0 * b + c, d = den < 0.0 ? 0.5 * (a - c) / den : 0.0;
		double f = (k + d) * bin_hz;
		double midi = 69.0 + 12.0 * log2(f / 440.0);
		int pc = ((int)lround(midi) % 12 + 12) % 12;
		m->chroma[pc] += mag[k];
	}
}

static const double major_profile[12] = { 6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88 };
static const double minor_profile[12] = { 6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17 };

static double correlate(const double *chroma, const double *profile, int tonic)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;

	for (int i = 0; i < 12; i++) {
		mx += chroma[(i + tonic) % 12] / 12.0;
		my += profile[i] / 12.0;
	}
	for (int i = 0; i < 12; i++) {
		double x = chroma[(i + tonic) % 12] - mx, y = profile[i] - my;
		sxy += x * y;
		sxx += x * x;
		syy += y * y;
	}
	return sxx > 0.0 && syy > 0.0 ? sxy / sqrt(sxx * syy) : NAN;
}

static void key_of(const struct an_music *m, struct an_music_result *out)
{
	double best = -2.0, second = -2.0;

	out->key_tonic = -1;
	out->key_minor = 0;
	out->key_confidence = out->key_margin = NAN;
	for (int minor = 0; minor < 2; minor++) {
		for (int t = 0; t < 12; t++) {
			double r = correlate(m->chroma, minor ? minor_profile : major_profile, t);
			if (!isfinite(r))
				return;
			if (r > best) {
				second = best;
				best = r;
				out->key_tonic = t;
				out->key_minor = minor;
			} else if (r > second) {
				second = r;
			}
		}
	}
	out->key_confidence = best;
	out->key_margin = best - second;
}

/* The centred autocorrelation at lag l. */
static double centred(const struct an_music *m, unsigned l)
{
	double mean = m->sum / (double)m->n;
	return m->ac[l] - (double)(m->n - l) * mean * mean;
}

static void tempo_of(const struct an_music *m, struct an_music_result *out)
{
	out->bpm = out->bpm_confidence = NAN;
	if (m->n < 2u * m->lag_max)
		return; /* fewer than two periods of the slowest tempo */
	double a0 = centred(m, 0), best = 0.0;
	unsigned at = 0;
	if (!(a0 > 0.0))
		return;
	for (unsigned l = m->lag_min; l <= m->lag_max; l++) {
		double bpm = 60.0 * m->frame_rate / l, oct = log2(bpm / 120.0);
		double score = centred(m, l) * exp(-0.5 * oct * oct);
		if (score > best) {
			best = score;
			at = l;
		}
	}
	if (at == 0)
		return;
	double y0 = centred(m, at - 1), y1 = centred(m, at), y2 = centred(m, at + 1);
	double den = y0 - 2.0 * y1 + y2, d = den < 0.0 ? 0.5 * (y0 - y2) / den : 0.0;
	out->bpm = 60.0 * m->frame_rate / ((double)at + d);
	out->bpm_confidence = y1 / a0;
}

void an_music_result(const struct an_music *m, struct an_music_result *out)
{
	tempo_of(m, out);
	key_of(m, out);
}

const char *an_music_pitch_name(int pc)
{
	static const char *const names[12] = { "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B" };
	return pc >= 0 && pc < 12 ? names[pc] : NULL;
}
