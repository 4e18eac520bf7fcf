/* runner/store_extra.h — store functions the runner needs beyond
 * runner/store.h, written by the runner's owner on the store's internals
 * (runner/store_extra.c). Same error idiom as store.h.
 *
 * The batch is the set of paths one `sandrun run` invocation named: a
 * TEMP table of this connection, so it costs the shared database nothing
 * and vanishes with the process. It deduplicates inputs named twice and
 * lets the run report on exactly its own items at the start and the end.
 */
#ifndef SANDRUN_STORE_EXTRA_H
#define SANDRUN_STORE_EXTRA_H

#include "runner/retry.h"
#include "runner/store.h"

/* Create the (empty) batch table of this connection. */
int store_batch_open(struct store *st);
/* Add paths to the batch in one transaction; is_new[i] tells whether
 * paths[i] was not in it yet (an input named twice is queued once). */
int store_batch_add(struct store *st, const char *const *paths, size_t n, bool *is_new);

struct store_batch_counts {
	int64_t total;                     /* paths in the batch */
	int64_t pending, running, done, failed;
	int64_t failed_by[OUTCOME_COUNT];  /* failed items by last outcome */
	int64_t failed_other;              /* ... whose outcome is not in the catalog */
	int64_t pending_elsewhere;         /* pending items of spec_key outside the batch */
};
int store_batch_counts(struct store *st, const char *spec_key, struct store_batch_counts *out);

/* For the live status line while the batch is still being queued: counts
 * of the batch paths added after *mark (0: all of them), and *mark moved
 * past them, so each chunk is counted once, in O(chunk). Items whose last
 * attempt is run_id's are counted in total but not in done/failed (the
 * run counts its own finishes). pending_elsewhere is left 0. */
int store_batch_counts_since(struct store *st, int64_t run_id, int64_t *mark,
			     struct store_batch_counts *out);

/* Once the batch is complete: the items outside it that this run works on
 * too, so that done/total can reach total: pending items of spec_key, and
 * those run_id holds or has finished (it may have claimed them while the
 * batch was still being queued). */
int store_batch_elsewhere(struct store *st, const char *spec_key, int64_t run_id, int64_t *n);

/* A claimed item whose input could no longer be opened (deleted or
 * replaced since it was queued): in one transaction, end the attempt as
 * "input_error" with counted = 0 (no attempt spent: the job never ran) and
 * make the item failed with that outcome and message, size and mtime
 * cleared, as store_record_input_error() does. STORE_ESTALE if the lease is
 * no longer ours. */
int store_attempt_input_error(struct store *st, const struct store_claim *c, const char *error);

/* ---- job spec identity (runner/spec_guard.c, docs/store.md) ---- */

/* Items per spec key: done ones, and failed ones that were analyzed (not
 * input_error). fn's non-zero return stops and is returned. */
typedef int (*store_spec_count_fn)(const char *spec_key, int64_t done, int64_t failed, void *ctx);
int store_spec_counts(struct store *st, store_spec_count_fn fn, void *ctx);
/* The distinct runs.spec texts, the latest run's first. */
int store_run_specs(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx);
/* Every item of old_key gets new_key (the same spec under a newer key
 * format); *n: how many. One transaction. */
int store_spec_rekey(struct store *st, const char *old_key, const char *new_key, int64_t *n);

#endif
