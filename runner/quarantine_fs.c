/* runner/quarantine_fs.c — see quarantine_fs.h: quarantine's moves and
 * copies on directory descriptors resolved without following symlinks.
 *
 * What remains: between the identity check and renameat2() the owner of the
 * input's own directory can still swap the *name* within that directory.
 * The move then takes another entry of that same directory, which its owner
 * controls anyway; the moved inode is compared afterwards and put back when
 * it is not the one checked. No path outside that directory can be reached:
 * the directory itself is pinned by its descriptor. */
#include "runner/quarantine_fs.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int openat2_nofollow(int atfd, const char *path, uint64_t flags)
{
	return sr_openat2(atfd, path, flags | O_CLOEXEC,
			  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (atfd == AT_FDCWD ? 0 : RESOLVE_BENEATH));
}

int qfs_open_dir(int atfd, const char *path)
{
	return openat2_nofollow(atfd, path, O_PATH | O_DIRECTORY);
}

int qfs_make_dir(int dirfd, const char *rel)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	_cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;
	/* One component at a time: each mkdirat and open is relative to the
	 * descriptor of the previous one, never a path resolved again. */
	for (char *s, *c = strtok_r(buf, "/", &s); c; c = strtok_r(NULL, "/", &s)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return -EINVAL;
		if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST)
			return -errno;
		int next = qfs_open_dir(cur, c);
		if (next < 0)
			return next;
		close(cur);
		cur = next;
	}
	return sr_steal_fd(&cur);
}

static int64_t mtime_ns_of(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int qfs_check_identity(int dirfd, const char *name, int64_t size, int64_t mtime_ns,
		       struct stat *st)
{
	/* O_PATH|O_NOFOLLOW opens a symlink itself, so it fails S_ISREG. */
	_cleanup_close_ int fd = openat2_nofollow(dirfd, name, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (size < 0 || mtime_ns < 0)
		return -ENODATA;
	if (st->st_size != size || mtime_ns_of(st) != mtime_ns)
		return -ESTALE;
	return 0;
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int qfs_copy(int sdir, const char *sname, const struct stat *want, int ddir, const char *dname)
{
	/* O_NONBLOCK: a FIFO swapped in must not hang root; it fails the
	 * inode comparison below anyway. */
	_cleanup_close_ int in = openat2_nofollow(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (in < 0)
		return in;
	struct stat sb;
	if (fstat(in, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode) || !same_inode(&sb, want))
		return -ESTALE;
	if (fcntl(in, F_SETFL, O_RDONLY) < 0)
		return -errno;
	/* No execute bits: these inputs are suspect. */
	_cleanup_close_ int out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					 sb.st_mode & 0666);
	if (out < 0)
		return -errno;
	int err = 0;
	char buf[65536];
	while (!err) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : 0;
			break;
		}
		for (ssize_t off = 0; off < n && !err;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				err = errno;
			off += w > 0 ? w : 0;
		}
	}
	struct timespec times[2] = { sb.st_atim, sb.st_mtim };
	if (!err && (futimens(out, times) < 0 || fsync(out) < 0))
		err = errno;
	int fd = sr_steal_fd(&out);
	if (close(fd) < 0 && !err)
		err = errno;
	if (err)
		unlinkat(ddir, dname, 0);
	return -err;
}

/* The name was swapped within its directory between the check and the
 * rename: put the entry back where it was and refuse. */
static int put_back_if_swapped(int sdir, const char *sname, const struct stat *want, int ddir,
			       const char *dname)
{
	struct stat got;
	if (fstatat(ddir, dname, &got, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (same_inode(&got, want))
		return 0;
	if (renameat2(ddir, dname, sdir, sname, RENAME_NOREPLACE) < 0)
		return -ENOTRECOVERABLE;
	return -ESTALE;
}

int qfs_move(int sdir, const char *sname, const struct stat *want, int ddir, const char *dname,
	     bool *copied_only)
{
	*copied_only = false;
	if (renameat2(sdir, sname, ddir, dname, RENAME_NOREPLACE) == 0)
		return put_back_if_swapped(sdir, sname, want, ddir, dname);
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS)
		return -errno;
	int r = qfs_copy(sdir, sname, want, ddir, dname);
	if (r < 0)
		return r;
	/* Only an entry of the input's own directory can be unlinked here. */
	if (unlinkat(sdir, sname, 0) < 0)
		*copied_only = true;
	return 0;
}

const char *qfs_refusal(int r)
{
	switch (r) {
	case -ELOOP:
	case -EXDEV:
		return "refused, nothing moved: a directory on its path is (or became) a symbolic link";
	case -ESTALE:
		return "refused, nothing moved: it is no longer the file the store recorded (size, mtime or inode changed)";
	case -ENODATA:
		return "refused, nothing moved: the store recorded no size and mtime for it, so it cannot be identified";
	case -EINVAL:
		return "refused, nothing moved: it is not a regular file";
	case -ENOTRECOVERABLE:
		return "another entry of the input's directory was swapped in during the move and could not be put back: it is at the destination";
	default:
		return NULL;
	}
}
