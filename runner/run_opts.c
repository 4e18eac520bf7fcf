/* runner/run_opts.c — the options of `sandrun run`, shared with `sandrun
 * serve` (one table: serve takes every job and sandbox option of run, and
 * adds its own through struct run_opts_extra). */
#include "runner/run_opts.h"
#include "runner/common.h"
#include "lib/fd.h"

#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "run ", "watch " or "serve ": the command whose --help a usage error names. */
static const char *usage_cmd = "run ";

enum {
	OPT_DB = OPT_LIMITS_END, OPT_FILES_FROM, OPT_RETRIES, OPT_RETRY_ON, OPT_FORCE,
	OPT_MEMFREE, OPT_GRACE, OPT_MAX_OUTPUT, OPT_CMD, OPT_OUTPUT, OPT_OK_CODES, OPT_ENV,
	OPT_INCLUDE, OPT_EXCLUDE, OPT_FOLLOW, OPT_NEW_SPEC, OPT_HALT, OPT_LEASE_TIMEOUT,
	OPT_JSON_INTERVAL, OPT_SETTLE, OPT_MAX_DIRS, OPT_FINGERPRINT, OPT_SPECTRAL, OPT_RETRY_DELAY,
};

/* The inputs' options and --new-spec (more_options()). */
#define MORE_LONGOPTS                                                  \
	{ "include", required_argument, NULL, OPT_INCLUDE },           \
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },           \
	{ "follow-symlinks", optional_argument, NULL, OPT_FOLLOW },    \
	{ "new-spec", no_argument, NULL, OPT_NEW_SPEC },               \
	{ "lease-timeout", required_argument, NULL, OPT_LEASE_TIMEOUT }, \
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },   \
	{ "json-interval", required_argument, NULL, OPT_JSON_INTERVAL }, \
	{ "dry-run", no_argument, NULL, 'n' },                        \
	{ "settle", required_argument, NULL, OPT_SETTLE },             \
	{ "max-dirs", required_argument, NULL, OPT_MAX_DIRS }

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
		return sr_usage_error(usage_cmd, "invalid value '%s' for --halt: expected N (stop after N failed files), "
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
	fprintf(stderr, "Try 'sandrun %s--help' for more information.\n", usage_cmd);
	return -1;
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

/* --retry-delay: 0 (retry at once, the default) up to RETRY_DELAY_MAX_MS,
 * the cap of the doubled waits too (store/retry.c). */
static int retry_delay_option(const char *arg, struct run_opts *o)
{
	uint64_t ms = 0;
	if (sr_parse_duration_option("--retry-delay", arg, true, &ms) < 0)
		return -1;
	if (ms > (uint64_t)RETRY_DELAY_MAX_MS)
		return sr_err("invalid value '%s' for --retry-delay: at most an hour (1h)", arg), -1;
	o->retry_delay_ms = ms;
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
	case OPT_RETRY_DELAY:
		return retry_delay_option(arg, o);
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

/* What watch takes and refuses beyond run's options, and what only run
 * takes. 0 or -1 (message out). */
static int watch_checks(int opt, const char *arg, struct run_opts *o)
{
	if (!o->watch && opt == OPT_SETTLE)
		return sr_usage_error(usage_cmd, "--settle applies to 'sandrun watch'"), -1;
	if (!o->watch && opt == OPT_MAX_DIRS)
		return sr_usage_error(usage_cmd, "--max-dirs applies to 'sandrun watch'"), -1;
	if (opt == 'n' && strcmp(usage_cmd, "run ") != 0)
		/* A drop folder's or a socket's queue is what arrives later:
		 * nothing to preview. */
		return sr_usage_error(usage_cmd, "--dry-run applies to run"), -1;
	if (!o->watch)
		return 0;
	switch (opt) {
	case OPT_SETTLE:
		return sr_parse_duration_option("--settle", arg, true, &o->settle_ms) < 0 ? usage_hint() : 0;
	case OPT_MAX_DIRS:
		if (sr_parse_int(arg, 1, 10000000, &o->max_dirs) < 0)
			return sr_usage_error(usage_cmd, "invalid value '%s' for --max-dirs: expected a whole number "
					      "from 1 to 10000000", arg), -1;
		return 0;
	case OPT_FILES_FROM:
	case '0':
		return sr_usage_error(usage_cmd, "watch takes directories, not lists (--files-from, -0)"), -1;
	case OPT_FORCE:
		/* Every walk would make every done file pending again. */
		return sr_usage_error(usage_cmd, "--force applies to run: watch would analyze every file again at "
				      "every rescan (use 'sandrun retry' for failed files)"), -1;
	default:
		return 0;
	}
}

int run_opts_parse(int argc, char **argv, struct run_opts *o, const struct run_opts_extra *x)
{
	static const struct option run_longopts[] = {
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
	/* run's table, then the command's own (serve's) */
	size_t nrun = SR_ARRAY_LEN(run_longopts) - 1, nx = 0;
	while (x->longopts && x->longopts[nx].name)
		nx++;
	_cleanup_free_ struct option *longopts = calloc(nrun + nx + 1, sizeof *longopts);
	if (!longopts)
		return sr_err("out of memory"), -1;
	memcpy(longopts, run_longopts, nrun * sizeof *longopts);
	if (nx)
		memcpy(longopts + nrun, x->longopts, nx * sizeof *longopts);
	usage_cmd = x->usage_cmd;
	*o = (struct run_opts){
		.db = "sandrun.db", .jobs = default_jobs(), .retries = RETRY_DEFAULT_RETRIES,
		.retry_mask = RETRY_DEFAULT_MASK, .grace_ms = 10000, .max_output = JOBSPEC_DEFAULT_MAX_OUTPUT,
		.json_interval_ms = 5000, .watch = x->watch, .recursive = x->watch,
		.max_dirs = RUN_DEFAULT_MAX_DIRS,
	};
	sbx_limits_defaults(&o->limits);
	int opt;
	char err[512];
	optind = 1;
	opterr = 0; /* our own messages, one style */
	while ((opt = getopt_long(argc, argv, ":hnqvr0j:", longopts, NULL)) != -1) {
		if (watch_checks(opt, optarg, o) < 0)
			return -1;
		if (opt == OPT_SETTLE || opt == OPT_MAX_DIRS)
			continue;
		int r = x->take && opt >= RUN_OPTS_EXTRA_FIRST ? x->take(opt, optarg, x->ctx) : 0;
		if (r == 0)
			r = more_options(opt, optarg, o);
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
			x->help();
			return 1;
		case 'q': o->verbosity = PROGRESS_QUIET; break;
		case 'v': o->verbosity = PROGRESS_VERBOSE; break;
		case 'r': o->recursive = true; break;
		case '0': o->nul = true; break;
		case 'j':
			if (sr_parse_int(optarg, 1, MAX_JOBS, &o->jobs) < 0)
				return sr_usage_error(usage_cmd, "invalid value '%s' for -j/--jobs: expected a whole number from 1 to %d",
						      optarg, MAX_JOBS), -1;
			break;
		case OPT_POLICY: o->policy = optarg; break;
		case OPT_JSON: o->json = true; break;
		case OPT_DB:
			if (!*optarg)
				return sr_usage_error(usage_cmd, "--db needs a path"), -1;
			o->db = optarg;
			break;
		case OPT_FILES_FROM: o->files_from = optarg; break;
		case OPT_ETC: {
			if (o->netc == SBX_MAX_ETC_EXTRA)
				return sr_usage_error(usage_cmd, "too many --etc options (at most %d)", SBX_MAX_ETC_EXTRA), -1;
			struct sbx_err e = SBX_ERR_INIT;
			int er = sbx_etc_name_check(optarg, &e);
			if (er < 0)
				return sr_usage_error(usage_cmd, "%s", sbx_err_text(&e, er)), -1;
			o->etc[o->netc++] = optarg;
			break;
		}
		case OPT_FORCE: o->force = true; break;
		case OPT_RETRIES:
			if (sr_parse_int(optarg, 0, MAX_RETRIES, &o->retries) < 0)
				return sr_usage_error(usage_cmd, "invalid value '%s' for --retries: expected a whole number from 0 to %d",
						      optarg, MAX_RETRIES), -1;
			break;
		case OPT_RETRY_ON:
			if (retry_parse_outcomes(optarg, &o->retry_mask, err, sizeof err) < 0)
				return sr_usage_error(usage_cmd, "%s", err), -1;
			break;
		case OPT_MEMFREE:
		case OPT_MAX_OUTPUT: {
			uint64_t *dst = opt == OPT_MEMFREE ? &o->memfree : &o->max_output;
			if (sbx_parse_size(optarg, dst) < 0)
				return sr_usage_error(usage_cmd, "invalid value '%s' for %s: expected a size such as 512M or 6G",
						      optarg, opt == OPT_MEMFREE ? "--memfree" : "--max-output"), -1;
			break;
		}
		case OPT_GRACE: /* 0 is allowed: stop running jobs at the first signal */
			if (sr_parse_duration_option("--grace", optarg, true, &o->grace_ms) < 0)
				return usage_hint();
			break;
		case ':':
			return sr_usage_error(usage_cmd, "option '%s' needs a value", argv[optind - 1]), -1;
		default:
			if (optopt && optopt < 0x100)
				return sr_usage_error(usage_cmd, "invalid option '-%c'", optopt), -1;
			return sr_usage_error(usage_cmd, "invalid option '%s'", argv[optind - 1]), -1;
		}
	}
	if (!o->cmd && (o->output || o->ok_codes || o->nenv || o->nbinds))
		return sr_usage_error(usage_cmd, "--output, --ok-codes, --env, --bind-ro and --bind apply to --cmd; give --cmd too"), -1;
	if (o->cmd && (o->fingerprint || o->spectral))
		return sr_usage_error(usage_cmd, "--fingerprint and --spectral are the built-in analyzer's; a --cmd analyzer makes its own"), -1;
	if (o->nul && !o->files_from)
		return sr_usage_error(usage_cmd, "-0 applies to --files-from lists; give --files-from too"), -1;
	return 0;
}

