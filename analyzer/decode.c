/* analyzer/decode.c — see decode.h. */
#include "analyzer/decode.h"
#include "analyzer/fallback.h"
#include "analyzer/mpeg.h"
#include "analyzer/riff.h"

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
	 * such file truncated. A Xing/Info/VBRI tag, when there is one, is
	 * a declaration: declared_from_mpeg. */
	if (major == SF_FORMAT_MPEG)
		r->frames_declared = -1;
	an_report_check_plausible(r);
}

/* An MP3's declared length: its Xing/Info or VBRI tag (mpeg.h), when
 * the first frame carries one that agrees with what libsndfile opened.
 * Without one, MPEG declares nothing (describe_format). */
static void declared_from_mpeg(struct an_report *r, const struct an_input *in, const SF_INFO *info,
			       struct an_mpeg_decl *d)
{
	if (an_mpeg_parse_input(in, d) < 0 || d->channels != (unsigned)info->channels ||
	    d->sample_rate != (uint32_t)info->samplerate) {
		d->bytes = 0;
		return;
	}
	if (d->samples >= 0)
		r->frames_declared = d->samples < FRAMES_DECLARED_LIMIT ? d->samples : -1;
}

/* The tag's byte count, counted from its own frame, against the bytes
 * the input held: a second sign of a cut, with a line in decoder_log. */
static void mpeg_bytes_missing(struct an_report *r, const struct an_mpeg_decl *d)
{
	if (d->bytes == 0 || !r->input_sha256[0] || r->input_bytes >= d->tag_offset + d->bytes)
		return;
	r->truncated = true;
	if (r->log_lines < AN_LOG_MAX_LINES) {
		snprintf(r->log[r->log_lines], AN_LOG_LINE_MAX, "%s tag: %u bytes from offset %llu, the input has %llu",
			 d->tag, d->bytes, (unsigned long long)d->tag_offset, (unsigned long long)r->input_bytes);
		r->log_is_damage[r->log_lines++] = true;
	}
}

/* A WAV's declared length from its own header (riff.h): libsndfile's
 * count of a cut file is what is left, not what was declared. */
static void declared_from_header(struct an_report *r, const struct an_input *in, const SF_INFO *info)
{
	int major = info->format & SF_FORMAT_TYPEMASK;
	struct an_riff_decl d;

	if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX && major != SF_FORMAT_RF64)
		return;
	if (an_riff_parse_input(in, &d) < 0 || d.frames < 0 || d.channels != (unsigned)info->channels)
		return;
	r->frames_declared = d.frames < FRAMES_DECLARED_LIMIT ? d.frames : -1;
}

/* MPEG: mpg123 (inside libsndfile) gives up resyncing after 1 KiB of
 * garbage and ends the stream there, with or without an error. A decode
 * that ends with an error, or more than 5 % short of libsndfile's own
 * estimate of the length (from the Xing/Info frame count, or the size
 * and bitrate), is handed to the FFmpeg fallback, whose resync scans
 * on; if it decodes more, its analysis replaces libsndfile's and the
 * damage says so. */
static bool mpeg_stopped_early(SNDFILE *sf, const SF_INFO *info, uint64_t frames)
{
	if ((info->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG)
		return false;
	if (sf_error(sf) != SF_ERR_NO_ERROR)
		return true;
	return info->frames > 0 && info->frames < FRAMES_DECLARED_LIMIT &&
	       (double)frames < 0.95 * (double)info->frames;
}

static void recover_with_fallback(struct an_input *in, struct an_fallback *fb, struct an_outcome *out)
{
	struct an_report *r = &out->report;
	struct an_outcome alt;

	r->stopped_early = r->decoder_error[0] != '\0';
	/* No tap: the fingerprint and the spectral summary were fed by
	 * libsndfile's decode already, and a tap starts once. */
	an_fallback_run(fb, in, NULL, &alt);
	if (alt.status != AN_STATUS_OK || alt.report.frames <= r->frames) {
		an_outcome_free(&alt);
		return;
	}
	/* The same file, decoded further: its numbers, libsndfile's names. */
	struct an_report *a = &alt.report;
	a->container = r->container;
	a->container_name = r->container_name;
	a->codec = r->codec;
	a->codec_name = r->codec_name;
	a->stopped_early = true;
	a->recovered_by = "ffmpeg";
	/* What the header declared still stands (the fallback reads none);
	 * an_decode judges truncation again on the frames decoded here. */
	a->frames_declared = r->frames_declared;
	a->frames_recovered = a->frames - r->frames;
	if (!a->decoder_error[0])
		copy_text(a->decoder_error, sizeof(a->decoder_error),
			  r->decoder_error[0] ? r->decoder_error : "libsndfile stopped before the end of the stream");
	a->io_errno = r->io_errno;
	a->io_errors = r->io_errors;
	a->failed_seeks = r->failed_seeks;
	an_outcome_free(out);
	*out = alt;
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

/* Whether libsndfile's float for each sample of this file is its 16-bit
 * code times 2^-15: 16-bit integer PCM in the containers libsndfile
 * reads through its plain PCM code (pcm.c, the header's width for every
 * sample). Then the file is read as int16 and converted by the analysis (an_s16_to_float), to the same floats bit for
 * bit (tests/unit/test_analyzer_kernels.c checks every code in every
 * container listed), in the pass that splits the channels
 * (an_analysis_push_s16) instead of in libsndfile's own loop. */
static bool read_as_s16(const SF_INFO *info)
{
	if ((info->format & SF_FORMAT_SUBMASK) != SF_FORMAT_PCM_16)
		return false;
	switch (info->format & SF_FORMAT_TYPEMASK) {
	case SF_FORMAT_WAV:
	case SF_FORMAT_WAVEX:
	case SF_FORMAT_RF64:
	case SF_FORMAT_W64:
	case SF_FORMAT_AIFF:
	case SF_FORMAT_CAF:
		return true;
	/* Not FLAC: libsndfile takes PCM_16 from STREAMINFO but converts each
	 * frame by that frame's own width, which libFLAC lets differ. A
	 * 24-bit frame under a 16-bit STREAMINFO reads as code >> 8 in int16
	 * and as code * 2^-23 in float (test_flac_frames_wider_than_streaminfo). */
	default:
		return false;
	}
}

/* Decode every block of an opened file through the analysis. */
static int stream_through(SNDFILE *sf, const SF_INFO *info, struct an_input *in, const struct an_tap *tap,
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
	int16_t *s16 = NULL;
	if (read_as_s16(info)) {
		s16 = malloc(block_frames * nch * sizeof(int16_t));
		if (!s16) {
			free(block);
			return -ENOMEM;
		}
	}
	float clip = an_clip_threshold_for_subtype(info->format & SF_FORMAT_SUBMASK);
	err = an_analysis_init(&a, (unsigned)nch, (uint32_t)info->samplerate, clip, block_frames);
	if (err < 0) {
		free(s16);
		free(block);
		return err;
	}
	/* The audio's hash runs beside the input's, whose bytes libsndfile
	 * reads as it decodes them (sha256x2.h: twice the speed on SHA-NI). */
	if (in->hash.ready)
		an_audio_hash_share(&a.audio_hash, &in->hash);
	r->layout_source = channel_layout(sf, info, r->roles);
	if (r->layout_source)
		an_loudness_set_layout(&a.loudness, r->roles, (unsigned)nch);
	r->ch = calloc(nch, sizeof(*r->ch));
	if (!r->ch) {
		an_analysis_free(&a);
		free(s16);
		free(block);
		return -ENOMEM;
	}
	an_analysis_set_tap(&a, tap);
	while ((n = s16 ? sf_readf_short(sf, s16, (sf_count_t)block_frames)
			: sf_readf_float(sf, block, (sf_count_t)block_frames)) > 0) {
		if (s16)
			an_analysis_push_s16(&a, s16, block, (size_t)n);
		else
			an_analysis_push(&a, block, (size_t)n);
	}
	an_analysis_finish(&a);
	an_decode_collect(r, &a);
	an_analysis_free(&a);
	free(s16);
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
			 "unsupported format: %s needs the FFmpeg fallback (" AN_DECODER_NAME "), which is not "
			 "available here (not installed, or --policy strict, which forbids its fork)",
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
	/* MPEG keeps the spare until its decode is known to be whole. */
	if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG)
		an_fallback_cancel(fb);
	/* libsndfile validates both, but the analysis divides by them:
	 * do not bet the process on every format parser agreeing. */
	if (info.channels < 1 || info.samplerate < 1) {
		out->status = AN_STATUS_BAD_INPUT;
		out->error_class = AN_ERR_CORRUPT;
		copy_text(out->error, sizeof(out->error), "invalid channel count or sample rate");
		an_fallback_cancel(fb);
		sf_close(sf);
		return;
	}
	describe_format(r, &info);
	declared_from_header(r, in, &info);
	struct an_mpeg_decl mpeg = { .bytes = 0 };
	if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG)
		declared_from_mpeg(r, in, &info, &mpeg);
	int err = stream_through(sf, &info, in, tap, r);
	if (err < 0) {
		out->status = AN_STATUS_FAILED;
		copy_text(out->error, sizeof(out->error), strerrordesc_np(-err));
		an_fallback_cancel(fb);
		sf_close(sf);
		return;
	}
	bool early = mpeg_stopped_early(sf, &info, r->frames);
	if (sf_error(sf) != SF_ERR_NO_ERROR)
		copy_text(r->decoder_error, sizeof(r->decoder_error), sf_strerror(sf));
	char log[LOG_BUFFER] = "";
	sf_command(sf, SFC_GET_LOG_INFO, log, sizeof(log));
	an_report_take_log(r, log, in->kind == AN_INPUT_STREAM);
	sf_close(sf);
	if (!an_input_sha256(in, false, r->input_sha256, &r->input_bytes))
		r->input_sha256[0] = '\0';

	bool log_says_cut = an_report_log_says_truncated(r);
	r->io_errno = in->io_errno;
	r->io_errors = in->io_errors;
	r->failed_seeks = in->failed_seeks;
	out->status = AN_STATUS_OK;
	if (early && an_fallback_ready(fb))
		recover_with_fallback(in, fb, out);
	else if (early)
		r->stopped_early = r->decoder_error[0] != '\0';
	/* r is out->report: the fallback's, when it decoded further */
	r->truncated = (r->frames_declared >= 0 && (uint64_t)r->frames_declared > r->frames) || log_says_cut;
	mpeg_bytes_missing(r, &mpeg);
	an_fallback_cancel(fb);
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
	return an_analyze_with_fallback(in, NULL, NULL, j, NULL, 0);
}

enum an_status an_analyze_with_fallback(struct an_input *in, struct an_fallback *fb,
					const struct an_tap *tap, struct an_json *j,
					char *why, size_t why_len)
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
	if (why && why_len)
		snprintf(why, why_len, "%s", out.status == AN_STATUS_OK ? "" : out.error);
	an_outcome_free(&out);
	if (r < 0)
		return AN_STATUS_FAILED;
	return out.status;
}
