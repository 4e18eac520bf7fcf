/* store/store_forget.c — sandrun forget and sandrun gc on SQLite: removing
 * items with their attempts and results, and compacting the file. */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The item at `path`: its id and status, and whether a live runner holds
 * it (running under a lease whose holder store_holder_alive() finds). */
static int forget_lookup(struct store *st, sqlite3_stmt *s, const char *path, int64_t *id,
			 char *status, size_t len, bool *held)
{
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	int r = sqlite3_step(s);
	*id = 0;
	*held = false;
	if (r == SQLITE_DONE)
		return 0;
	if (r != SQLITE_ROW)
		return store_fail_sqlite(st, r, "reading an item");
	*id = sqlite3_column_int64(s, 0);
	snprintf(status, len, "%s", (const char *)sqlite3_column_text(s, 1));
	if (strcmp(status, "running") == 0)
		*held = store_holder_alive(st, sqlite3_column_int(s, 2), sqlite3_column_int64(s, 3),
					   (const char *)sqlite3_column_text(s, 4),
					   (const char *)sqlite3_column_text(s, 5),
					   sqlite3_column_int64(s, 6), store_now_ms()) != 0;
	return 0;
}

static int forget_delete(struct store *st, int64_t id)
{
	static const char *const sql[] = {
		"DELETE FROM results WHERE item_id = ?1",
		"DELETE FROM attempts WHERE item_id = ?1",
		"DELETE FROM items WHERE id = ?1",
	};
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *s;
		int r = sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL);
		if (r != SQLITE_OK)
			return store_fail_sqlite(st, r, "forgetting an item");
		sqlite3_bind_int64(s, 1, id);
		r = store_step_done(st, s, "forgetting an item");
		sqlite3_finalize(s);
		if (r < 0)
			return r;
	}
	return 0;
}

int sq_forget(struct store *st, const char *const *paths, size_t npaths, bool dry_run,
	      store_forget_fn fn, void *ctx, int64_t *n)
{
	int r = dry_run ? store_exec(st, "BEGIN", "reading items") : store_begin(st, "forgetting items");
	if (r < 0)
		return r;
	sqlite3_stmt *s;
	r = sqlite3_prepare_v2(st->db,
			       "SELECT i.id, i.status, i.lease_pid, i.lease_pid_start, r.boot_id,"
			       " r.pid_ns, i.lease_heartbeat_at FROM items i"
			       " LEFT JOIN runs r ON r.id = i.lease_run WHERE i.path = ?1",
			       -1, &s, NULL);
	if (r != SQLITE_OK) {
		r = store_fail_sqlite(st, r, "reading an item");
		store_rollback(st);
		return r;
	}
	for (size_t i = 0; r == 0 && i < npaths; i++) {
		int64_t id;
		char status[16] = "";
		bool held;
		r = forget_lookup(st, s, paths[i], &id, status, sizeof status, &held);
		/* A dry run decides alike and deletes nothing (it may hold a
		 * read-only store). */
		if (r == 0 && id && !held && !dry_run)
			r = forget_delete(st, id);
		if (r == 0) {
			*n += id && !held;
			fn(paths[i], id ? status : NULL, id && !held, ctx);
		}
	}
	sqlite3_finalize(s);
	if (r == 0 && !dry_run)
		r = store_commit(st, "forgetting items");
	if (r < 0 || dry_run)
		store_rollback(st);
	if (r < 0)
		*n = 0;
	return r;
}

/* The database file and its WAL, in bytes. */
static int64_t file_bytes(const char *path)
{
	struct stat sb;
	char wal[4096];
	int64_t n = stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
	snprintf(wal, sizeof wal, "%s-wal", path);
	return n + (stat(wal, &sb) == 0 ? (int64_t)sb.st_size : 0);
}

int sq_gc(struct store *st, int64_t *before, int64_t *after)
{
	*before = file_bytes(st->path);
	/* VACUUM in WAL mode writes the new pages through the WAL: checkpoint
	 * after it too, so the file system gets the space back. */
	int r = store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)", "checkpointing the WAL");
	if (r == 0)
		r = store_exec(st, "VACUUM", "compacting the database (VACUUM)");
	if (r == 0)
		r = store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)", "checkpointing the WAL");
	if (r == 0)
		r = store_exec(st, "PRAGMA optimize", "updating the query planner's statistics");
	*after = file_bytes(st->path);
	return r;
}
