/* runner/serve.h — private to `sandrun serve` (runner/serve*.c): the
 * service socket in front of the batch engine. docs/serve.md has the
 * protocol and the decisions; this header is the seam between its files:
 *
 *   serve_cmd.c    options, setup, the loop (runner/loop.c) with our hooks
 *   serve_conn.c   the socket: accept, who may connect, lines and
 *                  descriptors in, responses out
 *   serve_req.c    the requests: submit, status, cancel, stats; the
 *                  answers to waiting clients when an item ends
 *   serve_spool.c  a client's descriptor -> the server's own copy, made
 *                  by a child with a deadline
 */
#ifndef SANDRUN_SERVE_H
#define SANDRUN_SERVE_H

#include "runner/loop.h"
#include "runner/jobspec.h"
#include "runner/progress.h"
#include "store/store.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SERVE_PROTOCOL 1
#define SERVE_LINE_MAX 65536      /* one request line, newline included */
#define SERVE_FDS_MAX 8           /* descriptors waiting for their submit, per client */
#define SERVE_HELPERS_PER_UID 32  /* our children on one uid's files (waiting, copying, closing, stuck) */
#define SERVE_HELPERS_MAX 512     /* ... on all clients' files together */
#define SERVE_COPIES_PER_UID 2    /* copies under way for one uid at once: beyond, busy */
#define SERVE_OUT_MAX (4u << 20)  /* answers a client has not read: beyond, it is dropped */
#define SERVE_MAX_ALLOW 64        /* --allow-uid / --allow-gid entries */
#define SERVE_NAME_MAX 255        /* a submission's label, bytes */
#define SERVE_RETRY_AFTER_MS 1000 /* the hint of a busy answer */
#define SERVE_DEFAULT_MAX_QUEUE 10000
#define SERVE_DEFAULT_MAX_SIZE (1ull << 30)
#define SERVE_DEFAULT_MAX_CLIENTS 256
#define SERVE_DEFAULT_SPOOL_TIMEOUT_MS 60000
#define SERVE_STUCK_PER_UID 8      /* helpers of one uid stuck on its files: beyond, busy */
#define SERVE_DEFAULT_QUOTA_FILES 1000
#define SERVE_DEFAULT_QUOTA_BYTES (10ull << 30)

/* The data of our epoll set's events: a client connection is its index
 * (below 2^16) | its generation << 32; these never collide with one. */
#define SERVE_EV_LISTEN UINT64_MAX
#define SERVE_EV_TIMER (UINT64_MAX - 1)   /* the spool deadlines' timerfd */
#define SERVE_EV_SPOOL (1ull << 31)       /* | a connection's: its copy's report socket */
#define SERVE_EV_ORPHAN (1ull << 30)      /* | a pidfd: a child to reap once gone */

struct serve_opts {
	const char *socket_path, *spool_dir;
	int max_queue, max_clients;
	uint64_t max_size, spool_timeout_ms;
	int64_t quota_files, quota_bytes;  /* per client uid; 0: none */
	mode_t socket_mode;
	uid_t allow_uid[SERVE_MAX_ALLOW];
	gid_t allow_gid[SERVE_MAX_ALLOW];
	size_t nallow_uid, nallow_gid;
};

struct serve_wait {
	int64_t id;
	json_t *tag;                  /* the submit's tag, given back with the result */
};

/* A submit whose file a child is copying (serve_spool.c): the client's
 * next requests wait until it is answered. */
struct serve_spooling {
	bool on;
	bool killed;                  /* past its deadline: SIGKILLed */
	int pidfd, result_fd, tmp_fd; /* the child's; its report; the unnamed copy */
	uint64_t deadline_ms;         /* CLOCK_MONOTONIC, from the order */
	uint64_t limit;               /* the copy's byte limit: reserved of the uid's quota until it ends */
	json_t *req;                  /* the submit (wait, name, tag) */
};

/* A child of ours on a client's file (a copy killed or done, a closer),
 * reaped once its pidfd says it is gone. One alive past --spool-timeout
 * is stuck in the kernel (a FUSE FLUSH waits uninterruptibly). */
struct serve_helper {
	int pidfd;
	uid_t uid;                    /* whose file */
	uint64_t since_ms;
};

/* A child started the instant a client's descriptor arrived: it holds
 * that descriptor (the server does not) and waits on its socket for the
 * order of the submit that takes it (serve_spool.c). */
struct serve_waiter {
	int pidfd, sock;
};

struct serve_conn {
	bool used;
	uint32_t gen;
	int fd;
	struct ucred cred;
	char in[SERVE_LINE_MAX];
	size_t inlen;
	struct serve_waiter waiting[SERVE_FDS_MAX]; /* one per descriptor received, oldest first */
	size_t nwaiting;
	char *out;
	size_t outlen, outcap;
	bool want_out;                /* EPOLLOUT is on */
	bool closing;                 /* close once out is written */
	struct serve_wait *waits;     /* items whose end this client waits for */
	size_t nwaits, capwaits;
	struct serve_spooling sp;
};

struct serve {
	const struct serve_opts *o;
	struct store *st;
	const struct jobspec *js;
	struct progress *progress;
	int64_t run_id;
	int jobs;
	int ep;                       /* our epoll set: the loop's feed_fd */
	int listen_fd, spool_fd, spool_timer;
	int nspooling;                /* copies under way: counted into the queue bound */
	bool said_leak;               /* a client descriptor was left in our table once */
	struct serve_helper *helpers;
	size_t nhelpers, caphelpers;
	char spool_path[PATH_MAX];
	struct serve_conn *conns;
	int nconns;
	struct loop *loop;            /* while loop_run runs */
	int64_t outstanding;          /* acknowledged and not yet done or failed */
	int64_t *cancels;             /* running items a client cancelled */
	size_t ncancels, capcancels;
	/* since start: for stats */
	int64_t submitted, refused_busy, done, failed, by_outcome[OUTCOME_COUNT];
};

/* serve_conn.c */
int serve_listen(struct serve *s, char *err, size_t errlen);
/* The loop's feed: everything our epoll set has ready, then LOOP_FEED_WAIT. */
enum loop_feed serve_feed(void *ctx, int *exit_status);
/* Queue one answer (a JSON object, taken) as one line to c. */
void serve_send(struct serve *s, struct serve_conn *c, json_t *answer);
/* An error answer: {"v":1,"ok":false,"error":code,"message":msg, ...}. */
json_t *serve_error(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The waiter of the oldest descriptor this client sent that no submit has
 * taken: false if none. */
bool serve_take_waiter(struct serve_conn *c, struct serve_waiter *w);
/* The epoll data of c's copy (SERVE_EV_SPOOL). */
uint64_t serve_spool_data(struct serve *s, struct serve_conn *c);
/* The copy of c's submit is answered: its next requests are served. */
void serve_resume(struct serve *s, struct serve_conn *c);
void serve_close_all(struct serve *s);

/* serve_req.c */
void serve_request(struct serve *s, struct serve_conn *c, const char *line, size_t len);
/* A submit's copy ended: name is the spooled file's (then st its fstat),
 * or NULL and err the refusal (taken). Queues the item and answers. */
void serve_spooled(struct serve *s, struct serve_conn *c, json_t *req, const char *name, const struct stat *st,
		   json_t *err);
void serve_on_finish(void *ctx, const struct loop_finish *f);
/* Whether this client may read or cancel the items of uid item_uid. */
bool serve_may_see(const struct serve *s, const struct ucred *who, int64_t item_uid);

/* serve_spool.c: the descriptor fd just received from client c goes, in
 * this same loop step, to a waiting child of its own (c->waiting), and out
 * of our descriptor table (a closer child sharing the table closes it: a
 * close can wait forever on FUSE). So no job and no other child of ours
 * ever inherits a client's descriptor. 0, or -errno: no waiter (the
 * descriptor is out of our table all the same, unless -EMFILE-like
 * failures left it: then it is leaked, said once, and c must be closed). */
int serve_spool_receive(struct serve *s, struct serve_conn *c, int fd);
/* c's waiters not claimed (disconnect, bad line, a refused submit's):
 * SIGKILLed, reaped later through their pidfds. */
void serve_spool_drop_waiters(struct serve *s, struct serve_conn *c);
void serve_spool_drop_waiter(struct serve *s, const struct serve_conn *c, struct serve_waiter *w);
/* The order to w's child: check the descriptor (regular file, readable,
 * not FUSE, at most limit bytes) and copy its bytes into an unnamed file of
 * the spool, synced, within --spool-timeout from now; its report comes on
 * w->sock, in our epoll set with the data given. w is taken. 0, or -errno
 * when it could not be ordered (w's child is then killed). */
#define SERVE_SPOOL_NAME_LEN 33
int serve_spool_start(struct serve *s, struct serve_conn *c, struct serve_waiter *w, uint64_t limit, json_t *req,
		      uint64_t spool_data);
/* Its report socket is readable: the copy is named (128 random bits, the
 * spool synced) and serve_spooled called, or the refusal passed to it. */
void serve_spool_ended(struct serve *s, struct serve_conn *c);
/* The spool timer fired: copies past their deadline are SIGKILLed and
 * answered spool_timeout. */
void serve_spool_deadline(struct serve *s);
/* The client left: its copy is killed, nothing kept. */
void serve_spool_abandon(struct serve *s, struct serve_conn *c);
/* A helper's pidfd is readable: reaped. */
void serve_spool_reap_orphan(struct serve *s, int pidfd);
/* Our children alive on the files of uid (waiting, copying, closing,
 * killed and not yet gone), or on every client's files when uid is NULL. */
size_t serve_helpers(const struct serve *s, const uid_t *uid);
/* How many of uid's helpers are stuck (alive past --spool-timeout). */
size_t serve_stuck_helpers(const struct serve *s, uid_t uid);

#endif
