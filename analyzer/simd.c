/* analyzer/simd.c — see simd.h. */
#include "analyzer/simd.h"

static bool wide_allowed = true;

bool an_simd_set_wide(bool allowed)
{
	bool was = wide_allowed;

	wide_allowed = allowed;
	return was;
}

#if defined(__x86_64__) && defined(__GNUC__)
bool an_simd_avx(void)
{
	return wide_allowed && __builtin_cpu_supports("avx");
}

bool an_simd_avx2(void)
{
	return wide_allowed && __builtin_cpu_supports("avx2");
}
#else
bool an_simd_avx(void)
{
	return false;
}

bool an_simd_avx2(void)
{
	return false;
}
#endif
