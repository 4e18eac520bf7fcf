/* runner/loop_internal.h — shared by the event loop's sources only
 * (loop.c: jobs, claims, ticks, wake-ups; loop_signals.c: pause and
 * signals; loop_offline.c: riding through a lost database connection);
 * not an API (runner/loop.h is the loop's contract). */
#ifndef SANDRUN_LOOP_INTERNAL_H
#define SANDRUN_LOOP_INTERNAL_H

#include "runner/loop.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct slot {
	bool used;
	uint32_t gen;
	struct sbx_job *job;
	struct store_claim claim;
	int out_fd, err_fd;
	struct out_capture out;
	struct tail_capture err;
	bool frozen, killed;
	/* Its end, kept while the database is unreachable (loop_offline.c):
	 * the job is gone, the slot holds its captures until the finish (or
	 * the release, for an interrupted one) is written or dropped. */
	bool parked, park_release;
	struct sbx_result park_res;
	struct job_verdict park_v;
};

struct loop {
	const struct loop_config *cfg;
	struct loop_result *res;
	int ep, tick_fd, wake_fd;      /* wake_fd: store_wakeup_fd(), or -1 */
	struct slot *slots;
	struct store_claim *claims;   /* one batch claim: one per free slot */
	int64_t run_id;               /* cfg->run_id, then the run it rejoined as */
	int nslots, running;
	bool queue_empty, stopping, paused, kill_sent, waiting_memory;
	bool admit_more;              /* admit() stopped at its budget: call it again soon */
	bool feeding, feed_waiting;  /* inputs left to queue; waiting for feed_fd */
	uint64_t start_ms, grace_deadline_ms, next_heartbeat_ms, next_reclaim_ms, next_queue_ms;
	uint64_t retry_at_ms;          /* idle until then: a retry's not_before (0: none) */
	/* The database connection was lost (-ENOTCONN): no claims, ends kept
	 * in their slots, reconnects with backoff until give_up_ms. */
	bool offline, gave_up;
	int reconnect_tries;
	uint32_t reconnect_err_hash;  /* of the last try's message (said once) */
	uint64_t offline_since_ms, next_reconnect_ms;
};

/* Refresh the progress counters from the loop's state. */
void loop_update_counts(struct loop *l);
/* Stop one job (released or recorded when its init exits), or all. */
void loop_kill_slot(struct loop *l, struct slot *s, enum sbx_kill_reason why);
void loop_kill_all(struct loop *l);
/* Read the signalfd and act on each signal (loop_signals.c). */
void loop_drain_signals(struct loop *l);

/* Write an attempt's end to the store (loop_finish.c): its outcome, or a
 * release for one the user's interrupt cut short. Either says how it ended
 * and frees the slot, unless the database is unreachable: then it is parked
 * (loop_park) and written after the reconnect. */
void loop_record_finish(struct loop *l, struct slot *s, const struct sbx_result *res,
			const struct job_verdict *v);
void loop_record_release(struct loop *l, struct slot *s, const struct sbx_result *res);
/* The input was gone or replaced when its job started (loop_finish.c):
 * the item's input error, no attempt spent; the caller frees the claim
 * or the slot. */
void loop_record_input_error(struct loop *l, const struct store_claim *claim, const char *msg);
/* --halt: enough failures in this run? Then start nothing new. */
void loop_check_halt(struct loop *l);
/* Close a finished slot's pipes and captures and free it (loop.c). */
void loop_release_slot(struct loop *l, struct slot *s);
/* This run was judged lost: stop its jobs and begin a new run
 * (loop_offline.c). */
void loop_rejoin(struct loop *l);

/* loop_offline.c. The store failed under us (not a lost connection):
 * say what, stop the run (SR_EXIT_STORE) and its jobs. */
void loop_store_failed(struct loop *l, const char *what);
/* An end that will never be written (the database stayed unreachable):
 * counted in res->dropped and said on stderr. */
void loop_dropped(struct loop *l, struct slot *s);
/* A store call failed with -ENOTCONN: stop claiming,
 * say so once, and reconnect from the tick. */
void loop_went_offline(struct loop *l);
/* Keep this end in its slot until the reconnect: true, or false once the
 * runner has given up on the database (the caller drops it, saying so). */
bool loop_park(struct loop *l, struct slot *s, const struct sbx_result *res,
	       const struct job_verdict *v, bool release);
/* From the tick while offline: the next reconnect when due (then the
 * heartbeat, the kept ends written, a rejoin if the run was judged lost),
 * or giving up. */
void loop_offline_tick(struct loop *l, uint64_t now);

#endif
