/* lib/fd.h — small owners and descriptor/file helpers (pure: no module
 * state), for every module of ours but the analyzer.
 *
 * The cleanup owners follow bubblewrap's utils.h: a descriptor or buffer
 * declared with one of these is released on every return path, so an early
 * `return -errno` can never leak an fd into a later child. */
#ifndef SANDRUN_LIB_FD_H
#define SANDRUN_LIB_FD_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Close *fd (if open) and mark it closed (-1), keeping errno: a struct
 * field closed this way cannot be closed twice or used after. */
static inline void sr_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}
static inline void sr_freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_close_ __attribute__((cleanup(sr_closep)))
#define _cleanup_free_ __attribute__((cleanup(sr_freep)))

/* Hand ownership out of a cleanup variable. */
static inline int sr_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
static inline void *sr_steal_ptr(void *pp)
{
	void **p = pp;
	void *r = *p;
	*p = NULL;
	return r;
}

/* fd itself if it is above 2, else a close-on-exec copy above 2 and fd
 * closed; -errno (fd closed) if that fails. For a bind source: 0..2 mean
 * "no descriptor" to sbx_bind_by_fd, and a runner started with a closed
 * stdin can get 0 from open. */
int sr_fd_above_stdio(int fd);

/* openat2(2) with the resolution restrictions the caller asks for
 * (RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH, ...): the descriptor or -errno.
 * Never a fallback to open(2): a kernel without openat2 lacks the mount API
 * the sandbox needs anyway, and a fallback would follow links. */
int sr_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

#define SR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* All return 0 / bytes or -errno. */
int sr_write_all(int fd, const void *buf, size_t len);
int sr_read_full(int fd, void *buf, size_t len); /* short only at EOF */
/* Write a string to a file relative to dirfd (cgroupfs style). */
int sr_write_file_at(int dirfd, const char *name, const char *value);
/* Read a small text file into buf (NUL-terminated). */
int sr_read_file_at(int dirfd, const char *name, char *buf, size_t len);
int sr_read_u64_at(int dirfd, const char *name, uint64_t *out);
/* Find "key value" in a flat keyed file (memory.events, cpu.stat). */
int sr_read_keyed_u64_at(int dirfd, const char *name, const char *key, uint64_t *out);
/* From /proc/PID/stat: the start time (field 22, clock ticks after boot),
 * which tells a live process from a recycled pid, and the state letter
 * (field 3). 0 or -errno; -EIO for a line that does not parse. */
int sr_read_pid_stat(int pid, unsigned long long *start, char *state);
uint64_t sr_now_ms(void);  /* CLOCK_MONOTONIC */
uint64_t sr_wall_ms(void); /* CLOCK_REALTIME: ms since the epoch, for timestamps */
uint64_t sr_now_us(void);

/* clone3 with CLONE_PIDFD and exit signal SIGCHLD, plus `flags`: the
 * child's pid in the parent (its pidfd in *pidfd), 0 in the child, or
 * -errno. Like fork(), the child must only make raw system calls. */
long sr_clone_pidfd(uint64_t flags, int *pidfd);

#endif
