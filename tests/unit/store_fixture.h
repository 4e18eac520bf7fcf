/* tests/unit/store_fixture.h — shared by the tests of store/
 * (test_store.c, test_store_leases.c, test_store_files.c): a fresh directory
 * per test, raw SQL to look behind the API, and the invariants every test
 * checks. Header-only (static inline) because each test_*.c is its own
 * binary. */
#ifndef SANDRUN_TEST_STORE_FIXTURE_H
#define SANDRUN_TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof f->dir, "%s/test_store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
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

static inline int64_t sql_int(const char *db, const char *sql, const char *arg)
{
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
	sqlite3 *h;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 10000);
	char *err = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(h);
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
