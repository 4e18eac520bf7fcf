/* runner/loop_internal.h — shared by the event loop's sources only
 * (loop.c: jobs, claims, ticks, wake-ups; loop_signals.c: pause and
 * signals); not an API (runner/loop.h is the loop's contract). */
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
};

/* Refresh the progress counters from the loop's state. */
void loop_update_counts(struct loop *l);
/* Stop one job (released or recorded when its init exits), or all. */
void loop_kill_slot(struct loop *l, struct slot *s, enum sbx_kill_reason why);
void loop_kill_all(struct loop *l);
/* Read the signalfd and act on each signal (loop_signals.c). */
void loop_drain_signals(struct loop *l);

#endif
