/* runner/run_cmd.c — `sandrun [run]`: options, inputs, the top-level flow.
 *
 *   parse options -> block signals -> job spec (analyzer, policy) ->
 *   sandbox run (cgroups) -> store, run row, reclaim dead leases ->
 *   queue the inputs -> event loop (loop.c) -> summary, run end, exit status
 *
 * Exit status: 0 every file ok, 1 some failed or left pending, 5 none failed
 * but some damaged, 2 usage, 3 isolation
 * cannot be enforced, 4 store error, 129/130/143 interrupted by SIGHUP/SIGINT/SIGTERM.
 */
#include "runner/run.h"
#include "runner/run_opts.h"
#include "runner/run_queue.h"
#include "runner/dropdir.h"
#include "runner/cmdspec.h"
#include "runner/dry_run.h"
#include "runner/common.h"
#include "runner/input_filter.h"
#include "runner/inputs.h"
#include "runner/jobspec.h"
#include "runner/loop.h"
#include "runner/progress.h"
#include "runner/spec_guard.h"
#include "store/store.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const char run_usage[] =
	"Usage: sandrun [run] [OPTIONS] PATH...\n"
	"Analyze each file in its own sandbox and record every attempt in a database.\n"
	"Run the same command again to resume an interrupted batch.\n\n"
	"Inputs:\n"
	"  -r, --recursive         analyze the regular files under directories\n"
	"      --files-from FILE   read more paths from FILE, one per line ('-': stdin;\n"
	"                          a PATH of '-' is the same)\n"
	"  -0, --null              paths in --files-from end with NUL, not newline\n"
	"      --include GLOB      -r: analyze what GLOB matches, even if not audio by\n"
	"                          the default below (repeatable)\n"
	"      --exclude GLOB      -r: skip what GLOB matches (repeatable; the first\n"
	"                          --include/--exclude that matches decides; GLOB with\n"
	"                          a '/' matches the path below the -r root, else the\n"
	"                          name; 'DIR/' matches directories only)\n"
	"      --follow-symlinks   in a -r walk, follow links to regular files inside\n"
	"                          the -r root (see sandrun(1)); a named link is never\n"
	"                          followed\n"
	"      --force             analyze again even files already done or failed\n"
	"      --new-spec          the job spec changed on purpose: analyze again the\n"
	"                          items done with another one (without it, such a run\n"
	"                          stops and says what changed; limits, -j and retries\n"
	"                          are not part of the spec)\n\n";

/* What run and watch share. */
static const char run_common_usage[] =
	"Run:\n"
	"      --db PATH           the database (default ./sandrun.db)\n"
	"  -j, --jobs N            at most N files at once (default: number of CPUs)\n"
	"      --policy NAME|FILE  seccomp policy (default: analyzer; default with --cmd)\n"
	"      --max-output SIZE   largest result a job may print (default 16M)\n"
	"      --retries N         retries of an item whose attempt failed in a retried\n"
	"                          outcome (default 2)\n"
	"      --retry-on LIST     comma-separated outcomes to retry, or default, all,\n"
	"                          none (default: runner_lost,setup_error; add oom or\n"
	"                          timeout with e.g. --retry-on default,timeout)\n"
	"      --halt [now,]N[%]   after N failed files (or N% of the finished ones, once\n"
	"                          10 have finished) start nothing new; now: also stop\n"
	"                          the running jobs (put back, not counted); exit 1\n"
	"      --memfree SIZE      start no job while MemAvailable is below SIZE\n"
	"      --grace TIME        on SIGINT/SIGTERM/SIGHUP, let running jobs finish this\n"
	"                          long (default 10 s; 0: stop them at once), then stop them\n"
	"      --lease-timeout TIME  PostgreSQL: a runner not heard from for this long is\n"
	"                          lost and other runners take its files back (default\n"
	"                          60 s; give every runner the same); ignored on SQLite\n"
	"      --fingerprint       the built-in analyzer also computes each file's\n"
	"                          Chromaprint fingerprint (needs sandrun-decode; part\n"
	"                          of the job spec)\n"
	"      --spectral          the built-in analyzer also computes a spectral summary\n"
	"                          defined as librosa's (rolloff, flatness, MFCC, ...;\n"
	"                          part of the job spec; about doubles its time)\n"
	"      --json              JSON Lines events on stdout (schema: sandrun(1))\n"
	"      --json-interval TIME  with --json, a progress event this often (default\n"
	"                          5s; 0: none)\n"
	"  -n, --dry-run           print what would be queued and the job spec (JSON\n"
	"                          with --json); run nothing, change no database\n"
	"  -q, --quiet             no status line and no notices: only errors (each\n"
	"                          failed file) and the summary on stderr\n"
	"  -v, --verbose           also one line per finished file on stderr\n"
	"\nCustom analyzer (see docs/cmd.md):\n"
	"      --cmd 'CMD ARGS {}'  run CMD per file instead of the built-in analyzer;\n"
	"                          {} is the file at /input/NAME, else it is on stdin\n"
	"      --output json|text|blob  how CMD's stdout is stored (default json)\n"
	"      --ok-codes LIST     exit statuses besides 0 that count as ok (1,3)\n"
	"      --env NAME[=VALUE]  pass one more variable (repeatable)\n"
	"      --bind-ro PATH      make PATH visible, read-only (repeatable)\n"
	"      --bind PATH         make PATH visible and writable (repeatable)\n"
	"      --etc NAME          show /etc/NAME too (repeatable; see sandrun(1) for\n"
	"                          the entries every job sees)\n\n"
	"  -h, --help              show this help\n\n";

/* "run " or "watch ": the command, for messages. */
static const char *cmd_name = "run ";

static const char run_signals_help[] =
	"\nSignals: SIGINT/SIGTERM/SIGHUP start nothing new and stop after the grace\n"
	"period (a second one stops at once); interrupted files go back to pending\n"
	"without spending an attempt. SIGUSR1 pauses/resumes every job (a stop resumes\n"
	"paused jobs first). SIGUSR2 prints a status line.\n"
	"Exit status: 0 all ok, 1 some failed (or left pending by another runner),\n"
	"5 none failed but some damaged (analyzed; 'sandrun list --outcome damaged'),\n"
	"2 usage, 3 isolation not available, 4 database error, 129/130/143\n"
	"interrupted by SIGHUP/SIGINT/SIGTERM.\n";

enum {
	OPT_DB = OPT_LIMITS_END, OPT_FILES_FROM, OPT_RETRIES, OPT_RETRY_ON, OPT_FORCE,
	OPT_MEMFREE, OPT_GRACE, OPT_MAX_OUTPUT, OPT_CMD, OPT_OUTPUT, OPT_OK_CODES, OPT_ENV,
	OPT_INCLUDE, OPT_EXCLUDE, OPT_FOLLOW, OPT_NEW_SPEC, OPT_HALT, OPT_LEASE_TIMEOUT,
	OPT_JSON_INTERVAL, OPT_SETTLE, OPT_FINGERPRINT, OPT_SPECTRAL,
};

/* The inputs' options and --new-spec (more_options()). */
#define MORE_LONGOPTS                                                  \
	{ "include", required_argument, NULL, OPT_INCLUDE },           \
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },           \
	{ "follow-symlinks", optional_argument, NULL, OPT_FOLLOW },    \
	{ "new-spec", no_argument, NULL, OPT_NEW_SPEC },               \
	{ "lease-timeout", required_argument, NULL, OPT_LEASE_TIMEOUT }, \
	{ "json-interval", required_argument, NULL, OPT_JSON_INTERVAL }, \
	{ "dry-run", no_argument, NULL, 'n' },                        \
	{ "settle", required_argument, NULL, OPT_SETTLE }

static int default_jobs(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* The --cmd group (--cmd, --output, --ok-codes, --env, --bind-ro,
 * --bind): 1 when opt is one of them and was taken, 0 when it is not one,
 * -1 on a bad value (message printed). */
static int cmd_option(int opt, const char *arg, struct run_opts *o)
{
	switch (opt) {
	case OPT_CMD: o->cmd = arg; return 1;
	case OPT_FINGERPRINT: o->fingerprint = true; return 1;
	case OPT_SPECTRAL: o->spectral = true; return 1;
	case OPT_OUTPUT: o->output = arg; return 1;
	case OPT_OK_CODES: o->ok_codes = arg; return 1;
	case OPT_ENV:
		if (o->nenv == CMDSPEC_MAX_ENV)
			return sr_err("too many --env options (at most %d)", CMDSPEC_MAX_ENV), -1;
		o->env[o->nenv++] = arg;
		return 1;
	case OPT_BIND_RO:
	case OPT_BIND:
		if (o->nbinds == MAX_CMD_BINDS)
			return sr_err("too many --bind/--bind-ro options (at most %d)", MAX_CMD_BINDS), -1;
		o->bind_writable[o->nbinds] = opt == OPT_BIND;
		o->binds[o->nbinds++] = arg;
		return 1;
	default:
		return 0;
	}
}

/* --halt [now,]N or [now,]N%: 0 or -1 (message printed). */
static int parse_halt(const char *arg, struct run_opts *o)
{
	const char *p = arg;
	o->halt_now = strncmp(p, "now,", 4) == 0;
	if (o->halt_now)
		p += 4;
	else if (strncmp(p, "soon,", 5) == 0)
		p += 5;
	char num[16];
	size_t n = strlen(p);
	bool pct = n > 0 && p[n - 1] == '%';
	int v = 0;
	if (pct)
		n--;
	if (n == 0 || n >= sizeof num || (memcpy(num, p, n), num[n] = '\0', sr_parse_int(num, 1, pct ? 100 : INT_MAX, &v)) < 0)
		return sr_usage_error(cmd_name, "invalid value '%s' for --halt: expected N (stop after N failed files), "
				      "N%% (once N%% of the finished files failed) or now,N / now,N%% (stop the "
				      "running jobs too)", arg), -1;
	o->halt_fails = pct ? 0 : v;
	o->halt_percent = pct ? v : 0;
	return 0;
}

/* How the batch goes on after failures (--halt): 1 taken,
 * 0 not one of them, -1 bad value (message printed). */
static int batch_option(int opt, const char *arg, struct run_opts *o)
{
	switch (opt) {
	case OPT_HALT:
		return parse_halt(arg, o) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

/* After a message printed by a shared option parser: the hint, -1. */
static int usage_hint(void)
{
	fprintf(stderr, "Try 'sandrun %s--help' for more information.\n", cmd_name);
	return -1;
}

static void print_help(bool watch)
{
	fputs(watch ? watch_usage : run_usage, stdout);
	fputs(run_common_usage, stdout);
	fputs(sr_limit_help, stdout);
	fputs("\n", stdout);
	fputs(input_filter_help, stdout);
	fputs(watch ? watch_signals_help : run_signals_help, stdout);
}

/* --lease-timeout: a duration of whole seconds (rounded up), 1 s to a day;
 * 0 in o: the store's default. Only PostgreSQL has lease timeouts. */
static int lease_option(const char *arg, struct run_opts *o)
{
	uint64_t ms = 0;
	if (sr_parse_duration_option("--lease-timeout", arg, false, &ms) < 0)
		return -1;
	if (ms > 86400000)
		return sr_err("invalid value '%s' for --lease-timeout: at most a day (24h)", arg), -1;
	o->lease_timeout_s = (int)((ms + 999) / 1000);
	return 1;
}

/* --include, --exclude, --follow-symlinks, --new-spec, --lease-timeout, then
 * the limits: 1 taken, 0 not one of these, -1 a usage error (its message
 * printed). */
static int more_options(int opt, const char *arg, struct run_opts *o)
{
	switch (opt) {
	case OPT_LEASE_TIMEOUT:
		return lease_option(arg, o);
	case OPT_JSON_INTERVAL: /* 0: no progress events */
		return sr_parse_duration_option("--json-interval", arg, true, &o->json_interval_ms) < 0 ? -1 : 1;
	case 'n':
		o->dry_run = true;
		return 1;
	case OPT_NEW_SPEC:
		o->new_spec = true;
		return 1;
	case OPT_INCLUDE:
	case OPT_EXCLUDE: {
		int r = input_filter_add(&o->filter, arg, opt == OPT_INCLUDE);
		if (r == -E2BIG)
			return sr_err("too many --include/--exclude options (at most %d)",
					      INPUT_FILTER_MAX_PATTERNS), -1;
		if (r < 0)
			return sr_err("invalid pattern '%s' for --%s", arg,
					      opt == OPT_INCLUDE ? "include" : "exclude"), -1;
		return 1;
	}
	case OPT_FOLLOW:
		/* "any" (targets outside the tree) was withdrawn: docs/security.md */
		if (!arg || strcmp(arg, "tree") == 0)
			o->follow = INPUT_FOLLOW_TREE;
		else
			return sr_err("invalid value '%s' for --follow-symlinks: it follows links inside the -r root only (=tree)",
					      arg), -1;
		return 1;
	default:
		return sr_apply_limit_option(opt, arg, &o->limits);
	}
}

/* What watch takes and refuses beyond run's options. 0 or -1 (message out). */
static int watch_checks(int opt, const char *arg, struct run_opts *o)
{
	if (!o->watch && opt == OPT_SETTLE)
		return sr_usage_error(cmd_name, "--settle applies to 'sandrun watch'"), -1;
	if (!o->watch)
		return 0;
	switch (opt) {
	case OPT_SETTLE:
		return sr_parse_duration_option("--settle", arg, true, &o->settle_ms) < 0 ? usage_hint() : 0;
	case OPT_FILES_FROM:
	case '0':
		return sr_usage_error(cmd_name, "watch takes directories, not lists (--files-from, -0)"), -1;
	case 'n':
		/* A drop folder's queue is what arrives later: nothing to preview. */
		return sr_usage_error(cmd_name, "--dry-run applies to run, not watch"), -1;
	case OPT_FORCE:
		/* Every walk would make every done file pending again. */
		return sr_usage_error(cmd_name, "--force applies to run: watch would analyze every file again at "
				      "every rescan (use 'sandrun retry' for failed files)"), -1;
	default:
		return 0;
	}
}

static int parse_options(int argc, char **argv, struct run_opts *o, bool watch)
{
	static const struct option longopts[] = {
		SR_LIMIT_LONGOPTS, MORE_LONGOPTS,
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "db", required_argument, NULL, OPT_DB },
		{ "files-from", required_argument, NULL, OPT_FILES_FROM },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "retry-on", required_argument, NULL, OPT_RETRY_ON },
		{ "halt", required_argument, NULL, OPT_HALT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "memfree", required_argument, NULL, OPT_MEMFREE },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "max-output", required_argument, NULL, OPT_MAX_OUTPUT },
		{ "cmd", required_argument, NULL, OPT_CMD },
		{ "fingerprint", no_argument, NULL, OPT_FINGERPRINT },
		{ "spectral", no_argument, NULL, OPT_SPECTRAL },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "ok-codes", required_argument, NULL, OPT_OK_CODES },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "bind-ro", required_argument, NULL, OPT_BIND_RO },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "etc", required_argument, NULL, OPT_ETC },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "null", no_argument, NULL, '0' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct run_opts){
		.db = "sandrun.db", .jobs = default_jobs(), .retries = RETRY_DEFAULT_RETRIES,
		.retry_mask = RETRY_DEFAULT_MASK, .grace_ms = 10000, .max_output = JOBSPEC_DEFAULT_MAX_OUTPUT,
		.json_interval_ms = 5000, .watch = watch, .recursive = watch,
	};
	sbx_limits_defaults(&o->limits);
	int opt;
	char err[512];
	optind = 1;
	opterr = 0; /* our own messages, one style */
	while ((opt = getopt_long(argc, argv, ":hnqvr0j:", longopts, NULL)) != -1) {
		if (watch_checks(opt, optarg, o) < 0)
			return -1;
		if (opt == OPT_SETTLE)
			continue;
		int r = more_options(opt, optarg, o);
		if (r == 0)
			r = cmd_option(opt, optarg, o);
		if (r == 0)
			r = batch_option(opt, optarg, o);
		if (r < 0) /* the message is printed; the hint is ours */
			return usage_hint();
		if (r > 0)
			continue;
		switch (opt) {
		case 'h':
			print_help(o->watch);
			return 1;
		case 'q': o->verbosity = PROGRESS_QUIET; break;
		case 'v': o->verbosity = PROGRESS_VERBOSE; break;
		case 'r': o->recursive = true; break;
		case '0': o->nul = true; break;
		case 'j':
			if (sr_parse_int(optarg, 1, MAX_JOBS, &o->jobs) < 0)
				return sr_usage_error(cmd_name, "invalid value '%s' for -j/--jobs: expected a whole number from 1 to %d",
						      optarg, MAX_JOBS), -1;
			break;
		case OPT_POLICY: o->policy = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_DB:
			if (!*optarg)
				return sr_usage_error(cmd_name, "--db needs a path"), -1;
			o->db = optarg;
			break;
		case OPT_FILES_FROM: o->files_from = optarg; break;
		case OPT_ETC: {
			if (o->netc == SBX_MAX_ETC_EXTRA)
				return sr_usage_error(cmd_name, "too many --etc options (at most %d)", SBX_MAX_ETC_EXTRA), -1;
			struct sbx_err e = SBX_ERR_INIT;
			int er = sbx_etc_name_check(optarg, &e);
			if (er < 0)
				return sr_usage_error(cmd_name, "%s", sbx_err_text(&e, er)), -1;
			o->etc[o->netc++] = optarg;
			break;
		}
		case OPT_FORCE: o->force = true; break;
		case OPT_RETRIES:
			if (sr_parse_int(optarg, 0, MAX_RETRIES, &o->retries) < 0)
				return sr_usage_error(cmd_name, "invalid value '%s' for --retries: expected a whole number from 0 to %d",
						      optarg, MAX_RETRIES), -1;
			break;
		case OPT_RETRY_ON:
			if (retry_parse_outcomes(optarg, &o->retry_mask, err, sizeof err) < 0)
				return sr_usage_error(cmd_name, "%s", err), -1;
			break;
		case OPT_MEMFREE:
		case OPT_MAX_OUTPUT: {
			uint64_t *dst = opt == OPT_MEMFREE ? &o->memfree : &o->max_output;
			if (sbx_parse_size(optarg, dst) < 0)
				return sr_usage_error(cmd_name, "invalid value '%s' for %s: expected a size such as 512M or 6G",
						      optarg, opt == OPT_MEMFREE ? "--memfree" : "--max-output"), -1;
			break;
		}
		case OPT_GRACE: /* 0 is allowed: stop running jobs at the first signal */
			if (sr_parse_duration_option("--grace", optarg, true, &o->grace_ms) < 0)
				return usage_hint();
			break;
		case ':':
			return sr_usage_error(cmd_name, "option '%s' needs a value", argv[optind - 1]), -1;
		default:
			if (optopt && optopt < 0x100)
				return sr_usage_error(cmd_name, "invalid option '-%c'", optopt), -1;
			return sr_usage_error(cmd_name, "invalid option '%s'", argv[optind - 1]), -1;
		}
	}
	if (!o->cmd && (o->output || o->ok_codes || o->nenv || o->nbinds))
		return sr_usage_error(cmd_name, "--output, --ok-codes, --env, --bind-ro and --bind apply to --cmd; give --cmd too"), -1;
	if (o->cmd && (o->fingerprint || o->spectral))
		return sr_usage_error(cmd_name, "--fingerprint and --spectral are the built-in analyzer's; a --cmd analyzer makes its own"), -1;
	if (o->nul && !o->files_from)
		return sr_usage_error(cmd_name, "-0 applies to --files-from lists; give --files-from too"), -1;
	if (optind >= argc && !o->files_from)
		return sr_usage_error(cmd_name, watch ? "no directory given" : "no files given"), -1;
	return 0;
}

/* A PATH of '-' is the list on stdin, as --files-from - is. The '-'s go
 * after the paths (the run's recorded arguments keep them) and o->npaths
 * counts the paths. 0 or -1 (message printed). */
static int stdin_operand(int argc, char **argv, struct run_opts *o)
{
	int out = optind;
	for (int i = optind; i < argc; i++) {
		char *arg = argv[i];
		if (strcmp(arg, "-") != 0) {
			memmove(argv + out + 1, argv + out, (size_t)(i - out) * sizeof *argv);
			argv[out++] = arg;
			continue;
		}
		if (o->watch)
			return sr_usage_error(cmd_name, "watch takes directories, not a list on stdin ('-')"), -1;
		if (o->files_from && strcmp(o->files_from, "-") != 0)
			return sr_usage_error(cmd_name, "'-' reads the list from stdin; --files-from %s reads another: give one",
					      o->files_from), -1;
		o->files_from = "-";
	}
	o->npaths = out - optind;
	return 0;
}

/* After the options: the filter's rules (docs/runner.md, "Filters"). */
static int input_checks(struct run_opts *o)
{
	if (o->filter.npatterns && !o->recursive)
		return sr_usage_error(cmd_name, "--include and --exclude filter the files of a -r walk; give -r too"), -1;
	/* Only the built-in analyzer is known to want audio alone. */
	o->filter.not_audio_default = !o->cmd;
	return 0;
}

/* ---- the run --------------------------------------------------------- */

static char *argv_json(int argc, char **argv)
{
	json_t *a = json_array();
	json_array_append_new(a, json_string("sandrun"));
	for (int i = 0; i < argc; i++) {
		/* The runs table is readable by whoever may query the store: a
		 * PostgreSQL password (given, or from SANDRUN_DB) stays out. */
		bool db = i > 0 && strcmp(argv[i - 1], "--db") == 0;
		const char *v = strncmp(argv[i], "--db=", 5) == 0 ? argv[i] + 5 : db ? argv[i] : NULL;
		char *red = v ? store_redact_uri(v) : NULL, *both = NULL;
		if (red && v != argv[i] && asprintf(&both, "--db=%s", red) < 0)
			both = NULL;
		json_t *s = json_string(both ? both : red ? red : v ? "?" : argv[i]);
		free(red);
		free(both);
		json_array_append_new(a, s ? s : json_string("?"));
	}
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

/* The open_run() failure message names what is missing, from the probe. */
static int isolation_error(const char *detail)
{
	struct sbx_host_report rep;
	if (sbx_host_probe(&rep) == 0 && rep.missing[0])
		sr_err("cannot enforce the sandbox on this host: %s; missing: %s (see 'sandrun check')",
		       detail, rep.missing);
	else
		sr_err("cannot enforce the sandbox on this host: %s (see 'sandrun check')", detail);
	return SR_EXIT_ISOLATION;
}

static void fill_summary(const struct store_batch_counts *bc, const struct loop_result *lr,
			 const struct progress_counts *pc, const struct inputs_stats *is,
			 struct progress_summary *s)
{
	*s = (struct progress_summary){
		.total = bc->total, .ok = bc->done - bc->damaged, .damaged = bc->damaged,
		.failed = bc->failed, .pending = bc->pending,
		.running = bc->running, .finished = lr->finished, .retried = pc->retried,
		.released = pc->released, .skipped_entries = (int64_t)is->skipped, .elapsed_s = lr->elapsed_s,
		.interrupted_by = lr->signal == SIGINT ? "SIGINT" : lr->signal == SIGTERM ? "SIGTERM"
				: lr->signal == SIGHUP ? "SIGHUP" : lr->halted ? "--halt" : NULL,
	};
	memcpy(s->failed_by, bc->failed_by, sizeof s->failed_by);
	/* The loop ends when nothing of this spec is left to claim: pending
	 * batch items at a normal end are another runner's (docs/runner.md). */
	s->left_pending = bc->pending > 0 && !lr->signal && !lr->halted && !lr->fatal;
	s->nothing_to_do = bc->total > 0 && !lr->finished && !pc->released && !pc->input_errors && !bc->pending &&
			   !bc->running && !lr->signal && !lr->fatal;
	size_t k = 0;
	for (int i = 1; i < INPUT_SKIP_COUNT && k < PROGRESS_SKIP_KINDS; i++)
		if (is->skipped_by[i])
			s->skipped_by[k++] = (struct progress_skip){ inputs_skip_name((enum input_skip)i),
								      (int64_t)is->skipped_by[i] };
}

static int exit_status_of(const struct loop_result *lr, const struct store_batch_counts *bc)
{
	if (lr->fatal)
		return lr->fatal;
	if (lr->signal)
		return lr->signal == SIGTERM ? SR_EXIT_INTERRUPTED_TERM
		       : lr->signal == SIGHUP ? SR_EXIT_INTERRUPTED_HUP : SR_EXIT_INTERRUPTED_INT;
	/* Files left pending are not ok either: a script must not take the
	 * batch for finished (two runners with different specs, issue 15). */
	if (bc->failed > 0 || lr->failed > 0 || (bc->pending > 0 && !lr->halted))
		return SR_EXIT_SOME_FAILED;
	/* Every file analyzed, some of them damaged: told apart from both
	 * "all ok" and "some failed" (docs/runner.md). */
	return bc->damaged > 0 ? SR_EXIT_DAMAGED : SR_EXIT_OK;
}

/* Everything after the store is open. */
static int run_batch(struct store *st, struct sbx_run *sbx, const struct jobspec *js,
		     struct progress *progress, const struct run_opts *o, int sigfd, int argc, char **argv)
{
	/* Before the first write: finished work of another spec is not redone unasked. */
	int r = spec_guard_check(st, js, o->force || o->new_spec);
	if (r != 0)
		return r;
	char *args = argv_json(argc, argv);
	int64_t run_id = 0;
	r = store_run_begin(st, SANDRUN_VERSION, args, js->run_description, &run_id);
	free(args);
	if (r < 0) {
		sr_err("%s", store_errmsg(st));
		return SR_EXIT_STORE;
	}
	progress_begin(progress, run_id, SANDRUN_VERSION, js->key, o->jobs);
	int reclaimed = 0;
	if (store_reclaim_dead(st, retry_max_attempts("runner_lost", o->retries, o->retry_mask), &reclaimed) < 0) {
		sr_err("%s", store_errmsg(st));
		return SR_EXIT_STORE;
	}
	struct collect *c = calloc(1, sizeof *c);
	if (!c)
		return SR_EXIT_STORE;
	*c = (struct collect){ .st = st, .js = js, .progress = progress, .opts = o, .run_id = run_id, .list_fd = -1 };
	struct loop_result lr = { 0 };
	/* watch: the directories are not a walk of the feed's own but the
	 * drop folders' (dropdir.c), which queue through c. */
	struct dropdir *dd = NULL;
	c->requeue = o->watch;
	progress_counts(progress)->watching = o->watch;
	int status = run_queue_open(c, argv + optind, o->watch ? 0 : o->npaths);
	if (status == 0 && o->watch)
		status = dropdir_open(c, argv + optind, o->npaths, o->settle_ms, &dd);
	if (status == 0) {
		enum loop_feed (*step)(void *, int *) = dd ? dropdir_step : run_queue_step;
		void *step_ctx = dd ? (void *)dd : (void *)c;
		/* The first step before the loop: a small batch is queued
		 * whole here; a large one goes on from the loop, its first job
		 * started after one chunk rather than after the whole list. */
		enum loop_feed first = step(step_ctx, &status); /* STOP: status set, message out */
		if (first != LOOP_FEED_STOP) {
			struct loop_config cfg = {
				.st = st, .run_id = run_id, .sbx = sbx, .js = js, .progress = progress,
				.sigfd = sigfd, .jobs = o->jobs, .max_retries = o->retries,
				.retry_mask = o->retry_mask,
				.halt_fails = o->halt_fails, .halt_percent = o->halt_percent, .halt_now = o->halt_now,
				.memfree_bytes = o->memfree, .grace_ms = o->grace_ms,
				.lease_ms = store_is_postgresql(o->db) ? o->lease_timeout_s * 1000ULL : 0,
				.feed = first == LOOP_FEED_DONE ? NULL : step, .feed_ctx = step_ctx,
				.feed_fd = dd ? dropdir_fd(dd) : c->list_fd,
			};
			if ((r = loop_run(&cfg, &lr)) < 0) {
				sr_err("the event loop failed: %s", strerror(-r));
				lr.fatal = SR_EXIT_STORE;
			}
		}
	}
	struct inputs_stats stats = c->stats;
	dropdir_close(dd);
	run_queue_close(c);

	struct store_batch_counts end = { 0 };
	if (store_batch_counts(st, js->key, &end) < 0) {
		sr_err("%s", store_errmsg(st));
		if (!status && !lr.fatal)
			lr.fatal = SR_EXIT_STORE;
	}
	if (status == 0)
		status = exit_status_of(&lr, &end);
	/* watch ends only by a signal: that is its normal end, and a file
	 * that failed is the store's to tell, not the service's status.
	 * --halt is the exception: it stopped for failures (1). */
	if (o->watch && !lr.fatal && !lr.halted &&
	    (lr.signal || status == SR_EXIT_SOME_FAILED || status == SR_EXIT_DAMAGED))
		status = SR_EXIT_OK;
	struct progress_summary sum;
	fill_summary(&end, &lr, progress_counts(progress), &stats, &sum);
	sum.watch = o->watch;
	sum.exit_status = status;
	progress_summary(progress, &sum);
	struct progress_stamp stamp = { .run_id = run_id, .ts_ms = (int64_t)sr_wall_ms() };
	char *sum_json = progress_event_summary(&stamp, &sum);
	/* "completed" only when the batch ran to its end. */
	bool interrupted = (status != SR_EXIT_OK && status != SR_EXIT_SOME_FAILED && status != SR_EXIT_DAMAGED) ||
			   lr.halted;
	if (store_run_end(st, run_id, interrupted ? "interrupted" : "completed", sum_json) < 0) {
		sr_err("%s", store_errmsg(st));
		if (status == SR_EXIT_OK || status == SR_EXIT_SOME_FAILED || status == SR_EXIT_DAMAGED)
			status = SR_EXIT_STORE;
	}
	free(sum_json);
	return status;
}

/* Enough descriptors for -j jobs (five each) whatever the shell's soft limit. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int cmd_run(int argc, char **argv)
{
	return run_command(argc, argv, false);
}

int run_command(int argc, char **argv, bool watch)
{
	struct run_opts o;
	cmd_name = watch ? "watch " : "run ";
	int r = parse_options(argc, argv, &o, watch);
	if (r == 0)
		r = input_checks(&o);
	if (r != 0)
		return r > 0 ? SR_EXIT_OK : SR_EXIT_USAGE;
	if (stdin_operand(argc, argv, &o) < 0)
		return SR_EXIT_USAGE;
	sr_warn_limits(&o.limits, o.cmd ? SR_MIN_MEM_COMMAND : SR_MIN_MEM_ANALYZER,
		       o.cmd ? "a command in its sandbox" : "the built-in analyzer");
	raise_nofile();

	/* Blocked before any child exists: the loop reads them from a
	 * signalfd, and a sandboxed child resets its mask before it runs
	 * anything. SIGPIPE is blocked, not ignored (an ignored disposition
	 * would survive execve): a closed stdout is an EPIPE to handle. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	sigaddset(&mask, SIGPIPE);
	/* watch's writer check takes a read lease for an instant: the lease
	 * break a writer causes meanwhile must not kill us (SIGIO's default). */
	sigaddset(&mask, SIGIO);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (sigfd < 0) {
		sr_err("signalfd: %s", strerror(errno));
		return SR_EXIT_ISOLATION;
	}

	char err[1024];
	struct jobspec *js = NULL;
	struct jobspec_opts jo = {
		.policy = o.policy, .policy_dir = sr_policy_dir(), .program = sr_analyzer_path(),
		.limits = o.limits, .max_output = o.max_output,
		.etc_extra = o.etc, .netc_extra = o.netc, .fingerprint = o.fingerprint,
		.spectral = o.spectral,
	};
	struct cmdspec_opts co = {
		.command = o.cmd, .output = o.output, .ok_codes = o.ok_codes,
		.env = o.env, .nenv = o.nenv, .bind_paths = o.binds, .bind_writable = o.bind_writable,
		.nbinds = o.nbinds,
	};
	r = o.cmd ? jobspec_open_command(&jo, &co, &js, err, sizeof err)
		  : jobspec_open_analyzer(&jo, &js, err, sizeof err);
	if (r < 0) {
		sr_err("%s", err);
		/* A name or file that is not there or not a policy is the
		 * user's to fix; a policy this host cannot load is isolation. */
		return r == -ENOENT || r == -EACCES || r == -EINVAL || r == -ENOTDIR ? SR_EXIT_USAGE
										       : SR_EXIT_ISOLATION;
	}
	if (o.dry_run) { /* before the sandbox run and the store: nothing made */
		r = dry_run(&o, js, argv + optind, o.npaths);
		jobspec_free(js);
		return r;
	}
	struct sbx_run *sbx = NULL;
	struct sbx_err serr = SBX_ERR_INIT;
	if ((r = sbx_run_open(&(struct sbx_run_opts){ .name_hint = watch ? "watch" : "run" }, &sbx, &serr)) < 0) {
		jobspec_free(js);
		return isolation_error(sbx_err_text(&serr, r));
	}
	struct store *st = NULL;
	if (store_open(o.db, STORE_RW, &st, err, sizeof err) < 0 ||
	    (o.lease_timeout_s && store_set_lease_timeout(st, o.lease_timeout_s) < 0)) {
		sr_err("%s", st ? store_errmsg(st) : err);
		store_close(st);
		sbx_run_close(sbx);
		jobspec_free(js);
		return SR_EXIT_STORE;
	}
	struct progress *progress = NULL;
	struct progress_opts po = {
		.live = isatty(STDERR_FILENO) && o.verbosity != PROGRESS_QUIET, .journal = progress_stderr_is_journal(),
		.verbosity = o.verbosity, .json = o.json, .json_interval_ms = o.json_interval_ms,
		.events = stdout, .status = stderr,
	};
	int status;
	if (progress_new(&po, &progress) < 0)
		status = SR_EXIT_STORE;
	else
		status = run_batch(st, sbx, js, progress, &o, sigfd, argc, argv);
	progress_free(progress);
	store_close(st);
	sbx_run_close(sbx);
	jobspec_free(js);
	return status;
}
