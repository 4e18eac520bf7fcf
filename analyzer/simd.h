/* analyzer/simd.h — 4-lane float vectors for the per-sample loops.
 *
 * GCC and Clang "generic vectors" (vector_size) rather than intrinsics:
 * the same source builds on any architecture. Four lanes, 16 bytes: the
 * width every x86-64 (SSE2) and arm64 (NEON) CPU has, and the widest
 * that passes in registers under the baseline x86-64 ABI (32-byte
 * vectors would change the calling convention without AVX). The per-sample loops are the
 * analyzer's whole cost besides decoding and libebur128, and -O2 does not
 * vectorise reductions on its own (it may not reorder float sums), so
 * the lanes are spelled out here.
 */
#ifndef SANDRUN_ANALYZER_SIMD_H
#define SANDRUN_ANALYZER_SIMD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define AN_LANES 4

/* Some loops have a second version for wider vectors (AVX, AVX2), chosen
 * at run time where the CPU has them; the build stays baseline x86-64.
 * Each does the very operations of its four-lane loop in the same order
 * (or ones whose result cannot depend on the order: ORs, counts, maxima),
 * so the reports are the same on every host, bit for bit
 * (tests/unit/test_analyzer_kernels.c compares each pair).
 * an_simd_avx(), an_simd_avx2(): whether that version may run here.
 * an_simd_set_wide(false) keeps every loop at four lanes (the tests);
 * returns the previous setting. */
bool an_simd_avx(void);
bool an_simd_avx2(void);
bool an_simd_set_wide(bool allowed);

typedef float an_f32x4 __attribute__((vector_size(16)));
typedef int32_t an_i32x4 __attribute__((vector_size(16)));

/* Unaligned load: memcpy compiles to one vector load. */
static inline an_f32x4 an_load(const float *p)
{
	an_f32x4 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline an_f32x4 an_splat(float x)
{
	return (an_f32x4){ x, x, x, x };
}

static inline an_f32x4 an_abs(an_f32x4 v)
{
	return (an_f32x4)((an_i32x4)v & 0x7fffffff);
}

/* Lane-wise a > b ? a : b (b where either is NaN). SSE's maxps is
 * defined as exactly that, one instruction where GCC does not see it in
 * the mask-and-select spelling (which the other architectures keep). */
static inline an_f32x4 an_max(an_f32x4 a, an_f32x4 b)
{
#if defined(__SSE__)
	return __builtin_ia32_maxps(a, b);
#else
	an_i32x4 gt = a > b;
	return (an_f32x4)(((an_i32x4)a & gt) | ((an_i32x4)b & ~gt));
#endif
}

/* Lane-wise a < b ? a : b (b where either is NaN): SSE's minps. */
static inline an_f32x4 an_min(an_f32x4 a, an_f32x4 b)
{
#if defined(__SSE__)
	return __builtin_ia32_minps(a, b);
#else
	an_i32x4 lt = a < b;
	return (an_f32x4)(((an_i32x4)a & lt) | ((an_i32x4)b & ~lt));
#endif
}

/* Lane-wise square root, correctly rounded as sqrtf() is (IEEE 754
 * asks it of every square root): SSE's sqrtps, or each lane apart. */
static inline an_f32x4 an_sqrt(an_f32x4 v)
{
#if defined(__SSE__)
	return __builtin_ia32_sqrtps(v);
#else
	return (an_f32x4){ __builtin_sqrtf(v[0]), __builtin_sqrtf(v[1]), __builtin_sqrtf(v[2]),
			   __builtin_sqrtf(v[3]) };
#endif
}

static inline float an_hmax(an_f32x4 v)
{
	float m = v[0];
	for (int i = 1; i < AN_LANES; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

static inline double an_hsum(an_f32x4 v)
{
	double s = 0.0;
	for (int i = 0; i < AN_LANES; i++)
		s += (double)v[i];
	return s;
}

/* Whether any lane of a comparison mask is true: SSE's movmskps, one
 * instruction instead of a trip through memory. */
static inline int an_any(an_i32x4 mask)
{
#if defined(__SSE__)
	return __builtin_ia32_movmskps((an_f32x4)mask) != 0;
#else
	return (mask[0] | mask[1] | mask[2] | mask[3]) != 0;
#endif
}

/* Comparison masks are -1 per true lane: subtracting counts them. */
static inline int64_t an_hcount(an_i32x4 neg_counts)
{
	int64_t s = 0;
	for (int i = 0; i < AN_LANES; i++)
		s -= neg_counts[i];
	return s;
}

#endif
