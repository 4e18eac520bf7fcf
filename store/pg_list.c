/* store/pg_list.c — the item queries on PostgreSQL: list, show and export
 * (the same rows, in the same order, as store/store_query.c gives on
 * SQLite), and the quarantine record. docs/scale-out.md "Queries". */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of struct store_item_row, in fill_item()'s order. A JSON
 * result is the text the job printed (value_json_text, schema 2), else
 * jsonb's own text (rows written by schema 1). */
#define ITEM_SELECT(JSON_TEXT, NOT_BEFORE)                                                                \
	"SELECT i.id, i.path, i.spec_key, i.status, i.last_outcome, i.last_error,"              \
	" i.quarantined_to, coalesce(i.size, -1), coalesce(i.mtime_ns, -1), i.attempts,"         \
	" i.enqueued_at, i.updated_at, a.id, coalesce(a.exit_code, -1), coalesce(a.signal, 0)," \
	" a.syscall, coalesce(a.wall_ms, -1), coalesce(a.cpu_ms, -1),"                           \
	" coalesce(a.peak_memory_bytes, -1), coalesce(a.oom_kills, -1), r.kind, " JSON_TEXT ","  \
	" r.value_text, r.value_blob, (SELECT hostname FROM runs WHERE id = i.lease_run),"    \
	" (SELECT started_at FROM attempts WHERE id = i.lease_attempt), " NOT_BEFORE               \
	" FROM items i LEFT JOIN attempts a ON a.id = i.last_attempt"
#define JSON_TEXT_V2 "coalesce(r.value_json_text, r.value_json::text)"
#define JSON_TEXT_V1 "r.value_json::text"
/* items.not_before is schema 5's: an older store (read-only open) has none */
#define NOT_BEFORE_V5 "i.not_before"
#define NOT_BEFORE_NONE "NULL::bigint"

/* The path range (%s%s: PATH_FROM, PATH_BELOW or nothing) and ORDER BY %s
 * (store_order_sql()): fixed text. */
#define PATH_FROM " AND i.path >= $8::bytea"
#define PATH_BELOW " AND i.path < $9::bytea"
#define LIST_TAIL                                                                               \
	" LEFT JOIN results r ON r.item_id = i.id AND $3::boolean AND i.status = 'done'"       \
	" WHERE ($1::text IS NULL OR i.status = $1) AND ($2::text IS NULL OR i.last_outcome = $2)" \
	" AND ($4::bigint <= 0 OR i.updated_at >= $4)"                                          \
	" AND ($5::bigint <= 0 OR EXISTS (SELECT 1 FROM attempts x"                              \
	"  WHERE x.item_id = i.id AND x.run_id = $5))"                                          \
	" AND ($6::bigint <= 0 OR i.id = $6)%s%s"                                               \
	" ORDER BY %s LIMIT $7::bigint"
#define SHOW_TAIL " LEFT JOIN results r ON r.item_id = i.id WHERE i.path = $1"
#define SHOW_ID_TAIL " LEFT JOIN results r ON r.item_id = i.id WHERE i.id = $1"

/* Rows fetched per round trip: memory stays flat however many items. */
#define FETCH_ROWS 1000
#define FETCH_SQL "FETCH 1000 FROM items_c"

static const char *col_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* Fill *out from row `i`; *path and *blob are malloc'd (bytea decoded),
 * valid until the caller frees them after the callback. */
static int fill_item(struct store *st, const PGresult *r, int i, struct store_item_row *out,
		     char **path, char **blob)
{
	memset(out, 0, sizeof *out);
	*blob = NULL;
	if (!(*path = pg_col_bytes(r, i, 1, NULL)))
		return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	out->id = pg_col_i64(r, i, 0, 0);
	out->path = *path;
	out->spec_key = col_str(r, i, 2);
	out->status = col_str(r, i, 3);
	out->outcome = col_str(r, i, 4);
	out->error = col_str(r, i, 5);
	out->quarantined_to = col_str(r, i, 6);
	out->size = pg_col_i64(r, i, 7, -1);
	out->mtime_ns = pg_col_i64(r, i, 8, -1);
	out->attempts = (int)pg_col_i64(r, i, 9, 0);
	out->enqueued_ms = pg_col_i64(r, i, 10, 0);
	out->updated_ms = pg_col_i64(r, i, 11, 0);
	out->has_attempt = !PQgetisnull(r, i, 12);
	out->exit_code = (int)pg_col_i64(r, i, 13, -1);
	out->signal = (int)pg_col_i64(r, i, 14, 0);
	out->syscall = col_str(r, i, 15);
	out->wall_ms = pg_col_i64(r, i, 16, -1);
	out->cpu_ms = pg_col_i64(r, i, 17, -1);
	out->peak_memory_bytes = pg_col_i64(r, i, 18, -1);
	out->oom_kills = pg_col_i64(r, i, 19, -1);
	out->running_host = col_str(r, i, 24);
	out->running_since_ms = pg_col_i64(r, i, 25, -1);
	out->not_before_ms = pg_col_i64(r, i, 26, -1);
	out->result_kind = col_str(r, i, 20);
	if (!out->result_kind)
		return 0;
	if (strcmp(out->result_kind, "blob") == 0) {
		if (!(*blob = pg_col_bytes(r, i, 23, &out->result_len)))
			return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
		out->result = *blob;
		return 0;
	}
	int col = strcmp(out->result_kind, "json") == 0 ? 21 : 22;
	out->result = PQgetvalue(r, i, col);
	out->result_len = (size_t)PQgetlength(r, i, col);
	return 0;
}

/* fn on each row of `r`; *id (may be NULL): the last row's item id. */
static int each_row(struct store *st, const PGresult *r, store_item_fn fn, void *ctx,
		    int64_t *id)
{
	int code = 0;
	for (int i = 0; code == 0 && i < PQntuples(r); i++) {
		struct store_item_row row;
		char *path = NULL, *blob = NULL;
		code = fill_item(st, r, i, &row, &path, &blob);
		if (code == 0) {
			if (id)
				*id = row.id;
			code = fn(&row, ctx);
		}
		free(path);
		free(blob);
	}
	return code;
}

/* One read-only snapshot for the whole listing, walked by a cursor. */
static int list_where(struct store *st, const struct store_filter *f, store_item_fn fn,
		      void *ctx)
{
	static const char v5[] = "DECLARE items_c NO SCROLL CURSOR FOR "
		ITEM_SELECT(JSON_TEXT_V2, NOT_BEFORE_V5) LIST_TAIL;
	static const char v2[] = "DECLARE items_c NO SCROLL CURSOR FOR "
		ITEM_SELECT(JSON_TEXT_V2, NOT_BEFORE_NONE) LIST_TAIL;
	static const char v1[] = "DECLARE items_c NO SCROLL CURSOR FOR "
		ITEM_SELECT(JSON_TEXT_V1, NOT_BEFORE_NONE) LIST_TAIL;
	static const struct store_filter none = { 0 };
	if (!f)
		f = &none;
	char *upper = NULL;
	if (f->path_prefix && store_prefix_upper(f->path_prefix, &upper) < 0)
		return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	char sql[4096];
	snprintf(sql, sizeof sql, st->pg->schema_version >= 5 ? v5 : st->pg->schema_version >= 2 ? v2 : v1,
		 f->path_prefix ? PATH_FROM : "", upper ? PATH_BELOW : "",
		 store_order_sql(f->sort, true));
	struct pgp p = { 0 };
	pgp_text(&p, f->status);
	pgp_text(&p, f->outcome);
	pgp_text(&p, f->with_result ? "true" : "false");
	pgp_i64(&p, f->since_ms);
	pgp_i64(&p, f->run_id);
	pgp_i64(&p, f->id);
	pgp_i64_or_null(&p, f->limit > 0 ? f->limit : -1);
	if (f->path_prefix)
		pgp_bytes(&p, f->path_prefix, strlen(f->path_prefix));
	if (upper)
		pgp_bytes(&p, upper, strlen(upper));
	int64_t n = pg_cmd(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
			   "listing items");
	if (n >= 0)
		n = pg_cmd(st, sql, &p, "listing items");
	int code = n < 0 ? (int)n : 0;
	while (code == 0) {
		PGresult *r = pg_run(st, FETCH_SQL, NULL, "listing items", &code);
		if (!r)
			break;
		int rows = PQntuples(r);
		code = each_row(st, r, fn, ctx, NULL);
		PQclear(r);
		if (rows < FETCH_ROWS)
			break;
	}
	pg_rollback(st);
	free(upper);
	return code;
}

int pg_list_items(struct store *st, const struct store_filter *f, store_item_fn fn, void *ctx)
{
	return list_where(st, f, fn, ctx);
}

int pg_export(struct store *st, store_item_fn fn, void *ctx)
{
	struct store_filter f = { .status = "done", .with_result = true };
	return list_where(st, &f, fn, ctx);
}

static int each_attempt(struct store *st, int64_t item_id, store_attempt_fn fn, void *ctx)
{
	struct pgp p = { 0 };
	pgp_i64(&p, item_id);
	int code = 0;
#define ATTEMPT_COLUMNS                                                            \
	"SELECT id, coalesce(run_id, 0), attempt_no, counted, started_at,"         \
	" coalesce(ended_at, -1), outcome, coalesce(exit_code, -1),"               \
	" coalesce(signal, 0), syscall, error, coalesce(wall_ms, -1),"             \
	" coalesce(cpu_ms, -1), coalesce(peak_memory_bytes, -1),"                  \
	" coalesce(oom_kills, -1), stderr_tail, "
	/* output_head is schema 3's: a read-only open of an older one reads NULL */
	PGresult *r = pg_run(st,
			     st->pg->schema_version >= 3
				     ? ATTEMPT_COLUMNS "output_head FROM attempts WHERE item_id = $1 ORDER BY id"
				     : ATTEMPT_COLUMNS "NULL::bytea FROM attempts WHERE item_id = $1 ORDER BY id",
			     &p, "reading attempts", &code);
#undef ATTEMPT_COLUMNS
	for (int i = 0; r && code == 0 && i < PQntuples(r); i++) {
		char *tail = NULL, *head = NULL;
		size_t tail_len = 0, head_len = 0;
		if ((!PQgetisnull(r, i, 15) && !(tail = pg_col_bytes(r, i, 15, &tail_len))) ||
		    (!PQgetisnull(r, i, 16) && !(head = pg_col_bytes(r, i, 16, &head_len)))) {
			free(tail);
			code = store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
			break;
		}
		struct store_attempt_row a = {
			.id = pg_col_i64(r, i, 0, 0),
			.run_id = pg_col_i64(r, i, 1, 0),
			.attempt_no = (int)pg_col_i64(r, i, 2, 0),
			.counted = pg_col_i64(r, i, 3, 0) != 0,
			.started_ms = pg_col_i64(r, i, 4, 0),
			.ended_ms = pg_col_i64(r, i, 5, -1),
			.outcome = col_str(r, i, 6),
			.exit_code = (int)pg_col_i64(r, i, 7, -1),
			.signal = (int)pg_col_i64(r, i, 8, 0),
			.syscall = col_str(r, i, 9),
			.error = col_str(r, i, 10),
			.wall_ms = pg_col_i64(r, i, 11, -1),
			.cpu_ms = pg_col_i64(r, i, 12, -1),
			.peak_memory_bytes = pg_col_i64(r, i, 13, -1),
			.oom_kills = pg_col_i64(r, i, 14, -1),
			.stderr_tail = tail,
			.stderr_len = tail_len,
			.output_head = head,
			.output_len = head_len,
		};
		code = fn(&a, ctx);
		free(tail);
		free(head);
	}
	PQclear(r);
	return code;
}

/* One item, by path or (path NULL) by id, then its attempts. */
static int show_where(struct store *st, const char *path, int64_t id, store_item_fn item_fn,
		      store_attempt_fn attempt_fn, void *ctx)
{
	static const char v5[] = ITEM_SELECT(JSON_TEXT_V2, NOT_BEFORE_V5) SHOW_TAIL;
	static const char v2[] = ITEM_SELECT(JSON_TEXT_V2, NOT_BEFORE_NONE) SHOW_TAIL;
	static const char v1[] = ITEM_SELECT(JSON_TEXT_V1, NOT_BEFORE_NONE) SHOW_TAIL;
	static const char v5_id[] = ITEM_SELECT(JSON_TEXT_V2, NOT_BEFORE_V5) SHOW_ID_TAIL;
	static const char v2_id[] = ITEM_SELECT(JSON_TEXT_V2, NOT_BEFORE_NONE) SHOW_ID_TAIL;
	static const char v1_id[] = ITEM_SELECT(JSON_TEXT_V1, NOT_BEFORE_NONE) SHOW_ID_TAIL;
	bool v2ok = st->pg->schema_version >= 2, v5ok = st->pg->schema_version >= 5;
	struct pgp p = { 0 };
	if (path)
		pgp_bytes(&p, path, strlen(path));
	else
		pgp_i64(&p, id);
	int64_t n = pg_cmd(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
			   "reading an item");
	int code = n < 0 ? (int)n : 0;
	int64_t item_id = 0;
	const char *sql = path ? (v5ok ? v5 : v2ok ? v2 : v1) : (v5ok ? v5_id : v2ok ? v2_id : v1_id);
	PGresult *r = code ? NULL : pg_run(st, sql, &p, "reading an item", &code);
	if (r && PQntuples(r) == 0 && path)
		code = store_fail(st, -ENOENT, "%s: not in the store %s", path, st->path);
	else if (r && PQntuples(r) == 0)
		code = store_fail(st, -ENOENT, "item %lld: not in the store %s", (long long)id,
				  st->path);
	else if (r)
		code = each_row(st, r, item_fn, ctx, &item_id);
	PQclear(r);
	if (code == 0)
		code = each_attempt(st, item_id, attempt_fn, ctx);
	pg_rollback(st);
	return code;
}

int pg_show_item(struct store *st, const char *path, store_item_fn item_fn,
		 store_attempt_fn attempt_fn, void *ctx)
{
	return show_where(st, path, 0, item_fn, attempt_fn, ctx);
}

int pg_show_item_id(struct store *st, int64_t id, store_item_fn item_fn,
		    store_attempt_fn attempt_fn, void *ctx)
{
	return show_where(st, NULL, id, item_fn, attempt_fn, ctx);
}

int pg_record_quarantine(struct store *st, int64_t item_id, const char *dest)
{
	char buf[4096];
	struct pgp p = { 0 };
	pgp_i64(&p, item_id);
	pgp_text(&p, pg_text(buf, sizeof buf, dest)); /* text: UTF-8, else made printable */
	int64_t n = pg_cmd(st,
			   "UPDATE items SET quarantined_to = $2, quarantined_at = now_ms()"
			   " WHERE id = $1",
			   &p, "recording a quarantined input");
	if (n < 0)
		return (int)n;
	return n == 1 ? 0
		      : store_fail(st, -ENOENT, "database %s: item %lld does not exist", st->path,
				   (long long)item_id);
}
