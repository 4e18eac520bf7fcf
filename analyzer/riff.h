/* analyzer/riff.h — what a WAV (RIFF, RIFX, RF64/BW64) header declares,
 * read from the bytes by our own code.
 *
 * Why not libsndfile's frame count: for a file cut short it reports the
 * frames the file still holds (its "corrected" count), so a WAV missing
 * 99 % of its audio read frames_missing 0. The header's own data chunk
 * size is what was declared. Pure parsing over bounded reads: at most
 * RIFF_MAX_CHUNKS chunk headers are visited, every offset is checked
 * against overflow, and nothing is allocated.
 */
#ifndef SANDRUN_ANALYZER_RIFF_H
#define SANDRUN_ANALYZER_RIFF_H

#include <stddef.h>
#include <stdint.h>

struct an_input;

#define RIFF_MAX_CHUNKS 64

struct an_riff_decl {
	unsigned channels;       /* from "fmt " */
	uint32_t sample_rate;
	unsigned format_tag;     /* 1 PCM, 3 float, 6 A-law, 7 mu-law, 0xFFFE extensible, ... */
	unsigned block_align;
	uint64_t data_bytes;     /* the data chunk's declared size (ds64's for RF64) */
	int64_t frames;          /* data_bytes / block_align for PCM-like tags, else -1 */
};

/* Reads up to len bytes at off from the input without moving
 * libsndfile's position (a file: pread; memory; a stream: its kept head
 * only). Returns the count read. */
typedef size_t (*an_riff_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

/* 0 and *out filled when the header names a data chunk with a usable
 * size and a fmt chunk; -1 when it is not a WAV header or declares no
 * size (0 or 0xFFFFFFFF: a stream written before its length was known). */
int an_riff_parse(an_riff_read_fn read, void *ctx, struct an_riff_decl *out);

/* The reader over an analyzer input (ctx: a const struct an_input *),
 * which mpeg.c shares. */
size_t an_riff_read_input(void *ctx, uint64_t off, void *buf, size_t len);

/* The same over an analyzer input (input.h). */
int an_riff_parse_input(const struct an_input *in, struct an_riff_decl *out);

#endif
