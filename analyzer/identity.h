/* analyzer/identity.h — content identity: SHA-256 of the input's bytes
 * and SHA-256 of the decoded audio.
 *
 * The audio hash finds one recording in two containers (WAV and FLAC,
 * AIFF and ALAC): it is the SHA-256 of the decoded samples, interleaved
 * in the decoder's channel order, each quantized to 16-bit signed
 * little-endian: v = round_half_even(x * 32768), clamped to
 * [-32768, 32767]. For a 16-bit (or 8-bit) source that is its own PCM,
 * bit for bit, so `ffmpeg -i F -f s16le - | sha256sum` gives the same
 * digest. Sample rate and channel count are not hashed: compare them
 * beside it. A lossy re-encoding changes the samples and so the hash
 * (the fingerprint is for that).
 *
 * SHA-256 is nettle's (Debian libnettle8), called directly: the analyzer
 * links nothing of ours, so lib/hash.c's wrapper is not used. Where the
 * CPU has SHA-NI, the decoders hash the audio beside the input's bytes,
 * the two streams of one an_sha256x2 (sha256x2.h), for speed: same
 * digests. Memory is one SHA-256 state each and a fixed conversion
 * buffer (and the pair's two fixed buffers).
 */
#ifndef SANDRUN_ANALYZER_IDENTITY_H
#define SANDRUN_ANALYZER_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#include "analyzer/sha256x2.h"

#define AN_SHA256_LEN SHA256_DIGEST_SIZE
#define AN_SHA256_HEX (2 * AN_SHA256_LEN + 1)

/* The two streams of the input's pair (input.h). */
enum { AN_HASH_INPUT = 0, AN_HASH_AUDIO = 1 };

/* The decoded audio's hash, fed with interleaved frames. */
struct an_audio_hash {
	struct sha256_ctx ctx;
	struct an_sha256x2 *pair; /* or NULL: ctx */
};

void an_audio_hash_init(struct an_audio_hash *h);
/* Before the first push: hash into pair's AN_HASH_AUDIO stream instead,
 * beside the input's bytes (pair->ready; it outlives h). */
void an_audio_hash_share(struct an_audio_hash *h, struct an_sha256x2 *pair);
void an_audio_hash_push(struct an_audio_hash *h, const float *samples, size_t nsamples);
/* The same for samples that came as int16 codes: code / 32768 quantizes
 * back to the code itself, so the codes are hashed as they are (no
 * conversion; test_audio_hash_s16_matches). */
void an_audio_hash_push_s16(struct an_audio_hash *h, const int16_t *codes, size_t nsamples);
void an_audio_hash_hex(struct an_audio_hash *h, char out[AN_SHA256_HEX]);

/* One sample as the hash sees it (x finite). */
int16_t an_audio_hash_quantize(float x);
/* n samples the same way, into out (the fingerprint's PCM too). */
void an_quantize_s16(const float *x, size_t n, int16_t *out);

/* Lower-case hex of a digest. */
void an_sha256_hex(const uint8_t digest[AN_SHA256_LEN], char out[AN_SHA256_HEX]);

#endif
