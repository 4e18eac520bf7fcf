/* analyzer/fft.c — see fft.h. */
#include "analyzer/fft.h"

#include <math.h>

_Static_assert(AN_FFT_M == 1024, "five radix-4 stages: M must be 4^5");
_Static_assert(AN_LANES == 4, "the read transposes 4 x 4 blocks");

void an_fft_init(struct an_fft *f)
{
	/* In double, rounded once to float, as kissfft makes its own. */
	for (unsigned t = 0; t < AN_FFT_M; t++) {
		double ph = -2.0 * M_PI * (double)t / AN_FFT_M;
		f->tw_re[t] = (float)cos(ph);
		f->tw_im[t] = (float)sin(ph);
	}
	for (unsigned k = 0; k <= AN_FFT_M / 2; k++) {
		double ph = -M_PI * ((double)k / AN_FFT_M + 0.5);
		f->post_re[k] = (float)cos(ph);
		f->post_im[k] = (float)sin(ph);
	}
	for (unsigned n = 0; n < AN_FFT_M; n++) {
		unsigned r = 0, v = n;
		for (unsigned d = 0; d < 5; d++, v >>= 2)
			r = (r << 2) | (v & 3);
		f->order[n] = (uint16_t)r;
	}
}

/* (r + i im) *= (wr + i wi) */
static inline void cmul(an_f32x4 *r, an_f32x4 *i, an_f32x4 wr, an_f32x4 wi)
{
	an_f32x4 a = *r, b = *i;

	*r = a * wr - b * wi;
	*i = a * wi + b * wr;
}

/* One radix-4 butterfly on the points p, p+s, p+2s, p+3s, their twiddles
 * already applied: y_q = sum_p x_p (-i)^(p q). */
static inline void butterfly(an_f32x4 *re, an_f32x4 *im, size_t p, size_t s, an_f32x4 br, an_f32x4 bi,
			     an_f32x4 cr, an_f32x4 ci, an_f32x4 dr, an_f32x4 di)
{
	an_f32x4 ar = re[p], ai = im[p];
	an_f32x4 t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
	an_f32x4 t2r = br + dr, t2i = bi + di;
	an_f32x4 t3r = bi - di, t3i = dr - br; /* -i (b - d) */

	re[p] = t0r + t2r;
	im[p] = t0i + t2i;
	re[p + s] = t1r + t3r;
	im[p + s] = t1i + t3i;
	re[p + 2 * s] = t0r - t2r;
	im[p + 2 * s] = t0i - t2i;
	re[p + 3 * s] = t1r - t3r;
	im[p + 3 * s] = t1i - t3i;
}

/* z[n] = x[2n] + i x[2n+1] of every lane, into digit-reversed places:
 * four samples of four frames are one 4 x 4 transpose, whose columns
 * are x[4m .. 4m+3] across the frames. */
static void read_frames(const struct an_fft *f, const float *const x[AN_LANES], an_f32x4 *re, an_f32x4 *im)
{
	for (size_t m = 0; m < AN_FFT_N / 4; m++) {
		an_f32x4 r0 = an_load(x[0] + 4 * m), r1 = an_load(x[1] + 4 * m);
		an_f32x4 r2 = an_load(x[2] + 4 * m), r3 = an_load(x[3] + 4 * m);
		an_f32x4 a = __builtin_shufflevector(r0, r1, 0, 4, 1, 5);
		an_f32x4 b = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
		an_f32x4 c = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
		an_f32x4 d = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
		size_t p = f->order[2 * m], q = f->order[2 * m + 1];
		re[p] = __builtin_shufflevector(a, b, 0, 1, 4, 5);
		im[p] = __builtin_shufflevector(a, b, 2, 3, 6, 7);
		re[q] = __builtin_shufflevector(c, d, 0, 1, 4, 5);
		im[q] = __builtin_shufflevector(c, d, 2, 3, 6, 7);
	}
}

/* The complex FFT of M points in re/im, digit-reversed in, natural out. */
static void complex_fft(const struct an_fft *f, an_f32x4 *re, an_f32x4 *im)
{
	/* span 1: every twiddle is 1 */
	for (size_t p = 0; p < AN_FFT_M; p += 4)
		butterfly(re, im, p, 1, re[p + 1], im[p + 1], re[p + 2], im[p + 2], re[p + 3], im[p + 3]);
	for (size_t s = 4; s < AN_FFT_M; s *= 4) {
		const size_t stride = AN_FFT_M / (4 * s); /* exp(-2 pi i j / 4s) is tw[j * stride] */
		for (size_t j = 0; j < s; j++) {
			an_f32x4 w1r = an_splat(f->tw_re[j * stride]), w1i = an_splat(f->tw_im[j * stride]);
			an_f32x4 w2r = an_splat(f->tw_re[2 * j * stride]), w2i = an_splat(f->tw_im[2 * j * stride]);
			an_f32x4 w3r = an_splat(f->tw_re[3 * j * stride]), w3i = an_splat(f->tw_im[3 * j * stride]);
			for (size_t p = j; p < AN_FFT_M; p += 4 * s) {
				an_f32x4 br = re[p + s], bi = im[p + s];
				an_f32x4 cr = re[p + 2 * s], ci = im[p + 2 * s];
				an_f32x4 dr = re[p + 3 * s], di = im[p + 3 * s];
				cmul(&br, &bi, w1r, w1i);
				cmul(&cr, &ci, w2r, w2i);
				cmul(&dr, &di, w3r, w3i);
				butterfly(re, im, p, s, br, bi, cr, ci, dr, di);
			}
		}
	}
}

/* Z (M points, natural order) to X (bins 0 .. M), in place: each step
 * reads bins k and M-k and writes both. The arithmetic is kiss_fftr's. */
static void split_real(const struct an_fft *f, an_f32x4 *re, an_f32x4 *im)
{
	const an_f32x4 half = an_splat(0.5f), zero = an_splat(0.0f);
	an_f32x4 zr = re[0], zi = im[0];

	re[0] = zr + zi;
	im[0] = zero;
	re[AN_FFT_M] = zr - zi;
	im[AN_FFT_M] = zero;
	for (size_t k = 1; k <= AN_FFT_M / 2; k++) {
		const size_t j = AN_FFT_M - k;
		an_f32x4 pr = re[k], pi = im[k], nr = re[j], ni = -im[j]; /* Z[k], conj Z[M-k] */
		an_f32x4 f1r = pr + nr, f1i = pi + ni, twr = pr - nr, twi = pi - ni;
		cmul(&twr, &twi, an_splat(f->post_re[k]), an_splat(f->post_im[k]));
		re[k] = (f1r + twr) * half;
		im[k] = (f1i + twi) * half;
		re[j] = (f1r - twr) * half;
		im[j] = (twi - f1i) * half;
	}
}

void an_fft_real(const struct an_fft *f, const float *const x[AN_LANES], struct an_fft_spectrum *out)
{
	read_frames(f, x, out->re, out->im);
	complex_fft(f, out->re, out->im);
	split_real(f, out->re, out->im);
}
