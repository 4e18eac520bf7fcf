/* analyzer/loudness.c — see loudness.h. */
#include "analyzer/loudness.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* libebur128 1.2.6 refuses these itself (VALIDATE_CHANNELS_AND_SAMPLERATE);
 * checking first lets the report say which limit was hit. */
#define EBUR128_MIN_RATE 16u
#define EBUR128_MAX_RATE 2822400u
#define RING_MS 400u /* EBUR128_MODE_M keeps 400 ms of filtered audio */
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

int an_loudness_init(struct an_loudness *l, unsigned channels, uint32_t rate)
{
	memset(l, 0, sizeof(*l));
	if (rate < EBUR128_MIN_RATE || rate > EBUR128_MAX_RATE) {
		l->skipped = "sample rate outside what libebur128 measures";
		return 0;
	}
	if (channels > AN_LOUDNESS_MAX_CHANNELS) {
		l->skipped = "more channels than libebur128 measures";
		return 0;
	}
	if ((uint64_t)rate * channels * RING_MS / 1000 * sizeof(double) > AN_LOUDNESS_MAX_BUFFER) {
		l->skipped = "sample rate times channels exceeds the memory budget";
		return 0;
	}
	l->sub_frames = rate * SUB_MS / 1000;
	l->blocks = calloc(1, sizeof(*l->blocks));
	l->short_term = calloc(1, sizeof(*l->short_term));
	l->st = ebur128_init(channels, rate, EBUR128_MODE_M);
	if (!l->blocks || !l->short_term || !l->st) {
		an_loudness_free(l);
		return -ENOMEM;
	}
	return 0;
}

void an_loudness_free(struct an_loudness *l)
{
	if (l->st)
		ebur128_destroy(&l->st);
	free(l->blocks);
	free(l->short_term);
	l->blocks = l->short_term = NULL;
}

void an_loudness_set_layout(struct an_loudness *l, const uint8_t *roles, unsigned channels)
{
	bool known = false, sides = false;

	if (!l->st || !roles)
		return;
	/* roles holds AN_LAYOUT_MAX entries: channels past them (a decoder
	 * may claim up to 1024) keep libebur128's own map; never read past. */
	if (channels > AN_LAYOUT_MAX)
		channels = AN_LAYOUT_MAX;
	for (unsigned c = 0; c < channels; c++) {
		known |= roles[c] != AN_CH_UNKNOWN;
		sides |= roles[c] == AN_CH_SL || roles[c] == AN_CH_SR;
	}
	if (!known)
		return;
	for (unsigned c = 0; c < channels; c++) {
		int v;
		switch (roles[c]) {
		case AN_CH_FL: v = EBUR128_LEFT; break;
		case AN_CH_FR: v = EBUR128_RIGHT; break;
		case AN_CH_FC: v = EBUR128_CENTER; break;
		case AN_CH_LFE: v = EBUR128_UNUSED; break;
		/* BS.1770-4 Table 4: 1.41 between 60 and 120 degrees. The
		 * back pair of a 5.1 is its surround pair (110 degrees);
		 * beside a side pair (7.1) it sits at 135-150 degrees. */
		case AN_CH_BL: v = sides ? EBUR128_Mp135 : EBUR128_LEFT_SURROUND; break;
		case AN_CH_BR: v = sides ? EBUR128_Mm135 : EBUR128_RIGHT_SURROUND; break;
		case AN_CH_SL: v = EBUR128_Mp090; break;
		case AN_CH_SR: v = EBUR128_Mm090; break;
		case AN_CH_UNKNOWN: /* a layout that names some channels only */
		case AN_CH_OTHER:
		default: v = EBUR128_CENTER; break; /* weight 1.0 */
		}
		ebur128_set_channel(l->st, c, v);
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

/* A 100 ms sub-block is complete: its energy, then the 400 ms block and
 * the 3 s short-term value that end with it. */
static void sub_block_done(struct an_loudness *l)
{
	const double abs_gate = energy_of(ABS_GATE_LUFS);
	double lufs;

	if (ebur128_loudness_window(l->st, SUB_MS, &lufs) != EBUR128_SUCCESS) {
		l->error = EBUR128_ERROR_INVALID_MODE;
		return;
	}
	l->ring[l->subs % AN_LOUDNESS_SHORT_TERM_SUBS] = isfinite(lufs) ? energy_of(lufs) : 0.0;
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

void an_loudness_push(struct an_loudness *l, const float *frames, size_t nframes)
{
	const size_t nch = l->st ? l->st->channels : 0;

	while (l->st && !l->error && nframes > 0) {
		size_t n = l->sub_frames - l->sub_fill;
		if (n > nframes)
			n = nframes;
		int r = ebur128_add_frames_float(l->st, frames, n);
		if (r != EBUR128_SUCCESS) {
			l->error = r;
			return;
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
	if (!l->st || l->error)
		return;
	*integrated_lufs = integrated(l->blocks);
	*range_lu = range(l->short_term);
}

void an_loudness_maxima(const struct an_loudness *l, double *momentary_lufs, double *short_term_lufs)
{
	*momentary_lufs = NAN;
	*short_term_lufs = NAN;
	if (!l->st || l->error)
		return;
	*momentary_lufs = l->max_block > 0.0 ? lufs_of(l->max_block) : -INFINITY;
	*short_term_lufs = l->max_short_term > 0.0 ? lufs_of(l->max_short_term) : -INFINITY;
}
