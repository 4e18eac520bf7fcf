/* store/pg_batch.c — the batch (store.h) on PostgreSQL: a TEMP table of this
 * session, so it costs the shared database nothing and vanishes with the
 * connection; seq grows in the order paths are added. */
#include "store/pg_internal.h"

#include <stdlib.h>
#include <string.h>

int pg_batch_open(struct store *st)
{
	int64_t r = pg_cmd(st,
			   "CREATE TEMP TABLE IF NOT EXISTS batch (seq bigint GENERATED ALWAYS AS"
			   " IDENTITY, path bytea PRIMARY KEY, ord integer)",
			   NULL, "creating the batch table");
	if (r < 0)
		return (int)r;
	st->pg->batch_open = true;
	return 0;
}

int pg_batch_add(struct store *st, const char *const *paths, size_t n, bool *is_new)
{
	char *arr = NULL;
	size_t len = 0, cap = 0;
	int r = 0;
	for (size_t i = 0; i < n; i++)
		is_new[i] = false;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = pg_arr_bytes(&arr, &len, &cap, paths[i], strlen(paths[i]));
	if (r == 0)
		r = pg_arr_close(&arr, &len, &cap);
	if (r < 0) {
		free(arr);
		return store_fail(st, r, "database %s: out of memory", st->path);
	}
	struct pgp p = { 0 };
	pgp_text(&p, arr);
	/* In order, so the first of a path named twice is the new one. */
	PGresult *res = pg_run(st,
			       "INSERT INTO pg_temp.batch(path, ord) SELECT p, o FROM"
			       " unnest($1::bytea[]) WITH ORDINALITY AS u(p, o) ORDER BY o"
			       " ON CONFLICT (path) DO NOTHING RETURNING ord",
			       &p, "adding to the batch", &r);
	free(arr);
	if (!res)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t o = pg_col_i64(res, i, 0, 0);
		if (o >= 1 && (size_t)o <= n)
			is_new[o - 1] = true;
	}
	PQclear(res);
	return 0;
}

static int count_statuses(struct store *st, int64_t after, int64_t run_id,
			  struct store_batch_counts *out)
{
	struct pgp p = { 0 };
	pgp_i64(&p, after);
	pgp_i64(&p, run_id);
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT i.status, i.last_outcome, count(*) FROM pg_temp.batch b"
			       " JOIN items i ON i.path = b.path WHERE b.seq > $1"
			       " AND ($2::bigint = 0 OR NOT EXISTS (SELECT 1 FROM attempts a"
			       "  WHERE a.id = i.last_attempt AND a.run_id = $2))"
			       " GROUP BY 1, 2",
			       &p, "counting the batch", &rc);
	if (!res)
		return rc;
	for (int i = 0; i < PQntuples(res); i++)
		store_batch_tally(out, PQgetvalue(res, i, 0),
				  PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
				  pg_col_i64(res, i, 2, 0));
	PQclear(res);
	return 0;
}

static int count_rows(struct store *st, int64_t after, int64_t *n, int64_t *last)
{
	struct pgp p = { 0 };
	pgp_i64(&p, after);
	int rc = 0;
	PGresult *res = pg_run(st, "SELECT count(*), coalesce(max(seq), $1) FROM pg_temp.batch"
				   " WHERE seq > $1",
			       &p, "counting the batch", &rc);
	if (!res)
		return rc;
	*n = pg_col_i64(res, 0, 0, 0);
	*last = pg_col_i64(res, 0, 1, after);
	PQclear(res);
	return 0;
}

/* The pending items of spec $1 that are not in the batch. Schema 6: the
 * maintained pending count (pg_schema.c) less the batch's pending items,
 * so the cost is the batch's, not the queue's (a runner joining a queue of
 * a million items); else every pending item of the spec, looked up in the
 * batch. The same number either way: a path is in the batch once. */
#define PENDING_ELSEWHERE_COUNTED \
	"((SELECT coalesce(sum(n), 0) FROM item_counts WHERE spec_key = $1 AND status = 'pending')" \
	" - (SELECT count(*) FROM pg_temp.batch b JOIN items i ON i.path = b.path" \
	"    WHERE i.status = 'pending' AND i.spec_key = $1))"
#define PENDING_ELSEWHERE_SCANNED \
	"(SELECT count(*) FROM items i WHERE i.status = 'pending' AND i.spec_key = $1" \
	" AND NOT EXISTS (SELECT 1 FROM pg_temp.batch b WHERE b.path = i.path))"

/* One snapshot for all the counts of one call. */
static int counts(struct store *st, const char *spec_key, int64_t run_id, int64_t *mark,
		  struct store_batch_counts *out)
{
	memset(out, 0, sizeof *out);
	int64_t b = pg_cmd(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
			   "counting the batch");
	int r = b < 0 ? (int)b : 0;
	int64_t last = *mark;
	if (r == 0)
		r = count_statuses(st, *mark, run_id, out);
	if (r == 0)
		r = count_rows(st, *mark, &out->total, &last);
	if (r == 0 && spec_key) {
		struct pgp p = { 0 };
		pgp_text(&p, spec_key);
		r = pg_int(st,
			   st->pg->schema_version >= 6 ? "SELECT " PENDING_ELSEWHERE_COUNTED
						       : "SELECT " PENDING_ELSEWHERE_SCANNED,
			   &p, "counting the batch", &out->pending_elsewhere);
	}
	if (r == 0)
		r = pg_commit(st, "counting the batch");
	if (r < 0) {
		pg_rollback(st);
		return r;
	}
	*mark = last;
	return 0;
}

int pg_batch_counts(struct store *st, const char *spec_key, struct store_batch_counts *out)
{
	int64_t mark = 0;
	if (st->pg->batch_lost) {
		memset(out, 0, sizeof *out);
		return store_fail(st, -ENODATA,
				  "database %s: the batch's list of inputs was lost with the connection "
				  "to the server (a restart?)", st->path);
	}
	return counts(st, spec_key, 0, &mark, out);
}

int pg_batch_counts_since(struct store *st, int64_t run_id, int64_t *mark,
			  struct store_batch_counts *out)
{
	return counts(st, NULL, run_id, mark, out);
}

/* The items of this run elsewhere than the batch: running under its lease,
 * or finished by it. */
#define ELSEWHERE_OF_THE_RUN \
	" + (SELECT count(*) FROM items i WHERE i.status = 'running'" \
	"   AND i.lease_run = $2 AND NOT EXISTS (SELECT 1 FROM pg_temp.batch b" \
	"   WHERE b.path = i.path))" \
	" + (SELECT count(*) FROM attempts a JOIN items i" \
	"   ON i.id = a.item_id AND i.last_attempt = a.id" \
	"   WHERE a.run_id = $2 AND i.status IN ('done', 'failed')" \
	"   AND NOT EXISTS (SELECT 1 FROM pg_temp.batch b WHERE b.path = i.path))"

int pg_batch_elsewhere(struct store *st, const char *spec_key, int64_t run_id, int64_t *n)
{
	struct pgp p = { 0 };
	pgp_text(&p, spec_key);
	pgp_i64(&p, run_id);
	return pg_int(st,
		      st->pg->schema_version >= 6
			      ? "SELECT " PENDING_ELSEWHERE_COUNTED ELSEWHERE_OF_THE_RUN
			      : "SELECT " PENDING_ELSEWHERE_SCANNED ELSEWHERE_OF_THE_RUN,
		      &p, "counting the queue", n);
}

/* ---- job spec identity (runner/spec_guard.c) ---- */

int pg_spec_counts(struct store *st, store_spec_count_fn fn, void *ctx)
{
	int rc;
	/* Schema 6: the maintained counts (pg_schema.c), else every item. */
	PGresult *res = pg_run(st,
			       st->pg->schema_version >= 6
				       ? "SELECT spec_key, coalesce(sum(n) FILTER (WHERE status = 'done'), 0),"
					 " coalesce(sum(n) FILTER (WHERE status = 'failed'"
					 "   AND outcome <> 'input_error'), 0)"
					 " FROM item_counts GROUP BY spec_key HAVING sum(n) <> 0"
				       : "SELECT spec_key, count(*) FILTER (WHERE status = 'done'),"
					 " count(*) FILTER (WHERE status = 'failed'"
					 "   AND last_outcome IS DISTINCT FROM 'input_error')"
					 " FROM items GROUP BY spec_key",
			       NULL, "counting items by job spec", &rc);
	if (!res)
		return rc;
	int r = 0;
	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = fn(PQgetvalue(res, i, 0), pg_col_i64(res, i, 1, 0), pg_col_i64(res, i, 2, 0), ctx);
	PQclear(res);
	return r;
}

int pg_run_specs(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx)
{
	int rc;
	/* json has no equality: the text is the spec as the runner wrote it */
	PGresult *res = pg_run(st,
			       "SELECT spec::text FROM runs WHERE spec IS NOT NULL"
			       " GROUP BY spec::text ORDER BY max(id) DESC",
			       NULL, "reading the runs' job specs", &rc);
	if (!res)
		return rc;
	int r = 0;
	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = fn(PQgetvalue(res, i, 0), ctx);
	PQclear(res);
	return r;
}

int pg_spec_rekey(struct store *st, const char *old_key, const char *new_key, int64_t *n)
{
	struct pgp p = { 0 };
	pgp_text(&p, old_key);
	pgp_text(&p, new_key);
	/* one statement: its own transaction */
	int64_t changed = pg_cmd(st, "UPDATE items SET spec_key = $2 WHERE spec_key = $1", &p,
				 "renaming a job spec key");
	*n = changed > 0 ? changed : 0;
	return changed < 0 ? (int)changed : 0;
}
