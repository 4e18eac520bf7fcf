/* runner/dry_run.h — private to `sandrun run`: --dry-run (dry_run.c).
 * Prints, on stdout, one line per input saying what the run would do with
 * it (queue, leave, skip, error), then the counts and the resolved job
 * spec; with --json the same as JSON Lines (docs/runner.md, "--dry-run").
 * Runs nothing and writes nothing: no database is created, an existing
 * one is opened read-only. */
#ifndef SANDRUN_DRY_RUN_H
#define SANDRUN_DRY_RUN_H

#include "runner/jobspec.h"
#include "runner/run_opts.h"

/* paths: the PATH operands. Returns the exit status: 0, 2 (a bad
 * --files-from), 4 (the store could not be read). */
int dry_run(const struct run_opts *o, const struct jobspec *js, char **paths, int npaths);

#endif
