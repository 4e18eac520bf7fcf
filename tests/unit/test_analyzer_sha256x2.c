/* tests/unit/test_analyzer_sha256x2.c — the pair of SHA-256 streams
 * (analyzer/sha256x2.h) against nettle's sha256, the oracle: the NIST
 * vectors, every length to 300, the lengths around a block and around the
 * pending buffer, random splits of both streams interleaved in random
 * orders, large inputs, one stream empty; each on the SHA-NI path (a
 * visible skip on a CPU without it) and on the portable path, forced.
 * Then the analyzer's identity fields, whose audio hash shares the pair
 * with the input's bytes, from a file and a pipe on both paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/identity.h"
#include "analyzer/sha256x2.h"
#include "tests/analyzer/analyze.h"
#include "tests/analyzer/memfile.h"

/* The path a test runs: its prestate points at one of these. */
static bool portable_path = true, ni_path = false;

/* Select the path for every later init; skip when the CPU lacks it. */
static void use_path(void **state)
{
	bool portable = *(bool *)*state;
	bool have_ni = an_sha256x2_force_portable(portable);

	if (!portable && !have_ni) {
		print_message("# no SHA-NI path here (this CPU, or a build without the kernel): not tested\n");
		skip();
	}
}

static int back_to_cpuid(void **state)
{
	an_sha256x2_force_portable(false);
	return 0;
}

static void pair_init(struct an_sha256x2 *x, void **state)
{
	assert_int_equal(an_sha256x2_init(x), 0);
	assert_true(x->ready);
	/* the path asked for is the path taken */
	assert_int_equal(x->ni, !*(bool *)*state);
}

static void nettle_digest(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, len, data);
	sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

/* Stream i's digest equals nettle's of its bytes. */
static void expect_digest(const struct an_sha256x2 *x, unsigned i, const void *data, size_t len)
{
	uint8_t want[SHA256_DIGEST_SIZE], got[SHA256_DIGEST_SIZE];

	nettle_digest(data, len, want);
	an_sha256x2_digest(x, i, got);
	if (memcmp(want, got, sizeof(got)) != 0)
		fail_msg("stream %u, %zu bytes: digest differs from nettle's", i, len);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint8_t *random_bytes(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(next_random() >> 24);
	return p;
}

/* ---- known answers -------------------------------------------------------- */

static void expect_hex(const struct an_sha256x2 *x, unsigned i, const char *want)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[AN_SHA256_HEX];

	an_sha256x2_digest(x, i, d);
	an_sha256_hex(d, hex);
	assert_string_equal(hex, want);
}

static void test_nist_vectors(void **state)
{
	static const char abc[] = "abc";
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct an_sha256x2 x;

	use_path(state);
	pair_init(&x, state);
	expect_hex(&x, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_hex(&x, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	an_sha256x2_update(&x, 0, abc, 3);
	an_sha256x2_update(&x, 1, m448, strlen(m448));
	expect_hex(&x, 0, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_hex(&x, 1, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	an_sha256x2_free(&x);

	/* one million 'a' in each, in chunks of different sizes, interleaved */
	char a[1000];
	memset(a, 'a', sizeof(a));
	pair_init(&x, state);
	size_t done[2] = { 0, 0 };
	static const size_t chunk[2] = { 1000, 64 * 7 + 3 };
	while (done[0] < 1000000 || done[1] < 1000000) {
		for (unsigned i = 0; i < 2; i++) {
			size_t n = 1000000 - done[i] < chunk[i] ? 1000000 - done[i] : chunk[i];
			an_sha256x2_update(&x, i, a, n);
			done[i] += n;
		}
	}
	expect_hex(&x, 0, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	expect_hex(&x, 1, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	an_sha256x2_free(&x);
}

/* ---- lengths ----------------------------------------------------------- */

/* Stream 0 gets len0 bytes of d0, stream 1 len1 of d1, in updates of
 * step0 and step1 bytes taken in turn. */
static void feed_in_turn(void **state, const uint8_t *d0, size_t len0, size_t step0, const uint8_t *d1, size_t len1,
			 size_t step1)
{
	struct an_sha256x2 x;
	size_t done0 = 0, done1 = 0;

	pair_init(&x, state);
	while (done0 < len0 || done1 < len1) {
		size_t n0 = len0 - done0 < step0 ? len0 - done0 : step0;
		size_t n1 = len1 - done1 < step1 ? len1 - done1 : step1;
		an_sha256x2_update(&x, 0, d0 + done0, n0);
		an_sha256x2_update(&x, 1, d1 + done1, n1);
		done0 += n0;
		done1 += n1;
	}
	expect_digest(&x, 0, d0, len0);
	expect_digest(&x, 1, d1, len1);
	an_sha256x2_free(&x);
}

static void test_every_length_to_300(void **state)
{
	uint8_t *d0 = random_bytes(301), *d1 = random_bytes(301);

	use_path(state);
	for (size_t len = 0; len <= 300; len++) {
		feed_in_turn(state, d0, len, len ? len : 1, d1, 0, 1);     /* alone */
		feed_in_turn(state, d0, len, len ? len : 1, d1, 300 - len, 300); /* at once */
		feed_in_turn(state, d0, len, 1, d1, len, 7);               /* bytes and sevens */
		feed_in_turn(state, d0, len, 63, d1, 300, 65);             /* across blocks */
	}
	free(d0);
	free(d1);
}

/* Around one block, and around the pending buffer and twice it: the
 * paths where a stream overflows and goes alone. */
static void test_block_and_buffer_boundaries(void **state)
{
	const size_t B = AN_SHA2X2_BUF;
	const size_t centres[] = { 64, 128, B, 2 * B };
	uint8_t *d0 = random_bytes(2 * B + 200), *d1 = random_bytes(2 * B + 200);

	use_path(state);
	for (size_t c = 0; c < sizeof(centres) / sizeof(centres[0]); c++) {
		for (size_t len = centres[c] > 65 ? centres[c] - 65 : 0; len <= centres[c] + 65; len += c < 2 ? 1 : 3) {
			size_t whole = len ? len : 1;
			feed_in_turn(state, d0, len, whole, d1, 0, 1);
			feed_in_turn(state, d0, len, whole, d1, len, whole);
			feed_in_turn(state, d0, len, whole, d1, 2 * B + 200, 8192);
			feed_in_turn(state, d0, len, 8191, d1, len / 3, 32768);
			feed_in_turn(state, d0, len, B - 1, d1, len, B + 1);
		}
	}
	free(d0);
	free(d1);
}

/* ---- random splits ------------------------------------------------------- */

/* An update's size: bytes, a few blocks, the analyzer's 8 KiB and 32 KiB,
 * or beyond the buffer. */
static size_t random_step(void)
{
	switch (next_random() % 6) {
	case 0: return next_random() % 8;
	case 1: return next_random() % 200;
	case 2: return 64 * (next_random() % 5);
	case 3: return 8192 + next_random() % 3 - 1;
	case 4: return next_random() % 40000;
	default: return next_random() % (3 * AN_SHA2X2_BUF);
	}
}

static void test_random_splits_in_random_orders(void **state)
{
	use_path(state);
	for (int round = 0; round < 60; round++) {
		size_t len[2] = { next_random() % (3u << 20), next_random() % (3u << 20) };
		if (round % 10 == 0)
			len[round % 20 ? 1 : 0] = 0; /* one stream empty */
		uint8_t *d[2] = { random_bytes(len[0]), random_bytes(len[1]) };
		size_t done[2] = { 0, 0 };
		/* long runs of one stream as well as strict alternation */
		unsigned bias = (unsigned)(next_random() % 4);
		struct an_sha256x2 x;

		pair_init(&x, state);
		while (done[0] < len[0] || done[1] < len[1]) {
			unsigned i = bias == 0 ? (unsigned)(next_random() & 1)
				     : (unsigned)(next_random() % (bias + 2) == 0);
			if (done[i] == len[i])
				i ^= 1;
			size_t n = random_step();
			if (n > len[i] - done[i])
				n = len[i] - done[i];
			an_sha256x2_update(&x, i, d[i] + done[i], n);
			done[i] += n;
			/* a digest on the way leaves the stream as it was */
			if (next_random() % 50 == 0)
				expect_digest(&x, i, d[i], done[i]);
		}
		expect_digest(&x, 0, d[0], len[0]);
		expect_digest(&x, 1, d[1], len[1]);
		/* and they go on after a digest */
		an_sha256x2_update(&x, 1, "tail", 4);
		uint8_t *more = malloc(len[1] + 4);
		assert_non_null(more);
		memcpy(more, d[1], len[1]);
		memcpy(more + len[1], "tail", 4);
		expect_digest(&x, 1, more, len[1] + 4);
		expect_digest(&x, 0, d[0], len[0]);
		an_sha256x2_free(&x);
		free(more);
		free(d[0]);
		free(d[1]);
	}
}

/* Several MiB in the analyzer's patterns: a 16-bit WAV (input and audio
 * at one pace, the input a block ahead), a 24-bit WAV (the input runs
 * ahead), an MP3 (the audio runs far ahead), one stream alone. */
static void test_large_inputs(void **state)
{
	const size_t L = 9u << 20;
	uint8_t *d0 = random_bytes(L + 44), *d1 = random_bytes(L);

	use_path(state);
	feed_in_turn(state, d0, L + 44, 4 * 8192, d1, L, 32768);
	feed_in_turn(state, d0, L + 44, 6 * 8192, d1, 2 * L / 3, 32768);
	feed_in_turn(state, d0, L / 10, 16384, d1, L, 4 * 32768);
	feed_in_turn(state, d0, 0, 1, d1, L, 32768);
	feed_in_turn(state, d0, L, 1000003, d1, 0, 1);
	free(d0);
	free(d1);
}

/* ---- the analyzer -------------------------------------------------------- */

/* The input's SHA-256 in a report, as text. */
static void expect_input_sha256(const char *report, const struct memfile *m)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[AN_SHA256_HEX], field[AN_SHA256_HEX + 40];

	nettle_digest(m->data, (size_t)m->len, d);
	an_sha256_hex(d, hex);
	snprintf(field, sizeof(field), "\"input_sha256\":\"%s\"", hex);
	if (!strstr(report, field))
		fail_msg("no %s in %s", field, report);
}

/* The whole report of a file and of a pipe is the same on both paths, and
 * its input_sha256 is nettle's of the bytes: formats whose input runs
 * behind the audio (FLAC), at its pace (16-bit WAV) and ahead (24-bit,
 * float); a 60 s one beyond the pipe's kept head. */
static void test_analyzer_reports_equal_on_both_paths(void **state)
{
	static const struct {
		int format;
		unsigned channels;
		double seconds;
	} cases[] = {
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 5.0 },
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, 5.0 },
		{ SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 5.0 },
		{ SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 2, 5.0 },
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 60.0 },
	};
	bool have_ni = an_sha256x2_force_portable(false);

	if (!have_ni)
		print_message("# no SHA-NI path here: the portable path against itself only\n");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct memfile m;
		char path[] = "/tmp/sandrun-sha2x2-test.XXXXXX";
		char *file[2], *piped[2];

		assert_int_equal(memfile_sine(&m, cases[c].format, cases[c].channels, 44100, 997.0, -6.0,
					      cases[c].seconds), 0);
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(write(fd, m.data, (size_t)m.len), m.len);
		for (int portable = 0; portable < 2; portable++) {
			an_sha256x2_force_portable(portable);
			file[portable] = analyze_fd_text(fd);
			piped[portable] = analyze_pipe_text(m.data, (size_t)m.len);
			expect_input_sha256(file[portable], &m);
		}
		an_sha256x2_force_portable(false);
		close(fd);
		assert_string_equal(file[0], file[1]);
		assert_string_equal(piped[0], piped[1]);
		for (int k = 0; k < 2; k++) {
			free(file[k]);
			free(piped[k]);
		}
		memfile_free(&m);
	}
}

int main(void)
{
#define BOTH_PATHS(f)                                                                   \
	cmocka_unit_test_prestate_setup_teardown(f, NULL, back_to_cpuid, &ni_path),      \
	cmocka_unit_test_prestate_setup_teardown(f, NULL, back_to_cpuid, &portable_path)
	const struct CMUnitTest tests[] = {
		BOTH_PATHS(test_nist_vectors),
		BOTH_PATHS(test_every_length_to_300),
		BOTH_PATHS(test_block_and_buffer_boundaries),
		BOTH_PATHS(test_random_splits_in_random_orders),
		BOTH_PATHS(test_large_inputs),
		cmocka_unit_test_teardown(test_analyzer_reports_equal_on_both_paths, back_to_cpuid),
	};
	return cmocka_run_group_tests_name("analyzer_sha256x2", tests, NULL, NULL);
}
