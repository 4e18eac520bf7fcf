/* runner/failures.h — what a batch does after failures, as a pure
 * decision (no I/O): --halt's threshold. The loop (loop.c) asks and acts.
 * docs/runner.md, "--halt". */
#ifndef SANDRUN_FAILURES_H
#define SANDRUN_FAILURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAILURES_HALT_MIN_FINISHED 10

/* Whether --halt says stop: halt_fails failed files (0: no count), or
 * halt_percent of the finished ones once FAILURES_HALT_MIN_FINISHED have
 * finished (0: no share). */
bool failures_halt(int halt_fails, int halt_percent, int64_t failed, int64_t finished);

#endif
