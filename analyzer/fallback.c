/* analyzer/fallback.c — see fallback.h. */
#include "analyzer/fallback.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/fdio.h"
#include "analyzer/input.h"
#include "analyzer/sniff.h"

bool an_fallback_ready(const struct an_fallback *fb)
{
	return fb && fb->pid > 0;
}

/* The spare: wait for the word, then become the decoder. Only async-signal-
 * safe calls; its argv and path were fixed before the fork. */
static void spare(const char *path, int input_fd, int ctl_r, int pcm_w)
{
	char go = 0;
	ssize_t n;

	while ((n = read(ctl_r, &go, 1)) < 0 && errno == EINTR)
		;
	if (n != 1 || go != 'G')
		_exit(0);
	if ((input_fd != STDIN_FILENO && dup2(input_fd, STDIN_FILENO) < 0) ||
	    (pcm_w != STDOUT_FILENO && dup2(pcm_w, STDOUT_FILENO) < 0) ||
	    (ctl_r != AN_PCM_CTL_FD && dup2(ctl_r, AN_PCM_CTL_FD) < 0))
		_exit(127);
	if (pcm_w > AN_PCM_CTL_FD)
		close(pcm_w);
	if (ctl_r > AN_PCM_CTL_FD)
		close(ctl_r);
	if (input_fd > AN_PCM_CTL_FD)
		close(input_fd);
	char *argv[] = { (char *)AN_DECODER_NAME, NULL };
	char *envp[] = { NULL };
	execve(path, argv, envp);
	_exit(127);
}

int an_fallback_prepare(struct an_fallback *fb, const char *decoder_path, int input_fd)
{
	int ctl[2], pcm[2];

	memset(fb, 0, sizeof(*fb));
	fb->pid = -1;
	fb->ctl = fb->pcm = -1;
	/* Not close-on-exec: the spare keeps what it needs and closes the
	 * rest itself; the analyzer never execs. */
	if (pipe(ctl) < 0)
		return -errno;
	if (pipe(pcm) < 0) {
		int e = errno;
		close(ctl[0]);
		close(ctl[1]);
		return -e;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(ctl[1]);
		close(pcm[0]);
		spare(decoder_path, input_fd, ctl[0], pcm[1]);
	}
	int e = errno;
	close(ctl[0]);
	close(pcm[1]);
	if (pid < 0) {
		close(ctl[1]);
		close(pcm[0]);
		return -e;
	}
	fb->pid = pid;
	fb->ctl = ctl[1];
	fb->pcm = pcm[0];
	return 0;
}

void an_fallback_cancel(struct an_fallback *fb)
{
	if (!an_fallback_ready(fb))
		return;
	close(fb->ctl);
	close(fb->pcm);
	fb->ctl = fb->pcm = -1;
	waitpid(fb->pid, NULL, 0);
	fb->pid = -1;
}

/* What the analyzer had read of a pipe goes with the hand-over. */
static int hand_over(struct an_fallback *fb, const struct an_input *in)
{
	struct an_pcm_handover h = { .magic = AN_PCM_MAGIC, .kind = AN_PCM_FILE };
	const uint8_t *head = NULL;

	if (in->kind == AN_INPUT_MEMORY) {
		h.kind = AN_PCM_MEMORY;
		head = in->mem;
		h.head_len = (uint64_t)in->length;
	} else if (in->kind == AN_INPUT_STREAM) {
		/* libsndfile read past the kept head: those bytes are gone */
		if (in->consumed > (sf_count_t)in->head_len)
			return -ESPIPE;
		h.kind = AN_PCM_STREAM;
		head = in->head;
		h.head_len = in->head_len;
	}
	int r = an_write_all(fb->ctl, "G", 1);
	if (r == 0)
		r = an_write_all(fb->ctl, &h, sizeof(h));
	if (r == 0 && h.head_len)
		r = an_write_all(fb->ctl, head, (size_t)h.head_len);
	close(fb->ctl);
	fb->ctl = -1;
	return r;
}

struct reader {
	struct an_fallback *fb;
	struct an_report *r;
	const struct an_tap *tap;
	struct an_analysis a;
	bool analysing;
	float *block;
	size_t block_frames;
	struct an_pcm_end end;
	bool ended;
};

static int on_header(struct reader *rd, uint32_t len)
{
	struct an_pcm_header *h = &rd->fb->hdr;

	if (rd->analysing || len != sizeof(*h) || an_read_exact(rd->fb->pcm, h, sizeof(*h)) != 1)
		return -1;
	if (h->channels < 1 || h->channels > AN_PCM_MAX_CHANNELS || h->sample_rate < 1 ||
	    h->sample_rate > AN_PCM_MAX_RATE)
		return -1;
	h->container[sizeof(h->container) - 1] = '\0';
	h->container_name[sizeof(h->container_name) - 1] = '\0';
	h->codec[sizeof(h->codec) - 1] = '\0';
	h->codec_name[sizeof(h->codec_name) - 1] = '\0';
	for (unsigned c = 0; c < sizeof(h->roles); c++)
		if (h->roles[c] > AN_CH_OTHER)
			return -1;
	rd->block_frames = AN_BLOCK_SAMPLES / h->channels ? AN_BLOCK_SAMPLES / h->channels : 1;
	rd->block = malloc(rd->block_frames * h->channels * sizeof(float));
	rd->r->ch = calloc(h->channels, sizeof(*rd->r->ch));
	/* Decoders of lossy and float codecs can exceed full scale: 1.0 */
	if (!rd->block || !rd->r->ch ||
	    an_analysis_init(&rd->a, h->channels, h->sample_rate, 1.0f, rd->block_frames) < 0)
		return -ENOMEM;
	for (unsigned c = 0; c < AN_LAYOUT_MAX && c < h->channels; c++) {
		rd->r->roles[c] = h->roles[c];
		if (h->roles[c] != AN_CH_UNKNOWN)
			rd->r->layout_source = "ffmpeg";
	}
	if (rd->r->layout_source)
		an_loudness_set_layout(&rd->a.loudness, rd->r->roles, h->channels);
	an_analysis_set_tap(&rd->a, rd->tap);
	rd->analysing = true;
	return 0;
}

static int on_data(struct reader *rd, uint32_t len)
{
	size_t frame_bytes = rd->analysing ? rd->fb->hdr.channels * sizeof(float) : 0;

	if (!rd->analysing || len == 0 || len > AN_PCM_MAX_DATA || len % frame_bytes)
		return -1;
	size_t frames = len / frame_bytes;
	while (frames > 0) {
		size_t n = frames < rd->block_frames ? frames : rd->block_frames;
		if (an_read_exact(rd->fb->pcm, rd->block, n * frame_bytes) != 1)
			return -1;
		an_analysis_push(&rd->a, rd->block, n);
		frames -= n;
	}
	return 0;
}

/* FFmpeg names its context by address ("[mp3float @ 0x55d0c2a9b380]"):
 * the address changes from run to run, the report must not. */
static void drop_addresses(char *line)
{
	char *at;
	while ((at = strstr(line, " @ 0x")) != NULL) {
		char *end = at + 5;
		while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f'))
			end++;
		memmove(at, end, strlen(end) + 1);
	}
}

static int on_log(struct reader *rd, uint32_t len)
{
	char line[AN_PCM_TEXT];

	if (len >= sizeof(line) || an_read_exact(rd->fb->pcm, line, len) != 1)
		return -1;
	line[len] = '\0';
	drop_addresses(line);
	/* FFmpeg's error-level lines only (ffdec.c): damage */
	if (rd->r->log_lines < AN_LOG_MAX_LINES) {
		rd->r->log_is_damage[rd->r->log_lines] = true;
		snprintf(rd->r->log[rd->r->log_lines++], AN_LOG_LINE_MAX, "%s", line);
	}
	return 0;
}

/* Read records to the 'E'. Returns 0, -1 (protocol broken or cut: the
 * decoder died or lied), -ENOMEM. */
static int read_records(struct reader *rd)
{
	struct an_pcm_rec rec;
	int r = 0;

	while (r == 0 && !rd->ended) {
		if (an_read_exact(rd->fb->pcm, &rec, sizeof(rec)) != 1)
			return -1;
		switch (rec.tag) {
		case AN_PCM_HEADER: r = on_header(rd, rec.len); break;
		case AN_PCM_DATA: r = on_data(rd, rec.len); break;
		case AN_PCM_LOG: r = on_log(rd, rec.len); break;
		case AN_PCM_END:
			if (rec.len != sizeof(rd->end) || an_read_exact(rd->fb->pcm, &rd->end, sizeof(rd->end)) != 1)
				return -1;
			rd->end.error[sizeof(rd->end.error) - 1] = '\0';
			rd->ended = true;
			break;
		default: return -1;
		}
	}
	return r;
}

static void set_error(struct an_outcome *out, enum an_status st, enum an_error_class c, const char *text)
{
	out->status = st;
	out->error_class = c;
	snprintf(out->error, sizeof(out->error), "%s", text);
}

void an_fallback_run(struct an_fallback *fb, struct an_input *in, const struct an_tap *tap,
		     struct an_outcome *out)
{
	struct reader rd = { .fb = fb, .r = &out->report, .tap = tap };
	char text[AN_ERROR_TEXT_MAX];
	int st = 0;

	memset(out, 0, sizeof(*out));
	int r = hand_over(fb, in);
	if (r == -ESPIPE) {
		an_fallback_cancel(fb);
		set_error(out, AN_STATUS_BAD_INPUT, AN_ERR_READ,
			  "this container cannot be handed to the FFmpeg fallback from a pipe after its first 8 MiB");
		return;
	}
	r = r < 0 ? -1 : read_records(&rd);
	close(fb->pcm);
	fb->pcm = -1;
	waitpid(fb->pid, &st, 0);
	fb->pid = -1;
	if (WIFSIGNALED(st)) {
		/* The decoder crashed or its filter stopped it: so did we. */
		int sig = WTERMSIG(st);
		fprintf(stderr, "sandrun-analyze: the FFmpeg fallback (" AN_DECODER_NAME ") was killed by signal %d (SIG%s)\n",
			sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		signal(sig, SIG_DFL);
		raise(sig);
		_exit(128 + sig);
	}
	if (r == -ENOMEM) {
		set_error(out, AN_STATUS_FAILED, AN_ERR_READ, "out of memory");
	} else if (r < 0 || !rd.ended) {
		snprintf(text, sizeof(text), "the FFmpeg fallback failed (exit status %d)",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		set_error(out, AN_STATUS_FAILED, AN_ERR_READ, text);
	} else if (!rd.end.ok || !rd.analysing) {
		enum an_error_class c = rd.end.error_class >= AN_ERR_NOT_MEDIA && rd.end.error_class <= AN_ERR_READ
					      ? (enum an_error_class)rd.end.error_class : AN_ERR_CORRUPT;
		if (c == AN_ERR_CORRUPT)
			snprintf(text, sizeof(text), "corrupt %s: %s", in->sniff.name[0] ? in->sniff.name : "file",
				 rd.end.error[0] ? rd.end.error : "no audio could be decoded");
		else
			snprintf(text, sizeof(text), "%s", rd.end.error);
		set_error(out, AN_STATUS_BAD_INPUT, c, text);
	} else {
		struct an_report *rep = &out->report;
		an_analysis_finish(&rd.a);
		an_decode_collect(rep, &rd.a);
		rep->container = fb->hdr.container;
		rep->container_name = fb->hdr.container_name;
		rep->codec = fb->hdr.codec;
		rep->codec_name = fb->hdr.codec_name;
		rep->sample_rate = fb->hdr.sample_rate;
		rep->channels = fb->hdr.channels;
		rep->frames_declared = -1;
		an_report_check_plausible(rep);
		/* From a pipe the decoder read the rest of the bytes itself. */
		if (!an_input_sha256(in, in->kind == AN_INPUT_STREAM, rep->input_sha256, &rep->input_bytes))
			rep->input_sha256[0] = '\0';
		if (rd.end.error[0])
			snprintf(rep->decoder_error, sizeof(rep->decoder_error), "%s", rd.end.error);
		out->status = AN_STATUS_OK;
	}
	if (rd.analysing)
		an_analysis_free(&rd.a);
	if (out->status != AN_STATUS_OK) {
		free(out->report.ch);
		out->report.ch = NULL;
	}
	free(rd.block);
}
