/* sandbox/reap.c — turn what the kernel told us into one outcome.
 *
 * Precedence matters: a job the runner killed for its deadline dies of
 * SIGKILL, but the truthful answer is "timeout", not "signaled 9"; a job
 * whose grandchild was OOM-killed may still exit 0, but the user asked for
 * a memory limit and it was hit, so "oom" wins over the exit status. */
#include "reap.h"

#include <signal.h>
#include <sys/wait.h>

void sbx_classify(const struct sbx_observation *obs, struct sbx_result *res)
{
	res->exit_code = -1;
	res->signal = 0;

	if (obs->setup_failed) {
		res->outcome = OUTCOME_SETUP_ERROR;
		return;
	}
	if (obs->killed == SBX_KILL_OUTPUT) {
		res->outcome = OUTCOME_OUTPUT_LIMIT;
		return;
	}
	if (obs->oom_kills > 0) {
		res->outcome = OUTCOME_OOM;
		return;
	}
	if (obs->killed == SBX_KILL_CPU) {
		res->outcome = OUTCOME_CPU_LIMIT;
		return;
	}
	if (obs->killed == SBX_KILL_TIMEOUT) {
		res->outcome = OUTCOME_TIMEOUT;
		return;
	}
	/* Without the command's own status (init died first, e.g. killed by
	 * an interrupt) the init's status is the best evidence we have. */
	int st = obs->cmd_status_known ? obs->cmd_wait_status : obs->init_wait_status;
	if (WIFSIGNALED(st)) {
		res->signal = WTERMSIG(st);
		res->outcome = (res->signal == SIGSYS && obs->policy_kills) ? OUTCOME_SECCOMP : OUTCOME_SIGNALED;
		return;
	}
	if (WIFEXITED(st)) {
		res->exit_code = WEXITSTATUS(st);
		res->outcome = res->exit_code == 0 ? OUTCOME_OK : OUTCOME_EXIT_NONZERO;
		return;
	}
	res->outcome = OUTCOME_SIGNALED; /* stopped/continued never reach here */
}
