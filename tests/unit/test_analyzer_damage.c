/* tests/unit/test_analyzer_damage.c — what the analyzer calls damage and
 * what only a warning (analyzer/report.c, decode.c, riff.c): a cut WAV
 * declares what its header says (checked against the frames the test
 * wrote), implausible parameters, cosmetic header inconsistencies, MPEG
 * decoding that stops early, and the WAV header reader on hostile sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/decode.h"
#include "analyzer/input.h"
#include "analyzer/riff.h"
#include "tests/analyzer/analyze.h"
#include "tests/analyzer/memfile.h"

/* ---- helpers ---------------------------------------------------------- */

static void put(uint8_t *p, uint64_t v, int bytes, int be)
{
	for (int i = 0; i < bytes; i++)
		p[be ? bytes - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/* A PCM WAV (RIFF or RIFX) with a LIST chunk of odd size before the data
 * (padded, as the format wants), declaring data_bytes and holding `have`
 * bytes of audio. Returns the length. */
static size_t wav(uint8_t *buf, int be, unsigned ch, uint32_t rate, unsigned bits,
		  uint32_t data_bytes, size_t have)
{
	size_t o = 0;
	memcpy(buf, be ? "RIFX" : "RIFF", 4);
	put(buf + 4, 4 + 24 + 14 + 8 + data_bytes, 4, be);
	memcpy(buf + 8, "WAVEfmt ", 8);
	put(buf + 16, 16, 4, be);
	put(buf + 20, 1, 2, be);
	put(buf + 22, ch, 2, be);
	put(buf + 24, rate, 4, be);
	put(buf + 28, rate * ch * (bits / 8), 4, be);
	put(buf + 32, ch * (bits / 8), 2, be);
	put(buf + 34, bits, 2, be);
	o = 36;
	memcpy(buf + o, "LIST", 4);
	put(buf + o + 4, 5, 4, be);
	memcpy(buf + o + 8, "INFOx\0", 6); /* 5 bytes + 1 pad */
	o += 14;
	memcpy(buf + o, "data", 4);
	put(buf + o + 4, data_bytes, 4, be);
	o += 8;
	for (size_t i = 0; i < have; i++)
		buf[o + i] = (uint8_t)(i * 29);
	return o + have;
}

static json_t *analyze(const void *data, size_t len)
{
	json_t *r;
	assert_int_equal(analyze_memory(data, len, &r), AN_STATUS_OK);
	return r;
}

static json_t *get(json_t *r, const char *obj, const char *key)
{
	return json_object_get(json_object_get(r, obj), key);
}

static bool has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* ---- truncation: frames_declared is the header's -------------------- */

static void test_cut_wav_declares_its_header(void **state)
{
	struct memfile m;

	/* 48000 frames of stereo 16 bit written; 90 % of the bytes cut away */
	assert_int_equal(memfile_sine(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 48000, 1000.0, -6.0, 1.0), 0);
	size_t keep = 44 + 4 * 4800;
	json_t *r = analyze(m.data, keep);
	assert_int_equal(json_integer_value(get(r, "format", "frames")), 4800);
	assert_int_equal(json_integer_value(get(r, "format", "frames_declared")), 48000);
	assert_int_equal(json_integer_value(get(r, "damage", "frames_missing")), 48000 - 4800);
	assert_true(json_is_true(get(r, "damage", "truncated")));
	assert_true(json_is_true(get(r, "damage", "damaged")));
	json_decref(r);
	memfile_free(&m);
}

static void test_cut_rifx_and_list_chunk(void **state)
{
	static uint8_t buf[64 + 8000];
	/* RIFX (big-endian), mono 16 bit, 4000 frames declared, 1000 present */
	size_t len = wav(buf, 1, 1, 8000, 16, 8000, 2000);
	json_t *r = analyze(buf, len);
	assert_int_equal(json_integer_value(get(r, "format", "frames_declared")), 4000);
	assert_int_equal(json_integer_value(get(r, "damage", "frames_missing")), 3000);
	json_decref(r);
	/* whole: nothing missing, not damaged */
	len = wav(buf, 0, 2, 8000, 16, 8000, 8000);
	r = analyze(buf, len);
	assert_int_equal(json_integer_value(get(r, "format", "frames_declared")), 2000);
	assert_int_equal(json_integer_value(get(r, "format", "frames")), 2000);
	assert_true(json_is_false(get(r, "damage", "damaged")));
	json_decref(r);
}

static size_t read_mem(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct memfile *m = ctx;
	if (off >= (uint64_t)m->len)
		return 0;
	size_t n = (uint64_t)m->len - off < len ? (size_t)((uint64_t)m->len - off) : len;
	memcpy(buf, m->data + off, n);
	return n;
}

static void test_riff_parser_hostile_sizes(void **state)
{
	static uint8_t buf[256];
	struct memfile m = { .data = buf };
	struct an_riff_decl d;

	/* a chunk size that would wrap the offset: refused, no loop */
	m.len = (sf_count_t)wav(buf, 0, 1, 8000, 16, 100, 0);
	put(buf + 40, 0xfffffff0u, 4, 0); /* the LIST chunk's size */
	assert_int_equal(an_riff_parse(read_mem, &m, &d), -1);
	/* streaming sizes: 0 and 0xFFFFFFFF declare nothing */
	m.len = (sf_count_t)wav(buf, 0, 1, 8000, 16, 0xffffffffu, 10);
	assert_int_equal(an_riff_parse(read_mem, &m, &d), -1);
	m.len = (sf_count_t)wav(buf, 0, 1, 8000, 16, 0, 10);
	assert_int_equal(an_riff_parse(read_mem, &m, &d), -1);
	/* cut inside the header */
	m.len = 30;
	assert_int_equal(an_riff_parse(read_mem, &m, &d), -1);
	/* not a WAV at all */
	memcpy(buf, "FORM", 4);
	m.len = 200;
	assert_int_equal(an_riff_parse(read_mem, &m, &d), -1);
	/* 65 chunks before the data: the walk stops at RIFF_MAX_CHUNKS */
	size_t o = 12;
	memcpy(buf, "RIFF", 4);
	memcpy(buf + 8, "WAVE", 4);
	for (int i = 0; i < 30; i++, o += 8) {
		memcpy(buf + o, "junk", 4);
		put(buf + o + 4, 0, 4, 0);
	}
	m.len = (sf_count_t)o;
	assert_int_equal(an_riff_parse(read_mem, &m, &d), -1);
	/* RF64: the data size comes from ds64 */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "RF64", 4);
	put(buf + 4, 0xffffffffu, 4, 0);
	memcpy(buf + 8, "WAVEds64", 8);
	put(buf + 16, 28, 4, 0);
	put(buf + 20, 0, 8, 0);
	put(buf + 28, 6000000000ull, 8, 0); /* 6 GB of data */
	o = 20 + 28;
	memcpy(buf + o, "fmt ", 4);
	put(buf + o + 4, 16, 4, 0);
	put(buf + o + 8, 1, 2, 0);
	put(buf + o + 10, 2, 2, 0);
	put(buf + o + 12, 48000, 4, 0);
	put(buf + o + 20, 4, 2, 0);
	put(buf + o + 22, 16, 2, 0);
	o += 24;
	memcpy(buf + o, "data", 4);
	put(buf + o + 4, 0xffffffffu, 4, 0);
	m.len = (sf_count_t)(o + 8);
	assert_int_equal(an_riff_parse(read_mem, &m, &d), 0);
	assert_true(d.data_bytes == 6000000000ull);
	assert_int_equal(d.frames, 1500000000);
}

/* ---- implausible parameters ------------------------------------------ */

static void test_one_hertz_wav(void **state)
{
	static uint8_t buf[64 + 96000];
	size_t len = wav(buf, 0, 1, 1, 16, 96000, 96000);
	json_t *r = analyze(buf, len);
	/* 48,000 frames at 1 Hz: the 48,000 s duration is reported as it is,
	 * and flagged */
	assert_float_equal(json_number_value(get(r, "format", "duration_s")), 48000.0, 0.0);
	assert_true(has_string(get(r, "damage", "implausible"), "sample_rate"));
	assert_true(json_is_true(get(r, "damage", "damaged")));
	json_decref(r);
}

static void test_absurd_channel_count(void **state)
{
	static uint8_t buf[64 + 2 * 300 * 10];
	size_t len = wav(buf, 0, 300, 48000, 16, 2 * 300 * 10, 2 * 300 * 10);
	json_t *r = analyze(buf, len);
	assert_true(has_string(get(r, "damage", "implausible"), "channels"));
	assert_true(json_is_true(get(r, "damage", "damaged")));
	json_decref(r);
}

/* AIFF stores its rate as an 80-bit extended float; a NaN there comes
 * out of libsndfile 1.2.0 as 67,108,864 Hz. */
static void test_nan_rate_aiff(void **state)
{
	static uint8_t buf[128 + 9600];
	size_t o = 0;
	const unsigned frames = 4800;
	memcpy(buf, "FORM", 4);
	memcpy(buf + 8, "AIFFCOMM", 8);
	put(buf + 16, 18, 4, 1);
	put(buf + 20, 1, 2, 1);
	put(buf + 22, frames, 4, 1);
	put(buf + 26, 16, 2, 1);
	buf[28] = 0x7f, buf[29] = 0xff, buf[30] = 0xc0; /* exponent all ones, quiet NaN */
	o = 38;
	memcpy(buf + o, "SSND", 4);
	put(buf + o + 4, 8 + 2 * frames, 4, 1);
	o += 16 + 2 * frames;
	put(buf + 4, o - 8, 4, 1);
	json_t *r;
	enum an_status st = analyze_memory(buf, o, &r);
	if (st == AN_STATUS_OK) {
		print_message("# NaN rate read as %lld Hz\n", (long long)json_integer_value(get(r, "format", "sample_rate")));
		assert_true(has_string(get(r, "damage", "implausible"), "sample_rate"));
		assert_true(json_is_true(get(r, "damage", "damaged")));
	} else {
		assert_non_null(json_object_get(r, "error")); /* refused is fine too */
	}
	json_decref(r);
}

/* ---- cosmetic inconsistencies are warnings --------------------------- */

static void test_adpcm_byte_rate_is_a_warning(void **state)
{
	struct memfile m;

	/* IMA ADPCM as libsndfile writes it, then the byte rate changed to
	 * what ffmpeg writes (16000 for any rate): libsndfile logs
	 * "Bytes/sec : 16000 (should be ...)". */
	assert_int_equal(memfile_sine(&m, SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 2, 44100, 1000.0, -6.0, 1.0), 0);
	assert_true(memcmp(m.data + 12, "fmt ", 4) == 0);
	put((uint8_t *)m.data + 28, 16000, 4, 0);
	json_t *r = analyze(m.data, (size_t)m.len);
	assert_true(json_is_false(get(r, "damage", "damaged")));
	assert_int_equal(json_array_size(get(r, "damage", "decoder_log")), 0);
	assert_true(has_string(json_object_get(r, "warnings"), "header_inconsistent"));
	assert_int_equal(json_array_size(json_object_get(r, "warning_log")), 1);
	json_decref(r);
	memfile_free(&m);
}

static void test_log_lines_sorted(void **state)
{
	struct an_report r;

	memset(&r, 0, sizeof(r));
	an_report_take_log(&r,
			   "Bytes/sec     : 16000 (should be 44403)\n"
			   "  Block align : 2048 (should be 1024)\n"
			   "data : 705600 (should be 199922)\n"
			   "RIFF : 100 (should be 200)\n"
			   "*** Unknown chunk marker\n"
			   "Warning : something odd\n"
			   "Ogg : File ended unexpectedly\n",
			   false);
	assert_int_equal(r.log_lines, 7);
	const bool damage[7] = { false, false, true, false, true, false, true };
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(r.log_is_damage[i], damage[i]);
	assert_true(r.warnings & AN_WARN_HEADER_INCONSISTENT);
	assert_true(r.warnings & AN_WARN_DECODER_WARNING);
	assert_true(an_report_damaged(&r));
	/* the warnings alone are not damage */
	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, "Bytes/sec     : 16000 (should be 44403)\nWarning : x\n", false);
	assert_false(an_report_damaged(&r));
}

/* ---- MPEG that stops early ------------------------------------------- */

/* Without the fallback (as in this process), an MP3 with garbage in the
 * middle still shows as damaged: libsndfile's error, and stopped_early.
 * The recovery itself is checked end to end in tests/suites/formats.sh. */
static void test_mp3_with_garbage_is_damaged(void **state)
{
	struct memfile m;

	if (memfile_sine(&m, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 2, 44100, 440.0, -6.0, 4.0) != 0)
		skip();
	size_t len = (size_t)m.len, cut = len / 3, junk = 20000;
	uint8_t *buf = malloc(len + junk);
	assert_non_null(buf);
	memcpy(buf, m.data, cut);
	uint32_t seed = 1;
	for (size_t i = 0; i < junk; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[cut + i] = (uint8_t)(seed >> 16);
	}
	memcpy(buf + cut + junk, m.data + cut, len - cut);
	json_t *r = analyze(buf, len + junk);
	json_t *whole = analyze(m.data, len);
	double got = json_number_value(get(r, "format", "duration_s"));
	double full = json_number_value(get(whole, "format", "duration_s"));
	print_message("# libsndfile alone: %.2f s of %.2f s\n", got, full);
	if (got < 0.95 * full) {
		assert_true(json_is_true(get(r, "damage", "damaged")));
		assert_true(json_is_true(get(r, "damage", "stopped_early")) ||
			    json_is_string(get(r, "damage", "decoder_error")));
	}
	assert_true(json_is_false(get(whole, "damage", "damaged")));
	json_decref(r);
	json_decref(whole);
	free(buf);
	memfile_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_wav_declares_its_header),
		cmocka_unit_test(test_cut_rifx_and_list_chunk),
		cmocka_unit_test(test_riff_parser_hostile_sizes),
		cmocka_unit_test(test_one_hertz_wav),
		cmocka_unit_test(test_absurd_channel_count),
		cmocka_unit_test(test_nan_rate_aiff),
		cmocka_unit_test(test_adpcm_byte_rate_is_a_warning),
		cmocka_unit_test(test_log_lines_sorted),
		cmocka_unit_test(test_mp3_with_garbage_is_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
