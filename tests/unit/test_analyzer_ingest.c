/* tests/unit/test_analyzer_ingest.c — what ingestion measures beyond
 * levels and loudness (issue 16 section 3), on material whose answer is
 * known: content identity (the input's SHA-256, the decoded audio's),
 * the Chromaprint fingerprint, silence segments, loudness maxima, stereo.
 * The spectral summary, tempo, key and transcode signs are in
 * test_analyzer_spectral.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <chromaprint.h>
#include <limits.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/analysis.h"
#include "analyzer/fingerprint.h"
#include "analyzer/identity.h"
#include "analyzer/input.h"
#include "analyzer/report.h"
#include "tests/analyzer/memfile.h"
#include "tests/analyzer/report_json.h"

static void hex_of(const void *data, size_t len, char out[AN_SHA256_HEX])
{
	struct sha256_ctx c;
	uint8_t d[AN_SHA256_LEN];

	sha256_init(&c);
	sha256_update(&c, len, data);
	sha256_digest(&c, AN_SHA256_LEN, d);
	an_sha256_hex(d, out);
}

/* Feed `a` sections of a 1 kHz sine (amp 0: digital silence), the same
 * in every channel, in blocks of 4800 frames; then finish. */
struct section {
	double amp, seconds;
};

static void feed_sections(struct an_analysis *a, const struct section *sec, size_t nsec)
{
	const unsigned nch = a->channels;
	float *block = malloc(sizeof(float) * 4800 * nch);
	uint64_t t = 0;

	assert_non_null(block);
	for (size_t k = 0; k < nsec; k++) {
		uint64_t frames = (uint64_t)llround(sec[k].seconds * a->rate);
		while (frames > 0) {
			size_t n = frames < 4800 ? (size_t)frames : 4800;
			for (size_t i = 0; i < n; i++, t++) {
				float v = (float)(sec[k].amp * sin(2.0 * M_PI * 1000.0 * (double)(t % a->rate) / a->rate));
				for (unsigned c = 0; c < nch; c++)
					block[i * nch + c] = v;
			}
			an_analysis_push(a, block, n);
			frames -= n;
		}
	}
	an_analysis_finish(a);
	free(block);
}

/* ---- identity ------------------------------------------------------------ */

static void test_quantize_rounds_half_to_even_and_clamps(void **state)
{
	const float q = 1.0f / 32768.0f;

	assert_int_equal(an_audio_hash_quantize(0.0f), 0);
	assert_int_equal(an_audio_hash_quantize(0.5f), 16384);
	assert_int_equal(an_audio_hash_quantize(-1.0f), -32768);
	assert_int_equal(an_audio_hash_quantize(1.0f), 32767);    /* clamped */
	assert_int_equal(an_audio_hash_quantize(90.0f), 32767);
	assert_int_equal(an_audio_hash_quantize(-90.0f), -32768);
	assert_int_equal(an_audio_hash_quantize(1.5f * q), 2);    /* ties to even */
	assert_int_equal(an_audio_hash_quantize(2.5f * q), 2);
	assert_int_equal(an_audio_hash_quantize(-2.5f * q), -2);
	assert_int_equal(an_audio_hash_quantize(0.49f * q), 0);
	assert_int_equal(an_audio_hash_quantize(-12345.0f * q), -12345);
}

/* A 16-bit WAV written by hand: the audio hash is the SHA-256 of its
 * data chunk, byte for byte, and the input hash that of the whole file;
 * the same samples in FLAC give the same audio hash, another input hash. */
static void test_audio_hash_is_the_pcm_and_survives_flac(void **state)
{
	enum { FRAMES = 30000, CH = 2 };
	size_t data_bytes = FRAMES * CH * 2;
	uint8_t *wav = malloc(44 + data_bytes);
	short *pcm = malloc(sizeof(short) * FRAMES * CH);
	char want_audio[AN_SHA256_HEX], want_file[AN_SHA256_HEX];
	json_t *r;

	assert_non_null(wav);
	assert_non_null(pcm);
	wav_header(wav, CH, 44100, 16, (uint32_t)data_bytes);
	srand(7);
	for (size_t i = 0; i < FRAMES * CH; i++) {
		int v = (rand() % 65536) - 32768;
		put_le(wav + 44 + 2 * i, (uint32_t)(uint16_t)v, 2);
		pcm[i] = (short)v;
	}
	hex_of(wav + 44, data_bytes, want_audio);
	hex_of(wav, 44 + data_bytes, want_file);
	assert_int_equal(analyze_memory(wav, 44 + data_bytes, &r), AN_STATUS_OK);
	assert_string_equal(str(r, "identity", "audio_sha256"), want_audio);
	assert_string_equal(str(r, "identity", "input_sha256"), want_file);
	assert_int_equal((int)num(r, "identity", "input_bytes"), (int)(44 + data_bytes));
	json_decref(r);

	/* the same samples as FLAC, written by libsndfile (as shorts: its
	 * float writer scales by 32767) */
	struct memfile m = { 0 };
	SF_VIRTUAL_IO vio = { mf_len, mf_seek, mf_read, mf_write, mf_tell };
	SF_INFO info = { .samplerate = 44100, .channels = CH, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16 };
	SNDFILE *sf = sf_open_virtual(&vio, SFM_WRITE, &info, &m);
	assert_non_null(sf);
	assert_int_equal(sf_writef_short(sf, pcm, FRAMES), FRAMES);
	assert_int_equal(sf_close(sf), 0);
	assert_int_equal(analyze_memory(m.data, (size_t)m.len, &r), AN_STATUS_OK);
	assert_string_equal(str(r, "format", "container"), "flac");
	assert_string_equal(str(r, "identity", "audio_sha256"), want_audio);
	assert_string_not_equal(str(r, "identity", "input_sha256"), want_file);
	json_decref(r);
	memfile_free(&m);
	free(pcm);
	free(wav);
}

/* Block boundaries do not matter: pushed in 1, 7 and 4096 frames. */
/* A file's input hash is taken from the bytes libsndfile reads, as far
 * as they join on from offset 0, and the rest is read afterwards: any
 * read pattern (overlaps, a gap, reads past the end, none at all) gives
 * the digest of the whole file. */
static void file_hash_after(const uint8_t *data, size_t len, const long (*reads)[2], size_t nreads)
{
	char path[] = "/tmp/sandrun-test-inhash.XXXXXX", want[AN_SHA256_HEX], got[AN_SHA256_HEX];
	int fd = mkstemp(path);
	struct an_input in;
	uint8_t buf[4096];
	uint64_t bytes = 0;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(an_input_from_fd(&in, fd), 0);
	for (size_t i = 0; i < nreads; i++) {
		assert_int_equal(an_input_vio.seek(reads[i][0], SEEK_SET, &in), reads[i][0]);
		an_input_vio.read(buf, reads[i][1], &in);
	}
	assert_true(an_input_sha256(&in, false, got, &bytes));
	hex_of(data, len, want);
	assert_string_equal(got, want);
	assert_int_equal((int)bytes, (int)len);
	an_input_release(&in);
	close(fd);
}

static void test_input_hash_of_a_file_whatever_was_read(void **state)
{
	enum { LEN = 10000 };
	static const long none[1][2] = { { 0, 0 } };
	static const long front_to_back[4][2] = { { 0, 12 }, { 12, 4000 }, { 4012, 4000 }, { 8012, 4096 } };
	static const long overlaps[4][2] = { { 0, 100 }, { 50, 300 }, { 0, 10 }, { 349, 2 } };
	static const long gap[3][2] = { { 0, 100 }, { 200, 4000 }, { 9000, 4096 } };
	static const long ahead[2][2] = { { 5000, 100 }, { 0, 20 } };
	uint8_t *data = malloc(LEN);

	assert_non_null(data);
	for (size_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 7));
	file_hash_after(data, LEN, none, 1);
	file_hash_after(data, LEN, front_to_back, 4);
	file_hash_after(data, LEN, overlaps, 4);
	file_hash_after(data, LEN, gap, 3);
	file_hash_after(data, LEN, ahead, 2);
	file_hash_after(data, 0, none, 1);
	free(data);
}

static void test_audio_hash_block_size_independent(void **state)
{
	enum { N = 10000 };
	float *x = malloc(sizeof(float) * N);
	char ref[AN_SHA256_HEX] = "";
	const size_t chunks[] = { 1, 7, 4096, N };

	assert_non_null(x);
	for (size_t i = 0; i < N; i++)
		x[i] = (float)sin(0.01 * (double)i) * 0.7f;
	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		struct an_audio_hash h;
		char hex[AN_SHA256_HEX];
		an_audio_hash_init(&h);
		for (size_t done = 0; done < N; done += chunks[k])
			an_audio_hash_push(&h, x + done, N - done < chunks[k] ? N - done : chunks[k]);
		an_audio_hash_hex(&h, hex);
		if (k == 0)
			memcpy(ref, hex, sizeof(ref));
		assert_string_equal(hex, ref);
	}
	free(x);
}

/* Samples that came as int16 are hashed as their codes: the same digest
 * as quantizing code * 2^-15 (every one of the 65,536 codes quantizes back
 * to itself), in any block sizes. */
static void test_audio_hash_s16_matches(void **state)
{
	(void)state;
	enum { N = 65536 };
	int16_t *codes = malloc(sizeof(int16_t) * N);
	float *x = malloc(sizeof(float) * N);
	assert_non_null(codes);
	assert_non_null(x);
	for (size_t i = 0; i < N; i++) {
		codes[i] = (int16_t)((i * 40503u) & 0xffff); /* every code once, shuffled */
		x[i] = (float)codes[i] * (1.0f / 32768.0f);
		assert_int_equal(an_audio_hash_quantize(x[i]), codes[i]);
	}
	struct an_audio_hash hf, hs;
	char want[AN_SHA256_HEX], got[AN_SHA256_HEX];
	an_audio_hash_init(&hf);
	an_audio_hash_push(&hf, x, N);
	an_audio_hash_hex(&hf, want);
	an_audio_hash_init(&hs);
	for (size_t done = 0, step = 1; done < N; done += step, step = step * 3 + 1)
		an_audio_hash_push_s16(&hs, codes + done, N - done < step ? N - done : step);
	an_audio_hash_hex(&hs, got);
	assert_string_equal(got, want);
	free(codes);
	free(x);
}

/* ---- silence ------------------------------------------------------------- */

static void test_silence_segments_of_a_known_signal(void **state)
{
	/* 1 s silence, 3 s tone, 0.3 s silence (too short to be a segment),
	 * 2 s tone, 1 s silence, 1 s tone, 2 s silence: 10.3 s */
	const struct section sec[] = { { 0, 1 }, { 0.1, 3 }, { 0, 0.3 }, { 0.1, 2 },
				       { 0, 1 },  { 0.1, 1 }, { 0, 2 } };
	struct an_analysis a;

	assert_int_equal(an_analysis_init(&a, 2, 48000, 1.0f, 4800), 0);
	feed_sections(&a, sec, sizeof(sec) / sizeof(sec[0]));
	const struct an_silence *s = &a.levels.silence;
	assert_int_equal(an_silence_leading(s), 48000);
	assert_int_equal(an_silence_trailing(s), 96000);
	assert_int_equal(s->segments, 3);
	assert_int_equal(s->listed, 3);
	assert_int_equal(s->seg[0].start, 0);
	assert_int_equal(s->seg[0].end, 48000);
	assert_int_equal(s->seg[1].start, 6300 * 48);     /* 6.3 s */
	assert_int_equal(s->seg[1].end, 7300 * 48);
	assert_int_equal(s->seg[2].start, 8300 * 48);
	assert_int_equal(s->seg[2].end, 10300 * 48);
	assert_int_equal(s->silent_frames, 4 * 48000);
	an_analysis_free(&a);

	/* -59 dBFS RMS is sound, -61 dBFS RMS silence (sine RMS = amp/sqrt2) */
	const struct section edge[] = { { sqrt(2.0) * pow(10.0, -61.0 / 20.0), 1 },
					{ sqrt(2.0) * pow(10.0, -59.0 / 20.0), 1 } };
	assert_int_equal(an_analysis_init(&a, 1, 48000, 1.0f, 4800), 0);
	feed_sections(&a, edge, 2);
	assert_int_equal(an_silence_leading(&a.levels.silence), 48000);
	assert_int_equal(an_silence_trailing(&a.levels.silence), 0);
	an_analysis_free(&a);
}

static void test_silence_all_silent_and_the_cap(void **state)
{
	struct an_silence s;

	an_silence_init(&s, 1000);
	for (int i = 0; i < 40; i++)
		an_silence_window(&s, true, 50);
	an_silence_finish(&s);
	assert_int_equal(an_silence_leading(&s), 2000);
	assert_int_equal(an_silence_trailing(&s), 2000);
	assert_int_equal(s.segments, 1);

	/* 150 segments of 0.5 s between 50 ms of sound: 100 listed, all counted */
	an_silence_init(&s, 1000);
	for (int k = 0; k < 150; k++) {
		an_silence_window(&s, false, 50);
		for (int i = 0; i < 10; i++)
			an_silence_window(&s, true, 50);
	}
	an_silence_window(&s, false, 50);
	/* a run of 0.45 s is not a segment */
	for (int i = 0; i < 9; i++)
		an_silence_window(&s, true, 50);
	an_silence_finish(&s);
	assert_int_equal(s.segments, 150);
	assert_int_equal(s.listed, AN_SILENCE_MAX_SEGMENTS);
	assert_int_equal(s.seg[99].start, 99 * 550 + 50);
	assert_int_equal(s.seg[99].end, 100 * 550);
	assert_int_equal(an_silence_leading(&s), 0);
	assert_int_equal(an_silence_trailing(&s), 450);
}

/* ---- loudness maxima and PLR ------------------------------------------- */

/* A stereo 1 kHz sine at X dBFS per channel reads X LUFS (Tech 3341 #1).
 * A 1 s burst at -10 dBFS in 12 s at -30: the loudest 400 ms block is the
 * burst, -10; the loudest 3 s window holds all of it and 2 s at -30:
 * 10 log10((0.1 + 2 * 0.001) / 3) = -14.685 LUFS. */
static void test_loudness_maxima_of_a_burst(void **state)
{
	const double a30 = pow(10.0, -30.0 / 20.0), a10 = pow(10.0, -10.0 / 20.0);
	const struct section sec[] = { { a30, 6 }, { a10, 1 }, { a30, 5 } };
	struct an_analysis a;
	double m, st;

	assert_int_equal(an_analysis_init(&a, 2, 48000, 1.0f, 4800), 0);
	feed_sections(&a, sec, 3);
	an_loudness_maxima(&a.loudness, &m, &st);
	assert_float_equal(m, -10.0, 0.05);
	assert_float_equal(st, 10.0 * log10((0.1 + 2 * 0.001) / 3.0), 0.05);
	an_analysis_free(&a);

	/* shorter than 3 s: no short-term value; shorter than 400 ms: none */
	const struct section shortish[] = { { a10, 2 } }, tiny[] = { { a10, 0.3 } };
	assert_int_equal(an_analysis_init(&a, 2, 48000, 1.0f, 4800), 0);
	feed_sections(&a, shortish, 1);
	an_loudness_maxima(&a.loudness, &m, &st);
	assert_float_equal(m, -10.0, 0.05);
	assert_true(isinf(st) && st < 0);
	an_analysis_free(&a);
	assert_int_equal(an_analysis_init(&a, 2, 48000, 1.0f, 4800), 0);
	feed_sections(&a, tiny, 1);
	an_loudness_maxima(&a.loudness, &m, &st);
	assert_true(isinf(m) && m < 0);
	an_analysis_free(&a);
}

/* PLR = true peak - integrated: 0 for a stereo sine (peak X dBFS, X LUFS),
 * 3.01 for the same sine in mono (one channel: X - 3.01 LUFS). */
static void test_plr_of_sines(void **state)
{
	struct memfile m;
	json_t *r;

	assert_int_equal(memfile_sine(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 48000, 1000.0, -20.0, 10.0), 0);
	assert_int_equal(analyze_memory(m.data, (size_t)m.len, &r), AN_STATUS_OK);
	assert_float_equal(num(r, "loudness", "plr_lu"), 0.0, 0.05);
	assert_float_equal(num(r, "loudness", "momentary_max_lufs"), -20.0, 0.05);
	assert_float_equal(num(r, "loudness", "short_term_max_lufs"), -20.0, 0.05);
	json_decref(r);
	memfile_free(&m);
	assert_int_equal(memfile_sine(&m, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 48000, 1000.0, -20.0, 10.0), 0);
	assert_int_equal(analyze_memory(m.data, (size_t)m.len, &r), AN_STATUS_OK);
	assert_float_equal(num(r, "loudness", "plr_lu"), 3.01, 0.05);
	json_decref(r);
	memfile_free(&m);
}

/* ---- stereo ---------------------------------------------------------- */

enum stereo_case { SAME, INVERTED, INDEPENDENT, QUADRATURE, RIGHT_DEAD, HALF };

/* 10 s of 48 kHz stereo built from white noise (a fixed LCG) or sines. */
static void stereo_result(enum stereo_case k, struct an_stereo_result *out, int *dead)
{
	const size_t frames = 480000, block = 4800;
	float *x = malloc(sizeof(float) * 2 * block);
	uint32_t seed = 12345;
	struct an_analysis a;

	assert_non_null(x);
	assert_int_equal(an_analysis_init(&a, 2, 48000, 1.0f, block), 0);
	for (size_t done = 0; done < frames; done += block) {
		for (size_t i = 0; i < block; i++) {
			seed = seed * 1664525u + 1013904223u;
			float l = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.5f, r;
			seed = seed * 1664525u + 1013904223u;
			float other = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.5f;
			double t = 2.0 * M_PI * 440.0 * (double)((done + i) % 48000) / 48000.0;
			switch (k) {
			case SAME: r = l; break;
			case INVERTED: r = -l; break;
			case INDEPENDENT: r = other; break;
			case QUADRATURE: l = (float)(0.3 * sin(t)); r = (float)(0.3 * cos(t)); break;
			case RIGHT_DEAD: r = 0.0f; break;
			default: r = 0.5f * l; break;
			}
			x[2 * i] = l;
			x[2 * i + 1] = r;
		}
		an_analysis_push(&a, x, block);
	}
	an_analysis_finish(&a);
	assert_true(an_analysis_stereo(&a, out, dead));
	an_analysis_free(&a);
	free(x);
}

static void test_stereo_relations_known_in_closed_form(void **state)
{
	struct an_stereo_result s;
	int dead;

	stereo_result(SAME, &s, &dead);
	assert_float_equal(s.correlation, 1.0, 1e-6);
	assert_float_equal(s.fold_down_loss_db, 0.0, 1e-4);
	assert_true(isinf(s.side_to_mid_db) && s.side_to_mid_db < 0);
	assert_true(s.dual_mono);
	assert_false(s.inverted_polarity);
	assert_int_equal(dead, -1);

	stereo_result(INVERTED, &s, &dead);
	assert_float_equal(s.correlation, -1.0, 1e-6);
	assert_true(isinf(s.fold_down_loss_db) && s.fold_down_loss_db > 0); /* cancels */
	assert_false(s.dual_mono);
	assert_true(s.inverted_polarity);

	/* independent noise of equal level: r ~ 0 (n = 480000: sd 0.0014),
	 * half the power lost in the fold-down */
	stereo_result(INDEPENDENT, &s, &dead);
	assert_float_equal(s.correlation, 0.0, 0.01);
	assert_float_equal(s.fold_down_loss_db, 10.0 * log10(2.0), 0.05);
	assert_float_equal(s.side_to_mid_db, 0.0, 0.1);
	assert_false(s.dual_mono);
	assert_false(s.inverted_polarity);

	/* sin against cos: orthogonal over whole cycles */
	stereo_result(QUADRATURE, &s, &dead);
	assert_float_equal(s.correlation, 0.0, 1e-4);
	assert_float_equal(s.fold_down_loss_db, 10.0 * log10(2.0), 1e-3);

	stereo_result(RIGHT_DEAD, &s, &dead);
	assert_int_equal(dead, 1);
	assert_true(isnan(s.correlation));
	/* L alone: mean (L^2)/2, mid L^2/4: 3.01 dB */
	assert_float_equal(s.fold_down_loss_db, 10.0 * log10(2.0), 1e-3);

	/* R = L/2: fully correlated, not dual mono: side/mid = (1/4)^2/(3/4)^2 */
	stereo_result(HALF, &s, &dead);
	assert_float_equal(s.correlation, 1.0, 1e-6);
	assert_float_equal(s.side_to_mid_db, 20.0 * log10(1.0 / 3.0), 1e-3);
	assert_false(s.dual_mono);
}

/* ---- fingerprint ------------------------------------------------------- */

/* sandrun-decode beside this test's directory (build/test/tests/..); the
 * test is skipped when it is not built (make check builds the unit tests
 * only; make test builds both). */
static void decoder_or_skip(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = NULL;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
	}
	if (slash) {
		*slash = '\0';
		snprintf(out, len, "%s/../sandrun-decode", self);
	}
	if (!slash || access(out, X_OK) != 0)
		skip();
}

/* A chord progression (three sines per chord, 0.5 s each, decaying), its
 * notes shifted by `transpose` semitones, plus white noise of amplitude
 * `noise`, at rate Hz in stereo. */
static float *chords(uint32_t rate, double seconds, int transpose, double noise, size_t *frames)
{
	static const int prog[][3] = { { 0, 4, 7 }, { -3, 0, 4 }, { -7, -3, 0 }, { -5, -1, 2 } };
	size_t n = (size_t)(seconds * rate);
	float *x = malloc(sizeof(float) * 2 * n);
	uint32_t seed = 99;

	assert_non_null(x);
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / rate, in_chord = fmod(t, 0.5);
		const int *c = prog[(size_t)(t / 0.5) % 4];
		double v = 0.0;
		for (int k = 0; k < 3; k++) {
			double f = 261.63 * pow(2.0, (c[k] + transpose) / 12.0);
			v += 0.2 * exp(-3.0 * in_chord) * sin(2.0 * M_PI * f * t);
		}
		seed = seed * 1664525u + 1013904223u;
		v += noise * ((double)(seed >> 8) / 16777216.0 - 0.5);
		x[2 * i] = x[2 * i + 1] = (float)v;
	}
	*frames = n;
	return x;
}

/* Through the analysis with the fingerprint tap, as the analyzer runs it. */
static void fingerprint_of(const char *dec, const float *x, size_t frames, uint32_t rate,
			   struct an_report *r)
{
	struct an_fingerprint *fp = calloc(1, sizeof(*fp));
	struct an_analysis a;

	assert_non_null(fp);
	memset(r, 0, sizeof(*r));
	assert_int_equal(an_fingerprint_prepare(fp, dec), 0);
	assert_int_equal(an_analysis_init(&a, 2, rate, 1.0f, 4096), 0);
	an_analysis_set_tap(&a, &fp->tap);
	float *block = malloc(sizeof(float) * 2 * 4096);
	assert_non_null(block);
	for (size_t done = 0; done < frames; done += 4096) {
		size_t n = frames - done < 4096 ? frames - done : 4096;
		memcpy(block, x + 2 * done, sizeof(float) * 2 * n);
		an_analysis_push(&a, block, n);
	}
	an_analysis_finish(&a);
	fp->tap.finish(fp->tap.u, r);
	an_analysis_free(&a);
	free(block);
	free(fp);
}

/* Share of differing bits between two compressed fingerprints. */
static double bit_error_rate(const char *a, const char *b)
{
	uint32_t *fa, *fb;
	int na, nb, alg;
	long bits = 0;

	assert_int_equal(chromaprint_decode_fingerprint(a, (int)strlen(a), &fa, &na, &alg, 1), 1);
	assert_int_equal(chromaprint_decode_fingerprint(b, (int)strlen(b), &fb, &nb, &alg, 1), 1);
	int n = na < nb ? na : nb;
	assert_true(n > 0);
	for (int i = 0; i < n; i++)
		bits += __builtin_popcount(fa[i] ^ fb[i]);
	chromaprint_dealloc(fa);
	chromaprint_dealloc(fb);
	return (double)bits / (32.0 * n);
}

/* The analyzer's fingerprint is libchromaprint's own on the same samples
 * (quantized here with lrint, not the analyzer's code); a noisy copy is
 * a near duplicate, a transposed progression is not. */
static void test_fingerprint_is_chromaprints_and_finds_near_duplicates(void **state)
{
	char dec[PATH_MAX];
	size_t n;
	struct an_report r;

	decoder_or_skip(dec, sizeof(dec));
	float *x = chords(44100, 12.0, 0, 0.0, &n);
	fingerprint_of(dec, x, n, 44100, &r);
	assert_true(r.fingerprint.asked);
	assert_non_null(r.fingerprint.text);
	assert_float_equal(r.fingerprint.seconds, 12.0, 1e-9);

	int16_t *pcm = malloc(sizeof(int16_t) * 2 * n);
	assert_non_null(pcm);
	for (size_t i = 0; i < 2 * n; i++) {
		long v = lrint((double)x[i] * 32768.0);
		pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	ChromaprintContext *ctx = chromaprint_new(CHROMAPRINT_ALGORITHM_DEFAULT);
	char *want = NULL;
	assert_true(chromaprint_start(ctx, 44100, 2));
	assert_true(chromaprint_feed(ctx, pcm, (int)(2 * n)));
	assert_true(chromaprint_finish(ctx));
	assert_true(chromaprint_get_fingerprint(ctx, &want));
	assert_string_equal(r.fingerprint.text, want);

	struct an_report noisy, other;
	float *y = chords(44100, 12.0, 0, 0.3, &n);
	fingerprint_of(dec, y, n, 44100, &noisy);
	free(y);
	y = chords(44100, 12.0, 5, 0.0, &n);
	fingerprint_of(dec, y, n, 44100, &other);
	free(y);
	assert_non_null(noisy.fingerprint.text);
	assert_non_null(other.fingerprint.text);
	double near_dup = bit_error_rate(r.fingerprint.text, noisy.fingerprint.text);
	double unrelated = bit_error_rate(r.fingerprint.text, other.fingerprint.text);
	print_message("bit error rate: noisy copy %.4f, transposed %.4f\n", near_dup, unrelated);
	assert_true(near_dup < 0.10);
	assert_true(unrelated > 0.25);

	chromaprint_dealloc(want);
	chromaprint_free(ctx);
	free(r.fingerprint.text);
	free(noisy.fingerprint.text);
	free(other.fingerprint.text);
	free(pcm);
	free(x);
}

/* Only the first 120 s are sent; under 3 s there is no fingerprint. */
static void test_fingerprint_length_limits(void **state)
{
	char dec[PATH_MAX];
	size_t n;
	struct an_report r;

	decoder_or_skip(dec, sizeof(dec));
	float *x = chords(8000, 130.0, 0, 0.0, &n);
	fingerprint_of(dec, x, n, 8000, &r);
	assert_non_null(r.fingerprint.text);
	assert_float_equal(r.fingerprint.seconds, 120.0, 1e-9);
	free(r.fingerprint.text);
	free(x);
	x = chords(8000, 1.0, 0, 0.0, &n);
	fingerprint_of(dec, x, n, 8000, &r);
	assert_null(r.fingerprint.text);
	assert_string_equal(r.fingerprint.error, "too short for a fingerprint");
	free(x);
	assert_true(an_fingerprint_text_valid("AQAAA0mUaEkSZSoA", 16));
	assert_false(an_fingerprint_text_valid("AQAA\"}", 6));
	assert_false(an_fingerprint_text_valid("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantize_rounds_half_to_even_and_clamps),
		cmocka_unit_test(test_audio_hash_is_the_pcm_and_survives_flac),
		cmocka_unit_test(test_audio_hash_block_size_independent),
		cmocka_unit_test(test_audio_hash_s16_matches),
		cmocka_unit_test(test_input_hash_of_a_file_whatever_was_read),
		cmocka_unit_test(test_fingerprint_is_chromaprints_and_finds_near_duplicates),
		cmocka_unit_test(test_fingerprint_length_limits),
		cmocka_unit_test(test_silence_segments_of_a_known_signal),
		cmocka_unit_test(test_silence_all_silent_and_the_cap),
		cmocka_unit_test(test_loudness_maxima_of_a_burst),
		cmocka_unit_test(test_plr_of_sines),
		cmocka_unit_test(test_stereo_relations_known_in_closed_form),
	};
	return cmocka_run_group_tests_name("analyzer_ingest", tests, NULL, NULL);
}
