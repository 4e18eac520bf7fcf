/* runner/cmdspec.c — the --cmd job spec. See cmdspec.h and docs/cmd.md. */
#include "runner/cmdspec.h"
#include "runner/common.h"
#include "lib/shellwords.h"
#include "lib/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cmd_job {
	char **argv;                /* nargv + 1 */
	size_t nargv;
	bool *owned;                /* argv[i] was malloc'd for this job */
	struct sbx_bind binds[JOBSPEC_MAX_BINDS + 1];
	char dst[PATH_MAX];         /* /input/<name> */
};

/* ---- pure helpers ---------------------------------------------------- */

int cmdspec_parse_output(const char *s, enum store_result_kind *out)
{
	if (!s || strcmp(s, "json") == 0)
		*out = STORE_RESULT_JSON;
	else if (strcmp(s, "text") == 0)
		*out = STORE_RESULT_TEXT;
	else if (strcmp(s, "blob") == 0)
		*out = STORE_RESULT_BLOB;
	else
		return -EINVAL;
	return 0;
}

int cmdspec_parse_ok_codes(const char *s, int *codes, size_t max, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (!s || !*s) {
		snprintf(err, errlen, "--ok-codes needs a list such as 1,3");
		return -EINVAL;
	}
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v < 1 || v > 255 || (*end && *end != ',') || *p == '+' || *p == ' ') {
			snprintf(err, errlen,
				 "invalid value '%s' for --ok-codes: expected exit statuses from 1 to 255, "
				 "comma-separated (0 is always ok)", s);
			return -EINVAL;
		}
		if (*n == max) {
			snprintf(err, errlen, "--ok-codes: at most %zu statuses", max);
			return -EINVAL;
		}
		codes[(*n)++] = (int)v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

bool cmdspec_env_name_valid(const char *arg)
{
	const char *p = arg;
	if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		return false;
	for (p++; *p && *p != '='; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

char *cmdspec_subst(const char *arg, const char *repl)
{
	size_t n = 0, rl = strlen(repl);
	for (const char *p = arg; (p = strstr(p, "{}")); p += 2)
		n++;
	char *out = malloc(strlen(arg) + n * rl + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = arg; *p;) {
		if (p[0] == '{' && p[1] == '}') {
			memcpy(o, repl, rl);
			o += rl;
			p += 2;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

void cmdspec_input_name(const char *path, char *out, size_t outlen)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	snprintf(out, outlen, "%s", *b ? b : "input");
	for (char *p = out; *p; p++)
		if (p[0] == '.' && p[1] == '.')
			p[1] = '_';
	if (strcmp(out, ".") == 0)
		snprintf(out, outlen, "input");
}

/* p is a or under a (component-wise). */
static bool under(const char *p, const char *a)
{
	size_t n = strlen(a);
	if (n == 1 && a[0] == '/')
		return true;
	return strncmp(p, a, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

bool cmdspec_path_visible(const char *p, const struct sbx_bind *binds, size_t nbinds)
{
	static const char *const sys[] = { "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc" };
	if (p[0] != '/' || strstr(p, "/../") || strstr(p, "/./"))
		return false;
	for (size_t i = 0; i < SR_ARRAY_LEN(sys); i++)
		if (under(p, sys[i]))
			return true;
	for (size_t i = 0; i < nbinds; i++)
		if (under(p, binds[i].dst))
			return true;
	return false;
}

/* ---- the spec -------------------------------------------------------- */

/* argv[0] as the sandbox will find it, checked on the host (the visible
 * paths are the host's, at the same place). real gets the host file. */
static int resolve_program(const struct jobspec *js, const char *name, char *real, char *err, size_t errlen)
{
	char cand[PATH_MAX];
	if (strchr(name, '/')) {
		if (name[0] != '/') {
			snprintf(err, errlen,
				 "--cmd: the program '%s' is a relative path; give an absolute path "
				 "(and --bind-ro its directory) or a name on the sandbox PATH", name);
			return -EINVAL;
		}
		if (!cmdspec_path_visible(name, js->binds, js->nbinds)) {
			snprintf(err, errlen,
				 "--cmd: the program %s is not visible in the sandbox (only /usr, /bin, /sbin, "
				 "/lib*, /etc and --bind-ro/--bind paths are); add --bind-ro %.*s",
				 name, (int)(strrchr(name, '/') - name), name);
			return -ENOENT;
		}
		if (access(name, X_OK) < 0 || !realpath(name, real)) {
			int e = errno;
			snprintf(err, errlen, "--cmd: the program %s cannot be run: %s", name, strerror(e));
			return -ENOENT;
		}
		return 0;
	}
	char path[] = CMDSPEC_PATH;
	char *save = NULL;
	for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(cand, sizeof cand, "%s/%s", dir, name);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0 &&
		    realpath(cand, real))
			return 0;
	}
	snprintf(err, errlen, "--cmd: the program '%s' is not on the sandbox PATH (%s); give its absolute "
		 "path and --bind-ro it if it lives elsewhere", name, CMDSPEC_PATH);
	return -ENOENT;
}

/* The sandbox has its own of these: a word naming them is not the host's. */
static bool sandbox_own(const char *p)
{
	return strcmp(p, "/") == 0 || strcmp(p, "/tmp") == 0 || under(p, "/dev") || under(p, "/proc") ||
	       under(p, CMDSPEC_INPUT_DIR);
}

/* "--in=/x/y" -> "/x/y"; any other word as it is. */
static const char *arg_value(const char *w)
{
	const char *eq = w[0] == '-' ? strchr(w, '=') : NULL;
	return eq ? eq + 1 : w;
}

/* An argument that names a file of the host the job will not see: a
 * relative path to something in the working directory (the job's is /input
 * or /), or an absolute one outside the sandbox's view. Checked once, here,
 * so a batch does not fail file after file; the message says what to add.
 * A relative word counts when it holds a '/' or is a regular file here: a
 * bare word that happens to name a directory (json, data) is left alone. */
static int check_args(const struct jobspec *js, char *err, size_t errlen)
{
	char cwd[PATH_MAX];
	for (size_t i = 1; js->argv[i]; i++) {
		const char *w = arg_value(js->argv[i]);
		struct stat st;
		if (!*w || strstr(js->argv[i], "{}") || (w == js->argv[i] && w[0] == '-') ||
		    strcmp(w, ".") == 0 || strcmp(w, "..") == 0 || lstat(w, &st) < 0)
			continue;
		if (w[0] != '/') {
			if (!strchr(w, '/') && !S_ISREG(st.st_mode))
				continue;
			if (!getcwd(cwd, sizeof cwd))
				snprintf(cwd, sizeof cwd, "DIR");
			snprintf(err, errlen,
				 "--cmd: the argument '%s' is a relative path to a file of your working directory, "
				 "which the job does not have (it starts in %s); give its absolute path and add "
				 "--bind-ro %s", w, js->input_arg ? CMDSPEC_INPUT_DIR : "/", cwd);
			return -EINVAL;
		}
		if (sandbox_own(w) || cmdspec_path_visible(w, js->binds, js->nbinds))
			continue;
		int dirlen = S_ISDIR(st.st_mode) ? (int)strlen(w) : (int)(strrchr(w, '/') - w);
		snprintf(err, errlen,
			 "--cmd: the argument %s exists here but is not visible in the sandbox (only /usr, /bin, "
			 "/sbin, /lib*, /etc and --bind-ro/--bind paths are); add --bind-ro %.*s",
			 w, dirlen ? dirlen : 1, w);
		return -ENOENT;
	}
	return 0;
}

static int add_binds(struct jobspec *js, const struct cmdspec_opts *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->nbinds; i++) {
		const char *opt = c->bind_writable[i] ? "--bind" : "--bind-ro";
		char real[PATH_MAX];
		if (js->nbinds == JOBSPEC_MAX_BINDS) {
			snprintf(err, errlen, "too many --bind/--bind-ro options (at most %d)", JOBSPEC_MAX_BINDS);
			return -EINVAL;
		}
		/* Opened once, here; every job binds this descriptor. */
		_cleanup_close_ int fd = sr_open_bind_source(opt, c->bind_paths[i], real, sizeof real, err, errlen);
		if (fd < 0)
			return fd == -ENOMEM ? fd : fd == -ELOOP || fd == -EINVAL ? -EINVAL : -ENOENT;
		if (strcmp(real, "/") == 0 || under(real, CMDSPEC_INPUT_DIR) || under(real, "/proc") ||
		    under(real, "/dev")) {
			snprintf(err, errlen, "%s %s: cannot bind %s (the sandbox owns it)", opt, c->bind_paths[i], real);
			return -EINVAL;
		}
		char *s = strdup(real);
		if (!s)
			return -ENOMEM;
		js->binds[js->nbinds++] = (struct sbx_bind){ .src = s, .dst = s, .src_fd = sr_steal_fd(&fd),
							     .writable = c->bind_writable[i] };
	}
	return 0;
}

int cmdspec_env_build(const char *const *args, size_t nargs, char ***envp, char *err, size_t errlen)
{
	static const char *const base[] = { "PATH=" CMDSPEC_PATH, "HOME=/tmp", "LANG=C.UTF-8" };
	size_t n = 0, max = SR_ARRAY_LEN(base) + nargs;
	if (nargs > CMDSPEC_MAX_ENV) {
		snprintf(err, errlen, "too many --env options (at most %d)", CMDSPEC_MAX_ENV);
		return -EINVAL;
	}
	char **env = calloc(max + 1, sizeof *env);
	if (!(*envp = env))
		return -ENOMEM;
	for (size_t i = 0; i < max; i++) {
		const char *arg = i < SR_ARRAY_LEN(base) ? base[i] : args[i - SR_ARRAY_LEN(base)];
		char *entry;
		if (i >= SR_ARRAY_LEN(base) && !cmdspec_env_name_valid(arg)) {
			snprintf(err, errlen, "invalid value '%s' for --env: expected NAME or NAME=VALUE", arg);
			return -EINVAL;
		}
		if (strchr(arg, '=')) {
			entry = strdup(arg);
		} else {
			const char *v = getenv(arg);
			if (!v) {
				snprintf(err, errlen, "--env %s: %s is not set in sandrun's environment "
					 "(give --env %s=VALUE)", arg, arg, arg);
				return -EINVAL;
			}
			if (asprintf(&entry, "%s=%s", arg, v) < 0)
				entry = NULL;
		}
		if (!entry)
			return -ENOMEM;
		size_t nl = (size_t)(strchr(entry, '=') - entry);
		size_t k = 0;
		while (k < n && !(strncmp(env[k], entry, nl + 1) == 0))
			k++;
		if (k < n)
			free(env[k]);
		else
			n++;
		env[k] = entry;
	}
	return 0;
}

/* PATH, HOME, LANG, then --env in order; a later NAME replaces an earlier. */
static int build_env(struct jobspec *js, const struct cmdspec_opts *c, char *err, size_t errlen)
{
	return cmdspec_env_build(c->env, c->nenv, &js->envp, err, errlen);
}

int jobspec_open_command(const struct jobspec_opts *opts, const struct cmdspec_opts *c,
			 struct jobspec **out, char *err, size_t errlen)
{
	struct jobspec *js = calloc(1, sizeof *js);
	if (!js)
		return -ENOMEM;
	js->kind = JOBSPEC_COMMAND;
	js->limits = opts->limits;
	js->etc_extra = opts->etc_extra;
	js->netc_extra = opts->netc_extra;
	js->max_output = opts->max_output ? opts->max_output : JOBSPEC_DEFAULT_MAX_OUTPUT;
	js->bad_input_exit = -1;
	int r = -ENOMEM;
	size_t nwords = 0;
	snprintf(err, errlen, "out of memory");
	if (cmdspec_parse_output(c->output, &js->result_kind) < 0) {
		snprintf(err, errlen, "invalid value '%s' for --output: expected json, text or blob", c->output);
		r = -EINVAL;
		goto fail;
	}
	if (c->ok_codes &&
	    (r = cmdspec_parse_ok_codes(c->ok_codes, js->ok_codes, JOBSPEC_MAX_OK_CODES, &js->nok_codes, err, errlen)) < 0)
		goto fail;
	if (!(js->command = strdup(c->command)))
		goto fail;
	char msg[256];
	if ((r = shellwords_split(c->command, &js->argv, &nwords, msg, sizeof msg)) < 0) {
		snprintf(err, errlen, "--cmd '%s': %s", c->command, r == -EINVAL ? msg : strerror(-r));
		js->argv = NULL;
		if (r != -ENOMEM)
			r = -EINVAL;
		goto fail;
	}
	if (nwords == 0 || !js->argv[0][0]) {
		snprintf(err, errlen, "--cmd: the command is empty");
		r = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < nwords; i++)
		if (strstr(js->argv[i], "{}"))
			js->input_arg = true;
	if (strstr(js->argv[0], "{}")) {
		snprintf(err, errlen, "--cmd: {} cannot be the program (the input is bound noexec)");
		r = -EINVAL;
		goto fail;
	}
	if ((r = add_binds(js, c, err, errlen)) < 0 || (r = build_env(js, c, err, errlen)) < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	char real[PATH_MAX];
	if ((r = resolve_program(js, js->argv[0], real, err, errlen)) < 0 ||
	    (r = check_args(js, err, errlen)) < 0)
		goto fail;
	if ((r = jobspec_sha256_file(real, 0, js->program_sha256)) < 0) {
		snprintf(err, errlen, "--cmd: cannot read the program %s: %s", real, strerror(-r));
		r = -ENOENT;
		goto fail;
	}
	if (!(js->program = strdup(real)) || !(js->policy_arg = strdup(opts->policy ? opts->policy : "default"))) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct cmd_job *job = calloc(1, sizeof *job);
	if (!job || !(job->argv = calloc(nwords + 1, sizeof *job->argv)) ||
	    !(job->owned = calloc(nwords + 1, sizeof *job->owned))) {
		cmdspec_job_free(job);
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	job->nargv = nwords;
	js->job = job;
	if ((r = jobspec_finish(js, opts->policy_dir, err, errlen)) < 0)
		goto fail;
	*out = js;
	return 0;
fail:
	jobspec_free(js);
	return r;
}

static void release_args(struct cmd_job *job)
{
	for (size_t i = 0; i < job->nargv; i++) {
		if (job->owned[i])
			free(job->argv[i]);
		job->owned[i] = false;
		job->argv[i] = NULL;
	}
}

void cmdspec_job_free(struct cmd_job *job)
{
	if (!job)
		return;
	if (job->argv && job->owned)
		release_args(job);
	free(job->argv);
	free(job->owned);
	free(job);
}

void cmdspec_sbx_spec(const struct jobspec *js, const struct jobspec_input *in, int out_fd, int err_fd,
		      struct sbx_spec *out)
{
	struct cmd_job *job = js->job;
	size_t nbinds = js->nbinds;
	release_args(job);
	memcpy(job->binds, js->binds, js->nbinds * sizeof *js->binds);
	if (js->input_arg) {
		char name[NAME_MAX + 1];
		/* The name is the item's (what the user named), never read
		 * back from the descriptor; the file is the descriptor's: the
		 * inode the runner opened and checked, with no path the child
		 * could resolve (src NULL: without a descriptor the job fails
		 * to set up, it never falls back to a path). */
		cmdspec_input_name(in->path ? in->path : "", name, sizeof name);
		snprintf(job->dst, sizeof job->dst, CMDSPEC_INPUT_DIR "/%s", name);
		job->binds[nbinds++] = (struct sbx_bind){ .src = NULL, .src_fd = in->bind_fd, .dst = job->dst,
							  .noexec = true, .input = true };
		for (size_t i = 0; i < job->nargv; i++) {
			char *a = strstr(js->argv[i], "{}") ? cmdspec_subst(js->argv[i], job->dst) : NULL;
			job->owned[i] = a != NULL;
			job->argv[i] = a ? a : js->argv[i];
		}
	} else {
		for (size_t i = 0; i < job->nargv; i++)
			job->argv[i] = js->argv[i];
	}
	job->argv[job->nargv] = NULL;
	*out = (struct sbx_spec){
		.argv = job->argv,
		.envp = js->envp,
		.cwd = js->input_arg ? CMDSPEC_INPUT_DIR : "/",
		.stdin_fd = in->fd,
		.stdout_fd = out_fd,
		.stderr_fd = err_fd,
		.binds = job->binds,
		.nbinds = nbinds,
		.policy = js->policy,
		.limits = js->limits,
		.etc_extra = js->etc_extra,
		.netc_extra = js->netc_extra,
	};
}

json_t *cmdspec_describe(const struct jobspec *js)
{
	json_t *env = json_array(), *binds = json_array(), *ok = json_array();
	for (char **e = js->envp; e && *e; e++)
		json_array_append_new(env, json_string(*e));
	for (size_t i = 0; i < js->nbinds; i++)
		json_array_append_new(binds, json_pack("{s:s, s:b}", "path", js->binds[i].src,
							 "writable", js->binds[i].writable));
	for (size_t i = 0; i < js->nok_codes; i++)
		json_array_append_new(ok, json_integer(js->ok_codes[i]));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "string", js->command ? js->command : "",
			 "program", js->program ? js->program : "", "env", env, "binds", binds,
			 "ok_codes", ok, "input", js->input_arg ? "arg" : "stdin");
}
