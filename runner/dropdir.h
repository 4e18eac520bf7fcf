/* runner/dropdir.h — private to `sandrun watch`: drop folders watched with
 * inotify and queued into the run's store while the loop claims
 * (runner/dropdir.c, the tree and its events; runner/dropdir_pending.c,
 * files not taken yet). docs/runner.md, "Watching a drop folder", says
 * why it is built this way.
 *
 * A file is taken when it was closed after a write (IN_CLOSE_WRITE) or
 * renamed into the tree (IN_MOVED_TO), and no one has it open for writing
 * any more; with --settle, once its size and mtime stayed the same that
 * long. The whole tree is walked at the start and again when the kernel's
 * event queue overflowed, so nothing dropped meanwhile is missed; what is
 * already done stays done (the store's identity: path, size, mtime).
 * Entries are opened beneath the directory descriptors the walk checked,
 * as `run -r` opens them (runner/inputs_feed.c): no path is resolved
 * twice, and links follow --follow-symlinks. */
#ifndef SANDRUN_DROPDIR_H
#define SANDRUN_DROPDIR_H

#include "runner/loop.h"
#include "runner/run_queue.h"

#include <stdbool.h>
#include <stdint.h>

struct dropdir;

/* Open the directories (each resolved once, inputs_resolve_path) and the
 * inotify and timer descriptors, and ask for the first full walk. c is the
 * run's queue (run_queue_open with no paths), borrowed. Returns 0, or an
 * exit status with its message printed. */
int dropdir_open(struct collect *c, char **dirs, int ndirs, uint64_t settle_ms, size_t max_dirs,
		 struct dropdir **out);
/* One step (the loop's feed): a chunk of the walk, the files due after
 * --settle, the events read so far. LOOP_FEED_WAIT when there is nothing
 * to do until dropdir_fd() is readable; never LOOP_FEED_DONE. */
enum loop_feed dropdir_step(void *ctx, int *exit_status);
/* What the loop waits for: an epoll descriptor over the inotify
 * descriptor and the --settle timer. */
int dropdir_fd(const struct dropdir *d);
/* Queue overflows seen (each one a full walk). */
int64_t dropdir_overflows(const struct dropdir *d);
void dropdir_close(struct dropdir *d);

/* ---- files not taken yet (dropdir_pending.c) ------------------------- */

/* A file seen but not taken: waiting to settle, or still open for
 * writing just after its close event (the kernel queues IN_CLOSE_WRITE
 * before it drops the writer's count). Keyed by real path. */
struct dd_pending {
	struct dd_pending *hnext, *prev, *next;
	char *path;
	int64_t size, mtime_ns;
	uint64_t due_ms;
	int tries;            /* rechecks for a writer after the close event */
};

#define DD_BUCKETS 4096
struct dd_table {
	struct dd_pending *bucket[DD_BUCKETS];
	struct dd_pending *head, *tail;
	size_t n;
};

struct dd_pending *dd_find(struct dd_table *t, const char *path);
/* New, or the one there: 0 and *out, or -ENOMEM. */
int dd_add(struct dd_table *t, const char *path, struct dd_pending **out);
void dd_drop(struct dd_table *t, struct dd_pending *p);
void dd_clear(struct dd_table *t);
/* The earliest due time, or UINT64_MAX when the table is empty. */
uint64_t dd_next_due(const struct dd_table *t);
/* Up to max paths of items due at now, copied (free each). */
size_t dd_due_paths(const struct dd_table *t, uint64_t now, char **paths, size_t max);

/* Whether someone has the file behind fd (opened read-only) open for
 * writing: a read lease (F_SETLEASE F_RDLCK) is refused while any writer
 * is there. 1 yes, 0 no, -errno when this file system or process cannot
 * tell (no leases: then only the close event and --settle speak). */
int dd_writers_open(int fd);

#endif
