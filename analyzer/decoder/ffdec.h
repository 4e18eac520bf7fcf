/* analyzer/decoder/ffdec.h — the FFmpeg part of sandrun-decode: one
 * container the caller names (never probed), read through our own I/O
 * callbacks, one audio stream decoded to interleaved float.
 *
 * As little of FFmpeg as possible runs: the demuxer is chosen by name from
 * FFDEC_FORMATS (format_whitelist says the same), decoders only from
 * FFDEC_CODECS (codec_whitelist, on the container and on the codec), no
 * protocol at all (protocol_whitelist empty, and io_open refuses: a
 * QuickTime reference to another file opens nothing), one thread, every
 * other stream discarded before its packets are read.
 */
#ifndef SANDRUN_ANALYZER_DECODER_FFDEC_H
#define SANDRUN_ANALYZER_DECODER_FFDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/pcm.h"

#define FFDEC_FORMATS "mov,matroska,asf,ac3,eac3,caf,mp3"
#define FFDEC_CODECS                                                                        \
	"aac,alac,opus,vorbis,flac,mp3float,mp2float,ac3,eac3,wmav1,wmav2,wmapro,"            \
	"pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le,pcm_s32be,pcm_f32le,pcm_f32be,"   \
	"pcm_f64le,pcm_f64be,pcm_u8,pcm_s8,pcm_alaw,pcm_mulaw"

/* Where the bytes come from: head[0..head_len) first, then fd (if >= 0).
 * seekable: fd is a regular file read with pread at the same offsets
 * (head_len is then 0); otherwise fd is read forward-only and seeks work
 * only within the head or to where the stream is. */
struct ffdec_source {
	const uint8_t *head;
	size_t head_len;
	int fd;
	bool seekable;
	int64_t size;            /* seekable: the file's size */
};

struct ffdec_sink {
	void *u;
	int (*header)(void *u, const struct an_pcm_header *h);           /* < 0 stops */
	int (*data)(void *u, const float *samples, size_t frames);         /* < 0 stops */
	void (*log)(void *u, const char *line);
};

/* Decode the whole input. end->ok says whether a stream was opened and
 * decoded (damage in end->error / decode_errors), else end->error_class
 * and end->error say why not. */
void ffdec_run(const char *demuxer, const struct ffdec_source *src, const struct ffdec_sink *sink,
	       struct an_pcm_end *end);

#endif
