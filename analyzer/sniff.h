/* analyzer/sniff.h — what the first bytes of an input say it is, before any
 * decoder parses it: the magic numbers of the containers libsndfile reads,
 * of those only the FFmpeg fallback (sandrun-decode) reads, of other media
 * neither reads, and of common files that are not media at all (images,
 * documents, archives, programs, text).
 *
 * Used twice: to decide whether the fallback may be offered the file at all
 * (only an allowed container's magic opens that door), and to say in plain
 * words why an input was refused (the error classes below). A memcmp over
 * at most AN_SNIFF_BYTES; nothing here allocates or reads.
 */
#ifndef SANDRUN_ANALYZER_SNIFF_H
#define SANDRUN_ANALYZER_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#define AN_SNIFF_BYTES 64

enum an_sniff_kind {
	AN_SNIFF_UNKNOWN,      /* no signature we know, not text */
	AN_SNIFF_SNDFILE,      /* a container libsndfile reads */
	AN_SNIFF_FFMPEG,       /* a container only the fallback reads */
	AN_SNIFF_OTHER_MEDIA,  /* audio or video neither decoder reads */
	AN_SNIFF_NOT_MEDIA,    /* an image, document, archive, program, text */
	AN_SNIFF_EMPTY,        /* zero bytes */
};

struct an_sniff {
	enum an_sniff_kind kind;
	const char *name;      /* "FLAC", "MP4/QuickTime", "PNG image", ... ("" if unknown) */
	/* The FFmpeg demuxer for the fallback, or NULL: set for AN_SNIFF_FFMPEG
	 * and for the libsndfile containers the fallback may take over when
	 * libsndfile refuses them (CAF: ALAC as ffmpeg writes it) or stops
	 * before their end (MPEG audio: decode.c). */
	const char *demuxer;
};

void an_sniff_bytes(const uint8_t *b, size_t n, struct an_sniff *out);

/* The error classes of the analyzer's bad_input object ("code"): see
 * docs/analyzer.md. */
enum an_error_class {
	AN_ERR_NOT_MEDIA,      /* "not_media": not an audio or video file */
	AN_ERR_UNRECOGNISED,   /* "unrecognised": no signature either decoder knows */
	AN_ERR_UNSUPPORTED,    /* "unsupported": known media, but not decodable here */
	AN_ERR_NO_AUDIO,       /* "no_audio": a container without an audio stream */
	AN_ERR_CORRUPT,        /* "corrupt": a known container its decoder found broken */
	AN_ERR_READ,           /* "read_error": reading the input failed */
};
const char *an_error_class_id(enum an_error_class c);

#endif
