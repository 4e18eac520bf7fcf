/* analyzer/sniff.c — see sniff.h. */
#include "analyzer/sniff.h"

#include <stdbool.h>
#include <string.h>

struct magic {
	size_t off;
	const char *bytes;
	size_t len;
	enum an_sniff_kind kind;
	const char *name;
	const char *demuxer;
};

#define M(off, s, kind, name, dmx) { off, s, sizeof(s) - 1, kind, name, dmx }

/* First match wins: more specific entries come first. */
static const struct magic magics[] = {
	/* libsndfile's containers (CAF: the fallback may take it over; MPEG:
	 * it decodes what mpg123 gave up on, decode.c) */
	M(8, "WAVE", AN_SNIFF_SNDFILE, "WAV", NULL), /* checked with RIFF below */
	M(0, "RIFX", AN_SNIFF_SNDFILE, "WAV", NULL),
	M(0, "RF64", AN_SNIFF_SNDFILE, "RF64", NULL),
	M(0, "BW64", AN_SNIFF_SNDFILE, "RF64", NULL),
	M(0, "riff\x2e\x91\xcf\x11", AN_SNIFF_SNDFILE, "W64", NULL),
	M(0, "fLaC", AN_SNIFF_SNDFILE, "FLAC", NULL),
	M(0, "OggS", AN_SNIFF_SNDFILE, "Ogg", NULL),
	M(0, "caff", AN_SNIFF_SNDFILE, "CAF", "caf"),
	M(0, ".snd", AN_SNIFF_SNDFILE, "AU", NULL),
	M(0, "dns.", AN_SNIFF_SNDFILE, "AU", NULL),
	M(0, "ID3", AN_SNIFF_SNDFILE, "MPEG audio", "mp3"),
	M(0, "NIST_1A", AN_SNIFF_SNDFILE, "NIST SPHERE", NULL),
	M(0, "Creative Voice File", AN_SNIFF_SNDFILE, "VOC", NULL),
	M(0, "2BIT", AN_SNIFF_SNDFILE, "AVR", NULL),
	/* only the FFmpeg fallback's */
	M(4, "ftyp", AN_SNIFF_FFMPEG, "MP4/QuickTime", "mov"),
	M(4, "moov", AN_SNIFF_FFMPEG, "MP4/QuickTime", "mov"),
	M(4, "mdat", AN_SNIFF_FFMPEG, "MP4/QuickTime", "mov"),
	M(4, "wide", AN_SNIFF_FFMPEG, "MP4/QuickTime", "mov"),
	M(4, "free", AN_SNIFF_FFMPEG, "MP4/QuickTime", "mov"),
	M(0, "\x1a\x45\xdf\xa3", AN_SNIFF_FFMPEG, "Matroska/WebM", "matroska"),
	M(0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c", AN_SNIFF_FFMPEG,
	  "ASF (WMA/WMV)", "asf"),
	/* media neither decoder reads */
	M(8, "AVI ", AN_SNIFF_OTHER_MEDIA, "AVI video", NULL),
	M(0, "MThd", AN_SNIFF_OTHER_MEDIA, "MIDI", NULL),
	M(0, "wvpk", AN_SNIFF_OTHER_MEDIA, "WavPack", NULL),
	M(0, "MAC ", AN_SNIFF_OTHER_MEDIA, "Monkey's Audio", NULL),
	M(0, "MPCK", AN_SNIFF_OTHER_MEDIA, "Musepack", NULL),
	M(0, "TTA1", AN_SNIFF_OTHER_MEDIA, "TTA", NULL),
	M(0, "DSD ", AN_SNIFF_OTHER_MEDIA, "DSF", NULL),
	M(0, "FRM8", AN_SNIFF_OTHER_MEDIA, "DSDIFF", NULL),
	M(0, "FLV\x01", AN_SNIFF_OTHER_MEDIA, "Flash video", NULL),
	M(0, "\x00\x00\x01\xba", AN_SNIFF_OTHER_MEDIA, "MPEG program stream", NULL),
	/* not media */
	M(0, "\x89PNG\r\n\x1a\n", AN_SNIFF_NOT_MEDIA, "PNG image", NULL),
	M(0, "\xff\xd8\xff", AN_SNIFF_NOT_MEDIA, "JPEG image", NULL),
	M(0, "GIF87a", AN_SNIFF_NOT_MEDIA, "GIF image", NULL),
	M(0, "GIF89a", AN_SNIFF_NOT_MEDIA, "GIF image", NULL),
	M(8, "WEBP", AN_SNIFF_NOT_MEDIA, "WebP image", NULL),
	M(0, "II*\x00", AN_SNIFF_NOT_MEDIA, "TIFF image", NULL),
	M(0, "MM\x00*", AN_SNIFF_NOT_MEDIA, "TIFF image", NULL),
	M(0, "%PDF", AN_SNIFF_NOT_MEDIA, "PDF document", NULL),
	M(0, "PK\x03\x04", AN_SNIFF_NOT_MEDIA, "ZIP archive", NULL),
	M(0, "\x1f\x8b", AN_SNIFF_NOT_MEDIA, "gzip archive", NULL),
	M(0, "BZh", AN_SNIFF_NOT_MEDIA, "bzip2 archive", NULL),
	M(0, "\xfd" "7zXZ\x00", AN_SNIFF_NOT_MEDIA, "xz archive", NULL),
	M(0, "7z\xbc\xaf\x27\x1c", AN_SNIFF_NOT_MEDIA, "7-Zip archive", NULL),
	M(0, "\x28\xb5\x2f\xfd", AN_SNIFF_NOT_MEDIA, "zstd archive", NULL),
	M(0, "\x7f" "ELF", AN_SNIFF_NOT_MEDIA, "ELF program", NULL),
	M(0, "SQLite format 3", AN_SNIFF_NOT_MEDIA, "SQLite database", NULL),
	M(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", AN_SNIFF_NOT_MEDIA, "MS Office document", NULL),
};

static bool at(const uint8_t *b, size_t n, size_t off, const char *s, size_t len)
{
	return off + len <= n && memcmp(b + off, s, len) == 0;
}

/* UTF-8 (or ASCII) without control characters other than whitespace: what
 * a text file, a script, HTML, JSON or XML looks like. A cut multi-byte
 * character at the end of the sample is allowed. */
static bool looks_like_text(const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = b[i];
		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
				return false;
			if (c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
		if (len == 0 || (c >= 0xf5))
			return false;
		for (size_t k = 1; k < len; k++) {
			if (i + k >= n)
				return true;
			if ((b[i + k] & 0xc0) != 0x80)
				return false;
		}
		i += len;
	}
	return true;
}

void an_sniff_bytes(const uint8_t *b, size_t n, struct an_sniff *out)
{
	*out = (struct an_sniff){ .kind = AN_SNIFF_UNKNOWN, .name = "" };
	if (n == 0) {
		*out = (struct an_sniff){ .kind = AN_SNIFF_EMPTY, .name = "empty file" };
		return;
	}
	if (n > AN_SNIFF_BYTES)
		n = AN_SNIFF_BYTES;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		const struct magic *m = &magics[i];
		if (!at(b, n, m->off, m->bytes, m->len))
			continue;
		/* the entries at offset 8 are RIFF forms */
		if (m->off == 8 && !at(b, n, 0, "RIFF", 4))
			continue;
		*out = (struct an_sniff){ .kind = m->kind, .name = m->name, .demuxer = m->demuxer };
		return;
	}
	/* AIFF and AIFF-C, IFF 8SVX: FORM, a length, the form type */
	if (at(b, n, 0, "FORM", 4) && (at(b, n, 8, "AIFF", 4) || at(b, n, 8, "AIFC", 4) ||
				       at(b, n, 8, "8SVX", 4))) {
		*out = (struct an_sniff){ .kind = AN_SNIFF_SNDFILE, .name = "AIFF" };
		return;
	}
	/* MPEG audio frame sync: 11 bits set, a valid layer and bitrate */
	if (n >= 3 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0 && (b[1] & 0x06) != 0 &&
	    (b[2] & 0xf0) != 0xf0) {
		*out = (struct an_sniff){ .kind = AN_SNIFF_SNDFILE, .name = "MPEG audio", .demuxer = "mp3" };
		return;
	}
	/* AC-3 and E-AC-3 sync word; bsid (the top 5 bits of byte 5) says which */
	if (n >= 6 && b[0] == 0x0b && b[1] == 0x77) {
		unsigned bsid = b[5] >> 3;
		if (bsid <= 10)
			*out = (struct an_sniff){ .kind = AN_SNIFF_FFMPEG, .name = "AC-3", .demuxer = "ac3" };
		else if (bsid <= 16)
			*out = (struct an_sniff){ .kind = AN_SNIFF_FFMPEG, .name = "E-AC-3", .demuxer = "eac3" };
		return;
	}
	if (looks_like_text(b, n))
		*out = (struct an_sniff){ .kind = AN_SNIFF_NOT_MEDIA, .name = "text" };
}

const char *an_error_class_id(enum an_error_class c)
{
	switch (c) {
	case AN_ERR_NOT_MEDIA: return "not_media";
	case AN_ERR_UNRECOGNISED: return "unrecognised";
	case AN_ERR_UNSUPPORTED: return "unsupported";
	case AN_ERR_NO_AUDIO: return "no_audio";
	case AN_ERR_CORRUPT: return "corrupt";
	case AN_ERR_READ: return "read_error";
	}
	return "unrecognised";
}
