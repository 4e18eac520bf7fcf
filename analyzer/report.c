/* analyzer/report.c — see report.h. */
#include "analyzer/report.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <sndfile.h>
#include <string.h>

#ifndef SANDRUN_VERSION
#define SANDRUN_VERSION "unknown"
#endif

struct code_name {
	int code;
	const char *id;
};

static const struct code_name containers[] = {
	{ SF_FORMAT_WAV, "wav" },     { SF_FORMAT_AIFF, "aiff" },   { SF_FORMAT_AU, "au" },
	{ SF_FORMAT_RAW, "raw" },     { SF_FORMAT_PAF, "paf" },     { SF_FORMAT_SVX, "svx" },
	{ SF_FORMAT_NIST, "nist" },   { SF_FORMAT_VOC, "voc" },     { SF_FORMAT_IRCAM, "ircam" },
	{ SF_FORMAT_W64, "w64" },     { SF_FORMAT_MAT4, "mat4" },   { SF_FORMAT_MAT5, "mat5" },
	{ SF_FORMAT_PVF, "pvf" },     { SF_FORMAT_XI, "xi" },       { SF_FORMAT_HTK, "htk" },
	{ SF_FORMAT_SDS, "sds" },     { SF_FORMAT_AVR, "avr" },     { SF_FORMAT_WAVEX, "wavex" },
	{ SF_FORMAT_SD2, "sd2" },     { SF_FORMAT_FLAC, "flac" },   { SF_FORMAT_CAF, "caf" },
	{ SF_FORMAT_WVE, "wve" },     { SF_FORMAT_OGG, "ogg" },     { SF_FORMAT_MPC2K, "mpc2k" },
	{ SF_FORMAT_RF64, "rf64" },   { SF_FORMAT_MPEG, "mpeg" },
};

static const struct code_name codecs[] = {
	{ SF_FORMAT_PCM_S8, "pcm_s8" },       { SF_FORMAT_PCM_16, "pcm_16" },
	{ SF_FORMAT_PCM_24, "pcm_24" },       { SF_FORMAT_PCM_32, "pcm_32" },
	{ SF_FORMAT_PCM_U8, "pcm_u8" },       { SF_FORMAT_FLOAT, "float" },
	{ SF_FORMAT_DOUBLE, "double" },       { SF_FORMAT_ULAW, "ulaw" },
	{ SF_FORMAT_ALAW, "alaw" },           { SF_FORMAT_IMA_ADPCM, "ima_adpcm" },
	{ SF_FORMAT_MS_ADPCM, "ms_adpcm" },   { SF_FORMAT_GSM610, "gsm610" },
	{ SF_FORMAT_VOX_ADPCM, "vox_adpcm" }, { SF_FORMAT_NMS_ADPCM_16, "nms_adpcm_16" },
	{ SF_FORMAT_NMS_ADPCM_24, "nms_adpcm_24" }, { SF_FORMAT_NMS_ADPCM_32, "nms_adpcm_32" },
	{ SF_FORMAT_G721_32, "g721_32" },     { SF_FORMAT_G723_24, "g723_24" },
	{ SF_FORMAT_G723_40, "g723_40" },     { SF_FORMAT_DWVW_12, "dwvw_12" },
	{ SF_FORMAT_DWVW_16, "dwvw_16" },     { SF_FORMAT_DWVW_24, "dwvw_24" },
	{ SF_FORMAT_DWVW_N, "dwvw_n" },       { SF_FORMAT_DPCM_8, "dpcm_8" },
	{ SF_FORMAT_DPCM_16, "dpcm_16" },     { SF_FORMAT_VORBIS, "vorbis" },
	{ SF_FORMAT_OPUS, "opus" },           { SF_FORMAT_ALAC_16, "alac_16" },
	{ SF_FORMAT_ALAC_20, "alac_20" },     { SF_FORMAT_ALAC_24, "alac_24" },
	{ SF_FORMAT_ALAC_32, "alac_32" },     { SF_FORMAT_MPEG_LAYER_I, "mp1" },
	{ SF_FORMAT_MPEG_LAYER_II, "mp2" },   { SF_FORMAT_MPEG_LAYER_III, "mp3" },
};

static const char *lookup(const struct code_name *t, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].id;
	return "unknown";
}

const char *an_container_id(int major)
{
	return lookup(containers, sizeof(containers) / sizeof(containers[0]), major);
}

const char *an_codec_id(int subtype)
{
	return lookup(codecs, sizeof(codecs) / sizeof(codecs[0]), subtype);
}

static unsigned damage_log_lines(const struct an_report *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->log_lines; i++)
		n += r->log_is_damage[i];
	return n;
}

bool an_report_damaged(const struct an_report *r)
{
	return r->truncated || r->stopped_early || r->implausible || r->non_finite_samples ||
	       r->decoder_error[0] || r->io_errors || r->failed_seeks || damage_log_lines(r);
}

void an_report_check_plausible(struct an_report *r)
{
	/* 1000 Hz: below it no audio format in use records (telephony is
	 * 8000); 768 kHz: the fastest PCM converters. A 1 Hz WAV would
	 * otherwise report a 48,000 s duration, and an AIFF whose 80-bit rate
	 * is a NaN comes out of libsndfile as 67,108,864 Hz. 256 channels:
	 * beyond the largest ambisonic and array recordings. */
	r->implausible = 0;
	if (r->sample_rate < AN_PLAUSIBLE_RATE_MIN || r->sample_rate > AN_PLAUSIBLE_RATE_MAX)
		r->implausible |= AN_IMPLAUSIBLE_SAMPLE_RATE;
	if (r->channels > AN_PLAUSIBLE_CHANNELS_MAX)
		r->implausible |= AN_IMPLAUSIBLE_CHANNELS;
}

static bool contains_ci(const char *line, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(line + i, needle, n) == 0)
			return true;
	return false;
}

static bool log_line_reports_trouble(const char *line, size_t len)
{
	static const char *const markers[] = {
		"should be", "error", "warning", "unexpected", "truncat", "corrupt", "invalid",
	};

	if (len >= 3 && memcmp(line, "***", 3) == 0)
		return true;
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (contains_ci(line, len, markers[i]))
			return true;
	return false;
}

/* See an_report_take_log(): true for the lines a stream's unknown
 * length makes libsndfile write. */
static bool stream_artifact(const char *line, size_t len)
{
	static const char should_be[] = "(should be ";

	if (contains_ci(line, len, "filelength > 0xffffffff") ||
	    contains_ci(line, len, "psf_fread returned short count"))
		return true;
	for (size_t i = 0; i + sizeof(should_be) - 1 < len; i++) {
		if (strncmp(line + i, should_be, sizeof(should_be) - 1) != 0)
			continue;
		unsigned long long v = 0;
		for (size_t k = i + sizeof(should_be) - 1; k < len && line[k] >= '0' && line[k] <= '9'; k++)
			v = v > ULLONG_MAX / 10 ? ULLONG_MAX : v * 10 + (unsigned)(line[k] - '0');
		return v >= 0xfffffff0ull;
	}
	return false;
}

static bool line_says_shorter(const char *line);
static bool line_size_differs(const char *line);

/* Damage, or only a warning? See report.h. */
static bool log_line_is_damage(const char *line, size_t len, unsigned *warn)
{
	static const char *const damage[] = { "error", "unexpected", "truncat", "corrupt", "invalid" };

	if (line_says_shorter(line) || (len >= 3 && memcmp(line, "***", 3) == 0))
		return true;
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++)
		if (contains_ci(line, len, damage[i]))
			return true;
	*warn |= contains_ci(line, len, "should be") || line_size_differs(line) ? AN_WARN_HEADER_INCONSISTENT
										  : AN_WARN_DECODER_WARNING;
	return false;
}

void an_report_take_log(struct an_report *r, const char *log, bool stream)
{
	const char *p = log;

	while (*p && r->log_lines < AN_LOG_MAX_LINES) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		/* Leading blanks only indent the log; keep the words. */
		while (len > 0 && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		if (len > 0 && log_line_reports_trouble(p, len) && !(stream && stream_artifact(p, len))) {
			size_t keep = len < AN_LOG_LINE_MAX - 1 ? len : AN_LOG_LINE_MAX - 1;
			memcpy(r->log[r->log_lines], p, keep);
			r->log[r->log_lines][keep] = '\0';
			r->log_is_damage[r->log_lines] =
				log_line_is_damage(r->log[r->log_lines], keep, &r->warnings);
			r->log_lines++;
		}
		if (!end)
			break;
		p = end + 1;
	}
}

/* "<size field> : N (should be M)" with M < N, for the fields that hold a
 * container's or its data chunk's length: libsndfile clamps the frame
 * count to what the file holds, so this line is the only trace of a
 * file cut short (WAV, RF64, W64, AIFF). Other "should be" lines (a byte
 * rate, a block alignment) are inconsistencies, not truncation. */
/* -1: not a size line; else whether the file is shorter than declared. */
static int size_line(const char *line)
{
	static const char *const fields[] = { "RIFF", "RIFX", "riff", "FORM", "SSND",
					      "data", "Riff size", "Data size" };
	unsigned long long declared, actual;
	int used = 0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t n = strlen(fields[i]);
		if (strncmp(line, fields[i], n) != 0)
			continue;
		if (sscanf(line + n, " : %llu (should be %llu)%n", &declared, &actual, &used) == 2 &&
		    used > 0)
			return actual < declared;
	}
	return -1;
}

static bool line_says_shorter(const char *line)
{
	return size_line(line) == 1;
}

static bool line_size_differs(const char *line)
{
	return size_line(line) == 0;
}

bool an_report_log_says_truncated(const struct an_report *r)
{
	for (unsigned i = 0; i < r->log_lines; i++)
		if (line_says_shorter(r->log[i]))
			return true;
	return false;
}

/* The per-channel and whole-file level fields share their names. */
static void write_levels(struct an_json *j, const struct an_channel_result *c)
{
	const struct an_level_summary *l = &c->level;

	an_json_double(j, "sample_peak_dbfs", l->peak_dbfs);
	an_json_double(j, "true_peak_dbtp", c->true_peak_dbtp);
	an_json_double(j, "rms_dbfs", l->rms_dbfs);
	an_json_double(j, "dc_offset", l->dc_offset);
	an_json_double(j, "crest_factor_db", l->crest_db);
	an_json_uint(j, "clipped_samples", l->clipped);
	an_json_uint(j, "clipping_runs", l->clip_runs);
	an_json_uint(j, "over_full_scale_samples", l->over_full_scale);
	an_json_double(j, "zero_crossing_rate", l->zero_crossing_rate);
	an_json_double(j, "silence_ratio", l->silence_ratio);
}

/* Frames to seconds at the report's rate. */
static double seconds(const struct an_report *r, uint64_t frames)
{
	return r->sample_rate ? (double)frames / r->sample_rate : NAN;
}

static void write_silence_segments(struct an_json *j, const struct an_report *r)
{
	const struct an_silence *s = &r->silence;

	an_json_double(j, "leading_s", seconds(r, an_silence_leading(s)));
	an_json_double(j, "trailing_s", seconds(r, an_silence_trailing(s)));
	an_json_double(j, "min_segment_s", AN_SILENCE_MIN_SEGMENT_S);
	an_json_uint(j, "segment_count", s->segments);
	an_json_double(j, "segments_total_s", seconds(r, s->silent_frames));
	an_json_begin_array(j, "segments");
	for (unsigned i = 0; i < s->listed; i++) {
		an_json_begin_object(j, NULL);
		an_json_double(j, "start_s", seconds(r, s->seg[i].start));
		an_json_double(j, "end_s", seconds(r, s->seg[i].end));
		an_json_end_object(j);
	}
	an_json_end_array(j);
}

int an_report_json(const struct an_report *r, struct an_json *j)
{
	an_json_begin_object(j, NULL);
	an_json_int(j, "schema", AN_SCHEMA_VERSION);
	an_json_string(j, "analyzer", "sandrun-analyze " SANDRUN_VERSION);

	an_json_begin_object(j, "format");
	an_json_string(j, "container", r->container);
	an_json_string(j, "container_name", r->container_name);
	an_json_string(j, "codec", r->codec);
	an_json_string(j, "codec_name", r->codec_name);
	an_json_uint(j, "sample_rate", r->sample_rate);
	an_json_uint(j, "channels", r->channels);
	an_json_uint(j, "frames", r->frames);
	if (r->frames_declared >= 0)
		an_json_int(j, "frames_declared", r->frames_declared);
	else
		an_json_null(j, "frames_declared");
	an_json_double(j, "duration_s", r->sample_rate ? (double)r->frames / r->sample_rate : NAN);
	if (r->layout_source) {
		an_json_begin_array(j, "channel_layout");
		for (unsigned c = 0; c < r->channels && c < AN_LAYOUT_MAX; c++)
			an_json_string(j, NULL, an_chan_role_name(r->roles[c]));
		an_json_end_array(j);
	} else {
		an_json_null(j, "channel_layout");
	}
	an_json_string(j, "channel_layout_source", r->layout_source);
	an_json_end_object(j);

	an_json_begin_object(j, "levels");
	write_levels(j, &r->file);
	an_json_double(j, "clip_threshold", r->clip_threshold);
	an_json_bool(j, "over_full_scale", r->file.level.over_full_scale > 0);
	an_json_end_object(j);

	an_json_begin_object(j, "silence");
	an_json_double(j, "threshold_dbfs", AN_SILENCE_THRESHOLD_DBFS);
	an_json_double(j, "window_s", r->silence_window_s);
	an_json_uint(j, "windows", r->silence_windows);
	an_json_double(j, "ratio", r->file.level.silence_ratio);
	write_silence_segments(j, r);
	an_json_end_object(j);

	an_json_begin_object(j, "spectrum");
	an_json_double(j, "spectral_centroid_hz", r->centroid_hz);
	an_json_int(j, "fft_size", AN_FFT_SIZE);
	an_json_int(j, "hop", AN_FFT_HOP);
	an_json_string(j, "window", "hann");
	an_json_uint(j, "frames", r->fft_frames);
	an_json_uint(j, "frames_used", r->fft_frames_used);
	an_json_end_object(j);

	an_json_begin_object(j, "loudness");
	an_json_double(j, "integrated_lufs", r->integrated_lufs);
	an_json_double(j, "range_lu", r->range_lu);
	an_json_string(j, "standard", "ITU-R BS.1770-4, EBU R128, EBU Tech 3342 v4 (2016)");
	an_json_string(j, "skipped", r->loudness_skipped);
	an_json_double(j, "momentary_max_lufs", r->momentary_max_lufs);
	an_json_double(j, "short_term_max_lufs", r->short_term_max_lufs);
	/* Tech 3343's PLR: the true peak over the programme loudness. */
	an_json_double(j, "plr_lu", r->file.true_peak_dbtp - r->integrated_lufs);
	an_json_end_object(j);

	if (r->stereo) {
		const struct an_stereo_result *s = &r->stereo_result;
		an_json_begin_object(j, "stereo");
		an_json_double(j, "correlation", s->correlation);
		an_json_double(j, "fold_down_loss_db", s->fold_down_loss_db);
		an_json_double(j, "side_to_mid_db", s->side_to_mid_db);
		an_json_bool(j, "dual_mono", s->dual_mono);
		an_json_bool(j, "inverted_polarity", s->inverted_polarity);
		if (r->dead_channel >= 0)
			an_json_int(j, "dead_channel", r->dead_channel);
		else
			an_json_null(j, "dead_channel");
		an_json_end_object(j);
	} else {
		an_json_null(j, "stereo");
	}

	const struct an_transcode_result *tc = &r->transcode;
	an_json_begin_object(j, "transcode");
	if (r->container_bits)
		an_json_int(j, "container_bits", r->container_bits);
	else
		an_json_null(j, "container_bits");
	if (tc->effective_bits)
		an_json_int(j, "effective_bits", tc->effective_bits);
	else
		an_json_null(j, "effective_bits");
	an_json_bool(j, "padded_bits", r->container_bits && tc->effective_bits &&
					     tc->effective_bits < r->container_bits);
	an_json_double(j, "cutoff_hz", tc->cutoff_hz);
	an_json_bool(j, "band_limited", tc->band_limited);
	an_json_bool(j, "upsampled", tc->upsampled);
	if (tc->upsampled_from_hz)
		an_json_uint(j, "upsampled_from_hz", tc->upsampled_from_hz);
	else
		an_json_null(j, "upsampled_from_hz");
	an_json_end_object(j);

	if (r->spectral_asked) {
		const struct an_spectral_result *s = &r->spectral;
		bool d = r->spectral_done;
		an_json_begin_object(j, "spectral");
		an_json_string(j, "definition", "librosa 0.10 at the file's rate, mono mean, n_fft 2048, hop 512, hann, center, 128 Slaney mels, power_to_db top_db=None; means over frames");
		an_json_uint(j, "frames", d ? s->frames : 0);
		an_json_double(j, "centroid_hz", d ? s->centroid_hz : NAN);
		an_json_double(j, "bandwidth_hz", d ? s->bandwidth_hz : NAN);
		an_json_double(j, "rolloff_hz", d ? s->rolloff_hz : NAN);
		an_json_double(j, "flatness", d ? s->flatness : NAN);
		an_json_double(j, "onset_strength", d ? s->onset_strength : NAN);
		an_json_begin_array(j, "mfcc_mean");
		for (unsigned i = 0; i < AN_SP_MFCC; i++)
			an_json_double(j, NULL, d ? s->mfcc[i] : NAN);
		an_json_end_array(j);
		an_json_end_object(j);
		const struct an_music_result *mu = &s->music;
		an_json_begin_object(j, "tempo");
		an_json_double(j, "bpm", d ? mu->bpm : NAN);
		an_json_double(j, "confidence", d ? mu->bpm_confidence : NAN);
		an_json_end_object(j);
		an_json_begin_object(j, "key");
		bool k = d && mu->key_tonic >= 0;
		an_json_string(j, "tonic", k ? an_music_pitch_name(mu->key_tonic) : NULL);
		an_json_string(j, "mode", k ? (mu->key_minor ? "minor" : "major") : NULL);
		an_json_double(j, "confidence", k ? mu->key_confidence : NAN);
		an_json_double(j, "margin", k ? mu->key_margin : NAN);
		an_json_end_object(j);
	} else {
		an_json_null(j, "spectral");
		an_json_null(j, "tempo");
		an_json_null(j, "key");
	}

	if (r->fingerprint.asked) {
		an_json_begin_object(j, "fingerprint");
		an_json_string(j, "chromaprint", r->fingerprint.text);
		an_json_string(j, "algorithm", "chromaprint 2 (CHROMAPRINT_ALGORITHM_DEFAULT), compressed, URL-safe base64");
		an_json_double(j, "seconds", r->fingerprint.seconds);
		an_json_uint(j, "duration", r->sample_rate ? (uint64_t)((double)r->frames / r->sample_rate) : 0);
		an_json_string(j, "error", r->fingerprint.text ? NULL : r->fingerprint.error);
		an_json_end_object(j);
	} else {
		an_json_null(j, "fingerprint");
	}

	an_json_begin_object(j, "identity");
	an_json_string(j, "input_sha256", r->input_sha256[0] ? r->input_sha256 : NULL);
	if (r->input_sha256[0])
		an_json_uint(j, "input_bytes", r->input_bytes);
	else
		an_json_null(j, "input_bytes");
	an_json_string(j, "audio_sha256", r->audio_sha256[0] ? r->audio_sha256 : NULL);
	an_json_string(j, "audio_hash", "sha256 of interleaved pcm_s16le, x*32768 rounded half to even");
	an_json_end_object(j);

	an_json_begin_array(j, "channels");
	for (unsigned c = 0; c < r->channels; c++) {
		an_json_begin_object(j, NULL);
		an_json_uint(j, "index", c);
		write_levels(j, &r->ch[c]);
		an_json_end_object(j);
	}
	an_json_end_array(j);

	an_json_begin_object(j, "damage");
	an_json_bool(j, "damaged", an_report_damaged(r));
	an_json_bool(j, "truncated", r->truncated);
	an_json_bool(j, "stopped_early", r->stopped_early);
	an_json_string(j, "recovered_by", r->recovered_by);
	an_json_uint(j, "frames_recovered", r->frames_recovered);
	an_json_begin_array(j, "implausible");
	if (r->implausible & AN_IMPLAUSIBLE_SAMPLE_RATE)
		an_json_string(j, NULL, "sample_rate");
	if (r->implausible & AN_IMPLAUSIBLE_CHANNELS)
		an_json_string(j, NULL, "channels");
	an_json_end_array(j);
	if (r->frames_declared >= 0 && (uint64_t)r->frames_declared > r->frames)
		an_json_uint(j, "frames_missing", (uint64_t)r->frames_declared - r->frames);
	else
		an_json_uint(j, "frames_missing", 0);
	an_json_string(j, "decoder_error", r->decoder_error[0] ? r->decoder_error : NULL);
	an_json_string(j, "io_error", r->io_errno > 0 ? strerrordesc_np(r->io_errno) : NULL);
	an_json_uint(j, "io_errors", r->io_errors);
	an_json_uint(j, "failed_seeks", r->failed_seeks);
	an_json_uint(j, "non_finite_samples", r->non_finite_samples);
	an_json_begin_array(j, "decoder_log");
	for (unsigned i = 0; i < r->log_lines; i++)
		if (r->log_is_damage[i])
			an_json_string(j, NULL, r->log[i]);
	an_json_end_array(j);
	an_json_end_object(j);

	/* Cosmetic: the measurements stand. Codes in docs/analyzer.md. */
	unsigned warn = r->warnings | (r->file.level.over_full_scale ? AN_WARN_OVER_FULL_SCALE : 0);
	an_json_begin_array(j, "warnings");
	if (warn & AN_WARN_HEADER_INCONSISTENT)
		an_json_string(j, NULL, "header_inconsistent");
	if (warn & AN_WARN_DECODER_WARNING)
		an_json_string(j, NULL, "decoder_warning");
	if (warn & AN_WARN_OVER_FULL_SCALE)
		an_json_string(j, NULL, "over_full_scale");
	an_json_end_array(j);
	an_json_begin_array(j, "warning_log");
	for (unsigned i = 0; i < r->log_lines; i++)
		if (!r->log_is_damage[i])
			an_json_string(j, NULL, r->log[i]);
	an_json_end_array(j);

	an_json_end_object(j);
	const char *text;
	size_t len;
	return an_json_finish(j, &text, &len);
}

int an_report_error_json(struct an_json *j, const char *error_text, const char *code, int io_errno)
{
	const char *text;
	size_t len;

	an_json_begin_object(j, NULL);
	an_json_string(j, "error", error_text ? error_text : "unknown error");
	if (code)
		an_json_string(j, "code", code);
	if (io_errno > 0)
		an_json_string(j, "io_error", strerrordesc_np(io_errno));
	an_json_end_object(j);
	return an_json_finish(j, &text, &len);
}
