/* analyzer/analysis.h — every feature accumulator behind one push().
 *
 * Pure computation: interleaved float frames in, numbers out; no
 * libsndfile, no I/O. The unit tests drive it with synthesized EBU test
 * signals, the decoder (decode.c) with decoded blocks. All memory is
 * allocated in an_analysis_init() and depends on the channel count and
 * the block size only, never on the stream's length.
 */
#ifndef SANDRUN_ANALYZER_ANALYSIS_H
#define SANDRUN_ANALYZER_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/centroid.h"
#include "analyzer/identity.h"
#include "analyzer/levels.h"
#include "analyzer/loudness.h"
#include "analyzer/stereo.h"
#include "analyzer/transcode.h"
#include "analyzer/truepeak.h"

/* A consumer of the samples beside the measurements (the fingerprint's
 * pipe, the spectral summary): start once with the stream's shape, then
 * every block after the non-finite samples are zeroed; finish after the
 * stream, with the report (report.h) to complete. A chain through next. */
struct an_report;
struct an_tap {
	void (*start)(void *u, unsigned channels, uint32_t rate);
	void (*push)(void *u, const float *frames, size_t nframes);
	void (*finish)(void *u, struct an_report *r);
	void *u;
	const struct an_tap *next;
};

struct an_analysis {
	unsigned channels;
	uint32_t rate;
	size_t max_block_frames;
	uint64_t non_finite_samples;     /* NaN/inf replaced by 0 */
	struct an_levels levels;
	struct an_level_channel *level_ch;
	struct an_tp_filter tp_filter;
	struct an_tp_channel *tp_ch;
	struct an_centroid *centroid;
	struct an_loudness loudness;
	struct an_stereo stereo;         /* channels == 2 only */
	struct an_bitdepth bitdepth;
	struct an_audio_hash audio_hash;
	const struct an_tap *tap;        /* or NULL */
	char audio_sha256[AN_SHA256_HEX]; /* after an_analysis_finish() */
	float *planar;                   /* one block, channel after channel */
	float **chan;                    /* chan[c]: channel c within planar */
	float *tp_scratch;               /* AN_TP_HISTORY + max_block_frames */
};

/* channels >= 1, rate >= 1, max_block_frames >= 1. Returns 0 or
 * -ENOMEM (with nothing left allocated). */
int an_analysis_init(struct an_analysis *a, unsigned channels, uint32_t rate,
		     float clip_threshold, size_t max_block_frames);
void an_analysis_free(struct an_analysis *a);
/* Before the first push; tap may be NULL. Calls tap->start. */
void an_analysis_set_tap(struct an_analysis *a, const struct an_tap *tap);

/* nframes <= max_block_frames. Non-finite samples (a float file can hold
 * any bit pattern) are counted and replaced by 0 in place, so one NaN
 * cannot poison every sum and libebur128's filter state. */
void an_analysis_push(struct an_analysis *a, float *frames, size_t nframes);
/* The same for a block of int16 codes (16-bit PCM, read as such by the
 * decoder): converted to floats in frames (room for nframes * channels),
 * code * 2^-15 as libsndfile's own float read gives them, bit for bit,
 * in the pass that splits the channels; the bit depth is read from the
 * codes. The same results as an_analysis_push() on those floats. */
void an_analysis_push_s16(struct an_analysis *a, const int16_t *codes, float *frames, size_t nframes);
/* n codes as floats (code * 2^-15); returns their OR (as uint16 bits). */
uint32_t an_s16_to_float(const int16_t *s, size_t n, float *out);
void an_analysis_finish(struct an_analysis *a);

/* Results after an_analysis_finish(). channel == channels: whole file. */
struct an_channel_result {
	struct an_level_summary level;
	double true_peak_dbtp;
};
void an_analysis_channel(const struct an_analysis *a, unsigned channel,
			 struct an_channel_result *out);
/* channels == 2: the stereo relation (stereo.h), and which channel is dead
 * (-1: neither). Returns false for any other channel count. */
/* Padded bits, a lowpass, upsampling (transcode.h). */
void an_analysis_transcode(const struct an_analysis *a, struct an_transcode_result *out);
bool an_analysis_stereo(const struct an_analysis *a, struct an_stereo_result *out, int *dead_channel);

#endif
