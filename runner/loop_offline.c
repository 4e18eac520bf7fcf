/* runner/loop_offline.c — the loop when the store fails under it: a store
 * error that stops the run, a run judged lost that rejoins, and riding
 * through a lost database connection (docs/scale-out.md "When PostgreSQL
 * is down").
 *
 * A server restart, a failover or a network blip shows as -ENOTCONN from
 * any store call. The runner then claims nothing, lets its running jobs
 * finish and keeps each end in its job's slot (captures and verdict: at
 * most -j of them, as nothing new starts while offline, so the memory is
 * what the running jobs held anyway), and reconnects from the tick with a
 * capped exponential backoff with jitter (retry_backoff_ms), each try said
 * once (a notice: not with --quiet). Back, it heartbeats first (a run not
 * yet judged lost keeps its leases), then writes the kept ends: each whose
 * lease is still its own is recorded; one whose lease was taken back
 * meanwhile is refused by its fencing token (STORE_ESTALE, nothing
 * written) and dropped, said on stderr; then it rejoins if its run was
 * judged lost, and claims again. It gives up after GIVE_UP_LEASES lease
 * timeouts offline (by then every lease it held has long been reclaimable),
 * or at the end of --grace when a signal is stopping it: running jobs are
 * stopped, kept ends dropped (said), and it exits 4; the items stay running
 * under its lease until the next reclaim ends them as runner_lost. */
#include "runner/loop_internal.h"
#include "runner/common.h"
#include "lib/fd.h"

#include <stdio.h>

/* The first retry after a quarter second, doubling up to 10 s, and at most
 * a third of the lease: a server back within the lease sees the heartbeat
 * before anyone may judge the run lost. */
#define RECONNECT_BASE_MS 250
#define RECONNECT_CAP_MS 10000
#define GIVE_UP_LEASES 10

/* The store failed under us: nothing more can be recorded, so stop fast.
 * Running jobs are killed and released if the store lets us; otherwise
 * their leases stay and the next run reclaims them. */
void loop_store_failed(struct loop *l, const char *what)
{
	progress_message(l->cfg->progress, "%s: %s", what, store_errmsg(l->cfg->st));
	if (!l->res->fatal)
		l->res->fatal = SR_EXIT_STORE;
	l->stopping = true;
	loop_kill_all(l);
}

/* This run was judged lost (its heartbeats stopped for the lease timeout:
 * the runner was stopped, suspended or cut off) and its leases were taken
 * back: whatever its jobs would write is refused (STORE_ESTALE), so they
 * stop now (each says so as its finish is refused). Then the runner joins
 * the queue again under a new runs row and claims as usual; nothing of the
 * old run is counted twice (its attempts ended as runner_lost). Stopping
 * anyway (a signal, a failure): no new run. docs/scale-out.md. */
void loop_rejoin(struct loop *l)
{
	const struct loop_config *cfg = l->cfg;
	int64_t old = l->run_id;
	int running = l->running;
	for (int i = 0; i < l->nslots; i++)
		if (l->slots[i].used)
			loop_kill_slot(l, &l->slots[i], SBX_KILL_INTERRUPT);
	if (l->stopping || !cfg->rejoin || cfg->rejoin(cfg->rejoin_ctx, &l->run_id) < 0) {
		loop_store_failed(l, "this run was judged lost and its leases taken back");
		return;
	}
	l->res->rejoined++;
	l->queue_empty = false;
	progress_message(cfg->progress,
			 "run %lld was judged lost (no heartbeat within the lease timeout) and its leases"
			 " were taken back: stopping its %d running job%s; claiming again as run %lld",
			 (long long)old, running, running == 1 ? "" : "s", (long long)l->run_id);
}


/* An end the store will never get from us: the database stayed
 * unreachable. Its item stays running under our lease until a reclaim
 * (ours or another runner's, once this run has ended or gone stale) ends
 * the attempt as runner_lost. */
void loop_dropped(struct loop *l, struct slot *s)
{
	l->res->dropped++;
	progress_message(l->cfg->progress,
			 "%s: attempt %d not recorded, its end dropped: the database stayed unreachable "
			 "(the next lease reclaim takes the item back)",
			 s->claim.path, s->claim.attempt_no);
}

/* ---- a lost connection ----------------------------------------------- */

static uint64_t lease_ms(const struct loop *l)
{
	return l->cfg->lease_ms ? l->cfg->lease_ms : STORE_LEASE_TIMEOUT_DEFAULT_S * 1000ULL;
}

static int64_t next_wait_ms(const struct loop *l, int attempt)
{
	int64_t cap = (int64_t)(lease_ms(l) / 3);
	if (cap > RECONNECT_CAP_MS)
		cap = RECONNECT_CAP_MS;
	return retry_backoff_ms(RECONNECT_BASE_MS, cap, attempt, store_jitter());
}

static int parked_count(const struct loop *l)
{
	int n = 0;
	for (int i = 0; i < l->nslots; i++)
		n += l->slots[i].used && l->slots[i].parked;
	return n;
}

void loop_went_offline(struct loop *l)
{
	if (l->offline)
		return;
	uint64_t now = sr_now_ms();
	l->offline = true;
	l->offline_since_ms = now;
	l->reconnect_tries = 0;
	l->next_reconnect_ms = now + (uint64_t)next_wait_ms(l, 1);
	int jobs = l->running - parked_count(l);
	progress_message(l->cfg->progress,
			 "warning: %s; claiming nothing until the database is back: %d running job%s "
			 "go%s on, their ends kept here; reconnecting (giving up after %llu s)",
			 store_errmsg(l->cfg->st), jobs, jobs == 1 ? "" : "s", jobs == 1 ? "es" : "",
			 (unsigned long long)(GIVE_UP_LEASES * lease_ms(l) / 1000));
}

bool loop_park(struct loop *l, struct slot *s, const struct sbx_result *res,
	       const struct job_verdict *v, bool release)
{
	if (l->gave_up)
		return false;
	s->parked = true;
	s->park_release = release;
	s->park_res = *res;
	if (v)
		s->park_v = *v;
	return true;
}

/* Write (or, given up or offline again, keep or drop) every kept end. */
static void flush_parked(struct loop *l)
{
	for (int i = 0; i < l->nslots; i++) {
		struct slot *s = &l->slots[i];
		if (!s->used || !s->parked)
			continue;
		struct sbx_result res = s->park_res; /* the slot is freed on the way */
		struct job_verdict v = s->park_v;
		s->parked = false;
		if (s->park_release)
			loop_record_release(l, s, &res);
		else
			loop_record_finish(l, s, &res, &v);
	}
}

static void give_up(struct loop *l, const char *why)
{
	int kept = parked_count(l), jobs = l->running - kept;
	l->gave_up = true;
	l->stopping = true;
	if (!l->res->fatal)
		l->res->fatal = SR_EXIT_STORE;
	progress_message(l->cfg->progress,
			 "%s: giving up on it: %d kept end%s dropped and %d running job%s stopped "
			 "(the next lease reclaim takes their items back): %s",
			 why, kept, kept == 1 ? "" : "s", jobs, jobs == 1 ? "" : "s",
			 store_errmsg(l->cfg->st));
	loop_kill_all(l);
	flush_parked(l); /* each dropped, and said */
}

void loop_offline_tick(struct loop *l, uint64_t now)
{
	if (!l->offline || l->gave_up)
		return;
	const struct loop_config *cfg = l->cfg;
	/* `now` may predate the loss (the tick's own calls found it) */
	uint64_t down = now > l->offline_since_ms ? now - l->offline_since_ms : 0;
	if (down >= GIVE_UP_LEASES * lease_ms(l)) {
		char why[128];
		snprintf(why, sizeof why, "the database has been unreachable for %llu s (%d lease timeouts)",
			 (unsigned long long)(down / 1000), GIVE_UP_LEASES);
		give_up(l, why);
		return;
	}
	if (l->stopping && l->res->signal && now >= l->grace_deadline_ms) {
		give_up(l, "stopping, and the database is unreachable");
		return;
	}
	if (now < l->next_reconnect_ms)
		return;
	int r = store_reconnect(cfg->st);
	if (r == -EINPROGRESS)
		return; /* connecting without blocking: looked at again next tick */
	int tries = ++l->reconnect_tries;
	if (r < 0) {
		int64_t wait = next_wait_ms(l, tries + 1);
		l->next_reconnect_ms = now + (uint64_t)wait;
		/* The server's answer once, and again when it changes. */
		uint32_t h = 5381;
		for (const char *c = store_errmsg(cfg->st); *c; c++)
			h = h * 33 + (unsigned char)*c;
		bool same = tries > 1 && h == l->reconnect_err_hash;
		l->reconnect_err_hash = h;
		progress_notice(cfg->progress, "reconnecting: try %d failed, %.1f s after the loss; next in %.1f s%s%s",
				tries, (double)down / 1000.0, (double)wait / 1000.0, same ? "" : ": ",
				same ? "" : store_errmsg(cfg->st));
		return;
	}
	l->offline = false;
	l->res->reconnects++;
	/* The peers cut off by the same outage get one lease timeout to come
	 * back before this runner judges them by their heartbeats. */
	if (l->next_reclaim_ms < now + lease_ms(l))
		l->next_reclaim_ms = now + lease_ms(l);
	int kept = parked_count(l);
	progress_notice(cfg->progress, "reconnected to the database after %.1f s (%d tr%s); writing %d kept end%s",
			(double)down / 1000.0, tries, tries == 1 ? "y" : "ies", kept, kept == 1 ? "" : "s");
	/* First the heartbeat: a run not judged lost yet is alive again, and
	 * no reclaim (our own included) takes its leases from here on. */
	int hb = store_run_heartbeat(cfg->st, l->run_id);
	if (hb == -ENOTCONN) {
		loop_went_offline(l);
		return;
	}
	if (hb < 0 && hb != STORE_ESTALE)
		progress_message(cfg->progress, "warning: %s", store_errmsg(cfg->st));
	flush_parked(l); /* what is still ours is written; the rest refused, said */
	if (hb == STORE_ESTALE && !l->offline)
		loop_rejoin(l);
	l->queue_empty = false;
}
