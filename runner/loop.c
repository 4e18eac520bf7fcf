/* runner/loop.c — the batch runner's event loop (see loop.h and
 * docs/runner.md). Everything that is not waiting on the kernel — path
 * rules, outcome mapping, formatting — lives in inputs.c, jobspec.c and
 * progress.c, so this file is only the wiring of descriptors to decisions. */
#include "runner/loop_internal.h"
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
 * this often: another runner may have put items back. On PostgreSQL a
 * NOTIFY (store_wakeup_fd) says so at once; this poll is the fallback for
 * the notifications lost while the listening connection was down. */
#define QUEUE_RECHECK_MS 5000
/* Bytes read from one pipe per wakeup, so one chatty job cannot starve
 * the others (the rest is read at the next epoll_wait). */
#define READ_BUDGET (1u << 20)
/* Claims per admit() before the loop looks at its events again. */
#define ADMIT_BUDGET 256

enum ev_kind { EV_PIDFD = 1, EV_STDOUT, EV_STDERR, EV_WATCH, EV_TICK, EV_SIGNAL, EV_SETUP, EV_WAKE };

/* epoll data: kind | slot << 8 | generation << 32. The generation tells a
 * stale event (its job finished earlier in the same batch) from a live one. */
static uint64_t ev_data(enum ev_kind kind, uint32_t slot, uint32_t gen)
{
	return (uint64_t)kind | (uint64_t)slot << 8 | (uint64_t)gen << 32;
}

/* ---- small helpers --------------------------------------------------- */

static int watch(struct loop *l, int fd, enum ev_kind kind, uint32_t slot, uint32_t gen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = ev_data(kind, slot, gen) };
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void loop_update_counts(struct loop *l)
{
	struct progress_counts *c = progress_counts(l->cfg->progress);
	c->elapsed_s = (double)(sr_now_ms() - l->start_ms) / 1000.0;
	c->paused = l->paused;
	c->stopping = l->stopping;
	c->waiting_memory = l->waiting_memory;
	c->queueing = l->feeding && !l->stopping;
}



void loop_kill_slot(struct loop *l, struct slot *s, enum sbx_kill_reason why)
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

int loop_stop_item(struct loop *l, int64_t item_id)
{
	for (int i = 0; i < l->nslots; i++)
		if (l->slots[i].used && l->slots[i].job && l->slots[i].claim.item_id == item_id) {
			loop_kill_slot(l, &l->slots[i], SBX_KILL_INTERRUPT);
			return 1;
		}
	return 0;
}

void loop_kill_all(struct loop *l)
{
	for (int i = 0; i < l->nslots; i++)
		if (l->slots[i].used)
			loop_kill_slot(l, &l->slots[i], SBX_KILL_INTERRUPT);
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
			loop_kill_slot(l, s, SBX_KILL_OUTPUT);
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

static void finish_job(struct loop *l, struct slot *s);


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
		loop_record_input_error(l, claim, inputs_errno_message(in_fd));
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
			loop_record_finish(l, s, &res, &v);
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
		loop_kill_slot(l, s, SBX_KILL_INTERRUPT);
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

/* Fill free slots from the queue while admission allows: one claim
 * (one transaction) for all the free slots, or for one under --memfree
 * (each start waits for memory). A start that stops the run gives the
 * rest of the batch back, uncounted. */
static void admit(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	l->waiting_memory = false;
	l->admit_more = false;
	/* Claims that start no job (input errors) fill no slot: after this
	 * many, back to epoll (at once) so signals and events are not starved
	 * by a queue of vanished files. */
	int budget = ADMIT_BUDGET;
	while (!l->stopping && !l->paused && !l->offline && !l->queue_empty && l->running < cfg->jobs) {
		if ((budget -= cfg->jobs - l->running) < 0) {
			l->admit_more = true;
			return;
		}
		if (cfg->memfree_bytes && !loop_memory_allows_start(cfg->memfree_bytes)) {
			l->waiting_memory = true;
			return;
		}
		int want = cfg->memfree_bytes ? 1 : cfg->jobs - l->running;
		int n = store_claim_batch(cfg->st, l->run_id, cfg->js->key, l->claims, want);
		if (n == STORE_ESTALE) {
			loop_rejoin(l);
			continue;
		}
		if (n == -ENOTCONN) { /* nothing claimed, or unknown: see loop_offline.c */
			loop_went_offline(l);
			return;
		}
		if (n < 0) {
			loop_store_failed(l, "claiming the next item");
			return;
		}
		l->queue_empty = n < want; /* SKIP LOCKED: the rest is others' */
		for (int i = 0; i < n; i++) {
			if (!l->stopping) {
				start_job(l, free_slot(l), &l->claims[i]);
			} else {
				if (store_attempt_release(cfg->st, &l->claims[i]) < 0)
					progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
				store_claim_free(&l->claims[i]);
			}
		}
	}
}

/* ---- finishing ------------------------------------------------------- */

void loop_release_slot(struct loop *l, struct slot *s)
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
		loop_record_release(l, s, &res);
		return;
	}
	/* Without root the child finds the input again by its path; its
	 * directory's owner renamed it away every time it looked. */
	if (res.input_changed) {
		loop_record_input_error(l, &s->claim, inputs_errno_message(-ESTALE));
		loop_release_slot(l, s);
		loop_check_halt(l);
		return;
	}
	bool valid = true;
	int cr = 0;
	if (res.outcome == OUTCOME_OK && !s->out.overflow && cfg->js->result_kind == STORE_RESULT_JSON &&
	    (cr = store_result_check_json(cfg->st, s->out.buf ? s->out.buf : "", s->out.len, &valid)) < 0) {
		/* Unreachable: the store checks it again when the finish is
		 * written (store_attempt_end_prepare), after the reconnect. */
		valid = cr == -ENOTCONN;
		if (cr != -ENOTCONN)
			loop_store_failed(l, "checking a result");
	}
	struct job_capture cap = {
		.out = s->out.buf, .out_len = s->out.len, .out_overflow = s->out.overflow,
		.err_tail = s->err.buf, .err_len = s->err.len,
	};
	struct job_verdict v;
	jobspec_verdict(cfg->js, &res, &cap, valid, &v);
	loop_record_finish(l, s, &res, &v);
}

/* ---- wake-ups, tick ------------------------------------------------- */

/* The store's wake-up descriptor in the epoll set (again after it was
 * lost: the store reconnects at most every few seconds). */
static void watch_wakeups(struct loop *l)
{
	int fd = l->wake_fd < 0 ? store_wakeup_fd(l->cfg->st) : -1;
	if (fd >= 0 && watch(l, fd, EV_WAKE, 0, 0) == 0)
		l->wake_fd = fd;
}

/* Another process made items pending (or the connection dropped: look
 * anyway, and watch the next one). */
static void on_wakeup(struct loop *l)
{
	int n = store_wakeup_drain(l->cfg->st);
	if (n < 0) {
		unwatch(l, l->wake_fd);
		l->wake_fd = -1;
	}
	if (n != 0)
		l->queue_empty = false;
}

static void on_tick(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	uint64_t expirations, now = sr_now_ms();
	if (read(l->tick_fd, &expirations, sizeof expirations) < 0) { /* nothing due */ }
	if (now >= l->next_heartbeat_ms && !l->offline) {
		l->next_heartbeat_ms = now + EVERY(HEARTBEAT_MS, cfg->lease_ms, 3);
		/* A missed heartbeat is not fatal: leases go stale only after
		 * minutes. A run judged lost (STORE_ESTALE) rejoins. */
		int hb = store_run_heartbeat(cfg->st, l->run_id);
		if (hb == STORE_ESTALE)
			loop_rejoin(l);
		else if (hb == -ENOTCONN)
			loop_went_offline(l);
		else if (hb < 0)
			progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
	}
	if (now >= l->next_reclaim_ms && !l->stopping && !l->offline) {
		l->next_reclaim_ms = now + EVERY(RECLAIM_MS, cfg->lease_ms, 2);
		int n = 0;
		int max = retry_max_attempts("runner_lost", cfg->max_retries, cfg->retry_mask);
		int rr = store_reclaim_dead(cfg->st, max, &n);
		if (rr == -ENOTCONN)
			loop_went_offline(l);
		else if (rr < 0)
			progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
		else if (n > 0)
			l->queue_empty = false;
	}
	loop_offline_tick(l, now);
	if (!l->offline)
		watch_wakeups(l);
	if (l->retry_at_ms && now >= l->retry_at_ms) { /* a delayed retry's time has come */
		l->retry_at_ms = 0;
		l->queue_empty = false;
	}
	if (l->queue_empty && now >= l->next_queue_ms) {
		l->next_queue_ms = now + QUEUE_RECHECK_MS;
		l->queue_empty = false;
	}
	if (l->stopping && l->res->signal && !l->kill_sent && l->running > 0 && now >= l->grace_deadline_ms) {
		progress_notice(cfg->progress, "grace period over: stopping %d job%s", l->running,
				l->running == 1 ? "" : "s");
		loop_kill_all(l);
	}
	loop_update_counts(l);
	progress_tick(cfg->progress, false);
}

static void dispatch(struct loop *l, uint64_t data)
{
	enum ev_kind kind = (enum ev_kind)(data & 0xff);
	if (kind == EV_TICK) {
		on_tick(l);
		return;
	}
	if (kind == EV_SIGNAL || kind == EV_WAKE) {
		kind == EV_SIGNAL ? loop_drain_signals(l) : on_wakeup(l);
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
			loop_kill_slot(l, s, why);
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
	case LOOP_FEED_OFFLINE:
		loop_went_offline(l); /* no more steps until the reconnect */
		break;
	case LOOP_FEED_STOP:
		l->feeding = false;
		l->stopping = true;
		if (!l->res->fatal)
			l->res->fatal = exit_status ? exit_status : SR_EXIT_STORE;
		/* A store that cannot queue will not record finishes either. */
		if (l->res->fatal == SR_EXIT_STORE)
			loop_kill_all(l);
		break;
	}
	l->queue_empty = false; /* new items may be pending */
}

/* --retry-delay: whether a pending item of this spec waits for its
 * not_before (store_retry_wait). Then the loop idles until that time (the
 * tick puts the queue back in play) instead of ending: signals still stop
 * it, leaving the item pending with its not_before in the store. */
static bool waiting_for_retry(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	uint64_t now = sr_now_ms();
	if (l->retry_at_ms > now)
		return true;
	int64_t wait = -1;
	int r = l->offline ? -ENOTCONN : store_retry_wait(cfg->st, cfg->js->key, &wait);
	if (r == -ENOTCONN) { /* cannot tell until the reconnect: wait for it */
		loop_went_offline(l);
		return true;
	}
	if (r < 0) {
		/* Cannot tell: end as before --retry-delay; the item stays
		 * pending for the next run. */
		progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
		return false;
	}
	if (wait < 0)
		return false;
	l->retry_at_ms = now + (uint64_t)wait;
	if (!l->retry_at_ms)
		l->retry_at_ms = 1;
	return true;
}

static bool finished(struct loop *l)
{
	if (l->running > 0)
		return false;
	if (l->stopping)
		return true;
	if (l->offline)
		return false; /* reconnecting: the queue may hold more (loop_offline.c) */
	if (l->feeding)
		return false; /* the inputs not queued yet may hold work */
	/* Idle: done when there is nothing to claim, or while paused with
	 * nothing running and nothing pending. */
	return l->queue_empty && !l->waiting_memory && !waiting_for_retry(l);
}

int loop_run(const struct loop_config *cfg, struct loop_result *res)
{
	struct loop l = { .cfg = cfg, .res = res, .nslots = cfg->jobs, .feeding = cfg->feed != NULL,
			  .wake_fd = -1, .run_id = cfg->run_id };
	memset(res, 0, sizeof *res);
	l.slots = calloc((size_t)cfg->jobs, sizeof *l.slots);
	l.claims = calloc((size_t)cfg->jobs, sizeof *l.claims);
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	_cleanup_close_ int tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!l.slots || !l.claims || ep < 0 || tick < 0) {
		int e = l.slots && l.claims ? -errno : -ENOMEM;
		free(l.slots), free(l.claims);
		return e;
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
		free(l.slots), free(l.claims);
		return r;
	}
	if (cfg->self)
		*cfg->self = &l;
	l.start_ms = sr_now_ms();
	l.next_heartbeat_ms = l.start_ms + EVERY(HEARTBEAT_MS, cfg->lease_ms, 3);
	l.next_reclaim_ms = l.start_ms + EVERY(RECLAIM_MS, cfg->lease_ms, 2);
	watch_wakeups(&l);
	/* A signal that came while the batch was being queued counts. */
	loop_drain_signals(&l);
	for (;;) {
		admit(&l);
		if (finished(&l))
			break;
		struct epoll_event evs[64];
		bool feed_now = l.feeding && !l.stopping && !l.feed_waiting && !l.offline;
		/* Nothing to do until the next event: make the next job's
		 * network namespace now rather than when it starts. */
		struct sbx_err perr = SBX_ERR_INIT;
		int pr;
		if (!l.stopping && !l.queue_empty && (pr = sbx_run_prepare(cfg->sbx, &perr)) < 0)
			progress_message(cfg->progress, "warning: %s", sbx_err_text(&perr, pr));
		int n = epoll_wait(ep, evs, (int)SR_ARRAY_LEN(evs), feed_now || l.admit_more ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* Cannot wait any more: stop every job rather than leave
			 * them unwatched; their leases are reclaimed next time. */
			r = -errno;
			progress_message(cfg->progress, "epoll_wait: %s", strerror(-r));
			for (int i = 0; i < l.nslots; i++)
				if (l.slots[i].used) {
					loop_kill_slot(&l, &l.slots[i], SBX_KILL_INTERRUPT);
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
		if (l.feeding && !l.stopping && !l.feed_waiting && !l.offline)
			feed_step(&l);
	}
	if (cfg->self)
		*cfg->self = NULL;
	loop_update_counts(&l);
	res->elapsed_s = (double)(sr_now_ms() - l.start_ms) / 1000.0;
	free(l.slots), free(l.claims);
	return r;
}
