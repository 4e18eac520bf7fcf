/* analyzer/sha256x2.c — see sha256x2.h.
 *
 * The kernels follow Intel's published SHA-NI sequence for SHA-256
 * ("Intel SHA Extensions", 2013; the same order of sha256rnds2,
 * sha256msg1 and sha256msg2 as nettle's and the Linux kernel's): four
 * rounds per message vector, the schedule of the next vectors computed
 * between them. The two-way kernel runs that sequence on two blocks at
 * once, step by step, so that the CPU overlaps the two dependency chains.
 * nettle stays the portable path and the oracle the unit tests compare
 * every length and split pattern with.
 */
#include "analyzer/sha256x2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* -DAN_SHA2X2_NO_KERNEL builds what other architectures build. */
#if defined(__x86_64__) && !defined(AN_SHA2X2_NO_KERNEL)
#define AN_SHA2X2_KERNEL 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static bool forced_portable;

#if AN_SHA2X2_KERNEL

static const uint32_t k256[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define NI __attribute__((target("sha,sse4.1")))

/* One lane X (a_ or b_) holds: X##p the block, X##s0/X##s1 the state as
 * ABEF/CDGH, X##m0..X##m3 the message schedule, X##a0/X##a1 the state
 * at the block's start. */
#define NI_LOAD(X, j) X##m##j = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(X##p + 16 * (j))), bswap)
/* Rounds 4g .. 4g+3 with message vector c. */
#define NI_RNDS(X, g, c)                                                                        \
	do {                                                                                    \
		__m128i t_ = _mm_add_epi32(X##m##c, _mm_load_si128((const __m128i *)&k256[4 * (g)])); \
		X##s1 = _mm_sha256rnds2_epu32(X##s1, X##s0, t_);                                \
		X##s0 = _mm_sha256rnds2_epu32(X##s0, X##s1, _mm_shuffle_epi32(t_, 0x0E));        \
	} while (0)
/* Schedule: the next vector n from the current c and the previous p. */
#define NI_MSG2(X, c, p, n) \
	X##m##n = _mm_sha256msg2_epu32(_mm_add_epi32(X##m##n, _mm_alignr_epi8(X##m##c, X##m##p, 4)), X##m##c)
#define NI_MSG1(X, c, p) X##m##p = _mm_sha256msg1_epu32(X##m##p, X##m##c)

/* Four groups of rounds from group g on, schedule as they go. */
#define NI_MIDDLE(EACH, g)                                                       \
	EACH(NI_RNDS, g, 0); EACH(NI_MSG2, 0, 3, 1); EACH(NI_MSG1, 0, 3);        \
	EACH(NI_RNDS, g + 1, 1); EACH(NI_MSG2, 1, 0, 2); EACH(NI_MSG1, 1, 0);    \
	EACH(NI_RNDS, g + 2, 2); EACH(NI_MSG2, 2, 1, 3); EACH(NI_MSG1, 2, 1);    \
	EACH(NI_RNDS, g + 3, 3); EACH(NI_MSG2, 3, 2, 0); EACH(NI_MSG1, 3, 2);

/* The 64 rounds of one block in every lane EACH names. */
#define NI_BLOCK(EACH)                                                                          \
	EACH(NI_LOAD, 0); EACH(NI_RNDS, 0, 0);                                                  \
	EACH(NI_LOAD, 1); EACH(NI_RNDS, 1, 1); EACH(NI_MSG1, 1, 0);                             \
	EACH(NI_LOAD, 2); EACH(NI_RNDS, 2, 2); EACH(NI_MSG1, 2, 1);                             \
	EACH(NI_LOAD, 3); EACH(NI_RNDS, 3, 3); EACH(NI_MSG2, 3, 2, 0); EACH(NI_MSG1, 3, 2);     \
	NI_MIDDLE(EACH, 4)                                                                      \
	NI_MIDDLE(EACH, 8)                                                                      \
	EACH(NI_RNDS, 12, 0); EACH(NI_MSG2, 0, 3, 1); EACH(NI_MSG1, 0, 3);                      \
	EACH(NI_RNDS, 13, 1); EACH(NI_MSG2, 1, 0, 2);                                           \
	EACH(NI_RNDS, 14, 2); EACH(NI_MSG2, 2, 1, 3);                                           \
	EACH(NI_RNDS, 15, 3);

#define ONE_LANE(OP, ...) OP(a_, __VA_ARGS__)
#define TWO_LANES(OP, ...) OP(a_, __VA_ARGS__); OP(b_, __VA_ARGS__)

/* state[0..7] = a..h, to the ABEF/CDGH pair the instructions work on. */
NI static inline void ni_load_state(const uint32_t st[8], __m128i *s0, __m128i *s1)
{
	__m128i dcba = _mm_loadu_si128((const __m128i *)&st[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&st[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);

	*s0 = _mm_alignr_epi8(cdab, efgh, 8);    /* ABEF */
	*s1 = _mm_blend_epi16(efgh, cdab, 0xF0); /* CDGH */
}

NI static inline void ni_store_state(uint32_t st[8], __m128i s0, __m128i s1)
{
	__m128i feba = _mm_shuffle_epi32(s0, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(s1, 0xB1);

	_mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(feba, dchg, 0xF0)); /* DCBA */
	_mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(dchg, feba, 8));    /* HGFE */
}

/* n blocks of one stream. */
NI static void compress1_ni(uint32_t st[8], const uint8_t *a_p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i a_s0, a_s1, a_m0, a_m1, a_m2, a_m3;

	ni_load_state(st, &a_s0, &a_s1);
	for (; n > 0; n--, a_p += 64) {
		__m128i a_a0 = a_s0, a_a1 = a_s1;
		NI_BLOCK(ONE_LANE)
		a_s0 = _mm_add_epi32(a_s0, a_a0);
		a_s1 = _mm_add_epi32(a_s1, a_a1);
	}
	ni_store_state(st, a_s0, a_s1);
}

/* n blocks of each of two streams, side by side. */
NI static void compress2_ni(uint32_t sta[8], const uint8_t *a_p, uint32_t stb[8], const uint8_t *b_p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i a_s0, a_s1, a_m0, a_m1, a_m2, a_m3;
	__m128i b_s0, b_s1, b_m0, b_m1, b_m2, b_m3;

	ni_load_state(sta, &a_s0, &a_s1);
	ni_load_state(stb, &b_s0, &b_s1);
	for (; n > 0; n--, a_p += 64, b_p += 64) {
		__m128i a_a0 = a_s0, a_a1 = a_s1, b_a0 = b_s0, b_a1 = b_s1;
		NI_BLOCK(TWO_LANES)
		a_s0 = _mm_add_epi32(a_s0, a_a0);
		a_s1 = _mm_add_epi32(a_s1, a_a1);
		b_s0 = _mm_add_epi32(b_s0, b_a0);
		b_s1 = _mm_add_epi32(b_s1, b_a1);
	}
	ni_store_state(sta, a_s0, a_s1);
	ni_store_state(stb, b_s0, b_s1);
}

static bool cpu_has_sha_ni(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return false;
	if (__get_cpuid_max(0, NULL) < 7)
		return false;
	__cpuid_count(7, 0, a, b, c, d);
	return (b & bit_SHA) != 0;
}

/* ---- the pair on the SHA-NI path ---------------------------------------- */

static const uint8_t *pending(const struct an_sha2x2_stream *s)
{
	return s->buf + s->head;
}

/* n whole blocks at p (anywhere) into s alone. */
static void alone(struct an_sha2x2_stream *s, const uint8_t *p, size_t n)
{
	compress1_ni(s->state, p, n);
	s->compressed += 64 * (uint64_t)n;
}

static void both(struct an_sha2x2_stream *a, const uint8_t *pa, struct an_sha2x2_stream *b, const uint8_t *pb,
		 size_t n)
{
	compress2_ni(a->state, pa, b->state, pb, n);
	a->compressed += 64 * (uint64_t)n;
	b->compressed += 64 * (uint64_t)n;
}

/* The first n pending blocks of s are compressed: drop them. What is left
 * under one block moves to the start (at most 63 bytes), so appends
 * rarely have to move more. */
static void consume(struct an_sha2x2_stream *s, size_t n)
{
	s->head += 64 * n;
	s->len -= 64 * n;
	if (s->len < 64) {
		memmove(s->buf, s->buf + s->head, s->len);
		s->head = 0;
	}
}

/* len <= AN_SHA2X2_BUF - s->len */
static void append(struct an_sha2x2_stream *s, const uint8_t *p, size_t len)
{
	if (s->head + s->len + len > AN_SHA2X2_BUF) {
		memmove(s->buf, s->buf + s->head, s->len);
		s->head = 0;
	}
	memcpy(s->buf + s->head + s->len, p, len);
	s->len += len;
}

/* Invariant after every update: at most one stream has a whole block
 * pending (the other's bytes, had it any, would have been paired). */
static void ni_update(struct an_sha256x2 *x, unsigned i, const uint8_t *p, size_t len)
{
	struct an_sha2x2_stream *a = &x->s[i], *b = &x->s[i ^ 1u];

	if (a->len > 0) {
		size_t fill = 64 - a->len % 64;
		if (a->len < 64 && b->len >= 64 && len >= fill) {
			/* a holds part of a block (b has whole ones): complete it and
			 * pair it; the rest of p starts on a block boundary. */
			append(a, p, fill);
			p += fill;
			len -= fill;
			both(a, pending(a), b, pending(b), 1);
			consume(a, 1);
			consume(b, 1);
		} else if (len <= AN_SHA2X2_BUF - a->len) {
			append(a, p, len); /* to wait for b */
			return;
		} else {
			/* a is further ahead of b than its buffer holds: what it has
			 * goes alone, and p's first bytes complete its last block */
			alone(a, pending(a), a->len / 64);
			consume(a, a->len / 64);
			if (a->len > 0) {
				fill = 64 - a->len < len ? 64 - a->len : len;
				append(a, p, fill);
				p += fill;
				len -= fill;
				if (a->len < 64)
					return;
				alone(a, pending(a), 1);
				consume(a, 1);
			}
		}
	}
	/* Nothing of a pending: its blocks pair straight from p. */
	size_t n = len / 64 < b->len / 64 ? len / 64 : b->len / 64;
	if (n > 0) {
		both(a, p, b, pending(b), n);
		consume(b, n);
		p += 64 * n;
		len -= 64 * n;
	}
	if (len > AN_SHA2X2_BUF) {
		/* b has no whole block left (else len < 64): more than the
		 * buffer would wait, so the whole blocks go alone. */
		n = len / 64;
		alone(a, p, n);
		p += 64 * n;
		len -= 64 * n;
	}
	append(a, p, len);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* FIPS 180-4 padding on a copy of the state: 0x80, zeros, the length
 * in bits as a 64-bit big-endian number, in one or two blocks. */
static void ni_digest(const struct an_sha2x2_stream *s, uint8_t out[SHA256_DIGEST_SIZE])
{
	uint32_t st[8];
	uint8_t last[128] = { 0 };
	size_t whole = s->len / 64, rest = s->len % 64;
	uint64_t bits = 8 * (s->compressed + s->len);

	memcpy(st, s->state, sizeof(st));
	compress1_ni(st, pending(s), whole);
	memcpy(last, pending(s) + 64 * whole, rest);
	last[rest] = 0x80;
	size_t nblocks = rest < 56 ? 1 : 2;
	put_be32(last + 64 * nblocks - 8, (uint32_t)(bits >> 32));
	put_be32(last + 64 * nblocks - 4, (uint32_t)bits);
	compress1_ni(st, last, nblocks);
	for (unsigned w = 0; w < 8; w++)
		put_be32(out + 4 * w, st[w]);
}

#endif /* AN_SHA2X2_KERNEL */

bool an_sha256x2_force_portable(bool portable)
{
	forced_portable = portable;
#if AN_SHA2X2_KERNEL
	return cpu_has_sha_ni();
#else
	return false;
#endif
}

int an_sha256x2_init(struct an_sha256x2 *x)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memset(x, 0, sizeof(*x));
#if AN_SHA2X2_KERNEL
	x->ni = !forced_portable && cpu_has_sha_ni();
#endif
	uint8_t *bufs = NULL;
	if (x->ni) {
		bufs = malloc(2 * (size_t)AN_SHA2X2_BUF);
		if (!bufs) {
			x->ni = false; /* no kernel without its buffers */
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		memcpy(x->s[i].state, iv, sizeof(iv));
		sha256_init(&x->s[i].ctx);
		x->s[i].buf = bufs ? bufs + i * (size_t)AN_SHA2X2_BUF : NULL;
	}
	x->ready = true;
	return 0;
}

void an_sha256x2_free(struct an_sha256x2 *x)
{
	free(x->s[0].buf); /* both buffers are one allocation */
	x->s[0].buf = x->s[1].buf = NULL;
	x->ready = false;
}

void an_sha256x2_update(struct an_sha256x2 *x, unsigned i, const void *data, size_t len)
{
#if AN_SHA2X2_KERNEL
	if (x->ni) {
		if (len > 0)
			ni_update(x, i, data, len);
		return;
	}
#endif
	sha256_update(&x->s[i].ctx, len, data);
}

void an_sha256x2_digest(const struct an_sha256x2 *x, unsigned i, uint8_t out[SHA256_DIGEST_SIZE])
{
#if AN_SHA2X2_KERNEL
	if (x->ni) {
		ni_digest(&x->s[i], out);
		return;
	}
#endif
	struct sha256_ctx c = x->s[i].ctx;
	sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}
