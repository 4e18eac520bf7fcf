/* store/store_reclaim.c — taking back the leases of dead runners.
 *
 * A runner killed with SIGKILL (or by a power cut) leaves its items
 * 'running' with a lease naming its pid and the pid's start time. Those
 * attempts were counted when claimed; here they end as "runner_lost", so a
 * file that kills its runner spends its budget and ends failed instead of
 * looping forever. The rules are in docs/store.md "Leases". */
#include "store/store_internal.h"

#include "lib/fd.h"
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- who we are, and whether a lease holder lives -------------------- */

int store_read_pid_start(int pid, long long *start, bool *zombie)
{
	unsigned long long v;
	char state;
	int r = sr_read_pid_stat(pid, &v, &state);
	if (r < 0)
		return r;
	*start = (long long)v;
	*zombie = state == 'Z' || state == 'X' || state == 'x';
	return 0;
}

int store_holder_alive(const struct store *st, int pid, long long pid_start,
		       const char *boot_id, const char *pid_ns, int64_t heartbeat_ms,
		       int64_t now_ms)
{
	const struct store_self *me = &st->self;
	/* Another boot: every process of that boot is gone. (WAL needs shared
	 * memory, so two hosts never use one database at the same time.) */
	if (boot_id && me->boot_id[0] && strcmp(boot_id, me->boot_id) != 0)
		return 0;
	/* Another pid namespace: its pids mean nothing here; only the
	 * heartbeat tells. */
	if (pid_ns && me->pid_ns[0] && strcmp(pid_ns, me->pid_ns) != 0)
		return heartbeat_ms + STORE_LEASE_STALE_MS >= now_ms;
	if (pid == me->pid && pid_start == me->pid_start)
		return 1;
	long long start;
	bool zombie;
	int r = store_read_pid_start(pid, &start, &zombie);
	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return 1; /* cannot tell: never take a lease that may be alive */
	/* A zombie has stopped running; a different start time means the pid
	 * was reused by another process. */
	return !zombie && start == pid_start;
}

/* ---- reclaim ---------------------------------------------------------- */

struct lease {
	int64_t item_id, attempt_id, run_id, heartbeat_ms;
	int attempts, pid;
	long long pid_start;
	char boot_id[64], pid_ns[64];
};

static void copy_col(char *dst, size_t len, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	snprintf(dst, len, "%s", v ? v : "");
}

/* The running items and their holders, read before any update. */
static int load_leases(struct store *st, struct lease **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT i.id, i.lease_attempt, i.lease_run, i.lease_heartbeat_at,"
				   " i.attempts, i.lease_pid, i.lease_pid_start, r.boot_id, r.pid_ns"
				   " FROM items i LEFT JOIN runs r ON r.id = i.lease_run"
				   " WHERE i.status = 'running'",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading leases");
	size_t cap = 0;
	struct lease *v = NULL;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct lease *nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				free(v);
				sqlite3_finalize(s);
				return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
			}
			v = nv;
		}
		struct lease *l = &v[(*n)++];
		l->item_id = sqlite3_column_int64(s, 0);
		l->attempt_id = sqlite3_column_int64(s, 1);
		l->run_id = sqlite3_column_int64(s, 2);
		l->heartbeat_ms = sqlite3_column_int64(s, 3);
		l->attempts = sqlite3_column_int(s, 4);
		l->pid = sqlite3_column_int(s, 5);
		l->pid_start = sqlite3_column_int64(s, 6);
		copy_col(l->boot_id, sizeof l->boot_id, s, 7);
		copy_col(l->pid_ns, sizeof l->pid_ns, s, 8);
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		free(v);
		*n = 0;
		return store_fail_sqlite(st, r, "reading leases");
	}
	*out = v;
	return 0;
}

static int reclaim_one(struct store *st, const struct lease *l, int max_attempts, int64_t now)
{
	char error[256];
	snprintf(error, sizeof error,
		 "the runner (run %lld, pid %d) died while this attempt ran", (long long)l->run_id,
		 l->pid);
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "UPDATE attempts SET ended_at=?2, outcome='runner_lost', error=?3"
				   " WHERE id=?1 AND ended_at IS NULL",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reclaiming a lease");
	sqlite3_bind_int64(s, 1, l->attempt_id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	r = store_step_done(st, s, "reclaiming a lease");
	sqlite3_finalize(s);
	if (r < 0)
		return r;
	r = sqlite3_prepare_v2(st->db,
			       "UPDATE items SET status=?2, last_outcome='runner_lost', last_error=?3,"
			       " last_attempt=?4, lease_run=NULL, lease_attempt=NULL, lease_pid=NULL,"
			       " lease_pid_start=NULL, lease_heartbeat_at=NULL, updated_at=?5"
			       " WHERE id=?1 AND status='running'",
			       -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reclaiming a lease");
	/* The lost attempt was counted at claim: the budget is spent when
	 * attempts has reached max_attempts. */
	bool spent = l->attempts >= max_attempts;
	sqlite3_bind_int64(s, 1, l->item_id);
	sqlite3_bind_text(s, 2, spent ? "failed" : "pending", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, l->attempt_id);
	sqlite3_bind_int64(s, 5, now);
	r = store_step_done(st, s, "reclaiming a lease");
	sqlite3_finalize(s);
	return r;
}

/* Runs that never ended and whose process is gone: "lost", ended at their
 * last heartbeat (the best guess of when they died). */
static int mark_lost_runs(struct store *st, int64_t now)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT id, pid, pid_start, boot_id, pid_ns, heartbeat_at FROM runs"
				   " WHERE ended_at IS NULL",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading runs");
	int64_t dead[64];
	size_t ndead = 0;
	while ((r = sqlite3_step(s)) == SQLITE_ROW && ndead < sizeof dead / sizeof dead[0]) {
		if (!store_holder_alive(st, sqlite3_column_int(s, 1), sqlite3_column_int64(s, 2),
					(const char *)sqlite3_column_text(s, 3),
					(const char *)sqlite3_column_text(s, 4),
					sqlite3_column_int64(s, 5), now))
			dead[ndead++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return store_fail_sqlite(st, r, "reading runs");
	/* More than 64 dead runs at once: the rest are marked next time. */
	for (size_t i = 0; i < ndead; i++) {
		r = sqlite3_prepare_v2(st->db,
				       "UPDATE runs SET how='lost', ended_at=heartbeat_at WHERE id=?1",
				       -1, &s, NULL);
		if (r != SQLITE_OK)
			return store_fail_sqlite(st, r, "marking a lost run");
		sqlite3_bind_int64(s, 1, dead[i]);
		r = store_step_done(st, s, "marking a lost run");
		sqlite3_finalize(s);
		if (r < 0)
			return r;
	}
	return 0;
}

int sq_reclaim_dead(struct store *st, int max_attempts, int *reclaimed)
{
	if (reclaimed)
		*reclaimed = 0;
	if (max_attempts < 1)
		max_attempts = 1;
	/* Liveness is judged under the write lock: no lease can be taken or
	 * given back between the check and the update. */
	int r = store_begin(st, "reclaiming leases of dead runners");
	if (r < 0)
		return r;
	struct lease *leases = NULL;
	size_t n = 0;
	int count = 0;
	int64_t now = store_now_ms();
	r = load_leases(st, &leases, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct lease *l = &leases[i];
		if (store_holder_alive(st, l->pid, l->pid_start, l->boot_id, l->pid_ns,
				       l->heartbeat_ms, now))
			continue;
		r = reclaim_one(st, l, max_attempts, now);
		count += r == 0;
	}
	free(leases);
	if (r == 0)
		r = mark_lost_runs(st, now);
	if (r == 0)
		r = store_commit(st, "reclaiming leases of dead runners");
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	if (reclaimed)
		*reclaimed = count;
	return 0;
}
