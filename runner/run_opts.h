/* runner/run_opts.h — private to `sandrun run` (run_cmd.c, run_queue.c):
 * its parsed options and their bounds. */
#ifndef SANDRUN_RUN_OPTS_H
#define SANDRUN_RUN_OPTS_H

#include "runner/cmdspec.h"
#include "runner/input_filter.h"
#include "runner/inputs.h"
#include "runner/jobspec.h"
#include "runner/progress.h"
#include "sandbox/sandbox.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_CMD_BINDS JOBSPEC_MAX_BINDS

#define MAX_JOBS 4096
#define MAX_RETRIES 100
/* Inputs queued per store call and per queueing step: memory stays flat
 * however many there are, and a step takes milliseconds. The environment
 * variable SANDRUN_QUEUE_CHUNK (1 to this) makes steps smaller: the tests
 * use it to queue a small batch over many steps while its jobs run. */
#define ENQUEUE_CHUNK 1024

struct run_opts {
	const char *db, *files_from, *policy;
	bool recursive, nul, force, json, new_spec;
	bool fingerprint, spectral;  /* --fingerprint, --spectral: the built-in analyzer's */
	bool dry_run;                /* --dry-run: say what would be queued, change nothing */
	uint64_t json_interval_ms;   /* --json-interval: "progress" events (0: none) */
	enum progress_verbosity verbosity;
	int jobs, retries;
	int npaths;                  /* path operands, at argv[optind...] */
	unsigned retry_mask;
	uint64_t memfree, grace_ms, max_output;
	int halt_fails, halt_percent;  /* --halt */
	bool halt_now;
	int lease_timeout_s;         /* --lease-timeout; 0: the store's default */
	uint64_t retry_delay_ms;     /* --retry-delay; 0: retry at once */
	struct sbx_limits limits;
	/* --cmd */
	const char *cmd, *output, *ok_codes;
	const char *env[CMDSPEC_MAX_ENV + 1];
	size_t nenv;
	const char *binds[MAX_CMD_BINDS + 1];
	bool bind_writable[MAX_CMD_BINDS + 1];
	size_t nbinds;
	const char *etc[SBX_MAX_ETC_EXTRA];
	size_t netc;
	/* -r's filter (--include/--exclude), --follow-symlinks */
	struct input_filter filter;
	enum input_follow follow;
	/* watch (runner/watch_cmd.c) */
	bool watch;
	uint64_t settle_ms;          /* --settle */
	int max_dirs;                /* --max-dirs: directories watched at most */
};
#define RUN_DEFAULT_MAX_DIRS 10000

/* `sandrun run` (watch false) or `sandrun watch` (true): options, setup,
 * the loop, the summary; returns the exit status (runner/run_cmd.c). */
int run_command(int argc, char **argv, bool watch);
/* watch's own help: its usage and inputs, its signals and exit status
 * (runner/watch_cmd.c); the rest is run's. */
extern const char watch_usage[];
extern const char watch_signals_help[];

/* A command built on run's options (serve): its own long options (values
 * from RUN_OPTS_EXTRA_FIRST up), taken by take() (1 taken, 0 not one of
 * them, -1 usage error with its message printed), and its --help. */
#define RUN_OPTS_EXTRA_FIRST 0x400
struct run_opts_extra {
	const char *usage_cmd;           /* "run ": "Try 'sandrun run --help'" */
	const struct option *longopts;   /* NULL-terminated, or NULL */
	int (*take)(int opt, const char *arg, void *ctx);
	void *ctx;
	void (*help)(void);
	bool watch;                      /* `sandrun watch`: --settle, -r implied */
};

/* Parse argv into *o (defaults first). 0: parsed, optind at the first
 * operand; 1: --help printed; -1: usage error, its message printed. */
int run_opts_parse(int argc, char **argv, struct run_opts *o, const struct run_opts_extra *x);

/* What run and serve set up alike (run_cmd.c): the limits' warnings,
 * signals blocked and read from a signalfd, the job spec, the sandbox run
 * (cgroups), the store (read-write) and the progress output; body runs
 * with them and its return is the exit status. */
struct store;
struct run_env {
	struct store *st;
	struct sbx_run *sbx;
	const struct jobspec *js;
	struct progress *progress;
	int sigfd;
};
typedef int (*run_body_fn)(struct run_env *env, void *ctx);
int run_with_env(const struct run_opts *o, const char *name_hint, run_body_fn body, void *ctx);
/* The runs row of this process (args: run_argv_json(), password redacted) and the
 * leases of dead runners taken back: 0, or SR_EXIT_STORE (printed). */
int run_begin(struct store *st, const struct run_opts *o, const struct jobspec *js, const char *args,
	      int64_t *run_id);
/* The run's argv as a JSON array, a PostgreSQL password redacted (malloc'd;
 * NULL when out of memory: the runs row then has none). */
char *run_argv_json(int argc, char **argv);
/* loop_config.rejoin for run, watch and serve: a run judged lost begins
 * anew with the same argv and job spec, a new runs row; *run_id and
 * *also (when set) become its id. */
struct run_rejoin_ctx {
	struct store *st;
	const char *args;
	const struct jobspec *js;
	int64_t *run_id;
	int64_t *also;
};
int run_rejoin(void *ctx, int64_t *run_id);

#endif
