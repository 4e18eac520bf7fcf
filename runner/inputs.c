/* runner/inputs.c — collect inputs: named files, directory walks (-r),
 * --files-from lists. See inputs.h for the rules and why links are never
 * followed. */
#include "runner/inputs.h"
#include "sandbox/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Deeper trees than this are refused rather than exhausting descriptors:
 * the walk holds one open directory per level. */
#define WALK_MAX_DEPTH 256
/* A list entry longer than this is not a path; most likely a NUL-separated
 * list read without -0. */
#define LIST_ENTRY_MAX 65536

/* ---- pure pieces ---------------------------------------------------- */

enum input_class inputs_classify(mode_t mode, bool recursive)
{
	if (S_ISREG(mode))
		return INPUT_CLASS_FILE;
	if (S_ISDIR(mode))
		return recursive ? INPUT_CLASS_WALK : INPUT_CLASS_DIR_NO_R;
	if (S_ISLNK(mode))
		return INPUT_CLASS_SYMLINK;
	return INPUT_CLASS_SPECIAL;
}

const char *inputs_class_message(enum input_class c, mode_t mode)
{
	switch (c) {
	case INPUT_CLASS_DIR_NO_R: return "is a directory (use -r to analyze the files in it)";
	case INPUT_CLASS_SYMLINK:
		return "is a symbolic link (sandrun does not follow links; name the file itself)";
	case INPUT_CLASS_SPECIAL:
		return S_ISFIFO(mode)   ? "is a FIFO, not a regular file"
		       : S_ISSOCK(mode) ? "is a socket, not a regular file"
		       : S_ISCHR(mode) || S_ISBLK(mode) ? "is a device, not a regular file"
							: "is not a regular file";
	default: return "cannot be analyzed";
	}
}

const char *inputs_errno_message(int neg_errno)
{
	switch (-neg_errno) {
	case ENOENT: return "no such file or directory";
	case EACCES:
	case EPERM: return "permission denied";
	case ELOOP: return inputs_class_message(INPUT_CLASS_SYMLINK, 0);
	case ENOTDIR: return "a component of the path is not a directory";
	case ENAMETOOLONG: return "the path is too long";
	case EINVAL: return "is not a regular file";
	default: return strerror(-neg_errno);
	}
}

int inputs_absolute(const char *cwd, const char *path, char *out, size_t len)
{
	char buf[2 * PATH_MAX];
	int n = path[0] == '/' ? snprintf(buf, sizeof buf, "%s", path)
			       : snprintf(buf, sizeof buf, "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -ENAMETOOLONG;
	size_t o = 0; /* out holds "/a/b" without a trailing slash; "" is the root */
	for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (strcmp(t, "..") == 0) {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the slash too */
			continue;
		}
		size_t tl = strlen(t);
		if (o + 1 + tl + 1 > len)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, t, tl);
		o += tl;
	}
	if (o == 0) {
		if (len < 2)
			return -ENAMETOOLONG;
		out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}

void list_splitter_init(struct list_splitter *s, char sep)
{
	*s = (struct list_splitter){ .sep = sep };
}

void list_splitter_free(struct list_splitter *s)
{
	free(s->pending);
	s->pending = NULL;
	s->len = s->cap = 0;
}

static int splitter_append(struct list_splitter *s, const char *data, size_t n)
{
	if (s->len + n + 1 > LIST_ENTRY_MAX)
		return -E2BIG;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *p = realloc(s->pending, cap);
		if (!p)
			return -ENOMEM;
		s->pending = p;
		s->cap = cap;
	}
	memcpy(s->pending + s->len, data, n);
	s->len += n;
	s->pending[s->len] = '\0';
	return 0;
}

/* Hand out the pending entry, if any. An entry holding a NUL byte (a NUL
 * list read without -0) would be silently cut by C strings: refused. */
static int splitter_emit(struct list_splitter *s, int (*fn)(const char *, void *), void *ctx)
{
	if (s->len == 0)
		return 0;
	if (memchr(s->pending, '\0', s->len))
		return -EILSEQ;
	s->len = 0;
	return fn(s->pending, ctx);
}

int list_splitter_feed(struct list_splitter *s, const char *data, size_t n,
		       int (*fn)(const char *entry, void *ctx), void *ctx)
{
	while (n > 0) {
		const char *end = memchr(data, s->sep, n);
		size_t piece = end ? (size_t)(end - data) : n;
		int r = splitter_append(s, data, piece);
		if (r < 0)
			return r;
		if (!end)
			return 0;
		if ((r = splitter_emit(s, fn, ctx)) < 0)
			return r;
		data += piece + 1;
		n -= piece + 1;
	}
	return 0;
}

int list_splitter_finish(struct list_splitter *s, int (*fn)(const char *entry, void *ctx), void *ctx)
{
	return splitter_emit(s, fn, ctx);
}

/* ---- file system ---------------------------------------------------- */

int inputs_read_list(int fd, bool nul, int (*path_fn)(const char *path, void *ctx), void *ctx)
{
	struct list_splitter sp;
	list_splitter_init(&sp, nul ? '\0' : '\n');
	char buf[65536];
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0) {
			r = list_splitter_finish(&sp, path_fn, ctx);
			break;
		}
		if ((r = list_splitter_feed(&sp, buf, (size_t)n, path_fn, ctx)) < 0)
			break;
	}
	list_splitter_free(&sp);
	return r;
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

int inputs_open_file(const char *real_path, int64_t *size, int64_t *mtime_ns)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, real_path, &how, sizeof how);
	if (fd < 0 && errno == ENOSYS)
		fd = open(real_path, (int)how.flags);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* Blocking again: the job reads its stdin like any file. */
	if (fcntl(fd, F_SETFL, O_RDONLY) < 0)
		return -errno;
	if (size)
		*size = (int64_t)st.st_size;
	if (mtime_ns)
		*mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return sr_steal_fd(&fd);
}

struct collector {
	const struct inputs_opts *opts;
	input_fn fn;
	void *ctx;
	struct inputs_stats *stats;
	char path[PATH_MAX]; /* real path of the entry being looked at */
};

static int emit_error(struct collector *c, const char *path, const char *msg)
{
	c->stats->errors++;
	return c->fn(&(struct input){ .path = path, .size = -1, .mtime_ns = -1, .error = msg }, c->ctx);
}

static int emit_file(struct collector *c, const char *path, const struct stat *st)
{
	c->stats->files++;
	struct input in = {
		.path = path,
		.size = (int64_t)st->st_size,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
	};
	return c->fn(&in, c->ctx);
}

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
	qsort(names, n, sizeof *names, cmp_names);
	*names_out = names;
	*n_out = n;
	return 0;
}

static int walk(struct collector *c, int dirfd, size_t path_len, int depth);

/* One entry of a walked directory; c->path already names it. */
static int walk_entry(struct collector *c, int dirfd, const char *name, size_t path_len, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return emit_error(c, c->path, inputs_errno_message(-errno));
	if (S_ISDIR(st.st_mode)) {
		if (depth >= WALK_MAX_DEPTH)
			return emit_error(c, c->path, "directory tree too deep (more than 256 levels)");
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno == ELOOP || errno == ENOTDIR) { /* swapped for a link: skip */
				c->stats->skipped++;
				return 0;
			}
			return emit_error(c, c->path, inputs_errno_message(-errno));
		}
		return walk(c, sub, path_len, depth + 1);
	}
	if (!S_ISREG(st.st_mode)) {
		c->stats->skipped++;
		return 0;
	}
	int fd = open_regular_at(dirfd, name, &st);
	if (fd == -ELOOP || fd == -EINVAL) { /* swapped since the lstat */
		c->stats->skipped++;
		return 0;
	}
	if (fd < 0)
		return emit_error(c, c->path, inputs_errno_message(fd));
	close(fd);
	return emit_file(c, c->path, &st);
}

/* Walk the directory open at dirfd (owned) whose real path is c->path. */
static int walk(struct collector *c, int dirfd, size_t path_len, int depth)
{
	char **names = NULL;
	size_t n = 0;
	/* read_names() consumes its descriptor; the entries are opened
	 * relative to this second one. */
	_cleanup_close_ int keep = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0) {
		int e = -errno;
		close(dirfd);
		return emit_error(c, c->path, inputs_errno_message(e));
	}
	int r = read_names(dirfd, &names, &n);
	if (r < 0)
		return emit_error(c, c->path, inputs_errno_message(r));
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			size_t nl = strlen(names[i]);
			bool root = path_len == 1; /* "/" */
			if (path_len + !root + nl + 1 > sizeof c->path) {
				r = emit_error(c, c->path, "a path in this directory is too long");
			} else {
				size_t at = path_len;
				if (!root)
					c->path[at++] = '/';
				memcpy(c->path + at, names[i], nl + 1);
				r = walk_entry(c, keep, names[i], at + nl, depth);
				c->path[path_len] = '\0';
			}
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* The path an item named `arg` is known by: the real path of the directory
 * it is in, plus its own name (never resolving a final link, so a named
 * link is recorded under its own name). Lexical when the directory cannot
 * be resolved (it does not exist). */
static void named_item_path(const char *arg, char *out, size_t len)
{
	char copy[PATH_MAX], real[PATH_MAX];
	snprintf(copy, sizeof copy, "%s", arg);
	size_t cl = strlen(copy);
	while (cl > 1 && copy[cl - 1] == '/')
		copy[--cl] = '\0';
	char *slash = strrchr(copy, '/');
	const char *dir = ".", *base = copy;
	if (slash == copy) {
		dir = "/";
		base = copy + 1;
	} else if (slash) {
		*slash = '\0';
		dir = copy;
		base = slash + 1;
	}
	if (*base && strcmp(base, ".") != 0 && strcmp(base, "..") != 0 && realpath(dir, real)) {
		snprintf(out, len, "%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", base);
		return;
	}
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd) || inputs_absolute(cwd, arg, out, len) < 0)
		snprintf(out, len, "%s", arg);
}

int inputs_collect_path(const char *arg, const struct inputs_opts *opts, input_fn fn, void *ctx,
			struct inputs_stats *stats)
{
	struct collector *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	*c = (struct collector){ .opts = opts, .fn = fn, .ctx = ctx, .stats = stats };
	int r;
	struct stat st;
	named_item_path(arg, c->path, sizeof c->path);
	if (!*arg) {
		r = emit_error(c, "", "an empty path");
	} else if (lstat(arg, &st) < 0) {
		r = emit_error(c, c->path, inputs_errno_message(-errno));
	} else {
		enum input_class cls = inputs_classify(st.st_mode, opts->recursive);
		switch (cls) {
		case INPUT_CLASS_FILE: {
			int fd = open_regular_at(AT_FDCWD, arg, &st);
			if (fd < 0) {
				r = emit_error(c, c->path, inputs_errno_message(fd));
			} else {
				close(fd);
				r = emit_file(c, c->path, &st);
			}
			break;
		}
		case INPUT_CLASS_WALK: {
			int dfd = open(arg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dfd < 0 || !realpath(arg, c->path)) {
				r = emit_error(c, c->path, inputs_errno_message(-errno));
				sr_closep(&dfd);
			} else {
				r = walk(c, dfd, strlen(c->path), 0);
			}
			break;
		}
		default:
			r = emit_error(c, c->path, inputs_class_message(cls, st.st_mode));
		}
	}
	free(c);
	return r;
}
