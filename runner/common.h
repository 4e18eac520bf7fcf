/* runner/common.h — the sandrun command's shared pieces: exit codes,
 * where the installed files are, and limit options shared by `exec` and
 * `run`. */
#ifndef SANDRUN_COMMON_H
#define SANDRUN_COMMON_H

#include "sandbox/sandbox.h"
#include <stdbool.h>
#include <stddef.h>

/* Exit codes, documented in sandrun(1). */
enum {
	SR_EXIT_OK = 0,
	SR_EXIT_SOME_FAILED = 1,
	SR_EXIT_USAGE = 2,
	SR_EXIT_ISOLATION = 3,   /* the requested isolation cannot be enforced */
	SR_EXIT_STORE = 4,
	SR_EXIT_DAMAGED = 5,     /* run: no file failed, but some are damaged */
	SR_EXIT_TIMEOUT = 124,   /* exec: timeout / cpu_limit, as timeout(1) */
	SR_EXIT_SETUP = 125,     /* exec: setup_error */
	SR_EXIT_OOM = 137,       /* exec: oom */
	SR_EXIT_INTERRUPTED_HUP = 129,  /* 128 + the signal, as a shell reports it */
	SR_EXIT_INTERRUPTED_INT = 130,
	SR_EXIT_INTERRUPTED_TERM = 143,
};

/* Print "sandrun: <msg>" to stderr. */
void sr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: message plus a hint; returns SR_EXIT_USAGE. */
int sr_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Directory of the policies and path of the analyzer, found relative to
 * the running binary: installed layout first, then the build tree.
 * $SANDRUN_POLICY_DIR / $SANDRUN_ANALYZER override. */
const char *sr_policy_dir(void);
const char *sr_analyzer_path(void);

/* Limit options shared by exec and run. Returns 1 if `opt` was a limit
 * option and was applied, 0 if it is not one, -1 on a bad value (message
 * printed). */
enum {
	OPT_MEM = 0x100, OPT_TIMEOUT, OPT_CPU_TIME, OPT_CPUS, OPT_PIDS, OPT_TMP,
	OPT_FSIZE, OPT_NOFILE, OPT_POLICY, OPT_BIND_RO, OPT_BIND, OPT_JSON, OPT_TIMING,
	OPT_ETC,
	OPT_LIMITS_END
};
#define SR_LIMIT_LONGOPTS                                            \
	{ "mem", required_argument, NULL, OPT_MEM },                 \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },         \
	{ "cpu-time", required_argument, NULL, OPT_CPU_TIME },       \
	{ "cpus", required_argument, NULL, OPT_CPUS },               \
	{ "pids", required_argument, NULL, OPT_PIDS },               \
	{ "tmp-size", required_argument, NULL, OPT_TMP },            \
	{ "fsize", required_argument, NULL, OPT_FSIZE },             \
	{ "nofile", required_argument, NULL, OPT_NOFILE }
int sr_apply_limit_option(int opt, const char *arg, struct sbx_limits *lim);
/* An option that takes seconds, as a duration (lib/duration.h: 90, 90s,
 * 10min, 1h30m, 1.5h). 0 or -1 with the message printed ("invalid value
 * 'X' for NAME: why, e.g. ..."); 0 ms is refused unless zero_ok. */
/* A whole number in [min, max], nothing else: 0, or -EINVAL. */
int sr_parse_int(const char *s, long min, long max, int *out);
int sr_parse_duration_option(const char *name, const char *arg, bool zero_ok, uint64_t *ms);
extern const char sr_limit_help[];

/* Limits that are accepted but cannot be meant (--mem 1 is one byte): one
 * warning line each on stderr naming the value and what is typical.
 * min_mem: below this the program cannot even start (SR_MIN_MEM_ANALYZER
 * for the built-in analyzer, SR_MIN_MEM_COMMAND for a command). Returns
 * the number of warnings printed. */
#define SR_MIN_MEM_ANALYZER (16ull << 20)
#define SR_MIN_MEM_COMMAND (1ull << 20)
#define SR_MIN_TIMEOUT_MS 100
int sr_warn_limits(const struct sbx_limits *lim, uint64_t min_mem, const char *program);

/* Arm a timerfd: first expiry after first_ms, then every interval_ms
 * (0: once); first_ms 0 disarms. 0 or -errno. */
int sr_arm_timerfd(int fd, uint64_t first_ms, uint64_t interval_ms);

/* The outcome -> exit status mapping of `sandrun exec`. */
int sr_exec_exit_status(const struct sbx_result *res);

/* One job's result as the one-line JSON object of `exec --json` (and the
 * runner's events); malloc'd. */
char *sr_result_to_json(const struct sbx_result *res, bool with_timing);

/* Subcommands. */
/* A --bind/--bind-ro source, opened once per run by the runner (O_PATH,
 * openat2 RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS) and bound from that
 * descriptor for every job: the child never resolves it by path. A link
 * anywhere on the path is refused, not followed: the admin who names the
 * path is trusted, the owners of the directories on it are not, and one of
 * them could plant or swap a link at any instant, this one included. abs
 * gets the lexical absolute path (the target inside the sandbox).
 * Returns the descriptor (always > 2, see sbx_bind_by_fd) or -errno with a
 * message in err naming opt and arg. */
int sr_open_bind_source(const char *opt, const char *arg, char *abs, size_t abslen, char *err,
			size_t errlen);

int cmd_exec(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
