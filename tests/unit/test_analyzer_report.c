/* tests/unit/test_analyzer_report.c — the JSON writer and the report:
 * output always parses (jansson reads it back), hostile strings and
 * non-finite numbers cannot break it, the schema's fields are where
 * docs/analyzer.md says, and libsndfile's log is filtered to the lines
 * that report damage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sndfile.h>
#include <string.h>

#include "analyzer/json.h"
#include "analyzer/report.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &err);

	if (!v)
		fail_msg("invalid JSON (%s) in: %s", err.text, text);
	return v;
}

/* ---- writer ----------------------------------------------------------- */

static void test_json_nesting_and_commas(void **state)
{
	struct an_json j;
	const char *text;
	size_t len;

	an_json_init(&j);
	an_json_begin_object(&j, NULL);
	an_json_int(&j, "a", -3);
	an_json_begin_array(&j, "b");
	an_json_uint(&j, NULL, 1);
	an_json_bool(&j, NULL, true);
	an_json_null(&j, NULL);
	an_json_begin_object(&j, NULL);
	an_json_end_object(&j);
	an_json_end_array(&j);
	an_json_double(&j, "c", 0.5);
	an_json_end_object(&j);
	assert_int_equal(an_json_finish(&j, &text, &len), 0);
	assert_string_equal(text, "{\"a\":-3,\"b\":[1,true,null,{}],\"c\":0.5}\n");
	assert_int_equal(len, strlen(text));
	an_json_free(&j);
}

static void test_json_non_finite_numbers_are_null(void **state)
{
	struct an_json j;
	const char *text;
	size_t len;

	an_json_init(&j);
	an_json_begin_array(&j, NULL);
	an_json_double(&j, NULL, NAN);
	an_json_double(&j, NULL, INFINITY);
	an_json_double(&j, NULL, -INFINITY);
	an_json_double(&j, NULL, -0.0);
	an_json_double(&j, NULL, 1e-300);
	an_json_end_array(&j);
	assert_int_equal(an_json_finish(&j, &text, &len), 0);
	assert_string_equal(text, "[null,null,null,0,1e-300]\n");
	json_decref(parse(text));
	an_json_free(&j);
}

static void test_json_hostile_strings(void **state)
{
	/* quotes, backslashes, control bytes, a NUL, DEL and high bytes
	 * that are not UTF-8 */
	static const char raw[] = "a\"b\\c\n\t\x01\x1f\x7f\x80\xff\xc3(\0z";
	struct an_json j;
	const char *text;
	size_t len;

	an_json_init(&j);
	an_json_begin_object(&j, NULL);
	an_json_string_n(&j, "s\"k", raw, sizeof(raw) - 1);
	an_json_string(&j, "n", NULL);
	an_json_end_object(&j);
	assert_int_equal(an_json_finish(&j, &text, &len), 0);
	json_t *v = parse(text);
	json_t *s = json_object_get(v, "s\"k");
	assert_true(json_is_string(s));
	/* 0x80, 0xff, 0xc3 become Latin-1 code points (two UTF-8 bytes each), the
	 * NUL becomes U+FFFD (three) */
	assert_int_equal(json_string_length(s), sizeof(raw) - 1 + 3 + 2);
	assert_true(json_is_null(json_object_get(v, "n")));
	json_decref(v);
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)text[i] < 0x80);
	an_json_free(&j);
}

static void test_json_unbalanced_is_an_error(void **state)
{
	struct an_json j;
	const char *text;
	size_t len;

	an_json_init(&j);
	an_json_begin_object(&j, NULL);
	assert_int_equal(an_json_finish(&j, &text, &len), -EINVAL);
	an_json_free(&j);
	an_json_init(&j);
	an_json_end_array(&j);
	assert_int_equal(an_json_finish(&j, &text, &len), -EINVAL);
	an_json_free(&j);
}

static void test_json_grows(void **state)
{
	struct an_json j;
	const char *text;
	size_t len;

	an_json_init(&j);
	an_json_begin_array(&j, NULL);
	for (int i = 0; i < 20000; i++)
		an_json_string(&j, NULL, "0123456789");
	an_json_end_array(&j);
	assert_int_equal(an_json_finish(&j, &text, &len), 0);
	json_t *v = parse(text);
	assert_int_equal(json_array_size(v), 20000);
	json_decref(v);
	an_json_free(&j);
}

/* ---- report ----------------------------------------------------------- */

static void fill_report(struct an_report *r, struct an_channel_result ch[2])
{
	memset(r, 0, sizeof(*r));
	memset(ch, 0, 2 * sizeof(*ch));
	r->container = an_container_id(SF_FORMAT_WAV);
	r->container_name = "WAV (Microsoft)";
	r->codec = an_codec_id(SF_FORMAT_PCM_16);
	r->codec_name = "Signed 16 bit PCM";
	r->sample_rate = 48000;
	r->channels = 2;
	r->frames = 96000;
	r->frames_declared = 96000;
	r->ch = ch;
	r->file.level.peak_dbfs = -6.0;
	r->file.level.rms_dbfs = -INFINITY; /* digital silence reads null */
	r->file.level.crest_db = NAN;
	r->file.true_peak_dbtp = -5.9;
	r->clip_threshold = 32767.0f / 32768.0f;
	r->silence_window_s = 0.05;
	r->silence_windows = 40;
	r->centroid_hz = 1000.0;
	r->integrated_lufs = -23.0;
	r->range_lu = 4.5;
}

static void test_report_schema(void **state)
{
	struct an_report r;
	struct an_channel_result ch[2];
	struct an_json j;

	fill_report(&r, ch);
	an_json_init(&j);
	assert_int_equal(an_report_json(&r, &j), 0);
	json_t *v = parse(j.buf);
	assert_int_equal(json_integer_value(json_object_get(v, "schema")), AN_SCHEMA_VERSION);
	json_t *fmt = json_object_get(v, "format");
	assert_string_equal(json_string_value(json_object_get(fmt, "container")), "wav");
	assert_string_equal(json_string_value(json_object_get(fmt, "codec")), "pcm_16");
	assert_int_equal(json_integer_value(json_object_get(fmt, "frames")), 96000);
	assert_float_equal(json_number_value(json_object_get(fmt, "duration_s")), 2.0, 1e-12);
	json_t *lv = json_object_get(v, "levels");
	assert_float_equal(json_number_value(json_object_get(lv, "sample_peak_dbfs")), -6.0, 0);
	assert_true(json_is_null(json_object_get(lv, "rms_dbfs")));
	assert_true(json_is_null(json_object_get(lv, "crest_factor_db")));
	json_t *loud = json_object_get(v, "loudness");
	assert_float_equal(json_number_value(json_object_get(loud, "integrated_lufs")), -23.0, 0);
	assert_true(json_is_null(json_object_get(loud, "skipped")));
	assert_int_equal(json_array_size(json_object_get(v, "channels")), 2);
	json_t *dmg = json_object_get(v, "damage");
	assert_true(json_is_false(json_object_get(dmg, "damaged")));
	assert_int_equal(json_array_size(json_object_get(dmg, "decoder_log")), 0);
	json_t *sil = json_object_get(v, "silence");
	assert_float_equal(json_number_value(json_object_get(sil, "threshold_dbfs")), -60.0, 0);
	json_t *spec = json_object_get(v, "spectrum");
	assert_int_equal(json_integer_value(json_object_get(spec, "fft_size")), 2048);
	json_decref(v);
	an_json_free(&j);
}

static void test_report_damage_section(void **state)
{
	struct an_report r;
	struct an_channel_result ch[2];
	struct an_json j;

	fill_report(&r, ch);
	r.frames = 1000;
	r.frames_declared = 96000;
	r.truncated = true;
	r.io_errno = EIO;
	r.io_errors = 2;
	snprintf(r.decoder_error, sizeof(r.decoder_error), "Error in FLAC decoder.");
	an_report_take_log(&r, "RIFF : 960036 (should be 499992)\nWAVE\n", false);
	assert_true(an_report_damaged(&r));
	an_json_init(&j);
	assert_int_equal(an_report_json(&r, &j), 0);
	json_t *root = parse(j.buf);
	json_t *dmg = json_object_get(root, "damage");
	assert_true(json_is_true(json_object_get(dmg, "damaged")));
	assert_true(json_is_true(json_object_get(dmg, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(dmg, "frames_missing")), 95000);
	assert_string_equal(json_string_value(json_object_get(dmg, "decoder_error")),
			    "Error in FLAC decoder.");
	assert_string_equal(json_string_value(json_object_get(dmg, "io_error")), "Input/output error");
	assert_int_equal(json_array_size(json_object_get(dmg, "decoder_log")), 1);
	json_decref(root);
	an_json_free(&j);
}

static void test_report_log_filter(void **state)
{
	/* libsndfile's parse log of a truncated WAV, an Ogg without an end
	 * of stream and a FLAC that lost sync, with the usual noise */
	static const char log[] =
		"Length : 500000\n"
		"RIFF : 960036 (should be 499992)\n"
		"WAVE\n"
		"fmt  : 16\n"
		"  Format        : 0x1 => WAVE_FORMAT_PCM\n"
		"data : 960000 (should be 499956)\n"
		"End\n"
		"Ogg : File ended unexpectedly without an End-Of-Stream flag set.\n"
		"ERROR : FLAC__STREAM_DECODER_ERROR_STATUS_LOST_SYNC\n"
		"FLAC__stream_decoder_get_state returned FLAC__STREAM_DECODER_END_OF_STREAM\n"
		"  *** Unknown chunk marker (\x80\x81) at position 36.\n"
		"PCM end     : unknown\n";
	struct an_report r;

	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, log, false);
	assert_int_equal(r.log_lines, 5);
	assert_string_equal(r.log[0], "RIFF : 960036 (should be 499992)");
	assert_string_equal(r.log[1], "data : 960000 (should be 499956)");
	assert_string_equal(r.log[2],
			    "Ogg : File ended unexpectedly without an End-Of-Stream flag set.");
	assert_string_equal(r.log[3], "ERROR : FLAC__STREAM_DECODER_ERROR_STATUS_LOST_SYNC");
	assert_memory_equal(r.log[4], "*** Unknown chunk marker", 24);
}

static void test_report_log_truncation(void **state)
{
	struct an_report r;

	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, "RIFF : 960036 (should be 480014)\ndata : 960000 (should be 479978)\n", false);
	assert_true(an_report_log_says_truncated(&r));
	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, "FORM : 960080 (should be 480036)\n SSND : 960008 (should be 479964)\n", false);
	assert_true(an_report_log_says_truncated(&r));
	/* a header that under-states its size, or another field: not a cut */
	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, "RIFF : 100 (should be 960036)\n"
			       "  Bytes/sec     : 1000 (should be 192000)\n", false);
	assert_int_equal(r.log_lines, 2);
	assert_false(an_report_log_says_truncated(&r));
}

static void test_report_log_is_bounded(void **state)
{
	char log[8192];
	size_t off = 0;
	struct an_report r;

	for (int i = 0; i < 100 && off + 300 < sizeof(log); i++) {
		off += (size_t)snprintf(log + off, sizeof(log) - off, "*** warning %d ", i);
		memset(log + off, 'x', 250);
		off += 250;
		log[off++] = '\n';
	}
	log[off] = '\0';
	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, log, false);
	assert_int_equal(r.log_lines, AN_LOG_MAX_LINES);
	for (unsigned i = 0; i < r.log_lines; i++)
		assert_int_equal(strlen(r.log[i]), AN_LOG_LINE_MAX - 1);
}

/* What libsndfile logs for a long WAV, AIFF and W64 read from a pipe: all
 * of it restates the unknown length, none of it is damage; the same lines
 * from a file are. */
static void test_report_log_stream_artifacts(void **state)
{
	static const char log[] =
		"Warning : filelength > 0xffffffff. This is bad!!!!\n"
		"FORM : 105840080 (should be 4294967287)\n"
		"riff : 105840104 (should be 9223372036854775807)\n"
		"Error : psf_fread returned short count.\n"
		"data : 960000 (should be 499956)\n";
	struct an_report r;

	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, log, true);
	assert_int_equal(r.log_lines, 1);
	assert_string_equal(r.log[0], "data : 960000 (should be 499956)");
	memset(&r, 0, sizeof(r));
	an_report_take_log(&r, log, false);
	assert_int_equal(r.log_lines, 5);
}

static void test_report_error_object(void **state)
{
	struct an_json j;

	an_json_init(&j);
	assert_int_equal(an_report_error_json(&j, "Format not recognised.", "read_error", EISDIR), 0);
	assert_string_equal(j.buf, "{\"error\":\"Format not recognised.\",\"code\":\"read_error\","
				   "\"io_error\":\"Is a directory\"}\n");
	an_json_free(&j);
	an_json_init(&j);
	assert_int_equal(an_report_error_json(&j, "File has no data.", NULL, 0), 0);
	assert_string_equal(j.buf, "{\"error\":\"File has no data.\"}\n");
	an_json_free(&j);
}

static void test_format_ids(void **state)
{
	assert_string_equal(an_container_id(SF_FORMAT_FLAC), "flac");
	assert_string_equal(an_container_id(SF_FORMAT_OGG), "ogg");
	assert_string_equal(an_container_id(SF_FORMAT_MPEG), "mpeg");
	assert_string_equal(an_container_id(SF_FORMAT_RF64), "rf64");
	assert_string_equal(an_container_id(0x7f0000), "unknown");
	assert_string_equal(an_codec_id(SF_FORMAT_OPUS), "opus");
	assert_string_equal(an_codec_id(SF_FORMAT_MPEG_LAYER_III), "mp3");
	assert_string_equal(an_codec_id(SF_FORMAT_FLOAT), "float");
	assert_string_equal(an_codec_id(0xfff0), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_nesting_and_commas),
		cmocka_unit_test(test_json_non_finite_numbers_are_null),
		cmocka_unit_test(test_json_hostile_strings),
		cmocka_unit_test(test_json_unbalanced_is_an_error),
		cmocka_unit_test(test_json_grows),
		cmocka_unit_test(test_report_schema),
		cmocka_unit_test(test_report_damage_section),
		cmocka_unit_test(test_report_log_filter),
		cmocka_unit_test(test_report_log_truncation),
		cmocka_unit_test(test_report_log_is_bounded),
		cmocka_unit_test(test_report_log_stream_artifacts),
		cmocka_unit_test(test_report_error_object),
		cmocka_unit_test(test_format_ids),
	};
	return cmocka_run_group_tests_name("analyzer_report", tests, NULL, NULL);
}
