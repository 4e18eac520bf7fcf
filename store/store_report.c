/* store/store_report.c — the report's reads on SQLite (store.h "the
 * report's reads"; pg_report.c is the same on PostgreSQL). Plain rows:
 * report/ aggregates them, so both backends give the same page. */
#include "store/store_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sq_read_begin(struct store *st)
{
	return store_exec(st, "BEGIN", "starting a read");
}

void sq_read_end(struct store *st)
{
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static sqlite3_stmt *prep(struct store *st, const char *sql, const char *what, int *code)
{
	sqlite3_stmt *s = NULL;
	int r = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (r != SQLITE_OK) {
		sqlite3_finalize(s);
		*code = store_fail_sqlite(st, r, what);
		return NULL;
	}
	*code = 0;
	return s;
}

/* Finalize after the walk: the callback's code, else the step's. */
static int walk_end(struct store *st, sqlite3_stmt *s, int rc, int code, const char *what)
{
	if (code == 0 && rc != SQLITE_DONE)
		code = store_fail_sqlite(st, rc, what);
	sqlite3_finalize(s);
	return code;
}

static const char *text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static int64_t i64(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

/* A number column, NAN unless the value is an integer or a real. */
static double num(sqlite3_stmt *s, int i)
{
	int t = sqlite3_column_type(s, i);
	return t == SQLITE_INTEGER || t == SQLITE_FLOAT ? sqlite3_column_double(s, i) : NAN;
}

int sq_item_groups(struct store *st, store_group_fn fn, void *ctx)
{
	static const char what[] = "counting items";
	int code;
	sqlite3_stmt *s = prep(st, "SELECT status, last_outcome, count(*) FROM items"
				   " GROUP BY status, last_outcome", what, &code);
	int rc = SQLITE_DONE;
	while (s && code == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		code = fn(text(s, 0), text(s, 1), sqlite3_column_int64(s, 2), ctx);
	return s ? walk_end(st, s, code ? SQLITE_DONE : rc, code, what) : code;
}

int sq_each_run(struct store *st, store_run_fn fn, void *ctx)
{
	static const char what[] = "reading the runs";
	int code;
	/* json_extract in a CASE: a spec or summary that is not JSON is NULL. */
	sqlite3_stmt *s = prep(
		st,
		"SELECT id, started_at, coalesce(ended_at, heartbeat_at), how,"
		" CASE WHEN json_valid(summary) THEN json_extract(summary, '$.interrupted_by') END,"
		" hostname, version, spec IS NOT NULL, CASE WHEN json_valid(spec) THEN"
		" json_extract(spec, '$.kind') END, CASE WHEN json_valid(spec) THEN"
		" json_extract(spec, '$.limits.mem_bytes') END, CASE WHEN json_valid(spec) THEN"
		" json_extract(spec, '$.limits.timeout_ms') END FROM runs ORDER BY id DESC",
		what, &code);
	int rc = SQLITE_DONE;
	while (s && code == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_run_fact r = {
			.id = sqlite3_column_int64(s, 0),
			.started_ms = sqlite3_column_int64(s, 1),
			.until_ms = sqlite3_column_int64(s, 2),
			.how = text(s, 3),
			.interrupted_by = sqlite3_column_type(s, 4) == SQLITE_TEXT ? text(s, 4) : NULL,
			.hostname = text(s, 5),
			.version = text(s, 6),
			.has_spec = sqlite3_column_int(s, 7) != 0,
			.kind = sqlite3_column_type(s, 8) == SQLITE_TEXT ? text(s, 8) : NULL,
			.mem_bytes = num(s, 9),
			.timeout_ms = num(s, 10),
		};
		code = fn(&r, ctx);
	}
	return s ? walk_end(st, s, code ? SQLITE_DONE : rc, code, what) : code;
}

int sq_each_attempt(struct store *st, store_attempt_fact_fn fn, void *ctx)
{
	static const char what[] = "reading the attempts";
	int code;
	sqlite3_stmt *s = prep(st,
			       "SELECT a.id, a.item_id, coalesce(a.run_id, 0), a.outcome,"
			       " a.ended_at IS NOT NULL, a.wall_ms, a.peak_memory_bytes,"
			       " CASE WHEN a.outcome <> 'ok' THEN (SELECT path FROM items"
			       " WHERE id = a.item_id) END FROM attempts a ORDER BY a.id",
			       what, &code);
	int rc = SQLITE_DONE;
	while (s && code == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_attempt_fact a = {
			.id = sqlite3_column_int64(s, 0),
			.item_id = sqlite3_column_int64(s, 1),
			.run_id = sqlite3_column_int64(s, 2),
			.outcome = text(s, 3),
			.ended = sqlite3_column_int(s, 4) != 0,
			.wall_ms = i64(s, 5),
			.peak_memory_bytes = i64(s, 6),
			.path = text(s, 7),
		};
		code = fn(&a, ctx);
	}
	return s ? walk_end(st, s, code ? SQLITE_DONE : rc, code, what) : code;
}

int sq_failed_items(struct store *st, const char *outcome, size_t tail_max, int64_t limit,
		    store_failure_fn fn, void *ctx)
{
	static const char what[] = "reading the failed items";
	int code;
	sqlite3_stmt *s = prep(st,
			       "SELECT i.path, i.last_error, i.attempts, a.exit_code, a.signal,"
			       " a.syscall, a.wall_ms, a.peak_memory_bytes, length(a.stderr_tail),"
			       " substr(a.stderr_tail, -?2) FROM items i LEFT JOIN attempts a"
			       " ON a.id = i.last_attempt WHERE i.status = 'failed'"
			       " AND i.last_outcome IS ?1 ORDER BY i.path LIMIT ?3",
			       what, &code);
	if (!s)
		return code;
	if (outcome)
		sqlite3_bind_text(s, 1, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)tail_max);
	sqlite3_bind_int64(s, 3, limit);
	int rc = SQLITE_DONE;
	while (code == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_failure_row f = {
			.path = text(s, 0),
			.error = text(s, 1),
			.attempts = i64(s, 2),
			.exit_code = i64(s, 3),
			.signal = i64(s, 4),
			.syscall = text(s, 5),
			.wall_ms = i64(s, 6),
			.peak_memory_bytes = i64(s, 7),
			.stderr_total = i64(s, 8),
			.stderr_end = sqlite3_column_blob(s, 9),
			.stderr_len = (size_t)sqlite3_column_bytes(s, 9),
		};
		code = fn(&f, ctx);
	}
	return walk_end(st, s, code ? SQLITE_DONE : rc, code, what);
}

/* Field i of the extracted array j as a number of a sane size, else NULL. */
#define NUM(i) "CASE WHEN json_type(j, '$[" #i "]') IN ('integer','real') AND abs(json_extract(j," \
	       " '$[" #i "]')) < 1e250 THEN json_extract(j, '$[" #i "]') END"

int sq_audio_reports(struct store *st, store_audio_fn fn, void *ctx, int64_t *results)
{
	static const char what[] = "reading the analyzer's reports";
	int code;
	if (results) {
		sqlite3_stmt *c = prep(st, "SELECT count(*) FROM items i JOIN results r ON"
					   " r.item_id = i.id WHERE i.status = 'done'", what, &code);
		if (!c)
			return code;
		int rc = sqlite3_step(c);
		*results = rc == SQLITE_ROW ? sqlite3_column_int64(c, 0) : 0;
		if ((code = walk_end(st, c, rc == SQLITE_ROW ? SQLITE_DONE : rc, 0, what)) < 0)
			return code;
	}
	/* Each report's JSON is parsed once (one json_extract of every field). */
	sqlite3_stmt *s = prep(
		st,
		"WITH a AS MATERIALIZED (SELECT i.path AS path,"
		" json_extract(r.value, '$.loudness.integrated_lufs', '$.levels.true_peak_dbtp',"
		" '$.format.duration_s', '$.levels.clipped_samples', '$.silence.ratio',"
		" '$.damage.damaged', '$.damage.truncated', '$.damage.decoder_error') AS j"
		" FROM items i JOIN results r ON r.item_id = i.id WHERE i.status = 'done'"
		" AND CASE WHEN r.kind = 'json' THEN json_type(r.value, '$.levels') = 'object'"
		" AND json_type(r.value, '$.format') = 'object' ELSE 0 END)"
		" SELECT path, " NUM(0) ", " NUM(1) ", " NUM(2) ", " NUM(3) ", " NUM(4) ","
		" json_extract(j, '$[5]') IS 1, json_extract(j, '$[6]') IS 1,"
		" CASE WHEN json_type(j, '$[7]') = 'text' THEN json_extract(j, '$[7]') END FROM a",
		what, &code);
	int rc = SQLITE_DONE;
	while (s && code == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_audio_row a = {
			.path = text(s, 0),
			.lufs = num(s, 1),
			.true_peak_dbtp = num(s, 2),
			.duration_s = num(s, 3),
			.clipped_samples = num(s, 4),
			.silence_ratio = num(s, 5),
			.damaged = sqlite3_column_int(s, 6) != 0,
			.truncated = sqlite3_column_int(s, 7) != 0,
			.decoder_error = text(s, 8),
		};
		code = fn(&a, ctx);
	}
	return s ? walk_end(st, s, code ? SQLITE_DONE : rc, code, what) : code;
}
