/* runner/inputs.h — from PATH arguments and --files-from lists to inputs.
 *
 * An input is one regular file, named by its real path, with the size and
 * mtime that make up its identity in the store; or an input error (missing,
 * unopenable, a directory without -r, a symbolic link, not a regular file)
 * with a message for the user. Collection streams: each input is handed to
 * a callback as it is found, so 100,000 paths never sit in memory at once.
 *
 * Symbolic links are never followed, neither named ones nor ones met in a
 * walk: the runner runs as root, and a link planted in an untrusted tree
 * (to /etc/shadow, say) must not make it hand a file the tree's owner could
 * not read to the analyzer. Named links are input errors; links met in a
 * walk are skipped and counted, like devices, FIFOs and sockets.
 */
#ifndef SANDRUN_INPUTS_H
#define SANDRUN_INPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct input {
	const char *path;     /* real path (for errors: the absolute path named) */
	int64_t size;         /* bytes, from fstat of the opened file */
	int64_t mtime_ns;
	const char *error;    /* non-NULL: an input error, with this message */
};

/* Return 0 to go on, or a negative code that stops the collection. */
typedef int (*input_fn)(const struct input *in, void *ctx);

struct inputs_opts {
	bool recursive;       /* -r: walk directories */
};

struct inputs_stats {
	size_t files;         /* inputs handed out as files */
	size_t errors;        /* input errors handed out */
	size_t skipped;       /* walk entries that are not regular files */
};

/* One PATH argument: a file, or with -r a directory walked depth-first in
 * byte order of names. Returns 0, or the first negative return of fn. */
int inputs_collect_path(const char *arg, const struct inputs_opts *opts, input_fn fn, void *ctx,
			struct inputs_stats *stats);

/* --files-from: read fd to EOF, splitting on '\n' (or '\0' with nul), and
 * call path_fn for each non-empty entry. Returns 0, -errno from read, or
 * path_fn's negative return. */
int inputs_read_list(int fd, bool nul, int (*path_fn)(const char *path, void *ctx), void *ctx);

/* Open an input for a job: O_RDONLY|O_NOFOLLOW|O_CLOEXEC, refusing any
 * symbolic link on the way (the stored path is a real path, so a link there
 * means the tree changed under us) and anything but a regular file. The
 * descriptor is blocking again on return. Returns the fd or -errno
 * (-ELOOP: a link; -EINVAL: not a regular file). */
int inputs_open_file(const char *real_path, int64_t *size, int64_t *mtime_ns);

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

#endif
