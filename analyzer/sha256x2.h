/* analyzer/sha256x2.h — two SHA-256 streams hashed together.
 *
 * The analyzer hashes two byte streams at once: the input's bytes as
 * libsndfile reads them and the decoded audio as s16le (identity.h).
 * One SHA-256 stream through the CPU's SHA extensions (SHA-NI) is bound
 * by the latency of its round instructions, each depending on the last;
 * two independent streams whose instructions are interleaved keep the
 * unit busy in each other's wait, and run at nearly twice the speed.
 *
 * So the pair: each stream keeps a pending buffer, and whenever both
 * have whole 64-byte blocks the blocks are compressed in pairs by a
 * two-way kernel. A stream whose bytes run ahead of the other's by more
 * than its buffer (MP3: ten audio bytes to one input byte) has its
 * excess compressed alone. The result is the SHA-256 of each stream,
 * bit for bit, however the two are interleaved and split.
 *
 * Paths: the kernels need SHA-NI and SSE4.1, asked of CPUID at init (the
 * build stays baseline x86-64). Elsewhere, or when a test forces it,
 * each stream is nettle's sha256_update(), and nettle is also the test
 * oracle. Memory: two fixed buffers, whatever the streams' lengths.
 */
#ifndef SANDRUN_ANALYZER_SHA256X2_H
#define SANDRUN_ANALYZER_SHA256X2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

/* Bytes a stream may hold while it waits for the other; a multiple of
 * 64. libsndfile reads ahead of the decoded blocks by up to a block of
 * input (16384 samples, 64 KiB of float WAV). */
#define AN_SHA2X2_BUF (128u << 10)

struct an_sha2x2_stream {
	uint32_t state[8];
	uint64_t compressed;  /* bytes in whole blocks already in state */
	uint8_t *buf;         /* AN_SHA2X2_BUF bytes */
	size_t head, len;     /* pending: buf[head .. head + len), head % 64 == 0 */
	struct sha256_ctx ctx; /* the portable path's whole state */
};

struct an_sha256x2 {
	bool ready;           /* init succeeded */
	bool ni;              /* the SHA-NI kernels, else nettle */
	struct an_sha2x2_stream s[2];
};

/* Both streams empty. Returns 0 or -ENOMEM. */
int an_sha256x2_init(struct an_sha256x2 *x);
void an_sha256x2_free(struct an_sha256x2 *x);
/* Append len bytes to stream i (0 or 1). */
void an_sha256x2_update(struct an_sha256x2 *x, unsigned i, const void *data, size_t len);
/* SHA-256 of every byte given to stream i so far. The stream is left as
 * it was: more bytes may follow, and a later digest covers them too. */
void an_sha256x2_digest(const struct an_sha256x2 *x, unsigned i, uint8_t out[SHA256_DIGEST_SIZE]);

/* Tests: true makes every later init take nettle's path (false: CPUID
 * decides again). Returns whether the SHA-NI path is available here. */
bool an_sha256x2_force_portable(bool portable);

#endif
