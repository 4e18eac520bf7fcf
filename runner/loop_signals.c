/* runner/loop_signals.c — the event loop's signals: SIGINT/SIGTERM/SIGHUP
 * (a graceful stop, the second one stops the jobs), SIGUSR1 (pause and
 * resume every job), SIGUSR2 (print the status line). docs/runner.md. */
#include "runner/loop_internal.h"
#include "runner/common.h"
#include "lib/fd.h"

#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void set_paused(struct loop *l, bool pause)
{
	if (l->paused == pause)
		return;
	for (int i = 0; i < l->nslots; i++) {
		struct slot *s = &l->slots[i];
		if (!s->used || s->killed)
			continue;
		/* The job's deadline and CPU check stop with it (sbx_job_freeze). */
		struct sbx_err e = SBX_ERR_INIT;
		int r;
		if (pause) {
			if ((r = sbx_job_freeze(s->job, true, &e)) == 0)
				s->frozen = true;
			else
				progress_message(l->cfg->progress, "cannot pause %s: %s", s->claim.path,
						 sbx_err_text(&e, r));
		} else {
			if (s->frozen && (r = sbx_job_freeze(s->job, false, &e)) < 0)
				progress_message(l->cfg->progress, "cannot resume %s: %s", s->claim.path,
						 sbx_err_text(&e, r));
			s->frozen = false;
		}
	}
	l->paused = pause;
	progress_notice(l->cfg->progress, pause ? "paused %d running job%s (send SIGUSR1 again to resume)"
						: "resumed %d job%s", l->running, l->running == 1 ? "" : "s");
}

static void on_signal(struct loop *l, int signo)
{
	const struct loop_config *cfg = l->cfg;
	switch (signo) {
	case SIGHUP: /* a closed terminal or a dropped session: a graceful stop too */
	case SIGINT:
	case SIGTERM:
		if (l->res->signal) { /* the second one: no more grace */
			if (!l->kill_sent && l->running > 0) {
				progress_notice(cfg->progress, "SIG%s again: stopping %d job%s now",
						sigabbrev_np(signo), l->running, l->running == 1 ? "" : "s");
				loop_kill_all(l);
			}
			return;
		}
		l->res->signal = signo;
		l->stopping = true;
		set_paused(l, false);
		l->grace_deadline_ms = sr_now_ms() + cfg->grace_ms;
		if (l->running > 0 && cfg->grace_ms > 0)
			progress_notice(cfg->progress,
					"SIG%s: starting nothing new; waiting up to %.0f s for %d running job%s"
					" (again to stop them now)",
					sigabbrev_np(signo), (double)cfg->grace_ms / 1000, l->running,
					l->running == 1 ? "" : "s");
		else if (l->running > 0)
			loop_kill_all(l);
		return;
	case SIGUSR1:
		if (!l->stopping)
			set_paused(l, !l->paused);
		return;
	case SIGUSR2:
		loop_update_counts(l);
		progress_print_status(cfg->progress);
		return;
	}
}

void loop_drain_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->cfg->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
		on_signal(l, (int)si.ssi_signo);
}
