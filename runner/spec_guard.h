/* runner/spec_guard.h — before a run touches the store: does the store
 * hold finished work of another job spec, which this run would analyze
 * again? (docs/runner.md, "Item identity and job specs".)
 *
 * Only what changes a result is in the spec key (runner/jobspec.h), so a
 * resume with another --mem or -j finds its items done. What is left is a
 * real change (another analyzer, policy, --cmd, --env, ...) or a flag
 * forgotten on resume; either way the user says so first: with done items
 * of another spec in the store and neither --new-spec nor --force, the run
 * stops before its first write, names how many items and what differs, and
 * exits 2.
 *
 * Stores written before key format 2 hold keys that had the limits in
 * them: an old key whose run description (runs.spec) is this spec once
 * the limits are dropped is the same spec, and its items are moved to the
 * current key (store_spec_rekey) instead of being counted as changed.
 */
#ifndef SANDRUN_SPEC_GUARD_H
#define SANDRUN_SPEC_GUARD_H

#include "runner/jobspec.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

/* "policy, --env" from two descriptions (current format), for the user:
 * the options whose settings differ (pure). */
void spec_guard_differences(json_t *a, json_t *b, char *out, size_t len);

/* 0: go on (the store may have had old keys carried over). Otherwise the
 * exit status, its message printed: SR_EXIT_USAGE (the spec changed and
 * confirmed is false), SR_EXIT_STORE. */
int spec_guard_check(struct store *st, const struct jobspec *js, bool confirmed);

#endif
