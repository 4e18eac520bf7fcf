/* store/store_serve.c — submissions over the service socket on SQLite
 * (sandrun serve, docs/serve.md): an item with its client's identity and
 * its place in the fair queue; who submitted an item; a cancel before it
 * runs. The schema's columns are version 2's (store_schema.c). */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fairness: each client's n-th waiting file before anyone's (n+1)-th. A
 * new item's sequence is at least the smallest one still pending (a client
 * that comes late does not jump ahead of files already waiting that long)
 * and one more than its own client's last one pending or running. */
static const char seq_sql[] =
	"SELECT max(coalesce((SELECT min(queue_seq) FROM items WHERE status = 'pending'"
	"                     AND spec_key = ?2 AND queue_seq IS NOT NULL), 1),"
	"           coalesce((SELECT max(queue_seq) FROM items WHERE client_uid = ?1"
	"                     AND status IN ('pending', 'running')), 0) + 1)";

static const char insert_sql[] =
	"INSERT INTO items(path, spec_key, size, mtime_ns, status, enqueued_at, updated_at,"
	" client_uid, client_gid, client_pid, client_name, queue_seq)"
	" VALUES(?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?6, ?7, ?8, ?9, ?10)";

static int submit_in_txn(struct store *st, const char *spec_key, const struct store_submission *s,
			 int64_t *item_id, int64_t *queue_seq)
{
	sqlite3_stmt *q;
	int r = sqlite3_prepare_v2(st->db, seq_sql, -1, &q, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "queueing a submission");
	sqlite3_bind_int64(q, 1, s->uid);
	sqlite3_bind_text(q, 2, spec_key, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	*queue_seq = r == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 1;
	sqlite3_finalize(q);
	if (r != SQLITE_ROW)
		return store_fail_sqlite(st, r, "queueing a submission");
	if ((r = sqlite3_prepare_v2(st->db, insert_sql, -1, &q, NULL)) != SQLITE_OK)
		return store_fail_sqlite(st, r, "queueing a submission");
	sqlite3_bind_text(q, 1, s->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, spec_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, s->size);
	sqlite3_bind_int64(q, 4, s->mtime_ns);
	sqlite3_bind_int64(q, 5, store_now_ms());
	sqlite3_bind_int64(q, 6, s->uid);
	sqlite3_bind_int64(q, 7, s->gid);
	sqlite3_bind_int64(q, 8, s->pid);
	if (s->name)
		sqlite3_bind_text(q, 9, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 10, *queue_seq);
	r = sqlite3_step(q);
	sqlite3_finalize(q);
	if ((r & 0xff) == SQLITE_CONSTRAINT) /* UNIQUE(path) */
		return store_fail(st, -EEXIST, "database %s: %s is an item already", st->path, s->path);
	if (r != SQLITE_DONE)
		return store_fail_sqlite(st, r, "queueing a submission");
	*item_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int sq_submit(struct store *st, const char *spec_key, const struct store_submission *s,
	      int64_t *item_id, int64_t *queue_seq)
{
	/* Acknowledged means durable: this commit is synced (FULL), as a
	 * claim's is, before the client hears of its id. */
	int r = 0;
	sqlite3_stmt *sync = store_stmt(st, SQL_SYNC_FULL, &r);
	if (!sync || (r = store_step_done(st, sync, "queueing a submission")) < 0)
		return r;
	r = store_begin(st, "queueing a submission");
	if (r == 0)
		r = submit_in_txn(st, spec_key, s, item_id, queue_seq);
	if (r == 0)
		r = store_commit(st, "queueing a submission");
	if (r < 0)
		store_rollback(st);
	int r2 = 0;
	sync = store_stmt(st, SQL_SYNC_NORMAL, &r2);
	if (sync)
		r2 = store_step_done(st, sync, "queueing a submission");
	return r < 0 ? r : r2;
}

int sq_item_client(struct store *st, int64_t id, struct store_item_client *out)
{
	sqlite3_stmt *q;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT path, status, coalesce(client_uid, -1), coalesce(client_gid, -1),"
				   " coalesce(client_pid, -1) FROM items WHERE id = ?1",
				   -1, &q, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading an item");
	sqlite3_bind_int64(q, 1, id);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		out->path = strdup((const char *)sqlite3_column_text(q, 0));
		snprintf(out->status, sizeof out->status, "%s", (const char *)sqlite3_column_text(q, 1));
		out->uid = sqlite3_column_int64(q, 2);
		out->gid = sqlite3_column_int64(q, 3);
		out->pid = sqlite3_column_int64(q, 4);
	}
	sqlite3_finalize(q);
	if (r == SQLITE_DONE)
		return store_fail(st, -ENOENT, "database %s: no item %lld", st->path, (long long)id);
	if (r != SQLITE_ROW)
		return store_fail_sqlite(st, r, "reading an item");
	return out->path ? 0 : store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
}

int sq_cancel_pending(struct store *st, int64_t id, const char *why)
{
	sqlite3_stmt *q;
	int r = sqlite3_prepare_v2(st->db,
				   "UPDATE items SET status = 'failed', last_outcome = 'input_error',"
				   " last_error = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'pending'",
				   -1, &q, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "cancelling an item");
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, store_now_ms());
	r = store_step_done(st, q, "cancelling an item");
	int changed = sqlite3_changes(st->db);
	sqlite3_finalize(q);
	return r < 0 ? r : changed > 0;
}

int sq_client_usage(struct store *st, int64_t uid, int64_t *files, int64_t *bytes)
{
	sqlite3_stmt *q;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT count(*), coalesce(sum(size), 0) FROM items"
				   " WHERE client_uid = ?1 AND status IN ('pending', 'running', 'failed')",
				   -1, &q, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "counting a client's items");
	sqlite3_bind_int64(q, 1, uid);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		*files = sqlite3_column_int64(q, 0);
		*bytes = sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	return r == SQLITE_ROW ? 0 : store_fail_sqlite(st, r, "counting a client's items");
}
