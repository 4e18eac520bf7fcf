/* analyzer/decode.c — see decode.h. */
#include "analyzer/decode.h"
#include "analyzer/fallback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A header's frame count is taken as "declared" below this; above it,
 * it is one libsndfile derived from the made-up length of a stream
 * (input.c), or a lie no real file can back: 2^40 frames is a
 * terabyte of 8-bit mono. */
#define FRAMES_DECLARED_LIMIT ((sf_count_t)1 << 40)
#define LOG_BUFFER 8192

static void copy_text(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static const char *format_name(int code, int command)
{
	SF_FORMAT_INFO info = { .format = code };

	if (sf_command(NULL, command, &info, sizeof(info)) != 0 || !info.name)
		return NULL;
	return info.name;
}

/* The names come from libsndfile's own tables, so they read as its
 * documentation and error messages do. */
static const char *major_name(int major)
{
	int count = 0;

	sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof(count));
	for (int i = 0; i < count; i++) {
		SF_FORMAT_INFO info = { .format = i };
		if (sf_command(NULL, SFC_GET_FORMAT_MAJOR, &info, sizeof(info)) == 0 &&
		    info.format == major)
			return info.name;
	}
	return format_name(major, SFC_GET_FORMAT_INFO);
}

static const char *subtype_name(int subtype)
{
	int count = 0;

	sf_command(NULL, SFC_GET_FORMAT_SUBTYPE_COUNT, &count, sizeof(count));
	for (int i = 0; i < count; i++) {
		SF_FORMAT_INFO info = { .format = i };
		if (sf_command(NULL, SFC_GET_FORMAT_SUBTYPE, &info, sizeof(info)) == 0 &&
		    info.format == subtype)
			return info.name;
	}
	return NULL;
}

/* Bits per sample of integer PCM (and lossless codecs of it); 0 else. */
static int container_bits(int subtype)
{
	switch (subtype) {
	case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: return 8;
	case SF_FORMAT_PCM_16: case SF_FORMAT_ALAC_16: return 16;
	case SF_FORMAT_ALAC_20: return 20;
	case SF_FORMAT_PCM_24: case SF_FORMAT_ALAC_24: return 24;
	case SF_FORMAT_PCM_32: case SF_FORMAT_ALAC_32: return 32;
	default: return 0;
	}
}

static void describe_format(struct an_report *r, const SF_INFO *info)
{
	int major = info->format & SF_FORMAT_TYPEMASK;
	int subtype = info->format & SF_FORMAT_SUBMASK;

	r->container = an_container_id(major);
	r->container_name = major_name(major);
	r->codec = an_codec_id(subtype);
	r->codec_name = subtype_name(subtype);
	r->sample_rate = (uint32_t)info->samplerate;
	r->channels = (unsigned)info->channels;
	r->container_bits = container_bits(subtype);
	r->frames_declared = info->frames >= 0 && info->frames < FRAMES_DECLARED_LIMIT
				     ? (int64_t)info->frames : -1;
	/* An MPEG audio stream carries no length: libsndfile 1.2.0 estimates
	 * one from the file size and bitrate, which a VBR file misses by
	 * thousands of frames. Reporting it as declared would call every
	 * such file truncated. */
	if (major == SF_FORMAT_MPEG)
		r->frames_declared = -1;
}

void an_decode_collect(struct an_report *r, const struct an_analysis *a)
{
	for (unsigned c = 0; c < a->channels; c++)
		an_analysis_channel(a, c, &r->ch[c]);
	an_analysis_channel(a, a->channels, &r->file);
	r->frames = a->levels.frames;
	r->clip_threshold = a->levels.clip_threshold;
	r->silence_windows = a->levels.windows;
	r->silence = a->levels.silence;
	r->stereo = an_analysis_stereo(a, &r->stereo_result, &r->dead_channel);
	an_analysis_transcode(a, &r->transcode);
	r->silence_window_s = (double)a->levels.window_frames / (double)a->rate;
	r->centroid_hz = an_centroid_result(a->centroid);
	r->fft_frames = a->centroid->frames_seen;
	r->fft_frames_used = a->centroid->frames_used;
	an_loudness_result(&a->loudness, &r->integrated_lufs, &r->range_lu);
	an_loudness_maxima(&a->loudness, &r->momentary_max_lufs, &r->short_term_max_lufs);
	r->loudness_skipped = a->loudness.skipped;
	r->non_finite_samples = a->non_finite_samples;
	memcpy(r->audio_sha256, a->audio_sha256, sizeof(r->audio_sha256));
}

/* Which loudspeaker each channel feeds (layout.h); returns where that
 * came from, or NULL when nothing says. */
static const char *channel_layout(SNDFILE *sf, const SF_INFO *info, uint8_t *roles)
{
	const unsigned nch = (unsigned)info->channels;
	int map[AN_LAYOUT_MAX];

	if (nch < 2)
		return NULL;
	if (nch <= AN_LAYOUT_MAX &&
	    sf_command(sf, SFC_GET_CHANNEL_MAP_INFO, map, (int)(nch * sizeof(int))) == SF_TRUE &&
	    an_layout_from_sf_map(map, nch, roles))
		return "header";
	switch (info->format & SF_FORMAT_TYPEMASK) {
	case SF_FORMAT_OGG: /* Vorbis, and Opus's mapping family 1 */
		return an_layout_fixed_order(AN_ORDER_VORBIS, nch, roles) ? "vorbis_order" : NULL;
	case SF_FORMAT_FLAC:
		return an_layout_fixed_order(AN_ORDER_WAVE, nch, roles) ? "flac_order" : NULL;
	default:
		return NULL;
	}
}

/* Decode every block of an opened file through the analysis. */
static int stream_through(SNDFILE *sf, const SF_INFO *info, const struct an_tap *tap,
			  struct an_report *r)
{
	const size_t nch = (size_t)info->channels;
	size_t block_frames = AN_BLOCK_SAMPLES / nch;
	struct an_analysis a;
	float *block;
	sf_count_t n;
	int err;

	if (block_frames == 0)
		block_frames = 1;
	block = malloc(block_frames * nch * sizeof(float));
	if (!block)
		return -ENOMEM;
	float clip = an_clip_threshold_for_subtype(info->format & SF_FORMAT_SUBMASK);
	err = an_analysis_init(&a, (unsigned)nch, (uint32_t)info->samplerate, clip, block_frames);
	if (err < 0) {
		free(block);
		return err;
	}
	r->layout_source = channel_layout(sf, info, r->roles);
	if (r->layout_source)
		an_loudness_set_layout(&a.loudness, r->roles, (unsigned)nch);
	r->ch = calloc(nch, sizeof(*r->ch));
	if (!r->ch) {
		an_analysis_free(&a);
		free(block);
		return -ENOMEM;
	}
	an_analysis_set_tap(&a, tap);
	while ((n = sf_readf_float(sf, block, (sf_count_t)block_frames)) > 0)
		an_analysis_push(&a, block, (size_t)n);
	an_analysis_finish(&a);
	an_decode_collect(r, &a);
	an_analysis_free(&a);
	free(block);
	return 0;
}

/* libsndfile refused the input: in plain words, which kind of refusal. */
static void refused(const struct an_input *in, int sf_err, struct an_outcome *out)
{
	const struct an_sniff *sn = &in->sniff;
	const char *why = sf_strerror(NULL);
	enum an_error_class c;

	out->status = AN_STATUS_BAD_INPUT;
	out->io_errno = in->io_errno;
	if (in->io_errno) {
		c = AN_ERR_READ;
		copy_text(out->error, sizeof(out->error), why);
	} else if (sn->kind == AN_SNIFF_NOT_MEDIA || sn->kind == AN_SNIFF_EMPTY) {
		c = AN_ERR_NOT_MEDIA;
		snprintf(out->error, sizeof(out->error), "not an audio or video file (%s)", sn->name);
	} else if (sn->kind == AN_SNIFF_OTHER_MEDIA) {
		c = AN_ERR_UNSUPPORTED;
		snprintf(out->error, sizeof(out->error), "unsupported format: %s (no decoder for it here)", sn->name);
	} else if (sn->kind == AN_SNIFF_FFMPEG) {
		c = AN_ERR_UNSUPPORTED;
		snprintf(out->error, sizeof(out->error),
			 "unsupported format: %s needs the FFmpeg fallback (" AN_DECODER_NAME "), which is not installed",
			 sn->name);
	} else if (sf_err == SF_ERR_UNSUPPORTED_ENCODING) {
		c = AN_ERR_UNSUPPORTED;
		snprintf(out->error, sizeof(out->error), "unsupported encoding in %s: %s",
			 sn->name[0] ? sn->name : "this file", why);
	} else if (sn->kind == AN_SNIFF_UNKNOWN) {
		c = AN_ERR_UNRECOGNISED;
		snprintf(out->error, sizeof(out->error), "unrecognised format: no audio or video signature (%s)", why);
	} else {
		c = AN_ERR_CORRUPT;
		snprintf(out->error, sizeof(out->error), "corrupt %s: %s", sn->name, why);
	}
	out->error_class = c;
}

void an_decode(struct an_input *in, struct an_fallback *fb, const struct an_tap *tap,
	       struct an_outcome *out)
{
	SF_INFO info;
	SNDFILE *sf;
	struct an_report *r = &out->report;

	memset(out, 0, sizeof(*out));
	memset(&info, 0, sizeof(info));
	sf = sf_open_virtual(&an_input_vio, SFM_READ, &info, in);
	if (!sf) {
		int sf_err = sf_error(NULL);
		/* The fallback only for what libsndfile does not read at all
		 * (or not in this encoding), and only behind an allowed magic. */
		if (an_fallback_ready(fb) && in->sniff.demuxer && !in->io_errno &&
		    (sf_err == SF_ERR_UNRECOGNISED_FORMAT || sf_err == SF_ERR_UNSUPPORTED_ENCODING)) {
			an_fallback_run(fb, in, tap, out);
			return;
		}
		an_fallback_cancel(fb);
		refused(in, sf_err, out);
		return;
	}
	an_fallback_cancel(fb);
	/* libsndfile validates both, but the analysis divides by them:
	 * do not bet the process on every format parser agreeing. */
	if (info.channels < 1 || info.samplerate < 1) {
		out->status = AN_STATUS_BAD_INPUT;
		out->error_class = AN_ERR_CORRUPT;
		copy_text(out->error, sizeof(out->error), "invalid channel count or sample rate");
		sf_close(sf);
		return;
	}
	describe_format(r, &info);
	int err = stream_through(sf, &info, tap, r);
	if (err < 0) {
		out->status = AN_STATUS_FAILED;
		copy_text(out->error, sizeof(out->error), strerrordesc_np(-err));
		sf_close(sf);
		return;
	}
	if (sf_error(sf) != SF_ERR_NO_ERROR)
		copy_text(r->decoder_error, sizeof(r->decoder_error), sf_strerror(sf));
	char log[LOG_BUFFER] = "";
	sf_command(sf, SFC_GET_LOG_INFO, log, sizeof(log));
	an_report_take_log(r, log, in->kind == AN_INPUT_STREAM);
	sf_close(sf);
	if (!an_input_sha256(in, false, r->input_sha256, &r->input_bytes))
		r->input_sha256[0] = '\0';

	r->truncated = (r->frames_declared >= 0 && (uint64_t)r->frames_declared > r->frames) ||
		       an_report_log_says_truncated(r);
	r->io_errno = in->io_errno;
	r->io_errors = in->io_errors;
	r->failed_seeks = in->failed_seeks;
	out->status = AN_STATUS_OK;
}

void an_outcome_free(struct an_outcome *out)
{
	free(out->report.ch);
	out->report.ch = NULL;
	free(out->report.fingerprint.text);
	out->report.fingerprint.text = NULL;
}

enum an_status an_analyze_to_json(struct an_input *in, struct an_json *j)
{
	return an_analyze_with_fallback(in, NULL, NULL, j);
}

enum an_status an_analyze_with_fallback(struct an_input *in, struct an_fallback *fb,
					const struct an_tap *tap, struct an_json *j)
{
	struct an_outcome out;
	int r;

	an_decode(in, fb, tap, &out);
	for (const struct an_tap *t = tap; t && out.status == AN_STATUS_OK; t = t->next)
		t->finish(t->u, &out.report);
	switch (out.status) {
	case AN_STATUS_OK:
		r = an_report_json(&out.report, j);
		break;
	case AN_STATUS_BAD_INPUT:
		r = an_report_error_json(j, out.error, an_error_class_id(out.error_class), out.io_errno);
		break;
	default:
		r = an_report_error_json(j, out.error, NULL, 0);
		break;
	}
	an_outcome_free(&out);
	if (r < 0)
		return AN_STATUS_FAILED;
	return out.status;
}
