/* runner/common.c — error printing, file locations, limit options. */
#include "runner/common.h"
#include "runner/inputs.h"
#include "lib/duration.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#ifndef SANDRUN_REL_LIBEXEC
#define SANDRUN_REL_LIBEXEC "../libexec/sandrun"
#endif
#ifndef SANDRUN_REL_DATA
#define SANDRUN_REL_DATA "../share/sandrun"
#endif

void sr_err(const char *fmt, ...)
{
	va_list ap;
	fputs("sandrun: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int sr_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("sandrun: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sandrun %s--help' for more information.\n", cmd ? cmd : "");
	return SR_EXIT_USAGE;
}

static const char *exe_dir(void)
{
	static char dir[PATH_MAX];
	if (!dir[0]) {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n < 0)
			return ".";
		exe[n] = '\0';
		snprintf(dir, sizeof dir, "%s", dirname(exe));
	}
	return dir;
}

/* First of: $env, <exe>/<installed rel>/<leaf>, <exe>/<leaf> (build tree). */
static const char *locate(const char *env, const char *installed_rel, const char *leaf, char *buf, size_t len)
{
	const char *e = getenv(env);
	if (e && *e)
		return e;
	snprintf(buf, len, "%s/%s/%s", exe_dir(), installed_rel, leaf);
	if (access(buf, F_OK) == 0)
		return buf;
	snprintf(buf, len, "%s/%s", exe_dir(), leaf);
	return buf;
}

const char *sr_policy_dir(void)
{
	static char buf[PATH_MAX + 64];
	return locate("SANDRUN_POLICY_DIR", SANDRUN_REL_DATA, "policies", buf, sizeof buf);
}

const char *sr_analyzer_path(void)
{
	static char buf[PATH_MAX + 64];
	return locate("SANDRUN_ANALYZER", SANDRUN_REL_LIBEXEC, "sandrun-analyze", buf, sizeof buf);
}

const char sr_limit_help[] =
	"Limits (per job):\n"
	"      --mem SIZE        memory limit, e.g. 512M, 6G (default 1G)\n"
	"      --timeout TIME    wall-clock deadline (default 600 s); TIME is seconds or\n"
	"                        a duration such as 90s, 10min, 1h30m, 1.5h\n"
	"      --cpu-time TIME   CPU time limit of the whole job (default none)\n"
	"      --cpus N          CPU quota, e.g. 1.5 (default none)\n"
	"      --pids N          process and thread limit (default 256)\n"
	"      --tmp-size SIZE   size of the private /tmp and /dev/shm (default 64M)\n"
	"      --fsize SIZE      largest file the job may write (default 1G)\n"
	"      --nofile N        open file limit (default 1024)\n";

int sr_apply_limit_option(int opt, const char *arg, struct sbx_limits *lim)
{
	int r;
	const char *name;
	switch (opt) {
	case OPT_MEM: name = "--mem"; r = sbx_parse_size(arg, &lim->mem_bytes); break;
	case OPT_TIMEOUT: return sr_parse_duration_option("--timeout", arg, false, &lim->timeout_ms) < 0 ? -1 : 1;
	case OPT_CPU_TIME: return sr_parse_duration_option("--cpu-time", arg, false, &lim->cpu_time_ms) < 0 ? -1 : 1;
	case OPT_CPUS: name = "--cpus"; r = sbx_parse_positive_double(arg, &lim->cpus); break;
	case OPT_PIDS: name = "--pids"; r = sbx_parse_u32(arg, &lim->pids); break;
	case OPT_TMP: name = "--tmp-size"; r = sbx_parse_size(arg, &lim->tmp_bytes); break;
	case OPT_FSIZE: name = "--fsize"; r = sbx_parse_size(arg, &lim->fsize_bytes); break;
	case OPT_NOFILE: name = "--nofile"; r = sbx_parse_u32(arg, &lim->nofile); break;
	default: return 0;
	}
	if (r < 0) {
		sr_err("invalid value '%s' for %s: %s", arg, name,
		       opt == OPT_MEM || opt == OPT_TMP || opt == OPT_FSIZE
			       ? "expected a size such as 512M or 6G"
			       : opt == OPT_PIDS || opt == OPT_NOFILE ? "expected a positive whole number"
								      : "expected a positive number such as 1.5");
		return -1;
	}
	return 1;
}

int sr_parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* "1 byte", "512 KiB", "15.5 MiB": a size as a person reads it. */
static void human_size(uint64_t b, char *buf, size_t len)
{
	if (b < 1024)
		snprintf(buf, len, "%llu byte%s", (unsigned long long)b, b == 1 ? "" : "s");
	else if (b < (1ull << 20))
		snprintf(buf, len, "%.4g KiB", (double)b / 1024);
	else
		snprintf(buf, len, "%.4g MiB", (double)b / (1 << 20));
}

int sr_warn_limits(const struct sbx_limits *lim, uint64_t min_mem, const char *program)
{
	int n = 0;
	if (lim->mem_bytes < min_mem) {
		char have[32], need[32];
		human_size(lim->mem_bytes, have, sizeof have);
		human_size(min_mem, need, sizeof need);
		sr_err("warning: --mem is %s: %s needs at least %s to start; typical limits are 256M to 2G "
		       "(the default is 1G; a size without a unit is bytes)", have, program, need);
		n++;
	}
	if (lim->timeout_ms < SR_MIN_TIMEOUT_MS) {
		sr_err("warning: --timeout is %llu ms: building a job's sandbox alone takes about 10 ms, so "
		       "most jobs will end as timeout; typical deadlines are 30s to 10min (the default is 600 s)",
		       (unsigned long long)lim->timeout_ms);
		n++;
	}
	return n;
}

int sr_parse_duration_option(const char *name, const char *arg, bool zero_ok, uint64_t *ms)
{
	const char *why = NULL;
	uint64_t v = 0;
	if (sr_parse_duration_ms(arg, &v, &why) == 0 && (v > 0 || zero_ok)) {
		*ms = v;
		return 0;
	}
	sr_err("invalid value '%s' for %s: %s, %s", arg, name, why ? why : "must be more than 0",
	       SR_DURATION_HINT);
	return -1;
}

int sr_exec_exit_status(const struct sbx_result *res)
{
	switch (res->outcome) {
	case OUTCOME_OK:
	case OUTCOME_EXIT_NONZERO: return res->exit_code;
	case OUTCOME_SIGNALED:
	case OUTCOME_SECCOMP: return 128 + res->signal;
	case OUTCOME_TIMEOUT:
	case OUTCOME_CPU_LIMIT: return SR_EXIT_TIMEOUT;
	case OUTCOME_OOM: return SR_EXIT_OOM;
	case OUTCOME_OUTPUT_LIMIT:
	case OUTCOME_SETUP_ERROR:
	default: return SR_EXIT_SETUP;
	}
}

int sr_arm_timerfd(int fd, uint64_t first_ms, uint64_t interval_ms)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ms / 1000), (long)(first_ms % 1000) * 1000000L },
		.it_interval = { (time_t)(interval_ms / 1000), (long)(interval_ms % 1000) * 1000000L },
	};
	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int sr_open_bind_source(const char *opt, const char *arg, char *abs, size_t abslen, char *err,
			size_t errlen)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd) || inputs_absolute(cwd, arg, abs, abslen) < 0) {
		snprintf(err, errlen, "%s %s: the path is too long", opt, arg);
		return -ENAMETOOLONG;
	}
	/* The lexical absolute path: with no link on it (refused below), it
	 * is the real path, and ".." meant what it says. */
	_cleanup_close_ int fd = sr_openat2(AT_FDCWD, abs, O_PATH | O_CLOEXEC,
					    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		int e = -fd;
		if (e == ELOOP)
			snprintf(err, errlen,
				 "%s %s: the path is or goes through a symbolic link; sandrun binds only real "
				 "paths, since a link in a tree someone else owns can be swapped at any time "
				 "(name the target itself, e.g. $(realpath %s), if you trust it)", opt, arg, arg);
		else
			snprintf(err, errlen, "%s %s: %s", opt, arg, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
		snprintf(err, errlen, "%s %s: not a directory or a regular file", opt, arg);
		return -EINVAL;
	}
	int r = sr_fd_above_stdio(sr_steal_fd(&fd));
	if (r < 0)
		snprintf(err, errlen, "%s %s: %s", opt, arg, strerror(-r));
	return r;
}
