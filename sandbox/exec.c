/* sandbox/exec.c — the command process (pid 2): the last steps before
 * execve. Seccomp goes last, so every earlier step may use syscalls the
 * policy refuses; only execve itself runs under the filter.
 *
 * This runs in a vfork()ed child of the init: no heap, no globals, no
 * return from child_exec_command; every failure ends in _exit. */
#include "child.h"
#include "util.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static char *const minimal_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
	"HOME=/tmp",
	"LANG=C.UTF-8",
	NULL,
};

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

_Noreturn void child_exec_command(const struct child_ctx *ctx)
{
	const struct sbx_spec *spec = ctx->spec;

	STEP("dispositions", default_dispositions());
	STEP("cwd", enter_cwd(spec->cwd));
	STEP("seccomp", sbx_policy_install(spec->policy));
	if (spec->timing)
		child_record(REC_T_SECCOMP, sr_now_us());
	/* The job's own environment and PATH; environ is not touched, as this
	 * process shares the init's memory until execve (see child_main). */
	execvpe(spec->argv[0], spec->argv, spec->envp ? (char **)spec->envp : (char **)minimal_env);
	child_report_failure(ctx, "exec", sbx_fail(-errno, "%s", spec->argv[0]));
}
