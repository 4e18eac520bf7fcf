/* runner/serve_conn.c — the service socket (serve.h, docs/serve.md): who
 * may connect, request lines and their descriptors in, answers out. One
 * epoll set of our own, nested in the loop's as its feed_fd, so clients
 * are served between the jobs' events on the one thread. */
#include "runner/serve.h"
#include "runner/common.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static uint64_t conn_data(struct serve *s, struct serve_conn *c)
{
	return (uint64_t)(c - s->conns) | (uint64_t)c->gen << 32;
}

uint64_t serve_spool_data(struct serve *s, struct serve_conn *c)
{
	return conn_data(s, c) | SERVE_EV_SPOOL;
}

int serve_listen(struct serve *s, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(s->o->socket_path) >= sizeof sa.sun_path)
		return snprintf(err, errlen, "--socket %s: longer than a unix socket path may be (%zu bytes)",
				s->o->socket_path, sizeof sa.sun_path - 1), -ENAMETOOLONG;
	memcpy(sa.sun_path, s->o->socket_path, strlen(s->o->socket_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -errno;
	/* A socket file left by a server that died is replaced; anything
	 * else there (a live server, a regular file) is refused. */
	struct stat sb;
	if (lstat(sa.sun_path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			close(fd);
			return snprintf(err, errlen, "--socket %s: another server is listening there",
					sa.sun_path), -EADDRINUSE;
		}
		unlink(sa.sun_path);
	}
	/* Created with no access at all, then given its mode: no client can
	 * connect in between with the umask's wider one. */
	mode_t old = umask(0777);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (r < 0 || chmod(sa.sun_path, s->o->socket_mode) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return snprintf(err, errlen, "--socket %s: %s", sa.sun_path, strerror(e)), -e;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = SERVE_EV_LISTEN };
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		close(fd);
		return snprintf(err, errlen, "epoll: %s", strerror(e)), -e;
	}
	s->listen_fd = fd;
	return 0;
}

json_t *serve_error(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return json_pack("{s:i, s:b, s:s, s:s}", "v", SERVE_PROTOCOL, "ok", 0, "error", code, "message", msg);
}

static void close_conn(struct serve *s, struct serve_conn *c)
{
	serve_spool_abandon(s, c);
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	sr_closep(&c->fd);
	serve_spool_drop_waiters(s, c);
	free(c->out);
	for (size_t i = 0; i < c->nwaits; i++)
		json_decref(c->waits[i].tag);
	free(c->waits);
	uint32_t gen = c->gen;
	*c = (struct serve_conn){ .gen = gen + 1, .fd = -1, .sp = { .pidfd = -1, .result_fd = -1, .tmp_fd = -1 } };
}

void serve_close_all(struct serve *s)
{
	for (int i = 0; i < s->nconns; i++)
		if (s->conns[i].used)
			close_conn(s, &s->conns[i]);
	sr_closep(&s->listen_fd);
}

/* While its submit is being copied, a client's next lines are not read
 * (they are answered in order, after it); a hangup still shows. */
static int conn_events(struct serve *s, struct serve_conn *c, bool want_out)
{
	struct epoll_event ev = { .events = (c->sp.on ? 0 : EPOLLIN) | (want_out ? EPOLLOUT : 0),
				  .data.u64 = conn_data(s, c) };
	return epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void set_want_out(struct serve *s, struct serve_conn *c, bool want)
{
	if (c->want_out == want)
		return;
	if (conn_events(s, c, want) == 0)
		c->want_out = want;
}

/* Write what is queued; a client that does not read loses its answers
 * beyond SERVE_OUT_MAX and is dropped, never waited for. */
static void flush_out(struct serve *s, struct serve_conn *c)
{
	while (c->outlen > 0) {
		ssize_t n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_want_out(s, c, true);
			return;
		}
		if (n <= 0) { /* gone: what it waited for goes on without it */
			close_conn(s, c);
			return;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	set_want_out(s, c, false);
	if (c->closing)
		close_conn(s, c);
}

void serve_send(struct serve *s, struct serve_conn *c, json_t *answer)
{
	char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	json_decref(answer);
	size_t len = text ? strlen(text) : 0;
	if (!text || c->outlen + len + 1 > SERVE_OUT_MAX) {
		free(text);
		close_conn(s, c);
		return;
	}
	if (c->outlen + len + 1 > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		while (cap < c->outlen + len + 1)
			cap *= 2;
		char *p = realloc(c->out, cap);
		if (!p) {
			free(text);
			close_conn(s, c);
			return;
		}
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, text, len);
	c->out[c->outlen + len] = '\n';
	c->outlen += len + 1;
	free(text);
	flush_out(s, c);
}

bool serve_take_waiter(struct serve_conn *c, struct serve_waiter *w)
{
	if (c->nwaiting == 0)
		return false;
	*w = c->waiting[0];
	memmove(c->waiting, c->waiting + 1, (c->nwaiting - 1) * sizeof *c->waiting);
	c->nwaiting--;
	return true;
}

static bool id_listed(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* The socket's mode decides who can connect at all; with --allow-uid or
 * --allow-gid, only those uids and primary gids (SO_PEERCRED, as the
 * kernel saw them at connect) may talk, and the server's own uid. */
static bool peer_allowed(const struct serve *s, const struct ucred *cr)
{
	if (!s->o->nallow_uid && !s->o->nallow_gid)
		return true;
	return cr->uid == geteuid() || id_listed(s->o->allow_uid, s->o->nallow_uid, cr->uid) ||
	       id_listed(s->o->allow_gid, s->o->nallow_gid, cr->gid);
}

static void on_accept(struct serve *s)
{
	for (;;) {
		_cleanup_close_ int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: all taken; anything else: the next event tries again */
		struct ucred cr;
		socklen_t len = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
			continue;
		struct serve_conn *c = NULL;
		for (int i = 0; i < s->nconns && !c; i++)
			if (!s->conns[i].used)
				c = &s->conns[i];
		json_t *refusal = NULL;
		if (!peer_allowed(s, &cr))
			refusal = serve_error("forbidden", "uid %u (gid %u) may not use this server: it takes "
					      "the uids and groups given with --allow-uid/--allow-gid",
					      (unsigned)cr.uid, (unsigned)cr.gid);
		else if (!c)
			refusal = serve_error("busy", "%d clients are connected, the most this server takes; "
					      "retry later", s->o->max_clients);
		if (refusal) {
			/* one best-effort line, then closed */
			char *t = json_dumps(refusal, JSON_COMPACT);
			if (t) {
				size_t n = strlen(t);
				t[n] = '\n'; /* over its NUL: sent with its length */
				if (send(fd, t, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* closed anyway */ }
			}
			free(t);
			json_decref(refusal);
			continue;
		}
		uint32_t gen = c->gen;
		*c = (struct serve_conn){ .used = true, .gen = gen + 1, .fd = fd, .cred = cr,
					  .sp = { .pidfd = -1, .result_fd = -1, .tmp_fd = -1 } };
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = conn_data(s, c) };
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			c->used = false;
			continue;
		}
		c->fd = sr_steal_fd(&fd);
	}
}

/* Why this client may not send a descriptor now, or NULL. Each one costs
 * two children (its waiter and its closer), which a FUSE file can keep
 * stuck in the kernel: bounded per connection, per uid (not the server's
 * own) and in all. */
static const char *no_room(const struct serve *s, const struct serve_conn *c)
{
	if (c->nwaiting >= SERVE_FDS_MAX)
		return "bad_request";
	if (c->cred.uid != geteuid() && serve_helpers(s, &c->cred.uid) + 2 > SERVE_HELPERS_PER_UID)
		return "busy";
	return serve_helpers(s, NULL) + 2 > SERVE_HELPERS_MAX ? "busy" : NULL;
}

/* One descriptor at most per message: recvmsg puts what it takes in our
 * table, so it gets room for one (none when there is no room for its
 * children); the kernel drops the others without a close in our table
 * (MSG_CTRUNC). The one taken leaves our table in this step
 * (serve_spool_receive). false: c is closed or closing. */
static bool take_fd(struct serve *s, struct serve_conn *c, struct msghdr *mh, const char *why_not)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
		int fd;
		memcpy(&fd, CMSG_DATA(cm), sizeof fd);
		int r = serve_spool_receive(s, c, fd);
		if (r < 0) {
			serve_send(s, c, serve_error("spool_error", "cannot take the descriptor: %s; closed",
						     strerror(-r)));
			if (c->used)
				c->closing = true, flush_out(s, c);
			return false;
		}
	}
	if (!(mh->msg_flags & MSG_CTRUNC))
		return true;
	if (!why_not)
		serve_send(s, c, serve_error("bad_request", "more than one descriptor in one message: send each "
					     "with its own submit line"));
	else if (!strcmp(why_not, "busy"))
		serve_send(s, c, serve_error("busy", "%zu processes of this server are on files of uid %u "
					     "(%zu on all clients' files; at most %d and %d): its descriptors are "
					     "refused and this connection closed; retry later",
					     serve_helpers(s, &c->cred.uid), (unsigned)c->cred.uid,
					     serve_helpers(s, NULL), SERVE_HELPERS_PER_UID, SERVE_HELPERS_MAX));
	else
		serve_send(s, c, serve_error("bad_request", "more than %d descriptors sent ahead of their "
					     "submit requests (one descriptor per submit)", SERVE_FDS_MAX));
	if (c->used)
		c->closing = true, flush_out(s, c);
	return false;
}

/* The complete lines received, in order, until a submit's copy is under
 * way. false: stop reading (closed, closing, or copying). */
static bool process_lines(struct serve *s, struct serve_conn *c)
{
	char *nl;
	while (c->used && !c->closing && !c->sp.on && (nl = memchr(c->in, '\n', c->inlen))) {
		size_t len = (size_t)(nl - c->in);
		serve_request(s, c, c->in, len);
		if (!c->used)
			return false;
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
		if (c->sp.on) /* from now on its pidfd wakes us, not the socket */
			conn_events(s, c, c->want_out);
	}
	return c->used && !c->closing && !c->sp.on;
}

static void on_readable(struct serve *s, struct serve_conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	/* A bounded number of reads per event: one busy client cannot keep
	 * the others (and the jobs) waiting. */
	for (int round = 0; round < 16 && c->used && !c->closing && !c->sp.on; round++) {
		if (c->inlen == sizeof c->in) {
			serve_send(s, c, serve_error("bad_request", "a request line is longer than %d bytes",
						     SERVE_LINE_MAX));
			if (c->used)
				c->closing = true, flush_out(s, c);
			return;
		}
		const char *why_not = no_room(s, c);
		struct iovec iov = { c->in + c->inlen, sizeof c->in - c->inlen };
		/* room for one descriptor exactly: CMSG_SPACE would fit two */
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = why_not ? 0 : CMSG_LEN(sizeof(int)) };
		ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n > 0)
			c->inlen += (size_t)n;
		if (n >= 0 && !take_fd(s, c, &mh, why_not))
			return;
		if (n <= 0) { /* gone: its submissions stay acknowledged */
			close_conn(s, c);
			return;
		}
		if (!process_lines(s, c))
			return;
	}
}

void serve_resume(struct serve *s, struct serve_conn *c)
{
	if (!c->used || c->sp.on)
		return;
	conn_events(s, c, c->want_out);
	process_lines(s, c);
}

enum loop_feed serve_feed(void *ctx, int *exit_status)
{
	struct serve *s = ctx;
	struct epoll_event evs[64];
	int n = epoll_wait(s->ep, evs, (int)SR_ARRAY_LEN(evs), 0);
	for (int i = 0; i < n; i++) {
		uint64_t d = evs[i].data.u64;
		if (d == SERVE_EV_LISTEN) {
			on_accept(s);
			continue;
		}
		if (d == SERVE_EV_TIMER) {
			serve_spool_deadline(s);
			continue;
		}
		if (d & SERVE_EV_ORPHAN) {
			serve_spool_reap_orphan(s, (int)(uint32_t)(d & ~SERVE_EV_ORPHAN));
			continue;
		}
		uint32_t idx = (uint32_t)(d & ~SERVE_EV_SPOOL), gen = (uint32_t)(d >> 32);
		if (idx >= (uint32_t)s->nconns || !s->conns[idx].used || s->conns[idx].gen != gen)
			continue;
		struct serve_conn *c = &s->conns[idx];
		if (d & SERVE_EV_SPOOL) {
			if (c->sp.on)
				serve_spool_ended(s, c);
			continue;
		}
		if (evs[i].events & EPOLLOUT)
			flush_out(s, c);
		if (c->used && c->gen == gen && c->sp.on && (evs[i].events & (EPOLLHUP | EPOLLERR)))
			close_conn(s, c); /* left before its answer: nothing acknowledged, nothing kept */
		else if (c->used && c->gen == gen && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			on_readable(s, c);
	}
	(void)exit_status; /* the socket never stops the loop: signals do */
	return LOOP_FEED_WAIT;
}
