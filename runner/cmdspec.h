/* runner/cmdspec.h — the --cmd job spec: any command, run once per input in
 * the same sandbox as the built-in analyzer (docs/cmd.md).
 *
 * The command string is split with shellwords_split (no expansion, no
 * shell). Every "{}" in an argument becomes /input/<basename>: a read-only,
 * nosuid, nodev, noexec bind of that one input file, and the working
 * directory is /input; without "{}" the file arrives on stdin (it always
 * does) and the working directory is /. The environment is PATH, HOME=/tmp,
 * LANG=C.UTF-8 and the --env entries; nothing else of the runner's.
 *
 * Everything that can be checked before a job runs is checked by
 * jobspec_open_command: an empty or unbalanced command, a program that is
 * not on the sandbox PATH or under a bound path, a --bind path that does
 * not exist or has a symbolic link on it (sr_open_bind_source), a bad --env, --ok-codes or --output. These are the user's to
 * fix (-EINVAL / -ENOENT, exit status 2).
 */
#ifndef SANDRUN_CMDSPEC_H
#define SANDRUN_CMDSPEC_H

#include "runner/jobspec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The sandbox's PATH (sandbox/child.c's minimal environment). */
#define CMDSPEC_PATH "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
#define CMDSPEC_INPUT_DIR "/input"
#define CMDSPEC_MAX_ENV 64

struct cmdspec_opts {
	const char *command;               /* --cmd */
	const char *output;                /* --output json|text|blob; NULL: json */
	const char *ok_codes;              /* --ok-codes LIST; NULL: none */
	const char *const *env;            /* --env NAME[=VALUE], nenv of them */
	size_t nenv;
	const char *const *bind_paths;     /* --bind-ro / --bind, in order */
	const bool *bind_writable;
	size_t nbinds;
};

/* opts: policy (NULL: "default"), policy_dir, limits, max_output; program
 * is ignored (argv[0] of the command is the program). */
int jobspec_open_command(const struct jobspec_opts *opts, const struct cmdspec_opts *c,
			 struct jobspec **out, char *err, size_t errlen);

/* Per job: argv with {} replaced, the input's bind (from in->bind_fd, the
 * inode the runner checked; never a path), the cwd. */
void cmdspec_sbx_spec(const struct jobspec *js, const struct jobspec_input *in, int out_fd, int err_fd,
		      struct sbx_spec *out);
void cmdspec_job_free(struct cmd_job *job);
/* The "command" member of the spec's description (the key). */
json_t *cmdspec_describe(const struct jobspec *js);

/* ---- pure helpers (tests/unit/test_cmdspec.c) ------------------------- */

/* "json", "text", "blob" -> the store's result kind; -EINVAL otherwise. */
int cmdspec_parse_output(const char *s, enum store_result_kind *out);
/* "3,4,127": whole numbers 1..255, comma-separated, no blanks, at most
 * max of them; -EINVAL with a message otherwise. */
int cmdspec_parse_ok_codes(const char *s, int *codes, size_t max, size_t *n, char *err, size_t errlen);
/* NAME: [A-Za-z_][A-Za-z0-9_]*, up to the first '=' (or the end). */
bool cmdspec_env_name_valid(const char *arg);
/* The job's whole environment: PATH, HOME, LANG, then args (--env NAME=VALUE,
 * or NAME: sandrun's own value) in order, a later NAME replacing an
 * earlier one. *envp is a calloc'd NULL-terminated array of malloc'd
 * entries (freed by the caller, also after a failure). 0, -EINVAL (message
 * in err) or -ENOMEM. `run --cmd` and `exec --env` share it. */
int cmdspec_env_build(const char *const *args, size_t nargs, char ***envp, char *err, size_t errlen);
/* Copy arg with every "{}" replaced by repl; malloc'd, NULL on ENOMEM. */
char *cmdspec_subst(const char *arg, const char *repl);
/* The file name an input gets under /input: the last component of path,
 * with ".." broken up (a bind target may not hold it) and "input" for an
 * empty one. */
void cmdspec_input_name(const char *path, char *out, size_t outlen);
/* Whether the absolute path p is visible in the sandbox: under a system
 * directory (/usr /bin /sbin /lib* /etc) or under one of the bind targets. */
bool cmdspec_path_visible(const char *p, const struct sbx_bind *binds, size_t nbinds);

#endif
