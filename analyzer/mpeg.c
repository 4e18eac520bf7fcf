/* analyzer/mpeg.c — see mpeg.h. */
#include "analyzer/mpeg.h"

#include <string.h>

/* Enough for the header, the largest side info (32), a VBRI tag (26) or
 * the Xing fields (120) and a LAME tag (24). */
#define TAG_READ 192

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ID3v2's sizes are "syncsafe": 7 bits a byte, the top bit clear. */
static int syncsafe(const uint8_t *p, uint32_t *out)
{
	if ((p[0] | p[1] | p[2] | p[3]) & 0x80)
		return -1;
	*out = (uint32_t)p[0] << 21 | (uint32_t)p[1] << 14 | (uint32_t)p[2] << 7 | p[3];
	return 0;
}

/* Past any ID3v2 tags at the start: the offset of what follows, or -1. */
static int skip_id3v2(an_riff_read_fn read, void *ctx, uint64_t *off)
{
	uint8_t h[10];

	*off = 0;
	for (int i = 0; i < MPEG_MAX_ID3; i++) {
		uint32_t size;
		if (read(ctx, *off, h, sizeof(h)) != sizeof(h))
			return -1;
		if (memcmp(h, "ID3", 3) != 0)
			return 0;
		if (h[3] == 0xFF || h[4] == 0xFF || syncsafe(h + 6, &size) < 0)
			return -1;
		*off += 10 + (uint64_t)size + ((h[5] & 0x10) ? 10 : 0);
	}
	return -1;
}

static const uint16_t bitrate_kbps[2][3][16] = {
	{ /* MPEG-1: layer I, II, III */
		{ 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0 },
		{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0 },
		{ 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0 },
	},
	{ /* MPEG-2 and 2.5 */
		{ 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0 },
		{ 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0 },
		{ 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0 },
	},
};
static const uint32_t rate_hz[3] = { 44100, 48000, 32000 };

/* A frame header at h: its fields into d, and its length in bytes;
 * 0 when it is not a usable header (free format included: no length). */
static unsigned frame_header(const uint8_t *h, struct an_mpeg_decl *d)
{
	unsigned version = (h[1] >> 3) & 3; /* 0: 2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1 */
	unsigned layer_bits = (h[1] >> 1) & 3;
	unsigned br = h[2] >> 4, sr = (h[2] >> 2) & 3, pad = (h[2] >> 1) & 1;

	if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0 || version == 1 || layer_bits == 0 || br == 0 ||
	    br == 15 || sr == 3)
		return 0;
	bool mpeg1 = version == 3;
	d->version = mpeg1 ? 1 : version == 2 ? 2 : 25;
	d->layer = 4 - layer_bits;
	d->sample_rate = rate_hz[sr] >> (version == 3 ? 0 : version == 2 ? 1 : 2);
	d->channels = (h[3] >> 6) == 3 ? 1 : 2;
	uint32_t bps = bitrate_kbps[mpeg1 ? 0 : 1][d->layer - 1][br] * 1000u;
	if (d->layer == 1) {
		d->samples_per_frame = 384;
		return (12 * bps / d->sample_rate + pad) * 4;
	}
	d->samples_per_frame = d->layer == 3 && !mpeg1 ? 576 : 1152;
	return d->samples_per_frame / 8 * bps / d->sample_rate + pad;
}

/* The LAME tag after the Xing/Info fields at p (avail bytes left in the
 * frame): its encoder name, lowpass, and delay/padding (12 bits each). */
static void lame_tag(const uint8_t *p, size_t avail, struct an_mpeg_decl *d)
{
	if (avail < 24 || (memcmp(p, "LAME", 4) != 0 && memcmp(p, "Lavc", 4) != 0 &&
			   memcmp(p, "Lavf", 4) != 0))
		return;
	d->lame = true;
	d->lowpass_hz = p[10] * 100u;
	d->delay = (unsigned)p[21] << 4 | p[22] >> 4;
	d->padding = (unsigned)(p[22] & 0x0F) << 8 | p[23];
}

static int xing(const uint8_t *f, size_t flen, size_t at, struct an_mpeg_decl *d)
{
	if (at + 8 > flen || (memcmp(f + at, "Xing", 4) != 0 && memcmp(f + at, "Info", 4) != 0))
		return -1;
	memcpy(d->tag, f + at, 4);
	uint32_t flags = be32(f + at + 4);
	size_t pos = at + 8;
	if (flags & 1) {
		if (pos + 4 > flen)
			return -1;
		d->frames = be32(f + pos);
		pos += 4;
	}
	if (flags & 2) {
		if (pos + 4 > flen)
			return -1;
		d->bytes = be32(f + pos);
		pos += 4;
	}
	pos += (flags & 4) ? 100 : 0;
	pos += (flags & 8) ? 4 : 0;
	if (pos <= flen)
		lame_tag(f + pos, flen - pos, d);
	return 0;
}

/* VBRI (Fraunhofer): always 32 bytes after the header; version, delay,
 * quality, then the byte and frame counts. */
static int vbri(const uint8_t *f, size_t flen, struct an_mpeg_decl *d)
{
	const size_t at = 36;

	if (at + 18 > flen || memcmp(f + at, "VBRI", 4) != 0)
		return -1;
	memcpy(d->tag, "VBRI", 4);
	d->bytes = be32(f + at + 10);
	d->frames = be32(f + at + 14);
	return 0;
}

int an_mpeg_parse(an_riff_read_fn read, void *ctx, struct an_mpeg_decl *out)
{
	uint8_t f[TAG_READ];
	uint64_t off;

	memset(out, 0, sizeof(*out));
	out->samples = -1;
	if (skip_id3v2(read, ctx, &off) < 0)
		return -1;
	size_t got = read(ctx, off, f, sizeof(f));
	if (got < 4)
		return -1;
	unsigned flen = frame_header(f, out);
	if (flen < 4)
		return -1;
	out->tag_offset = off;
	out->tag_frame_bytes = flen;
	/* Every field read below lies inside this frame and what was read. */
	size_t avail = flen < got ? flen : got;
	size_t side = out->layer != 3 ? 0 : out->version == 1 ? (out->channels == 1 ? 17 : 32) : (out->channels == 1 ? 9 : 17);
	size_t at = 4 + side + ((f[1] & 1) ? 0 : 2); /* a CRC follows the header when the bit is clear */
	if (xing(f, avail, at, out) < 0 && (at == 4 + side || xing(f, avail, 4 + side, out) < 0) &&
	    vbri(f, avail, out) < 0)
		return -1;
	/* What a decoder puts out: with a LAME tag, what it says to trim
	 * (mpg123 and FFmpeg both honour it: the decoded count equals this
	 * exactly, measured on LAME, sox and ffmpeg files); without one,
	 * Layer III's own decoder delay, which both remove. A VBRI tag's
	 * count is not turned into a length: no encoder here writes one, so
	 * how mpg123 trims such a file was not measured; its byte count
	 * still serves (decode.c). */
	if (out->frames > 0 && out->layer == 3 && memcmp(out->tag, "VBRI", 4) != 0) {
		int64_t all = (int64_t)out->frames * out->samples_per_frame;
		int64_t trim = out->lame ? (int64_t)out->delay + out->padding : MPEG_DECODER_DELAY;
		out->samples = trim < all ? all - trim : -1;
	}
	return 0;
}

int an_mpeg_parse_input(const struct an_input *in, struct an_mpeg_decl *out)
{
	return an_mpeg_parse(an_riff_read_input, (void *)in, out);
}
