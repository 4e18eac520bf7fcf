/* runner/loop.h — the batch runner's event loop.
 *
 * One thread, one epoll set: every running job's pidfd, stdout pipe
 * (its result) and stderr pipe, one timerfd per job for its wall-clock
 * deadline, a 250 ms tick (status line, --cpu-time, heartbeat, --memfree,
 * reclaim, the grace period), and a signalfd for SIGINT, SIGTERM, SIGHUP,
 * SIGUSR1 and SIGUSR2. No signal handler does any work. docs/runner.md explains
 * the process model.
 *
 * Every attempt goes claim -> start -> finish: store_claim_next() counts it
 * and takes a lease before anything runs; store_attempt_finish() records
 * the outcome and, through retry_decide(), whether the item goes back to
 * pending; an attempt cut short by the user's interrupt is released
 * (store_attempt_release) without spending the attempt.
 */
#ifndef SANDRUN_LOOP_H
#define SANDRUN_LOOP_H

#include "runner/jobspec.h"
#include "runner/progress.h"
#include "store/store.h"
#include "sandbox/sandbox.h"

#include <stdint.h>

/* What the queueing hook (loop_config.feed) says after one step. */
enum loop_feed {
	LOOP_FEED_MORE,     /* more to queue: call again at the next turn */
	LOOP_FEED_WAIT,     /* nothing to read yet: call again once feed_fd is readable */
	LOOP_FEED_DONE,     /* everything is queued */
	LOOP_FEED_STOP,     /* it failed (and said why): *exit_status is SR_EXIT_STORE
			       or SR_EXIT_USAGE; start nothing new */
	LOOP_FEED_OFFLINE,  /* the store is unreachable (-ENOTCONN); what was not
			       queued is kept by the hook: call again once the
			       loop has reconnected */
};

struct loop;

/* An attempt's end as the service hook (loop_config.on_finish) hears of it:
 * recorded (status done, failed or pending for a retry), released by an
 * interrupt or a cancel (pending, outcome "interrupted"), or an input error
 * at claim time (failed). status "unrecorded": the store refused it. */
struct loop_finish {
	int64_t item_id;
	const struct progress_finished *f;
	const void *result;       /* the job's stdout when the item is done, else NULL */
	size_t result_len;
};

struct loop_config {
	struct store *st;
	int64_t run_id;
	struct sbx_run *sbx;
	const struct jobspec *js;
	struct progress *progress;
	int sigfd;                /* signalfd of the blocked signals */
	int jobs;                 /* -j: at most this many at once */
	int max_retries;          /* --retries */
	unsigned retry_mask;      /* --retry-on */
	/* --halt: stop starting jobs once this run left halt_fails files
	 * failed (0 = never), or halt_percent of its finished files (once
	 * FAILURES_HALT_MIN_FINISHED have finished); halt_now also stops the
	 * running ones (released, as on SIGTERM). */
	int halt_fails, halt_percent;
	bool halt_now;
	uint64_t memfree_bytes;   /* --memfree: 0 = off */
	uint64_t grace_ms;        /* --grace */
	uint64_t lease_ms;        /* --lease-timeout on PostgreSQL: heartbeats and
				     reclaims come often enough for it; 0: default */
	/* Claim while queueing: the inputs not queued yet before the loop
	 * started. While feed is set and has not said DONE, the loop calls
	 * it once per turn, between epoll waits of 0 ms (so job events are
	 * handled between steps), and does not end for lack of pending
	 * items. It is not called once the run is stopping (SIGINT/SIGTERM,
	 * a fatal error): what is queued stays queued. NULL: all queued. */
	enum loop_feed (*feed)(void *ctx, int *exit_status);
	void *feed_ctx;
	int feed_fd;              /* what LOOP_FEED_WAIT waits for (a pipe), or -1 */
	/* This run was judged lost (STORE_ESTALE from its heartbeat or its
	 * claim): begin a new run and set *run_id to it; <0 (message out)
	 * stops the loop with SR_EXIT_STORE. NULL: stop. */
	int (*rejoin)(void *ctx, int64_t *run_id);
	void *rejoin_ctx;
	/* serve (runner/serve*.c): told of every attempt's end, after the
	 * store has it; and the loop's handle while it runs (*self; NULL
	 * again once loop_run returns), for loop_stop_item(). */
	void (*on_finish)(void *ctx, const struct loop_finish *f);
	struct loop **self;
};

struct loop_result {
	int signal;               /* SIGINT/SIGTERM/SIGHUP that stopped the run, or 0 */
	int fatal;                /* 0, or SR_EXIT_STORE / SR_EXIT_ISOLATION, or
				     SR_EXIT_USAGE from the queueing hook */
	int64_t finished;         /* attempts recorded by this run */
	int64_t failed;           /* ... that left their item failed */
	int64_t lost_leases;      /* finishes refused: the lease was taken back */
	int64_t dropped;          /* ends not written: the database stayed
				     unreachable (their leases are reclaimed) */
	int reconnects;           /* times the database connection came back */
	int rejoined;             /* times the run was judged lost and began anew */
	bool halted;              /* --halt stopped the run */
	double elapsed_s;
};

/* Run until nothing is pending and nothing runs, or until interrupted.
 * Returns 0 (see res for how it ended) or -errno when the loop itself
 * could not be set up. */
int loop_run(const struct loop_config *cfg, struct loop_result *res);

/* Stop the running attempt of item_id (SBX_KILL_INTERRUPT): it is released
 * as on SIGTERM, uncounted, and on_finish hears of it (pending,
 * "interrupted"). 1 when it was running here, 0 when not. */
int loop_stop_item(struct loop *l, int64_t item_id);

/* MemAvailable from a /proc/meminfo text, in bytes (pure; -ENOENT when the
 * line is missing). */
int loop_parse_memavailable(const char *meminfo, uint64_t *bytes);
/* Whether --memfree lets a new job start now (MemAvailable >= need).
 * Unknown counts as yes: a kernel without MemAvailable must not stall the
 * batch forever. loop_mem.c. */
bool loop_memory_allows_start(uint64_t need);

#endif
