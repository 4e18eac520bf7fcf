/* runner/exec_cmd.c — `sandrun exec`: one command, full isolation, one
 * precise outcome. The command's stdout and stderr pass straight through
 * (sandrun never buffers them, so its memory does not grow with output). */
#include "runner/common.h"
#include "runner/cmdspec.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>

static const char exec_usage[] =
	"Usage: sandrun exec [OPTIONS] -- CMD [ARG...]\n"
	"Run one command in a fresh sandbox and report how it ended.\n\n"
	"Options:\n"
	"      --policy NAME|FILE  seccomp policy (default: default)\n"
	"      --bind-ro PATH      make PATH visible, read-only, at the same place\n"
	"      --bind PATH         make PATH visible and writable (only if asked)\n"
	"      --etc NAME          show /etc/NAME too (repeatable; see sandrun(1) for\n"
	"                          the entries every job sees)\n"
	"      --env NAME[=VALUE]  one more variable for the command (repeatable; NAME\n"
	"                          alone copies sandrun's); the base is PATH, HOME=/tmp,\n"
	"                          LANG=C.UTF-8\n"
	"      --chdir DIR         the command's working directory, inside the sandbox\n"
	"                          (default /)\n"
	"      --json[=stdout|stderr]  print one JSON object with the outcome after the\n"
	"                          output, on stdout (default) or stderr\n"
	"      --json-fd N         ... on descriptor N instead (e.g. 3 with 3>outcome.json)\n"
	"      --timing            add the cost of each setup step (timing_us) to --json\n"
	"      --stdin             let the command read the terminal when stdin is one\n"
	"                          (by default it gets /dev/null)\n"
	"  -h, --help              show this help\n\n"
	"A job stopped by a limit says which on stderr (sandrun: killed: memory limit\n"
	"64M reached (oom)).\n"
	"Exit status: the command's own (its exit code, or 128 + the signal that killed\n"
	"it); 124 timeout or cpu_limit, 137 oom, 125 setup error, 2 usage, 3 isolation\n"
	"not available, 130/143 interrupted. A command may exit with these numbers too:\n"
	"--json's outcome tells which it was (ok or exit_nonzero: the command's own).\n";

char *sr_result_to_json(const struct sbx_result *res, bool with_timing)
{
	bool has_code = res->outcome == OUTCOME_OK || res->outcome == OUTCOME_EXIT_NONZERO;
	bool has_sig = res->signal != 0;
	json_t *o = json_object();
	json_object_set_new(o, "outcome", json_string(outcome_name(res->outcome)));
	json_object_set_new(o, "exit_code", has_code ? json_integer(res->exit_code) : json_null());
	json_object_set_new(o, "signal", has_sig ? json_integer(res->signal) : json_null());
	json_object_set_new(o, "syscall", res->syscall[0] ? json_string(res->syscall) : json_null());
	json_object_set_new(o, "wall_ms", json_integer((json_int_t)res->wall_ms));
	json_object_set_new(o, "cpu_ms", json_integer((json_int_t)res->cpu_ms));
	json_object_set_new(o, "peak_memory_bytes", json_integer((json_int_t)res->peak_memory_bytes));
	json_object_set_new(o, "oom_kills", json_integer((json_int_t)res->oom_kills));
	json_object_set_new(o, "error", res->error[0] ? json_string(res->error) : json_null());
	if (with_timing) {
		const struct sbx_timing *t = &res->timing;
		json_t *tm = json_object();
		json_object_set_new(tm, "cgroup", json_integer((json_int_t)t->cgroup_us));
		json_object_set_new(tm, "clone", json_integer((json_int_t)t->clone_us));
		json_object_set_new(tm, "mounts", json_integer((json_int_t)t->mounts_us));
		json_object_set_new(tm, "privileges", json_integer((json_int_t)t->privs_us));
		json_object_set_new(tm, "seccomp", json_integer((json_int_t)t->seccomp_us));
		json_object_set_new(tm, "exec", json_integer((json_int_t)t->exec_us));
		json_object_set_new(tm, "run", json_integer((json_int_t)t->run_us));
		json_object_set_new(tm, "reap", json_integer((json_int_t)t->reap_us));
		json_object_set_new(tm, "cleanup", json_integer((json_int_t)t->cleanup_us));
		json_object_set_new(o, "timing_us", tm);
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}


/* Local option numbers, above the shared ones in runner/common.h. */
enum { OPT_STDIN = OPT_LIMITS_END + 0x40, OPT_ENV_VAR, OPT_CHDIR, OPT_JSON_FD };

/* The user's terminal, when the job's descriptors would be it.
 *
 * Run from an interactive shell, fds 0, 1 and 2 are one open file of the
 * terminal, opened read-write. Inherited as they are, the job could read
 * what the user types next (from fd 0, or from fd 1: the same open file)
 * and change the terminal's modes for good (echo off). So:
 *  - a terminal on stdin is replaced by /dev/null unless --stdin;
 *  - a terminal on stdout/stderr is reopened write-only (a new open file
 *    of the same device, O_NOCTTY): the job can still write to it, not
 *    read from it. If the reopen fails (an exclusive terminal, no /proc)
 *    the original is kept: output must not be lost, and reading it then is
 *    the residual risk documented in docs/security.md;
 *  - the terminal's modes are saved before the job and put back after it,
 *    whatever the job did through an ioctl (TCSETS works on a write-only
 *    descriptor). TIOCSTI, TIOCLINUX, TIOCSCTTY and TIOCSETD are refused by
 *    the default policy. */
struct tty_guard {
	int fd[3];        /* what the job gets as 0, 1, 2; -1: inherit */
	int saved_from;   /* a terminal descriptor of ours, or -1 */
	int unopenable;   /* a read-write terminal fd that cannot be reopened, or -1 */
	struct termios saved;
};

static int tty_guard_open(struct tty_guard *g, bool give_stdin)
{
	*g = (struct tty_guard){ .fd = { -1, -1, -1 }, .saved_from = -1, .unopenable = -1 };
	for (int i = 0; i < 3; i++) {
		if (!isatty(i))
			continue;
		if (g->saved_from < 0 && tcgetattr(i, &g->saved) == 0)
			g->saved_from = i;
		if (i == 0) {
			if (give_stdin)
				continue;
			g->fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (g->fd[0] < 0)
				return -errno; /* never fall back to the terminal */
			continue;
		}
		char path[32];
		snprintf(path, sizeof path, "/proc/self/fd/%d", i);
		g->fd[i] = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		bool reopen_failed = g->fd[i] < 0;
		/* Must be the same terminal: reopening a pty master (/dev/ptmx)
		 * would make a new pty that nobody reads. */
		struct stat a, b;
		if (g->fd[i] >= 0 && (fstat(i, &a) < 0 || fstat(g->fd[i], &b) < 0 ||
				      a.st_rdev != b.st_rdev)) {
			close(g->fd[i]);
			g->fd[i] = -1;
		}
		/* Not reopened (without root: a terminal of another user,
		 * e.g. after su): inheriting it read-write would let the job
		 * read what is typed. Refused, unless it is write-only anyway. */
		int fl = fcntl(i, F_GETFL);
		if (reopen_failed && (fl < 0 || (fl & O_ACCMODE) != O_WRONLY)) {
			g->unopenable = i;
			return -EACCES;
		}
	}
	return 0;
}

static void tty_guard_close(struct tty_guard *g)
{
	struct termios now;
	if (g->saved_from >= 0 && tcgetattr(g->saved_from, &now) == 0 &&
	    memcmp(&now, &g->saved, sizeof now) != 0) {
		/* changed by the job: put it back. SIGTTOU blocked, or a
		 * background sandrun would be stopped by its own repair. */
		sigset_t ttou, old;
		sigemptyset(&ttou);
		sigaddset(&ttou, SIGTTOU);
		sigprocmask(SIG_BLOCK, &ttou, &old);
		tcsetattr(g->saved_from, TCSANOW, &g->saved);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	for (int i = 0; i < 3; i++)
		if (g->fd[i] >= 0)
			close(g->fd[i]);
}

enum { EV_CHILD, EV_WATCH, EV_SIGNAL };

/* Watch one job until it ends: its pidfd, its own deadline and CPU check
 * (the sandbox's timers), and SIGINT/SIGTERM through a signalfd. No
 * signal handler does work, and the host's clock never sleeps. */
static int supervise(struct sbx_job *job, int sigfd, int *got_signal)
{
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	int fds[2 + SBX_JOB_MAX_WATCH] = { sbx_job_pidfd(job), sigfd };
	int tags[2 + SBX_JOB_MAX_WATCH] = { EV_CHILD, EV_SIGNAL };
	int n = 2 + sbx_job_watch_fds(job, fds + 2);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
		if (i >= 2)
			tags[i] = EV_WATCH;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			return -errno;
	}
	for (;;) {
		struct epoll_event ev;
		int k = epoll_wait(ep, &ev, 1, -1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		int i = (int)ev.data.u64;
		switch (tags[i]) {
		case EV_CHILD:
			return 0;
		case EV_WATCH: {
			enum sbx_kill_reason why = sbx_job_watch_event(job);
			if (why != SBX_KILL_NONE) {
				sbx_job_kill(job, why, NULL); /* finish tells the rest */
				return 0;
			}
			break;
		}
		case EV_SIGNAL: {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
				*got_signal = (int)si.ssi_signo;
			sbx_job_kill(job, SBX_KILL_INTERRUPT, NULL);
			return 0;
		}
		}
	}
}

/* A size as an operator types it: 64M, 1G, 1536K, 100 bytes. */
static void short_size(uint64_t b, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && b >= 1024 && b % 1024 == 0) {
		b /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu byte%s", (unsigned long long)b, b == 1 ? "" : "s");
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)b, units[u]);
}

static void short_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

/* One line on stderr when a limit stopped the job: which one, at what
 * value. Nothing for any other end. */
static void say_killed(const struct sbx_result *res, const struct sbx_limits *lim, const char *policy)
{
	char v[48];
	switch (res->outcome) {
	case OUTCOME_OOM:
		short_size(lim->mem_bytes, v, sizeof v);
		sr_err("killed: memory limit %s reached (oom)", v);
		break;
	case OUTCOME_TIMEOUT:
		short_ms(lim->timeout_ms, v, sizeof v);
		sr_err("killed: wall-clock deadline %s reached (timeout)", v);
		break;
	case OUTCOME_CPU_LIMIT:
		short_ms(lim->cpu_time_ms, v, sizeof v);
		sr_err("killed: CPU time limit %s reached (cpu_limit)", v);
		break;
	case OUTCOME_SECCOMP:
		if (res->syscall[0])
			sr_err("killed: system call %s refused by the %s policy (seccomp)", res->syscall, policy);
		else
			sr_err("killed: a system call refused by the %s policy (seccomp)", policy);
		break;
	default:
		break;
	}
}

/* What `sandrun exec`'s options asked for. */
struct exec_opts {
	struct sbx_limits lim;
	const char *policy_name;
	bool json, timing, give_stdin;
	int json_fd;                 /* where --json goes: 1, 2 or --json-fd */
	const char *env[CMDSPEC_MAX_ENV];
	size_t nenv;
	const char *chdir;
	struct sbx_bind binds[64];
	char bind_paths[64][PATH_MAX];
	size_t nbinds;
	const char *etc[SBX_MAX_ETC_EXTRA];
	size_t netc;
};

/* --json[=WHERE], --json-fd, --env, --chdir: 1 taken, 0 not one of them,
 * else the exit status of a usage error (message printed). */
static int exec_option(int opt, const char *arg, struct exec_opts *o)
{
	switch (opt) {
	case OPT_JSON:
		o->json = true;
		if (!arg || strcmp(arg, "stdout") == 0)
			o->json_fd = STDOUT_FILENO;
		else if (strcmp(arg, "stderr") == 0)
			o->json_fd = STDERR_FILENO;
		else
			return sr_usage_error("exec ", "invalid value '%s' for --json: expected stdout or stderr "
					      "(or --json-fd N)", arg);
		return 1;
	case OPT_JSON_FD: {
		char *end;
		errno = 0;
		long fd = strtol(arg, &end, 10);
		if (!*arg || *end || errno || fd < 0 || fd > INT_MAX)
			return sr_usage_error("exec ", "invalid value '%s' for --json-fd: expected a descriptor number",
					      arg);
		int fl = fcntl((int)fd, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
			return sr_usage_error("exec ", "--json-fd %ld: %s", fd,
					      fl < 0 ? "not an open descriptor (open it in the shell: 3>FILE)"
						     : "open for reading only");
		o->json = true;
		o->json_fd = (int)fd;
		return 1;
	}
	case OPT_ENV_VAR:
		if (o->nenv == SR_ARRAY_LEN(o->env))
			return sr_usage_error("exec ", "too many --env options (at most %d)", CMDSPEC_MAX_ENV);
		o->env[o->nenv++] = arg;
		return 1;
	case OPT_CHDIR:
		if (arg[0] != '/')
			return sr_usage_error("exec ", "--chdir %s: give the directory as the command sees it, an "
					      "absolute path inside the sandbox (e.g. --chdir /tmp, or --bind-ro DIR "
					      "--chdir DIR)", arg);
		o->chdir = arg;
		return 1;
	default:
		return 0;
	}
}

/* Parse the options into o: -1 to go on, else the exit status (usage
 * error, or 0 after --help). */
static int parse_exec_options(int argc, char **argv, struct exec_opts *o)
{
	static const struct option longopts[] = {
		SR_LIMIT_LONGOPTS,
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "bind-ro", required_argument, NULL, OPT_BIND_RO },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "etc", required_argument, NULL, OPT_ETC },
		{ "json", optional_argument, NULL, OPT_JSON },
		{ "json-fd", required_argument, NULL, OPT_JSON_FD },
		{ "env", required_argument, NULL, OPT_ENV_VAR },
		{ "chdir", required_argument, NULL, OPT_CHDIR },
		{ "timing", no_argument, NULL, OPT_TIMING },
		{ "stdin", no_argument, NULL, OPT_STDIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	sbx_limits_defaults(&o->lim);
	o->policy_name = "default";
	o->json_fd = STDOUT_FILENO;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		int r = sr_apply_limit_option(opt, optarg, &o->lim);
		if (r < 0)
			return SR_EXIT_USAGE;
		if (r > 0)
			continue;
		if ((r = exec_option(opt, optarg, o)) > 1)
			return r;
		if (r > 0)
			continue;
		switch (opt) {
		case OPT_POLICY: o->policy_name = optarg; break;
		case OPT_TIMING: o->timing = true; break;
		case OPT_STDIN: o->give_stdin = true; break;
		case OPT_BIND_RO:
		case OPT_BIND:
			if (o->nbinds == SR_ARRAY_LEN(o->binds))
				return sr_usage_error("exec ", "too many --bind/--bind-ro options");
			{
				/* A relative path (--bind-ro .) is made absolute
				 * lexically from the working directory, then opened
				 * as any other. */
				/* Opened here, once, refusing links: the sandbox binds
				 * this descriptor, never the path (sr_open_bind_source). */
				char msg[PATH_MAX + 256];
				char *abs = o->bind_paths[o->nbinds];
				int fd = sr_open_bind_source(opt == OPT_BIND ? "--bind" : "--bind-ro", optarg, abs,
							     PATH_MAX, msg, sizeof msg);
				if (fd < 0)
					return sr_usage_error("exec ", "%s", msg);
				o->binds[o->nbinds++] = (struct sbx_bind){ .src = abs, .dst = abs, .src_fd = fd,
								     .writable = opt == OPT_BIND };
			}
			break;
		case OPT_ETC: {
			if (o->netc == SR_ARRAY_LEN(o->etc))
				return sr_usage_error("exec ", "too many --etc options (at most %d)", SBX_MAX_ETC_EXTRA);
			struct sbx_err e = SBX_ERR_INIT;
			int er = sbx_etc_name_check(optarg, &e);
			if (er < 0)
				return sr_usage_error("exec ", "%s", sbx_err_text(&e, er));
			o->etc[o->netc++] = optarg;
			break;
		}
		case 'h': fputs(exec_usage, stdout); fputs(sr_limit_help, stdout); return 0;
		default: return sr_usage_error("exec ", "invalid option");
		}
	}
	return -1;
}

static void free_env(char **envp)
{
	for (char **e = envp; e && *e; e++)
		free(*e);
	free(envp);
}

/* The outcome object, where --json asked. */
static void print_json(const struct exec_opts *o, const struct sbx_result *res)
{
	char *s = sr_result_to_json(res, o->timing);
	fflush(stdout);
	if (s && dprintf(o->json_fd, "%s\n", s) < 0)
		sr_err("--json: cannot write the outcome to descriptor %d: %s", o->json_fd, strerror(errno));
	free(s);
}

int cmd_exec(int argc, char **argv)
{
	static struct exec_opts o; /* the bind paths: 256 KiB, not on the stack */
	int status = parse_exec_options(argc, argv, &o);
	if (status >= 0)
		return status;
	if (optind >= argc)
		return sr_usage_error("exec ", "no command given");
	sr_warn_limits(&o.lim, SR_MIN_MEM_COMMAND, "a command in its sandbox");
	char **envp = NULL;
	if (o.nenv) {
		char err[512];
		int er = cmdspec_env_build(o.env, o.nenv, &envp, err, sizeof err);
		if (er < 0) {
			free_env(envp);
			return er == -ENOMEM ? (sr_err("out of memory"), SR_EXIT_ISOLATION)
					     : sr_usage_error("exec ", "%s", err);
		}
	}

	struct sbx_policy *policy = NULL;
	struct sbx_err perr = SBX_ERR_INIT;
	int r = sbx_policy_load(o.policy_name, sr_policy_dir(), &policy, &perr);
	if (r < 0) {
		sr_err("policy %s: %s", o.policy_name, sbx_err_text(&perr, r));
		free_env(envp);
		return SR_EXIT_USAGE;
	}
	/* Block the signals we watch before any child exists; the child
	 * restores an empty mask before it runs anything. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);

	struct sbx_run *run = NULL;
	struct sbx_err rerr = SBX_ERR_INIT;
	if ((r = sbx_run_open(&(struct sbx_run_opts){ .name_hint = "exec" }, &run, &rerr)) < 0) {
		sr_err("cannot enforce the sandbox on this host: %s (see 'sandrun check')",
		       sbx_err_text(&rerr, r));
		sbx_policy_free(policy);
		free_env(envp);
		return SR_EXIT_ISOLATION;
	}
	struct tty_guard tty;
	if ((r = tty_guard_open(&tty, o.give_stdin)) < 0) {
		if (tty.unopenable >= 0)
			sr_err("fd %d is a terminal sandrun cannot reopen write-only (%s): the job would get it "
			       "read-write and could read what is typed; redirect it, or run sandrun as the "
			       "terminal's owner", tty.unopenable, strerror(-r));
		else
			sr_err("cannot open /dev/null for the command's stdin: %s", strerror(-r));
		tty_guard_close(&tty);
		sbx_run_close(run);
		sbx_policy_free(policy);
		free_env(envp);
		return SR_EXIT_ISOLATION;
	}
	struct sbx_spec spec = {
		.argv = argv + optind, .stdin_fd = tty.fd[0], .stdout_fd = tty.fd[1],
		.stderr_fd = tty.fd[2], .envp = envp, .cwd = o.chdir,
		.binds = o.binds, .nbinds = o.nbinds, .policy = policy, .limits = o.lim,
		.etc_extra = o.etc, .netc_extra = o.netc,
		.timing = o.timing,
		/* tests only: a probe under the analyzer's Landlock profile */
		.fs_profile = getenv("SANDRUN_TEST_FS_CODE_ONLY") ? SBX_FS_CODE_ONLY : SBX_FS_COMMAND,
	};
	struct sbx_job *job = NULL;
	status = SR_EXIT_ISOLATION;
	struct sbx_err serr = SBX_ERR_INIT;
	if ((r = sbx_job_start(run, &spec, &job, &serr)) < 0) {
		sr_err("cannot start the sandbox: %s", sbx_err_text(&serr, r));
	} else {
		int got_signal = 0;
		/* One job: nothing else to do while it sets up. */
		sbx_job_setup_collect(job);
		/* Unwatchable is unenforceable: stop it rather than wait on
		 * a job whose deadline nobody would see. */
		if ((r = supervise(job, sigfd, &got_signal)) < 0) {
			sr_err("cannot watch the job (%s): stopping it", strerror(-r));
			sbx_job_kill(job, SBX_KILL_INTERRUPT, NULL);
		}
		struct sbx_result res;
		struct sbx_err ferr = SBX_ERR_INIT;
		if ((r = sbx_job_finish(job, &res, &ferr)) < 0)
			sr_err("warning: %s", sbx_err_text(&ferr, r));
		tty_guard_close(&tty);
		tty.saved_from = -1;
		for (int i = 0; i < 3; i++)
			tty.fd[i] = -1;
		fflush(stdout);
		if (!got_signal)
			say_killed(&res, &o.lim, o.policy_name);
		if (o.json)
			print_json(&o, &res);
		else if (res.outcome == OUTCOME_SETUP_ERROR)
			sr_err("setup_error: %s", res.error);
		status = got_signal == SIGTERM ? SR_EXIT_INTERRUPTED_TERM
			 : got_signal ? SR_EXIT_INTERRUPTED_INT
				      : sr_exec_exit_status(&res);
	}
	tty_guard_close(&tty);
	sbx_run_close(run);
	sbx_policy_free(policy);
	free_env(envp);
	for (size_t i = 0; i < o.nbinds; i++)
		close(o.binds[i].src_fd);
	return status;
}
