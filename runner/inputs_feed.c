/* runner/inputs_feed.c — the inputs as a stream that can pause: named
 * files, directory walks (-r), then the --files-from list. See inputs.h
 * for the rules and why links are not followed unless asked.
 *
 * The walk keeps its own stack of directories instead of recursing, so it
 * can stop after any input and go on at the next call: the runner queues
 * one chunk, lets its event loop start and watch jobs, then queues the
 * next. The order is the recursive walk's: depth first, names in byte
 * order. */
#include "runner/inputs.h"
#include "runner/input_filter.h"
#include "lib/fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees than this are refused rather than exhausting descriptors:
 * the walk holds one open directory per level. */
#define WALK_MAX_DEPTH 256

/* One directory being walked. */
struct walk_frame {
	int dirfd;           /* its entries are opened relative to it */
	char **names;        /* sorted; each freed once handed out */
	size_t n, next;
	size_t path_len;     /* its real path is f->path[0 .. path_len) */
	int depth;
};

struct inputs_feed {
	struct inputs_feed_opts o;
	size_t next_arg;
	struct list_reader *list;   /* NULL: no list, or read to its end */
	struct walk_frame *stack;
	size_t nframes, cap;
	char path[PATH_MAX];        /* real path of the entry being looked at */
	char target[PATH_MAX];      /* a followed link's target (its real path) */
	char detail[PATH_MAX + 64]; /* a skipped entry's detail */
	/* The last directory part named, as resolved by inputs_resolve_path:
	 * its descriptor and real path. A list usually names many files of
	 * one directory, and resolving costs a few calls per component. The
	 * files are opened beneath dir_fd, the directory that was checked;
	 * the claim opens the stored path again refusing any link on it
	 * (inputs_open_file). */
	char dir_named[PATH_MAX], dir_real[PATH_MAX];
	int dir_fd;
	/* A tree the caller holds (inputs_feed_set_tree: `sandrun watch`):
	 * its root for the filter's relative paths and for following links,
	 * instead of the walk's first frame; and its hook on every directory
	 * the walk enters. */
	struct inputs_tree tree;
	bool has_tree;
	/* During one inputs_feed_next() call. */
	input_fn fn;
	void *ctx;
	struct inputs_stats *stats;
};

/* ---- handing inputs out ------------------------------------------------ */

static int emit_error(struct inputs_feed *f, const char *path, const char *msg)
{
	f->stats->errors++;
	return f->fn(&(struct input){ .path = path, .size = -1, .mtime_ns = -1, .error = msg, .fd = -1 }, f->ctx);
}

/* An input error from a system call: its message, and the errno with it. */
static int emit_errno(struct inputs_feed *f, const char *path, int neg_errno)
{
	f->stats->errors++;
	struct input in = { .path = path, .size = -1, .mtime_ns = -1, .error = inputs_errno_message(neg_errno),
			    .err = neg_errno, .fd = -1 };
	return f->fn(&in, f->ctx);
}

/* fd: the opened file, lent to fn for this call (-1: closed already). */
static int emit_file(struct inputs_feed *f, const char *path, const struct stat *st, int fd)
{
	f->stats->files++;
	struct input in = {
		.path = path,
		.size = (int64_t)st->st_size,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		.mode = st->st_mode,
		.fd = fd,
	};
	return f->fn(&in, f->ctx);
}

static int emit_skip(struct inputs_feed *f, const char *path, enum input_skip why, const char *detail)
{
	f->stats->skipped++;
	f->stats->skipped_by[why]++;
	struct input in = { .path = path, .size = -1, .mtime_ns = -1, .skip = why, .skip_detail = detail, .fd = -1 };
	return f->fn(&in, f->ctx);
}

const char *inputs_skip_name(enum input_skip s)
{
	switch (s) {
	case INPUT_SKIP_EXCLUDED: return "excluded";
	case INPUT_SKIP_NOT_AUDIO: return "not audio";
	case INPUT_SKIP_SYMLINK: return "symbolic link";
	case INPUT_SKIP_LINK_REFUSED: return "symbolic link not followed";
	case INPUT_SKIP_SPECIAL: return "not a regular file";
	case INPUT_SKIP_CHANGED: return "changed while walked";
	default: return "skipped";
	}
}

/* Open a regular file relative to dirfd without following a final link,
 * and without blocking on a FIFO swapped in since the lstat. */
static int open_regular_at(int dirfd, const char *name, struct stat *st)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	return sr_steal_fd(&fd);
}

/* ---- the walk ------------------------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of a directory, sorted, so a batch is queued in the same order
 * every time. Takes ownership of fd. */
static int read_names(int fd, char ***names_out, size_t *n_out)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		n++;
		errno = 0;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return r;
	}
	if (n > 1) /* an empty directory has no array at all */
		qsort(names, n, sizeof *names, cmp_names);
	*names_out = names;
	*n_out = n;
	return 0;
}

/* Start walking the directory open at dirfd (owned), whose real path is
 * f->path[0 .. path_len). */
static int push_dir(struct inputs_feed *f, int dirfd, size_t path_len, int depth)
{
	/* read_names() consumes its descriptor; the entries are opened
	 * relative to this second one. */
	int keep = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0) {
		int e = -errno;
		close(dirfd);
		return emit_error(f, f->path, inputs_errno_message(e));
	}
	if (f->nframes == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct walk_frame *s = realloc(f->stack, cap * sizeof *s);
		if (!s) {
			close(keep);
			close(dirfd);
			return -ENOMEM;
		}
		f->stack = s;
		f->cap = cap;
	}
	struct walk_frame fr = { .dirfd = keep, .path_len = path_len, .depth = depth };
	/* Before the listing: a watch added now sees every entry the
	 * listing misses. */
	int r = f->has_tree && f->tree.on_dir ? f->tree.on_dir(keep, f->path, depth, f->tree.ctx) : 0;
	if (r < 0) {
		close(keep);
		close(dirfd);
		return r;
	}
	r = read_names(dirfd, &fr.names, &fr.n);
	if (r < 0) {
		close(keep);
		return emit_error(f, f->path, inputs_errno_message(r));
	}
	f->stack[f->nframes++] = fr;
	return 0;
}

static void pop_dir(struct inputs_feed *f)
{
	struct walk_frame *fr = &f->stack[--f->nframes];
	for (size_t i = fr->next; i < fr->n; i++)
		free(fr->names[i]);
	free(fr->names);
	close(fr->dirfd);
}

/* The walk entry's path relative to its root (f->path names the entry). */
static size_t root_len(const struct inputs_feed *f)
{
	return f->has_tree ? strlen(f->tree.root_path) : f->stack[0].path_len;
}

static const char *walk_rel(const struct inputs_feed *f)
{
	size_t rl = root_len(f);
	return f->path + (rl == 1 ? 1 : rl + 1); /* the root "/" has no slash of its own */
}

/* The filter's patterns on a walk entry: an --exclude that matches first
 * skips it (1). *included: an --include matched first (no default). */
static int excluded(struct inputs_feed *f, bool is_dir, bool *included)
{
	const struct input_pattern *p = input_filter_match(f->o.filter, walk_rel(f), is_dir);
	*included = p && p->include;
	if (!p || p->include)
		return 0;
	snprintf(f->detail, sizeof f->detail, "--exclude %s", p->glob);
	return 1;
}

/* A regular file met in a walk, open at fd (owned), handed out as path:
 * unless the built-in analyzer's default says it is not audio, by the
 * entry's name or by the first bytes of this descriptor (never the path
 * again). */
static int walk_file(struct inputs_feed *f, int fd, const char *path, const struct stat *st, bool included)
{
	const char *why = NULL;
	if (!included && f->o.filter && f->o.filter->not_audio_default) {
		const char *rel = walk_rel(f), *name = strrchr(rel, '/');
		if (!(why = input_filter_not_audio_name(name ? name + 1 : rel)))
			why = input_filter_not_audio_fd(fd);
	}
	if (why) {
		close(fd);
		snprintf(f->detail, sizeof f->detail, "%s", why);
		return emit_skip(f, path, INPUT_SKIP_NOT_AUDIO, f->detail);
	}
	int r = emit_file(f, path, st, fd);
	close(fd);
	return r;
}

/* A link met in a walk: skipped and named, or with --follow-symlinks its
 * target (inputs_follow_link) in its place. */
static int walk_link(struct inputs_feed *f, int dirfd, const char *name, size_t path_len)
{
	if (f->o.follow == INPUT_FOLLOW_NONE)
		return emit_skip(f, f->path, INPUT_SKIP_SYMLINK, "not followed without --follow-symlinks");
	bool included;
	if (excluded(f, false, &included))
		return emit_skip(f, f->path, INPUT_SKIP_EXCLUDED, f->detail);
	char dir[PATH_MAX];
	size_t dl = path_len - strlen(name) - 1; /* the link's directory */
	snprintf(dir, sizeof dir, "%.*s", (int)(dl ? dl : 1), f->path);
	int root_fd = f->has_tree ? f->tree.root_fd : f->stack[0].dirfd;
	char root_path[PATH_MAX];
	snprintf(root_path, sizeof root_path, "%.*s", (int)root_len(f), f->path);
	int fd;
	struct stat st;
	const char *why;
	if (inputs_follow_link(f->o.follow, root_fd, root_path, dirfd, dir, name, f->target,
			       sizeof f->target, &fd, &st, &why) < 0)
		return emit_skip(f, f->path, INPUT_SKIP_LINK_REFUSED, why);
	return walk_file(f, fd, f->target, &st, included);
}

/* One entry of a walked directory; f->path already names it. */
static int walk_entry(struct inputs_feed *f, int dirfd, const char *name, size_t path_len, int depth)
{
	struct stat st;
	bool included;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return emit_errno(f, f->path, -errno);
	if (S_ISLNK(st.st_mode))
		return walk_link(f, dirfd, name, path_len);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return emit_skip(f, f->path, INPUT_SKIP_SPECIAL, inputs_class_message(INPUT_CLASS_SPECIAL, st.st_mode));
	if (excluded(f, S_ISDIR(st.st_mode), &included))
		return emit_skip(f, f->path, INPUT_SKIP_EXCLUDED, f->detail);
	if (S_ISDIR(st.st_mode)) {
		if (depth >= WALK_MAX_DEPTH)
			return emit_error(f, f->path, "directory tree too deep (more than 256 levels)");
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno == ELOOP || errno == ENOTDIR) /* swapped for a link or a file */
				return emit_skip(f, f->path, INPUT_SKIP_CHANGED, "was a directory when it was listed");
			return emit_errno(f, f->path, -errno);
		}
		return push_dir(f, sub, path_len, depth + 1);
	}
	int fd = open_regular_at(dirfd, name, &st);
	if (fd == -ELOOP || fd == -EINVAL) /* swapped since the lstat */
		return emit_skip(f, f->path, INPUT_SKIP_CHANGED, "was a regular file when it was listed");
	if (fd < 0)
		return emit_errno(f, f->path, fd);
	return walk_file(f, fd, f->path, &st, included);
}

/* The next entry of the innermost directory, or leave it when done. */
static int walk_step(struct inputs_feed *f)
{
	struct walk_frame *fr = &f->stack[f->nframes - 1];
	f->path[fr->path_len] = '\0'; /* an entry of a deeper level may have extended it */
	if (fr->next == fr->n) {
		pop_dir(f);
		return 0;
	}
	char *name = fr->names[fr->next];
	fr->names[fr->next++] = NULL;
	size_t nl = strlen(name);
	bool root = fr->path_len == 1; /* "/" */
	int r;
	if (fr->path_len + !root + nl + 1 > sizeof f->path) {
		r = emit_error(f, f->path, "a path in this directory is too long");
	} else {
		size_t at = fr->path_len;
		if (!root)
			f->path[at++] = '/';
		memcpy(f->path + at, name, nl + 1);
		/* May push a frame: fr is not used after this. */
		r = walk_entry(f, fr->dirfd, name, at + nl, fr->depth);
	}
	free(name);
	return r;
}

/* ---- named paths ----------------------------------------------------------- */

/* The path an item named `arg` is known by: the real path of the directory
 * it is in, plus its own name (never resolving a final link, so a named
 * link is recorded under its own name). Lexical when the directory cannot
 * be resolved (it does not exist). */
/* Split a PATH argument into its directory text and last name (trailing
 * slashes dropped); false when the last name is not a plain one (".",
 * "..", "/", ""). */
static bool split_named(const char *arg, char *dir, size_t dlen, const char **base)
{
	/* dir gets "DIRTEXT\0NAME": the name is kept right behind it. */
	if (snprintf(dir, dlen, "./%s", arg) >= (int)dlen)
		return false;
	char *text = arg[0] == '/' ? dir + 2 : dir; /* "./name" for a bare name */
	if (text != dir)
		memmove(dir, text, strlen(text) + 1);
	size_t cl = strlen(dir);
	while (cl > 1 && dir[cl - 1] == '/')
		dir[--cl] = '\0';
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return false; /* "/" itself or a name right under "/": resolve it fully */
	*slash = '\0';
	*base = slash + 1;
	return **base && strcmp(*base, ".") != 0 && strcmp(*base, "..") != 0;
}

/* Resolve a named path once (inputs_resolve_path): f->path gets its real
 * path, *parent the directory to open *base beneath (the feed's, not to
 * be closed). On an error f->path gets the absolute path as named. */
static int resolve_named(struct inputs_feed *f, const char *arg, int *parent, const char **base)
{
	char dir[PATH_MAX + 2];
	const char *name;
	if (strlen(arg) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (split_named(arg, dir, sizeof dir, &name) && f->dir_fd >= 0 && strcmp(dir, f->dir_named) == 0) {
		int n = snprintf(f->path, sizeof f->path, "%s/%s", f->dir_real, name);
		if (n < 0 || (size_t)n >= sizeof f->path)
			return -ENAMETOOLONG;
		*parent = f->dir_fd;
		*base = f->path + strlen(f->dir_real) + 1;
		return 0;
	}
	int pfd;
	int r = inputs_resolve_path(arg, f->path, sizeof f->path, &pfd, base);
	if (r < 0) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd) || inputs_absolute(cwd, arg, f->path, sizeof f->path) < 0)
			snprintf(f->path, sizeof f->path, "%s", arg);
		return r;
	}
	sr_closep(&f->dir_fd);
	f->dir_fd = pfd;
	snprintf(f->dir_named, sizeof f->dir_named, "%s", dir);
	size_t dl = (size_t)(*base - f->path) - 1; /* "" for "/" */
	memcpy(f->dir_real, f->path, dl);
	f->dir_real[dl] = '\0';
	*parent = f->dir_fd;
	return 0;
}

/* One PATH argument or list entry: a file, or with -r the start of a walk.
 * Resolved once; what is opened is the name beneath the directory that
 * was resolved, never the argument's text again. */
static int start_path(struct inputs_feed *f, const char *arg)
{
	struct stat st;
	int parent;
	const char *base;
	if (!*arg)
		return emit_error(f, "", "an empty path");
	int r = resolve_named(f, arg, &parent, &base);
	if (r == -ELOOP)
		return emit_error(f, f->path, "a symbolic link on its path, in a directory others can change: not followed");
	if (r < 0)
		return emit_error(f, f->path, inputs_errno_message(r));
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return emit_error(f, f->path, inputs_errno_message(-errno));
	enum input_class cls = inputs_classify(st.st_mode, f->o.recursive);
	switch (cls) {
	case INPUT_CLASS_FILE: {
		int fd = open_regular_at(parent, base, &st);
		if (fd < 0)
			return emit_error(f, f->path, inputs_errno_message(fd));
		r = emit_file(f, f->path, &st, fd);
		close(fd);
		return r;
	}
	case INPUT_CLASS_WALK: {
		int dfd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return emit_error(f, f->path, inputs_errno_message(-errno));
		return push_dir(f, dfd, strlen(f->path), 0);
	}
	case INPUT_CLASS_SYMLINK:
		/* Never followed, even with --follow-symlinks: a named path is
		 * one file the admin chose, and its directory is no tree whose
		 * every file the job may see (docs/security.md). */
		return emit_error(f, f->path, inputs_class_message(cls, st.st_mode));
	default:
		return emit_error(f, f->path, inputs_class_message(cls, st.st_mode));
	}
}

/* ---- the feed --------------------------------------------------------------- */

int inputs_feed_new(const struct inputs_feed_opts *opts, struct inputs_feed **out)
{
	struct inputs_feed *f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	f->o = *opts;
	f->dir_fd = -1;
	if (opts->list_fd >= 0) {
		if (!(f->list = malloc(sizeof *f->list))) {
			free(f);
			return -ENOMEM;
		}
		list_reader_init(f->list, opts->list_fd, opts->nul, opts->list_poll);
	}
	*out = f;
	return 0;
}

void inputs_feed_free(struct inputs_feed *f)
{
	if (!f)
		return;
	while (f->nframes > 0)
		pop_dir(f);
	free(f->stack);
	if (f->list)
		list_reader_free(f->list);
	free(f->list);
	sr_closep(&f->dir_fd);
	free(f);
}

int inputs_feed_next(struct inputs_feed *f, input_fn fn, void *ctx, struct inputs_stats *stats)
{
	f->fn = fn;
	f->ctx = ctx;
	f->stats = stats;
	for (;;) {
		int r;
		if (f->nframes > 0) {
			r = walk_step(f);
		} else if (f->next_arg < f->o.npaths) {
			r = start_path(f, f->o.paths[f->next_arg++]);
		} else if (f->list) {
			const char *entry;
			r = list_reader_next(f->list, &entry);
			if (r == 0) {
				list_reader_free(f->list);
				free(f->list);
				f->list = NULL;
				continue;
			}
			if (r < 0)
				return r; /* -EAGAIN: nothing consumed, call again later */
			r = start_path(f, entry);
		} else {
			return 0;
		}
		if (r != 0)
			return r > 0 ? 1 : r;
	}
}

/* ---- a tree the caller holds (`sandrun watch`) ------------------------------- */

void inputs_feed_set_tree(struct inputs_feed *f, const struct inputs_tree *t)
{
	f->has_tree = t != NULL;
	if (t)
		f->tree = *t;
}

bool inputs_feed_walking(const struct inputs_feed *f)
{
	return f->nframes > 0;
}

int inputs_feed_walk_dir(struct inputs_feed *f, int dirfd, const char *path, int depth, input_fn fn, void *ctx,
			 struct inputs_stats *stats)
{
	if (f->nframes > 0 || !f->has_tree)
		return -EBUSY;
	size_t pl = strlen(path);
	if (pl >= sizeof f->path)
		return -ENAMETOOLONG;
	/* A descriptor of its own to list (the caller keeps dirfd). */
	int sub = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sub < 0)
		return -errno;
	memcpy(f->path, path, pl + 1);
	f->fn = fn;
	f->ctx = ctx;
	f->stats = stats;
	return push_dir(f, sub, pl, depth);
}

int inputs_feed_entry(struct inputs_feed *f, int dirfd, const char *dir_path, const char *name, int depth,
		      input_fn fn, void *ctx, struct inputs_stats *stats)
{
	if (f->nframes > 0 || !f->has_tree)
		return -EBUSY;
	bool root = strcmp(dir_path, "/") == 0;
	f->fn = fn;
	f->ctx = ctx;
	f->stats = stats;
	int n = snprintf(f->path, sizeof f->path, "%s%s%s", dir_path, root ? "" : "/", name);
	/* The directory's owner picks the names: an input error, as in a
	 * walk, never a failure of the watcher (a deep tree plus a long name
	 * must not stop `sandrun watch`). */
	if (n < 0 || (size_t)n >= sizeof f->path)
		return emit_error(f, dir_path, "a path in this directory is too long");
	return walk_entry(f, dirfd, name, (size_t)n, depth);
}

int inputs_collect_path(const char *arg, const struct inputs_opts *opts, input_fn fn, void *ctx,
			struct inputs_stats *stats)
{
	struct inputs_feed *f;
	const char *one[1] = { arg };
	int r = inputs_feed_new(&(struct inputs_feed_opts){ .paths = one, .npaths = 1, .list_fd = -1,
							  .recursive = opts->recursive, .filter = opts->filter,
							  .follow = opts->follow },
				&f);
	if (r < 0)
		return r;
	while ((r = inputs_feed_next(f, fn, ctx, stats)) > 0)
		; /* fn paused it: this caller wants everything */
	inputs_feed_free(f);
	return r;
}
