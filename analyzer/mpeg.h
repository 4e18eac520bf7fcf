/* analyzer/mpeg.h — what an MP3's first frame declares, read from the
 * bytes by our own code: the Xing/Info or VBRI tag's frame and byte
 * counts, and the LAME tag's encoder delay, padding and lowpass.
 *
 * Why: an MPEG audio stream has no length field of its own, so a file cut
 * short decodes to fewer frames and nothing says any were lost. LAME and
 * ffmpeg (libmp3lame) write an Info (CBR) or Xing (VBR) frame in front of
 * the audio, Fraunhofer encoders a VBRI frame; these count the frames that
 * follow. A file without one makes no claim (frames_declared null).
 *
 * Pure parsing over bounded reads through riff.h's reader: at most
 * MPEG_MAX_ID3 ID3v2 tags are skipped, the tag frame must start right
 * after them, every field read lies inside that frame, nothing is
 * allocated.
 */
#ifndef SANDRUN_ANALYZER_MPEG_H
#define SANDRUN_ANALYZER_MPEG_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/riff.h"

#define MPEG_MAX_ID3 4
/* Layer III's synthesis delay, in samples, which mpg123 and FFmpeg drop
 * from the start of the output */
#define MPEG_DECODER_DELAY 529

struct an_mpeg_decl {
	char tag[5];             /* "Xing", "Info" or "VBRI" */
	unsigned version;        /* 1, 2 or 25 (MPEG-2.5) */
	unsigned layer;          /* 1, 2 or 3 */
	uint32_t sample_rate;
	unsigned channels;
	unsigned samples_per_frame;
	uint64_t tag_offset;     /* where the tag's frame starts (after ID3v2) */
	unsigned tag_frame_bytes;
	uint32_t frames;         /* audio frames after the tag frame; 0: not given */
	uint32_t bytes;          /* the stream's bytes, tag frame included; 0: not given */
	bool lame;               /* a LAME tag follows the Xing/Info fields */
	unsigned delay, padding; /* LAME: samples of encoder delay and end padding */
	unsigned lowpass_hz;     /* LAME: its lowpass, 100 Hz steps; 0: not given */
	int64_t samples;         /* Layer III: the decoded length it declares,
				  * frames * samples_per_frame minus the LAME
				  * tag's delay and padding (without one, minus
				  * MPEG_DECODER_DELAY); -1 without a frame count,
				  * and for VBRI (mpeg.c says why) */
};

/* 0 and *out filled when the first frame (after ID3v2 tags) carries a
 * Xing, Info or VBRI tag; -1 otherwise. */
int an_mpeg_parse(an_riff_read_fn read, void *ctx, struct an_mpeg_decl *out);
int an_mpeg_parse_input(const struct an_input *in, struct an_mpeg_decl *out);

#endif
