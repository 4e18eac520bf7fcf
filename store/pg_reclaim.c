/* store/pg_reclaim.c — taking back the leases of lost runners, on
 * PostgreSQL. Pids mean nothing across hosts: a runner is lost when its
 * runs row has not been heartbeaten for the lease timeout, in database time
 * (so host clocks do not matter). A runner on this very host (same boot id
 * and pid namespace) whose process is gone is lost at once: the pid check
 * of the SQLite backend (store_holder_alive's rules 3-5) only speeds that
 * up. Reclaim is single-flight: one runner at a time, under a
 * transaction-scoped advisory lock; the others skip. docs/scale-out.md. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same host and our pid namespace: does the pid still run the process
 * that started at pid_start? Anything unclear counts as alive. */
static bool local_process_gone(const struct store *st, const char *boot_id, const char *pid_ns,
			       int pid, long long pid_start)
{
	const struct store_self *me = &st->self;
	if (!me->boot_id[0] || strcmp(boot_id, me->boot_id) != 0 || !me->pid_ns[0] ||
	    strcmp(pid_ns, me->pid_ns) != 0)
		return false;
	if (pid == me->pid && pid_start == me->pid_start)
		return false;
	long long start;
	bool zombie;
	int r = store_read_pid_start(pid, &start, &zombie);
	if (r == -ENOENT || r == -ESRCH)
		return true;
	return r == 0 && (zombie || start != pid_start);
}

int pg_dead_runs(struct store *st, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	struct pgp p = { 0 };
	pgp_i64(&p, st->pg->lease_timeout_ms);
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT id, boot_id, pid_ns, pid, pid_start,"
			       " heartbeat_at < now_ms() - $1::bigint FROM runs WHERE ended_at IS NULL",
			       &p, "reading runs", &rc);
	if (!res)
		return rc;
	int rows = PQntuples(res);
	int64_t *v = rows ? calloc((size_t)rows, sizeof *v) : NULL;
	if (rows && !v) {
		PQclear(res);
		return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	}
	for (int i = 0; i < rows; i++) {
		bool stale = PQgetvalue(res, i, 5)[0] == 't';
		if (stale || local_process_gone(st, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
						(int)pg_col_i64(res, i, 3, 0),
						(long long)pg_col_i64(res, i, 4, 0)))
			v[(*n)++] = pg_col_i64(res, i, 0, 0);
	}
	PQclear(res);
	*ids = v;
	return 0;
}

/* Lost runs end ("lost", at their last heartbeat); their open attempts end
 * as runner_lost (counted at claim); their items go back to pending, or to
 * failed once max_attempts attempts of the budget are spent. Items still
 * running under a run that had already ended (a finish or release that
 * failed before its run ended) are its runner's lost leases too: without
 * this they would stay running for ever. One statement, after the
 * candidate runs are locked (lock_runs).
 * Staleness is checked again here, on the row as it is now: a runner whose
 * heartbeat came in since pg_dead_runs() read it is not judged lost. A run
 * of this host (boot id and pid namespace) is in $1 because its process is
 * gone, which no heartbeat can undo. The items put back to pending wake
 * the idle runners (pg_notify, delivered at commit). */
static const char reclaim_sql[] =
	"WITH lost AS (UPDATE runs SET how = 'lost', ended_at = heartbeat_at"
	"  WHERE id = ANY($1::bigint[]) AND ended_at IS NULL"
	"  AND (heartbeat_at < now_ms() - $4::bigint OR (boot_id = $5 AND pid_ns = $6)) RETURNING id),"
	" it AS (UPDATE items i SET"
	"  status = CASE WHEN i.attempts >= $2 THEN 'failed' ELSE 'pending' END,"
	"  last_outcome = 'runner_lost',"
	"  last_error = format('the runner (run %s, pid %s) died while this attempt ran',"
	"   i.lease_run, i.lease_pid),"
	"  last_attempt = i.lease_attempt, lease_run = NULL, lease_attempt = NULL,"
	"  lease_pid = NULL, lease_pid_start = NULL, lease_heartbeat_at = NULL,"
	"  updated_at = now_ms()"
	"  WHERE i.status = 'running' AND (i.lease_run IN (SELECT id FROM lost)"
	"   OR i.lease_run IN (SELECT id FROM runs WHERE ended_at IS NOT NULL))"
	"  RETURNING i.last_attempt AS aid, i.last_error AS err, i.status, i.spec_key),"
	" at AS (UPDATE attempts a SET ended_at = now_ms(), outcome = 'runner_lost', error = it.err"
	"  FROM it WHERE a.id = it.aid AND a.ended_at IS NULL RETURNING 1),"
	" nt AS (SELECT pg_notify($3, k) FROM (SELECT DISTINCT spec_key AS k FROM it"
	"  WHERE status = 'pending') s)"
	" SELECT (SELECT count(*) FROM at), (SELECT count(*) FROM nt)";

/* Wait for the claims in flight under the candidate runs (they hold their
 * runs row FOR SHARE until they commit), so the reclaim statement, with a
 * snapshot taken after, sees every item they claimed. */
static const char lock_runs_sql[] =
	"SELECT count(*) FROM (SELECT id FROM runs WHERE id = ANY($1::bigint[]) AND ended_at IS NULL"
	" ORDER BY id FOR UPDATE) l";

int pg_reclaim_dead(struct store *st, int max_attempts, int *reclaimed)
{
	if (reclaimed)
		*reclaimed = 0;
	int r = pg_begin(st, "reclaiming leases");
	int64_t got = 0;
	if (r == 0)
		r = pg_int(st, "SELECT pg_try_advisory_xact_lock(hashtext('sandrun.reclaim'),"
			       " hashtext(current_schema()))::int",
			   NULL, "reclaiming leases", &got);
	int64_t *ids = NULL;
	size_t n = 0;
	if (r == 0 && got == 1) /* else another runner is reclaiming right now */
		r = pg_dead_runs(st, &ids, &n);
	char *arr = NULL;
	if (r == 0 && got == 1) {
		arr = malloc(n * 24 + 3);
		if (!arr) {
			r = store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
		} else {
			size_t o = 0;
			arr[o++] = '{';
			for (size_t i = 0; i < n; i++)
				o += (size_t)sprintf(arr + o, "%s%lld", i ? "," : "", (long long)ids[i]);
			arr[o++] = '}';
			arr[o] = '\0';
			struct pgp p = { 0 };
			pgp_text(&p, arr);
			int64_t locked = 0, c = 0;
			r = pg_int(st, lock_runs_sql, &p, "reclaiming leases", &locked);
			pgp_i64(&p, max_attempts);
			pgp_text(&p, st->pg->channel);
			pgp_i64(&p, st->pg->lease_timeout_ms);
			pgp_text(&p, st->self.boot_id);
			pgp_text(&p, st->self.pid_ns);
			if (r == 0)
				r = pg_int(st, reclaim_sql, &p, "reclaiming leases", &c);
			if (r == 0 && reclaimed)
				*reclaimed = (int)c;
		}
	}
	free(arr);
	free(ids);
	if (r == 0)
		r = pg_commit(st, "reclaiming leases");
	if (r < 0) {
		pg_rollback(st);
		if (reclaimed)
			*reclaimed = 0;
	}
	return r;
}
