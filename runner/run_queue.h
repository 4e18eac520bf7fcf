/* runner/run_queue.h — private to `sandrun run`: its inputs queued in
 * steps while the loop claims (run_queue.c). */
#ifndef SANDRUN_RUN_QUEUE_H
#define SANDRUN_RUN_QUEUE_H

#include "runner/loop.h"
#include "runner/run_opts.h"
#include "store/store.h"

/* Claim while queueing: run_batch() queues the first step's worth of
 * inputs, then the event loop starts (the first job starts at once) and
 * calls run_queue_step() between its epoll waits until every input is queued.
 * One step is about ENQUEUE_CHUNK inputs (input errors included), a few
 * milliseconds, so jobs are watched between steps; see docs/runner.md. */
struct collect {
	struct store *st;
	const struct jobspec *js;
	struct progress *progress;
	const struct run_opts *opts;
	int64_t run_id;
	struct inputs_feed *feed;
	int list_fd;                 /* --files-from's descriptor, or -1 */
	struct inputs_stats stats;
	int64_t batch_mark;          /* batch rows counted into the status line */
	char *paths[ENQUEUE_CHUNK];
	struct store_input in[ENQUEUE_CHUNK];
	size_t n;
	size_t seen;                 /* inputs handed out in this step */
	size_t chunk;                /* ... at most this many */
	bool store_error;
	bool kept_chunk;             /* the chunk's flush met a lost database
					connection (-ENOTCONN): paths kept, flushed
					again by the next step */
	bool requeue;                /* queue paths the batch holds again (watch) */
};

/* Open the inputs' stream (named paths, -r walks, --files-from): 0, or an
 * exit status with its message printed. */
int run_queue_open(struct collect *c, char **paths, int npaths);
/* One step: about ENQUEUE_CHUNK inputs queued (the loop's feed). */
enum loop_feed run_queue_step(void *ctx, int *exit_status);
/* An input a --cmd job with {} could not read (not readable by others):
 * the input error's message, else NULL. (--dry-run says the same.) */
const char *run_queue_unreadable(const struct jobspec *js, const struct input *in);
/* The pieces, for `sandrun watch` (runner/dropdir.c): one input into the
 * chunk (an input_fn: 1 once the step's share is queued), the chunk into
 * the store (0 or -errno; the message is out), and the step's counts into
 * the status line. */
int run_queue_input(const struct input *in, void *ctx);
int run_queue_flush(struct collect *c);
int run_queue_count(struct collect *c, bool all_queued);
/* Close the stream and what it holds. Safe after a failed open. */
void run_queue_close(struct collect *c);

#endif
