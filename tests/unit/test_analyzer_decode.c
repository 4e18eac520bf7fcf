/* tests/unit/test_analyzer_decode.c — from bytes to report: every path
 * in (memory, regular-file descriptor, pipe) gives the same JSON; every
 * codec libsndfile decodes gives consistent loudness; malformed input
 * ends as bad_input with libsndfile's own text, or as a report whose
 * damage section says what went wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/input.h"
#include "tests/analyzer/analyze.h"
#include "tests/analyzer/memfile.h"
#include "tests/analyzer/report_json.h"
#include "tests/unit/testkit.h"

/* ---- helpers ---------------------------------------------------------- */

static char *analyze_memory_text(const void *data, size_t len)
{
	struct an_input in;
	struct an_json j;

	an_input_from_memory(&in, data, len);
	an_json_init(&j);
	an_analyze_to_json(&in, &j);
	char *text = strdup(j.buf);
	an_json_free(&j);
	return text;
}

/* ---- formats ------------------------------------------------------------ */

static void test_wav_from_memory(void **state)
{
	struct memfile m;
	json_t *r;

	assert_int_equal(memfile_sine(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 48000, 1000.0, -6.0, 1.0), 0);
	assert_int_equal(analyze_memory(m.data, (size_t)m.len, &r), AN_STATUS_OK);
	assert_string_equal(str(r, "format", "container"), "wav");
	assert_string_equal(str(r, "format", "codec"), "pcm_16");
	assert_int_equal((int)num(r, "format", "frames"), 48000);
	assert_int_equal((int)num(r, "format", "frames_declared"), 48000);
	assert_int_equal((int)num(r, "format", "channels"), 2);
	assert_float_equal(num(r, "format", "duration_s"), 1.0, 0);
	assert_float_equal(num(r, "levels", "sample_peak_dbfs"), -6.0, 0.01);
	assert_float_equal(num(r, "spectrum", "spectral_centroid_hz"), 1000.0, 30.0);
	assert_true(json_is_false(json_object_get(json_object_get(r, "damage"), "damaged")));
	json_decref(r);
	memfile_free(&m);
}

/* The same tone in every codec: lossless ones agree exactly on frames,
 * lossy ones within 0.5 LU on loudness. */
static void test_codecs_agree(void **state)
{
	static const struct {
		int format;
		const char *container, *codec;
		bool lossy;
	} cases[] = {
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_16, "wav", "pcm_16", false },
		{ SF_FORMAT_WAV | SF_FORMAT_FLOAT, "wav", "float", false },
		{ SF_FORMAT_AIFF | SF_FORMAT_PCM_24, "aiff", "pcm_24", false },
		{ SF_FORMAT_CAF | SF_FORMAT_PCM_16, "caf", "pcm_16", false },
		{ SF_FORMAT_W64 | SF_FORMAT_PCM_16, "w64", "pcm_16", false },
		{ SF_FORMAT_RF64 | SF_FORMAT_PCM_16, "rf64", "pcm_16", false },
		{ SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "flac", "pcm_16", false },
		{ SF_FORMAT_OGG | SF_FORMAT_VORBIS, "ogg", "vorbis", true },
		{ SF_FORMAT_OGG | SF_FORMAT_OPUS, "ogg", "opus", true },
		{ SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, "mpeg", "mp3", true },
	};
	double reference = NAN;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct memfile m;
		json_t *r;
		assert_int_equal(memfile_sine(&m, cases[i].format, 2, 48000, 1000.0, -20.0, 3.0), 0);
		assert_int_equal(analyze_memory(m.data, (size_t)m.len, &r), AN_STATUS_OK);
		assert_string_equal(str(r, "format", "container"), cases[i].container);
		assert_string_equal(str(r, "format", "codec"), cases[i].codec);
		double lufs = num(r, "loudness", "integrated_lufs");
		if (i == 0)
			reference = lufs;
		if (cases[i].lossy) {
			assert_float_equal(lufs, reference, 0.5);
			double frames = num(r, "format", "frames");
			assert_true(frames >= 144000 * 0.95 && frames <= 144000 * 1.05);
		} else {
			assert_float_equal(lufs, reference, 0.01);
			assert_int_equal((int)num(r, "format", "frames"), 144000);
		}
		json_decref(r);
		memfile_free(&m);
	}
}

/* ---- the same bytes through every kind of descriptor ------------------ */

static void test_memory_file_and_pipe_agree(void **state)
{
	static const int formats[] = {
		SF_FORMAT_WAV | SF_FORMAT_PCM_16,
		SF_FORMAT_FLAC | SF_FORMAT_PCM_16, /* seeks back to the start */
		SF_FORMAT_CAF | SF_FORMAT_PCM_16,  /* sf_open_fd() read 0 frames from a pipe */
		SF_FORMAT_OGG | SF_FORMAT_VORBIS,
	};

	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct memfile m;
		char path[] = "/tmp/sandrun-analyzer-test.XXXXXX";
		assert_int_equal(memfile_sine(&m, formats[f], 2, 44100, 440.0, -12.0, 2.0), 0);
		char *from_memory = analyze_memory_text(m.data, (size_t)m.len);

		int fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(write(fd, m.data, (size_t)m.len), m.len);
		char *from_file = analyze_fd_text(fd);
		close(fd);
		assert_string_equal(from_file, from_memory);

		char *from_pipe = analyze_pipe_text(m.data, (size_t)m.len);
		/* a short stream is read whole: the very same report */
		assert_string_equal(from_pipe, from_memory);
		free(from_memory);
		free(from_file);
		free(from_pipe);
		memfile_free(&m);
	}
}

/* ---- malformed input ---------------------------------------------------- */

static void expect_bad_input(const void *data, size_t len)
{
	json_t *r;

	assert_int_equal(analyze_memory(data, len, &r), AN_STATUS_BAD_INPUT);
	const char *e = json_string_value(json_object_get(r, "error"));
	assert_non_null(e);
	assert_true(strlen(e) > 0);
	json_decref(r);
}

static void test_empty_input(void **state)
{
	expect_bad_input("", 0);
}

static void test_header_zero_channels(void **state)
{
	uint8_t buf[44 + 400] = { 0 };

	wav_header(buf, 0, 48000, 16, 400);
	expect_bad_input(buf, sizeof(buf));
}

static void test_header_zero_rate(void **state)
{
	uint8_t buf[44 + 400] = { 0 };

	wav_header(buf, 2, 0, 16, 400);
	expect_bad_input(buf, sizeof(buf));
}

static void test_header_huge_rate_or_channels(void **state)
{
	static const struct {
		uint16_t channels;
		uint32_t rate;
	} lies[] = { { 2, 0xffffffffu }, { 2, 0x7fffffffu }, { 60000, 48000 }, { 1024, 0x7fffffffu } };

	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		uint8_t buf[44 + 4096];
		json_t *r;
		for (size_t k = 44; k < sizeof(buf); k++)
			buf[k] = (uint8_t)(k * 37);
		wav_header(buf, lies[i].channels, lies[i].rate, 16, 4096);
		enum an_status st = analyze_memory(buf, sizeof(buf), &r);
		if (st == AN_STATUS_OK) {
			/* accepted: then measured with bounded memory */
			assert_true(num(r, "format", "sample_rate") >= 1);
		} else {
			assert_non_null(json_string_value(json_object_get(r, "error")));
		}
		json_decref(r);
	}
}

static void test_truncated_wav_reports_damage(void **state)
{
	struct memfile m;
	json_t *r;

	assert_int_equal(memfile_sine(&m, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 48000, 1000.0, -6.0, 1.0), 0);
	assert_int_equal(analyze_memory(m.data, (size_t)m.len / 2, &r), AN_STATUS_OK);
	json_t *d = json_object_get(r, "damage");
	assert_true(json_is_true(json_object_get(d, "damaged")));
	assert_true(json_is_true(json_object_get(d, "truncated")));
	assert_true(json_array_size(json_object_get(d, "decoder_log")) >= 1);
	assert_true(num(r, "format", "frames") < 48000);
	json_decref(r);
	memfile_free(&m);
}

static void test_truncated_flac_is_short(void **state)
{
	struct memfile m;
	json_t *r;

	assert_int_equal(memfile_sine(&m, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 48000, 1000.0, -6.0, 4.0), 0);
	assert_int_equal(analyze_memory(m.data, (size_t)m.len / 2, &r), AN_STATUS_OK);
	json_t *d = json_object_get(r, "damage");
	assert_true(json_is_true(json_object_get(d, "truncated")));
	assert_true(json_integer_value(json_object_get(d, "frames_missing")) > 0);
	assert_int_equal((int)num(r, "format", "frames_declared"), 192000);
	json_decref(r);
	memfile_free(&m);
}

/* A FLAC whose STREAMINFO says 16 bits and whose frames carry 24: libsndfile
 * calls it PCM_16 but converts each frame by its own width. The report must
 * be the float path's (24 effective bits), never int16 codes truncated from
 * the 24-bit ones (review of the int16 path, 2026-12-04). */
static void test_flac_frames_wider_than_streaminfo(void **state)
{
	(void)state;
	struct memfile m;
	assert_int_equal(memfile_sine(&m, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1, 48000, 997.0, -0.9, 0.2), 0);
	assert_true(m.len > 22 && memcmp(m.data, "fLaC", 4) == 0);
	/* STREAMINFO's bits per sample - 1: bit 0 of byte 20, top nibble of 21 */
	assert_int_equal(((m.data[20] & 1) << 4) | (m.data[21] >> 4), 23);
	m.data[20] &= 0xfe;
	m.data[21] = (uint8_t)(0xf0 | (m.data[21] & 0x0f));
	char path[] = "/tmp/sandrun-flac16-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, m.data, (size_t)m.len), m.len);
	close(fd);
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	unlink(path);
	assert_non_null(sf); /* else this libsndfile refuses the case: nothing to test */
	sf_close(sf);
	assert_int_equal(info.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_16);
	json_t *r = analyze_report(m.data, (size_t)m.len);
	assert_int_equal(json_integer_value(report_field(r, "transcode", "effective_bits")), 24);
	json_decref(r);
	memfile_free(&m);
}

static void test_float_wav_with_nan(void **state)
{
	uint8_t buf[44 + 4 * 8];
	float samples[8] = { 0.5f, NAN, INFINITY, -0.25f, 0.1f, -INFINITY, 0.0f, 0.2f };
	json_t *r;

	wav_header(buf, 1, 8000, 32, sizeof(samples));
	put_le(buf + 20, 3, 2); /* WAVE_FORMAT_IEEE_FLOAT */
	memcpy(buf + 44, samples, sizeof(samples));
	assert_int_equal(analyze_memory(buf, sizeof(buf), &r), AN_STATUS_OK);
	json_t *d = json_object_get(r, "damage");
	assert_int_equal(json_integer_value(json_object_get(d, "non_finite_samples")), 3);
	assert_true(json_is_true(json_object_get(d, "damaged")));
	assert_float_equal(num(r, "levels", "sample_peak_dbfs"), 20.0 * log10(0.5), 1e-6);
	json_decref(r);
}

/* Random bytes behind each format's magic number: never a crash, and
 * either bad_input or a report. */
static void test_random_bytes_behind_magic(void **state)
{
	static const char *const magics[] = { "RIFF\x10\x00\x00\x00WAVEfmt ", "fLaC", "OggS",
					      "FORM\x00\x00\x10\x00" "AIFF", "caff", "ID3\x03",
					      "\xff\xfb\x90\x64" };
	uint32_t seed = 1;
	uint8_t buf[2048];

	for (size_t k = 0; k < sizeof(magics) / sizeof(magics[0]); k++) {
		for (int round = 0; round < 20; round++) {
			size_t mlen = strlen(magics[k]);
			for (size_t i = 0; i < sizeof(buf); i++) {
				seed = seed * 1103515245u + 12345u;
				buf[i] = (uint8_t)(seed >> 16);
			}
			memcpy(buf, magics[k], mlen);
			json_t *r;
			enum an_status st = analyze_memory(buf, 64 + (size_t)round * 97, &r);
			assert_true(st == AN_STATUS_OK || st == AN_STATUS_BAD_INPUT);
			json_decref(r);
		}
	}
}

static void test_directory_is_bad_input(void **state)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	char *text = analyze_fd_text(fd);
	close(fd);
	json_t *r = json_loads(text, 0, NULL);
	assert_non_null(r);
	assert_non_null(json_string_value(json_object_get(r, "error")));
	assert_string_equal(json_string_value(json_object_get(r, "io_error")), "Is a directory");
	json_decref(r);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_from_memory),
		cmocka_unit_test(test_codecs_agree),
		cmocka_unit_test(test_memory_file_and_pipe_agree),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_header_zero_channels),
		cmocka_unit_test(test_header_zero_rate),
		cmocka_unit_test(test_header_huge_rate_or_channels),
		cmocka_unit_test(test_truncated_wav_reports_damage),
		cmocka_unit_test(test_truncated_flac_is_short),
		cmocka_unit_test(test_float_wav_with_nan),
		cmocka_unit_test(test_flac_frames_wider_than_streaminfo),
		cmocka_unit_test(test_random_bytes_behind_magic),
		cmocka_unit_test(test_directory_is_bad_input),
	};
	return cmocka_run_group_tests_name("analyzer_decode", tests, NULL, NULL);
}
