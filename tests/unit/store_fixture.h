/* tests/unit/store_fixture.h — shared by the tests of store/
 * (test_store.c, test_store_leases.c, test_store_files.c): a fresh directory
 * per test, raw SQL to look behind the API, and the invariants every test
 * checks. Header-only (static inline) because each test_*.c is its own
 * binary.
 *
 * One contract, one conformance suite: with SANDRUN_TEST_PG_URI set (a
 * libpq URI with a '?', e.g. postgresql:///postgres?host=/tmp/pg.X&user=sandrun;
 * tests/suites/store-pg.sh starts a throwaway cluster and sets it), every
 * test runs against PostgreSQL instead of SQLite, each in a schema of its
 * own (sandrun.schema=t_PID_N). The raw SQL below looks behind the API on
 * either backend: "?N" becomes "$N", an argument is bound as bytes (paths
 * are bytea on PostgreSQL). Checks of one backend's own mechanics (PRAGMAs,
 * per-item heartbeats) ask fx_pg(). */
#ifndef SANDRUN_TEST_STORE_FIXTURE_H
#define SANDRUN_TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPEC "spec-A"

struct fx {
	char dir[PATH_MAX];
	char db[PATH_MAX + 16];
};

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static inline bool fx_pg(void)
{
	const char *u = getenv("SANDRUN_TEST_PG_URI");
	return u && *u;
}

static inline int setup(void **state)
{
	static int n;
	struct fx *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof f->dir, "%s/test_store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	if (fx_pg())
		snprintf(f->db, sizeof f->db, "%s&options=-c%%20sandrun.schema%%3Dt_%d_%d",
			 getenv("SANDRUN_TEST_PG_URI"), (int)getpid(), ++n);
	else
		snprintf(f->db, sizeof f->db, "%s/s.db", f->dir);
	setenv("SANDRUN_DB_BUSY_TIMEOUT_MS", "10000", 1);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static inline struct store *open_rw(const char *db)
{
	struct store *st = NULL;
	char err[1024];
	int r = store_open(db, STORE_RW, &st, err, sizeof err);
	if (r < 0)
		fail_msg("store_open(%s): %d %s", db, r, err);
	return st;
}

/* PostgreSQL: one connection per process and URI, on the test's schema. */
static inline PGconn *pg_fx_conn(const char *db)
{
	static PGconn *c;
	static char uri[PATH_MAX + 64];
	static pid_t owner;
	if (c && owner == getpid() && strcmp(uri, db) == 0)
		return c;
	if (c && owner == getpid())
		PQfinish(c);
	c = PQconnectdb(db);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connecting to %s: %s", db, PQerrorMessage(c));
	PQclear(PQexec(c, "SELECT set_config('search_path', quote_ident(current_setting("
			  "'sandrun.schema')), false)"));
	snprintf(uri, sizeof uri, "%s", db);
	owner = getpid();
	return c;
}

/* Run the fixture's SQL on PostgreSQL: ?N -> $N, results(value) -> the
 * value column of its kind. */
static inline PGresult *pg_fx_exec(const char *db, const char *sql, const char *arg)
{
	char q[2048];
	size_t o = 0;
	for (const char *s = sql; *s && o + 16 < sizeof q; s++) {
		if (*s == '?')
			q[o++] = '$';
		else if (strncmp(s, "length(value)", 13) == 0) {
			memcpy(q + o, "length(value_blob)", 18);
			o += 18;
			s += 12;
		} else
			q[o++] = *s;
	}
	q[o] = '\0';
	const char *v[1] = { arg };
	int len[1] = { arg ? (int)strlen(arg) : 0 }, fmt[1] = { 1 };
	PGresult *r = PQexecParams(pg_fx_conn(db), q, arg ? 1 : 0, NULL, v, len, fmt, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	return r;
}

static inline int64_t sql_int(const char *db, const char *sql, const char *arg)
{
	if (store_is_postgresql(db)) {
		PGresult *r = pg_fx_exec(db, sql, arg);
		int64_t v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
								   : -999;
		if (PQntuples(r) && PQgetvalue(r, 0, 0)[0] == 't')
			v = 1;
		else if (PQntuples(r) && PQgetvalue(r, 0, 0)[0] == 'f')
			v = 0;
		PQclear(r);
		return v;
	}
	sqlite3 *h;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 10000);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	int r = sqlite3_step(s);
	int64_t v = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -999;
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static inline char *sql_text(const char *db, const char *sql, const char *arg)
{
	if (store_is_postgresql(db)) {
		PGresult *r = pg_fx_exec(db, sql, arg);
		char *v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
		PQclear(r);
		return v;
	}
	sqlite3 *h;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 10000);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	char *v = NULL;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		v = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static inline void sql_exec(const char *db, const char *sql)
{
	if (store_is_postgresql(db)) {
		PQclear(pg_fx_exec(db, sql, NULL));
		return;
	}
	sqlite3 *h;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 10000);
	char *err = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(h);
}

/* The schema version the store records (PRAGMA user_version; meta). */
/* The schema version a fresh store gets: PostgreSQL's is its own
 * (PG_SCHEMA_VERSION, store/pg_internal.h; docs/scale-out.md). */
static inline int64_t fx_schema_version(void)
{
	return fx_pg() ? 6 : STORE_SCHEMA_VERSION;
}

static inline int64_t schema_version(const char *db)
{
	return sql_int(db, store_is_postgresql(db)
				   ? "SELECT value::bigint FROM meta WHERE key = 'schema_version'"
				   : "PRAGMA user_version",
		       NULL);
}

static inline void assert_status(const char *db, const char *path, const char *status, int attempts)
{
	char *s = sql_text(db, "SELECT status FROM items WHERE path=?1", path);
	assert_non_null(s);
	assert_string_equal(s, status);
	free(s);
	assert_int_equal(sql_int(db, "SELECT attempts FROM items WHERE path=?1", path), attempts);
}

/* The invariant of docs/store.md: an item's attempts equal its counted
 * attempt rows of the current budget. */
static inline void assert_attempts_consistent(const char *db)
{
	assert_int_equal(sql_int(db,
				 "SELECT count(*) FROM items i WHERE i.attempts <> (SELECT count(*)"
				 " FROM attempts a WHERE a.item_id = i.id AND a.budget = i.budget"
				 " AND a.counted = 1)",
				 NULL),
			 0);
	/* running ⇔ exactly one open attempt, which is the lease's */
	assert_int_equal(sql_int(db,
				 "SELECT count(*) FROM items i WHERE (i.status = 'running') <>"
				 " EXISTS(SELECT 1 FROM attempts a WHERE a.id = i.lease_attempt"
				 " AND a.ended_at IS NULL)",
				 NULL),
			 0);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM attempts a JOIN items i ON"
				     " i.id = a.item_id WHERE a.ended_at IS NULL AND"
				     " (i.status <> 'running' OR i.lease_attempt <> a.id)",
				 NULL),
			 0);
}

static inline int fx_sum_group(const char *status, const char *outcome, int64_t n, void *ctx)
{
	*(int64_t *)ctx += n;
	return 0;
}

/* The counts status reads equal a full count of the items, by status:
 * store_get_status() on both backends; and on PostgreSQL the maintained
 * counts (item_counts, schema 6: docs/scale-out.md "Counts") summed over
 * their shards equal count(*) GROUP BY (spec_key, status, last_outcome),
 * row for row. */
static inline void assert_counts_exact(const char *db, struct store *st)
{
	struct store_status s;
	assert_int_equal(store_get_status(st, &s), 0);
	int64_t outcomes = 0;
	for (size_t i = 0; i < s.noutcomes; i++)
		outcomes += s.outcomes[i].n;
	struct store_status c = s; /* the counts, then free before asserting */
	store_status_free(&s);
	assert_int_equal(c.items, sql_int(db, "SELECT count(*) FROM items", NULL));
	assert_int_equal(c.pending, sql_int(db, "SELECT count(*) FROM items WHERE status = 'pending'", NULL));
	assert_int_equal(c.running, sql_int(db, "SELECT count(*) FROM items WHERE status = 'running'", NULL));
	assert_int_equal(c.done, sql_int(db, "SELECT count(*) FROM items WHERE status = 'done'", NULL));
	assert_int_equal(c.failed, sql_int(db, "SELECT count(*) FROM items WHERE status = 'failed'", NULL));
	assert_int_equal(outcomes, c.items);
	int64_t grouped = 0, pending = -1;
	assert_int_equal(store_item_groups(st, fx_sum_group, &grouped), 0);
	assert_int_equal(grouped, sql_int(db, "SELECT count(*) FROM items", NULL));
	assert_int_equal(store_count_pending(st, SPEC, &pending), 0);
	assert_int_equal(pending, sql_int(db, "SELECT count(*) FROM items WHERE status = 'pending'"
					      " AND spec_key = 'spec-A'", NULL));
	if (!store_is_postgresql(db))
		return;
	assert_int_equal(sql_int(db,
				 "SELECT count(*) FROM (SELECT spec_key, status,"
				 " coalesce(last_outcome, '') AS outcome, count(*) AS n FROM items"
				 " GROUP BY 1, 2, 3) a FULL JOIN (SELECT spec_key, status, outcome,"
				 " sum(n) AS n FROM item_counts GROUP BY 1, 2, 3 HAVING sum(n) <> 0) b"
				 " USING (spec_key, status, outcome) WHERE a.n IS DISTINCT FROM b.n",
				 NULL),
			 0);
}

static inline void enqueue1(struct store *st, const char *spec, const char *path, int64_t size,
		     int64_t mtime, bool force)
{
	struct store_input in = { path, size, mtime };
	assert_int_equal(store_enqueue(st, spec, &in, 1, force), 0);
}

static inline struct store_attempt_end end_of(const char *outcome, bool retry)
{
	static const char result[] = "{\"size\": 42, \"name\": \"x\"}";
	struct store_attempt_end e = {
		.outcome = outcome, .exit_code = strcmp(outcome, "ok") == 0 ? 0 : -1,
		.wall_ms = 120, .cpu_ms = 80, .peak_memory_bytes = 1 << 20, .oom_kills = 0,
		.result = result, .result_len = strlen(result), .result_kind = STORE_RESULT_JSON,
		.retry = retry,
	};
	if (strcmp(outcome, "exit_nonzero") == 0)
		e.exit_code = 3;
	return e;
}

static inline void claim_finish(struct store *st, int64_t run, const char *spec, const char *outcome,
			 bool retry)
{
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, spec, &c), 1);
	struct store_attempt_end e = end_of(outcome, retry);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
}

static inline void make_store_with_items(const char *db, int n)
{
	struct store *st = open_rw(db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	for (int i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof path, "/in/%d", i);
		enqueue1(st, SPEC, path, i, i, false);
	}
	for (int i = 0; i < n / 2; i++)
		claim_finish(st, run, SPEC, "ok", false);
	store_close(st);
}

#endif
