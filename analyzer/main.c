/* analyzer/main.c — sandrun-analyze: one audio file in, one JSON object
 * out. See docs/analyzer.md and docs/sandrun-analyze.1.
 *
 *   sandrun-analyze          read the input from fd 0 (the runner's way)
 *   sandrun-analyze PATH     open PATH first (debugging); same numbers
 *   --fingerprint            also the Chromaprint fingerprint (fingerprint.h)
 *   --spectral               also the librosa-defined summary (spectral.h)
 *
 * Exit status: 0 analyzed, 65 bad_input (no decoder took the file),
 * 2 usage, 70 internal failure, 71 the seccomp guard could not be
 * installed, 74 stdout could not be written. A signal is a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/decode.h"
#include "analyzer/fallback.h"
#include "analyzer/fdio.h"
#include "analyzer/fingerprint.h"
#include "analyzer/guard.h"
#include "analyzer/input.h"
#include "analyzer/json.h"
#include "analyzer/spectral_tap.h"

#ifndef SANDRUN_VERSION
#define SANDRUN_VERSION "unknown"
#endif

enum {
	EXIT_ANALYZED = 0,
	EXIT_USAGE = 2,
	EXIT_BAD_INPUT = 65,  /* EX_DATAERR */
	EXIT_INTERNAL = 70,   /* EX_SOFTWARE */
	EXIT_NO_GUARD = 71,   /* EX_OSERR */
	EXIT_OUTPUT = 74,     /* EX_IOERR */
};

static void usage(FILE *to)
{
	fputs("usage: sandrun-analyze [--fingerprint] [--spectral] [PATH]\n"
	      "Analyze one audio file and print one JSON object of features.\n"
	      "Without PATH the file is read from standard input (fd 0).\n"
	      "  --fingerprint  also its Chromaprint fingerprint (runs sandrun-decode)\n"
	      "  --spectral     also a spectral summary defined as librosa's features\n"
	      "Exit status: 0 analyzed, 65 bad input, 2 usage; see sandrun-analyze(1).\n",
	      to);
}

/* sandrun-decode lives next to this program: in the sandbox both are bound
 * under /opt/sandrun, installed both are in LIBEXECDIR, in the build tree
 * both are in the build directory. */
static void decoder_path(const char *argv0, char *out, size_t len)
{
	char self[4096];
	const char *dir = argv0;
	size_t dirlen;
	const char *slash = strrchr(argv0, '/');

	if (!slash) {
		/* run through $PATH: ask the kernel where we are */
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			out[0] = '\0';
			return;
		}
		self[n] = '\0';
		dir = self;
		slash = strrchr(self, '/');
	}
	dirlen = slash ? (size_t)(slash - dir) : 0;
	snprintf(out, len, "%.*s/" AN_DECODER_NAME, (int)dirlen, dir);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool options_done = false;
	bool fingerprint = false, spectral = false;
	int fd = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
		} else if (!options_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
			usage(stdout);
			return EXIT_ANALYZED;
		} else if (!options_done && (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0)) {
			puts("sandrun-analyze " SANDRUN_VERSION);
			return EXIT_ANALYZED;
		} else if (!options_done && strcmp(arg, "--fingerprint") == 0) {
			fingerprint = true;
		} else if (!options_done && strcmp(arg, "--spectral") == 0) {
			spectral = true;
		} else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			fprintf(stderr, "sandrun-analyze: unknown option %s\n", arg);
			usage(stderr);
			return EXIT_USAGE;
		} else if (!path) {
			path = arg;
		} else {
			fprintf(stderr, "sandrun-analyze: one file at a time\n");
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (path && strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			fprintf(stderr, "sandrun-analyze: %s: %s\n", path, strerror(errno));
			return EXIT_USAGE;
		}
	}

	struct an_input in;
	int r = an_input_from_fd(&in, fd);
	if (r < 0) {
		fprintf(stderr, "sandrun-analyze: input: %s\n", strerror(-r));
		return r == -EBADF ? EXIT_USAGE : EXIT_INTERNAL;
	}
	/* A reader that goes away must not kill us silently: EPIPE then
	 * ends as an output error with a message. */
	signal(SIGPIPE, SIG_IGN);

	/* Only for a container the FFmpeg fallback reads: its spare child,
	 * forked now because the guard forbids it later (fallback.h). The
	 * WAV/FLAC path never forks; MPEG does, for decode.c's recovery of a
	 * stream mpg123 gave up on. Without the decoder installed the
	 * file is refused as unsupported. */
	char dpath[4200];
	decoder_path(argv[0], dpath, sizeof(dpath));
	bool have_decoder = dpath[0] && access(dpath, X_OK) == 0;
	/* The fingerprint helper first: forked later, it would inherit the
	 * fallback spare's pipes (the spare keeps what it is given). */
	static struct an_fingerprint fp = { .pid = -1, .to = -1, .from = -1 };
	if (fingerprint && have_decoder) {
		int e = an_fingerprint_prepare(&fp, dpath);
		if (e < 0)
			fprintf(stderr, "sandrun-analyze: %s\n", fp.error);
	} else if (fingerprint) {
		an_fingerprint_unavailable(&fp, AN_DECODER_NAME " is not installed");
	}

	struct an_fallback fb = { .pid = -1, .ctl = -1, .pcm = -1 };
	if (in.sniff.demuxer) {
		int e = have_decoder ? an_fallback_prepare(&fb, dpath, fd) : 0;
		if (e < 0)
			fprintf(stderr, "sandrun-analyze: cannot prepare the FFmpeg fallback: %s\n",
				strerror(-e));
	}

	/* From here on no file is opened, nothing is executed: the input is
	 * open and libsndfile has not read a byte of it yet. */
	r = an_guard_install();
	if (r < 0) {
		fprintf(stderr, "sandrun-analyze: cannot install seccomp guard: %s\n",
			strerrordesc_np(-r));
		return EXIT_NO_GUARD;
	}

	struct an_json json;
	an_json_init(&json);
	const struct an_tap *taps = fingerprint ? &fp.tap : NULL;
	static struct an_spectral_tap sp;
	if (spectral) {
		an_spectral_tap_init(&sp, taps);
		taps = &sp.tap;
	}
	char why[AN_ERROR_TEXT_MAX] = "";
	enum an_status status = an_analyze_with_fallback(&in, &fb, taps, &json, why, sizeof why);
	an_input_release(&in);
	an_fingerprint_cancel(&fp);
	if (status == AN_STATUS_FAILED && json.err) {
		fprintf(stderr, "sandrun-analyze: out of memory\n");
		return EXIT_INTERNAL;
	}
	r = an_write_all(STDOUT_FILENO, json.buf, json.len);
	if (r < 0) {
		fprintf(stderr, "sandrun-analyze: writing the report: %s\n", strerrordesc_np(-r));
		return EXIT_OUTPUT;
	}
	an_json_free(&json);
	switch (status) {
	case AN_STATUS_OK:
		return EXIT_ANALYZED;
	case AN_STATUS_BAD_INPUT:
		/* The decoder's own words (also the report's "error"): the
		 * runner keeps stderr's tail with the attempt. */
		fprintf(stderr, "sandrun-analyze: bad input: %s\n", why[0] ? why : "not a decodable audio file");
		return EXIT_BAD_INPUT;
	default:
		fprintf(stderr, "sandrun-analyze: analysis failed%s%s\n", why[0] ? ": " : "", why);
		return EXIT_INTERNAL;
	}
}
