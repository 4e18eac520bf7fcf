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
};

/* `sandrun run` (watch false) or `sandrun watch` (true): options, setup,
 * the loop, the summary; returns the exit status (runner/run_cmd.c). */
int run_command(int argc, char **argv, bool watch);
/* watch's own help: its usage and inputs, its signals and exit status
 * (runner/watch_cmd.c); the rest is run's. */
extern const char watch_usage[];
extern const char watch_signals_help[];

#endif
