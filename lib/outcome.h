/* lib/outcome.h — the outcome catalog: every way one attempt at a file can
 * end, one table for the whole program. Pure: no state, no I/O.
 *
 * The sandbox classifies a finished job into one of the first
 * OUTCOME_SANDBOX_COUNT (sandbox/reap.c); the runner adds the verdicts
 * only it can reach (the result, the input, its own death). The store
 * records the names, and those are a stored format: never rename one.
 * docs/sandrun.1 (OUTCOMES) describes each; docs/store.md which are
 * retried by default (store/retry.c). The catalog lives in lib/ because
 * both the sandbox and the store use it and the sandbox may depend on
 * lib/ only (docs/design.md).
 */
#ifndef SANDRUN_LIB_OUTCOME_H
#define SANDRUN_LIB_OUTCOME_H

#include <stdbool.h>

enum outcome {
	/* what the sandbox tells of a job (sandbox/reap.c) */
	OUTCOME_OK = 0,
	OUTCOME_EXIT_NONZERO,
	OUTCOME_SIGNALED,
	OUTCOME_OOM,
	OUTCOME_TIMEOUT,
	OUTCOME_CPU_LIMIT,
	OUTCOME_SECCOMP,
	OUTCOME_SETUP_ERROR,
	OUTCOME_OUTPUT_LIMIT,
	/* what only the runner can tell */
	OUTCOME_BAD_INPUT,
	OUTCOME_BAD_OUTPUT,
	OUTCOME_RUNNER_LOST,
	OUTCOME_INPUT_ERROR,
	/* the job succeeded and its JSON result says the input is damaged
	 * (damage.damaged: true): a result, kept, never retried */
	OUTCOME_DAMAGED,
	OUTCOME_COUNT
};
/* The outcomes a sandboxed job can end in: OUTCOME_OK .. OUTCOME_OUTPUT_LIMIT. */
#define OUTCOME_SANDBOX_COUNT (OUTCOME_OUTPUT_LIMIT + 1)

/* "ok", "exit_nonzero", ... as stored; NULL when out of range. */
const char *outcome_name(enum outcome o);
/* Inverse of outcome_name() (exact); -EINVAL for NULL or an unknown name. */
int outcome_from_name(const char *name);
/* Whether the sandbox can end a job in o (o < OUTCOME_SANDBOX_COUNT). */
bool outcome_from_sandbox(enum outcome o);
/* Whether o means the job was stopped at one of its limits: timeout,
 * cpu_limit, oom, output_limit (the report draws them apart). */
bool outcome_at_limit(enum outcome o);
/* Whether o leaves the item done with its result kept: ok, damaged. */
bool outcome_succeeded(enum outcome o);
/* The same by stored name (NULL or unknown: false). */
bool outcome_name_succeeded(const char *name);

#endif
