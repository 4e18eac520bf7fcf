/* analyzer/decoder/main.c — sandrun-decode: the FFmpeg fallback of
 * sandrun-analyze (docs/analyzer.md, "The FFmpeg fallback").
 *
 *   sandrun-decode             fd 0 the input, fd 3 the hand-over (pcm.h),
 *                              fd 1 the PCM records: how the analyzer runs it
 *   sandrun-decode < FILE      standalone (no fd 3): the same records
 *   sandrun-decode --fingerprint
 *                              fd 0 PCM from the analyzer, fd 1 its
 *                              Chromaprint fingerprint (fingerprint.h)
 *   sandrun-decode --test-forbidden SYSCALL
 *                              tests only: install the filter, then make
 *                              one forbidden call (openat, socket, execve,
 *                              fork) and say so if it was not stopped
 *
 * It installs its own seccomp filter (policies/decode.json, compiled in)
 * before it reads a byte of the input, and runs one container from
 * FFDEC_FORMATS, named by the input's own magic bytes, never probed.
 * Exit status: 0 the records were written (the 'E' record says how the
 * decoding went), 2 usage, 71 the filter could not be installed, 74 the
 * analyzer went away. A signal is a crash (SIGSYS: the filter).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/decoder/ffdec.h"
#include "analyzer/decoder/filter.h"
#include "analyzer/decoder/fingerprint.h"
#include "analyzer/fdio.h"
#include "analyzer/pcm.h"
#include "analyzer/sniff.h"

#ifndef SANDRUN_VERSION
#define SANDRUN_VERSION "unknown"
#endif

/* The head of a pipe: what the analyzer read before it gave up on it. */
#define HEAD_MAX ((16u << 20))

static void put(uint32_t tag, const void *data, size_t len)
{
	struct an_pcm_rec rec = { .tag = tag, .len = (uint32_t)len };

	if (an_write_all(STDOUT_FILENO, &rec, sizeof(rec)) < 0 || an_write_all(STDOUT_FILENO, data, len) < 0)
		_exit(74); /* the analyzer is gone: nobody to tell */
}

static int sink_header(void *u, const struct an_pcm_header *h)
{
	*(unsigned *)u = h->channels; /* for sink_data */
	put(AN_PCM_HEADER, h, sizeof(*h));
	return 0;
}

static int sink_data(void *u, const float *s, size_t frames)
{
	const unsigned *channels = u;

	put(AN_PCM_DATA, s, frames * *channels * sizeof(float));
	return 0;
}

static void sink_log(void *u, const char *line)
{
	put(AN_PCM_LOG, line, strlen(line));
}

/* tests only: a call the filter must stop */
static int try_forbidden(const char *name)
{
	long r;

	if (strcmp(name, "openat") == 0)
		r = openat(AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC);
	else if (strcmp(name, "socket") == 0)
		r = socket(AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(name, "execve") == 0)
		r = execve("/bin/true", (char *[]){ "true", NULL }, (char *[]){ NULL });
	else if (strcmp(name, "fork") == 0)
		r = fork();
	else
		return 2;
	printf("sandrun-decode: %s was not stopped (%ld, %s)\n", name, r, r < 0 ? strerror(errno) : "ok");
	return 1;
}

int main(int argc, char **argv)
{
	const char *forbidden = NULL;
	bool fingerprint = false;
	char err[256];

	if (argc == 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		puts("sandrun-decode " SANDRUN_VERSION);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--test-forbidden") == 0) {
		forbidden = argv[2];
	} else if (argc == 2 && strcmp(argv[1], "--fingerprint") == 0) {
		fingerprint = true;
	} else if (argc != 1) {
		fputs("usage: sandrun-decode < INPUT > RECORDS   (run by sandrun-analyze; see sandrun-analyze(1))\n",
		      stderr);
		return 2;
	}
	/* Everything the filter does not allow is loaded by now. */
	int r = ffdec_filter_install(an_decode_policy_text, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "sandrun-decode: cannot install the seccomp filter: %s\n", err);
		return 71;
	}
	if (forbidden)
		return try_forbidden(forbidden);
	if (fingerprint)
		return fp_main();

	struct ffdec_source src = { .fd = STDIN_FILENO };
	struct stat st;
	if (fstat(STDIN_FILENO, &st) < 0) {
		fprintf(stderr, "sandrun-decode: input: %s\n", strerror(errno));
		return 2;
	}
	src.seekable = S_ISREG(st.st_mode);
	src.size = st.st_size;
	uint8_t *head = NULL;
	struct stat ctl;
	if (fstat(AN_PCM_CTL_FD, &ctl) == 0) {
		struct an_pcm_handover h;
		if (an_read_exact(AN_PCM_CTL_FD, &h, sizeof(h)) != 1 || h.magic != AN_PCM_MAGIC ||
		    h.head_len > HEAD_MAX || (h.head_len && src.seekable)) {
			fprintf(stderr, "sandrun-decode: bad hand-over on fd %d\n", AN_PCM_CTL_FD);
			return 2;
		}
		if (h.head_len && !(head = malloc(h.head_len))) {
			fprintf(stderr, "sandrun-decode: out of memory\n");
			return 70;
		}
		if (h.head_len && an_read_exact(AN_PCM_CTL_FD, head, h.head_len) != 1) {
			fprintf(stderr, "sandrun-decode: short hand-over\n");
			return 2;
		}
		close(AN_PCM_CTL_FD);
		src.head = head;
		src.head_len = h.head_len;
		if (h.kind == AN_PCM_MEMORY)
			src.fd = -1; /* the analyzer read all of it */
	}

	/* The input's own magic picks the demuxer; the analyzer's word is not taken. */
	uint8_t magic[AN_SNIFF_BYTES];
	size_t n = 0;
	if (src.head_len) {
		n = src.head_len < sizeof(magic) ? src.head_len : sizeof(magic);
		memcpy(magic, src.head, n);
	} else if (src.seekable) {
		ssize_t got = pread(STDIN_FILENO, magic, sizeof(magic), 0);
		n = got > 0 ? (size_t)got : 0;
	}
	struct an_sniff sn;
	an_sniff_bytes(magic, n, &sn);
	struct an_pcm_end end = { 0 };
	if (!sn.demuxer) {
		end.error_class = AN_ERR_UNSUPPORTED;
		snprintf(end.error, sizeof(end.error), "not a container the FFmpeg fallback reads (%s)",
			 sn.name[0] ? sn.name : "unknown signature");
	} else {
		unsigned channels = 0;
		struct ffdec_sink sink = { .u = &channels, .header = sink_header, .data = sink_data,
					   .log = sink_log };
		ffdec_run(sn.demuxer, &src, &sink, &end);
	}
	put(AN_PCM_END, &end, sizeof(end));
	free(head);
	return 0;
}
