/* sandbox/exec.c — the command process (pid 2): the last steps before
 * execve. Landlock, then seccomp last, so every earlier step may use syscalls the
 * policy refuses; only execve itself runs under the filter.
 *
 * This runs in a vfork()ed child of the init, which is suspended until
 * execve: it never returns from child_exec_command, and every failure ends
 * in _exit. It writes no state the init reads afterwards (a failure report
 * formats a message, which only the runner reads). */
#include "child.h"
#include "lib/fd.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char *const minimal_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
	"HOME=/tmp",
	"LANG=C.UTF-8",
	NULL,
};

/* In the init, before the vfork: the command's PATH search and its
 * environment must be the job's, never the runner's (whose PATH may hold
 * other directories, or a relative "."). The init's memory is its own
 * copy since clone3, so this changes nothing in the runner. */
int child_use_job_environ(const struct sbx_spec *spec)
{
	environ = spec->envp ? (char **)spec->envp : (char **)minimal_env;
	return 0;
}

/* SIG_IGN survives execve; a job must start with default dispositions. */
static int default_dispositions(void)
{
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	return 0;
}

static int enter_cwd(const char *cwd)
{
	if (cwd && chdir(cwd) < 0)
		return sbx_fail(-errno, "chdir %s", cwd);
	return 0;
}

_Noreturn void child_exec_command(const struct child_ctx *ctx, int landlock_fd)
{
	const struct sbx_spec *spec = ctx->spec;

	STEP("dispositions", default_dispositions());
	STEP("cwd", enter_cwd(spec->cwd));
	/* Only the command enters the Landlock domain: the init stays
	 * outside it, so the job cannot even signal it (ABI >= 6). */
	STEP("landlock", landlock_restrict(landlock_fd));
	STEP("seccomp", sbx_policy_install(spec->policy));
	if (spec->timing)
		child_record(REC_T_SECCOMP, sr_now_us());
	/* execvp searches the PATH of environ, which the init set to the
	 * job's own environment before the vfork (child_use_job_environ). */
	execvp(spec->argv[0], spec->argv);
	child_report_failure(ctx, "exec", sbx_fail(-errno, "%s", spec->argv[0]));
}
