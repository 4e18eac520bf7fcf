/* runner/loop_finish.c — an attempt's end, recorded: finished (with its
 * retry decision and the store's last word on its output), released by the
 * user's interrupt, or the input's own error; then said (progress), told
 * to a waiting client (the service hook) and checked against --halt. */
#include "runner/loop_internal.h"
#include "runner/common.h"
#include "runner/failures.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* The service hook, after the store has the attempt's end. */
static void tell_finish(struct loop *l, int64_t item_id, const struct progress_finished *f,
			const struct out_capture *out)
{
	if (!l->cfg->on_finish)
		return;
	bool done = strcmp(f->status, "done") == 0 && out;
	struct loop_finish lf = { .item_id = item_id, .f = f, .result = done ? out->buf : NULL,
				  .result_len = done ? out->len : 0 };
	l->cfg->on_finish(l->cfg->feed_ctx, &lf);
}

/* The input was gone or replaced when its job started: recorded as the
 * item's input error (no attempt spent), said, and told to a waiting
 * client. */
void loop_record_input_error(struct loop *l, const struct store_claim *claim, const char *msg)
{
	const struct loop_config *cfg = l->cfg;
	int r = l->offline ? -ENOTCONN : store_attempt_input_error(cfg->st, claim, msg);
	if (r == -ENOTCONN) /* said, not recorded: the next reclaim takes the lease back */
		loop_went_offline(l);
	if (r < 0 && r != STORE_ESTALE && r != -ENOTCONN)
		loop_store_failed(l, "recording an input error");
	else
		progress_input_error(cfg->progress, claim->item_id, claim->path, msg, r == 0);
	struct progress_finished f = { .path = claim->path, .attempt = claim->attempt_no,
				       .outcome = "input_error", .status = r == 0 ? "failed" : "unrecorded",
				       .exit_code = -1, .wall_ms = -1, .cpu_ms = -1,
				       .peak_memory_bytes = -1, .oom_kills = -1, .error = msg };
	tell_finish(l, claim->item_id, &f, NULL);
}

/* The store refused the end for a reason that is not a failure of the
 * run: the lease was taken back (a fencing token gone stale: counted and
 * said), or the database stayed unreachable (dropped, said). */
static bool end_unwritten(struct loop *l, struct slot *s, int r)
{
	if (r == STORE_ESTALE) {
		l->res->lost_leases++;
		progress_message(l->cfg->progress, "%s", store_errmsg(l->cfg->st));
		return true;
	}
	if (r == -ENOTCONN) {
		loop_dropped(l, s);
		return true;
	}
	return false;
}

void loop_record_finish(struct loop *l, struct slot *s, const struct sbx_result *res,
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
	int r = l->offline ? -ENOTCONN : store_attempt_finish(cfg->st, &s->claim, &end, &bad_output);
	if (r == -ENOTCONN) {
		loop_went_offline(l);
		if (loop_park(l, s, res, v_in, false))
			return; /* written after the reconnect */
	}
	const char *status = outcome_succeeded(v.outcome) ? "done" : retry ? "pending" : "failed";
	if (bad_output) { /* the store's check is the last word */
		v.outcome = OUTCOME_BAD_OUTPUT;
		name = outcome_name(v.outcome);
		status = "failed";
		snprintf(v.error, sizeof v.error, "the result is not valid JSON (%zu bytes)", s->out.len);
	}
	if (end_unwritten(l, s, r)) {
		status = "unrecorded";
	} else if (r < 0) {
		loop_store_failed(l, "recording an attempt");
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
	tell_finish(l, s->claim.item_id, &f, v.store_result ? &s->out : NULL);
	loop_release_slot(l, s);
	loop_check_halt(l);
}

/* --halt: enough failures in this run? Then start nothing new (and with
 * now, stop the running jobs: released, not counted). */
void loop_check_halt(struct loop *l)
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
		loop_kill_all(l);
}

/* The user's interrupt cut this attempt short: back to pending, uncounted. */
void loop_record_release(struct loop *l, struct slot *s, const struct sbx_result *res)
{
	const struct loop_config *cfg = l->cfg;
	int r = l->offline ? -ENOTCONN : store_attempt_release(cfg->st, &s->claim);
	if (r == -ENOTCONN) {
		loop_went_offline(l);
		if (loop_park(l, s, res, NULL, true))
			return; /* given back after the reconnect */
	}
	const char *status = "pending";
	if (end_unwritten(l, s, r)) {
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
	tell_finish(l, s->claim.item_id, &f, NULL);
	loop_release_slot(l, s);
}
