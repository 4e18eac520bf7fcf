/* runner/run_queue.c — the run's inputs queued while the loop already
 * claims: named paths, -r walks and --files-from as one resumable stream,
 * a chunk per step (docs/runner.md, "Claim while queueing"). */
#include "runner/run_queue.h"
#include "runner/common.h"
#include "store/store.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int run_queue_flush(struct collect *c)
{
	bool is_new[ENQUEUE_CHUNK];
	struct store_input fresh[ENQUEUE_CHUNK];
	size_t k = 0;
	int r = store_batch_add(c->st, (const char *const *)c->paths, c->n, is_new);
	/* watch: a path seen again was written again; the store's identity
	 * (size, mtime) keeps an unchanged done item done. */
	/* A kept chunk may be in the batch already (its enqueue was what
	 * failed): queued again whole; unchanged items stay as they are. */
	for (size_t i = 0; r == 0 && i < c->n; i++)
		if (is_new[i] || c->requeue || c->kept_chunk)
			fresh[k++] = c->in[i];
	if (r == 0 && k > 0)
		r = store_enqueue(c->st, c->js->key, fresh, k, c->opts->force);
	c->kept_chunk = r == -ENOTCONN;
	if (c->kept_chunk)
		return r; /* the loop reconnects, then the step flushes it again */
	for (size_t i = 0; i < c->n; i++)
		free(c->paths[i]);
	c->n = 0;
	if (r < 0) {
		c->store_error = true;
		progress_message(c->progress, "queueing inputs: %s", store_errmsg(c->st));
	}
	return r;
}

const char *run_queue_unreadable(const struct jobspec *js, const struct input *in)
{
	/* {} binds the file for the job's own uid, which owns nothing and is
	 * in no group: only "others" bits apply. One it cannot read fails here,
	 * clearly, rather than in the command. (The mode is the one of the
	 * descriptor the collection opened: no second open.) */
	if (in->error || in->skip != INPUT_SKIP_NONE || !js->input_arg || (in->mode & S_IROTH))
		return NULL;
	return "not readable by others: the --cmd job runs as a uid of its own and cannot open it at "
	       "/input; make it world-readable (chmod o+r) or drop {} to get it on stdin";
}

/* One input into the chunk, or an input error into the store; a skipped
 * walk entry is only named (the feed counts it). */
static int take_input(struct collect *c, const struct input *in)
{
	if (in->skip != INPUT_SKIP_NONE) {
		progress_skipped(c->progress, in->path, inputs_skip_name(in->skip), in->skip_detail);
		return 0;
	}
	struct input bad;
	if (run_queue_unreadable(c->js, in)) {
		bad = *in;
		bad.error = run_queue_unreadable(c->js, in);
		in = &bad;
	}
	if (in->error) {
		const char *one[1] = { in->path };
		bool is_new = false;
		int r = store_batch_add(c->st, one, 1, &is_new);
		if (r == 0 && is_new)
			r = store_record_input_error(c->st, c->js->key, in->path, in->error);
		if (r == -ENOTCONN) { /* said, not stored: the next run over it records it */
			progress_message(c->progress, "%s: %s (not recorded: the database is unreachable)",
					 in->path, in->error);
			return 0;
		}
		if (r < 0) {
			c->store_error = true;
			progress_message(c->progress, "recording an input error: %s", store_errmsg(c->st));
			return -EIO;
		}
		/* Counted by the batch counts read after the step. */
		if (is_new)
			progress_input_error(c->progress, 0, in->path, in->error, false);
		return 0;
	}
	if (!(c->paths[c->n] = strdup(in->path)))
		return -ENOMEM;
	c->in[c->n] = (struct store_input){ .path = c->paths[c->n], .size = in->size, .mtime_ns = in->mtime_ns };
	c->n++;
	return 0;
}

int run_queue_input(const struct input *in, void *ctx)
{
	struct collect *c = ctx;
	int r = take_input(c, in);
	if (r < 0 || ++c->seen < c->chunk)
		return r;
	r = run_queue_flush(c);
	if (r == -ENOTCONN)
		return 1; /* paused with the chunk kept: the step says LOOP_FEED_OFFLINE */
	return r < 0 ? r : 1; /* this step's share is done: pause the feed */
}

/* What the step queued, into the status line: the new batch paths and
 * those of them already done or failed. Once everything is queued, the
 * other items of the queue this run will work on too. */
int run_queue_count(struct collect *c, bool all_queued)
{
	struct store_batch_counts d;
	int r = store_batch_counts_since(c->st, c->run_id, &c->batch_mark, &d);
	if (r < 0)
		return r;
	struct progress_counts *pc = progress_counts(c->progress);
	pc->total += d.total;
	pc->done_before += d.done;
	pc->damaged_before += d.damaged;
	pc->failed_before += d.failed;
	for (int o = 0; o < OUTCOME_COUNT; o++)
		pc->failed_before_by[o] += d.failed_by[o];
	if (all_queued) {
		int64_t elsewhere = 0;
		if ((r = store_batch_elsewhere(c->st, c->js->key, c->run_id, &elsewhere)) < 0)
			return r;
		pc->total += elsewhere;
	}
	return 0;
}

enum loop_feed run_queue_step(void *ctx, int *exit_status)
{
	struct collect *c = ctx;
	c->seen = 0;
	int r = c->kept_chunk ? run_queue_flush(c) : 0;
	if (r == 0)
		r = inputs_feed_next(c->feed, run_queue_input, c, &c->stats);
	/* At the end, or waiting for a pipe: queue what was found so far. */
	if ((r == 0 || r == -EAGAIN) && c->n > 0) {
		int f = run_queue_flush(c);
		if (f < 0)
			r = f;
	}
	if (c->kept_chunk)
		return LOOP_FEED_OFFLINE;
	if (r < 0 && r != -EAGAIN) {
		const char *list = c->opts->files_from;
		if (c->store_error) {
			*exit_status = SR_EXIT_STORE; /* the message is out */
		} else if (r == -ENOMEM || !list) {
			progress_message(c->progress, "queueing inputs: %s", strerror(-r));
			*exit_status = SR_EXIT_STORE;
		} else {
			progress_message(c->progress, "--files-from %s: %s", list,
					 r == -EILSEQ ? "an entry holds a NUL byte (a NUL-separated list needs -0)"
					 : r == -E2BIG ? "an entry is longer than 64 KiB (a NUL-separated list needs -0)"
						       : strerror(-r));
			*exit_status = SR_EXIT_USAGE;
		}
		return LOOP_FEED_STOP;
	}
	int n = run_queue_count(c, r == 0);
	if (n == -ENOTCONN) /* the counts wait for the reconnect (the mark did not move) */
		return r == 0 ? LOOP_FEED_DONE : LOOP_FEED_OFFLINE;
	if (n < 0) {
		progress_message(c->progress, "counting the batch: %s", store_errmsg(c->st));
		*exit_status = SR_EXIT_STORE;
		return LOOP_FEED_STOP;
	}
	return r == 0 ? LOOP_FEED_DONE : r == -EAGAIN ? LOOP_FEED_WAIT : LOOP_FEED_MORE;
}

/* Open the list and the feed. Returns 0, or the exit status to end with. */
int run_queue_open(struct collect *c, char **paths, int npaths)
{
	const struct run_opts *o = c->opts;
	const char *env = getenv("SANDRUN_QUEUE_CHUNK");
	int chunk = ENQUEUE_CHUNK;
	if (env && sr_parse_int(env, 1, ENQUEUE_CHUNK, &chunk) < 0)
		chunk = ENQUEUE_CHUNK;
	c->chunk = (size_t)chunk;
	struct inputs_feed_opts fo = {
		.paths = (const char *const *)paths, .npaths = (size_t)npaths, .list_fd = -1,
		.nul = o->nul, .recursive = o->recursive, .filter = &o->filter, .follow = o->follow,
	};
	if (o->files_from) {
		bool is_stdin = strcmp(o->files_from, "-") == 0;
		c->list_fd = is_stdin ? STDIN_FILENO : open(o->files_from, O_RDONLY | O_CLOEXEC);
		if (c->list_fd < 0) {
			sr_err("--files-from %s: %s", o->files_from, strerror(errno));
			return SR_EXIT_USAGE;
		}
		/* A pipe (`find ... | sandrun --files-from -`) is read only
		 * when it has data: the loop must not block on a slow producer
		 * while it has jobs to watch. Regular files never block. */
		struct stat st;
		fo.list_fd = c->list_fd;
		fo.list_poll = fstat(c->list_fd, &st) == 0 && !S_ISREG(st.st_mode);
	}
	if (store_batch_open(c->st) < 0) {
		sr_err("%s", store_errmsg(c->st));
		return SR_EXIT_STORE;
	}
	if (inputs_feed_new(&fo, &c->feed) < 0) {
		sr_err("queueing inputs: %s", strerror(ENOMEM));
		return SR_EXIT_STORE;
	}
	return 0;
}

void run_queue_close(struct collect *c)
{
	inputs_feed_free(c->feed);
	for (size_t i = 0; i < c->n; i++)
		free(c->paths[i]);
	if (c->list_fd > STDIN_FILENO)
		close(c->list_fd);
	free(c);
}

