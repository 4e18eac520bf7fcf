/* analyzer/fingerprint.c — see fingerprint.h. */
#include "analyzer/fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/fdio.h"
#include "analyzer/identity.h"
#include "analyzer/pcm.h"
#include "analyzer/report.h"

static void fail(struct an_fingerprint *fp, const char *what)
{
	if (!fp->failed)
		snprintf(fp->error, sizeof(fp->error), "%s", what);
	fp->failed = true;
}

static void tap_start(void *u, unsigned channels, uint32_t rate)
{
	struct an_fingerprint *fp = u;
	struct an_fp_header h = { .magic = AN_FP_MAGIC, .sample_rate = rate, .channels = channels };

	fp->channels = channels;
	fp->rate = rate;
	fp->frames_max = (uint64_t)rate * AN_FP_SECONDS;
	if (fp->pid > 0 && an_write_all(fp->to, &h, sizeof(h)) < 0)
		fail(fp, "the fingerprint helper stopped reading");
}

static void tap_push(void *u, const float *frames, size_t nframes)
{
	struct an_fingerprint *fp = u;
	size_t per = AN_FP_BLOCK / fp->channels;

	if (fp->pid <= 0 || fp->failed || per == 0)
		return;
	while (nframes > 0 && fp->frames_sent < fp->frames_max) {
		size_t n = nframes < per ? nframes : per;
		if (n > fp->frames_max - fp->frames_sent)
			n = (size_t)(fp->frames_max - fp->frames_sent);
		an_quantize_s16(frames, n * fp->channels, fp->block);
		if (an_write_all(fp->to, fp->block, n * fp->channels * sizeof(int16_t)) < 0) {
			fail(fp, "the fingerprint helper stopped reading");
			return;
		}
		fp->frames_sent += n;
		frames += n * fp->channels;
		nframes -= n;
	}
	/* All it needs: let it work while the analysis goes on. */
	if (fp->frames_sent >= fp->frames_max && fp->to >= 0) {
		close(fp->to);
		fp->to = -1;
	}
}

bool an_fingerprint_text_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Close both pipes and reap the helper; its wait status. */
static int reap(struct an_fingerprint *fp)
{
	int st = 0;

	if (fp->to >= 0)
		close(fp->to);
	if (fp->from >= 0)
		close(fp->from);
	fp->to = fp->from = -1;
	if (fp->pid > 0)
		while (waitpid(fp->pid, &st, 0) < 0 && errno == EINTR)
			;
	fp->pid = -1;
	return st;
}

static void tap_finish(void *u, struct an_report *r)
{
	struct an_fingerprint *fp = u;
	struct an_fingerprint_result *res = &r->fingerprint;
	char *text = NULL;
	size_t len = 0;

	res->asked = true;
	res->seconds = fp->rate ? (double)fp->frames_sent / fp->rate : 0.0;
	if (fp->pid > 0 && !fp->failed) {
		if (fp->to >= 0) {
			close(fp->to);
			fp->to = -1;
		}
		text = malloc(AN_FP_MAX_TEXT + 1);
		if (!text) {
			fail(fp, "out of memory");
		} else {
			ssize_t n;
			while (len < AN_FP_MAX_TEXT &&
			       ((n = read(fp->from, text + len, AN_FP_MAX_TEXT - len)) > 0 ||
				(n < 0 && errno == EINTR)))
				len += n > 0 ? (size_t)n : 0;
			text[len] = '\0';
		}
	}
	bool was_running = fp->pid > 0;
	int st = reap(fp);
	if (was_running && !fp->failed) {
		char why[AN_FP_ERROR_MAX];
		if (WIFSIGNALED(st)) {
			int sig = WTERMSIG(st);
			snprintf(why, sizeof(why), "the fingerprint helper was killed by signal %d (SIG%s)", sig,
				 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
			fail(fp, why);
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			if (code == 66)
				snprintf(why, sizeof(why), "too short for a fingerprint");
			else
				snprintf(why, sizeof(why), "the fingerprint helper failed (exit status %d)%s", code,
					 code == 65 ? ": Chromaprint refused the audio" : "");
			fail(fp, why);
		} else if (!text || !an_fingerprint_text_valid(text, len)) {
			fail(fp, "the fingerprint helper sent no valid fingerprint");
		}
	}
	if (fp->failed) {
		free(text);
		text = NULL;
		snprintf(res->error, sizeof(res->error), "%s", fp->error);
	}
	res->text = text;
}

/* fd onto target in the child, without close-on-exec. fd == target only
 * when the analyzer was started with fd 0 or 1 closed, which the runner
 * never does (fcntl is outside the analyzer policy: standalone only). */
static int move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static void reset(struct an_fingerprint *fp)
{
	fp->pid = -1;
	fp->to = fp->from = -1;
	fp->failed = false;
	fp->error[0] = '\0';
	fp->frames_sent = 0;
	fp->tap = (struct an_tap){ .start = tap_start, .push = tap_push, .finish = tap_finish, .u = fp };
}

void an_fingerprint_unavailable(struct an_fingerprint *fp, const char *why)
{
	reset(fp);
	fail(fp, why);
}

int an_fingerprint_prepare(struct an_fingerprint *fp, const char *decoder_path)
{
	int to[2], from[2];

	reset(fp);
	/* Close-on-exec: the FFmpeg fallback's spare, forked later, must not
	 * carry them into its decoder (the helper would never see the end). */
	if (pipe2(to, O_CLOEXEC) < 0) {
		int e = errno;
		snprintf(fp->error, sizeof(fp->error), "no pipe for the fingerprint helper: %s", strerror(e));
		fp->failed = true;
		return -e;
	}
	if (pipe2(from, O_CLOEXEC) < 0) {
		int e = errno;
		close(to[0]);
		close(to[1]);
		snprintf(fp->error, sizeof(fp->error), "no pipe for the fingerprint helper: %s", strerror(e));
		fp->failed = true;
		return -e;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here. The input (fd 0) is
		 * replaced by the samples pipe: the helper never sees it. */
		if (move_fd(to[0], STDIN_FILENO) < 0 || move_fd(from[1], STDOUT_FILENO) < 0)
			_exit(127);
		char *argv[] = { (char *)AN_FP_HELPER_ARGV0, (char *)"--fingerprint", NULL };
		char *envp[] = { NULL };
		execve(decoder_path, argv, envp);
		_exit(127);
	}
	int e = errno;
	close(to[0]);
	close(from[1]);
	if (pid < 0) {
		close(to[1]);
		close(from[0]);
		snprintf(fp->error, sizeof(fp->error), "cannot start the fingerprint helper: %s", strerror(e));
		fp->failed = true;
		return -e;
	}
	fp->pid = pid;
	fp->to = to[1];
	fp->from = from[0];
	return 0;
}

void an_fingerprint_cancel(struct an_fingerprint *fp)
{
	reap(fp);
}
