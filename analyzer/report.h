/* analyzer/report.h — the one JSON object sandrun-analyze prints, and the
 * plain data it is made from. The schema is documented field by field in
 * docs/analyzer.md; AN_SCHEMA_VERSION changes whenever a field changes
 * meaning or goes away (new fields do not bump it).
 */
#ifndef SANDRUN_ANALYZER_REPORT_H
#define SANDRUN_ANALYZER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/analysis.h"
#include "analyzer/fingerprint.h"
#include "analyzer/json.h"
#include "analyzer/layout.h"
#include "analyzer/spectral.h"

#define AN_SCHEMA_VERSION 1
#define AN_LOG_MAX_LINES 16
#define AN_LOG_LINE_MAX 160
#define AN_ERROR_TEXT_MAX 256

struct an_report {
	/* container and signal */
	const char *container;       /* short id: "wav", "flac", "ogg", ... */
	const char *container_name;  /* libsndfile's name for it */
	const char *codec;           /* short id: "pcm_16", "vorbis", ... */
	const char *codec_name;
	uint32_t sample_rate;
	unsigned channels;
	uint64_t frames;             /* decoded */
	int64_t frames_declared;     /* from the header, -1 when unknown */
	uint8_t roles[AN_LAYOUT_MAX]; /* enum an_chan_role per channel */
	const char *layout_source;   /* where roles come from; NULL: unknown */

	/* features; file[] is the whole file, ch[] one per channel */
	struct an_channel_result file;
	struct an_channel_result *ch;
	float clip_threshold;
	uint64_t silence_windows;
	struct an_silence silence;   /* segments, in frames of sample_rate */
	double silence_window_s;
	double centroid_hz;
	uint64_t fft_frames, fft_frames_used;
	double integrated_lufs, range_lu;
	double momentary_max_lufs, short_term_max_lufs;
	bool stereo;                 /* two channels: the fields below are set */
	struct an_stereo_result stereo_result;
	int dead_channel;            /* -1: none */
	struct an_transcode_result transcode;
	int container_bits;          /* of integer PCM, 0: not integer PCM or unknown */
	struct an_fingerprint_result fingerprint; /* asked: --fingerprint */
	bool spectral_asked, spectral_done;       /* --spectral */
	struct an_spectral_result spectral;
	const char *loudness_skipped;
	char audio_sha256[AN_SHA256_HEX];
	char input_sha256[AN_SHA256_HEX]; /* "" when the bytes could not all be read */
	uint64_t input_bytes;

	/* damage: the file is not what it says it is, or not all of it
	 * decodes (an_report_damaged) */
	bool truncated;              /* fewer frames than declared, or a file
				      * shorter than its header says */
	bool stopped_early;          /* libsndfile gave up before the stream's
				      * end (MPEG: mpg123's resync gave up) */
	const char *recovered_by;    /* "ffmpeg" when the FFmpeg fallback decoded
				      * it again, further; NULL otherwise */
	uint64_t frames_recovered;   /* frames it decoded beyond libsndfile's */
	unsigned implausible;        /* AN_IMPLAUSIBLE_* bits */
	uint64_t non_finite_samples;
	char decoder_error[AN_ERROR_TEXT_MAX]; /* "" when none */
	int io_errno;
	uint64_t io_errors;
	uint64_t failed_seeks;
	unsigned log_lines;
	char log[AN_LOG_MAX_LINES][AN_LOG_LINE_MAX];
	bool log_is_damage[AN_LOG_MAX_LINES]; /* else a warning line */

	/* warnings: cosmetic, the measurements stand (AN_WARN_* bits) */
	unsigned warnings;
};

/* Parameters no real recording has: the measurements built on them
 * (duration, loudness, spectrum) mean nothing. Bounds in report.c and
 * docs/analyzer.md. */
enum {
	AN_IMPLAUSIBLE_SAMPLE_RATE = 1u << 0,
	AN_IMPLAUSIBLE_CHANNELS = 1u << 1,
};
#define AN_PLAUSIBLE_RATE_MIN 1000u
#define AN_PLAUSIBLE_RATE_MAX 768000u
#define AN_PLAUSIBLE_CHANNELS_MAX 256u

enum {
	AN_WARN_HEADER_INCONSISTENT = 1u << 0, /* a header field disagrees with the data (byte rate, sizes past the data) */
	AN_WARN_DECODER_WARNING = 1u << 1,     /* the decoder logged a warning */
	AN_WARN_OVER_FULL_SCALE = 1u << 2,     /* samples beyond full scale */
};

/* Sets r->implausible from r->sample_rate and r->channels. */
void an_report_check_plausible(struct an_report *r);

/* True when anything in the damage section is set. */
bool an_report_damaged(const struct an_report *r);

/* Keep the lines of libsndfile's parse log that report trouble ("should
 * be", "error", "warning", "unexpected", "truncat", "corrupt",
 * "invalid", a "***" prefix), at most AN_LOG_MAX_LINES of them, each cut
 * to AN_LOG_LINE_MAX - 1 bytes, and sort each into damage or a warning:
 * a size line that says the file is shorter than declared, and the error,
 * truncation, corruption and "unexpected" lines are damage; the other
 * "should be" lines (a byte rate or a block alignment that disagrees, as
 * ffmpeg writes for ADPCM; a size past the data) and warnings are not.
 *
 * stream: the input was read forward-only with its length unknown
 * (input.h). libsndfile was told the length is the largest it accepts,
 * and the lines that only restate that are not damage of the file:
 * "filelength > 0xffffffff", a size that "should be" at least 2^32 - 16,
 * and the short reads of its peeks past the end. */
void an_report_take_log(struct an_report *r, const char *log, bool stream);

/* True when a kept log line says the file is shorter than its container
 * header declares ("data : 960000 (should be 479978)"). */
bool an_report_log_says_truncated(const struct an_report *r);

/* The full report; returns what an_json_finish() returns. */
int an_report_json(const struct an_report *r, struct an_json *j);
/* The bad_input object: {"error": text, "code": class} plus "io_error"
 * when a read failed underneath libsndfile (io_errno > 0). code NULL: no
 * "code" (an internal failure, not a verdict on the input). */
int an_report_error_json(struct an_json *j, const char *error_text, const char *code, int io_errno);

/* Short, stable ids for libsndfile's major format and subtype codes;
 * "unknown" for codes this build does not know. */
const char *an_container_id(int major);
const char *an_codec_id(int subtype);

#endif
