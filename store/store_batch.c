/* store/store_batch.c — the batch table and claim-time input
 * errors, on the store's internals (see store.h). */
#include "store/store_internal.h"

#include <string.h>

int sq_batch_open(struct store *st)
{
	/* A rowid table (not WITHOUT ROWID): rowids grow in the order paths
	 * are added, so the runner can count what each chunk added while
	 * the rest of the batch is still being queued. */
	return store_exec(st, "CREATE TEMP TABLE IF NOT EXISTS batch(path TEXT PRIMARY KEY)",
			  "creating the batch table");
}

int sq_batch_add(struct store *st, const char *const *paths, size_t n, bool *is_new)
{
	sqlite3_stmt *s;
	/* A deferred transaction that writes only the TEMP schema never takes
	 * the shared database's write lock. */
	int r = store_exec(st, "BEGIN", "adding to the batch");
	if (r < 0)
		return r;
	int rc = sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO temp.batch(path) VALUES(?1)", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = store_fail_sqlite(st, rc, "adding to the batch");
		store_rollback(st);
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, paths[i], -1, SQLITE_STATIC);
		r = store_step_done(st, s, "adding to the batch");
		is_new[i] = r == 0 && sqlite3_changes(st->db) == 1;
	}
	sqlite3_finalize(s);
	if (r == 0)
		r = store_exec(st, "COMMIT", "adding to the batch");
	if (r < 0)
		store_rollback(st);
	return r;
}

static int count_query(struct store *st, const char *sql, const char *spec_key, int64_t *n)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail_sqlite(st, rc, "counting the batch");
	if (spec_key)
		sqlite3_bind_text(s, 1, spec_key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail_sqlite(st, rc, "counting the batch");
}

void store_batch_tally(struct store_batch_counts *out, const char *status, const char *outcome,
		       int64_t n)
{
	if (!status)
		return;
	if (strcmp(status, "pending") == 0) {
		out->pending += n;
	} else if (strcmp(status, "running") == 0) {
		out->running += n;
	} else if (strcmp(status, "done") == 0) {
		out->done += n;
		if (outcome && strcmp(outcome, "damaged") == 0)
			out->damaged += n;
	} else if (strcmp(status, "failed") == 0) {
		out->failed += n;
		int o = outcome_from_name(outcome);
		if (o >= 0)
			out->failed_by[o] += n;
		else
			out->failed_other += n;
	}
}

/* Batch items by status and last outcome, for batch rows after `after`;
 * with run_id > 0, items whose last attempt is that run's are left out.
 * CROSS JOIN keeps the batch's rowid range the outer loop: left to itself
 * the planner scans every item through items_status, O(store) per chunk. */
static int count_statuses(struct store *st, int64_t after, int64_t run_id, struct store_batch_counts *out)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db,
				    run_id > 0 ? "SELECT i.status, i.last_outcome, count(*) FROM temp.batch b"
						 " CROSS JOIN main.items i ON i.path = b.path WHERE b.rowid > ?1"
						 " AND NOT EXISTS (SELECT 1 FROM main.attempts a"
						 "  WHERE a.id = i.last_attempt AND a.run_id = ?2)"
						 " GROUP BY 1, 2"
					       : "SELECT i.status, i.last_outcome, count(*) FROM temp.batch b"
						 " CROSS JOIN main.items i ON i.path = b.path WHERE b.rowid > ?1"
						 " GROUP BY 1, 2",
				    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail_sqlite(st, rc, "counting the batch");
	sqlite3_bind_int64(s, 1, after);
	if (run_id > 0)
		sqlite3_bind_int64(s, 2, run_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(s, 0);
		const char *outcome = (const char *)sqlite3_column_text(s, 1);
		int64_t n = sqlite3_column_int64(s, 2);
		store_batch_tally(out, status, outcome, n);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_fail_sqlite(st, rc, "counting the batch");
}

/* How many batch rows there are after `after`, and the last one's rowid. */
static int count_rows(struct store *st, int64_t after, int64_t *n, int64_t *last)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "SELECT count(*), max(rowid) FROM temp.batch WHERE rowid > ?1", -1,
				    &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail_sqlite(st, rc, "counting the batch");
	sqlite3_bind_int64(s, 1, after);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
		*last = sqlite3_column_type(s, 1) == SQLITE_NULL ? after : sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail_sqlite(st, rc, "counting the batch");
}

int sq_batch_counts(struct store *st, const char *spec_key, struct store_batch_counts *out)
{
	memset(out, 0, sizeof *out);
	/* One read transaction: the counts are of one moment. */
	int r = store_exec(st, "BEGIN", "counting the batch");
	if (r < 0)
		return r;
	int64_t last;
	r = count_statuses(st, 0, 0, out);
	if (r == 0)
		r = count_rows(st, 0, &out->total, &last);
	if (r == 0)
		r = count_query(st,
				"SELECT count(*) FROM main.items WHERE status = 'pending' AND spec_key = ?1"
				" AND path NOT IN (SELECT path FROM temp.batch)",
				spec_key, &out->pending_elsewhere);
	if (r == 0)
		r = store_exec(st, "COMMIT", "counting the batch");
	if (r < 0)
		store_rollback(st);
	return r;
}

int sq_batch_counts_since(struct store *st, int64_t run_id, int64_t *mark, struct store_batch_counts *out)
{
	memset(out, 0, sizeof *out);
	int r = store_exec(st, "BEGIN", "counting the batch");
	if (r < 0)
		return r;
	int64_t last = *mark;
	r = count_statuses(st, *mark, run_id, out);
	if (r == 0)
		r = count_rows(st, *mark, &out->total, &last);
	if (r == 0)
		r = store_exec(st, "COMMIT", "counting the batch");
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	*mark = last;
	return 0;
}

int sq_batch_elsewhere(struct store *st, const char *spec_key, int64_t run_id, int64_t *n)
{
	sqlite3_stmt *s;
	/* Three index walks, not a scan of every item: pending ones through
	 * items_claim, ours running through items_running, ours finished
	 * through attempts_run. */
	int rc = sqlite3_prepare_v2(
		st->db,
		"SELECT (SELECT count(*) FROM main.items WHERE status = 'pending' AND spec_key = ?1"
		"   AND path NOT IN (SELECT path FROM temp.batch))"
		" + (SELECT count(*) FROM main.items WHERE status = 'running' AND lease_run = ?2"
		"   AND path NOT IN (SELECT path FROM temp.batch))"
		" + (SELECT count(*) FROM main.attempts a JOIN main.items i"
		"   ON i.id = a.item_id AND i.last_attempt = a.id"
		"   WHERE a.run_id = ?2 AND i.status IN ('done', 'failed')"
		"   AND i.path NOT IN (SELECT path FROM temp.batch))",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail_sqlite(st, rc, "counting the queue");
	sqlite3_bind_text(s, 1, spec_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, run_id);
	rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail_sqlite(st, rc, "counting the queue");
}

static int exec_bound(struct store *st, const char *sql, const struct store_claim *c,
		      const char *error, int64_t now, const char *what)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail_sqlite(st, rc, what);
	sqlite3_bind_int64(s, 1, c->item_id);
	sqlite3_bind_int64(s, 2, c->attempt_id);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	int r = store_step_done(st, s, what);
	sqlite3_finalize(s);
	return r;
}

int sq_attempt_input_error(struct store *st, const struct store_claim *c, const char *error)
{
	static const char what[] = "recording an input error";
	if (!error || !*error)
		error = "cannot open the input";
	int r = store_begin(st, what);
	if (r < 0)
		return r;
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "SELECT status, lease_attempt FROM items WHERE id = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = store_fail_sqlite(st, rc, what);
		goto out;
	}
	sqlite3_bind_int64(s, 1, c->item_id);
	rc = sqlite3_step(s);
	bool ours = rc == SQLITE_ROW && sqlite3_column_text(s, 0) &&
		    strcmp((const char *)sqlite3_column_text(s, 0), "running") == 0 &&
		    sqlite3_column_int64(s, 1) == c->attempt_id;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = store_fail_sqlite(st, rc, what);
		goto out;
	}
	if (!ours) {
		r = store_fail(st, STORE_ESTALE,
			       "database %s: %s: the lease of attempt %lld was taken back; not recorded",
			       st->path, c->path ? c->path : "item", (long long)c->attempt_id);
		goto out;
	}
	int64_t now = store_now_ms();
	r = exec_bound(st,
		       "UPDATE attempts SET ended_at = ?4, outcome = 'input_error', counted = 0, error = ?3"
		       " WHERE id = ?2 AND item_id = ?1",
		       c, error, now, what);
	if (r == 0)
		r = exec_bound(st,
			       "UPDATE items SET status = 'failed', attempts = max(attempts - 1, 0),"
			       " last_outcome = 'input_error', last_error = ?3, last_attempt = ?2,"
			       " size = NULL, mtime_ns = NULL, lease_run = NULL, lease_attempt = NULL,"
			       " lease_pid = NULL, lease_pid_start = NULL, lease_heartbeat_at = NULL,"
			       " updated_at = ?4 WHERE id = ?1 AND status = 'running'",
			       c, error, now, what);
out:
	if (r == 0)
		r = store_commit(st, what);
	if (r < 0)
		store_rollback(st);
	return r;
}

/* ---- job spec identity (runner/spec_guard.c) ------------------------------ */

int sq_spec_counts(struct store *st, store_spec_count_fn fn, void *ctx)
{
	sqlite3_stmt *s;
	/* One scan of the items at the start of a run. */
	int rc = sqlite3_prepare_v2(st->db,
				    "SELECT spec_key, sum(status = 'done'),"
				    " sum(status = 'failed' AND last_outcome IS NOT 'input_error')"
				    " FROM main.items GROUP BY spec_key",
				    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail_sqlite(st, rc, "counting items by job spec");
	int r = 0;
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		r = fn((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
		       sqlite3_column_int64(s, 2), ctx);
	sqlite3_finalize(s);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail_sqlite(st, rc, "counting items by job spec");
	return r;
}

int sq_run_specs(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db,
				    "SELECT spec FROM main.runs WHERE spec IS NOT NULL"
				    " GROUP BY spec ORDER BY max(id) DESC",
				    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_fail_sqlite(st, rc, "reading the runs' job specs");
	int r = 0;
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		r = fn((const char *)sqlite3_column_text(s, 0), ctx);
	sqlite3_finalize(s);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail_sqlite(st, rc, "reading the runs' job specs");
	return r;
}

int sq_spec_rekey(struct store *st, const char *old_key, const char *new_key, int64_t *n)
{
	sqlite3_stmt *s;
	int r = store_begin(st, "renaming a job spec key");
	if (r < 0)
		return r;
	int rc = sqlite3_prepare_v2(st->db, "UPDATE main.items SET spec_key = ?2 WHERE spec_key = ?1", -1, &s,
				    NULL);
	if (rc != SQLITE_OK) {
		r = store_fail_sqlite(st, rc, "renaming a job spec key");
		store_rollback(st);
		return r;
	}
	sqlite3_bind_text(s, 1, old_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, new_key, -1, SQLITE_STATIC);
	r = store_step_done(st, s, "renaming a job spec key");
	*n = r == 0 ? sqlite3_changes(st->db) : 0;
	sqlite3_finalize(s);
	if (r == 0)
		r = store_commit(st, "renaming a job spec key");
	if (r < 0)
		store_rollback(st);
	return r;
}
