/* analyzer/identity.c — see identity.h. */
#include "analyzer/identity.h"

#include "analyzer/simd.h"

#include <string.h>

/* Samples converted per sha256_update() call: 8 KiB (and 8 KiB more on a
 * big-endian host) on the stack. */
#define CHUNK 4096

void an_audio_hash_init(struct an_audio_hash *h)
{
	sha256_init(&h->ctx);
	h->pair = NULL;
}

void an_audio_hash_share(struct an_audio_hash *h, struct an_sha256x2 *pair)
{
	h->pair = pair;
}

static void hash_bytes(struct an_audio_hash *h, const uint8_t *p, size_t len)
{
	if (h->pair)
		an_sha256x2_update(h->pair, AN_HASH_AUDIO, p, len);
	else
		sha256_update(&h->ctx, len, p);
}

/* x * 32768 clamped to the int16 range, then rounded half to even by the
 * float adder itself: adding 1.5 * 2^23 leaves the integer in the low
 * mantissa bits (exact for |v| < 2^22). No libm call, four lanes at once,
 * and the same result on every IEEE 754 machine. */
static inline an_i32x4 quantize4(an_f32x4 x)
{
	const an_f32x4 lo = an_splat(-32768.0f), hi = an_splat(32767.0f);
	an_f32x4 v = an_min(an_max(x * an_splat(32768.0f), lo), hi);
	v += an_splat(12582912.0f);
	return (an_i32x4)v - 0x4B400000;
}

int16_t an_audio_hash_quantize(float x)
{
	an_i32x4 q = quantize4(an_splat(x));
	return (int16_t)q[0];
}

typedef int16_t an_i16x4 __attribute__((vector_size(8)));
typedef int16_t an_i16x8 __attribute__((vector_size(16)));

/* Eight lanes narrowed to int16 in one register. They are already within
 * the int16 range, so SSE2's saturating pack is an exact narrowing (one
 * instruction where GCC spells the truncation as five shuffles). */
static inline an_i16x8 narrow8(an_i32x4 a, an_i32x4 b)
{
#if defined(__SSE2__)
	return (an_i16x8)__builtin_ia32_packssdw128(a, b);
#else
	an_i16x4 lo = __builtin_convertvector(a, an_i16x4), hi = __builtin_convertvector(b, an_i16x4);
	return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7);
#endif
}

void an_quantize_s16(const float *x, size_t n, int16_t *out)
{
	size_t i = 0;

	for (; i + 2 * AN_LANES <= n; i += 2 * AN_LANES) {
		an_i16x8 q = narrow8(quantize4(an_load(x + i)), quantize4(an_load(x + i + AN_LANES)));
		memcpy(out + i, &q, sizeof(q));
	}
	/* The lanes are already within the int16 range: narrowing is exact. */
	for (; i + AN_LANES <= n; i += AN_LANES) {
		an_i16x4 q = __builtin_convertvector(quantize4(an_load(x + i)), an_i16x4);
		memcpy(out + i, &q, sizeof(q));
	}
	for (; i < n; i++)
		out[i] = an_audio_hash_quantize(x[i]);
}

void an_audio_hash_push_s16(struct an_audio_hash *h, const int16_t *codes, size_t nsamples)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* int16 in memory is the little-endian PCM itself */
	hash_bytes(h, (const uint8_t *)codes, 2 * nsamples);
#else
	uint8_t buf[2 * CHUNK];
	while (nsamples > 0) {
		size_t n = nsamples < CHUNK ? nsamples : CHUNK;
		for (size_t i = 0; i < n; i++) {
			buf[2 * i] = (uint8_t)((uint16_t)codes[i] & 0xff);
			buf[2 * i + 1] = (uint8_t)((uint16_t)codes[i] >> 8);
		}
		hash_bytes(h, buf, 2 * n);
		codes += n;
		nsamples -= n;
	}
#endif
}

void an_audio_hash_push(struct an_audio_hash *h, const float *samples, size_t nsamples)
{
	int16_t q[CHUNK];

	while (nsamples > 0) {
		size_t n = nsamples < CHUNK ? nsamples : CHUNK;
		an_quantize_s16(samples, n, q);
		an_audio_hash_push_s16(h, q, n);
		samples += n;
		nsamples -= n;
	}
}

void an_audio_hash_hex(struct an_audio_hash *h, char out[AN_SHA256_HEX])
{
	uint8_t d[AN_SHA256_LEN];

	if (h->pair)
		an_sha256x2_digest(h->pair, AN_HASH_AUDIO, d);
	else
		sha256_digest(&h->ctx, AN_SHA256_LEN, d);
	an_sha256_hex(d, out);
}

void an_sha256_hex(const uint8_t digest[AN_SHA256_LEN], char out[AN_SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < AN_SHA256_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * AN_SHA256_LEN] = '\0';
}
