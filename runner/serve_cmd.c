/* runner/serve_cmd.c — `sandrun serve`: the options (run's, and the
 * socket's), the setup, and the batch engine (runner/loop.c) run with the
 * socket as its feed: it never runs out of work, and ends on SIGINT,
 * SIGTERM or SIGHUP as `run` does (running jobs get --grace, then are
 * released uncounted; everything acknowledged stays queued).
 * docs/serve.md has the protocol and the decisions. */
#include "runner/serve.h"
#include "runner/spec_guard.h"
#include "runner/common.h"
#include "runner/run_opts.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

static const char serve_usage[] =
	"Usage: sandrun serve --socket PATH [OPTIONS]\n"
	"Analyze the files clients submit over a unix socket, each in its own sandbox,\n"
	"recording every submission in the database as an item. Clients pass the open\n"
	"file (SCM_RIGHTS), never a path; 'sandrun submit' is one (see docs/serve.md).\n\n"
	"Service:\n"
	"      --socket PATH       the unix socket to listen on (required)\n"
	"      --socket-mode MODE  its permissions, octal (default 0660)\n"
	"      --allow-uid UID     only this uid may talk to the server (repeatable;\n"
	"                          with --allow-gid: either list; the server's own uid\n"
	"                          always may)\n"
	"      --allow-gid GID     only clients of this primary group (repeatable)\n"
	"      --spool DIR         where submitted files are copied (default: the\n"
	"                          database's path + '.spool'; created 0700)\n"
	"      --max-queue N       at most N files waiting or running; beyond, a submit\n"
	"                          is answered \"busy\" at once (default 10000)\n"
	"      --max-size SIZE     largest file taken (default 1G)\n"
	"      --max-clients N     connected clients at once (default 256)\n"
	"      --quota-files N     files one client uid may hold in the spool (pending,\n"
	"                          running or failed; default 1000, 0: no limit)\n"
	"      --quota-bytes SIZE  bytes one client uid may hold there (default 10G,\n"
	"                          0: no limit; a copy under way reserves its limit);\n"
	"                          beyond either, \"quota\"\n"
	"      --spool-timeout DURATION\n"
	"                          the most one submitted file's copy may take; beyond,\n"
	"                          it is stopped and answered \"spool_timeout\" (default 60s)\n\n"
	"Jobs: every option of 'sandrun run' that says what runs and how (-j, --cmd,\n"
	"--policy, limits, --retries, --retry-on, --retry-delay, --grace, --db, --json,\n"
	"-q, -v, ...): see 'sandrun run --help'. Inputs options (-r, --files-from,\n"
	"paths) do not apply.\n\n"
	"  -h, --help              show this help\n\n"
	"Exit status: 0 stopped by a signal after a clean shutdown, 2 usage, 3 isolation\n"
	"not available, 4 store error.\n";

enum {
	OPT_SOCKET = RUN_OPTS_EXTRA_FIRST, OPT_SOCKET_MODE, OPT_ALLOW_UID, OPT_ALLOW_GID, OPT_SPOOL,
	OPT_MAX_QUEUE, OPT_MAX_SIZE, OPT_MAX_CLIENTS, OPT_SPOOL_TIMEOUT,
	OPT_QUOTA_FILES, OPT_QUOTA_BYTES,
};

static const struct option serve_longopts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ "allow-gid", required_argument, NULL, OPT_ALLOW_GID },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "max-queue", required_argument, NULL, OPT_MAX_QUEUE },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "spool-timeout", required_argument, NULL, OPT_SPOOL_TIMEOUT },
	{ "quota-files", required_argument, NULL, OPT_QUOTA_FILES },
	{ "quota-bytes", required_argument, NULL, OPT_QUOTA_BYTES },
	{ NULL, 0, NULL, 0 },
};

static void serve_help(void)
{
	fputs(serve_usage, stdout);
}

static int bad(const char *opt, const char *arg, const char *what)
{
	return sr_err("invalid value '%s' for %s: %s", arg, opt, what), -1;
}

static int take_id(const char *opt, const char *arg, uint32_t *list, size_t *n)
{
	int v;
	if (*n == SERVE_MAX_ALLOW)
		return sr_err("too many %s options (at most %d)", opt, SERVE_MAX_ALLOW), -1;
	if (sr_parse_int(arg, 0, INT32_MAX, &v) < 0)
		return bad(opt, arg, "expected a numeric id");
	list[(*n)++] = (uint32_t)v;
	return 1;
}

static int serve_option(int opt, const char *arg, void *ctx)
{
	struct serve_opts *o = ctx;
	switch (opt) {
	case OPT_SOCKET:
		if (!*arg)
			return bad("--socket", arg, "a path is needed");
		o->socket_path = arg;
		return 1;
	case OPT_SPOOL:
		if (!*arg)
			return bad("--spool", arg, "a path is needed");
		o->spool_dir = arg;
		return 1;
	case OPT_SOCKET_MODE: {
		char *end;
		errno = 0;
		unsigned long m = strtoul(arg, &end, 8);
		if (errno || !*arg || *end || m > 0777)
			return bad("--socket-mode", arg, "expected an octal mode such as 0660");
		o->socket_mode = (mode_t)m;
		return 1;
	}
	case OPT_ALLOW_UID:
		return take_id("--allow-uid", arg, (uint32_t *)o->allow_uid, &o->nallow_uid);
	case OPT_ALLOW_GID:
		return take_id("--allow-gid", arg, (uint32_t *)o->allow_gid, &o->nallow_gid);
	case OPT_MAX_QUEUE:
		return sr_parse_int(arg, 1, 100000000, &o->max_queue) < 0
			       ? bad("--max-queue", arg, "expected a whole number from 1 to 100000000") : 1;
	case OPT_MAX_CLIENTS:
		return sr_parse_int(arg, 1, 65536, &o->max_clients) < 0
			       ? bad("--max-clients", arg, "expected a whole number from 1 to 65536") : 1;
	case OPT_QUOTA_FILES: {
		int v;
		if (sr_parse_int(arg, 0, INT32_MAX, &v) < 0)
			return bad("--quota-files", arg, "expected a whole number (0: no limit)");
		o->quota_files = v;
		return 1;
	}
	case OPT_QUOTA_BYTES: {
		uint64_t v = 0;
		if (strcmp(arg, "0") != 0 && (sbx_parse_size(arg, &v) < 0 || v > INT64_MAX))
			return bad("--quota-bytes", arg, "expected a size such as 10G (0: no limit)");
		o->quota_bytes = (int64_t)v;
		return 1;
	}
	case OPT_SPOOL_TIMEOUT:
		return sr_parse_duration_option("--spool-timeout", arg, false, &o->spool_timeout_ms) < 0 ? -1 : 1;
	case OPT_MAX_SIZE:
		return sbx_parse_size(arg, &o->max_size) < 0 || o->max_size == 0
			       ? bad("--max-size", arg, "expected a size such as 512M or 2G") : 1;
	default:
		return 0;
	}
}

/* run's options that name inputs have no meaning here. */
static int serve_checks(int argc, const struct run_opts *ro, const struct serve_opts *so)
{
	if (optind < argc)
		return sr_usage_error("serve ", "serve takes no PATH: clients submit the files"), -1;
	if (ro->files_from || ro->recursive || ro->nul || ro->filter.npatterns || ro->follow ||
	    ro->force || ro->halt_fails || ro->halt_percent)
		return sr_usage_error("serve ", "-r, --files-from, -0, --include, --exclude, --follow-symlinks, "
				      "--force and --halt apply to run, not to serve"), -1;
	if (!so->socket_path)
		return sr_usage_error("serve ", "--socket PATH is required"), -1;
	return 0;
}

/* The spool directory: ours, made 0700 if missing, never a link. */
static int open_spool(struct serve *s, const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return sr_err("--spool %s: %s", dir, strerror(errno)), -1;
	s->spool_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (s->spool_fd < 0 || fstat(s->spool_fd, &sb) < 0)
		return sr_err("--spool %s: %s", dir, strerror(errno)), -1;
	if (sb.st_uid != geteuid() || (sb.st_mode & 022))
		return sr_err("--spool %s: must be the server's own directory, writable by it alone "
			      "(owner uid %u, mode %04o)", dir, (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777)), -1;
	if (!realpath(dir, s->spool_path))
		return sr_err("--spool %s: %s", dir, strerror(errno)), -1;
	return 0;
}

struct serve_args {
	const struct run_opts *ro;
	const struct serve_opts *so;
	int argc;
	char **argv;
};

static int serve_body(struct run_env *e, void *ctx)
{
	struct serve_args *a = ctx;
	const struct run_opts *ro = a->ro;
	struct serve s = { .o = a->so, .st = e->st, .js = e->js, .progress = e->progress, .jobs = ro->jobs,
			   .ep = -1, .listen_fd = -1, .spool_fd = -1, .spool_timer = -1 };
	char spool_default[PATH_MAX];
	snprintf(spool_default, sizeof spool_default, "%s.spool", store_is_postgresql(ro->db) ? "sandrun" : ro->db);
	int status = SR_EXIT_STORE;
	char err[512];
	char *args = NULL; /* a rejoin's runs row */
	s.conns = calloc((size_t)a->so->max_clients, sizeof *s.conns);
	s.nconns = a->so->max_clients;
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	s.spool_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct epoll_event tev = { .events = EPOLLIN, .data.u64 = SERVE_EV_TIMER };
	if (!s.conns || s.ep < 0 || s.spool_timer < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, s.spool_timer, &tev) < 0)
		goto out;
	for (int i = 0; i < s.nconns; i++)
		s.conns[i] = (struct serve_conn){ .fd = -1, .sp = { .pidfd = -1, .result_fd = -1, .tmp_fd = -1 } };
	if (open_spool(&s, a->so->spool_dir ? a->so->spool_dir : spool_default) < 0) {
		status = SR_EXIT_USAGE;
		goto out;
	}
	/* What an earlier server acknowledged and did not finish is ours:
	 * its dead leases are taken back (runner_lost, counted) and its
	 * pending items counted into the queue bound. */
	/* As run does: items under an older key format carried over, and
	 * finished work of another spec not redone unasked (--new-spec). */
	args = run_argv_json(a->argc, a->argv); /* this run's row, and a rejoin's */
	if ((status = spec_guard_check(s.st, s.js, ro->new_spec)) != 0 ||
	    (status = run_begin(s.st, ro, s.js, args, &s.run_id)) != 0)
		goto out;
	struct run_rejoin_ctx rj = { .st = s.st, .args = args, .js = s.js, .run_id = &s.run_id };
	status = SR_EXIT_STORE;
	if (store_count_pending(s.st, s.js->key, &s.outstanding) < 0) {
		sr_err("%s", store_errmsg(s.st));
		goto out;
	}
	if (serve_listen(&s, err, sizeof err) < 0) {
		sr_err("%s", err);
		status = SR_EXIT_USAGE;
		goto out;
	}
	progress_notice(s.progress, "serving on %s (%d job%s at once, queue bound %d, %lld queued from before)",
			a->so->socket_path, ro->jobs, ro->jobs == 1 ? "" : "s", a->so->max_queue,
			(long long)s.outstanding);
	struct loop_config cfg = {
		.st = s.st, .run_id = s.run_id, .sbx = e->sbx, .js = s.js, .progress = s.progress,
		.sigfd = e->sigfd, .jobs = ro->jobs, .max_retries = ro->retries, .retry_mask = ro->retry_mask,
		.memfree_bytes = ro->memfree, .grace_ms = ro->grace_ms,
		.lease_ms = store_is_postgresql(ro->db) ? ro->lease_timeout_s * 1000ULL : 0,
		.feed = serve_feed, .feed_ctx = &s, .feed_fd = s.ep,
		.on_finish = serve_on_finish, .self = &s.loop,
		.rejoin = run_rejoin, .rejoin_ctx = &rj,
	};
	struct loop_result lr;
	int r = loop_run(&cfg, &lr);
	if (r < 0)
		sr_err("the event loop failed: %s", strerror(-r));
	/* Answers not written yet are lost with the connections; what they
	 * acknowledged is in the store. */
	serve_close_all(&s);
	unlink(a->so->socket_path);
	status = r < 0 ? SR_EXIT_STORE : lr.fatal ? lr.fatal : SR_EXIT_OK;
	if (store_run_end(s.st, s.run_id, "interrupted", NULL) < 0 && status == SR_EXIT_OK) {
		sr_err("%s", store_errmsg(s.st));
		status = SR_EXIT_STORE;
	}
out:
	if (s.listen_fd >= 0)
		serve_close_all(&s);
	free(args);
	free(s.conns);
	free(s.cancels);
	free(s.helpers);
	sr_closep(&s.ep);
	sr_closep(&s.spool_timer);
	sr_closep(&s.spool_fd);
	return status;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts so = { .socket_mode = 0660, .max_queue = SERVE_DEFAULT_MAX_QUEUE,
				 .max_size = SERVE_DEFAULT_MAX_SIZE, .max_clients = SERVE_DEFAULT_MAX_CLIENTS,
				 .spool_timeout_ms = SERVE_DEFAULT_SPOOL_TIMEOUT_MS,
				 .quota_files = SERVE_DEFAULT_QUOTA_FILES, .quota_bytes = SERVE_DEFAULT_QUOTA_BYTES };
	struct run_opts ro;
	const struct run_opts_extra x = { .usage_cmd = "serve ", .longopts = serve_longopts,
					  .take = serve_option, .ctx = &so, .help = serve_help };
	int r = run_opts_parse(argc, argv, &ro, &x);
	if (r == 0)
		r = serve_checks(argc, &ro, &so);
	if (r != 0)
		return r > 0 ? SR_EXIT_OK : SR_EXIT_USAGE;
	return run_with_env(&ro, "serve", serve_body, &(struct serve_args){ &ro, &so, argc, argv });
}
