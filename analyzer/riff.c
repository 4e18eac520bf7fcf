/* analyzer/riff.c — see riff.h. */
#include "analyzer/riff.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/input.h"

static uint32_t u32(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static unsigned u16(const uint8_t *p, int be)
{
	return be ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint64_t u64le(const uint8_t *p)
{
	return (uint64_t)u32(p + 4, 0) << 32 | u32(p, 0);
}

/* Tags whose frames are whole blocks of block_align bytes. */
static int pcm_like(unsigned tag)
{
	return tag == 1 || tag == 3 || tag == 6 || tag == 7 || tag == 0xFFFE;
}

int an_riff_parse(an_riff_read_fn read, void *ctx, struct an_riff_decl *out)
{
	uint8_t h[12], c[8], body[28];
	int be, rf64, have_fmt = 0;
	uint64_t ds64_data = 0;

	memset(out, 0, sizeof(*out));
	out->frames = -1;
	if (read(ctx, 0, h, sizeof(h)) != sizeof(h) || memcmp(h + 8, "WAVE", 4) != 0)
		return -1;
	be = memcmp(h, "RIFX", 4) == 0;
	rf64 = memcmp(h, "RF64", 4) == 0 || memcmp(h, "BW64", 4) == 0;
	if (!be && !rf64 && memcmp(h, "RIFF", 4) != 0)
		return -1;
	uint64_t off = 12;
	for (int i = 0; i < RIFF_MAX_CHUNKS; i++) {
		if (read(ctx, off, c, sizeof(c)) != sizeof(c))
			return -1;
		uint64_t size = u32(c + 4, be);
		if (memcmp(c, "ds64", 4) == 0 && rf64) {
			if (size < 16 || read(ctx, off + 8, body, 16) != 16)
				return -1;
			ds64_data = u64le(body + 8);
		} else if (memcmp(c, "fmt ", 4) == 0) {
			if (size < 16 || read(ctx, off + 8, body, 16) != 16)
				return -1;
			out->format_tag = u16(body, be);
			out->channels = u16(body + 2, be);
			out->sample_rate = u32(body + 4, be);
			out->block_align = u16(body + 12, be);
			have_fmt = 1;
		} else if (memcmp(c, "data", 4) == 0) {
			if (!have_fmt)
				return -1;
			if (rf64 && size == 0xFFFFFFFFu)
				size = ds64_data;
			else if (size == 0 || size == 0xFFFFFFFFu)
				return -1; /* written before the length was known */
			out->data_bytes = size;
			if (pcm_like(out->format_tag) && out->block_align > 0)
				out->frames = (int64_t)(size / out->block_align);
			return 0;
		}
		/* next chunk: 8 + size, padded to even; no wrap-around */
		uint64_t step = 8 + size + (size & 1);
		if (off > UINT64_MAX - step)
			return -1;
		off += step;
	}
	return -1;
}

size_t an_riff_read_input(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct an_input *in = ctx;
	const uint8_t *base = NULL;
	uint64_t have = 0;

	switch (in->kind) {
	case AN_INPUT_MEMORY:
		base = in->mem;
		have = in->length > 0 ? (uint64_t)in->length : 0;
		break;
	case AN_INPUT_STREAM:
		base = in->head;
		have = in->head_len;
		break;
	case AN_INPUT_FILE: {
		if (off > (uint64_t)INT64_MAX - len)
			return 0;
		size_t got = 0;
		while (got < len) {
			ssize_t n = pread(in->fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		return got;
	}
	}
	if (!base || off >= have)
		return 0;
	size_t n = have - off < len ? (size_t)(have - off) : len;
	memcpy(buf, base + off, n);
	return n;
}

int an_riff_parse_input(const struct an_input *in, struct an_riff_decl *out)
{
	return an_riff_parse(an_riff_read_input, (void *)in, out);
}
