/* analyzer/decode.h — from an input source to a finished report: open it
 * with libsndfile (virtual I/O), stream it in fixed-size blocks through
 * the analysis, and collect whatever the decoder reported on the way.
 */
#ifndef SANDRUN_ANALYZER_DECODE_H
#define SANDRUN_ANALYZER_DECODE_H

#include <stddef.h>

#include "analyzer/input.h"
#include "analyzer/report.h"
#include "analyzer/sniff.h"

struct an_fallback;

/* Samples per decode block, whatever the channel count: with 1024
 * channels (libsndfile's ceiling) that is 16 frames, with 2 it is 8192.
 * Memory per block is therefore fixed, 64 KiB of floats. */
#define AN_BLOCK_SAMPLES 16384

enum an_status {
	AN_STATUS_OK = 0,
	AN_STATUS_BAD_INPUT,   /* neither decoder took it: error text and class set */
	AN_STATUS_FAILED,      /* our side failed (out of memory) */
};

struct an_outcome {
	enum an_status status;
	struct an_report report;            /* AN_STATUS_OK */
	char error[AN_ERROR_TEXT_MAX];      /* AN_STATUS_BAD_INPUT, AN_STATUS_FAILED */
	enum an_error_class error_class;    /* AN_STATUS_BAD_INPUT */
	int io_errno;                       /* AN_STATUS_BAD_INPUT: a read failed */
};

/* Never returns with memory held except out->report.ch; release it with
 * an_outcome_free(). fb: the FFmpeg fallback's spare (fallback.h), or NULL;
 * it is used when libsndfile refuses the input and the input's magic names
 * a container the fallback reads, and cancelled otherwise. */
void an_decode(struct an_input *in, struct an_fallback *fb, const struct an_tap *tap,
	       struct an_outcome *out);
void an_outcome_free(struct an_outcome *out);

/* The whole path from source to JSON text (report or error object), as
 * the program and the fuzz target both use it. Returns the status;
 * j holds the text unless it failed with -ENOMEM (then AN_STATUS_FAILED). */
enum an_status an_analyze_to_json(struct an_input *in, struct an_json *j);
/* tap: a consumer of the decoded samples (the fingerprint, the spectral
 * summary), or NULL. why (may be NULL): the error text of a bad input or a
 * failure, for the program's stderr line; "" when analyzed. */
enum an_status an_analyze_with_fallback(struct an_input *in, struct an_fallback *fb,
					const struct an_tap *tap, struct an_json *j,
					char *why, size_t why_len);

/* A finished analysis into the report's feature fields (both decoders). */
void an_decode_collect(struct an_report *r, const struct an_analysis *a);

#endif
