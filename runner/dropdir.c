/* runner/dropdir.c — `sandrun watch`: the watched trees, their inotify
 * events and the full walks, as the run loop's feed (dropdir.h,
 * docs/runner.md "Watching a drop folder").
 *
 * Each directory of a tree is one node: its inotify watch, a descriptor of
 * it (the one the walk checked) and its real path. Events name an entry of
 * a node; the entry is opened beneath the node's descriptor by the same
 * code a -r walk uses (inputs_feed_entry), never by path. A watch is added
 * through /proc/self/fd of that descriptor, before the directory is
 * listed: what the listing misses, the watch reports. */
#include "runner/dropdir.h"
#include "runner/common.h"
#include "runner/inputs.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* What a directory's watch reports. Files: closed after a write, renamed
 * in. Directories: made or renamed in (a walk of their own), renamed out
 * (forgotten). Links: made (IN_CREATE; only links are taken from it, see
 * dd_event). The node itself gone: IN_DELETE_SELF, IN_MOVE_SELF. */
#define DD_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | \
		 IN_ONLYDIR | IN_EXCL_UNLINK)
/* Rechecks of a file still open for writing right after its close event
 * (the writer's count drops a moment after the event is queued): 20 ms,
 * 40 ms, ... 320 ms. Another writer still there closes later, and its own
 * event brings the file again. */
#define BUSY_RETRIES 5
#define BUSY_RETRY_MS 20
/* Due files rechecked per step (each a few system calls), and events
 * handled per step at most: the loop watches its jobs between steps. */
#define DUE_PER_STEP 256
#define EVENTS_PER_STEP 4096

struct dd_node {
	int wd, fd, root, depth;
	char *path;
	unsigned gen;         /* the full walk that last entered it */
};

struct dd_root {
	int fd;
	char path[PATH_MAX];
};

enum dd_origin { FROM_WALK, FROM_CLOSE, FROM_MOVE, FROM_RECHECK };

struct dropdir {
	struct collect *c;
	uint64_t settle_ms;
	int in_fd, timer_fd, ep_fd;
	struct dd_root *roots;
	int nroots;
	struct dd_node *nodes;
	size_t nnodes, cap, max_nodes;
	unsigned gen;          /* the current full walk */
	int rescan_next;       /* next root of the full walk; -1: none under way */
	int walk_root;         /* the root of the walk under way */
	enum dd_origin origin; /* of the entry being handed out */
	struct dd_table pending;
	int64_t overflows;
	bool stop, watch_warned, lease_warned;
	bool max_by_option;    /* max_nodes is --max-dirs (else the descriptor limit) */
	int stop_status;
	size_t evpos, evlen;
	char evbuf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
};

/* ---- nodes ------------------------------------------------------------ */

static struct dd_node *node_by_wd(struct dropdir *d, int wd)
{
	for (size_t i = 0; i < d->nnodes; i++)
		if (d->nodes[i].wd == wd)
			return &d->nodes[i];
	return NULL;
}

static struct dd_node *node_by_path(struct dropdir *d, const char *path, size_t len)
{
	for (size_t i = 0; i < d->nnodes; i++)
		if (strncmp(d->nodes[i].path, path, len) == 0 && d->nodes[i].path[len] == '\0')
			return &d->nodes[i];
	return NULL;
}

/* Forget a node (rm: its watch too; not after IN_IGNORED, it is gone). */
static void node_drop(struct dropdir *d, struct dd_node *n, bool rm)
{
	if (rm)
		inotify_rm_watch(d->in_fd, n->wd);
	close(n->fd);
	free(n->path);
	*n = d->nodes[--d->nnodes];
}

/* A directory renamed out of its place: it and everything below it. The
 * ones renamed within the tree are walked again under their new paths. */
static void forget_subtree(struct dropdir *d, const char *path)
{
	size_t pl = strlen(path);
	for (size_t i = 0; i < d->nnodes;) {
		const char *p = d->nodes[i].path;
		if (d->nodes[i].depth > 0 && strncmp(p, path, pl) == 0 && (p[pl] == '\0' || p[pl] == '/'))
			node_drop(d, &d->nodes[i], true); /* the last one moved here: look at i again */
		else
			i++;
	}
}

/* The walk enters a directory: watch it before it is listed. */
static int on_dir(int dirfd, const char *path, int depth, void *ctx)
{
	struct dropdir *d = ctx;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
	/* The magic link is the checked directory itself, whatever its path
	 * has become: nothing is resolved by name here. */
	int wd = inotify_add_watch(d->in_fd, proc, DD_MASK);
	if (wd < 0) {
		if (!d->watch_warned)
			progress_message(d->c->progress, "warning: cannot watch %s: %s%s; its files are found by the "
					 "walks only", path, strerror(errno),
					 errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
		d->watch_warned = true;
		return 0;
	}
	struct dd_node *n = node_by_wd(d, wd);
	if (n && strcmp(n->path, path) == 0) { /* the same directory, seen again */
		n->gen = d->gen;
		return 0;
	}
	/* Half the descriptors at most: the rest are the jobs' and the files'. */
	bool over = !n && d->nnodes >= d->max_nodes;
	int fd = over ? -1 : fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) { /* out of descriptors: as if it could not be watched */
		if (!d->watch_warned && over)
			progress_message(d->c->progress, "warning: more than %zu directories to watch (%s): %s and "
					 "the ones after it are not watched, their files are found only by the full "
					 "walks (at the start and after a queue overflow); %s", d->max_nodes,
					 d->max_by_option ? "--max-dirs" : "half the descriptor limit", path,
					 d->max_by_option ? "raise --max-dirs" : "raise the descriptor limit (ulimit -n)");
		else if (!d->watch_warned)
			progress_message(d->c->progress, "warning: cannot keep %s open: %s; its files are found by "
					 "the walks only", path, strerror(errno));
		d->watch_warned = true;
		inotify_rm_watch(d->in_fd, wd);
		if (n)
			node_drop(d, n, false);
		return 0;
	}
	char *copy = strdup(path);
	if (!copy) {
		close(fd);
		inotify_rm_watch(d->in_fd, wd);
		if (n)
			node_drop(d, n, false);
		return -ENOMEM;
	}
	if (n) { /* renamed while its events were lost: its new path */
		close(n->fd);
		free(n->path);
	} else {
		if (d->nnodes == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 64;
			struct dd_node *nn = realloc(d->nodes, cap * sizeof *nn);
			if (!nn) {
				free(copy);
				close(fd);
				inotify_rm_watch(d->in_fd, wd);
				return -ENOMEM;
			}
			d->nodes = nn;
			d->cap = cap;
		}
		n = &d->nodes[d->nnodes++];
	}
	*n = (struct dd_node){ .wd = wd, .fd = fd, .root = d->walk_root, .depth = depth, .path = copy,
			       .gen = d->gen };
	return 0;
}

static void use_tree(struct dropdir *d, int root)
{
	struct inputs_tree t = { .root_fd = d->roots[root].fd, .root_path = d->roots[root].path, .on_dir = on_dir,
				 .ctx = d };
	d->walk_root = root;
	inputs_feed_set_tree(d->c->feed, &t);
}

/* ---- taking a file ---------------------------------------------------- */

static void stop(struct dropdir *d, int status)
{
	d->stop = true;
	if (!d->stop_status)
		d->stop_status = status;
}

/* An entry looked at and not queued counts towards the step's share too:
 * 1 (pause) once the share is reached. */
static int counted(struct dropdir *d)
{
	return ++d->c->seen >= d->c->chunk;
}

/* Wait until due for this file: 0 or 1 (counted()), or -ENOMEM. */
static int defer(struct dropdir *d, struct dd_pending *p, const struct input *in, uint64_t due, int tries)
{
	if (!p && dd_add(&d->pending, in->path, &p) < 0)
		return -ENOMEM;
	p->size = in->size;
	p->mtime_ns = in->mtime_ns;
	p->due_ms = due;
	p->tries = tries;
	return counted(d);
}

/* Every entry the walks and events hand out: into the queue, or not yet. */
static int dd_input(const struct input *in, void *ctx)
{
	struct dropdir *d = ctx;
	struct dd_pending *p = dd_find(&d->pending, in->path);
	if (in->error && (in->err == -ENOENT || in->err == -ESTALE)) {
		dd_drop(&d->pending, p); /* gone again before it was looked at: nothing to analyze */
		return counted(d);
	}
	if (in->error || in->skip != INPUT_SKIP_NONE) {
		dd_drop(&d->pending, p);
		return run_queue_input(in, d->c);
	}
	uint64_t now = sr_now_ms();
	if (d->settle_ms) {
		/* Stable for --settle: the same size and mtime that long. */
		if (!p || p->size != in->size || p->mtime_ns != in->mtime_ns)
			return defer(d, p, in, now + d->settle_ms, 0);
		if (now < p->due_ms)
			return counted(d);
	}
	int writers = in->fd >= 0 ? dd_writers_open(in->fd) : 0;
	if (writers < 0 && !d->lease_warned) {
		/* Fail open, said once: the close event (and --settle) still
		 * keep a file being written from being taken in most cases. */
		d->lease_warned = true;
		progress_message(d->c->progress, "warning: cannot tell whether files are still open for writing "
				 "(a read lease on %s: %s; a runner that is not root can lease only its own files): "
				 "a file is taken at its close or rename event alone, so a writer that closes and "
				 "reopens it may lose the race; use --settle", in->path, strerror(-writers));
	}
	if (writers == 1) {
		/* Still being written: its last writer's close brings it
		 * again. Only after a close event is it looked at again here,
		 * a few times (that writer's count may not have dropped yet);
		 * a walk that meets it meanwhile does not end those rechecks. */
		if (d->settle_ms)
			return defer(d, p, in, now + d->settle_ms, 0);
		int tries = d->origin == FROM_CLOSE ? 0 : p ? p->tries : BUSY_RETRIES;
		if (tries < BUSY_RETRIES)
			return defer(d, p, in, now + ((uint64_t)BUSY_RETRY_MS << tries), tries + 1);
		dd_drop(&d->pending, p);
		return counted(d);
	}
	dd_drop(&d->pending, p);
	return run_queue_input(in, d->c);
}

/* One entry of a node, as a walk would hand it out. */
static int entry(struct dropdir *d, struct dd_node *n, const char *name, enum dd_origin origin)
{
	use_tree(d, n->root);
	d->origin = origin;
	return inputs_feed_entry(d->c->feed, n->fd, n->path, name, n->depth, dd_input, d, &d->c->stats);
}

/* ---- events ----------------------------------------------------------- */

static void want_full_walk(struct dropdir *d)
{
	d->gen++;
	d->rescan_next = 0;
}

static int dd_event(struct dropdir *d, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		d->overflows++;
		progress_notice(d->c->progress, "inotify queue overflowed: rescanning");
		want_full_walk(d);
		return 0;
	}
	struct dd_node *n = node_by_wd(d, ev->wd);
	if (!n)
		return 0; /* a directory forgotten already */
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		if (n->depth == 0) {
			progress_message(d->c->progress, "%s was moved, deleted or unmounted: stopping", n->path);
			stop(d, SR_EXIT_USAGE);
		} else if (ev->mask & IN_IGNORED) {
			node_drop(d, n, false);
		}
		return 0;
	}
	if (!ev->len || !ev->name[0])
		return 0;
	if (ev->mask & IN_ISDIR) {
		if (ev->mask & IN_MOVED_FROM) {
			char path[PATH_MAX];
			if (snprintf(path, sizeof path, "%s/%s", n->path, ev->name) < (int)sizeof path)
				forget_subtree(d, path);
			return 0;
		}
		/* Made or renamed in: walked (and watched) from here. */
		return ev->mask & (IN_CREATE | IN_MOVED_TO) ? entry(d, n, ev->name, FROM_WALK) : 0;
	}
	if (ev->mask & IN_CLOSE_WRITE)
		return entry(d, n, ev->name, FROM_CLOSE);
	if (ev->mask & IN_MOVED_TO)
		return entry(d, n, ev->name, FROM_MOVE);
	if (ev->mask & IN_CREATE) {
		/* A link is made whole (no write follows); a file made here
		 * is taken at its close, never at its creation: the kernel
		 * reports the create before the writer holds the file. */
		struct stat st;
		if (fstatat(n->fd, ev->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			return entry(d, n, ev->name, FROM_MOVE);
	}
	return 0;
}

/* The next buffered event, reading more when the buffer is empty:
 * 1 handled one (its return in *r), 0 none to read. */
static int next_event(struct dropdir *d, int *r)
{
	if (d->evpos >= d->evlen) {
		ssize_t got = read(d->in_fd, d->evbuf, sizeof d->evbuf);
		if (got <= 0) {
			if (got < 0 && errno != EAGAIN && errno != EINTR) {
				progress_message(d->c->progress, "reading inotify events: %s", strerror(errno));
				stop(d, SR_EXIT_STORE);
			}
			return 0;
		}
		d->evpos = 0;
		d->evlen = (size_t)got;
	}
	const struct inotify_event *ev = (const struct inotify_event *)(d->evbuf + d->evpos);
	d->evpos += sizeof *ev + ev->len;
	*r = dd_event(d, ev);
	return 1;
}

/* ---- the step --------------------------------------------------------- */

/* The files due after --settle or a busy recheck, looked at again. */
static int recheck_due(struct dropdir *d, bool *did)
{
	char *paths[DUE_PER_STEP];
	size_t k = dd_due_paths(&d->pending, sr_now_ms(), paths, DUE_PER_STEP);
	int r = 0;
	*did = k > 0;
	for (size_t i = 0; i < k; i++) {
		char *slash = strrchr(paths[i], '/');
		struct dd_node *n = slash && r == 0 && !inputs_feed_walking(d->c->feed)
					    ? node_by_path(d, paths[i], (size_t)(slash - paths[i])) : NULL;
		if (n)
			r = entry(d, n, slash + 1, FROM_RECHECK);
		else if (r == 0 && !inputs_feed_walking(d->c->feed)) /* its directory is gone */
			dd_drop(&d->pending, dd_find(&d->pending, paths[i]));
		free(paths[i]);
	}
	return r;
}

/* Nodes no full walk entered: gone while their events were lost. */
static void sweep(struct dropdir *d)
{
	for (size_t i = 0; i < d->nnodes;) {
		if (d->nodes[i].gen != d->gen && d->nodes[i].depth > 0)
			node_drop(d, &d->nodes[i], true);
		else
			i++;
	}
}

/* The full walk's next root, or its end. */
static int walk_next_root(struct dropdir *d)
{
	if (d->rescan_next >= d->nroots) {
		sweep(d);
		d->rescan_next = -1;
		return 0;
	}
	int i = d->rescan_next++;
	use_tree(d, i);
	d->origin = FROM_WALK;
	int r = inputs_feed_walk_dir(d->c->feed, d->roots[i].fd, d->roots[i].path, 0, dd_input, d, &d->c->stats);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		progress_message(d->c->progress, "%s: %s: stopping", d->roots[i].path, strerror(-r));
		stop(d, SR_EXIT_USAGE);
	}
	return 0;
}

static void arm_timer(struct dropdir *d)
{
	uint64_t due = dd_next_due(&d->pending), now = sr_now_ms();
	sr_arm_timerfd(d->timer_fd, due == UINT64_MAX ? 0 : due > now ? due - now : 1, 0);
}

enum loop_feed dropdir_step(void *ctx, int *exit_status)
{
	struct dropdir *d = ctx;
	struct collect *c = d->c;
	uint64_t ticks;
	if (read(d->timer_fd, &ticks, sizeof ticks) < 0) { /* not due: nothing to clear */ }
	c->seen = 0;
	int r = 0;
	bool busy = false, rechecked = false;
	int events = 0;
	while (r == 0 && !d->stop) {
		bool did;
		if (inputs_feed_walking(c->feed)) {
			r = inputs_feed_next(c->feed, dd_input, d, &c->stats);
		} else if (d->rescan_next >= 0) {
			r = walk_next_root(d);
		} else if (!rechecked) {
			rechecked = true;
			r = recheck_due(d, &did);
		} else if (events++ == EVENTS_PER_STEP) {
			r = 1; /* more at the next step */
		} else if (!next_event(d, &r)) {
			break; /* nothing more to read: wait */
		}
		busy = true;
	}
	if (r >= 0 && c->n > 0 && run_queue_flush(c) < 0)
		r = -EIO;
	if (r < 0) {
		if (!c->store_error)
			progress_message(c->progress, "watching: %s", strerror(-r));
		stop(d, SR_EXIT_STORE);
	}
	if (busy && !d->stop && run_queue_count(c, false) < 0) {
		progress_message(c->progress, "counting the batch: %s", store_errmsg(c->st));
		stop(d, SR_EXIT_STORE);
	}
	if (d->stop) {
		*exit_status = d->stop_status;
		return LOOP_FEED_STOP;
	}
	if (r > 0)
		return LOOP_FEED_MORE; /* a chunk is queued: the loop claims, then the rest */
	arm_timer(d);
	return LOOP_FEED_WAIT;
}

/* ---- open, close ------------------------------------------------------ */

/* One DIR argument, resolved once: its real path and a descriptor. */
static int open_root(struct dd_root *root, const char *arg)
{
	int parent;
	const char *base;
	int r = inputs_resolve_path(arg, root->path, sizeof root->path, &parent, &base);
	if (r == -ELOOP) {
		sr_err("%s: a symbolic link on its path, in a directory others can change: not followed", arg);
		return SR_EXIT_USAGE;
	}
	if (r < 0) {
		sr_err("%s: %s", arg, r == -EINVAL ? "cannot watch this directory" : inputs_errno_message(r));
		return SR_EXIT_USAGE;
	}
	root->fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close(parent);
	if (root->fd < 0) {
		sr_err("%s: %s", arg, e == ENOTDIR ? "not a directory" : e == ELOOP ? inputs_errno_message(-ELOOP)
											: strerror(e));
		return SR_EXIT_USAGE;
	}
	return 0;
}

int dropdir_open(struct collect *c, char **dirs, int ndirs, uint64_t settle_ms, size_t max_dirs,
		 struct dropdir **out)
{
	struct dropdir *d = calloc(1, sizeof *d);
	if (!d || !(d->roots = calloc((size_t)ndirs, sizeof *d->roots))) {
		free(d);
		sr_err("watching: %s", strerror(ENOMEM));
		return SR_EXIT_STORE;
	}
	*d = (struct dropdir){ .c = c, .settle_ms = settle_ms, .roots = d->roots, .in_fd = -1, .timer_fd = -1,
			       .ep_fd = -1, .rescan_next = -1 };
	*out = d;
	for (int i = 0; i < ndirs; i++) {
		d->roots[i].fd = -1;
		int r = open_root(&d->roots[i], dirs[i]);
		d->nroots = i + 1;
		if (r)
			return r;
	}
	/* Each watched directory is a descriptor kept open: half the
	 * descriptors at most (the rest are the jobs' and the files'), and
	 * --max-dirs, the bound on what one drop folder's owner (untrusted)
	 * can make the runner hold by making directories. */
	struct rlimit rl;
	size_t by_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur / 2 : 512;
	d->max_nodes = max_dirs < by_fds ? max_dirs : by_fds;
	d->max_by_option = max_dirs <= by_fds;
	d->in_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	if (d->in_fd < 0 || d->timer_fd < 0 || d->ep_fd < 0 || epoll_ctl(d->ep_fd, EPOLL_CTL_ADD, d->in_fd, &ev) < 0 ||
	    epoll_ctl(d->ep_fd, EPOLL_CTL_ADD, d->timer_fd, &ev) < 0) {
		sr_err("cannot watch: %s", strerror(errno));
		return SR_EXIT_ISOLATION;
	}
	want_full_walk(d); /* what was dropped before the start, or while down */
	progress_notice(c->progress, "watching %s%s", d->roots[0].path, ndirs > 1 ? " and more" : "");
	return 0;
}

int dropdir_fd(const struct dropdir *d)
{
	return d->ep_fd;
}

int64_t dropdir_overflows(const struct dropdir *d)
{
	return d->overflows;
}

void dropdir_close(struct dropdir *d)
{
	if (!d)
		return;
	inputs_feed_set_tree(d->c->feed, NULL);
	while (d->nnodes > 0)
		node_drop(d, &d->nodes[d->nnodes - 1], false);
	free(d->nodes);
	for (int i = 0; i < d->nroots; i++)
		sr_closep(&d->roots[i].fd);
	free(d->roots);
	dd_clear(&d->pending);
	sr_closep(&d->in_fd);
	sr_closep(&d->timer_fd);
	sr_closep(&d->ep_fd);
	free(d);
}
