/* analyzer/fallback.h — handing an input libsndfile refused to
 * sandrun-decode, the FFmpeg fallback, and analyzing the PCM it returns.
 *
 * The hand-off has two halves on either side of the analyzer's seccomp
 * guard (guard.h), because the guard forbids fork and exec for good:
 *
 *   an_fallback_prepare()  before the guard, and only when the input's
 *                          magic names a container the fallback reads:
 *                          fork a "spare" child that does nothing but wait
 *                          on a pipe. It has read no byte of the input.
 *   an_fallback_run()      after libsndfile refused the input: tell the
 *                          spare to exec sandrun-decode (fd 0 the input,
 *                          fd 3 the hand-over, fd 1 a pipe back), send the
 *                          part of a pipe already read, then read PCM
 *                          records (pcm.h) through the same analysis as
 *                          libsndfile's samples.
 *   an_fallback_cancel()   libsndfile took the file: the spare exits.
 *
 * The spare's only choices are "exec this path with this argv" or "exit";
 * both were fixed before any byte of the input was parsed, so a decoder
 * exploit in the analyzer cannot make it run anything else.
 */
#ifndef SANDRUN_ANALYZER_FALLBACK_H
#define SANDRUN_ANALYZER_FALLBACK_H

#include <stdbool.h>
#include <sys/types.h>

#include "analyzer/pcm.h"

struct an_input;
struct an_outcome;

struct an_fallback {
	pid_t pid;               /* the spare, or -1 */
	int ctl;                 /* write end of its hand-over pipe */
	int pcm;                 /* read end of the PCM pipe */
	struct an_pcm_header hdr; /* what the decoder said it decodes (strings live here) */
};

#define AN_DECODER_NAME "sandrun-decode"

/* Fork the spare for decoder_path, with input_fd as its input. Returns 0
 * (fb->pid > 0) or -errno; fb->pid is -1 when there is no spare. */
int an_fallback_prepare(struct an_fallback *fb, const char *decoder_path, int input_fd);
void an_fallback_cancel(struct an_fallback *fb);
bool an_fallback_ready(const struct an_fallback *fb);

/* Decode in through the spare and fill out (status, report or error).
 * If the decoder died of a signal, the analyzer dies of the same one
 * (after a message on stderr), as if it had crashed itself. */
struct an_tap;
void an_fallback_run(struct an_fallback *fb, struct an_input *in, const struct an_tap *tap,
		     struct an_outcome *out);

#endif
