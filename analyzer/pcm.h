/* analyzer/pcm.h — the two pipes between sandrun-analyze and its FFmpeg
 * fallback, sandrun-decode (analyzer/fallback.c, analyzer/decoder/).
 * Both ends are the same build on the same machine: native byte order.
 *
 * Hand-over, on fd 3 of the decoder (analyzer → decoder), once:
 *   struct an_pcm_handover, then head_len bytes: the part of a pipe the
 *   analyzer already read (0 for a regular file, which the decoder reads
 *   from offset 0 itself with pread).
 *
 * PCM, on fd 1 of the decoder (decoder → analyzer): records of
 * struct an_pcm_rec { tag, len } followed by len bytes:
 *   'H' struct an_pcm_header   once, before any 'D'
 *   'D' float samples          interleaved, a whole number of frames,
 *                              at most AN_PCM_MAX_DATA bytes
 *   'L' text                   one line of the decoder's log (damage)
 *   'E' struct an_pcm_end      last: decoded to the end, or why not
 * The analyzer checks every length and field; a decoder that breaks the
 * protocol (or dies) is a failure, never a report.
 */
#ifndef SANDRUN_ANALYZER_PCM_H
#define SANDRUN_ANALYZER_PCM_H

#include <stdint.h>

#define AN_PCM_MAGIC 0x314d435052535253ull /* "SRSRPCM1" */
#define AN_PCM_MAX_DATA (1u << 20)
#define AN_PCM_MAX_CHANNELS 1024
#define AN_PCM_MAX_RATE 3000000
#define AN_PCM_TEXT 256
#define AN_PCM_CTL_FD 3

enum an_pcm_input { AN_PCM_FILE = 1, AN_PCM_STREAM = 2, AN_PCM_MEMORY = 3 };

struct an_pcm_handover {
	uint64_t magic;
	uint32_t kind;          /* enum an_pcm_input */
	uint32_t reserved;
	uint64_t head_len;      /* bytes that follow (at most 8 MiB + 1 block) */
};

enum an_pcm_tag { AN_PCM_HEADER = 'H', AN_PCM_DATA = 'D', AN_PCM_LOG = 'L', AN_PCM_END = 'E' };

struct an_pcm_rec {
	uint32_t tag;
	uint32_t len;
};

struct an_pcm_header {
	uint32_t sample_rate;
	uint32_t channels;
	char container[16];      /* short id, as the report's format.container */
	char container_name[64];
	char codec[32];
	char codec_name[64];
	uint8_t roles[64];       /* enum an_chan_role of the first 64 channels,
				  * AN_CH_UNKNOWN where FFmpeg knows none */
};

struct an_pcm_end {
	int32_t ok;              /* 1: opened and decoded (maybe with damage) */
	int32_t error_class;     /* enum an_error_class when ok is 0 */
	uint64_t decode_errors;  /* packets the codec refused */
	char error[AN_PCM_TEXT]; /* ok 0: why; ok 1: the first decoding error, or "" */
};

/* The fingerprint pipes (analyzer/fingerprint.c -> sandrun-decode
 * --fingerprint, analyzer/decoder/fingerprint.c):
 *   fd 0 of the helper: struct an_fp_header, then int16 samples,
 *        interleaved, native order, whole frames, until end of file;
 *   fd 1 of the helper: the compressed fingerprint (Chromaprint's
 *        URL-safe base64 text), then end of file. Nothing on failure
 *        (a message on fd 2 and a non-zero exit status). */
#define AN_FP_MAGIC 0x3150465352535253ull /* "SRSRSFP1" */
#define AN_FP_MAX_TEXT (64u << 10)

struct an_fp_header {
	uint64_t magic;
	uint32_t sample_rate;
	uint32_t channels;
};

#endif
