/* store/pg_forget.c — sandrun forget and sandrun gc on PostgreSQL: the same
 * decisions as store/store_forget.c gives on SQLite. A running item's lease
 * is dead by pg_dead_runs() (heartbeat older than the lease timeout in
 * database time, or a gone process on this host). */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool run_is_dead(const int64_t *dead, size_t ndead, int64_t run)
{
	for (size_t i = 0; i < ndead; i++)
		if (dead[i] == run)
			return true;
	return false;
}

/* The item at `path` (locked until the end of the transaction): its id,
 * status and, when running, whether a live runner holds it. */
static int forget_lookup(struct store *st, const char *path, const int64_t *dead, size_t ndead,
			 bool lock, int64_t *id, char *status, size_t len, bool *held)
{
	struct pgp p = { 0 };
	pgp_bytes(&p, path, strlen(path));
	int code = 0;
	PGresult *r = pg_run(st,
			     lock ? "SELECT id, status, coalesce(lease_run, 0) FROM items WHERE path = $1"
				    " FOR UPDATE"
				  : "SELECT id, status, coalesce(lease_run, 0) FROM items WHERE path = $1",
			     &p, "reading an item", &code);
	*id = 0;
	*held = false;
	if (r && PQntuples(r) == 1) {
		*id = pg_col_i64(r, 0, 0, 0);
		snprintf(status, len, "%s", PQgetvalue(r, 0, 1));
		*held = strcmp(status, "running") == 0 &&
			!run_is_dead(dead, ndead, pg_col_i64(r, 0, 2, 0));
	}
	PQclear(r);
	return code;
}

static int forget_delete(struct store *st, int64_t id)
{
	static const char *const sql[] = {
		"DELETE FROM results WHERE item_id = $1",
		"DELETE FROM attempts WHERE item_id = $1",
		"DELETE FROM items WHERE id = $1",
	};
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		struct pgp p = { 0 };
		pgp_i64(&p, id);
		int64_t n = pg_cmd(st, sql[i], &p, "forgetting an item");
		if (n < 0)
			return (int)n;
	}
	return 0;
}

int pg_forget(struct store *st, const char *const *paths, size_t npaths, bool dry_run,
	      store_forget_fn fn, void *ctx, int64_t *n)
{
	int r = pg_begin(st, "forgetting items");
	if (r < 0)
		return r;
	int64_t *dead = NULL;
	size_t ndead = 0;
	r = pg_dead_runs(st, &dead, &ndead);
	for (size_t i = 0; r == 0 && i < npaths; i++) {
		int64_t id;
		char status[16] = "";
		bool held;
		r = forget_lookup(st, paths[i], dead, ndead, !dry_run, &id, status, sizeof status,
				  &held);
		/* A dry run decides alike and deletes nothing (it may hold a
		 * read-only store). */
		if (r == 0 && id && !held && !dry_run)
			r = forget_delete(st, id);
		if (r == 0) {
			*n += id && !held;
			fn(paths[i], id ? status : NULL, id && !held, ctx);
		}
	}
	free(dead);
	if (r == 0 && !dry_run)
		r = pg_commit(st, "forgetting items");
	if (r < 0 || dry_run)
		pg_rollback(st);
	if (r < 0)
		*n = 0;
	return r;
}

/* The tables of the store, by name: fixed text (the schema is on the
 * search path, set when the store was opened). */
static const char *const gc_tables[] = { "meta", "runs", "items", "attempts", "results" };

static int tables_bytes(struct store *st, int64_t *out)
{
	return pg_int(st,
		      "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c"
		      " JOIN pg_namespace n ON n.oid = c.relnamespace"
		      " WHERE n.nspname = current_schema()"
		      " AND c.relname IN ('meta','runs','items','attempts','results')",
		      NULL, "measuring the tables", out);
}

int pg_gc(struct store *st, int64_t *before, int64_t *after)
{
	int r = tables_bytes(st, before);
	for (size_t i = 0; r == 0 && i < sizeof gc_tables / sizeof gc_tables[0]; i++) {
		char sql[64];
		/* VACUUM cannot run inside a transaction: this is one statement
		 * in autocommit. */
		snprintf(sql, sizeof sql, "VACUUM (ANALYZE) %s", gc_tables[i]);
		int64_t n = pg_cmd(st, sql, NULL, "vacuuming the tables (VACUUM (ANALYZE))");
		r = n < 0 ? (int)n : 0;
	}
	if (r == 0)
		r = tables_bytes(st, after);
	return r;
}
