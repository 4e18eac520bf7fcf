/* analyzer/levels.h — per-channel waveform statistics, one pass, constant
 * memory: sample peak, DC offset, RMS, clipped samples and clipping runs,
 * zero crossings, and silence measured in fixed windows.
 *
 * Pure computation: no I/O, no allocation. The caller feeds float
 * samples (libsndfile's normalised scale, full scale = 1.0) one
 * contiguous array per channel, in blocks of any size; the results do
 * not depend on how the stream was cut into blocks, beyond float
 * rounding of the sums.
 *
 * Definitions (docs/analyzer.md repeats them for users):
 *   - clipped sample: |x| >= clip_threshold. For integer PCM the threshold
 *     is the largest positive code (32767/32768 for 16 bit), because
 *     libsndfile maps -32768 to -1.0 and 32767 to 0.99997: a waveform cut
 *     at full scale never reaches +1.0 exactly. For float and lossy
 *     codecs it is 1.0.
 *   - clipping run: a maximal stretch of consecutive clipped samples in
 *     one channel.
 *   - zero crossing: consecutive samples of which exactly one is < 0
 *     (0.0 counts as non-negative); the rate is crossings divided by the
 *     number of consecutive pairs (frames - 1).
 *   - silent window: a window of window_frames frames (50 ms, the last
 *     one may be shorter) whose RMS is below the threshold; per file, a
 *     window is silent when it is silent in every channel.
 */
#ifndef SANDRUN_ANALYZER_LEVELS_H
#define SANDRUN_ANALYZER_LEVELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/silence.h"

#define AN_SILENCE_THRESHOLD_DBFS (-60.0)
#define AN_SILENCE_WINDOW_S 0.05

struct an_level_channel {
	float peak;             /* max |x| */
	double sum;             /* for the DC offset */
	double sum_sq;          /* for the RMS level */
	uint64_t clipped;
	uint64_t clip_runs;
	uint64_t zero_crossings;
	uint64_t over_full_scale; /* |x| > 1.0 */
	uint64_t silent_windows;
	double window_sum_sq;   /* the window in progress */
	bool prev_clipped;      /* the last sample seen was clipped */
	bool prev_negative;     /* the last sample seen was < 0 */
};

struct an_levels {
	unsigned channels;
	float clip_threshold;
	uint64_t window_frames;   /* frames per silence window, >= 1 */
	double silence_sum_sq;    /* window_sum_sq below this is silent */
	uint64_t frames;          /* frames seen so far */
	uint64_t window_fill;     /* frames in the window in progress */
	uint64_t windows;         /* closed windows */
	uint64_t silent_windows;  /* closed windows silent in every channel */
	struct an_silence silence; /* where those windows lie (silence.h) */
	struct an_level_channel *ch; /* channels entries, caller's memory */
};

/* Clip threshold for a libsndfile subtype (SF_FORMAT_SUBMASK part). */
float an_clip_threshold_for_subtype(int subtype);

/* ch must point at channels zeroed entries that outlive lv. rate >= 1. */
void an_levels_init(struct an_levels *lv, struct an_level_channel *ch,
		    unsigned channels, uint32_t rate, float clip_threshold);
/* chan[c] points at nframes samples of channel c. */
void an_levels_push(struct an_levels *lv, const float *const *chan, size_t nframes);
/* Close the last, partial window. Call once at the end of the stream. */
void an_levels_finish(struct an_levels *lv);

/* Derived values; every "db" result is -INFINITY for digital silence. */
struct an_level_summary {
	double peak_dbfs;
	double rms_dbfs;
	double dc_offset;
	double crest_db;        /* peak_dbfs - rms_dbfs */
	uint64_t clipped;
	uint64_t clip_runs;
	uint64_t over_full_scale;  /* samples with |x| > 1.0 */
	double zero_crossing_rate;
	double silence_ratio;   /* NaN when there was no window */
};

/* channel < channels: one channel; channel == channels: the whole file,
 * as sox's "Overall" column: RMS over all samples, peak the largest, DC
 * the channel offset largest in magnitude; counts summed. */
void an_levels_summary(const struct an_levels *lv, unsigned channel,
		       struct an_level_summary *out);

double an_db_from_amplitude(double a);

#endif
