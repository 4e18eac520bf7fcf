/* analyzer/fft.c — see fft.h. */
#include "analyzer/fft.h"

#include <math.h>
#include <string.h>

_Static_assert(AN_FFT_M == 1024, "five radix-4 stages: M must be 4^5");
_Static_assert(AN_LANES == 4, "load_z reads four lanes");

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

/* One radix-4 butterfly, its twiddles already applied, written to the
 * points p, p+s, p+2s, p+3s: y_q = sum_j x_j (-i)^(j q). */
static inline void butterfly(an_f32x4 *re, an_f32x4 *im, size_t p, size_t s, an_f32x4 ar, an_f32x4 ai,
			     an_f32x4 br, an_f32x4 bi, an_f32x4 cr, an_f32x4 ci, an_f32x4 dr, an_f32x4 di)
{
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

typedef float f32x2 __attribute__((vector_size(8)));

/* z[n] = x[2n] + i x[2n+1] across the lanes: one 64-bit load a lane. */
static inline void load_z(const float *const x[AN_LANES], size_t n, an_f32x4 *zr, an_f32x4 *zi)
{
	f32x2 a, b, c, d;

	memcpy(&a, x[0] + 2 * n, sizeof(a));
	memcpy(&b, x[1] + 2 * n, sizeof(b));
	memcpy(&c, x[2] + 2 * n, sizeof(c));
	memcpy(&d, x[3] + 2 * n, sizeof(d));
	an_f32x4 ab = __builtin_shufflevector(a, b, 0, 1, 2, 3), cd = __builtin_shufflevector(c, d, 0, 1, 2, 3);
	*zr = __builtin_shufflevector(ab, cd, 0, 2, 4, 6);
	*zi = __builtin_shufflevector(ab, cd, 1, 3, 5, 7);
}

/* The input read into base-4 digit-reversed order and the first stage
 * (span 1, every twiddle 1) in one pass: the points 4q .. 4q+3 hold
 * z[n + 256 t], t = 0 .. 3, where n is q's four base-4 digits reversed,
 * so q = order[4 n]. */
static void read_first_stage(const struct an_fft *f, const float *const x[AN_LANES], an_f32x4 *re, an_f32x4 *im)
{
	const size_t quarter = AN_FFT_M / 4;

	for (size_t n = 0; n < quarter; n++) {
		an_f32x4 ar, ai, br, bi, cr, ci, dr, di;
		load_z(x, n, &ar, &ai);
		load_z(x, n + quarter, &br, &bi);
		load_z(x, n + 2 * quarter, &cr, &ci);
		load_z(x, n + 3 * quarter, &dr, &di);
		butterfly(re, im, 4 * (size_t)f->order[4 * n], 1, ar, ai, br, bi, cr, ci, dr, di);
	}
}

/* The complex FFT's stages after the first (read_first_stage's), in
 * place; natural order out. */
static void later_stages(const struct an_fft *f, an_f32x4 *re, an_f32x4 *im)
{
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
				butterfly(re, im, p, s, re[p], im[p], br, bi, cr, ci, dr, di);
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
	read_first_stage(f, x, out->re, out->im);
	later_stages(f, out->re, out->im);
	split_real(f, out->re, out->im);
}

void an_fft_batch_real(const struct an_fft *f, an_fft_batch batch, unsigned n, struct an_fft_spectrum *out)
{
	const float *x[AN_LANES];

	for (unsigned l = 0; l < AN_LANES; l++) {
		if (l >= n)
			memset(batch[l], 0, sizeof(batch[l]));
		x[l] = batch[l];
	}
	an_fft_real(f, x, out);
}
