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
#include "runner/common.h"
#include "lib/fd.h"
#include "runner/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <sys/wait.h>
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


/* ---- the copy, in a child of its own ------------------------------------
 *
 * Why a child: every step on the client's descriptor (fstat, fstatfs, each
 * read, and even close, which FUSE turns into a FLUSH request) may wait for
 * whoever serves that file. A file on FUSE is refused by its f_type, but an
 * overlay (which a client can mount in its own user namespace) over a FUSE
 * layer reports "overlay", and its owner can stall every one of those calls
 * forever. On the event loop that would stall every client and every job
 * deadline. So the loop itself never makes one of them:
 *   - the step that receives a descriptor starts a child for it at once
 *     (spool_child), which closes all else and waits for its submit's
 *     order on a socketpair, and has the server's own reference closed by a
 *     child that shares its descriptor table (CLONE_FILES: the close takes
 *     the descriptor out of the shared table before it waits, so the server
 *     no longer holds it: drop_from_table). A job or child started later
 *     inherits no client's descriptor, whose close there could hang it;
 *   - on the order the child checks, reads and fsyncs; the loop waits for
 *     its report on the socket and SIGKILLs it at --spool-timeout from the
 *     order (a FUSE read ends on a fatal signal). Not a thread: a thread
 *     stuck in the kernel cannot be killed alone, and would hold the
 *     server's exit. A child no submit claims is SIGKILLed.
 * The child only writes an unnamed O_TMPFILE the server made. The server
 * gives the copy a name after the child's report: a child killed at any
 * instant leaves nothing named in the spool, and nothing is acknowledged
 * that is not spooled. */

struct spool_report {
	int32_t err;                 /* 0: copied and synced; else -errno */
	char code[24];               /* the answer's error code */
	char msg[480];
};

/* Child side: the checks, the copy, the fsync. */
static void spool_copy(int client_fd, int tmp, uint64_t max_size, struct spool_report *rep)
{
	struct stat cst;
	const char *code = "spool_error";
	int r = check_client_fd(client_fd, max_size, &cst, &code, rep->msg, sizeof rep->msg);
	uint64_t copied = 0;
	if (r == 0) {
		r = copy_all(client_fd, tmp, max_size, &copied);
		if (r == -EFBIG) {
			code = "too_large";
			snprintf(rep->msg, sizeof rep->msg, "the file grew past %llu bytes while it was read (--max-size)",
				 (unsigned long long)max_size);
		} else if (r == -ENOSPC || r == -EDQUOT) {
			code = "spool_full";
			snprintf(rep->msg, sizeof rep->msg, "cannot keep the file in the spool: %s", strerror(-r));
		} else if (r < 0) {
			code = "bad_file";
			snprintf(rep->msg, sizeof rep->msg, "reading the file failed: %s", strerror(-r));
		}
	}
	if (r == 0 && fsync(tmp) < 0) {
		r = -errno;
		code = r == -ENOSPC || r == -EDQUOT ? "spool_full" : "spool_error";
		snprintf(rep->msg, sizeof rep->msg, "cannot keep the file in the spool: %s", strerror(-r));
	}
	rep->err = r;
	snprintf(rep->code, sizeof rep->code, "%s", r < 0 ? code : "");
}

/* Dies with the server, never outlives it in a FUSE wait. */
static void die_with(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
}

/* The orders of a submit to the waiting child that holds its file. */
struct spool_order {
	uint64_t limit;              /* bytes: --max-size, or less (the uid's quota) */
};

/* Everything but stdio, the client's descriptor and our socket is closed:
 * the server's sockets (a child stuck in the kernel past the server's end,
 * in a FUSE FLUSH at its exit, must not hold the listener: the next server
 * would see "another server is listening"), its store, its pidfds. None of
 * them is a client's: those are never in the server's table beyond the
 * step that received them (serve_spool_receive), so no close here waits. */
static void keep_only(int a, int b)
{
	unsigned lo = (unsigned)(a < b ? a : b), hi = (unsigned)(a < b ? b : a);
	if (lo > 3)
		syscall(SYS_close_range, 3U, lo - 1, 0U);
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0U);
	syscall(SYS_close_range, hi + 1, ~0U, 0U);
}

/* The order: its limit and the unnamed copy to write. false: none came
 * (the server dropped us: the submit never came). */
static bool wait_order(int sock, struct spool_order *ord, int *tmp)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { ord, sizeof *ord };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = CMSG_LEN(sizeof(int)) };
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *cm = n == (ssize_t)sizeof *ord ? CMSG_FIRSTHDR(&mh) : NULL;
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return false;
	memcpy(tmp, CMSG_DATA(cm), sizeof *tmp);
	return true;
}

/* The waiting child: it alone holds the client's descriptor from the step
 * that received it; it reads nothing of it until its submit's order. It
 * closes no descriptor a client sent (that close could wait): it reports
 * and is SIGKILLed at once (serve_spool_ended). */
static _Noreturn void spool_child(pid_t parent, int client_fd, int sock)
{
	die_with(parent);
	keep_only(client_fd, sock);
	struct spool_order ord;
	int tmp;
	if (!wait_order(sock, &ord, &tmp))
		_exit(0);
	struct spool_report rep = { 0 };
	spool_copy(client_fd, tmp, ord.limit, &rep);
	/* one message under the socket's buffer: all of it or nothing */
	if (send(sock, &rep, sizeof rep, MSG_NOSIGNAL) != (ssize_t)sizeof rep) { /* the server sees EOF */ }
	for (;;)
		pause();
}

/* A helper that will be reaped from our epoll set (SERVE_EV_ORPHAN) once
 * its pidfd says it is gone; never waited for here. Counted per uid while
 * it lives (serve_stuck_helpers). */
static void orphan(struct serve *s, int pidfd, bool kill_it, uid_t uid, uint64_t since_ms)
{
	if (kill_it)
		pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = SERVE_EV_ORPHAN | (uint32_t)pidfd };
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
		/* cannot watch it: reaped now if it is gone, else left to init
		 * when the server exits (it dies with the server) */
		waitid(P_PIDFD, (id_t)pidfd, &(siginfo_t){ 0 }, WEXITED | WNOHANG);
		close(pidfd);
		return;
	}
	if (s->nhelpers == s->caphelpers) {
		size_t cap = s->caphelpers ? s->caphelpers * 2 : 16;
		struct serve_helper *p = realloc(s->helpers, cap * sizeof *p);
		if (!p)
			return; /* reaped all the same, just not counted */
		s->helpers = p;
		s->caphelpers = cap;
	}
	s->helpers[s->nhelpers++] = (struct serve_helper){ pidfd, uid, since_ms };
}

void serve_spool_reap_orphan(struct serve *s, int pidfd)
{
	siginfo_t si = { 0 };
	if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, pidfd, NULL);
	close(pidfd);
	for (size_t i = 0; i < s->nhelpers; i++)
		if (s->helpers[i].pidfd == pidfd) {
			s->helpers[i] = s->helpers[--s->nhelpers];
			break;
		}
}

size_t serve_stuck_helpers(const struct serve *s, uid_t uid)
{
	uint64_t now = sr_now_ms();
	size_t n = 0;
	for (size_t i = 0; i < s->nhelpers; i++)
		n += s->helpers[i].uid == uid && now - s->helpers[i].since_ms > s->o->spool_timeout_ms;
	return n;
}

size_t serve_helpers(const struct serve *s, const uid_t *uid)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nhelpers; i++)
		n += !uid || s->helpers[i].uid == *uid;
	for (int i = 0; i < s->nconns; i++) {
		const struct serve_conn *c = &s->conns[i];
		if (c->used && (!uid || c->cred.uid == *uid))
			n += c->nwaiting + c->sp.on;
	}
	return n;
}

/* A client's descriptor leaves our table without the loop ever waiting
 * for the close (on FUSE a close waits for its owner, uninterruptibly): a
 * child sharing our descriptor table (CLONE_FILES) closes it, and we wait
 * (yielding, never for the close itself) until it is out of the table,
 * which close does before it waits. Not a thread: a thread stuck in the
 * kernel cannot be killed alone, and would hold the server's exit. */
static int drop_from_table(struct serve *s, uid_t uid, int fd)
{
	int pidfd = -1;
	pid_t parent = getpid();
	long pid = sr_clone_pidfd(CLONE_FILES, &pidfd);
	if (pid == 0) {
		die_with(parent);
		close(fd);
		_exit(0);
	}
	if (pid < 0) {
		/* Never closed here (the loop would wait as long as the
		 * client likes): left in our table, said once. */
		int e = (int)-pid;
		if (!s->said_leak)
			progress_message(s->progress, "serve: cannot start a process to close a client's "
					 "descriptor (%s): it stays open in the server; clients are dropped",
					 strerror(e));
		s->said_leak = true;
		return -e;
	}
	orphan(s, pidfd, false, uid, sr_now_ms());
	for (uint64_t until = sr_now_ms() + 2000; fcntl(fd, F_GETFD) >= 0 && sr_now_ms() < until;)
		sched_yield();
	return 0;
}

/* The waiting child of fd, with its end of a socketpair. */
static int start_waiter(int fd, struct serve_waiter *w)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	_cleanup_close_ int ours = sv[0], theirs = sv[1];
	int pidfd = -1;
	pid_t parent = getpid();
	long pid = sr_clone_pidfd(0, &pidfd);
	if (pid < 0)
		return (int)pid;
	if (pid == 0)
		spool_child(parent, fd, theirs);
	*w = (struct serve_waiter){ pidfd, sr_steal_fd(&ours) };
	return 0;
}

int serve_spool_receive(struct serve *s, struct serve_conn *c, int fd)
{
	struct serve_waiter w;
	int r = c->nwaiting < SERVE_FDS_MAX ? start_waiter(fd, &w) : -ENOBUFS;
	int d = drop_from_table(s, c->cred.uid, fd);
	if (r == 0)
		c->waiting[c->nwaiting++] = w;
	return d < 0 ? d : r;
}

void serve_spool_drop_waiter(struct serve *s, const struct serve_conn *c, struct serve_waiter *w)
{
	orphan(s, w->pidfd, true, c->cred.uid, sr_now_ms());
	sr_closep(&w->sock);
	w->pidfd = -1;
}

void serve_spool_drop_waiters(struct serve *s, struct serve_conn *c)
{
	for (size_t i = 0; i < c->nwaiting; i++)
		serve_spool_drop_waiter(s, c, &c->waiting[i]);
	c->nwaiting = 0;
}

static void spool_reset(struct serve *s, struct serve_conn *c)
{
	struct serve_spooling *sp = &c->sp;
	if (sp->result_fd >= 0)
		epoll_ctl(s->ep, EPOLL_CTL_DEL, sp->result_fd, NULL);
	if (sp->pidfd >= 0)
		orphan(s, sp->pidfd, true, c->cred.uid, sp->deadline_ms - s->o->spool_timeout_ms);
	sr_closep(&sp->result_fd);
	sr_closep(&sp->tmp_fd);
	json_decref(sp->req);
	*sp = (struct serve_spooling){ .pidfd = -1, .result_fd = -1, .tmp_fd = -1 };
	s->nspooling--;
}

/* The spool timer at the earliest deadline of a copy under way. */
static void arm_spool_timer(struct serve *s)
{
	uint64_t now = sr_now_ms(), first = 0;
	for (int i = 0; i < s->nconns; i++) {
		const struct serve_spooling *sp = &s->conns[i].sp;
		if (s->conns[i].used && sp->on && (!first || sp->deadline_ms < first))
			first = sp->deadline_ms;
	}
	sr_arm_timerfd(s->spool_timer, first ? (first > now ? first - now : 1) : 0, 0);
}

int serve_spool_start(struct serve *s, struct serve_conn *c, struct serve_waiter *w, uint64_t limit, json_t *req,
		      uint64_t spool_data)
{
	_cleanup_close_ int pidfd = w->pidfd, sock = w->sock;
	*w = (struct serve_waiter){ -1, -1 };
	/* O_TMPFILE: a copy cut short (a full disk, a crash, the deadline)
	 * never has a name */
	_cleanup_close_ int tmp = openat(s->spool_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	int e = tmp < 0 ? errno : 0;
	struct spool_order ord = { limit };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl = { 0 };
	struct iovec iov = { &ord, sizeof ord };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	*cm = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(int)), .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS };
	memcpy(CMSG_DATA(cm), &tmp, sizeof tmp);
	/* an empty socket buffer takes it at once */
	if (!e && sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof ord)
		e = errno ? errno : EIO;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = spool_data };
	if (!e && epoll_ctl(s->ep, EPOLL_CTL_ADD, sock, &ev) < 0)
		e = errno;
	if (e) { /* killed, never waited for: its exit may wait on the client's file */
		orphan(s, sr_steal_fd(&pidfd), true, c->cred.uid, sr_now_ms());
		return -e;
	}
	c->sp = (struct serve_spooling){ .on = true, .pidfd = sr_steal_fd(&pidfd), .result_fd = sr_steal_fd(&sock),
					 .tmp_fd = sr_steal_fd(&tmp), .req = json_incref(req), .limit = limit,
					 .deadline_ms = sr_now_ms() + s->o->spool_timeout_ms };
	s->nspooling++;
	arm_spool_timer(s);
	return 0;
}

/* Name the synced copy: 128 random bits, linked, the spool synced. */
static int keep_copy(struct serve *s, int tmp, char *name, struct stat *st, const char **code, char *msg,
		     size_t msglen)
{
	int r = 0;
	for (int tries = 0; r == 0; tries++) {
		random_name(name);
		r = link_copy(tmp, s->spool_fd, name);
		if (r != -EEXIST || tries > 3)
			break;
		r = 0;
	}
	if (r == 0 && fsync(s->spool_fd) < 0) {
		r = -errno;
		unlinkat(s->spool_fd, name, 0);
	}
	if (r == 0 && fstat(tmp, st) < 0) {
		r = -errno;
		unlinkat(s->spool_fd, name, 0);
	}
	if (r < 0)
		return refuse(code, r == -ENOSPC || r == -EDQUOT ? "spool_full" : "spool_error", msg, msglen, r,
			      "cannot keep the file in the spool: %s", strerror(-r));
	return 0;
}

/* The copy of c's submit is over (err: refused); answered, then c's next
 * requests are read. */
static void spool_done(struct serve *s, struct serve_conn *c, json_t *err)
{
	struct serve_spooling *sp = &c->sp;
	char name[SERVE_SPOOL_NAME_LEN + 8], msg[512];
	const char *code = NULL;
	struct stat st;
	if (!err && keep_copy(s, sp->tmp_fd, name, &st, &code, msg, sizeof msg) < 0)
		err = serve_error(code, "%s", msg);
	json_t *req = json_incref(sp->req);
	spool_reset(s, c);
	arm_spool_timer(s);
	serve_spooled(s, c, req, err ? NULL : name, &st, err);
	json_decref(req);
	serve_resume(s, c);
}

void serve_spool_ended(struct serve *s, struct serve_conn *c)
{
	struct spool_report rep;
	ssize_t n = read(c->sp.result_fd, &rep, sizeof rep);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	json_t *err = NULL;
	if (n != (ssize_t)sizeof rep)
		err = serve_error("spool_error", "the copy of the file ended without a result; nothing was queued");
	else if (rep.err == -EFBIG && c->sp.limit < s->o->max_size)
		err = serve_error("quota", "the file has more than the %llu bytes left of uid %u's --quota-bytes "
				  "(its files in the spool and its copies under way); nothing was queued",
				  (unsigned long long)c->sp.limit, (unsigned)c->cred.uid);
	else if (rep.err < 0)
		err = serve_error(rep.code[0] ? rep.code : "spool_error", "%.480s", rep.msg);
	spool_done(s, c, err);
}

void serve_spool_deadline(struct serve *s)
{
	uint64_t exp;
	if (read(s->spool_timer, &exp, sizeof exp) < 0) { /* EAGAIN: not due; the scan below decides */ }
	uint64_t now = sr_now_ms();
	for (int i = 0; i < s->nconns; i++) {
		struct serve_conn *c = &s->conns[i];
		if (c->used && c->sp.on && c->sp.deadline_ms <= now)
			spool_done(s, c, serve_error("spool_timeout", "the file could not be read within %llu ms "
						     "(--spool-timeout): its file system stalls the reads (FUSE, "
						     "perhaps under an overlay?); nothing was queued",
						     (unsigned long long)s->o->spool_timeout_ms));
	}
	arm_spool_timer(s);
}

void serve_spool_abandon(struct serve *s, struct serve_conn *c)
{
	if (c->sp.on) {
		spool_reset(s, c);
		arm_spool_timer(s);
	}
}
