/* runner/run.h — `sandrun [run] [OPTIONS] PATH...`: analyze a batch of
 * files, each in its own sandbox, recording every attempt in the store.
 * runner/run_cmd.c: options, inputs, the top-level flow; runner/loop.c: the
 * event loop; runner/jobspec.c: what runs for one file. */
#ifndef SANDRUN_RUN_H
#define SANDRUN_RUN_H

/* argv[0] is "run". Returns the exit status (SR_EXIT_*). */
int cmd_run(int argc, char **argv);
/* argv[0] is "watch" (runner/watch_cmd.c). Returns the exit status. */
int cmd_watch(int argc, char **argv);

#endif
