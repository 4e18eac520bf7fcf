/* lib/hash.c — see hash.h. */
#include "lib/hash.h"

#include <nettle/base64.h>

void sr_sha256_init(struct sr_sha256 *s)
{
	sha256_init(&s->ctx);
}

void sr_sha256_update(struct sr_sha256 *s, const void *data, size_t len)
{
	sha256_update(&s->ctx, len, data);
}

void sr_sha256_final(struct sr_sha256 *s, unsigned char out[SR_SHA256_LEN])
{
	sha256_digest(&s->ctx, SR_SHA256_LEN, out);
}

void sr_sha256(const void *data, size_t len, unsigned char out[SR_SHA256_LEN])
{
	struct sr_sha256 s;
	sr_sha256_init(&s);
	sr_sha256_update(&s, data, len);
	sr_sha256_final(&s, out);
}

void sr_sha256_hex(const unsigned char digest[SR_SHA256_LEN], char out[2 * SR_SHA256_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < SR_SHA256_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * SR_SHA256_LEN] = '\0';
}

void sr_sha256_base64(const void *data, size_t len, char out[SR_SHA256_B64_LEN + 1])
{
	unsigned char d[SR_SHA256_LEN];
	sr_sha256(data, len, d);
	_Static_assert(BASE64_ENCODE_RAW_LENGTH(SR_SHA256_LEN) == SR_SHA256_B64_LEN, "base64 length");
	base64_encode_raw(out, SR_SHA256_LEN, d);
	out[SR_SHA256_B64_LEN] = '\0';
}
