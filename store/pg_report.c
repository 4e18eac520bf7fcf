/* store/pg_report.c — the report's reads on PostgreSQL (store.h "the
 * report's reads"): the same rows as store/store_report.c gives on SQLite,
 * JSON fields taken from jsonb on the server. Long walks go through a
 * cursor, FETCH_ROWS at a time, so memory stays flat at any size. */
#include "store/pg_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_ROWS 1000

int pg_read_begin(struct store *st)
{
	int64_t r = pg_cmd(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
			   "starting a read");
	return r < 0 ? (int)r : 0;
}

void pg_read_end(struct store *st)
{
	pg_rollback(st);
}

typedef int (*row_fn)(struct store *st, const PGresult *r, int i, void *ctx);

/* Every row of `sql` through a cursor: inside the caller's snapshot
 * (store_read_begin), else in a read-only transaction of its own. */
static int walk(struct store *st, const char *sql, const struct pgp *p, const char *what,
		row_fn fn, void *ctx)
{
	bool own = PQtransactionStatus(st->pg->conn) == PQTRANS_IDLE;
	int code = own ? pg_read_begin(st) : 0;
	char *decl = NULL;
	if (code == 0 && asprintf(&decl, "DECLARE rp_c NO SCROLL CURSOR FOR %s", sql) < 0) {
		decl = NULL;
		code = store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	}
	if (code == 0) {
		int64_t n = pg_cmd(st, decl, p, what);
		code = n < 0 ? (int)n : 0;
	}
	free(decl);
	bool declared = code == 0;
	while (code == 0) {
		PGresult *r = pg_run(st, "FETCH 1000 FROM rp_c", NULL, what, &code);
		if (!r)
			break;
		int rows = PQntuples(r);
		for (int i = 0; i < rows && code == 0; i++)
			code = fn(st, r, i, ctx);
		PQclear(r);
		if (rows < FETCH_ROWS)
			break;
	}
	if (declared && PQtransactionStatus(st->pg->conn) == PQTRANS_INTRANS)
		PQclear(PQexec(st->pg->conn, "CLOSE rp_c"));
	if (own || code < 0)
		pg_rollback(st); /* a failed statement ends the snapshot */
	return code;
}

static const char *col(const PGresult *r, int i, int c)
{
	return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}

static double col_num(const PGresult *r, int i, int c)
{
	return PQgetisnull(r, i, c) ? NAN : strtod(PQgetvalue(r, i, c), NULL);
}

static int oom(struct store *st)
{
	return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
}

struct walk_ctx {
	void *fn;
	void *ctx;
};

static int group_row(struct store *st, const PGresult *r, int i, void *ctx)
{
	struct walk_ctx *w = ctx;
	return ((store_group_fn)w->fn)(col(r, i, 0), col(r, i, 1), pg_col_i64(r, i, 2, 0), w->ctx);
}

int pg_item_groups(struct store *st, store_group_fn fn, void *ctx)
{
	struct walk_ctx w = { (void *)fn, ctx };
	/* Schema 6: the maintained counts (pg_schema.c), else every item. */
	return walk(st, st->pg->schema_version >= 6
				? "SELECT status, nullif(outcome, ''), sum(n) FROM item_counts"
				  " GROUP BY 1, 2 HAVING sum(n) <> 0"
				: "SELECT status, last_outcome, count(*) FROM items"
				  " GROUP BY status, last_outcome",
		    NULL, "counting items", group_row, &w);
}

/* A json value as a float8 when it is a number of a sane size, else NULL
 * (the same rule as SQLite's side: a hostile value is skipped). */
#define NUM(x) "CASE WHEN jsonb_typeof(" x ") = 'number' AND abs((" x ")::numeric) < 1e250" \
	       " THEN (" x ")::numeric::float8 END"

static int run_row(struct store *st, const PGresult *r, int i, void *ctx)
{
	struct walk_ctx *w = ctx;
	struct store_run_fact f = {
		.id = pg_col_i64(r, i, 0, 0),
		.started_ms = pg_col_i64(r, i, 1, 0),
		.until_ms = pg_col_i64(r, i, 2, 0),
		.how = col(r, i, 3),
		.interrupted_by = col(r, i, 4),
		.hostname = col(r, i, 5),
		.version = col(r, i, 6),
		.has_spec = col(r, i, 7) && col(r, i, 7)[0] == 't',
		.kind = col(r, i, 8),
		.mem_bytes = col_num(r, i, 9),
		.timeout_ms = col_num(r, i, 10),
	};
	return ((store_run_fn)w->fn)(&f, w->ctx);
}

int pg_each_run(struct store *st, store_run_fn fn, void *ctx)
{
	struct walk_ctx w = { (void *)fn, ctx };
	return walk(st,
		    "SELECT id, started_at, coalesce(ended_at, heartbeat_at), how,"
		    " CASE WHEN json_typeof(summary->'interrupted_by') = 'string'"
		    " THEN summary->>'interrupted_by' END, hostname, version, spec IS NOT NULL,"
		    " CASE WHEN json_typeof(spec->'kind') = 'string' THEN spec->>'kind' END, "
		    NUM("spec::jsonb #> '{limits,mem_bytes}'") ", "
		    NUM("spec::jsonb #> '{limits,timeout_ms}'") " FROM runs ORDER BY id DESC",
		    NULL, "reading the runs", run_row, &w);
}

static int attempt_row(struct store *st, const PGresult *r, int i, void *ctx)
{
	struct walk_ctx *w = ctx;
	char *path = NULL;
	if (!PQgetisnull(r, i, 7) && !(path = pg_col_bytes(r, i, 7, NULL)))
		return oom(st);
	struct store_attempt_fact a = {
		.id = pg_col_i64(r, i, 0, 0),
		.item_id = pg_col_i64(r, i, 1, 0),
		.run_id = pg_col_i64(r, i, 2, 0),
		.outcome = col(r, i, 3),
		.ended = col(r, i, 4)[0] == 't',
		.wall_ms = pg_col_i64(r, i, 5, -1),
		.peak_memory_bytes = pg_col_i64(r, i, 6, -1),
		.path = path,
	};
	int code = ((store_attempt_fact_fn)w->fn)(&a, w->ctx);
	free(path);
	return code;
}

int pg_each_attempt(struct store *st, store_attempt_fact_fn fn, void *ctx)
{
	struct walk_ctx w = { (void *)fn, ctx };
	return walk(st,
		    "SELECT a.id, a.item_id, coalesce(a.run_id, 0), a.outcome, a.ended_at IS NOT NULL,"
		    " a.wall_ms, a.peak_memory_bytes, CASE WHEN a.outcome <> 'ok' THEN"
		    " (SELECT path FROM items WHERE id = a.item_id) END FROM attempts a ORDER BY a.id",
		    NULL, "reading the attempts", attempt_row, &w);
}

static int failure_row(struct store *st, const PGresult *r, int i, void *ctx)
{
	struct walk_ctx *w = ctx;
	size_t tail_len = 0;
	char *path = pg_col_bytes(r, i, 0, NULL), *tail = NULL;
	if (!path || (!PQgetisnull(r, i, 9) && !(tail = pg_col_bytes(r, i, 9, &tail_len)))) {
		free(path);
		return oom(st);
	}
	struct store_failure_row f = {
		.path = path,
		.error = col(r, i, 1),
		.attempts = pg_col_i64(r, i, 2, -1),
		.exit_code = pg_col_i64(r, i, 3, -1),
		.signal = pg_col_i64(r, i, 4, -1),
		.syscall = col(r, i, 5),
		.wall_ms = pg_col_i64(r, i, 6, -1),
		.peak_memory_bytes = pg_col_i64(r, i, 7, -1),
		.stderr_total = pg_col_i64(r, i, 8, -1),
		.stderr_end = tail,
		.stderr_len = tail_len,
	};
	int code = ((store_failure_fn)w->fn)(&f, w->ctx);
	free(path);
	free(tail);
	return code;
}

int pg_failed_items(struct store *st, const char *outcome, size_t tail_max, int64_t limit,
		    store_failure_fn fn, void *ctx)
{
	struct walk_ctx w = { (void *)fn, ctx };
	struct pgp p = { 0 };
	pgp_text(&p, outcome);
	pgp_i64(&p, (int64_t)tail_max);
	pgp_i64(&p, limit);
	return walk(st,
		    "SELECT i.path, i.last_error, i.attempts, a.exit_code, a.signal, a.syscall,"
		    " a.wall_ms, a.peak_memory_bytes, length(a.stderr_tail),"
		    " substring(a.stderr_tail FROM greatest(length(a.stderr_tail) - $2::bigint + 1, 1)::int)"
		    " FROM items i LEFT JOIN attempts a ON a.id = i.last_attempt"
		    " WHERE i.status = 'failed' AND i.last_outcome IS NOT DISTINCT FROM $1::text"
		    " ORDER BY i.path LIMIT $3::bigint",
		    &p, "reading the failed items", failure_row, &w);
}

static int audio_row(struct store *st, const PGresult *r, int i, void *ctx)
{
	struct walk_ctx *w = ctx;
	char *path = pg_col_bytes(r, i, 0, NULL);
	if (!path)
		return oom(st);
	struct store_audio_row a = {
		.path = path,
		.lufs = col_num(r, i, 1),
		.true_peak_dbtp = col_num(r, i, 2),
		.duration_s = col_num(r, i, 3),
		.clipped_samples = col_num(r, i, 4),
		.silence_ratio = col_num(r, i, 5),
		.damaged = col(r, i, 6)[0] == 't',
		.truncated = col(r, i, 7)[0] == 't',
		.decoder_error = col(r, i, 8),
	};
	int code = ((store_audio_fn)w->fn)(&a, w->ctx);
	free(path);
	return code;
}

/* damage.damaged "IS 1" as SQLite's json_extract reads it: true, or the number 1. */
#define IS_ONE(x) "coalesce(" x " = 'true'::jsonb OR (jsonb_typeof(" x ") = 'number'" \
		  " AND (" x ")::numeric = 1), false)"

int pg_audio_reports(struct store *st, store_audio_fn fn, void *ctx, int64_t *results)
{
	static const char what[] = "reading the analyzer's reports";
	if (results) {
		int rc = pg_int(st, "SELECT count(*) FROM items i JOIN results r ON r.item_id = i.id"
				    " WHERE i.status = 'done'", NULL, what, results);
		if (rc < 0)
			return rc;
	}
	struct walk_ctx w = { (void *)fn, ctx };
	return walk(st,
		    "SELECT i.path, " NUM("v #> '{loudness,integrated_lufs}'") ", "
		    NUM("v #> '{levels,true_peak_dbtp}'") ", " NUM("v #> '{format,duration_s}'") ", "
		    NUM("v #> '{levels,clipped_samples}'") ", " NUM("v #> '{silence,ratio}'") ", "
		    IS_ONE("v #> '{damage,damaged}'") ", " IS_ONE("v #> '{damage,truncated}'") ","
		    " CASE WHEN jsonb_typeof(v #> '{damage,decoder_error}') = 'string'"
		    " THEN v #>> '{damage,decoder_error}' END"
		    " FROM items i JOIN results r ON r.item_id = i.id, LATERAL (SELECT r.value_json AS v) j"
		    " WHERE i.status = 'done' AND r.kind = 'json'"
		    " AND jsonb_typeof(r.value_json->'levels') = 'object'"
		    " AND jsonb_typeof(r.value_json->'format') = 'object' ORDER BY i.id",
		    NULL, what, audio_row, &w);
}
