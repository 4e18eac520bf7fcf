/* store/store_query.c — the read side (status, list, show, export) and the
 * two small writes of the query commands (retry, quarantine records). */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- status ---------------------------------------------------------- */

void store_status_free(struct store_status *s)
{
	for (size_t i = 0; i < s->noutcomes; i++)
		free(s->outcomes[i].name);
	free(s->outcomes);
	free(s->last_run_version);
	free(s->last_run_how);
	memset(s, 0, sizeof *s);
}

static char *col_strdup(sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	return v ? strdup(v) : NULL;
}

static int add_outcome(struct store_status *out, const char *name, int64_t n)
{
	for (size_t i = 0; i < out->noutcomes; i++) {
		if (strcmp(out->outcomes[i].name, name) == 0) {
			out->outcomes[i].n += n;
			return 0;
		}
	}
	struct store_count *v = realloc(out->outcomes, (out->noutcomes + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	out->outcomes = v;
	if (!(v[out->noutcomes].name = strdup(name)))
		return -ENOMEM;
	v[out->noutcomes++].n = n;
	return 0;
}

int store_status_tally(struct store_status *out, const char *status, const char *outcome,
		       int64_t n)
{
	out->items += n;
	if (strcmp(status, "pending") == 0)
		out->pending += n;
	else if (strcmp(status, "running") == 0)
		out->running += n;
	else if (strcmp(status, "done") == 0) {
		out->done += n;
		if (outcome && strcmp(outcome, "damaged") == 0)
			out->damaged += n;
	} else {
		out->failed += n;
	}
	return add_outcome(out, outcome ? outcome : "", n);
}

/* Each query of status uses an index that covers it (see the schema), so
 * the whole report stays well under 100 ms at 100,000 items. */
static int status_counts(struct store *st, struct store_status *out)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   /* grouped by the bare columns, in index order: no sort */
				   "SELECT status, last_outcome, count(*) FROM items"
				   " GROUP BY status, last_outcome",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "counting items");
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_status_tally(out, (const char *)sqlite3_column_text(s, 0),
				       (const char *)sqlite3_column_text(s, 1),
				       sqlite3_column_int64(s, 2)) < 0) {
			sqlite3_finalize(s);
			return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
		}
	}
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : store_fail_sqlite(st, r, "counting items");
}

/* Running items whose runner is dead (a few rows: partial index). */
static int status_orphans(struct store *st, struct store_status *out)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT i.lease_pid, i.lease_pid_start, r.boot_id, r.pid_ns,"
				   " i.lease_heartbeat_at FROM items i JOIN runs r ON r.id = i.lease_run"
				   " WHERE i.status = 'running'",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading leases");
	int64_t now = store_now_ms();
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		out->running_orphaned +=
			!store_holder_alive(st, sqlite3_column_int(s, 0), sqlite3_column_int64(s, 1),
					    (const char *)sqlite3_column_text(s, 2),
					    (const char *)sqlite3_column_text(s, 3),
					    sqlite3_column_int64(s, 4), now);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? 0 : store_fail_sqlite(st, r, "reading leases");
}

/* Pending items held back by a retry delay (schema 4; a read-only open of
 * an older file has none). */
static int status_waiting(struct store *st, struct store_status *out)
{
	if (st->schema_version < 4)
		return 0;
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT count(*) FROM items WHERE status = 'pending'"
				   " AND not_before > ?1",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "counting delayed retries");
	sqlite3_bind_int64(s, 1, store_now_ms());
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		out->pending_delayed = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : store_fail_sqlite(st, r, "counting delayed retries");
}

static int status_attempts(struct store *st, struct store_status *out)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(
		st->db,
		"SELECT (SELECT count(*) FROM attempts), count(*), avg(wall_ms), max(wall_ms),"
		" avg(peak_memory_bytes), max(peak_memory_bytes)"
		" FROM attempts INDEXED BY attempts_resources WHERE wall_ms IS NOT NULL",
		-1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "summing attempts");
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		out->attempts = sqlite3_column_int64(s, 0);
		out->measured = sqlite3_column_int64(s, 1);
		out->wall_ms_mean = sqlite3_column_double(s, 2);
		out->wall_ms_max = sqlite3_column_int64(s, 3);
		out->peak_memory_mean = sqlite3_column_double(s, 4);
		out->peak_memory_max = sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? 0 : store_fail_sqlite(st, r, "summing attempts");
}

static int status_last_run(struct store *st, struct store_status *out)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT id, version, how, started_at, ended_at, heartbeat_at, pid,"
				   " pid_start, boot_id, pid_ns,"
				   " (SELECT count(*) FROM attempts a WHERE a.run_id = runs.id"
				   "   AND a.counted = 1 AND a.ended_at IS NOT NULL),"
				   " (SELECT max(ended_at) FROM attempts a WHERE a.run_id = runs.id"
				   "   AND a.counted = 1)"
				   " FROM runs ORDER BY id DESC LIMIT 1",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading the last run");
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		int64_t now = store_now_ms();
		out->last_run_id = sqlite3_column_int64(s, 0);
		out->last_run_version = col_strdup(s, 1);
		out->last_run_how = col_strdup(s, 2);
		out->last_run_started_ms = sqlite3_column_int64(s, 3);
		if (sqlite3_column_type(s, 4) != SQLITE_NULL)
			out->last_run_until_ms = sqlite3_column_int64(s, 4);
		else if (store_holder_alive(st, sqlite3_column_int(s, 6),
					    sqlite3_column_int64(s, 7),
					    (const char *)sqlite3_column_text(s, 8),
					    (const char *)sqlite3_column_text(s, 9),
					    sqlite3_column_int64(s, 5), now))
			out->last_run_until_ms = now; /* still running */
		else {
			/* Died: it ran at least until its last heartbeat and its
			 * last finished attempt. */
			int64_t hb = sqlite3_column_int64(s, 5), last = sqlite3_column_int64(s, 11);
			out->last_run_until_ms = hb > last ? hb : last;
			if (!out->last_run_how)
				out->last_run_how = strdup("lost");
		}
		out->last_run_finished = sqlite3_column_int64(s, 10);
		int64_t span = out->last_run_until_ms - out->last_run_started_ms;
		out->last_run_per_second =
			span > 0 ? (double)out->last_run_finished * 1000.0 / (double)span : 0.0;
	}
	sqlite3_finalize(s);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0
						   : store_fail_sqlite(st, r, "reading the last run");
}

int sq_get_status(struct store *st, struct store_status *out)
{
	memset(out, 0, sizeof *out);
	/* One read transaction: the numbers agree with each other even while
	 * a runner writes. */
	int r = store_exec(st, "BEGIN", "reading the status");
	if (r < 0)
		return r;
	r = status_counts(st, out);
	if (r == 0 && out->running)
		r = status_orphans(st, out);
	if (r == 0)
		r = status_waiting(st, out);
	if (r == 0)
		r = status_attempts(st, out);
	if (r == 0)
		r = status_last_run(st, out);
	store_rollback(st);
	if (r < 0)
		store_status_free(out);
	return r;
}

/* ---- items ----------------------------------------------------------- */

#define ITEM_COLUMNS                                                                        \
	"SELECT i.id, i.path, i.spec_key, i.status, i.last_outcome, i.last_error,"          \
	" i.quarantined_to, coalesce(i.size, -1), coalesce(i.mtime_ns, -1), i.attempts,"     \
	" i.enqueued_at, i.updated_at, a.id, coalesce(a.exit_code, -1), coalesce(a.signal, 0)," \
	" a.syscall, coalesce(a.wall_ms, -1), coalesce(a.cpu_ms, -1),"                       \
	" coalesce(a.peak_memory_bytes, -1), coalesce(a.oom_kills, -1), r.kind, r.value,"    \
	" (SELECT hostname FROM runs WHERE id = i.lease_run),"                               \
	" (SELECT started_at FROM attempts WHERE id = i.lease_attempt), %s"                   \
	" FROM items i LEFT JOIN attempts a ON a.id = i.last_attempt"
/* ITEM_COLUMNS's %s: items.not_before is schema 4's (a read-only open of an
 * older file reads NULL). */
#define NOT_BEFORE_COLUMN(st) ((st)->schema_version >= 4 ? "i.not_before" : "NULL")

static void fill_item(sqlite3_stmt *s, struct store_item_row *row)
{
	memset(row, 0, sizeof *row);
	row->id = sqlite3_column_int64(s, 0);
	row->path = (const char *)sqlite3_column_text(s, 1);
	row->spec_key = (const char *)sqlite3_column_text(s, 2);
	row->status = (const char *)sqlite3_column_text(s, 3);
	row->outcome = (const char *)sqlite3_column_text(s, 4);
	row->error = (const char *)sqlite3_column_text(s, 5);
	row->quarantined_to = (const char *)sqlite3_column_text(s, 6);
	row->size = sqlite3_column_int64(s, 7);
	row->mtime_ns = sqlite3_column_int64(s, 8);
	row->attempts = sqlite3_column_int(s, 9);
	row->enqueued_ms = sqlite3_column_int64(s, 10);
	row->updated_ms = sqlite3_column_int64(s, 11);
	row->has_attempt = sqlite3_column_type(s, 12) != SQLITE_NULL;
	row->exit_code = sqlite3_column_int(s, 13);
	row->signal = sqlite3_column_int(s, 14);
	row->syscall = (const char *)sqlite3_column_text(s, 15);
	row->wall_ms = sqlite3_column_int64(s, 16);
	row->cpu_ms = sqlite3_column_int64(s, 17);
	row->peak_memory_bytes = sqlite3_column_int64(s, 18);
	row->oom_kills = sqlite3_column_int64(s, 19);
	row->running_host = (const char *)sqlite3_column_text(s, 22);
	row->running_since_ms =
		sqlite3_column_type(s, 23) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 23);
	row->not_before_ms =
		sqlite3_column_type(s, 24) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 24);
	row->result_kind = (const char *)sqlite3_column_text(s, 20);
	if (row->result_kind) {
		row->result = sqlite3_column_blob(s, 21);
		row->result_len = (size_t)sqlite3_column_bytes(s, 21);
		if (!row->result)
			row->result = "";
	}
}

static int each_item(struct store *st, sqlite3_stmt *s, store_item_fn fn, void *ctx,
		     const char *what, int64_t *rows)
{
	int r, code = 0;
	struct store_item_row row;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		fill_item(s, &row);
		if (rows)
			(*rows)++;
		code = fn(&row, ctx);
		if (code < 0)
			break;
	}
	if (code == 0 && r != SQLITE_DONE)
		code = store_fail_sqlite(st, r, what);
	sqlite3_finalize(s);
	return code;
}

int sq_list_items(struct store *st, const struct store_filter *f, store_item_fn fn,
		     void *ctx)
{
	static const struct store_filter none = { 0 };
	if (!f)
		f = &none;
	char *upper = NULL;
	if (f->path_prefix && store_prefix_upper(f->path_prefix, &upper) < 0)
		return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	/* Only the ORDER BY and the path range vary, from fixed text. */
	char sql[2048];
	snprintf(sql, sizeof sql,
		 ITEM_COLUMNS
		 " LEFT JOIN results r ON r.item_id = i.id AND ?3 AND i.status = 'done'"
		 " WHERE (?1 IS NULL OR i.status = ?1)"
		 " AND (?2 IS NULL OR i.last_outcome = ?2)"
		 " AND (?4 <= 0 OR i.updated_at >= ?4)"
		 " AND (?5 <= 0 OR EXISTS (SELECT 1 FROM attempts x"
		 "  WHERE x.item_id = i.id AND x.run_id = ?5))"
		 " AND (?6 <= 0 OR i.id = ?6)%s%s"
		 " ORDER BY %s LIMIT ?7",
		 NOT_BEFORE_COLUMN(st), f->path_prefix ? " AND i.path >= ?8" : "", upper ? " AND i.path < ?9" : "",
		 store_order_sql(f->sort, false));
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (r != SQLITE_OK) {
		free(upper);
		return store_fail_sqlite(st, r, "listing items");
	}
	if (f->status)
		sqlite3_bind_text(s, 1, f->status, -1, SQLITE_STATIC);
	if (f->outcome)
		sqlite3_bind_text(s, 2, f->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, f->with_result);
	sqlite3_bind_int64(s, 4, f->since_ms);
	sqlite3_bind_int64(s, 5, f->run_id);
	sqlite3_bind_int64(s, 6, f->id);
	sqlite3_bind_int64(s, 7, f->limit > 0 ? f->limit : -1);
	if (f->path_prefix)
		sqlite3_bind_text(s, 8, f->path_prefix, -1, SQLITE_STATIC);
	if (upper)
		sqlite3_bind_text(s, 9, upper, -1, SQLITE_STATIC);
	r = each_item(st, s, fn, ctx, "listing items", NULL);
	free(upper);
	return r;
}

int sq_export(struct store *st, store_item_fn fn, void *ctx)
{
	struct store_filter f = { .status = "done", .with_result = true };
	return sq_list_items(st, &f, fn, ctx);
}

static int each_attempt(struct store *st, int64_t item_id, store_attempt_fn fn, void *ctx)
{
	sqlite3_stmt *s;
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT id, coalesce(run_id, 0), attempt_no, counted, started_at,"
		 " coalesce(ended_at, -1), outcome, coalesce(exit_code, -1), coalesce(signal, 0),"
		 " syscall, error, coalesce(wall_ms, -1), coalesce(cpu_ms, -1),"
		 " coalesce(peak_memory_bytes, -1), coalesce(oom_kills, -1), stderr_tail,"
		 " %s FROM attempts WHERE item_id = ?1 ORDER BY id",
		 /* a read-only open of a schema 1 file: no output_head yet */
		 st->schema_version >= 2 ? "output_head" : "NULL");
	int r = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading attempts");
	sqlite3_bind_int64(s, 1, item_id);
	int code = 0;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_attempt_row a = {
			.id = sqlite3_column_int64(s, 0),
			.run_id = sqlite3_column_int64(s, 1),
			.attempt_no = sqlite3_column_int(s, 2),
			.counted = sqlite3_column_int(s, 3) != 0,
			.started_ms = sqlite3_column_int64(s, 4),
			.ended_ms = sqlite3_column_int64(s, 5),
			.outcome = (const char *)sqlite3_column_text(s, 6),
			.exit_code = sqlite3_column_int(s, 7),
			.signal = sqlite3_column_int(s, 8),
			.syscall = (const char *)sqlite3_column_text(s, 9),
			.error = (const char *)sqlite3_column_text(s, 10),
			.wall_ms = sqlite3_column_int64(s, 11),
			.cpu_ms = sqlite3_column_int64(s, 12),
			.peak_memory_bytes = sqlite3_column_int64(s, 13),
			.oom_kills = sqlite3_column_int64(s, 14),
			.stderr_tail = sqlite3_column_blob(s, 15),
			.stderr_len = (size_t)sqlite3_column_bytes(s, 15),
			.output_head = sqlite3_column_blob(s, 16),
			.output_len = (size_t)sqlite3_column_bytes(s, 16),
		};
		code = fn(&a, ctx);
		if (code < 0)
			break;
	}
	if (code == 0 && r != SQLITE_DONE)
		code = store_fail_sqlite(st, r, "reading attempts");
	sqlite3_finalize(s);
	return code;
}

/* One item (WHERE i.path = ?1 or i.id = ?1 by `where`), then its attempts. */
static int show_where(struct store *st, const char *where, const char *path, int64_t id,
		      store_item_fn item_fn, store_attempt_fn attempt_fn, void *ctx)
{
	int r = store_exec(st, "BEGIN", "reading an item");
	if (r < 0)
		return r;
	char sql[2048];
	snprintf(sql, sizeof sql, ITEM_COLUMNS " LEFT JOIN results r ON r.item_id = i.id WHERE %s",
		 NOT_BEFORE_COLUMN(st), where);
	sqlite3_stmt *s;
	r = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (r != SQLITE_OK) {
		r = store_fail_sqlite(st, r, "reading an item");
		store_rollback(st);
		return r;
	}
	if (path)
		sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, id);
	int64_t rows = 0, item_id = 0;
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		struct store_item_row row;
		fill_item(s, &row);
		item_id = row.id;
		rows = 1;
		r = item_fn(&row, ctx);
	} else {
		r = r == SQLITE_DONE ? 0 : store_fail_sqlite(st, r, "reading an item");
	}
	sqlite3_finalize(s);
	if (r == 0 && rows == 0 && path)
		r = store_fail(st, -ENOENT, "%s: not in the store %s", path, st->path);
	else if (r == 0 && rows == 0)
		r = store_fail(st, -ENOENT, "item %lld: not in the store %s", (long long)id,
			       st->path);
	if (r == 0)
		r = each_attempt(st, item_id, attempt_fn, ctx);
	store_rollback(st);
	return r;
}

int sq_show_item(struct store *st, const char *path, store_item_fn item_fn,
		 store_attempt_fn attempt_fn, void *ctx)
{
	return show_where(st, "i.path = ?1", path, 0, item_fn, attempt_fn, ctx);
}

int sq_show_item_id(struct store *st, int64_t id, store_item_fn item_fn,
		    store_attempt_fn attempt_fn, void *ctx)
{
	return show_where(st, "i.id = ?1", NULL, id, item_fn, attempt_fn, ctx);
}

/* ---- retry and quarantine -------------------------------------------- */

static int retry_step(struct store *st, sqlite3_stmt *s, const char *outcome, const char *path,
		      int64_t now, int64_t *changed)
{
	sqlite3_reset(s);
	if (outcome)
		sqlite3_bind_text(s, 1, outcome, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 1);
	if (path)
		sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_int64(s, 3, now);
	int r = store_step_done(st, s, "putting items back to pending");
	*changed = r == 0 ? sqlite3_changes64(st->db) : 0;
	return r;
}

static int status_of(struct store *st, const char *path, char *buf, size_t len, bool *found)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db, "SELECT status FROM items WHERE path = ?1", -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading an item");
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	*found = r == SQLITE_ROW;
	if (*found)
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : store_fail_sqlite(st, r, "reading an item");
}

int sq_retry_failed(struct store *st, const char *outcome, const char *const *paths,
		       size_t npaths,
		       void (*not_reset)(const char *path, const char *status, void *ctx),
		       void *ctx, int64_t *reset)
{
	*reset = 0;
	int r = store_begin(st, "putting items back to pending");
	if (r < 0)
		return r;
	sqlite3_stmt *s;
	r = sqlite3_prepare_v2(st->db,
			       "UPDATE items SET status='pending', attempts=0, budget=budget+1,"
			       " not_before=NULL, updated_at=?3 WHERE status='failed'"
			       " AND (?1 IS NULL OR last_outcome = ?1) AND (?2 IS NULL OR path = ?2)",
			       -1, &s, NULL);
	if (r != SQLITE_OK) {
		r = store_fail_sqlite(st, r, "putting items back to pending");
		store_rollback(st);
		return r;
	}
	int64_t now = store_now_ms(), changed = 0;
	if (npaths == 0) {
		r = retry_step(st, s, outcome, NULL, now, &changed);
		*reset = changed;
	}
	for (size_t i = 0; r == 0 && i < npaths; i++) {
		r = retry_step(st, s, outcome, paths[i], now, &changed);
		*reset += changed;
		if (r == 0 && changed == 0 && not_reset) {
			char status[16];
			bool found = false;
			r = status_of(st, paths[i], status, sizeof status, &found);
			if (r == 0)
				not_reset(paths[i], found ? status : NULL, ctx);
		}
	}
	sqlite3_finalize(s);
	if (r == 0)
		r = store_commit(st, "putting items back to pending");
	if (r < 0) {
		store_rollback(st);
		*reset = 0;
	}
	return r;
}

int sq_record_quarantine(struct store *st, int64_t item_id, const char *dest)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "UPDATE items SET quarantined_to=?2, quarantined_at=?3 WHERE id=?1",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "recording a quarantined input");
	sqlite3_bind_int64(s, 1, item_id);
	sqlite3_bind_text(s, 2, dest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, store_now_ms());
	r = store_step_done(st, s, "recording a quarantined input");
	if (r == 0 && sqlite3_changes(st->db) != 1)
		r = store_fail(st, -ENOENT, "database %s: item %lld does not exist", st->path,
			       (long long)item_id);
	sqlite3_finalize(s);
	return r;
}
