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
	"      --retry-delay TIME  wait before a retry: TIME after the first attempt,\n"
	"                          doubled after each further one, at most 1h (default\n"
	"                          0: at once); kept in the database, so a killed\n"
	"                          runner's wait carries over to the next run\n"
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

static void print_help(bool watch)
{
	fputs(watch ? watch_usage : run_usage, stdout);
	fputs(run_common_usage, stdout);
	fputs(sr_limit_help, stdout);
	fputs("\n", stdout);
	fputs(input_filter_help, stdout);
	fputs(watch ? watch_signals_help : run_signals_help, stdout);
}

static void run_help(void)
{
	print_help(false);
}

static void watch_help(void)
{
	print_help(true);
}

static int parse_options(int argc, char **argv, struct run_opts *o, bool watch)
{
	const struct run_opts_extra x = { .usage_cmd = cmd_name, .help = watch ? watch_help : run_help,
					  .watch = watch };
	int r = run_opts_parse(argc, argv, o, &x);
	if (r == 0 && optind >= argc && !o->files_from)
		return sr_usage_error(cmd_name, watch ? "no directory given" : "no files given"), -1;
	return r;
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

char *run_argv_json(int argc, char **argv)
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

int run_begin(struct store *st, const struct run_opts *o, const struct jobspec *js, const char *args,
	      int64_t *run_id)
{
	int r = store_run_begin(st, SANDRUN_VERSION, args, js->run_description, run_id);
	int reclaimed = 0;
	if (r == 0)
		r = store_reclaim_dead(st, retry_max_attempts("runner_lost", o->retries, o->retry_mask), &reclaimed);
	if (r < 0) {
		sr_err("%s", store_errmsg(st));
		return SR_EXIT_STORE;
	}
	return 0;
}


int run_rejoin(void *ctx, int64_t *run_id)
{
	struct run_rejoin_ctx *j = ctx;
	int64_t id;
	if (store_run_begin(j->st, SANDRUN_VERSION, j->args, j->js->run_description, &id) < 0)
		return -1;
	*run_id = *j->run_id = id;
	if (j->also)
		*j->also = id;
	return 0;
}

/* Everything after the store is open. */
static int run_batch(struct store *st, struct sbx_run *sbx, const struct jobspec *js,
		     struct progress *progress, const struct run_opts *o, int sigfd, int argc, char **argv)
{
	/* Before the first write: finished work of another spec is not redone unasked. */
	int r = spec_guard_check(st, js, o->force || o->new_spec);
	if (r != 0)
		return r;
	int64_t run_id = 0;
	char *args = run_argv_json(argc, argv); /* this run's row, and a rejoin's (NULL: none) */
	if ((r = run_begin(st, o, js, args, &run_id)) != 0) {
		free(args);
		return r;
	}
	progress_begin(progress, run_id, SANDRUN_VERSION, js->key, o->jobs);
	struct collect *c = calloc(1, sizeof *c);
	if (!c) {
		free(args);
		sr_err("out of memory");
		return SR_EXIT_STORE;
	}
	struct run_rejoin_ctx rj = { .st = st, .args = args, .js = js, .run_id = &run_id, .also = &c->run_id };
	*c = (struct collect){ .st = st, .js = js, .progress = progress, .opts = o, .run_id = run_id, .list_fd = -1 };
	struct loop_result lr = { 0 };
	/* watch: the directories are not a walk of the feed's own but the
	 * drop folders' (dropdir.c), which queue through c. */
	struct dropdir *dd = NULL;
	c->requeue = o->watch;
	progress_counts(progress)->watching = o->watch;
	int status = run_queue_open(c, argv + optind, o->watch ? 0 : o->npaths);
	if (status == 0 && o->watch)
		status = dropdir_open(c, argv + optind, o->npaths, o->settle_ms, (size_t)o->max_dirs, &dd);
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
				.rejoin = run_rejoin, .rejoin_ctx = &rj,
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
	free(args);

	struct store_batch_counts end = { 0 };
	int bc = store_batch_counts(st, js->key, &end);
	if (bc == -ENODATA) {
		/* The connection was lost and the session's batch with it
		 * (docs/scale-out.md "When PostgreSQL is down"): what this run
		 * recorded itself is what it can tell. */
		sr_err("warning: %s; the summary counts this run's own attempts", store_errmsg(st));
		end.failed = lr.failed;
		end.done = lr.finished - lr.failed - progress_counts(progress)->retried;
		if (end.done < 0)
			end.done = 0;
		end.total = end.done + end.failed;
	} else if (bc < 0) {
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

int run_with_env(const struct run_opts *o, const char *name_hint, run_body_fn body, void *ctx)
{
	sr_warn_limits(&o->limits, o->cmd ? SR_MIN_MEM_COMMAND : SR_MIN_MEM_ANALYZER,
		       o->cmd ? "a command in its sandbox" : "the built-in analyzer");
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
		.policy = o->policy, .policy_dir = sr_policy_dir(), .program = sr_analyzer_path(),
		.limits = o->limits, .max_output = o->max_output,
		.etc_extra = o->etc, .netc_extra = o->netc, .fingerprint = o->fingerprint,
		.spectral = o->spectral,
	};
	struct cmdspec_opts co = {
		.command = o->cmd, .output = o->output, .ok_codes = o->ok_codes,
		.env = o->env, .nenv = o->nenv, .bind_paths = o->binds, .bind_writable = o->bind_writable,
		.nbinds = o->nbinds,
	};
	int r = o->cmd ? jobspec_open_command(&jo, &co, &js, err, sizeof err)
		       : jobspec_open_analyzer(&jo, &js, err, sizeof err);
	if (r < 0) {
		sr_err("%s", err);
		/* A name or file that is not there or not a policy is the
		 * user's to fix; a policy this host cannot load is isolation. */
		return r == -ENOENT || r == -EACCES || r == -EINVAL || r == -ENOTDIR ? SR_EXIT_USAGE
										       : SR_EXIT_ISOLATION;
	}
	if (o->dry_run) { /* before the sandbox run and the store: nothing made */
		r = body(&(struct run_env){ .js = js, .sigfd = -1 }, ctx);
		jobspec_free(js);
		return r;
	}
	struct sbx_run *sbx = NULL;
	struct sbx_err serr = SBX_ERR_INIT;
	if ((r = sbx_run_open(&(struct sbx_run_opts){ .name_hint = name_hint }, &sbx, &serr)) < 0) {
		jobspec_free(js);
		return isolation_error(sbx_err_text(&serr, r));
	}
	struct store *st = NULL;
	if (store_open(o->db, STORE_RW, &st, err, sizeof err) < 0 ||
	    (o->lease_timeout_s && store_set_lease_timeout(st, o->lease_timeout_s) < 0) ||
	    store_set_retry_delay(st, (int64_t)o->retry_delay_ms) < 0) {
		sr_err("%s", st ? store_errmsg(st) : err);
		store_close(st);
		sbx_run_close(sbx);
		jobspec_free(js);
		return SR_EXIT_STORE;
	}
	struct progress *progress = NULL;
	struct progress_opts po = {
		.live = isatty(STDERR_FILENO) && o->verbosity != PROGRESS_QUIET, .journal = progress_stderr_is_journal(),
		.verbosity = o->verbosity, .json = o->json, .json_interval_ms = o->json_interval_ms,
		.events = stdout, .status = stderr,
	};
	int status;
	if (progress_new(&po, &progress) < 0)
		status = SR_EXIT_STORE;
	else
		status = body(&(struct run_env){ .st = st, .sbx = sbx, .js = js, .progress = progress, .sigfd = sigfd },
			      ctx);
	progress_free(progress);
	store_close(st);
	sbx_run_close(sbx);
	jobspec_free(js);
	return status;
}

struct run_args {
	const struct run_opts *o;
	int argc;
	char **argv;
};

/* --dry-run: run_with_env gives only the job spec (no sandbox run, no
 * store). */
static int run_body(struct run_env *e, void *ctx)
{
	struct run_args *a = ctx;
	if (a->o->dry_run)
		return dry_run(a->o, e->js, a->argv + optind, a->o->npaths);
	return run_batch(e->st, e->sbx, e->js, e->progress, a->o, e->sigfd, a->argc, a->argv);
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
	return run_with_env(&o, watch ? "watch" : "run", run_body, &(struct run_args){ &o, argc, argv });
}
