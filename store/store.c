/* store/store.c — opening and refusing database files, errors,
 * transactions, the runs table. Opening is in store_open.c, items and attempts
 * in store_items.c, leases in store_reclaim.c, the schema in store_schema.c,
 * the read side in store_query.c. */
#include "store/store_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- errors ---------------------------------------------------------- */

const char *store_errmsg(const struct store *st)
{
	return st ? st->err : "";
}

int store_fail(struct store *st, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	return code;
}

/* SQLite's code plus the errno behind an I/O error → our code and the
 * advice a user can act on. */
static int classify(int sqlite_rc, int sys_errno, const char **advice)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		*advice = "another process holds its lock for too long; wait for it to finish "
			  "(or raise SANDRUN_DB_BUSY_TIMEOUT_MS) and run again";
		return STORE_EBUSY;
	case SQLITE_FULL:
		*advice = "the disk is full; free some space and run again (this command "
			  "changed nothing)";
		return -ENOSPC;
	case SQLITE_READONLY:
		*advice = "it cannot be written (read-only file system or file); give --db a "
			  "writable path";
		return -EROFS;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		*advice = "the file is damaged; restore it from a backup, or move it aside to "
			  "start a new store (its inputs will then be analyzed again)";
		return STORE_ECORRUPT;
	case SQLITE_NOMEM:
		*advice = "out of memory";
		return -ENOMEM;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		if (sys_errno == ENOSPC || sys_errno == EDQUOT) {
			*advice = "the disk is full; free some space and run again (this command "
				  "changed nothing)";
			return -ENOSPC;
		}
		if (sys_errno == EROFS) {
			*advice = "it is on a read-only file system; give --db a writable path";
			return -EROFS;
		}
		if (sys_errno == EACCES || sys_errno == EPERM) {
			*advice = "permission denied; check the file's and its directory's "
				  "permissions";
			return -EACCES;
		}
		*advice = "an I/O error; check the disk and the file";
		return sys_errno > 0 ? -sys_errno : -EIO;
	case SQLITE_CONSTRAINT:
		*advice = "a value was refused by the schema (a bug in sandrun; please report it)";
		return -EINVAL;
	default:
		*advice = "unexpected SQLite error";
		return -EIO;
	}
}

int store_fail_sqlite(struct store *st, int sqlite_rc, const char *what)
{
	const char *advice = "";
	int sys = st->db ? sqlite3_system_errno(st->db) : 0;
	int code = classify(sqlite_rc, sys, &advice);
	const char *detail = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(sqlite_rc);
	snprintf(st->err, sizeof st->err, "database %s: %s: %s: %s", st->path, what, detail,
		 advice);
	return code;
}

/* ---- statements and transactions ------------------------------------ */

extern const char *const store_sql_text[SQL_STMT_COUNT];

sqlite3_stmt *store_stmt(struct store *st, enum store_stmt_id id, int *rc)
{
	sqlite3_stmt *s = st->stmt[id];
	if (!s) {
		int r = sqlite3_prepare_v3(st->db, store_sql_text[id], -1,
					   SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (r != SQLITE_OK) {
			*rc = store_fail_sqlite(st, r, "preparing a statement");
			return NULL;
		}
		st->stmt[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int store_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int r;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		;
	int code = r == SQLITE_DONE ? 0 : store_fail_sqlite(st, r, what);
	sqlite3_reset(s);
	return code;
}

static int run_stmt(struct store *st, enum store_stmt_id id, const char *what)
{
	int rc = 0;
	sqlite3_stmt *s = store_stmt(st, id, &rc);
	if (!s)
		return rc;
	return store_step_done(st, s, what);
}

int store_begin(struct store *st, const char *what)
{
	return run_stmt(st, SQL_BEGIN_IMMEDIATE, what);
}

int store_commit(struct store *st, const char *what)
{
	return run_stmt(st, SQL_COMMIT, what);
}

void store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return; /* SQLite already rolled back (or nothing was open) */
	char saved[sizeof st->err];
	memcpy(saved, st->err, sizeof saved);
	run_stmt(st, SQL_ROLLBACK, "rolling back");
	memcpy(st->err, saved, sizeof saved);
}

int store_exec(struct store *st, const char *sql, const char *what)
{
	int r = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return r == SQLITE_OK ? 0 : store_fail_sqlite(st, r, what);
}

int64_t store_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- runs ------------------------------------------------------------ */

static int bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

/* A one-off write statement in its own implicit transaction. */
static int write_once(struct store *st, const char *sql, const char *what,
		      int (*bind)(sqlite3_stmt *s, const void *ctx), const void *ctx,
		      int64_t *changes)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, what);
	r = bind(s, ctx);
	int code = r == SQLITE_OK ? store_step_done(st, s, what) : store_fail_sqlite(st, r, what);
	if (code == 0 && changes)
		*changes = sqlite3_changes64(st->db);
	sqlite3_finalize(s);
	return code;
}

struct run_begin_args {
	struct store *st;
	const char *version, *argv_json, *spec_json;
	int64_t now;
};

static int bind_run_begin(sqlite3_stmt *s, const void *ctx)
{
	const struct run_begin_args *a = ctx;
	const struct store_self *me = &a->st->self;
	int r = sqlite3_bind_text(s, 1, a->version ? a->version : "", -1, SQLITE_TRANSIENT);
	r = r ? r : bind_text_or_null(s, 2, a->argv_json);
	r = r ? r : bind_text_or_null(s, 3, a->spec_json);
	r = r ? r : sqlite3_bind_text(s, 4, me->hostname, -1, SQLITE_TRANSIENT);
	r = r ? r : sqlite3_bind_text(s, 5, me->boot_id, -1, SQLITE_TRANSIENT);
	r = r ? r : sqlite3_bind_text(s, 6, me->pid_ns, -1, SQLITE_TRANSIENT);
	r = r ? r : sqlite3_bind_int(s, 7, me->pid);
	r = r ? r : sqlite3_bind_int64(s, 8, me->pid_start);
	r = r ? r : sqlite3_bind_int64(s, 9, a->now);
	return r;
}

int sq_run_begin(struct store *st, const char *version, const char *argv_json,
		    const char *spec_json, int64_t *run_id)
{
	struct run_begin_args a = { st, version, argv_json, spec_json, store_now_ms() };
	int r = write_once(st,
			   "INSERT INTO runs(version, argv, spec, hostname, boot_id, pid_ns, pid,"
			   " pid_start, started_at, heartbeat_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?9)",
			   "recording the run", bind_run_begin, &a, NULL);
	if (r == 0)
		*run_id = sqlite3_last_insert_rowid(st->db);
	return r;
}

struct run_id_args {
	int64_t run_id, now;
	const char *how, *summary;
};

static int bind_heartbeat(sqlite3_stmt *s, const void *ctx)
{
	const struct run_id_args *a = ctx;
	int r = sqlite3_bind_int64(s, 1, a->run_id);
	return r ? r : sqlite3_bind_int64(s, 2, a->now);
}

int sq_run_heartbeat(struct store *st, int64_t run_id)
{
	struct run_id_args a = { run_id, store_now_ms(), NULL, NULL };
	int r = store_begin(st, "heartbeat");
	if (r < 0)
		return r;
	int64_t n = 0;
	r = write_once(st, "UPDATE runs SET heartbeat_at=?2 WHERE id=?1", "heartbeat",
		       bind_heartbeat, &a, &n);
	if (r == 0 && n == 0)
		r = store_fail(st, -ENOENT, "database %s: heartbeat: no run %lld", st->path,
			       (long long)run_id);
	if (r == 0)
		r = write_once(st,
			       "UPDATE items SET lease_heartbeat_at=?2"
			       " WHERE status='running' AND lease_run=?1",
			       "heartbeat", bind_heartbeat, &a, NULL);
	if (r == 0)
		r = store_commit(st, "heartbeat");
	if (r < 0)
		store_rollback(st);
	return r;
}

static int bind_run_end(sqlite3_stmt *s, const void *ctx)
{
	const struct run_id_args *a = ctx;
	int r = sqlite3_bind_int64(s, 1, a->run_id);
	r = r ? r : sqlite3_bind_int64(s, 2, a->now);
	r = r ? r : sqlite3_bind_text(s, 3, a->how, -1, SQLITE_STATIC);
	return r ? r : bind_text_or_null(s, 4, a->summary);
}

int sq_run_end(struct store *st, int64_t run_id, const char *how, const char *summary_json)
{
	struct run_id_args a = { run_id, store_now_ms(), how, summary_json };
	int64_t n = 0;
	int r = write_once(st,
			   "UPDATE runs SET ended_at=?2, heartbeat_at=?2, how=?3, summary=?4"
			   " WHERE id=?1",
			   "recording the end of the run", bind_run_end, &a, &n);
	if (r == 0 && n == 0)
		r = store_fail(st, -ENOENT, "database %s: run end: no run %lld", st->path,
			       (long long)run_id);
	return r;
}
