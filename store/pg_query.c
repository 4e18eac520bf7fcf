/* store/pg_query.c — the read side on PostgreSQL: status; and retry. The
 * item queries (list, show, export) and the quarantine record are in
 * pg_list.c. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *col_dup(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

/* The (status, last_outcome) pairs that have items, in (status,
 * last_outcome NULLS LAST) order, found by skipping through the index
 * items_status (status, last_outcome): one short index descent per pair,
 * never a read of every row. A NULL outcome is last in its status: the
 * backward LIMIT 1 finds it at once when there is one. */
static const char status_pairs_sql[] =
	"WITH RECURSIVE s(status) AS ("
	"  SELECT min(status) FROM items"
	"  UNION ALL"
	"  SELECT (SELECT min(i.status) FROM items i WHERE i.status > s.status)"
	"   FROM s WHERE s.status IS NOT NULL),"
	" o(status, outcome) AS ("
	"  SELECT s.status, f.o FROM s, LATERAL (SELECT i.last_outcome FROM items i"
	"   WHERE i.status = s.status ORDER BY i.last_outcome LIMIT 1) f(o)"
	"  UNION ALL"
	"  SELECT o.status, n.o FROM o, LATERAL (SELECT i.last_outcome FROM items i"
	"   WHERE i.status = o.status AND i.last_outcome > o.outcome"
	"   ORDER BY i.last_outcome LIMIT 1) n(o))"
	" SELECT status, outcome FROM o WHERE outcome IS NOT NULL"
	" UNION ALL"
	" SELECT s.status, NULL FROM s, LATERAL (SELECT i.last_outcome FROM items i"
	"  WHERE i.status = s.status ORDER BY i.last_outcome DESC NULLS FIRST LIMIT 1) l(o)"
	" WHERE s.status IS NOT NULL AND l.o IS NULL"
	" ORDER BY 1, 2";

/* One group's count: a range of items_status read index-only, with no
 * comparison of the group key per row (a GROUP BY over a million rows
 * spent half its time there: docs/scale-out.md "status at a million
 * items"). Its own statement, so the plan is made for these values and
 * may use parallel workers. */
static int count_group(struct store *st, const char *status, const char *outcome, int64_t *n)
{
	struct pgp p = { 0 };
	pgp_text(&p, status);
	if (outcome)
		pgp_text(&p, outcome);
	return pg_int(st,
		      outcome ? "SELECT count(*) FROM items WHERE status = $1 AND last_outcome = $2"
			      : "SELECT count(*) FROM items WHERE status = $1 AND last_outcome IS NULL",
		      &p, "counting items", n);
}

/* Schema 6: the maintained counts (item_counts, summed over its shards
 * and spec keys), in (status, outcome NULLS LAST) order as above: a few
 * hundred rows at any number of items. */
static const char status_counted_sql[] =
	"SELECT status, nullif(outcome, ''), sum(n) FROM item_counts"
	" GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2";

static int status_counted(struct store *st, struct store_status *out)
{
	int rc = 0;
	PGresult *res = pg_run(st, status_counted_sql, NULL, "counting items", &rc);
	if (!res)
		return rc;
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		const char *outcome = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		if (store_status_tally(out, PQgetvalue(res, i, 0), outcome, pg_col_i64(res, i, 2, 0)) < 0)
			rc = store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	}
	PQclear(res);
	return rc;
}

/* Exact counts by (status, last_outcome), as a GROUP BY gives them, all in
 * status's one snapshot (REPEATABLE READ), so they add up to the items of
 * that instant: schema 6 keeps them (status_counted); a read-only open of
 * an older store finds the pairs, then counts each. */
static int status_counts(struct store *st, struct store_status *out)
{
	if (st->pg->schema_version >= 6)
		return status_counted(st, out);
	int rc = 0;
	PGresult *res = pg_run(st, status_pairs_sql, NULL, "counting items", &rc);
	if (!res)
		return rc;
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		const char *status = PQgetvalue(res, i, 0);
		const char *outcome = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		int64_t n = 0;
		rc = count_group(st, status, outcome, &n);
		if (rc == 0 && n > 0 && store_status_tally(out, status, outcome, n) < 0)
			rc = store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	}
	PQclear(res);
	return rc;
}

/* Running items whose runner is lost (status never writes: the next run
 * reclaims them). */
static int status_orphans(struct store *st, struct store_status *out, int64_t **dead,
			  size_t *ndead)
{
	int r = pg_dead_runs(st, dead, ndead);
	for (size_t i = 0; r == 0 && i < *ndead; i++) {
		struct pgp p = { 0 };
		pgp_i64(&p, (*dead)[i]);
		int64_t n = 0;
		r = pg_int(st, "SELECT count(*) FROM items WHERE status = 'running' AND lease_run = $1",
			   &p, "reading leases", &n);
		out->running_orphaned += n;
	}
	return r;
}

/* Pending items held back by a retry delay, by the database's clock
 * (schema 5; a read-only open of an older store has none). */
static int status_waiting(struct store *st, struct store_status *out)
{
	if (st->pg->schema_version < 5)
		return 0;
	return pg_int(st, "SELECT count(*) FROM items WHERE status = 'pending'"
			  " AND not_before > now_ms()",
		      NULL, "counting delayed retries", &out->pending_delayed);
}

static int status_attempts(struct store *st, struct store_status *out)
{
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT (SELECT count(*) FROM attempts), count(*), avg(wall_ms),"
			       " max(wall_ms), avg(peak_memory_bytes), max(peak_memory_bytes)"
			       " FROM attempts WHERE wall_ms IS NOT NULL",
			       NULL, "summing attempts", &rc);
	if (!res)
		return rc;
	out->attempts = pg_col_i64(res, 0, 0, 0);
	out->measured = pg_col_i64(res, 0, 1, 0);
	out->wall_ms_mean = PQgetisnull(res, 0, 2) ? 0 : strtod(PQgetvalue(res, 0, 2), NULL);
	out->wall_ms_max = pg_col_i64(res, 0, 3, 0);
	out->peak_memory_mean = PQgetisnull(res, 0, 4) ? 0 : strtod(PQgetvalue(res, 0, 4), NULL);
	out->peak_memory_max = pg_col_i64(res, 0, 5, 0);
	PQclear(res);
	return 0;
}

static int status_last_run(struct store *st, struct store_status *out, const int64_t *dead,
			   size_t ndead)
{
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT id, version, how, started_at, ended_at, heartbeat_at,"
			       " (SELECT count(*) FROM attempts a WHERE a.run_id = runs.id"
			       "   AND a.counted = 1 AND a.ended_at IS NOT NULL),"
			       " (SELECT max(ended_at) FROM attempts a WHERE a.run_id = runs.id"
			       "   AND a.counted = 1), now_ms()"
			       " FROM runs ORDER BY id DESC LIMIT 1",
			       NULL, "reading the last run", &rc);
	if (!res)
		return rc;
	if (PQntuples(res) == 1) {
		out->last_run_id = pg_col_i64(res, 0, 0, 0);
		out->last_run_version = col_dup(res, 0, 1);
		out->last_run_how = col_dup(res, 0, 2);
		out->last_run_started_ms = pg_col_i64(res, 0, 3, 0);
		bool lost = false;
		for (size_t i = 0; i < ndead; i++)
			lost = lost || dead[i] == out->last_run_id;
		if (!PQgetisnull(res, 0, 4)) {
			out->last_run_until_ms = pg_col_i64(res, 0, 4, 0);
		} else if (!lost) {
			out->last_run_until_ms = pg_col_i64(res, 0, 8, 0); /* still running */
		} else {
			int64_t hb = pg_col_i64(res, 0, 5, 0), last = pg_col_i64(res, 0, 7, 0);
			out->last_run_until_ms = hb > last ? hb : last;
			if (!out->last_run_how)
				out->last_run_how = strdup("lost");
		}
		out->last_run_finished = pg_col_i64(res, 0, 6, 0);
		int64_t span = out->last_run_until_ms - out->last_run_started_ms;
		out->last_run_per_second =
			span > 0 ? (double)out->last_run_finished * 1000.0 / (double)span : 0.0;
	}
	PQclear(res);
	return 0;
}

int pg_get_status(struct store *st, struct store_status *out)
{
	memset(out, 0, sizeof *out);
	int64_t b = pg_cmd(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
			   "reading the status");
	int r = b < 0 ? (int)b : 0;
	int64_t *dead = NULL;
	size_t ndead = 0;
	if (r == 0)
		r = status_counts(st, out);
	if (r == 0)
		r = status_orphans(st, out, &dead, &ndead);
	if (r == 0)
		r = status_waiting(st, out);
	if (r == 0)
		r = status_attempts(st, out);
	if (r == 0)
		r = status_last_run(st, out, dead, ndead);
	free(dead);
	pg_rollback(st);
	if (r < 0)
		store_status_free(out);
	return r;
}

/* Put one path (NULL: every failed item) back to pending; *changed rows. */
static int retry_one(struct store *st, const char *outcome, const char *path, int64_t *changed)
{
	struct pgp p = { 0 };
	pgp_text(&p, outcome);
	if (path)
		pgp_bytes(&p, path, strlen(path));
	else
		pgp_text(&p, NULL);
	int64_t n = pg_cmd(st,
			   "UPDATE items SET status = 'pending', attempts = 0, budget = budget + 1,"
			   " not_before = NULL, updated_at = now_ms() WHERE status = 'failed'"
			   " AND ($1::text IS NULL OR last_outcome = $1)"
			   " AND ($2::bytea IS NULL OR path = $2)",
			   &p, "putting items back to pending");
	*changed = n < 0 ? 0 : n;
	return n < 0 ? (int)n : 0;
}

int pg_retry_failed(struct store *st, const char *outcome, const char *const *paths,
		    size_t npaths, void (*not_reset)(const char *path, const char *status, void *ctx),
		    void *ctx, int64_t *reset)
{
	*reset = 0;
	int r = pg_begin(st, "putting items back to pending");
	int64_t changed = 0;
	if (r == 0 && npaths == 0) {
		r = retry_one(st, outcome, NULL, &changed);
		*reset = changed;
	}
	for (size_t i = 0; r == 0 && i < npaths; i++) {
		r = retry_one(st, outcome, paths[i], &changed);
		*reset += changed;
		if (r == 0 && changed == 0 && not_reset) {
			struct pgp p = { 0 };
			pgp_bytes(&p, paths[i], strlen(paths[i]));
			PGresult *res = pg_run(st, "SELECT status FROM items WHERE path = $1", &p,
					       "putting items back to pending", &r);
			if (res) {
				char status[16] = "";
				if (PQntuples(res) == 1)
					snprintf(status, sizeof status, "%s", PQgetvalue(res, 0, 0));
				PQclear(res);
				not_reset(paths[i], status[0] ? status : NULL, ctx);
			}
		}
	}
	if (r == 0 && *reset > 0) { /* wake the idle runners, at commit */
		struct pgp p = { 0 };
		pgp_text(&p, st->pg->channel);
		int64_t n = pg_cmd(st, "SELECT pg_notify($1, '')", &p, "putting items back to pending");
		r = n < 0 ? (int)n : 0;
	}
	if (r == 0)
		r = pg_commit(st, "putting items back to pending");
	if (r < 0) {
		pg_rollback(st);
		*reset = 0;
	}
	return r;
}
