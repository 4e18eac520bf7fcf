/* sandbox/sha256.h — SHA-256 (FIPS 180-4), pure code.
 *
 * Small and self-contained: the job spec key (runner/jobspec.c) must not
 * change with the crypto library a host happens to have, and the policy
 * cache (sandbox/policy_cache.c) needs a digest without a new dependency. */
#ifndef SANDRUN_SHA256_H
#define SANDRUN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SR_SHA256_LEN 32

struct sr_sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

void sr_sha256_init(struct sr_sha256 *s);
void sr_sha256_update(struct sr_sha256 *s, const void *data, size_t len);
void sr_sha256_final(struct sr_sha256 *s, unsigned char out[SR_SHA256_LEN]);
/* One buffer at once. */
void sr_sha256(const void *data, size_t len, unsigned char out[SR_SHA256_LEN]);
/* Lower-case hex of a digest, NUL-terminated. */
void sr_sha256_hex(const unsigned char digest[SR_SHA256_LEN], char out[2 * SR_SHA256_LEN + 1]);

#endif
