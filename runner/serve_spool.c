/* runner/serve_spool.c — a client's file becomes the server's own copy
 * before anything is acknowledged (serve.h, docs/serve.md "Spooling").
 *
 * The client hands over an open descriptor, never a name: the server
 * opens nothing a client names, so no path trick (a link, a swapped
 * directory, a FIFO) can make it open what the client could not. Once the
 * copy is synced and linked, what the client does with its own file
 * (truncate, rewrite, unlink, disconnect) changes nothing: the job reads
 * the copy. */
#include "runner/serve.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif
#define COPY_CHUNK (1u << 20)

static int refuse(const char **code, const char *c, char *msg, size_t msglen, int err, const char *fmt,
		  const char *detail)
{
	*code = c;
	snprintf(msg, msglen, fmt, detail);
	return err;
}

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a regular file";
}

/* What the server will read from: a regular file opened for reading, on a
 * file system that cannot stall a read forever at the client's will (FUSE:
 * the client may be the file system). */
static int check_client_fd(int fd, uint64_t max_size, struct stat *st, const char **code, char *msg,
			   size_t msglen)
{
	int fl = fcntl(fd, F_GETFL);
	struct statfs sfs;
	if (fl < 0 || fstat(fd, st) < 0)
		return refuse(code, "bad_file", msg, msglen, -EBADF, "%s", "the descriptor cannot be read");
	if (!S_ISREG(st->st_mode))
		return refuse(code, "bad_file", msg, msglen, -EINVAL,
			      "the descriptor is %s: send an open regular file", kind_of(st->st_mode));
	if ((fl & O_PATH) == O_PATH || (fl & O_ACCMODE) == O_WRONLY)
		return refuse(code, "bad_file", msg, msglen, -EBADF, "%s",
			      "the descriptor is not open for reading (O_PATH or O_WRONLY): open the file O_RDONLY");
	if (fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == FUSE_SUPER_MAGIC)
		return refuse(code, "bad_file", msg, msglen, -EPERM, "%s",
			      "the file is on a FUSE file system, whose reads its owner can stall: copy it elsewhere first");
	if ((uint64_t)st->st_size > max_size) {
		*code = "too_large";
		snprintf(msg, msglen, "the file has %lld bytes; this server takes at most %llu (--max-size)",
			 (long long)st->st_size, (unsigned long long)max_size);
		return -EFBIG;
	}
	return 0;
}

/* Copy from offset 0 (the client's file offset is not ours to move) to
 * EOF, at most max_size bytes: copy_file_range where the kernel can, else
 * pread/write. Growing past max_size while we copy is refused too. */
static int copy_all(int from, int to, uint64_t max_size, uint64_t *copied)
{
	loff_t off = 0;
	bool plain = false;
	static char buf[COPY_CHUNK];
	for (;;) {
		ssize_t n;
		if (!plain) {
			n = copy_file_range(from, &off, to, NULL, COPY_CHUNK, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
				      errno == ENOSYS || errno == EBADF)) {
				plain = true;
				continue;
			}
		} else {
			n = pread(from, buf, sizeof buf, off);
			if (n > 0 && sr_write_all(to, buf, (size_t)n) < 0)
				return -errno;
			if (n > 0)
				off += n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if ((uint64_t)off > max_size)
			return -EFBIG;
	}
	*copied = (uint64_t)off;
	return 0;
}

static void random_name(char *name)
{
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		/* cannot happen after boot; the O_EXCL link still refuses a clash */
		uint64_t t = sr_now_ms() ^ (uint64_t)getpid() << 32;
		memcpy(rnd, &t, sizeof t);
		memcpy(rnd + 8, &t, sizeof t);
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(name + 2 * i, 3, "%02x", rnd[i]);
}

/* The unnamed copy gets its name: linkat of the O_TMPFILE (AT_EMPTY_PATH
 * needs CAP_DAC_READ_SEARCH; /proc/self/fd does not). */
static int link_copy(int tmp, int spool_fd, const char *name)
{
	if (linkat(tmp, "", spool_fd, name, AT_EMPTY_PATH) == 0)
		return 0;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", tmp);
	return linkat(AT_FDCWD, proc, spool_fd, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
}

int serve_spool(int spool_fd, int client_fd, uint64_t max_size, char *name, struct stat *st,
		const char **code, char *msg, size_t msglen)
{
	struct stat cst;
	int r = check_client_fd(client_fd, max_size, &cst, code, msg, msglen);
	if (r < 0)
		return r;
	/* O_TMPFILE: a copy cut short (a full disk, a crash) never has a name */
	_cleanup_close_ int tmp = openat(spool_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (tmp < 0)
		return refuse(code, "spool_error", msg, msglen, -errno,
			      "cannot create a file in the spool: %s", strerror(errno));
	uint64_t copied = 0;
	r = copy_all(client_fd, tmp, max_size, &copied);
	if (r == -EFBIG) {
		*code = "too_large";
		snprintf(msg, msglen, "the file grew past %llu bytes while it was read (--max-size)",
			 (unsigned long long)max_size);
		return r;
	}
	if (r < 0 && r != -ENOSPC && r != -EDQUOT)
		return refuse(code, "bad_file", msg, msglen, r, "reading the file failed: %s", strerror(-r));
	if (r == 0 && fsync(tmp) < 0)
		r = -errno;
	for (int tries = 0; r == 0; tries++) {
		random_name(name);
		r = link_copy(tmp, spool_fd, name);
		if (r != -EEXIST || tries > 3)
			break;
		r = 0;
	}
	if (r == 0 && fsync(spool_fd) < 0) {
		r = -errno;
		unlinkat(spool_fd, name, 0);
	}
	if (r < 0)
		return refuse(code, r == -ENOSPC || r == -EDQUOT ? "spool_full" : "spool_error", msg, msglen, r,
			      "cannot keep the file in the spool: %s", strerror(-r));
	if (fstat(tmp, st) < 0) {
		r = -errno;
		unlinkat(spool_fd, name, 0);
		return refuse(code, "spool_error", msg, msglen, r, "the spooled copy: %s", strerror(-r));
	}
	return 0;
}
