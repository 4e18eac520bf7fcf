/* analyzer/decoder/ffdec.c — see ffdec.h. */
#include "analyzer/decoder/ffdec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>

#include "analyzer/layout.h"
#include "analyzer/sniff.h"

#define IO_BUFFER 65536
#define LOG_LINES 16

struct io {
	const struct ffdec_source *src;
	int64_t pos;             /* where FFmpeg believes it is */
	int64_t stream_pos;      /* a stream: bytes of it behind us (head + fd) */
};

static int io_read(void *opaque, uint8_t *buf, int size)
{
	struct io *io = opaque;
	const struct ffdec_source *s = io->src;
	size_t got = 0, want = size > 0 ? (size_t)size : 0;

	if (io->pos < (int64_t)s->head_len) {
		size_t n = s->head_len - (size_t)io->pos;
		got = n < want ? n : want;
		memcpy(buf, s->head + io->pos, got);
	}
	while (got < want && s->fd >= 0) {
		int64_t at = io->pos + (int64_t)got;
		ssize_t n;
		if (s->seekable) {
			n = pread(s->fd, buf + got, want - got, at);
		} else {
			if (at != io->stream_pos)
				break; /* ahead of or behind the stream: not here */
			n = read(s->fd, buf + got, want - got);
			if (n > 0)
				io->stream_pos += n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (got == 0)
				return AVERROR(errno);
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (s->seekable)
			break; /* a short read of a file: give what there is */
	}
	if (got == 0)
		return AVERROR_EOF;
	io->pos += (int64_t)got;
	return (int)got;
}

static int64_t io_seek(void *opaque, int64_t offset, int whence)
{
	struct io *io = opaque;
	const struct ffdec_source *s = io->src;
	int64_t size = s->seekable ? s->size : s->fd < 0 ? (int64_t)s->head_len : -1;
	int64_t base;

	if (whence & AVSEEK_SIZE)
		return size >= 0 ? size : AVERROR(ENOSYS);
	switch (whence & ~AVSEEK_FORCE) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = io->pos; break;
	case SEEK_END:
		if (size < 0)
			return AVERROR(ESPIPE);
		base = size;
		break;
	default: return AVERROR(EINVAL);
	}
	/* A hostile header's offsets: no arithmetic near the top of the range. */
	if (offset > INT64_MAX / 4 || offset < -INT64_MAX / 4 || base + offset < 0)
		return AVERROR(EINVAL);
	int64_t target = base + offset;
	if (!s->seekable && s->fd >= 0 && target != io->stream_pos &&
	    !(target <= (int64_t)s->head_len && io->stream_pos == (int64_t)s->head_len))
		return AVERROR(ESPIPE);
	io->pos = target;
	return target;
}

/* Nothing but the one input: a reference to another file or URL fails. */
static int no_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
		      AVDictionary **options)
{
	return AVERROR(EPERM);
}

/* FFmpeg's log: warnings and errors to stderr, the errors also to the
 * sink (the report's decoder_log, which marks the file damaged). */
static const struct ffdec_sink *log_sink;
static unsigned log_lines;

static void log_callback(void *avcl, int level, const char *fmt, va_list vl)
{
	static int print_prefix = 1;
	char line[AN_PCM_TEXT];

	if (level > AV_LOG_WARNING)
		return;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
	size_t len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len == 0)
		return;
	fprintf(stderr, "sandrun-decode: %s\n", line);
	if (level <= AV_LOG_ERROR && log_sink && log_sink->log && log_lines < LOG_LINES) {
		log_lines++;
		log_sink->log(log_sink->u, line);
	}
}

static void fail(struct an_pcm_end *end, enum an_error_class c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct an_pcm_end *end, enum an_error_class c, const char *fmt, ...)
{
	va_list ap;

	end->ok = 0;
	end->error_class = c;
	va_start(ap, fmt);
	vsnprintf(end->error, sizeof(end->error), fmt, ap);
	va_end(ap);
}

static const char *container_id(const char *demuxer)
{
	return strcmp(demuxer, "mov") == 0 ? "mp4" : demuxer;
}

struct run {
	const struct ffdec_sink *sink;
	struct an_pcm_end *end;
	struct an_pcm_header hdr;
	bool header_sent;
	float *buf;
	size_t buf_frames;
	const char *format_name;
};

static float sample_at(const AVFrame *f, int fmt, int planar, unsigned ch, unsigned nch, int i)
{
	const uint8_t *p = planar ? f->extended_data[ch] : f->extended_data[0];
	size_t k = planar ? (size_t)i : (size_t)i * nch + ch;

	switch (fmt) {
	case AV_SAMPLE_FMT_FLT: return ((const float *)p)[k];
	case AV_SAMPLE_FMT_DBL: return (float)((const double *)p)[k];
	case AV_SAMPLE_FMT_S16: return (float)((const int16_t *)p)[k] / 32768.0f;
	case AV_SAMPLE_FMT_S32: return (float)((double)((const int32_t *)p)[k] / 2147483648.0);
	case AV_SAMPLE_FMT_U8: return (float)((int)p[k] - 128) / 128.0f;
	case AV_SAMPLE_FMT_S64: return (float)((double)((const int64_t *)p)[k] / 9223372036854775808.0);
	}
	return 0.0f;
}

/* The decoder's channel layout as loudness roles (analyzer/layout.h):
 * only when FFmpeg names the channels (native or custom order). */
static void channel_roles(const AVChannelLayout *l, uint8_t *roles, size_t n)
{
	memset(roles, AN_CH_UNKNOWN, n);
	if (l->nb_channels < 2 ||
	    (l->order != AV_CHANNEL_ORDER_NATIVE && l->order != AV_CHANNEL_ORDER_CUSTOM))
		return;
	for (int i = 0; i < l->nb_channels && (size_t)i < n; i++) {
		switch (av_channel_layout_channel_from_index(l, (unsigned)i)) {
		case AV_CHAN_FRONT_LEFT: roles[i] = AN_CH_FL; break;
		case AV_CHAN_FRONT_RIGHT: roles[i] = AN_CH_FR; break;
		case AV_CHAN_FRONT_CENTER: roles[i] = AN_CH_FC; break;
		case AV_CHAN_LOW_FREQUENCY:
		case AV_CHAN_LOW_FREQUENCY_2: roles[i] = AN_CH_LFE; break;
		case AV_CHAN_BACK_LEFT: roles[i] = AN_CH_BL; break;
		case AV_CHAN_BACK_RIGHT: roles[i] = AN_CH_BR; break;
		case AV_CHAN_SIDE_LEFT:
		case AV_CHAN_SURROUND_DIRECT_LEFT: roles[i] = AN_CH_SL; break;
		case AV_CHAN_SIDE_RIGHT:
		case AV_CHAN_SURROUND_DIRECT_RIGHT: roles[i] = AN_CH_SR; break;
		case AV_CHAN_NONE:
		case AV_CHAN_UNUSED:
		case AV_CHAN_UNKNOWN: roles[i] = AN_CH_UNKNOWN; break;
		default: roles[i] = AN_CH_OTHER; break;
		}
	}
}

/* One decoded frame, converted to interleaved float and handed on.
 * Returns < 0 to stop decoding. */
static int take_frame(struct run *r, const AVFrame *f)
{
	unsigned nch = (unsigned)f->ch_layout.nb_channels;
	int fmt = f->format;

	if (f->nb_samples <= 0)
		return 0;
	if (!r->header_sent) {
		if (nch < 1 || nch > AN_PCM_MAX_CHANNELS || f->sample_rate < 1 ||
		    f->sample_rate > AN_PCM_MAX_RATE) {
			fail(r->end, AN_ERR_UNSUPPORTED, "unsupported %s stream: %u channels at %d Hz",
			     r->format_name, nch, f->sample_rate);
			return -1;
		}
		r->hdr.sample_rate = (uint32_t)f->sample_rate;
		r->hdr.channels = nch;
		channel_roles(&f->ch_layout, r->hdr.roles, sizeof(r->hdr.roles));
		if (r->sink->header(r->sink->u, &r->hdr) < 0)
			return -1;
		r->header_sent = true;
	} else if (nch != r->hdr.channels || (uint32_t)f->sample_rate != r->hdr.sample_rate) {
		snprintf(r->end->error, sizeof(r->end->error),
			 "the stream changes from %u channels at %u Hz to %u at %d Hz; decoding stopped",
			 r->hdr.channels, r->hdr.sample_rate, nch, f->sample_rate);
		return -1;
	}
	int planar = av_sample_fmt_is_planar(fmt);
	int packed = av_get_packed_sample_fmt(fmt);
	size_t per_chunk = AN_PCM_MAX_DATA / (nch * sizeof(float));
	if (!r->buf) {
		r->buf_frames = per_chunk;
		r->buf = malloc(per_chunk * nch * sizeof(float));
		if (!r->buf) {
			fail(r->end, AN_ERR_CORRUPT, "out of memory");
			return -1;
		}
	}
	for (int i = 0; i < f->nb_samples;) {
		size_t n = (size_t)(f->nb_samples - i) < per_chunk ? (size_t)(f->nb_samples - i) : per_chunk;
		for (size_t k = 0; k < n; k++)
			for (unsigned c = 0; c < nch; c++)
				r->buf[k * nch + c] = sample_at(f, packed, planar, c, nch, i + (int)k);
		if (r->sink->data(r->sink->u, r->buf, n) < 0)
			return -1;
		i += (int)n;
	}
	return 0;
}

static void note_decode_error(struct run *r, int err)
{
	r->end->decode_errors++;
	if (!r->end->error[0]) {
		char text[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(err, text, sizeof(text));
		snprintf(r->end->error, sizeof(r->end->error), "%s", text);
	}
}

/* Send one packet (NULL: flush) and take every frame it gives. */
static int decode(struct run *r, AVCodecContext *cc, const AVPacket *pkt, AVFrame *frame)
{
	int err = avcodec_send_packet(cc, pkt);
	if (err == AVERROR(ENOMEM))
		return err;
	if (err < 0 && err != AVERROR_EOF) {
		note_decode_error(r, err);
		return 0;
	}
	for (;;) {
		err = avcodec_receive_frame(cc, frame);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return 0;
		if (err == AVERROR(ENOMEM))
			return err;
		if (err < 0) {
			note_decode_error(r, err);
			return 0;
		}
		int t = take_frame(r, frame);
		av_frame_unref(frame);
		if (t < 0)
			return -1;
	}
}

static void decode_stream(struct run *r, AVFormatContext *fc, AVCodecContext *cc, int idx)
{
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	int err = 0;

	if (!pkt || !frame) {
		fail(r->end, AN_ERR_CORRUPT, "out of memory");
		goto out;
	}
	while ((err = av_read_frame(fc, pkt)) >= 0) {
		int d = pkt->stream_index == idx ? decode(r, cc, pkt, frame) : 0;
		av_packet_unref(pkt);
		if (d < 0)
			goto out;
	}
	if (err != AVERROR_EOF)
		note_decode_error(r, err);
	decode(r, cc, NULL, frame);
out:
	av_frame_free(&frame);
	av_packet_free(&pkt);
}

void ffdec_run(const char *demuxer, const struct ffdec_source *src, const struct ffdec_sink *sink,
	       struct an_pcm_end *end)
{
	struct io io = { .src = src, .stream_pos = (int64_t)src->head_len };
	struct run r = { .sink = sink, .end = end };
	AVFormatContext *fc = NULL;
	AVCodecContext *cc = NULL;
	AVDictionary *opts = NULL;
	uint8_t *iobuf = NULL;
	AVIOContext *pb = NULL;
	char text[AV_ERROR_MAX_STRING_SIZE];
	int err;

	memset(end, 0, sizeof(*end));
	log_sink = sink;
	log_lines = 0;
	av_log_set_callback(log_callback);
	const AVInputFormat *ifmt = demuxer ? av_find_input_format(demuxer) : NULL;
	if (!ifmt || av_match_list(demuxer, FFDEC_FORMATS, ',') <= 0) {
		fail(end, AN_ERR_UNSUPPORTED, "no demuxer for %s", demuxer ? demuxer : "this input");
		return;
	}
	r.format_name = ifmt->long_name ? ifmt->long_name : demuxer;
	snprintf(r.hdr.container, sizeof(r.hdr.container), "%s", container_id(demuxer));
	snprintf(r.hdr.container_name, sizeof(r.hdr.container_name), "%s", r.format_name);

	fc = avformat_alloc_context();
	iobuf = av_malloc(IO_BUFFER);
	if (fc && iobuf)
		pb = avio_alloc_context(iobuf, IO_BUFFER, 0, &io, io_read, NULL, io_seek);
	if (!pb) {
		av_free(iobuf);
		avformat_free_context(fc);
		fail(end, AN_ERR_CORRUPT, "out of memory");
		return;
	}
	pb->seekable = src->seekable || src->fd < 0 ? AVIO_SEEKABLE_NORMAL : 0;
	fc->pb = pb;
	fc->flags |= AVFMT_FLAG_CUSTOM_IO;
	fc->io_open = no_io_open;
	av_dict_set(&opts, "format_whitelist", FFDEC_FORMATS, 0);
	av_dict_set(&opts, "codec_whitelist", FFDEC_CODECS, 0);
	av_dict_set(&opts, "protocol_whitelist", "", 0);
	err = avformat_open_input(&fc, NULL, ifmt, &opts); /* frees fc on failure */
	av_dict_free(&opts);
	if (err < 0) {
		av_strerror(err, text, sizeof(text));
		fail(end, AN_ERR_CORRUPT, "%s", text);
		goto out;
	}
	/* The first audio stream, or the first marked default. Not
	 * av_find_best_stream(): it skips streams whose rate and channels only
	 * decoding tells (raw AC-3), and would want avformat_find_stream_info(),
	 * which opens a decoder for every stream, video included. */
	int idx = -1;
	for (unsigned i = 0; i < fc->nb_streams; i++) {
		const AVStream *st = fc->streams[i];
		if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
			continue;
		if (idx < 0 || ((st->disposition & AV_DISPOSITION_DEFAULT) &&
				!(fc->streams[idx]->disposition & AV_DISPOSITION_DEFAULT)))
			idx = (int)i;
	}
	if (idx < 0) {
		fail(end, AN_ERR_NO_AUDIO, "no audio stream in this %s file", r.format_name);
		goto out;
	}
	enum AVCodecID id = fc->streams[idx]->codecpar->codec_id;
	const AVCodec *codec = avcodec_find_decoder(id);
	if (!codec) {
		fail(end, AN_ERR_UNSUPPORTED, "no decoder here for the %s audio codec %s", r.format_name,
		     avcodec_get_name(id));
		goto out;
	}
	if (av_match_list(codec->name, FFDEC_CODECS, ',') <= 0) {
		fail(end, AN_ERR_UNSUPPORTED, "the %s audio codec %s is not supported", r.format_name,
		     codec->name);
		goto out;
	}
	for (unsigned i = 0; i < fc->nb_streams; i++)
		if ((int)i != idx)
			fc->streams[i]->discard = AVDISCARD_ALL;
	cc = avcodec_alloc_context3(codec);
	if (!cc || avcodec_parameters_to_context(cc, fc->streams[idx]->codecpar) < 0) {
		fail(end, AN_ERR_CORRUPT, "out of memory");
		goto out;
	}
	cc->thread_count = 1;
	cc->thread_type = 0;
	av_dict_set(&opts, "codec_whitelist", FFDEC_CODECS, 0);
	err = avcodec_open2(cc, codec, &opts);
	av_dict_free(&opts);
	if (err < 0) {
		av_strerror(err, text, sizeof(text));
		fail(end, AN_ERR_CORRUPT, "cannot open the %s decoder: %s", codec->name, text);
		goto out;
	}
	snprintf(r.hdr.codec, sizeof(r.hdr.codec), "%s", codec->name);
	snprintf(r.hdr.codec_name, sizeof(r.hdr.codec_name), "%s", codec->long_name ? codec->long_name : "");
	end->ok = 1;
	decode_stream(&r, fc, cc, idx);
	if (end->ok && !r.header_sent) {
		char why[AN_PCM_TEXT];
		snprintf(why, sizeof(why), "%s", end->error);
		fail(end, AN_ERR_CORRUPT, "no audio could be decoded%s%s", why[0] ? ": " : "", why);
	}
out:
	free(r.buf);
	avcodec_free_context(&cc);
	avformat_close_input(&fc);
	if (pb) {
		av_freep(&pb->buffer);
		avio_context_free(&pb);
	}
	log_sink = NULL;
}
