/* analyzer/fuzz/fuzz_decode.c — libFuzzer target for the FFmpeg fallback
 * (sandrun-decode): the input's magic picks the demuxer exactly as the
 * program does (an_sniff_bytes), then ffdec_run() decodes it from memory
 * with the same whitelists, discarding streams the same way.
 *
 * Beyond ASan/UBSan, the records the program would send must be ones the
 * analyzer accepts (pcm.h): one header before any data, channels and rate
 * within bounds, whole frames, a known error class when it fails.
 * A violation aborts.
 *
 * Build: tests/analyzer/build-fuzz.sh OUT_DIR (OUT_DIR/fuzz-decode).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyzer/decoder/ffdec.h"
#include "analyzer/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	bool header;
	unsigned channels;
	uint64_t frames;
};

static void violated(const char *what)
{
	fprintf(stderr, "fuzz_decode: %s\n", what);
	abort();
}

static int on_header(void *u, const struct an_pcm_header *h)
{
	struct seen *s = u;

	if (s->header)
		violated("two headers");
	if (h->channels < 1 || h->channels > AN_PCM_MAX_CHANNELS || h->sample_rate < 1 ||
	    h->sample_rate > AN_PCM_MAX_RATE)
		violated("header out of bounds");
	s->header = true;
	s->channels = h->channels;
	return 0;
}

static int on_data(void *u, const float *samples, size_t frames)
{
	struct seen *s = u;
	volatile float sink = 0;

	if (!s->header)
		violated("data before the header");
	if (frames == 0 || frames * s->channels * sizeof(float) > AN_PCM_MAX_DATA)
		violated("a data record of a bad size");
	/* touch every sample: ASan sees a short buffer */
	for (size_t i = 0; i < frames * s->channels; i++)
		sink += samples[i];
	(void)sink;
	s->frames += frames;
	return 0;
}

static void on_log(void *u, const char *line)
{
	(void)u;
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct an_sniff sn;
	struct seen s = { 0 };
	struct ffdec_sink sink = { .u = &s, .header = on_header, .data = on_data, .log = on_log };
	struct ffdec_source src = { .head = data, .head_len = size, .fd = -1 };
	struct an_pcm_end end;

	an_sniff_bytes(data, size, &sn);
	if (!sn.demuxer)
		return 0; /* the program does not run FFmpeg on it either */
	ffdec_run(sn.demuxer, &src, &sink, &end);
	if (end.ok && !s.header)
		violated("ok without a header");
	if (!end.ok && (end.error_class < AN_ERR_NOT_MEDIA || end.error_class > AN_ERR_READ || !end.error[0]))
		violated("a failure without a class or a reason");
	return 0;
}
