/* lib/hash.h — SHA-256, from Debian's nettle (libnettle8).
 *
 * Used for the job spec key (runner/jobspec.c) and the compiled-policy
 * cache key and checksum (sandbox/policy_cache.c). SHA-256 is SHA-256:
 * keys made before this wrapper (by the hand-written FIPS 180-4 code it
 * replaced) are the same bytes. Pure: no module state. */
#ifndef SANDRUN_LIB_HASH_H
#define SANDRUN_LIB_HASH_H

#include <stddef.h>

#include <nettle/sha2.h>

#define SR_SHA256_LEN SHA256_DIGEST_SIZE

struct sr_sha256 {
	struct sha256_ctx ctx;
};

void sr_sha256_init(struct sr_sha256 *s);
void sr_sha256_update(struct sr_sha256 *s, const void *data, size_t len);
void sr_sha256_final(struct sr_sha256 *s, unsigned char out[SR_SHA256_LEN]);
/* One buffer at once. */
void sr_sha256(const void *data, size_t len, unsigned char out[SR_SHA256_LEN]);
/* Base64 (with padding) of the SHA-256 of one buffer, NUL-terminated: a
 * Content-Security-Policy hash source. */
#define SR_SHA256_B64_LEN 44
void sr_sha256_base64(const void *data, size_t len, char out[SR_SHA256_B64_LEN + 1]);
/* Lower-case hex of a digest, NUL-terminated. */
void sr_sha256_hex(const unsigned char digest[SR_SHA256_LEN], char out[2 * SR_SHA256_LEN + 1]);

#endif
