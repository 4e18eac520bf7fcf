/* runner/inputs.h — from PATH arguments and --files-from lists to inputs.
 *
 * An input is one regular file, named by its real path, with the size and
 * mtime that make up its identity in the store; or an input error (missing,
 * unopenable, a directory without -r, a symbolic link, not a regular file)
 * with a message for the user. Collection streams: each input is handed to
 * a callback as it is found, so 100,000 paths never sit in memory at once;
 * and it can pause and resume (struct inputs_feed), so the runner queues a
 * long list a chunk at a time while the first jobs already run.
 *
 * Symbolic links are not followed unless --follow-symlinks says so: the
 * runner runs as root, and a link planted in an untrusted tree (to
 * /etc/shadow, say) must not make it hand a file the tree's owner could
 * not read to the analyzer. Named links are input errors; links met in a
 * walk are skipped, counted and named, like devices, FIFOs and sockets.
 * With --follow-symlinks a link is followed by inputs_follow_link() (see
 * there and docs/security.md) and the item is its target's real path.
 *
 * A walk also skips what its filter (runner/input_filter.h) leaves out.
 */
#ifndef SANDRUN_INPUTS_H
#define SANDRUN_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct input_filter;

/* Why a walk entry was not handed out (counted, and named to the user). */
enum input_skip {
	INPUT_SKIP_NONE,
	INPUT_SKIP_EXCLUDED,       /* an --exclude matched it */
	INPUT_SKIP_NOT_AUDIO,      /* the built-in analyzer's default */
	INPUT_SKIP_SYMLINK,        /* a link, without --follow-symlinks */
	INPUT_SKIP_LINK_REFUSED,   /* a link --follow-symlinks does not follow */
	INPUT_SKIP_SPECIAL,        /* FIFO, socket, device */
	INPUT_SKIP_CHANGED,        /* swapped for another kind while it was walked */
	INPUT_SKIP_COUNT,
};
/* "not audio", "excluded", ... (for the summary) */
const char *inputs_skip_name(enum input_skip s);

/* --follow-symlinks */
enum input_follow {
	INPUT_FOLLOW_NONE,
	INPUT_FOLLOW_TREE,         /* links whose target is inside the -r root (or
				      the named link's directory) */
};

struct input {
	const char *path;     /* real path (for errors: the absolute path named) */
	int64_t size;         /* bytes, from fstat of the opened file */
	int64_t mtime_ns;
	mode_t mode;          /* st_mode of the opened file (0 for errors) */
	const char *error;    /* non-NULL: an input error, with this message */
	enum input_skip skip; /* not NONE: a walk entry skipped (not an input) */
	const char *skip_detail; /* ... and what about it ("JPEG image") */
	int err;              /* an input error from a system call: its -errno; else 0 */
	int fd;               /* a file: the descriptor it was checked on, lent for
				 the callback only (never closed by it); -1 if none */
};

/* Return 0 to go on, or a negative code that stops the collection. For
 * inputs_feed_next() only: a positive value pauses it after this input. */
typedef int (*input_fn)(const struct input *in, void *ctx);

struct inputs_opts {
	bool recursive;       /* -r: walk directories */
	const struct input_filter *filter; /* what a walk leaves out; NULL: nothing */
	enum input_follow follow;
};

struct inputs_stats {
	size_t files;         /* inputs handed out as files */
	size_t errors;        /* input errors handed out */
	size_t skipped;       /* walk entries skipped (handed out with .skip set) */
	size_t skipped_by[INPUT_SKIP_COUNT];
};

/* One PATH argument: a file, or with -r a directory walked depth-first in
 * byte order of names. Returns 0, or the first negative return of fn. */
int inputs_collect_path(const char *arg, const struct inputs_opts *opts, input_fn fn, void *ctx,
			struct inputs_stats *stats);

/* Resolve a PATH argument or list entry (relative to the working
 * directory) to its real path, link-free, without letting the owner of any
 * directory on it choose where it leads. A symbolic link is followed only
 * while every directory met so far, the one holding the link included, can
 * be changed by root alone (owned by root, not group- or other-writable)
 * and the link itself is root's: /lib -> usr/lib, /home -> /srv/home (the
 * last component is never followed: it is the caller's to refuse). Below
 * a directory someone else can write, a link is refused (-ELOOP): a tree
 * owner who swaps an entry for one at the instant it is resolved would
 * otherwise choose the stored path, and with it what the runner (root)
 * later opens. On success *parent_fd is an O_PATH descriptor of the last
 * directory (the caller's), out the real path, *base its last component
 * inside out; the caller opens that name beneath *parent_fd, so nothing is
 * resolved twice. "/" itself and "" are -EINVAL. */
int inputs_resolve_path(const char *arg, char *out, size_t len, int *parent_fd, const char **base);

/* --files-from: read fd to EOF, splitting on '\n' (or '\0' with nul), and
 * call path_fn for each non-empty entry. Returns 0, -errno from read, or
 * path_fn's negative return. */
int inputs_read_list(int fd, bool nul, int (*path_fn)(const char *path, void *ctx), void *ctx);

/* ---- the resumable feed (inputs_feed.c) ----------------------------- */

/* The PATH arguments, then the --files-from list, as one stream of inputs
 * that can stop after any input and go on later from the same place:
 * the runner's event loop queues one chunk, runs jobs, queues the next.
 * It holds what a walk needs (one open directory and its sorted names per
 * level), a 64 KiB read buffer and the entry being split: nothing that
 * grows with the number of inputs. */
struct inputs_feed;

struct inputs_feed_opts {
	const char *const *paths; /* PATH arguments, in order; must outlive the feed */
	size_t npaths;
	int list_fd;          /* --files-from, read after the paths; -1: none. Not closed. */
	bool nul;             /* the list is NUL-separated (-0) */
	bool list_poll;       /* the list is a pipe, socket or terminal: never block
				 on it, answer -EAGAIN instead */
	bool recursive;       /* -r */
	const struct input_filter *filter; /* -r: --include/--exclude, the default */
	enum input_follow follow; /* --follow-symlinks */
};
int inputs_feed_new(const struct inputs_feed_opts *opts, struct inputs_feed **out);
void inputs_feed_free(struct inputs_feed *f);

/* Hand the next inputs to fn, in the order inputs_collect_path() and
 * inputs_read_list() would, until fn returns a positive value (paused
 * after that input: call again to go on), fn fails, or the inputs end.
 * Returns 1 when paused, 0 when every input has been handed out, -EAGAIN
 * when the list (list_poll) has nothing to read yet (call again once it is
 * readable), fn's negative return, or a list error (-EILSEQ: a NUL byte in
 * a newline-separated list; -E2BIG: an entry over 64 KiB; -errno). */
int inputs_feed_next(struct inputs_feed *f, input_fn fn, void *ctx, struct inputs_stats *stats);

/* ---- a tree the caller holds (runner/dropdir.c, `sandrun watch`) ---- */

/* Called as the walk enters a directory, before it lists it: dirfd (lent
 * for the call) is the directory the listing reads, path its real path,
 * depth its level below the root (0). A negative return stops the walk. */
typedef int (*input_dir_fn)(int dirfd, const char *path, int depth, void *ctx);

struct inputs_tree {
	int root_fd;              /* the root directory, held by the caller */
	const char *root_path;    /* its real path: --include/--exclude match below
				     it, --follow-symlinks follows links inside it */
	input_dir_fn on_dir;      /* NULL: none */
	void *ctx;
};
/* Set (NULL: clear) the tree of the walks and entries below. */
void inputs_feed_set_tree(struct inputs_feed *f, const struct inputs_tree *t);
/* Whether a walk is under way (inputs_feed_next() goes on with it). */
bool inputs_feed_walking(const struct inputs_feed *f);
/* Start walking the directory dirfd (the caller's, not taken) whose real
 * path is path, depth levels below the tree's root, as -r would: entries
 * go to fn from this call and the next inputs_feed_next() calls (give
 * them the same fn). -EBUSY while a walk is under way or without a tree. */
int inputs_feed_walk_dir(struct inputs_feed *f, int dirfd, const char *path, int depth, input_fn fn,
			 void *ctx, struct inputs_stats *stats);
/* One entry `name` of the directory dirfd (real path dir_path, depth
 * levels below the root), handled as a walk handles it: a file, a skip, an
 * input error, or a directory whose walk starts here and goes on in
 * inputs_feed_next(). The name is opened beneath dirfd, never resolved
 * from a path. Returns fn's return, 0, or -EBUSY as above. */
int inputs_feed_entry(struct inputs_feed *f, int dirfd, const char *dir_path, const char *name, int depth,
		      input_fn fn, void *ctx, struct inputs_stats *stats);

/* Open an input for a job, by the path it was stored under, never trusting
 * that path: its directory is opened with openat2 RESOLVE_NO_SYMLINKS (the
 * stored path is a real path, so a link there means the tree changed), the
 * file is opened O_RDONLY|O_NOFOLLOW beneath a private read-only copy of
 * that directory's mount (RESOLVE_BENEATH|NO_SYMLINKS|NO_MAGICLINKS), and
 * it must be a regular file. On the copy, a job that reopens its stdin
 * through /proc/self/fd/0 for writing gets EROFS, and readlink of it shows
 * "/NAME", not the host path. Needs CAP_SYS_ADMIN (open_tree).
 *
 * bind_fd (NULL: not wanted) gets an O_PATH descriptor of the same inode
 * in the host's mount namespace, for the sandbox to bind at /input/NAME
 * (a detached copy cannot be copied again). st gets fstat of the opened
 * file: the identity (size, mtime, dev, inode) is the descriptor's.
 * The descriptor is blocking again on return. Returns the fd or -errno
 * (-ELOOP: a link; -EINVAL: not a regular file; -ESTALE: the name was
 * swapped between the two opens; -EOPNOTSUPP: the directory's mount cannot
 * be copied, e.g. it is unbindable). */
int inputs_open_file(const char *real_path, int *bind_fd, struct stat *st);

/* ---- following a link (inputs_follow.c) ---------------------------- */

/* The link `name` in the directory dirfd, whose real path is dir_path,
 * met in a tree whose root is root_fd at the real path root_path (a prefix
 * of dir_path: the -r root).
 *
 * INPUT_FOLLOW_TREE: the target is taken lexically from the link's text
 * (a '..' only before the first name: "../a.wav", not "x/../a.wav"; an
 * absolute target only under root_path) and opened beneath root_fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a link to a link, or
 * through one, is refused, and nothing outside the root can be reached.
 *
 * On success *fd is the target opened O_RDONLY|O_NONBLOCK (a regular
 * file), *st its fstat, out its real path. Else -errno and *why says why
 * (for the user). */
int inputs_follow_link(enum input_follow mode, int root_fd, const char *root_path, int dirfd,
		       const char *dir_path, const char *name, char *out,
		       size_t outlen, int *fd, struct stat *st, const char **why);

/* ---- pure pieces (unit-tested) -------------------------------------- */

/* What a path named on the command line is, from its lstat mode. */
enum input_class {
	INPUT_CLASS_FILE,
	INPUT_CLASS_WALK,          /* a directory, with -r */
	INPUT_CLASS_DIR_NO_R,      /* a directory, without -r */
	INPUT_CLASS_SYMLINK,
	INPUT_CLASS_SPECIAL,       /* fifo, socket, device */
};
enum input_class inputs_classify(mode_t mode, bool recursive);

/* The message of an input error: for a class, or for an errno from
 * lstat/open (ENOENT, EACCES, ELOOP, ...). */
const char *inputs_class_message(enum input_class c, mode_t mode);
const char *inputs_errno_message(int neg_errno);

/* Absolute form of path against cwd, lexically: "." and empty components
 * dropped, ".." removes the previous one (never above "/"). No file system
 * access. Returns 0, or -ENAMETOOLONG. */
int inputs_absolute(const char *cwd, const char *path, char *out, size_t len);

/* Split a stream of list entries. Feed chunks as they come; each complete
 * entry (without its separator; empty ones skipped) goes to fn. finish()
 * hands out a last entry that had no separator. */
struct list_splitter {
	char sep;
	char *pending;        /* bytes of an entry cut by a chunk boundary */
	size_t len, cap;
};
void list_splitter_init(struct list_splitter *s, char sep);
int list_splitter_feed(struct list_splitter *s, const char *data, size_t n,
		       int (*fn)(const char *entry, void *ctx), void *ctx);
int list_splitter_finish(struct list_splitter *s, int (*fn)(const char *entry, void *ctx),
			 void *ctx);
void list_splitter_free(struct list_splitter *s);

/* Pull a list one entry at a time (what inputs_read_list and the feed
 * use). poll_first: poll(2) before each read and answer -EAGAIN rather
 * than block (the fd itself stays as it is: it may be the user's stdin). */
struct list_reader {
	int fd;
	bool poll_first, eof;
	struct list_splitter sp;
	size_t pos, len;      /* unread bytes of buf */
	char buf[65536];
};
void list_reader_init(struct list_reader *r, int fd, bool nul, bool poll_first);
/* 1: *entry is the next non-empty entry (valid until the next call);
 * 0: end of the list; -EAGAIN (poll_first); -EILSEQ, -E2BIG, -errno. */
int list_reader_next(struct list_reader *r, const char **entry);
void list_reader_free(struct list_reader *r);

#endif
