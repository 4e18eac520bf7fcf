/* runner/failures.h — what a batch does after failures, as plain data and
 * decisions (no I/O): the --retry-delay wait of each retried item, and
 * --halt's threshold. The loop (loop.c) asks and acts. docs/runner.md,
 * "Retry delay" and "--halt". */
#ifndef SANDRUN_FAILURES_H
#define SANDRUN_FAILURES_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAILURES_RETRY_DELAY_CAP_MS (600u * 1000)
#define FAILURES_HALT_MIN_FINISHED 10

/* The wait before an item whose attempt_no-th attempt is to be retried:
 * delay_ms * 2^(attempt_no-1), at most FAILURES_RETRY_DELAY_CAP_MS. */
uint64_t failures_retry_delay(uint64_t delay_ms, int attempt_no);

/* Whether --halt says stop: halt_fails failed files (0: no count), or
 * halt_percent of the finished ones once FAILURES_HALT_MIN_FINISHED have
 * finished (0: no share). */
bool failures_halt(int halt_fails, int halt_percent, int64_t failed, int64_t finished);

/* The items this run will retry and when. The wait is in the runner's
 * memory, not the store: an item is pending at once; a claim that returns
 * it early is held here (lease kept, nothing started) until it is due. */
struct retry_wait {
	int64_t item_id;
	uint64_t due_ms;
	bool held;
	struct store_claim claim;
};
struct retry_waits {
	struct retry_wait *v;
	size_t n, nheld;
};

/* Remember that item_id waits until due_ms (out of memory: no wait). */
void retry_waits_add(struct retry_waits *w, int64_t item_id, uint64_t due_ms);
/* A fresh claim: true when its item's wait is not over; the claim is then
 * held here (moved in). False when it may start (its wait, if any, ends). */
bool retry_waits_hold(struct retry_waits *w, const struct store_claim *claim, uint64_t now_ms);
/* A held claim that is due (due_only) or any held one, moved to *out. */
bool retry_waits_take(struct retry_waits *w, uint64_t now_ms, bool due_only, struct store_claim *out);
void retry_waits_free(struct retry_waits *w);

#endif
