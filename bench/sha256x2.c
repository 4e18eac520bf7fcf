/* bench/sha256x2.c — the analyzer's two hashes alone: nettle's sha256 on
 * each stream in turn (what the analyzer did before analyzer/sha256x2.c)
 * against the pair (two-way SHA-NI kernel) and the pair forced onto its
 * portable path. CPU seconds (this process's), best of N runs; each run
 * hashes 2 x MiB mebibytes, in the analyzer's pattern: 32 KiB of input
 * bytes, then 32 KiB of audio. Last, the ceiling: sha256rnds2 in one
 * dependency chain and in two, ns per instruction (a CPU whose
 * instruction issues no faster than its latency gains nothing from two).
 *
 *   gcc -O2 -I. -o /tmp/sha256x2-bench bench/sha256x2.c analyzer/sha256x2.c -lnettle
 *   /tmp/sha256x2-bench [MiB [N]]          (default 100 MiB, 5 runs)
 */
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "analyzer/sha256x2.h"


#define STEP (32u << 10)
#define SPAN (1u << 20) /* the data cycled through, per stream */

static uint8_t digest_sink;

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}


#if defined(__x86_64__)
#include <immintrin.h>

/* n steps of k (1 or 2) independent chains of two sha256rnds2 each. */
__attribute__((target("sha,sse4.1"), noinline)) static __m128i rnds2_chains(long n, int k, __m128i m)
{
	__m128i a0 = _mm_set1_epi32(1), a1 = _mm_set1_epi32(2), b0 = _mm_set1_epi32(3), b1 = _mm_set1_epi32(4);

	for (long i = 0; i < n; i++) {
		a1 = _mm_sha256rnds2_epu32(a1, a0, m);
		a0 = _mm_sha256rnds2_epu32(a0, a1, m);
		if (k == 2) {
			b1 = _mm_sha256rnds2_epu32(b1, b0, m);
			b0 = _mm_sha256rnds2_epu32(b0, b1, m);
		}
	}
	return _mm_add_epi32(a0, b0);
}

static void print_ceiling(void)
{
	const long n = 50000000;
	double ns[2];

	for (int k = 1; k <= 2; k++) {
		double best = 1e30;
		for (int r = 0; r < 3; r++) {
			double t0 = cpu_seconds();
			__m128i v = rnds2_chains(n, k, _mm_set1_epi32(5));
			double t = cpu_seconds() - t0;
			digest_sink ^= (uint8_t)_mm_cvtsi128_si32(v);
			if (t < best)
				best = t;
		}
		ns[k - 1] = best * 1e9 / (2.0 * (double)n * k);
	}
	printf("sha256rnds2: %.2f ns each in one chain, %.2f in two: interleaving gains at most %.2fx here\n", ns[0],
	       ns[1], ns[0] / ns[1]);
}
#endif

static void run_nettle(const uint8_t *d0, const uint8_t *d1, size_t total)
{
	struct sha256_ctx c[2];
	uint8_t out[SHA256_DIGEST_SIZE];

	sha256_init(&c[0]);
	sha256_init(&c[1]);
	for (size_t done = 0; done < total; done += STEP) {
		sha256_update(&c[0], STEP, d0 + done % SPAN);
		sha256_update(&c[1], STEP, d1 + done % SPAN);
	}
	sha256_digest(&c[0], sizeof(out), out);
	digest_sink ^= out[0];
	sha256_digest(&c[1], sizeof(out), out);
	digest_sink ^= out[0];
}

static void run_pair(const uint8_t *d0, const uint8_t *d1, size_t total)
{
	struct an_sha256x2 x;
	uint8_t out[SHA256_DIGEST_SIZE];

	if (an_sha256x2_init(&x) < 0)
		exit(1);
	for (size_t done = 0; done < total; done += STEP) {
		an_sha256x2_update(&x, 0, d0 + done % SPAN, STEP);
		an_sha256x2_update(&x, 1, d1 + done % SPAN, STEP);
	}
	an_sha256x2_digest(&x, 0, out);
	digest_sink ^= out[0];
	an_sha256x2_digest(&x, 1, out);
	digest_sink ^= out[0];
	an_sha256x2_free(&x);
}

static double best_of(int n, void (*f)(const uint8_t *, const uint8_t *, size_t), const uint8_t *d0,
		      const uint8_t *d1, size_t total)
{
	double best = 1e30;

	for (int i = 0; i < n; i++) {
		double t0 = cpu_seconds();
		f(d0, d1, total);
		double t = cpu_seconds() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	int n = argc > 2 ? atoi(argv[2]) : 5;
	size_t total = mib << 20;
	uint8_t *d0 = malloc(SPAN), *d1 = malloc(SPAN);

	if (!d0 || !d1 || mib == 0 || n < 1)
		return 1;
	for (size_t i = 0; i < SPAN; i++) {
		d0[i] = (uint8_t)(i * 2654435761u >> 13);
		d1[i] = (uint8_t)(i * 40503u >> 7);
	}
	bool have_ni = an_sha256x2_force_portable(false);
	printf("2 x %zu MiB, %zu-byte updates in turn, best of %d (CPU s); SHA-NI %s\n", mib, (size_t)STEP, n,
	       have_ni ? "present" : "absent");
	double t_nettle = best_of(n, run_nettle, d0, d1, total);
	double t_pair = best_of(n, run_pair, d0, d1, total);
	an_sha256x2_force_portable(true);
	double t_portable = best_of(n, run_pair, d0, d1, total);
	double mb = 2.0 * (double)total / 1e6;
	printf("nettle, two contexts   %.3f s  %6.0f MB/s\n", t_nettle, mb / t_nettle);
	printf("pair (%s)        %.3f s  %6.0f MB/s  %.2fx nettle\n", have_ni ? "SHA-NI x2" : "portable ", t_pair,
	       mb / t_pair, t_nettle / t_pair);
	printf("pair, forced portable  %.3f s  %6.0f MB/s  %.2fx nettle\n", t_portable, mb / t_portable,
	       t_nettle / t_portable);
#if defined(__x86_64__)
	if (have_ni)
		print_ceiling();
#endif
	return digest_sink & 0 ? 1 : 0; /* the digests are used: not optimised away */
}
