/* store/pg_serve.c — submissions over the service socket on PostgreSQL
 * (sandrun serve, docs/serve.md); the same contract as store_serve.c, on
 * schema version 3's columns (pg_schema.c). */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One statement: the fair sequence (store_serve.c explains it) and the
 * insert. The commit is synchronous (the server's default). */
static const char submit_sql[] =
	"INSERT INTO items(path, spec_key, size, mtime_ns, status, enqueued_at, updated_at,"
	" client_uid, client_gid, client_pid, client_name, queue_seq)"
	" SELECT $1, $2, $3, $4, 'pending', now_ms(), now_ms(), $5, $6, $7, $8,"
	"  greatest(coalesce((SELECT min(queue_seq) FROM items WHERE status = 'pending'"
	"                     AND spec_key = $2 AND queue_seq IS NOT NULL), 1),"
	"           coalesce((SELECT max(queue_seq) FROM items WHERE client_uid = $5"
	"                     AND status IN ('pending', 'running')), 0) + 1)"
	" ON CONFLICT (path) DO NOTHING RETURNING id, queue_seq";

int pg_submit(struct store *st, const char *spec_key, const struct store_submission *s,
	      int64_t *item_id, int64_t *queue_seq)
{
	struct pgp p = { 0 };
	char name[1024];
	pgp_bytes(&p, s->path, strlen(s->path));
	pgp_text(&p, spec_key);
	pgp_i64(&p, s->size);
	pgp_i64(&p, s->mtime_ns);
	pgp_i64(&p, s->uid);
	pgp_i64(&p, s->gid);
	pgp_i64(&p, s->pid);
	pgp_text(&p, s->name ? pg_text(name, sizeof name, s->name) : NULL);
	int rc = 0;
	PGresult *res = pg_run(st, submit_sql, &p, "queueing a submission", &rc);
	if (!res)
		return rc;
	int rows = PQntuples(res);
	if (rows == 1) {
		*item_id = pg_col_i64(res, 0, 0, 0);
		*queue_seq = pg_col_i64(res, 0, 1, 0);
	}
	PQclear(res);
	return rows == 1 ? 0 : store_fail(st, -EEXIST, "database %s: the spooled file is an item already", st->path);
}

int pg_item_client(struct store *st, int64_t id, struct store_item_client *out)
{
	struct pgp p = { 0 };
	pgp_i64(&p, id);
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT path, status, coalesce(client_uid, -1), coalesce(client_gid, -1),"
			       " coalesce(client_pid, -1) FROM items WHERE id = $1",
			       &p, "reading an item", &rc);
	if (!res)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return store_fail(st, -ENOENT, "database %s: no item %lld", st->path, (long long)id);
	}
	out->path = pg_col_bytes(res, 0, 0, NULL);
	snprintf(out->status, sizeof out->status, "%s", PQgetvalue(res, 0, 1));
	out->uid = pg_col_i64(res, 0, 2, -1);
	out->gid = pg_col_i64(res, 0, 3, -1);
	out->pid = pg_col_i64(res, 0, 4, -1);
	PQclear(res);
	return out->path ? 0 : store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
}

int pg_cancel_pending(struct store *st, int64_t id, const char *why)
{
	struct pgp p = { 0 };
	char buf[1024];
	pgp_i64(&p, id);
	pgp_text(&p, pg_text(buf, sizeof buf, why));
	int64_t n = pg_cmd(st,
			   "UPDATE items SET status = 'failed', last_outcome = 'input_error',"
			   " last_error = $2, updated_at = now_ms() WHERE id = $1 AND status = 'pending'",
			   &p, "cancelling an item");
	return n < 0 ? (int)n : n > 0;
}

int pg_client_usage(struct store *st, int64_t uid, int64_t *files, int64_t *bytes)
{
	struct pgp p = { 0 };
	pgp_i64(&p, uid);
	int rc = 0;
	PGresult *res = pg_run(st,
			       "SELECT count(*), coalesce(sum(size), 0) FROM items"
			       " WHERE client_uid = $1 AND status IN ('pending', 'running', 'failed')",
			       &p, "counting a client's items", &rc);
	if (!res)
		return rc;
	*files = pg_col_i64(res, 0, 0, 0);
	*bytes = pg_col_i64(res, 0, 1, 0);
	PQclear(res);
	return 0;
}
