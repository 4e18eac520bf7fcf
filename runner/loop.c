/* runner/loop.c — the batch runner's event loop (see loop.h and
 * docs/runner.md). Everything that is not waiting on the kernel — path
 * rules, outcome mapping, formatting — lives in inputs.c, jobspec.c and
 * progress.c, so this file is only the wiring of descriptors to decisions. */
#include "runner/loop.h"
#include "runner/common.h"
#include "runner/failures.h"
#include "runner/inputs.h"
#include "store/store.h"
#include "lib/fd.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#define TICK_MS 250
#define HEARTBEAT_MS 5000
#define RECLAIM_MS 60000
/* With a lease timeout: three heartbeats and two reclaim rounds per lease. */
#define EVERY(dflt, lease_ms, n) ((lease_ms) && (lease_ms) / (n) < (dflt) ? (lease_ms) / (n) : (dflt))
/* With jobs still running and nothing pending, look at the queue again
 * this often: another runner may have put items back. */
#define QUEUE_RECHECK_MS 5000
/* Bytes read from one pipe per wakeup, so one chatty job cannot starve
 * the others (the rest is read at the next epoll_wait). */
#define READ_BUDGET (1u << 20)

enum ev_kind { EV_PIDFD = 1, EV_STDOUT, EV_STDERR, EV_WATCH, EV_TICK, EV_SIGNAL, EV_SETUP };

/* epoll data: kind | slot << 8 | generation << 32. The generation tells a
 * stale event (its job finished earlier in the same batch) from a live one. */
static uint64_t ev_data(enum ev_kind kind, uint32_t slot, uint32_t gen)
{
	return (uint64_t)kind | (uint64_t)slot << 8 | (uint64_t)gen << 32;
}

struct slot {
	bool used;
	uint32_t gen;
	struct sbx_job *job;
	struct store_claim claim;
	int out_fd, err_fd;
	struct out_capture out;
	struct tail_capture err;
	bool frozen, killed;
};

struct loop {
	const struct loop_config *cfg;
	struct loop_result *res;
	int ep, tick_fd;
	struct slot *slots;
	int nslots, running;
	bool queue_empty, stopping, paused, kill_sent, waiting_memory;
	bool feeding, feed_waiting;  /* inputs left to queue; waiting for feed_fd */
	uint64_t start_ms, grace_deadline_ms, next_heartbeat_ms, next_reclaim_ms, next_queue_ms;
};

/* ---- small helpers --------------------------------------------------- */

int loop_parse_memavailable(const char *meminfo, uint64_t *bytes)
{
	const char *p = strstr(meminfo, "MemAvailable:");
	if (!p || (p != meminfo && p[-1] != '\n'))
		return -ENOENT;
	unsigned long long kb;
	if (sscanf(p, "MemAvailable: %llu kB", &kb) != 1)
		return -EINVAL;
	*bytes = (uint64_t)kb * 1024;
	return 0;
}

/* Whether --memfree lets a new job start now. Unknown counts as yes: a
 * kernel without MemAvailable must not stall the batch forever. */
static bool memory_allows_start(uint64_t need)
{
	char buf[4096];
	uint64_t avail;
	if (sr_read_file_at(AT_FDCWD, "/proc/meminfo", buf, sizeof buf) < 0 ||
	    loop_parse_memavailable(buf, &avail) < 0)
		return true;
	return avail >= need;
}


static int watch(struct loop *l, int fd, enum ev_kind kind, uint32_t slot, uint32_t gen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = ev_data(kind, slot, gen) };
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void update_counts(struct loop *l)
{
	struct progress_counts *c = progress_counts(l->cfg->progress);
	c->elapsed_s = (double)(sr_now_ms() - l->start_ms) / 1000.0;
	c->paused = l->paused;
	c->stopping = l->stopping;
	c->waiting_memory = l->waiting_memory;
	c->queueing = l->feeding && !l->stopping;
}

static void kill_all(struct loop *l);

/* The store failed under us: nothing more can be recorded, so stop fast.
 * Running jobs are killed and released if the store lets us; otherwise
 * their leases stay and the next run reclaims them. */
static void store_failed(struct loop *l, const char *what)
{
	progress_message(l->cfg->progress, "%s: %s", what, store_errmsg(l->cfg->st));
	if (!l->res->fatal)
		l->res->fatal = SR_EXIT_STORE;
	l->stopping = true;
	kill_all(l);
}

static void kill_slot(struct loop *l, struct slot *s, enum sbx_kill_reason why)
{
	if (s->killed || !s->job)
		return;
	/* A v1-frozen task does not die until thawed. */
	if (s->frozen) {
		sbx_job_freeze(s->job, false, NULL); /* the kill below is what counts */
		s->frozen = false;
	}
	struct sbx_err e = SBX_ERR_INIT;
	int r = sbx_job_kill(s->job, why, &e);
	if (r < 0)
		progress_message(l->cfg->progress, "warning: %s: %s", s->claim.path, sbx_err_text(&e, r));
	s->killed = true;
}

static void kill_all(struct loop *l)
{
	for (int i = 0; i < l->nslots; i++)
		if (l->slots[i].used)
			kill_slot(l, &l->slots[i], SBX_KILL_INTERRUPT);
	l->kill_sent = true;
}

/* ---- reading a job's pipes ------------------------------------------- */

/* Read what is there (up to the budget). Returns 1 at EOF, 0 otherwise. */
static int read_pipe(struct loop *l, struct slot *s, bool is_out, size_t budget)
{
	char buf[65536];
	int fd = is_out ? s->out_fd : s->err_fd;
	size_t got = 0;
	while (fd >= 0 && got < budget) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 0; /* EAGAIN: drained for now */
		if (n == 0)
			return 1;
		got += (size_t)n;
		if (!is_out) {
			if (tail_capture_append(&s->err, buf, (size_t)n) < 0)
				return 1; /* out of memory: stop keeping it */
			continue;
		}
		int r = out_capture_append(&s->out, buf, (size_t)n);
		if (r != 0) { /* over --max-output (or out of memory): stop it */
			if (r < 0)
				s->out.overflow = true;
			kill_slot(l, s, SBX_KILL_OUTPUT);
			return 1;
		}
	}
	return 0;
}

/* Closing a descriptor is not enough to leave the epoll set: a job that
 * is still building its sandbox holds copies of the runner's descriptors
 * until its close_range, and while any copy of the open file is alive its
 * stale events keep waking the loop. */
static void unwatch(struct loop *l, int fd)
{
	if (fd >= 0)
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
}

static void close_pipe(struct loop *l, int *fd)
{
	unwatch(l, *fd);
	sr_closep(fd);
}

/* ---- starting -------------------------------------------------------- */

static bool transient_start_error(int r)
{
	return r == -ENOMEM || r == -EAGAIN || r == -EMFILE || r == -ENFILE || r == -EINTR;
}

static void record_finish(struct loop *l, struct slot *s, const struct sbx_result *res,
			  const struct job_verdict *v);
static void finish_job(struct loop *l, struct slot *s);
static void check_halt(struct loop *l);

static void start_job(struct loop *l, struct slot *s, struct store_claim *claim)
{
	const struct loop_config *cfg = l->cfg;
	/* The input as a checked descriptor (and for {} the same inode to
	 * bind): from here on nothing resolves claim->path again. */
	_cleanup_close_ int bind_fd = -1;
	_cleanup_close_ int in_fd = inputs_open_file(claim->path, cfg->js->input_arg ? &bind_fd : NULL, NULL);
	if (in_fd < 0) {
		/* Gone or replaced since it was queued: an input error, no
		 * attempt spent. */
		const char *msg = inputs_errno_message(in_fd);
		int r = store_attempt_input_error(cfg->st, claim, msg);
		if (r < 0 && r != STORE_ESTALE)
			store_failed(l, "recording an input error");
		else
			progress_input_error(cfg->progress, claim->item_id, claim->path, msg, r == 0);
		store_claim_free(claim);
		return;
	}
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct sbx_job *job = NULL;
	int r = 0;
	/* This start's own error record: what it holds (or strerror) is what
	 * the store gets as this attempt's error, never an earlier failure's. */
	struct sbx_err e = SBX_ERR_INIT;
	/* Plain pipes: O_NONBLOCK is per open file description, so setting it
	 * on our read ends leaves the job's write ends blocking. */
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = sbx_fail(&e, -errno, "pipe2");
	} else {
		struct sbx_spec spec;
		struct jobspec_input in = { .path = claim->path, .fd = in_fd, .bind_fd = bind_fd };
		jobspec_sbx_spec(cfg->js, &in, outp[1], errp[1], &spec);
		r = sbx_job_start(cfg->sbx, &spec, &job, &e);
	}
	/* The job holds its own copies now; ours would keep EOF from coming. */
	sr_closep(&outp[1]);
	sr_closep(&errp[1]);
	if (r < 0) {
		sr_closep(&outp[0]);
		sr_closep(&errp[0]);
		if (transient_start_error(r)) {
			struct sbx_result res = { .outcome = OUTCOME_SETUP_ERROR, .exit_code = -1 };
			snprintf(res.error, sizeof res.error, "start: %s", sbx_err_text(&e, r));
			struct job_verdict v;
			jobspec_verdict(cfg->js, &res, NULL, false, &v);
			s->claim = *claim;
			s->used = true;
			l->running++;
			progress_started(cfg->progress, claim->item_id, claim->path, claim->attempt_no);
			record_finish(l, s, &res, &v);
			return;
		}
		progress_message(cfg->progress,
				 "cannot start a sandbox: %s (see 'sandrun check'); stopping", sbx_err_text(&e, r));
		if (store_attempt_release(cfg->st, claim) < 0)
			progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
		store_claim_free(claim);
		if (!l->res->fatal)
			l->res->fatal = SR_EXIT_ISOLATION;
		l->stopping = true;
		return;
	}
	*s = (struct slot){
		.used = true, .gen = s->gen + 1, .job = job, .claim = *claim,
		.out_fd = outp[0], .err_fd = errp[0],
		.out = { .limit = cfg->js->max_output },
		.err = { .size = JOBSPEC_STDERR_TAIL },
	};
	uint32_t idx = (uint32_t)(s - l->slots);
	fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	/* The job builds its sandbox while we go on; its setup channel says
	 * when the command has exec'd. Its deadline and CPU check are its own
	 * (the sandbox's timers): we only watch them. */
	bool watched = watch(l, sbx_job_setup_fd(job), EV_SETUP, idx, s->gen) == 0 &&
		       watch(l, sbx_job_pidfd(job), EV_PIDFD, idx, s->gen) == 0 &&
		       watch(l, s->out_fd, EV_STDOUT, idx, s->gen) == 0 &&
		       watch(l, s->err_fd, EV_STDERR, idx, s->gen) == 0;
	int wfds[SBX_JOB_MAX_WATCH];
	int nw = sbx_job_watch_fds(job, wfds);
	for (int i = 0; i < nw && watched; i++)
		watched = watch(l, wfds[i], EV_WATCH, idx, s->gen) == 0;
	l->running++;
	progress_started(cfg->progress, claim->item_id, claim->path, claim->attempt_no);
	if (!watched) {
		/* Unwatchable is unenforceable: stop it and finish it here (it
		 * is released, not counted), as no event would ever end it. */
		progress_message(cfg->progress, "%s: cannot watch the job: %s", s->claim.path, strerror(errno));
		kill_slot(l, s, SBX_KILL_INTERRUPT);
		finish_job(l, s);
	}
}

static struct slot *free_slot(struct loop *l)
{
	for (int i = 0; i < l->nslots; i++)
		if (!l->slots[i].used)
			return &l->slots[i];
	return NULL;
}

/* Fill free slots from the queue while admission allows. */
static void admit(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	l->waiting_memory = false;
	while (!l->stopping && !l->paused && !l->queue_empty && l->running < cfg->jobs) {
		if (cfg->memfree_bytes && !memory_allows_start(cfg->memfree_bytes)) {
			l->waiting_memory = true;
			return;
		}
		struct store_claim claim;
		int r = store_claim_next(cfg->st, cfg->run_id, cfg->js->key, &claim);
		if (r < 0) {
			store_failed(l, "claiming the next item");
			return;
		}
		if (r == 0) {
			l->queue_empty = true;
			return;
		}
		start_job(l, free_slot(l), &claim);
	}
}

/* ---- finishing ------------------------------------------------------- */

static void release_slot(struct loop *l, struct slot *s)
{
	close_pipe(l, &s->out_fd);
	close_pipe(l, &s->err_fd);
	out_capture_free(&s->out);
	tail_capture_free(&s->err);
	store_claim_free(&s->claim);
	uint32_t gen = s->gen;
	*s = (struct slot){ .gen = gen + 1, .out_fd = -1, .err_fd = -1 };
	l->running--;
	/* A retry may have made an item pending again. */
	l->queue_empty = false;
}

static void record_finish(struct loop *l, struct slot *s, const struct sbx_result *res,
			  const struct job_verdict *v_in)
{
	const struct loop_config *cfg = l->cfg;
	struct job_verdict v = *v_in;
	const char *name = outcome_name(v.outcome);
	bool retry = retry_decide(name, s->claim.attempt_no, cfg->max_retries, cfg->retry_mask);
	struct store_attempt_end end = {
		.outcome = name,
		.exit_code = v.exit_code,
		.signal = v.signal,
		.syscall = v.syscall[0] ? v.syscall : NULL,
		.wall_ms = (int64_t)res->wall_ms,
		.cpu_ms = (int64_t)res->cpu_ms,
		.peak_memory_bytes = (int64_t)res->peak_memory_bytes,
		.oom_kills = (int64_t)res->oom_kills,
		.error = v.error[0] ? v.error : NULL,
		.stderr_tail = s->err.buf,
		.stderr_len = s->err.len,
		.result = v.store_result ? s->out.buf : NULL,
		.result_len = v.store_result ? s->out.len : 0,
		.output = s->out.buf, .output_len = s->out.len, /* its head kept if not ok */
		.result_kind = cfg->js->result_kind,
		.retry = retry,
	};
	bool bad_output = false;
	int r = store_attempt_finish(cfg->st, &s->claim, &end, &bad_output);
	const char *status = outcome_succeeded(v.outcome) ? "done" : retry ? "pending" : "failed";
	if (bad_output) { /* the store's check is the last word */
		v.outcome = OUTCOME_BAD_OUTPUT;
		name = outcome_name(v.outcome);
		status = "failed";
		snprintf(v.error, sizeof v.error, "the result is not valid JSON (%zu bytes)", s->out.len);
	}
	if (r == STORE_ESTALE) {
		l->res->lost_leases++;
		progress_message(cfg->progress, "%s", store_errmsg(cfg->st));
		status = "unrecorded";
	} else if (r < 0) {
		store_failed(l, "recording an attempt");
		status = "unrecorded";
	} else {
		l->res->finished++;
		if (strcmp(status, "failed") == 0)
			l->res->failed++;
	}
	struct progress_finished f = {
		.item_id = s->claim.item_id, .path = s->claim.path, .attempt = s->claim.attempt_no,
		.outcome = name, .status = status,
		.exit_code = v.exit_code, .signal = v.signal, .syscall = v.syscall,
		.wall_ms = (int64_t)res->wall_ms, .cpu_ms = (int64_t)res->cpu_ms,
		.peak_memory_bytes = (int64_t)res->peak_memory_bytes, .oom_kills = (int64_t)res->oom_kills,
		.error = v.error,
	};
	progress_finished(cfg->progress, &f, v.outcome);
	release_slot(l, s);
	check_halt(l);
}

/* --halt: enough failures in this run? Then start nothing new (and with
 * now, stop the running jobs: released, not counted). */
static void check_halt(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	const struct loop_result *res = l->res;
	if (l->stopping || !failures_halt(cfg->halt_fails, cfg->halt_percent, res->failed, res->finished))
		return;
	l->res->halted = true;
	l->stopping = true;
	progress_notice(cfg->progress, "--halt: %lld file%s failed in this run (of %lld finished); %s",
			(long long)res->failed, res->failed == 1 ? "" : "s", (long long)res->finished,
			cfg->halt_now ? "stopping the running jobs" : "starting nothing new");
	if (cfg->halt_now)
		kill_all(l);
}

/* The user's interrupt cut this attempt short: back to pending, uncounted. */
static void record_release(struct loop *l, struct slot *s, const struct sbx_result *res)
{
	const struct loop_config *cfg = l->cfg;
	int r = store_attempt_release(cfg->st, &s->claim);
	const char *status = "pending";
	if (r == STORE_ESTALE) {
		l->res->lost_leases++;
		progress_message(cfg->progress, "%s", store_errmsg(cfg->st));
		status = "unrecorded";
	} else if (r < 0) {
		progress_message(cfg->progress, "releasing %s: %s", s->claim.path, store_errmsg(cfg->st));
		if (!l->res->fatal)
			l->res->fatal = SR_EXIT_STORE;
		status = "unrecorded";
	}
	struct progress_finished f = {
		.item_id = s->claim.item_id, .path = s->claim.path, .attempt = s->claim.attempt_no,
		.outcome = "interrupted",
		.status = status, .exit_code = -1, .wall_ms = (int64_t)res->wall_ms,
		.cpu_ms = (int64_t)res->cpu_ms, .peak_memory_bytes = (int64_t)res->peak_memory_bytes,
		.oom_kills = (int64_t)res->oom_kills, .error = "interrupted by the user; not counted",
	};
	progress_finished(cfg->progress, &f, OUTCOME_COUNT);
	release_slot(l, s);
}

/* The job's init has exited: everything of the job is gone, so whatever
 * it wrote is in the pipes (the kernel closes every descriptor of the
 * namespace before the pidfd reports the exit). */
static void finish_job(struct loop *l, struct slot *s)
{
	const struct loop_config *cfg = l->cfg;
	if (read_pipe(l, s, true, SIZE_MAX))
		close_pipe(l, &s->out_fd);
	if (read_pipe(l, s, false, SIZE_MAX))
		close_pipe(l, &s->err_fd);
	struct sbx_result res;
	unwatch(l, sbx_job_setup_fd(s->job));
	unwatch(l, sbx_job_pidfd(s->job));
	int wfds[SBX_JOB_MAX_WATCH];
	for (int i = sbx_job_watch_fds(s->job, wfds); i-- > 0;)
		unwatch(l, wfds[i]);
	struct sbx_err e = SBX_ERR_INIT;
	int r = sbx_job_finish(s->job, &res, &e);
	if (r < 0)
		progress_message(cfg->progress, "warning: %s: %s", s->claim.path, sbx_err_text(&e, r));
	s->job = NULL;
	/* Interrupted, unless the command had already ended on its own. */
	if (res.interrupted && res.outcome != OUTCOME_OK && res.outcome != OUTCOME_EXIT_NONZERO) {
		record_release(l, s, &res);
		return;
	}
	bool valid = true;
	if (res.outcome == OUTCOME_OK && !s->out.overflow && cfg->js->result_kind == STORE_RESULT_JSON &&
	    store_result_check_json(cfg->st, s->out.buf ? s->out.buf : "", s->out.len, &valid) < 0) {
		store_failed(l, "checking a result");
		valid = false;
	}
	struct job_capture cap = {
		.out = s->out.buf, .out_len = s->out.len, .out_overflow = s->out.overflow,
		.err_tail = s->err.buf, .err_len = s->err.len,
	};
	struct job_verdict v;
	jobspec_verdict(cfg->js, &res, &cap, valid, &v);
	record_finish(l, s, &res, &v);
}

/* ---- pause, signals, tick ------------------------------------------- */

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
				kill_all(l);
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
			kill_all(l);
		return;
	case SIGUSR1:
		if (!l->stopping)
			set_paused(l, !l->paused);
		return;
	case SIGUSR2:
		update_counts(l);
		progress_print_status(cfg->progress);
		return;
	}
}

static void drain_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->cfg->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
		on_signal(l, (int)si.ssi_signo);
}

static void on_tick(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	uint64_t expirations, now = sr_now_ms();
	if (read(l->tick_fd, &expirations, sizeof expirations) < 0) { /* nothing due */ }
	if (now >= l->next_heartbeat_ms) {
		l->next_heartbeat_ms = now + EVERY(HEARTBEAT_MS, cfg->lease_ms, 3);
		/* A missed heartbeat is not fatal: leases go stale only after
		 * minutes. But a run judged lost (STORE_ESTALE) has had its
		 * leases taken: every result it still writes would be refused,
		 * so it stops now instead of running jobs for nothing. */
		int hb = store_run_heartbeat(cfg->st, cfg->run_id);
		if (hb == STORE_ESTALE)
			store_failed(l, "this run was judged lost and its leases taken back");
		else if (hb < 0)
			progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
	}
	if (now >= l->next_reclaim_ms && !l->stopping) {
		l->next_reclaim_ms = now + EVERY(RECLAIM_MS, cfg->lease_ms, 2);
		int n = 0;
		int max = retry_max_attempts("runner_lost", cfg->max_retries, cfg->retry_mask);
		if (store_reclaim_dead(cfg->st, max, &n) < 0)
			progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
		else if (n > 0)
			l->queue_empty = false;
	}
	if (l->queue_empty && now >= l->next_queue_ms) {
		l->next_queue_ms = now + QUEUE_RECHECK_MS;
		l->queue_empty = false;
	}
	if (l->stopping && l->res->signal && !l->kill_sent && l->running > 0 && now >= l->grace_deadline_ms) {
		progress_notice(cfg->progress, "grace period over: stopping %d job%s", l->running,
				l->running == 1 ? "" : "s");
		kill_all(l);
	}
	update_counts(l);
	progress_tick(cfg->progress, false);
}

static void dispatch(struct loop *l, uint64_t data)
{
	enum ev_kind kind = (enum ev_kind)(data & 0xff);
	if (kind == EV_TICK) {
		on_tick(l);
		return;
	}
	if (kind == EV_SIGNAL) {
		drain_signals(l);
		return;
	}
	uint32_t idx = (uint32_t)(data >> 8) & 0xffffff, gen = (uint32_t)(data >> 32);
	if (idx >= (uint32_t)l->nslots)
		return;
	struct slot *s = &l->slots[idx];
	if (!s->used || s->gen != gen)
		return; /* finished earlier in this batch of events */
	switch (kind) {
	case EV_PIDFD:
		finish_job(l, s);
		break;
	case EV_STDOUT:
		if (read_pipe(l, s, true, READ_BUDGET))
			close_pipe(l, &s->out_fd);
		break;
	case EV_STDERR:
		if (read_pipe(l, s, false, READ_BUDGET))
			close_pipe(l, &s->err_fd);
		break;
	case EV_SETUP:
		unwatch(l, sbx_job_setup_fd(s->job));
		sbx_job_setup_collect(s->job);
		break;
	case EV_WATCH: {
		/* The job's own deadline or CPU check: it says what is due. */
		enum sbx_kill_reason why = sbx_job_watch_event(s->job);
		if (why != SBX_KILL_NONE)
			kill_slot(l, s, why);
		break;
	}
	default:
		break;
	}
}

/* ---- claim while queueing ------------------------------------------- */

/* The feed fd's epoll data: no job event has all bits set. */
#define FEED_EVENT UINT64_MAX

/* One step of the queueing hook: about a chunk more in the queue. */
static void feed_step(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	int exit_status = 0;
	switch (cfg->feed(cfg->feed_ctx, &exit_status)) {
	case LOOP_FEED_MORE:
		break;
	case LOOP_FEED_WAIT: {
		/* Level-triggered, and removed again at its first event: a
		 * readable pipe that is not being read must not spin the loop. */
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = FEED_EVENT };
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, cfg->feed_fd, &ev) == 0)
			l->feed_waiting = true;
		break; /* else: poll again at the next turn */
	}
	case LOOP_FEED_DONE:
		l->feeding = false;
		break;
	case LOOP_FEED_STOP:
		l->feeding = false;
		l->stopping = true;
		if (!l->res->fatal)
			l->res->fatal = exit_status ? exit_status : SR_EXIT_STORE;
		/* A store that cannot queue will not record finishes either. */
		if (l->res->fatal == SR_EXIT_STORE)
			kill_all(l);
		break;
	}
	l->queue_empty = false; /* new items may be pending */
}

static bool finished(struct loop *l)
{
	if (l->running > 0)
		return false;
	if (l->stopping)
		return true;
	if (l->feeding)
		return false; /* the inputs not queued yet may hold work */
	/* Idle: done when there is nothing to claim, or while paused with
	 * nothing running and nothing pending. */
	return l->queue_empty && !l->waiting_memory;
}

int loop_run(const struct loop_config *cfg, struct loop_result *res)
{
	struct loop l = { .cfg = cfg, .res = res, .nslots = cfg->jobs, .feeding = cfg->feed != NULL };
	memset(res, 0, sizeof *res);
	l.slots = calloc((size_t)cfg->jobs, sizeof *l.slots);
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	_cleanup_close_ int tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!l.slots || ep < 0 || tick < 0) {
		free(l.slots);
		return l.slots ? -errno : -ENOMEM;
	}
	for (int i = 0; i < l.nslots; i++)
		l.slots[i].out_fd = l.slots[i].err_fd = -1;
	l.ep = ep;
	l.tick_fd = tick;
	int r = sr_arm_timerfd(tick, TICK_MS, TICK_MS);
	if (r == 0)
		r = watch(&l, tick, EV_TICK, 0, 0);
	if (r == 0)
		r = watch(&l, cfg->sigfd, EV_SIGNAL, 0, 0);
	if (r < 0) {
		free(l.slots);
		return r;
	}
	l.start_ms = sr_now_ms();
	l.next_heartbeat_ms = l.start_ms + EVERY(HEARTBEAT_MS, cfg->lease_ms, 3);
	l.next_reclaim_ms = l.start_ms + EVERY(RECLAIM_MS, cfg->lease_ms, 2);
	/* A signal that came while the batch was being queued counts. */
	drain_signals(&l);
	for (;;) {
		admit(&l);
		if (finished(&l))
			break;
		struct epoll_event evs[64];
		bool feed_now = l.feeding && !l.stopping && !l.feed_waiting;
		/* Nothing to do until the next event: make the next job's
		 * network namespace now rather than when it starts. */
		struct sbx_err perr = SBX_ERR_INIT;
		int pr;
		if (!l.stopping && !l.queue_empty && (pr = sbx_run_prepare(cfg->sbx, &perr)) < 0)
			progress_message(cfg->progress, "warning: %s", sbx_err_text(&perr, pr));
		int n = epoll_wait(ep, evs, (int)SR_ARRAY_LEN(evs), feed_now ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* Cannot wait any more: stop every job rather than leave
			 * them unwatched; their leases are reclaimed next time. */
			r = -errno;
			progress_message(cfg->progress, "epoll_wait: %s", strerror(-r));
			for (int i = 0; i < l.nslots; i++)
				if (l.slots[i].used) {
					kill_slot(&l, &l.slots[i], SBX_KILL_INTERRUPT);
					finish_job(&l, &l.slots[i]);
				}
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 != FEED_EVENT) {
				dispatch(&l, evs[i].data.u64);
			} else if (l.feed_waiting) { /* the list is readable */
				epoll_ctl(ep, EPOLL_CTL_DEL, cfg->feed_fd, NULL);
				l.feed_waiting = false;
			}
		}
		/* Between epoll waits, after the jobs' events. */
		if (l.feeding && !l.stopping && !l.feed_waiting)
			feed_step(&l);
	}
	update_counts(&l);
	res->elapsed_s = (double)(sr_now_ms() - l.start_ms) / 1000.0;
	free(l.slots);
	return r;
}
