/* analyzer/decoder/fingerprint.c — see fingerprint.h. */
#include "analyzer/decoder/fingerprint.h"

#include <chromaprint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/fdio.h"
#include "analyzer/pcm.h"

#define CHUNK_SAMPLES 16384

/* read() until len bytes or end of file; the count, or -1. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int feed_all(ChromaprintContext *ctx, unsigned channels)
{
	int16_t *buf = malloc(CHUNK_SAMPLES * sizeof(int16_t));
	size_t frame_bytes = channels * sizeof(int16_t);
	int rc = 0;

	if (!buf)
		return 70;
	for (;;) {
		/* whole frames: CHUNK_SAMPLES rounded down to the channel count */
		size_t want = CHUNK_SAMPLES / channels * frame_bytes;
		ssize_t n = read_some(STDIN_FILENO, buf, want);
		if (n < 0 || (size_t)n % frame_bytes) {
			fprintf(stderr, "sandrun-decode: fingerprint: %s\n",
				n < 0 ? strerror(errno) : "a partial frame");
			rc = 2;
			break;
		}
		if (n > 0 && !chromaprint_feed(ctx, buf, (int)((size_t)n / sizeof(int16_t)))) {
			fprintf(stderr, "sandrun-decode: fingerprint: chromaprint_feed failed\n");
			rc = 65;
			break;
		}
		if ((size_t)n < want)
			break;
	}
	free(buf);
	return rc;
}

int fp_main(void)
{
	struct an_fp_header h;
	char *text = NULL;
	uint32_t *raw = NULL;
	int items = 0;

	int got = an_read_exact(STDIN_FILENO, &h, sizeof(h));
	if (got == 0)
		return 0; /* nothing decoded (bad input): nothing to say */
	if (got != 1 || h.magic != AN_FP_MAGIC ||
	    h.channels < 1 || h.channels > AN_PCM_MAX_CHANNELS || h.sample_rate < 1 ||
	    h.sample_rate > AN_PCM_MAX_RATE) {
		fprintf(stderr, "sandrun-decode: fingerprint: bad header on fd 0\n");
		return 2;
	}
	ChromaprintContext *ctx = chromaprint_new(CHROMAPRINT_ALGORITHM_DEFAULT);
	if (!ctx)
		return 70;
	int rc = 65;
	if (!chromaprint_start(ctx, (int)h.sample_rate, (int)h.channels)) {
		fprintf(stderr, "sandrun-decode: fingerprint: chromaprint_start refused %u Hz, %u channels\n",
			h.sample_rate, h.channels);
	} else if ((rc = feed_all(ctx, h.channels)) == 0) {
		rc = 65;
		if (!chromaprint_finish(ctx) || !chromaprint_get_raw_fingerprint(ctx, &raw, &items) ||
		    !chromaprint_get_fingerprint(ctx, &text) || !text)
			fprintf(stderr, "sandrun-decode: fingerprint: Chromaprint gave none\n");
		else if (items == 0)
			rc = 66; /* shorter than one fingerprint item (about 3 s) */
		else
			rc = an_write_all(STDOUT_FILENO, text, strlen(text)) < 0 ? 74 : 0;
	}
	chromaprint_dealloc(raw);
	chromaprint_dealloc(text);
	chromaprint_free(ctx);
	return rc;
}
