/* analyzer/loudness.c — see loudness.h. */
#include "analyzer/loudness.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* libebur128 1.2.6 refuses these itself (VALIDATE_CHANNELS_AND_SAMPLERATE);
 * checking first lets the report say which limit was hit. */
#define EBUR128_MIN_RATE 16u
#define EBUR128_MAX_RATE 2822400u
#define EBUR128_MAX_CHANNELS 64u
#define WINDOW_S 3u /* the short-term window the LRA mode keeps */

int an_loudness_init(struct an_loudness *l, unsigned channels, uint32_t rate)
{
	memset(l, 0, sizeof(*l));
	if (rate < EBUR128_MIN_RATE || rate > EBUR128_MAX_RATE) {
		l->skipped = "sample rate outside what libebur128 measures";
		return 0;
	}
	if (channels > EBUR128_MAX_CHANNELS) {
		l->skipped = "more channels than libebur128 measures";
		return 0;
	}
	if ((uint64_t)rate * channels * WINDOW_S * sizeof(double) > AN_LOUDNESS_MAX_BUFFER) {
		l->skipped = "sample rate times channels exceeds the memory budget";
		return 0;
	}
	l->st = ebur128_init(channels, rate,
			     EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_HISTOGRAM);
	if (!l->st)
		return -ENOMEM;
	return 0;
}

void an_loudness_free(struct an_loudness *l)
{
	if (l->st)
		ebur128_destroy(&l->st);
}

void an_loudness_push(struct an_loudness *l, const float *frames, size_t nframes)
{
	if (!l->st || l->error || nframes == 0)
		return;
	int r = ebur128_add_frames_float(l->st, frames, nframes);
	if (r != EBUR128_SUCCESS)
		l->error = r;
}

void an_loudness_result(const struct an_loudness *l, double *integrated_lufs, double *range_lu)
{
	*integrated_lufs = NAN;
	*range_lu = NAN;
	if (!l->st || l->error)
		return;
	double v;
	if (ebur128_loudness_global(l->st, &v) == EBUR128_SUCCESS)
		*integrated_lufs = v;
	if (ebur128_loudness_range(l->st, &v) == EBUR128_SUCCESS)
		*range_lu = v;
}
