/* tests/analyzer/signals.h — test signals for the analyzer's unit tests,
 * synthesized in memory and fed to struct an_analysis block by block,
 * the way the decoder feeds it.
 *
 * EBU Tech 3341 / 3342 describe their test items as 48 kHz stereo sine
 * tones with the level given in dBFS per channel peak: amplitude
 * 10^(dB/20), the same in both channels, phase continuous from one
 * section to the next.
 */
#ifndef SANDRUN_TESTS_ANALYZER_SIGNALS_H
#define SANDRUN_TESTS_ANALYZER_SIGNALS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "analyzer/analysis.h"

#define SIG_BLOCK_FRAMES 4800

struct sig_section {
	double dbfs;      /* per-channel peak */
	double seconds;
};

/* Feed `channels` identical channels of a sine of frequency hz through
 * `a`, section after section; phase_rad is the starting phase, amplitude
 * set per section. Returns 0 or -1 on allocation failure. */
static inline int sig_feed_sine(struct an_analysis *a, unsigned channels, uint32_t rate,
				double hz, double phase_rad, const struct sig_section *sec,
				size_t nsec)
{
	float *block = malloc(sizeof(float) * SIG_BLOCK_FRAMES * channels);
	uint64_t t = 0;

	if (!block)
		return -1;
	for (size_t s = 0; s < nsec; s++) {
		double amp = pow(10.0, sec[s].dbfs / 20.0);
		uint64_t frames = (uint64_t)llround(sec[s].seconds * rate);
		while (frames > 0) {
			size_t n = frames < SIG_BLOCK_FRAMES ? (size_t)frames : SIG_BLOCK_FRAMES;
			for (size_t i = 0; i < n; i++, t++) {
				/* t mod rate keeps the argument small: exact for
				 * tones with a whole number of cycles per second. */
				double ph = 2.0 * M_PI * hz * (double)(t % rate) / rate + phase_rad;
				float v = (float)(amp * sin(ph));
				for (unsigned c = 0; c < channels; c++)
					block[i * channels + c] = v;
			}
			an_analysis_push(a, block, n);
			frames -= n;
		}
	}
	free(block);
	an_analysis_finish(a);
	return 0;
}

/* Deterministic uniform noise in [-amp, amp) (xorshift32), mono. */
static inline float sig_noise(uint32_t *state, float amp)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return amp * ((float)(x >> 8) / 8388608.0f - 1.0f);
}

#endif
