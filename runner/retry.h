/* runner/retry.h — the outcome catalog and the retry policy (pure, no I/O).
 *
 * Every attempt ends in exactly one outcome. Some are transient (the same
 * file may well succeed next time: the runner died, the sandbox could not be
 * set up, the machine was short of memory or time); the others are
 * properties of the file or of the analyzer and will repeat. The default
 * retries only the transient ones; docs/store.md explains each choice.
 */
#ifndef SANDRUN_RETRY_H
#define SANDRUN_RETRY_H

#include <stdbool.h>
#include <stddef.h>

enum outcome {
	OUTCOME_OK = 0,
	OUTCOME_EXIT_NONZERO,
	OUTCOME_SIGNALED,
	OUTCOME_OOM,
	OUTCOME_TIMEOUT,
	OUTCOME_CPU_LIMIT,
	OUTCOME_SECCOMP,
	OUTCOME_SETUP_ERROR,
	OUTCOME_OUTPUT_LIMIT,
	OUTCOME_BAD_INPUT,
	OUTCOME_BAD_OUTPUT,
	OUTCOME_RUNNER_LOST,
	OUTCOME_INPUT_ERROR,
	OUTCOME_COUNT
};

/* "ok", "exit_nonzero", ...; NULL when out of range. The first nine match
 * sbx_outcome_name() of sandbox/sandbox.h in name. */
const char *outcome_name(enum outcome o);
/* Inverse of outcome_name(); -EINVAL for an unknown name. */
int outcome_from_name(const char *name);

#define RETRY_BIT(o) (1u << (o))
/* The default of --retries and --retry-on. */
#define RETRY_DEFAULT_RETRIES 2
#define RETRY_DEFAULT_MASK                                                        \
	(RETRY_BIT(OUTCOME_RUNNER_LOST) | RETRY_BIT(OUTCOME_SETUP_ERROR) |          \
	 RETRY_BIT(OUTCOME_OOM) | RETRY_BIT(OUTCOME_TIMEOUT))
/* Outcomes that may appear in --retry-on: every failure an attempt can end
 * in. Not "ok" (not a failure) and not "input_error" (decided before any
 * attempt; the next run re-checks the file anyway). */
#define RETRY_ALLOWED_MASK                                                        \
	(((1u << OUTCOME_COUNT) - 1) & ~RETRY_BIT(OUTCOME_OK) &                     \
	 ~RETRY_BIT(OUTCOME_INPUT_ERROR))

/* Parse --retry-on: a comma-separated list of outcome names, or one of the
 * words "default", "all" (every allowed outcome), "none". Spaces around names
 * are ignored; an empty list is an error. Returns 0 and sets *mask, or
 * -EINVAL with a message naming the bad word and the valid ones in err. */
int retry_parse_outcomes(const char *csv, unsigned *mask, char *err, size_t errlen);

/* Whether an attempt that ended in `outcome`, the attempt_no-th of its item's
 * budget (1-based), is retried: outcome in retry_on_mask and fewer than
 * max_retries retries spent (attempt_no <= max_retries). Unknown outcomes,
 * "ok" and "input_error" are never retried. */
bool retry_decide(const char *outcome, int attempt_no, int max_retries, unsigned retry_on_mask);

/* The number of attempts an item may spend when its attempts end in
 * `outcome`: max_retries + 1 if outcome is retried, else 1. This is what
 * store_reclaim_dead() takes for "runner_lost". */
int retry_max_attempts(const char *outcome, int max_retries, unsigned retry_on_mask);

/* Write the names in mask as "a,b,c" ("none" when empty). */
void retry_format_outcomes(unsigned mask, char *buf, size_t len);

#endif
