/* analyzer/fingerprint.h — the acoustic fingerprint (Chromaprint, the one
 * AcoustID uses), asked for with `sandrun-analyze --fingerprint`.
 *
 * Debian's libchromaprint links libavcodec (its FFT), so it is not linked
 * here: that would load FFmpeg's ~130 libraries into every analysis and
 * make the analyzer's binary GPL (docs/analyzer.md, "Licensing"). It runs
 * in `sandrun-decode --fingerprint` instead, the FFmpeg fallback's
 * program, which already carries both:
 *
 *   an_fingerprint_prepare()  before the seccomp guard (which forbids fork
 *                             and exec): two close-on-exec pipes, fork,
 *                             exec sandrun-decode --fingerprint at once
 *                             with fd 0 the samples pipe, fd 1 the result
 *                             pipe, an empty environment. The helper
 *                             never holds the input: only the PCM the
 *                             analyzer decoded reaches it, and it runs
 *                             under its own filter (policies/decode.json).
 *   the tap (analysis.h)      the first AN_FP_SECONDS of the decoded
 *                             samples, quantized to int16 as the audio
 *                             hash does, interleaved, into the pipe
 *                             (pcm.h, "fingerprint pipes").
 *   its finish                close the pipe, read the fingerprint (URL-safe
 *                             base64, checked), reap the helper; the report
 *                             gets the text or the reason there is none.
 *   an_fingerprint_cancel()   no report (bad input): close and reap.
 *
 * Memory: one int16 block. */
#ifndef SANDRUN_ANALYZER_FINGERPRINT_H
#define SANDRUN_ANALYZER_FINGERPRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyzer/analysis.h"

/* fpcalc's default length, and what AcoustID looks up */
#define AN_FP_SECONDS 120u
#define AN_FP_ERROR_MAX 160
#define AN_FP_BLOCK 16384
#define AN_FP_HELPER_ARGV0 "sandrun-decode"

struct an_fingerprint {
	pid_t pid;               /* the helper, or -1 */
	int to;                  /* samples pipe, write end */
	int from;                /* result pipe, read end */
	uint64_t frames_max, frames_sent;
	unsigned channels;
	uint32_t rate;
	bool failed;             /* the pipe broke: error says why */
	char error[AN_FP_ERROR_MAX];
	struct an_tap tap;       /* hand this to the analysis */
	int16_t block[AN_FP_BLOCK];
};

/* What the report carries (report.h). */
struct an_fingerprint_result {
	bool asked;
	char *text;              /* malloc'd, or NULL: error says why */
	double seconds;          /* of audio fingerprinted */
	char error[AN_FP_ERROR_MAX];
};

/* Fork and exec the helper. Returns 0, or -errno with fp->error set (the
 * report then says the fingerprint could not be made). */
int an_fingerprint_prepare(struct an_fingerprint *fp, const char *decoder_path);
/* No helper (not installed): the report says why. */
void an_fingerprint_unavailable(struct an_fingerprint *fp, const char *why);
void an_fingerprint_cancel(struct an_fingerprint *fp);

/* True for Chromaprint's compressed text: URL-safe base64, no padding. */
bool an_fingerprint_text_valid(const char *s, size_t len);

#endif
