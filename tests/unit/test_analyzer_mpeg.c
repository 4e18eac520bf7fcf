/* tests/unit/test_analyzer_mpeg.c — an MP3's declared length (analyzer/
 * mpeg.c): the Xing/Info, VBRI and LAME tags read from hand-made frames,
 * the parser on malformed and hostile bytes (every one refused or read
 * within the frame, never past it), and the whole path: a cut MP3 is
 * truncated with its frames_missing, a whole one is not, one without a
 * tag makes no claim. Files from ffmpeg and LAME are cut end to end in
 * tests/suites/analyzer.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/decode.h"
#include "analyzer/input.h"
#include "analyzer/mpeg.h"
#include "tests/analyzer/analyze.h"
#include "tests/analyzer/memfile.h"

struct bytes {
	const uint8_t *data;
	size_t len;
};

static size_t read_bytes(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct bytes *b = ctx;
	if (off >= b->len)
		return 0;
	size_t n = b->len - off < len ? (size_t)(b->len - off) : len;
	memcpy(buf, b->data + off, n);
	return n;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A frame header at p: version bits (3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5),
 * layer bits (1 = Layer III), bitrate and rate indexes, mono, CRC. */
static void header(uint8_t *p, unsigned version, unsigned layer, unsigned br, unsigned sr, int mono, int crc)
{
	p[0] = 0xFF;
	p[1] = (uint8_t)(0xE0 | version << 3 | layer << 1 | (crc ? 0 : 1));
	p[2] = (uint8_t)(br << 4 | sr << 2);
	p[3] = mono ? 0xC0 : 0x00;
}

/* An MPEG-1 Layer III 128 kb/s 44.1 kHz stereo frame (417 bytes) at p
 * with a Xing/Info tag (flags: frames, bytes, TOC, quality) and a LAME
 * tag giving delay and padding. */
static void xing_frame(uint8_t *p, const char *id, uint32_t frames, uint32_t bytes, unsigned delay,
		       unsigned padding, unsigned lowpass100)
{
	memset(p, 0, 417);
	header(p, 3, 1, 9, 0, 0, 0);
	uint8_t *x = p + 4 + 32;
	memcpy(x, id, 4);
	be32(x + 4, 0xF);
	be32(x + 8, frames);
	be32(x + 12, bytes);
	uint8_t *l = x + 120;
	memcpy(l, "LAME3.100", 9);
	l[10] = (uint8_t)lowpass100;
	l[21] = (uint8_t)(delay >> 4);
	l[22] = (uint8_t)((delay & 0xF) << 4 | padding >> 8);
	l[23] = (uint8_t)padding;
}

/* A frame at p (header() arguments) whose tag sits `at` bytes in: id,
 * flags 1 (frames only), the frame count. */
static void counts_only(uint8_t *p, size_t len, const uint8_t hdr[4], size_t at, const char *id, uint32_t frames)
{
	memset(p, 0, len);
	memcpy(p, hdr, 4);
	memcpy(p + at, id, 4);
	be32(p + at + 4, 1);
	be32(p + at + 8, frames);
}

static void test_xing_with_lame_tag(void **state)
{
	static uint8_t buf[1024];
	struct bytes b = { buf, 417 };
	struct an_mpeg_decl d;

	xing_frame(buf, "Xing", 384, 64643, 576, 792, 175);
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_string_equal(d.tag, "Xing");
	assert_int_equal(d.version, 1);
	assert_int_equal(d.layer, 3);
	assert_int_equal(d.sample_rate, 44100);
	assert_int_equal(d.channels, 2);
	assert_int_equal(d.samples_per_frame, 1152);
	assert_int_equal(d.tag_frame_bytes, 417);
	assert_int_equal(d.frames, 384);
	assert_int_equal(d.bytes, 64643);
	assert_true(d.lame);
	assert_int_equal(d.delay, 576);
	assert_int_equal(d.padding, 792);
	assert_int_equal(d.lowpass_hz, 17500);
	/* what LAME, sox and ffmpeg files decode to (measured): 441000 */
	assert_int_equal(d.samples, 384 * 1152 - 576 - 792);
}

static void test_info_without_lame_tag_behind_id3v2(void **state)
{
	static uint8_t buf[2048];
	struct an_mpeg_decl d;

	/* ID3v2.4 of 300 bytes (syncsafe 0x00 0x00 0x02 0x2C) */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "ID3\4\0\0\0\0\2\x2C", 10);
	xing_frame(buf + 310, "Info", 100, 41700, 0, 0, 0);
	memset(buf + 310 + 36 + 120, 0, 24); /* no LAME tag */
	struct bytes b = { buf, 310 + 417 };
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_string_equal(d.tag, "Info");
	assert_int_equal(d.tag_offset, 310);
	assert_false(d.lame);
	assert_int_equal(d.samples, 100 * 1152 - MPEG_DECODER_DELAY);
	/* an ID3v2 footer flag adds 10 bytes: the frame is then not there */
	buf[5] = 0x10;
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), -1);
}

static void test_vbri_and_mpeg2_mono(void **state)
{
	static uint8_t buf[512];
	struct bytes b = { buf, 417 };
	struct an_mpeg_decl d;

	memset(buf, 0, sizeof(buf));
	header(buf, 3, 1, 9, 0, 0, 0);
	memcpy(buf + 36, "VBRI", 4);
	be32(buf + 36 + 10, 123456);
	be32(buf + 36 + 14, 200);
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_string_equal(d.tag, "VBRI");
	assert_int_equal(d.bytes, 123456);
	assert_int_equal(d.frames, 200);
	assert_int_equal(d.samples, -1); /* its byte count only (mpeg.c) */

	/* MPEG-2 Layer III, 64 kb/s, 22.05 kHz, mono: 576 samples a frame,
	 * side info 9 bytes, frame 576/8 * 64000/22050 = 208 bytes */
	uint8_t h[4];
	header(h, 2, 1, 8, 0, 1, 0);
	counts_only(buf, sizeof(buf), h, 13, "Xing", 50);
	b.len = 208;
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_int_equal(d.version, 2);
	assert_int_equal(d.sample_rate, 22050);
	assert_int_equal(d.channels, 1);
	assert_int_equal(d.tag_frame_bytes, 208);
	assert_int_equal(d.samples, 50 * 576 - MPEG_DECODER_DELAY);
	assert_int_equal(d.bytes, 0);

	/* with a CRC after the header the tag moves 2 bytes on */
	header(h, 3, 1, 9, 0, 0, 1);
	counts_only(buf, sizeof(buf), h, 38, "Info", 10);
	b.len = 417;
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_int_equal(d.frames, 10);
}

static void test_parser_refuses_malformed(void **state)
{
	static uint8_t buf[1024];
	struct bytes b = { buf, 417 };
	struct an_mpeg_decl d;

	xing_frame(buf, "Xing", 384, 64643, 576, 792, 0);
	/* cut inside the header, inside the tag */
	for (size_t len = 0; len < 4 + 32 + 12; len++) {
		b.len = len;
		assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), -1);
	}
	/* cut before the LAME tag: the counts stand, no trim is claimed */
	b.len = 4 + 32 + 120 + 10;
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_false(d.lame);
	b.len = 417;
	/* no sync; reserved version; free format; bad bitrate; reserved rate */
	uint8_t h[4];
	memcpy(h, buf, 4);
	const uint8_t bad[][4] = {
		{ 0xFE, 0xFB, 0x90, 0x00 }, { 0xFF, 0xEB, 0x90, 0x00 }, { 0xFF, 0xFB, 0x00, 0x00 },
		{ 0xFF, 0xFB, 0xF0, 0x00 }, { 0xFF, 0xFB, 0x9C, 0x00 }, { 0xFF, 0xF9, 0x90, 0x00 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, bad[i], 4);
		assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), -1);
	}
	memcpy(buf, h, 4);
	/* padding larger than the frames: no length declared */
	xing_frame(buf, "Xing", 1, 0, 4095, 4095, 0);
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_int_equal(d.samples, -1);
	/* no frame count (flags 0) */
	be32(buf + 36 + 4, 0);
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_int_equal(d.samples, -1);
	/* Layer II with a Xing-like tag: no trim known, no length claimed */
	xing_frame(buf, "Xing", 10, 0, 0, 0, 0);
	header(buf, 3, 2, 9, 0, 0, 0);
	b.len = 1024;
	an_mpeg_parse(read_bytes, &b, &d);
	assert_int_equal(d.samples, -1);
	/* MPEG-2.5 at 8 kb/s: a 72-byte frame; the flags promise a TOC
	 * and a LAME tag that would lie past it: counts only */
	memset(buf, 0, sizeof(buf));
	header(buf, 0, 1, 1, 2, 1, 0); /* 8000 Hz */
	memcpy(buf + 13, "Xing", 4);
	be32(buf + 17, 0xF);
	be32(buf + 21, 7);
	be32(buf + 25, 504);
	memcpy(buf + 13 + 120, "LAME3.100", 9);
	buf[13 + 120 + 21] = 0xFF;
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), 0);
	assert_int_equal(d.tag_frame_bytes, 72);
	assert_false(d.lame);
	assert_int_equal(d.samples, 7 * 576 - MPEG_DECODER_DELAY);
	/* a VBRI tag needs 54 bytes of the frame: in a 48-byte read, refused */
	memset(buf, 0, sizeof(buf));
	header(buf, 3, 1, 9, 0, 0, 0);
	memcpy(buf + 36, "VBRI", 4);
	b.len = 48;
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), -1);
}

static void test_id3v2_hostile(void **state)
{
	static uint8_t buf[64];
	struct bytes b = { buf, sizeof(buf) };
	struct an_mpeg_decl d;

	/* not syncsafe; a size past the input; five tags in a row */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "ID3\3\0\0\x80\0\0\0", 10);
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), -1);
	memcpy(buf, "ID3\3\0\0\x7F\x7F\x7F\x7F", 10);
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), -1);
	for (int i = 0; i < 5; i++)
		memcpy(buf + 10 * i, "ID3\3\0\0\0\0\0\0", 10);
	assert_int_equal(an_mpeg_parse(read_bytes, &b, &d), -1);
}

/* ---- the whole path: libsndfile writes an MP3 with LAME's Info tag ---- */

static void test_cut_mp3_is_truncated(void **state)
{
	struct memfile m;
	struct an_mpeg_decl d;

	if (memfile_sine(&m, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 2, 44100, 440.0, -6.0, 4.0) != 0)
		skip();
	struct bytes b = { m.data, (size_t)m.len };
	if (an_mpeg_parse(read_bytes, &b, &d) < 0)
		skip(); /* this libsndfile writes no tag: nothing to test here */
	json_t *whole = analyze_report(m.data, (size_t)m.len);
	json_int_t frames = json_integer_value(report_field(whole, "format", "frames"));
	assert_int_equal(json_integer_value(report_field(whole, "format", "frames_declared")), frames);
	assert_true(json_is_false(report_field(whole, "damage", "damaged")));
	assert_int_equal(frames, d.samples);

	json_t *cut = analyze_report(m.data, (size_t)m.len * 6 / 10);
	json_int_t left = json_integer_value(report_field(cut, "format", "frames"));
	print_message("# cut to 60 %%: %lld of %lld frames\n", (long long)left, (long long)frames);
	assert_true(json_is_true(report_field(cut, "damage", "damaged")));
	assert_true(json_is_true(report_field(cut, "damage", "truncated")));
	assert_int_equal(json_integer_value(report_field(cut, "format", "frames_declared")), frames);
	assert_int_equal(json_integer_value(report_field(cut, "damage", "frames_missing")), frames - left);
	assert_true(left < frames * 7 / 10);
	assert_true(json_array_size(report_field(cut, "damage", "decoder_log")) >= 1);

	/* one byte short: the last frame is lost, and the byte count says so */
	json_t *end = analyze_report(m.data, (size_t)m.len - 1);
	assert_true(json_is_true(report_field(end, "damage", "truncated")));
	json_decref(whole);
	json_decref(cut);
	json_decref(end);
	memfile_free(&m);
}

/* The same file with its Info tag made a VBRI tag: no length is claimed
 * from VBRI (mpeg.c), but its byte count still finds the cut. */
static void test_vbri_bytes_find_a_cut(void **state)
{
	struct memfile m;
	struct an_mpeg_decl d;

	if (memfile_sine(&m, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 2, 44100, 440.0, -6.0, 4.0) != 0)
		skip();
	struct bytes b = { m.data, (size_t)m.len };
	if (an_mpeg_parse(read_bytes, &b, &d) < 0 || d.tag_offset != 0 || d.channels != 2 || d.version != 1)
		skip();
	uint8_t *f = m.data;
	memset(f + 36, 0, 26);
	memcpy(f + 36, "VBRI", 4);
	be32(f + 36 + 10, (uint32_t)m.len);
	be32(f + 36 + 14, d.frames);
	json_t *whole = analyze_report(m.data, (size_t)m.len);
	assert_true(json_is_null(report_field(whole, "format", "frames_declared")));
	assert_true(json_is_false(report_field(whole, "damage", "damaged")));
	json_t *cut = analyze_report(m.data, (size_t)m.len * 6 / 10);
	assert_true(json_is_true(report_field(cut, "damage", "truncated")));
	assert_int_equal(json_integer_value(report_field(cut, "damage", "frames_missing")), 0);
	json_t *log = report_field(cut, "damage", "decoder_log");
	bool said = false;
	for (size_t i = 0; i < json_array_size(log); i++)
		said |= strstr(json_string_value(json_array_get(log, i)), "VBRI tag: ") != NULL;
	assert_true(said);
	json_decref(whole);
	json_decref(cut);
	memfile_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xing_with_lame_tag),
		cmocka_unit_test(test_info_without_lame_tag_behind_id3v2),
		cmocka_unit_test(test_vbri_and_mpeg2_mono),
		cmocka_unit_test(test_parser_refuses_malformed),
		cmocka_unit_test(test_id3v2_hostile),
		cmocka_unit_test(test_cut_mp3_is_truncated),
		cmocka_unit_test(test_vbri_bytes_find_a_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
