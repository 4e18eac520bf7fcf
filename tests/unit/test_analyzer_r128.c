/* tests/unit/test_analyzer_r128.c — the analyzer's own loudness meter
 * (analyzer/loudness.c) against libebur128 1.2.6, its oracle, on a
 * corpus of signals generated here: 8 kHz to 192 kHz, 1, 2 and 6
 * channels, tones (20 Hz to 0.45 fs), white and pink noise, speech-like
 * bursts with digital-silence pauses (the filter decays through
 * subnormal numbers there), level steps, DC, samples beyond full scale,
 * and silence.
 *
 * libebur128 (EBUR128_MODE_I | EBUR128_MODE_S, exact block list, no
 * histogram) is fed the same float frames 100 ms at a time; after each
 * 100 ms its momentary (400 ms) and short-term (3 s) loudness are read.
 * From those the test computes, with no binning:
 *   - integrated loudness: the BS.1770-4 gates over every momentary
 *     value (checked against ebur128_loudness_global() where its 100 ms
 *     step, (rate + 5) / 10 frames, is the analyzer's rate / 10);
 *   - the loudest momentary and short-term values;
 *   - the loudness range of Tech 3342 v4 (2016): every 100 ms
 *     short-term value from 3 s on, the -70 LUFS and -20 LU gates, L95
 *     minus L10 by nearest rank, as loudness.h defines it.
 * Integrated, momentary and short-term maxima must agree within 1e-6 LU
 * (the same filter, rounding apart; measured: under 1e-9) where the rate
 * is a multiple of 10 Hz, and within 0.01 LU elsewhere: at 11025 Hz the
 * analyzer's 100 ms is rate / 10 = 1102 frames, so its 400 ms block is
 * 4408 frames where libebur128's momentary window is 4410 (measured:
 * 0.004 LU on bursts). The range must agree within 0.1 LU, the
 * analyzer's histogram bin (it reads each percentile as the mean of its
 * 0.1 LU bin, where the oracle takes the exact value; measured: 0.03).
 * The largest differences are printed; R128_VERBOSE=1 prints each case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ebur128.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/loudness.h"

#define SECONDS 7.0

enum signal {
	SIG_TONE,      /* 997 Hz at -20 dBFS, a 20 Hz tone and one at 0.45 fs */
	SIG_WHITE,     /* white noise, -12 dBFS RMS */
	SIG_PINK,      /* pink noise (Voss-McCartney), rising 20 dB over the file */
	SIG_SPEECH,    /* bursts of 80-400 ms, pauses of digital silence */
	SIG_STEPS,     /* tone at -40/-10/-30/+6 dBFS (beyond full scale) plus DC */
	SIG_QUIET,     /* noise near the -70 LUFS absolute gate */
	SIG_SILENCE,   /* digital silence */
	SIG_COUNT
};

static const char *const signal_name[SIG_COUNT] = {
	"tones", "white", "pink", "speech", "steps", "quiet", "silence",
};

struct rng {
	uint64_t s;
};

static double uniform(struct rng *r) /* [-1, 1) */
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (double)(r->s >> 11) / 4503599627370496.0 - 1.0;
}

/* Per-channel state of a generator: each channel its own noise. */
struct gen {
	struct rng rng;
	double pink[8];
	uint64_t burst_end, pause_end;
	double burst_gain;
};

static float sample(enum signal sig, struct gen *g, unsigned c, uint64_t t, uint32_t rate, uint64_t total)
{
	const double sec = (double)t / rate;
	double x = 0.0;

	switch (sig) {
	case SIG_TONE:
		x = 0.1 * sin(2.0 * M_PI * 997.0 * sec + c) + 0.05 * sin(2.0 * M_PI * 20.0 * sec) +
		    0.05 * sin(2.0 * M_PI * 0.45 * rate * sec + 0.3 * c);
		break;
	case SIG_WHITE:
		x = 0.25 * 1.7320508 * uniform(&g->rng);
		break;
	case SIG_PINK: {
		/* Voss-McCartney: row k changes every 2^k samples */
		double sum = 0.0;
		for (unsigned k = 0; k < 8; k++) {
			if ((t & ((1ull << k) - 1)) == 0)
				g->pink[k] = uniform(&g->rng);
			sum += g->pink[k];
		}
		x = sum / 8.0 * pow(10.0, (-30.0 + 20.0 * (double)t / (double)total) / 20.0) * 3.0;
		break;
	}
	case SIG_SPEECH:
		if (t >= g->pause_end) {
			/* a new burst, then a pause */
			uint64_t burst = (uint64_t)((0.08 + 0.16 * (uniform(&g->rng) + 1.0)) * rate);
			uint64_t pause = (uint64_t)((0.05 + 0.35 * (uniform(&g->rng) + 1.0)) * rate);
			g->burst_end = t + burst;
			g->pause_end = g->burst_end + pause;
			g->burst_gain = pow(10.0, (-28.0 + 9.0 * uniform(&g->rng)) / 20.0);
		}
		if (t < g->burst_end)
			x = g->burst_gain * (uniform(&g->rng) + 0.8 * sin(2.0 * M_PI * 180.0 * sec)) *
			    sin(M_PI * (double)(g->burst_end - t) / (0.4 * rate) + 0.2);
		break;
	case SIG_STEPS: {
		static const double db[4] = { -40.0, -10.0, -30.0, 6.0 };
		unsigned s = (unsigned)(4 * t / total);
		x = pow(10.0, db[s] / 20.0) * sin(2.0 * M_PI * 440.0 * sec) + 0.01;
		break;
	}
	case SIG_QUIET:
		x = 3e-4 * uniform(&g->rng) * (1.0 + (double)c);
		break;
	case SIG_SILENCE:
	case SIG_COUNT:
		break;
	}
	return (float)x;
}

struct loud {
	double integrated, range, momentary_max, short_term_max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double lufs_of(double energy)
{
	return 10.0 * log10(energy) - 0.691;
}

/* BS.1770-4 integrated loudness from every 400 ms block energy (one
 * each 100 ms), exactly: the absolute gate, then -10 LU. */
static double oracle_integrated(const double *blk, size_t n)
{
	double sum = 0.0, gated = 0.0;
	size_t k = 0, m = 0;

	for (size_t i = 0; i < n; i++)
		if (lufs_of(blk[i]) >= -70.0) {
			sum += blk[i];
			k++;
		}
	if (!k)
		return -INFINITY;
	double gate = lufs_of(sum / (double)k) - 10.0;
	for (size_t i = 0; i < n; i++)
		if (lufs_of(blk[i]) >= -70.0 && lufs_of(blk[i]) >= gate) {
			gated += blk[i];
			m++;
		}
	return m ? lufs_of(gated / (double)m) : -INFINITY;
}

/* Tech 3342 v4 from every 100 ms short-term energy, exactly. */
static double oracle_range(const double *st, size_t n)
{
	double *keep = malloc(n * sizeof(double) + 1);
	double sum = 0.0, r = 0.0;
	size_t k = 0;

	assert_non_null(keep);
	for (size_t i = 0; i < n; i++)
		if (lufs_of(st[i]) >= -70.0) {
			keep[k++] = st[i];
			sum += st[i];
		}
	if (k) {
		double gate = lufs_of(sum / (double)k) - 20.0;
		size_t m = 0;
		for (size_t i = 0; i < k; i++)
			if (lufs_of(keep[i]) >= gate)
				keep[m++] = lufs_of(keep[i]);
		if (m) {
			qsort(keep, m, sizeof(double), cmp_double);
			size_t lo = (size_t)((double)(m - 1) * 0.10 + 0.5);
			size_t hi = (size_t)((double)(m - 1) * 0.95 + 0.5);
			r = keep[hi] - keep[lo];
		}
	}
	free(keep);
	return r;
}

/* |a - b|, 0 when both are the same infinity */
static double diff(double a, double b)
{
	if (isinf(a) && isinf(b) && (a > 0) == (b > 0))
		return 0.0;
	return fabs(a - b);
}

/* Both meters over the same frames, 100 ms at a time. */
static void measure(enum signal sig, unsigned channels, uint32_t rate, struct loud *ours,
		    struct loud *oracle)
{
	const size_t step = rate / 10;
	const uint64_t total = (uint64_t)(SECONDS * rate);
	const size_t nsteps = total / step + 1;
	float *buf = malloc(step * channels * sizeof(float));
	double *st = malloc(nsteps * sizeof(double));
	double *blk = malloc(nsteps * sizeof(double));
	struct gen *g = calloc(channels, sizeof(*g));
	struct an_loudness l;
	ebur128_state *e = ebur128_init(channels, rate, EBUR128_MODE_I | EBUR128_MODE_S);
	size_t nst = 0, nblk = 0;
	uint64_t t = 0;

	assert_true(buf && st && blk && g && e);
	assert_int_equal(an_loudness_init(&l, channels, rate), 0);
	assert_null(l.skipped);
	for (unsigned c = 0; c < channels; c++)
		g[c].rng.s = 0x9e3779b97f4a7c15ull * (c + 1) + rate + sig;
	oracle->momentary_max = oracle->short_term_max = -INFINITY;
	while (t + step <= total) {
		for (size_t i = 0; i < step; i++)
			for (unsigned c = 0; c < channels; c++)
				buf[i * channels + c] = sample(sig, &g[c], c, t + i, rate, total);
		/* ours in two uneven pieces: the sub-blocks must not care */
		an_loudness_push(&l, buf, step / 3);
		an_loudness_push(&l, buf + step / 3 * channels, step - step / 3);
		assert_int_equal(ebur128_add_frames_float(e, buf, step), EBUR128_SUCCESS);
		t += step;
		double m, s;
		if (t >= 4 * step) {
			assert_int_equal(ebur128_loudness_momentary(e, &m), EBUR128_SUCCESS);
			oracle->momentary_max = fmax(oracle->momentary_max, m);
			blk[nblk++] = isfinite(m) ? pow(10.0, (m + 0.691) / 10.0) : 0.0;
		}
		if (t >= 30 * step) {
			assert_int_equal(ebur128_loudness_shortterm(e, &s), EBUR128_SUCCESS);
			oracle->short_term_max = fmax(oracle->short_term_max, s);
			st[nst++] = isfinite(s) ? pow(10.0, (s + 0.691) / 10.0) : 0.0;
		}
	}
	/* libebur128's own gating steps by (rate + 5) / 10 frames, the
	 * analyzer's (and the momentary reads' here) by rate / 10; where
	 * the two are the same its global value must agree too. */
	oracle->integrated = oracle_integrated(blk, nblk);
	if (rate % 10 == 0) {
		double global;
		assert_int_equal(ebur128_loudness_global(e, &global), EBUR128_SUCCESS);
		if (!(diff(global, oracle->integrated) <= 1e-6))
			fail_msg("ebur128_loudness_global %.6f, from its momentary values %.6f", global,
				 oracle->integrated);
	}
	oracle->range = oracle_range(st, nst);
	an_loudness_result(&l, &ours->integrated, &ours->range);
	an_loudness_maxima(&l, &ours->momentary_max, &ours->short_term_max);
	an_loudness_free(&l);
	ebur128_destroy(&e);
	free(buf);
	free(st);
	free(blk);
	free(g);
}

static double worst_level, worst_level_frac, worst_range;

static void compare(enum signal sig, unsigned channels, uint32_t rate)
{
	struct loud o, r;

	measure(sig, channels, rate, &o, &r);
	double dl = fmax(fmax(diff(o.integrated, r.integrated), diff(o.momentary_max, r.momentary_max)),
			 diff(o.short_term_max, r.short_term_max));
	double dr = diff(o.range, r.range);
	if (!(dl <= 0.01) || !(dr <= 0.1))
		fail_msg("%s, %u ch, %u Hz: I %.5f / %.5f, M max %.5f / %.5f, S max %.5f / %.5f, "
			 "LRA %.4f / %.4f (ours / libebur128)",
			 signal_name[sig], channels, rate, o.integrated, r.integrated, o.momentary_max,
			 r.momentary_max, o.short_term_max, r.short_term_max, o.range, r.range);
	if (getenv("R128_VERBOSE"))
		print_message("# %s %u ch %u Hz: %.2g LU, LRA %.3g LU\n", signal_name[sig], channels,
			      rate, dl, dr);
	/* the same windows: only rounding may differ */
	if (rate % 10 == 0 && !(dl <= 1e-6))
		fail_msg("%s, %u ch, %u Hz: %.3g LU from libebur128", signal_name[sig], channels, rate, dl);
	if (rate % 10 == 0)
		worst_level = fmax(worst_level, dl);
	else
		worst_level_frac = fmax(worst_level_frac, dl);
	worst_range = fmax(worst_range, dr);
	if (sig == SIG_SILENCE)
		assert_true(isinf(o.integrated) && o.integrated < 0 && o.range == 0.0);
}

static const uint32_t rates[] = { 8000, 11025, 16000, 22050, 32000, 44100,
				  48000, 88200, 96000, 176400, 192000 };
static const unsigned chans[] = { 1, 2, 6 };

/* Every signal at 48 kHz stereo. */
static void test_every_signal_48k_stereo(void **state)
{
	for (unsigned s = 0; s < SIG_COUNT; s++)
		compare((enum signal)s, 2, 48000);
}

/* Every rate with every channel count, the signal in rotation (silence
 * and the tones once more at the ends of the range). */
static void test_every_rate_and_layout(void **state)
{
	unsigned k = 0;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		for (size_t j = 0; j < sizeof(chans) / sizeof(chans[0]); j++, k++)
			compare((enum signal)(k % (SIG_COUNT - 1)), chans[j], rates[i]);
	compare(SIG_SILENCE, 6, 192000);
	compare(SIG_TONE, 1, 8000);
	compare(SIG_SPEECH, 6, 192000);
}

static void test_print_worst(void **state)
{
	print_message("# largest difference from libebur128: %.2g LU (integrated, momentary and "
		      "short-term maxima; %.2g LU at 11025 Hz), %.3g LU (loudness range)\n",
		      worst_level, worst_level_frac, worst_range);
	assert_true(worst_level <= 1e-6 && worst_level_frac <= 0.01 && worst_range <= 0.1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_signal_48k_stereo),
		cmocka_unit_test(test_every_rate_and_layout),
		cmocka_unit_test(test_print_worst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
