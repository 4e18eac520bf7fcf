/* runner/inputs.c — the pure rules about inputs, reading --files-from
 * lists, and the claim-time open. The walk and the resumable feed are in
 * inputs_feed.c. See inputs.h for the rules and why links are never
 * followed. */
#include "runner/inputs.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

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
	case ESTALE: return "was replaced while it was being opened";
	case EOPNOTSUPP:
		return "its directory's mount cannot be copied read-only for the job (open_tree refused it)";
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

void list_reader_init(struct list_reader *r, int fd, bool nul, bool poll_first)
{
	*r = (struct list_reader){ .fd = fd, .poll_first = poll_first };
	list_splitter_init(&r->sp, nul ? '\0' : '\n');
}

void list_reader_free(struct list_reader *r)
{
	list_splitter_free(&r->sp);
}

/* The entry gathered in the splitter, handed out as a string. */
static int take_entry(struct list_reader *r, const char **entry)
{
	if (memchr(r->sp.pending, '\0', r->sp.len))
		return -EILSEQ;
	r->sp.len = 0;
	*entry = r->sp.pending; /* NUL-terminated by splitter_append */
	return 1;
}

int list_reader_next(struct list_reader *r, const char **entry)
{
	for (;;) {
		while (r->pos < r->len) {
			const char *data = r->buf + r->pos;
			size_t n = r->len - r->pos;
			const char *end = memchr(data, r->sp.sep, n);
			size_t piece = end ? (size_t)(end - data) : n;
			int e = splitter_append(&r->sp, data, piece);
			if (e < 0)
				return e;
			r->pos += piece + (end != NULL);
			if (end && r->sp.len > 0)
				return take_entry(r, entry);
		}
		if (r->eof)
			return r->sp.len > 0 ? take_entry(r, entry) : 0;
		if (r->poll_first) {
			/* The caller is an event loop with jobs to watch: a
			 * slow producer on a pipe must not stall it. */
			struct pollfd p = { .fd = r->fd, .events = POLLIN };
			int k = poll(&p, 1, 0);
			if (k < 0 && errno != EINTR)
				return -errno;
			if (k <= 0)
				return -EAGAIN;
		}
		ssize_t got = read(r->fd, r->buf, sizeof r->buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		r->pos = 0;
		r->len = (size_t)got;
		r->eof = got == 0;
	}
}

int inputs_read_list(int fd, bool nul, int (*path_fn)(const char *path, void *ctx), void *ctx)
{
	struct list_reader *r = malloc(sizeof *r);
	if (!r)
		return -ENOMEM;
	list_reader_init(r, fd, nul, false);
	const char *entry;
	int n;
	while ((n = list_reader_next(r, &entry)) > 0) {
		int e = path_fn(entry, ctx);
		if (e < 0) {
			n = e;
			break;
		}
	}
	list_reader_free(r);
	free(r);
	return n;
}

int inputs_open_file(const char *real_path, int *bind_fd, struct stat *st_out)
{
	if (bind_fd)
		*bind_fd = -1;
	/* The directory and the name in it. The stored path is a real path:
	 * a link anywhere on it means the tree changed since it was queued. */
	const char *slash = strrchr(real_path, '/');
	if (real_path[0] != '/' || !slash)
		return -EINVAL;
	const char *name = slash + 1;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	char dir[PATH_MAX];
	size_t dl = slash == real_path ? 1 : (size_t)(slash - real_path);
	if (dl >= sizeof dir)
		return -ENAMETOOLONG;
	memcpy(dir, real_path, dl);
	dir[dl] = '\0';
	_cleanup_close_ int dirfd = sr_openat2(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC,
					       RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (dirfd < 0)
		return dirfd;
	/* The job's descriptor comes from a private read-only copy of that
	 * directory's mount, not from the host's mount: the job can reopen
	 * its stdin through /proc/self/fd/0 (a new open, with new flags), and
	 * on the host's writable mount that would write a world-writable
	 * input. On the copy it is EROFS. The copy's root is the directory,
	 * so readlink of the descriptor says "/NAME", not the host path. */
	_cleanup_close_ int ro = open_tree(dirfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	/* Without root (docs/security.md, "Without root") no mount can be
	 * copied (that needs CAP_SYS_ADMIN over the runner's namespace): the
	 * descriptor is opened on the host's mount, and an input that others
	 * may write is refused below. The job runs as a subordinate id with no
	 * groups, so "others" is all it could ever be for this file. */
	bool no_copy = ro < 0 && errno == EPERM && geteuid() != 0;
	if (ro < 0 && !no_copy) /* EINVAL: an unbindable mount; not "not a regular file" */
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	struct mount_attr a = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	if (!no_copy && mount_setattr(ro, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	/* O_NONBLOCK: a FIFO swapped in must not hang the runner. */
	_cleanup_close_ int fd = sr_openat2(no_copy ? dirfd : ro, name,
					    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
					    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (no_copy && (st.st_mode & S_IWOTH))
		return -EACCES; /* the job could reopen /proc/self/fd/0 for writing */
	/* Blocking again: the job reads its stdin like any file. */
	if (fcntl(fd, F_SETFL, O_RDONLY) < 0)
		return -errno;
	if (bind_fd) {
		/* What the sandbox binds at /input/NAME: a mount of the copy
		 * above cannot be copied again (open_tree refuses a detached
		 * mount), so the same name beneath the host directory, O_PATH,
		 * and it must be the very inode checked above: a name swapped
		 * in between is refused, never bound. */
		_cleanup_close_ int b = sr_openat2(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC,
						   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		struct stat bs;
		if (b < 0)
			return b;
		if (fstat(b, &bs) < 0)
			return -errno;
		if (bs.st_dev != st.st_dev || bs.st_ino != st.st_ino)
			return -ESTALE;
		int r = sr_fd_above_stdio(sr_steal_fd(&b));
		if (r < 0)
			return r;
		*bind_fd = r;
	}
	if (st_out)
		*st_out = st;
	return sr_steal_fd(&fd);
}

/* ---- resolving a named path ----------------------------------------------- */

/* A directory whose entries only root can change. */
static bool root_only(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Push the components of `text` in front of the pending ones (a link's
 * target). pend is a buffer of NUL-separated components, *n bytes used. */
static int pend_prepend(char *pend, size_t cap, size_t *n, const char *text)
{
	char tmp[PATH_MAX];
	size_t o = 0;
	char copy[PATH_MAX];
	if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy)
		return -ENAMETOOLONG;
	for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		size_t tl = strlen(t) + 1;
		if (o + tl > sizeof tmp)
			return -ENAMETOOLONG;
		memcpy(tmp + o, t, tl);
		o += tl;
	}
	if (o + *n > cap)
		return -ENAMETOOLONG;
	memmove(pend + o, pend, *n);
	memcpy(pend, tmp, o);
	*n += o;
	return 0;
}

/* Open the directory named by out[0..o) (link-free text: "" is the root)
 * refusing any link, in place of *dir. */
static int reopen_dir(const char *out, size_t o, int *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%.*s", (int)o, out);
	int fd = sr_openat2(AT_FDCWD, o ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC,
			    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return fd;
	close(*dir);
	*dir = fd;
	return 0;
}

/* comp, a link in *dir that may be followed: its target's components go in
 * front of the pending ones; an absolute target starts again at "/". */
static int follow_link(int *dir, const char *comp, char *pend, size_t cap, size_t *npend,
		       char *out, size_t *o)
{
	char target[PATH_MAX];
	ssize_t tl = readlinkat(*dir, comp, target, sizeof target - 1);
	if (tl < 0)
		return -errno;
	if ((size_t)tl >= sizeof target - 1)
		return -ENAMETOOLONG;
	target[tl] = '\0';
	if (pend_prepend(pend, cap, npend, target) < 0)
		return -ENAMETOOLONG;
	if (target[0] != '/')
		return 0;
	*o = 0;
	out[0] = '\0';
	return reopen_dir(out, 0, dir);
}

int inputs_resolve_path(const char *arg, char *out, size_t len, int *parent_fd, const char **base)
{
	char pend[2 * PATH_MAX]; /* components still to walk, NUL-separated */
	size_t npend = 0;
	char cwd[PATH_MAX];
	if (!*arg)
		return -EINVAL;
	if (arg[0] != '/') {
		/* The working directory is the admin's: getcwd names the
		 * directory itself, wherever it is now. */
		if (!getcwd(cwd, sizeof cwd))
			return -errno;
		if (pend_prepend(pend, sizeof pend, &npend, arg) < 0 ||
		    pend_prepend(pend, sizeof pend, &npend, cwd) < 0)
			return -ENAMETOOLONG;
	} else if (pend_prepend(pend, sizeof pend, &npend, arg) < 0) {
		return -ENAMETOOLONG;
	}
	_cleanup_close_ int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	struct stat st;
	if (fstat(dir, &st) < 0)
		return -errno;
	bool trusted = root_only(&st);
	size_t o = 0; /* out is "/a/b" without the trailing slash; "" is the root */
	int links = 0;
	out[0] = '\0';
	while (npend > 0) {
		char comp[NAME_MAX + 1];
		size_t cl = strlen(pend);
		if (cl > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, pend, cl + 1);
		memmove(pend, pend + cl + 1, npend - cl - 1);
		npend -= cl + 1;
		bool last = npend == 0;
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			if (comp[1] == '.') {
				/* out is link-free, so its parent is its text's parent;
				 * reopened without links, and trust starts over
				 * (conservative: the path to it may not be root's alone). */
				while (o > 0 && out[o - 1] != '/')
					o--;
				if (o > 0)
					o--;
				out[o] = '\0';
				int r = reopen_dir(out, o, &dir);
				if (r < 0)
					return r;
				trusted = false;
			}
			continue;
		}
		if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode) && !last) {
			/* Only where nobody but root could have put it or swap it.
			 * (A named link itself is never followed: the caller finds
			 * it with fstatat and refuses it, as inputs.h says.) */
			if (!trusted || st.st_uid != 0)
				return -ELOOP;
			if (++links > 40)
				return -ELOOP;
			int r = follow_link(&dir, comp, pend, sizeof pend, &npend, out, &o);
			if (r < 0)
				return r;
			continue;
		}
		if (o + 1 + cl + 1 > len)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, comp, cl + 1);
		if (last) {
			*base = out + o;
			*parent_fd = sr_steal_fd(&dir);
			return 0;
		}
		o += cl;
		int next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return -errno;
		close(dir);
		dir = next;
		if (fstat(dir, &st) < 0)
			return -errno;
		trusted = trusted && root_only(&st);
	}
	/* The path ended in "." or "..": out names a directory reached
	 * without links; its parent is reopened the same way. */
	char *slash = strrchr(out, '/');
	if (o == 0 || !slash)
		return -EINVAL; /* "/" itself */
	int r = reopen_dir(out, (size_t)(slash - out), &dir);
	if (r < 0)
		return r;
	*base = slash + 1;
	*parent_fd = sr_steal_fd(&dir);
	return 0;
}
