/* store/pg_queue.c — the queue on PostgreSQL: runs, enqueue, claims,
 * finishing, releasing. Each public function is one transaction, most of
 * them one statement. The attempt id is the fencing token: it grows with
 * every claim, and a finish, release or input error is written only while
 * the item is still running under that very attempt (else STORE_ESTALE,
 * nothing written). docs/scale-out.md. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_NULLS                                                                \
	"lease_run = NULL, lease_attempt = NULL, lease_pid = NULL, lease_pid_start = NULL," \
	" lease_heartbeat_at = NULL"

/* ---- runs ---------------------------------------------------------------- */

int pg_run_begin(struct store *st, const char *version, const char *argv_json,
		 const char *spec_json, int64_t *run_id)
{
	const struct store_self *me = &st->self;
	struct pgp p = { 0 };
	pgp_text(&p, version ? version : "");
	pgp_text(&p, argv_json);
	pgp_text(&p, spec_json);
	pgp_text(&p, me->hostname);
	pgp_text(&p, me->boot_id);
	pgp_text(&p, me->pid_ns);
	pgp_i64(&p, me->pid);
	pgp_i64(&p, me->pid_start);
	int rc = 0;
	PGresult *res = pg_run(st,
			       "INSERT INTO runs(version, argv, spec, hostname, boot_id, pid_ns, pid,"
			       " pid_start, started_at, heartbeat_at)"
			       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now_ms(), now_ms()) RETURNING id",
			       &p, "recording the run", &rc);
	if (!res)
		return rc;
	*run_id = pg_col_i64(res, 0, 0, 0);
	PQclear(res);
	return 0;
}

/* A run's state when a statement on it changed nothing: -ENOENT when there
 * is no such run, STORE_ESTALE when it has ended (another runner judged it
 * lost and took its leases back). */
static int run_gone(struct store *st, int64_t run_id, const char *what)
{
	struct pgp p = { 0 };
	pgp_i64(&p, run_id);
	int64_t n = 0;
	int r = pg_int(st, "SELECT count(*) FROM runs WHERE id = $1", &p, what, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return store_fail(st, -ENOENT, "database %s: %s: no run %lld", st->path, what,
				  (long long)run_id);
	return store_fail(st, STORE_ESTALE,
			  "database %s: %s: run %lld was judged lost (no heartbeat within the "
			  "lease timeout) and its leases were taken back",
			  st->path, what, (long long)run_id);
}

/* One write per runner, not per item: liveness is the runs row. */
int pg_run_heartbeat(struct store *st, int64_t run_id)
{
	struct pgp p = { 0 };
	pgp_i64(&p, run_id);
	int64_t n = pg_cmd(st, "UPDATE runs SET heartbeat_at = now_ms() WHERE id = $1 AND ended_at IS NULL",
			   &p, "heartbeat");
	if (n < 0)
		return (int)n;
	return n == 1 ? 0 : run_gone(st, run_id, "heartbeat");
}

int pg_run_end(struct store *st, int64_t run_id, const char *how, const char *summary_json)
{
	struct pgp p = { 0 };
	pgp_i64(&p, run_id);
	pgp_text(&p, how);
	pgp_text(&p, summary_json);
	int64_t n = pg_cmd(st,
			   "UPDATE runs SET ended_at = now_ms(), heartbeat_at = now_ms(), how = $2,"
			   " summary = $3 WHERE id = $1 AND ended_at IS NULL",
			   &p, "recording the end of the run");
	if (n < 0)
		return (int)n;
	return n == 1 ? 0 : run_gone(st, run_id, "recording the end of the run");
}

/* ---- enqueue -------------------------------------------------------------- */

/* Paths per statement: one multi-row upsert over arrays (unnest), so
 * 100,000 inputs are a few dozen round trips. */
#define ENQUEUE_BATCH 4096

/* The identity rules of docs/store.md; a path named twice in one call is
 * queued once (its last entry). */
static const char enqueue_sql[] =
	"INSERT INTO items AS i (path, spec_key, size, mtime_ns, status, enqueued_at, updated_at)"
	" SELECT DISTINCT ON (p) p, $4, s, m, 'pending', now_ms(), now_ms()"
	"  FROM unnest($1::bytea[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(p, s, m, o)"
	"  ORDER BY p, o DESC"
	" ON CONFLICT (path) DO UPDATE SET spec_key = excluded.spec_key,"
	"  size = excluded.size, mtime_ns = excluded.mtime_ns, status = 'pending',"
	"  attempts = 0, budget = i.budget + 1, quarantined_to = NULL, quarantined_at = NULL,"
	"  updated_at = excluded.updated_at"
	" WHERE i.status <> 'running' AND ($5::boolean OR i.size IS DISTINCT FROM excluded.size"
	"  OR i.mtime_ns IS DISTINCT FROM excluded.mtime_ns OR i.spec_key <> excluded.spec_key)";

int pg_enqueue(struct store *st, const char *spec_key, const struct store_input *in, size_t n,
	       bool force)
{
	char *a[3] = { NULL, NULL, NULL };
	size_t len[3], cap[3] = { 0, 0, 0 };
	int r = 0;
	for (size_t done = 0; r == 0 && done < n; done += ENQUEUE_BATCH) {
		size_t end = n - done < ENQUEUE_BATCH ? n : done + ENQUEUE_BATCH;
		len[0] = len[1] = len[2] = 0;
		for (size_t i = done; r == 0 && i < end; i++) {
			r = pg_arr_bytes(&a[0], &len[0], &cap[0], in[i].path, strlen(in[i].path));
			if (r == 0)
				r = pg_arr_i64(&a[1], &len[1], &cap[1], in[i].size);
			if (r == 0)
				r = pg_arr_i64(&a[2], &len[2], &cap[2], in[i].mtime_ns);
		}
		for (int k = 0; r == 0 && k < 3; k++)
			r = pg_arr_close(&a[k], &len[k], &cap[k]);
		if (r < 0) {
			r = store_fail(st, r, "database %s: out of memory", st->path);
			break;
		}
		struct pgp p = { 0 };
		pgp_text(&p, a[0]);
		pgp_text(&p, a[1]);
		pgp_text(&p, a[2]);
		pgp_text(&p, spec_key);
		pgp_text(&p, force ? "true" : "false");
		int64_t c = pg_cmd(st, enqueue_sql, &p, "queueing inputs");
		r = c < 0 ? (int)c : 0;
	}
	for (int k = 0; k < 3; k++)
		free(a[k]);
	return r;
}

int pg_record_input_error(struct store *st, const char *spec_key, const char *path,
			  const char *error)
{
	char msg[1024];
	const char *text = pg_text(msg, sizeof msg, error ? error : "cannot open the input");
	struct pgp p = { 0 };
	pgp_bytes(&p, path, strlen(path));
	pgp_text(&p, spec_key);
	pgp_text(&p, text);
	int64_t n = pg_cmd(st,
			   "INSERT INTO items AS i (path, spec_key, status, last_outcome, last_error,"
			   " enqueued_at, updated_at) VALUES ($1, $2, 'failed', 'input_error', $3,"
			   " now_ms(), now_ms())"
			   " ON CONFLICT (path) DO UPDATE SET spec_key = excluded.spec_key, size = NULL,"
			   "  mtime_ns = NULL, status = 'failed', last_outcome = 'input_error',"
			   "  last_error = excluded.last_error, updated_at = excluded.updated_at"
			   " WHERE i.status <> 'running'",
			   &p, "recording an input error");
	return n < 0 ? (int)n : 0;
}

/* ---- claims ---------------------------------------------------------------- */

/* One statement, so one transaction: lock the oldest pending items of the
 * spec that no other runner has locked (SKIP LOCKED, in a MATERIALIZED CTE
 * so the LIMIT applies before anything else), insert their attempt rows and
 * count them, and put them under this run's lease. Only a run that has not
 * ended (was not judged lost) may claim. The commit is synchronous (the
 * server's default synchronous_commit), so the counted attempt survives a
 * crash of the machine the job takes down. */
static const char claim_sql[] =
	"WITH r AS (SELECT id FROM runs WHERE id = $2 AND ended_at IS NULL),"
	" picked AS MATERIALIZED ("
	"  SELECT i.id, i.budget, i.attempts FROM items i"
	"  WHERE i.status = 'pending' AND i.spec_key = $1 AND EXISTS (SELECT 1 FROM r)"
	"  ORDER BY i.id LIMIT $5 FOR UPDATE OF i SKIP LOCKED),"
	" att AS ("
	"  INSERT INTO attempts(item_id, run_id, budget, attempt_no, started_at)"
	"  SELECT id, $2, budget, attempts + 1, now_ms() FROM picked ORDER BY id"
	"  RETURNING id, item_id, attempt_no)"
	" UPDATE items i SET status = 'running', attempts = i.attempts + 1, lease_run = $2,"
	"  lease_attempt = att.id, lease_pid = $3, lease_pid_start = $4,"
	"  lease_heartbeat_at = now_ms(), updated_at = now_ms()"
	" FROM att WHERE i.id = att.item_id"
	" RETURNING i.id, att.id, att.attempt_no, i.path";

int pg_claim_next(struct store *st, int64_t run_id, const char *spec_key,
		  struct store_claim *out)
{
	struct pgp p = { 0 };
	pgp_text(&p, spec_key);
	pgp_i64(&p, run_id);
	pgp_i64(&p, st->self.pid);
	pgp_i64(&p, st->self.pid_start);
	pgp_i64(&p, 1);
	int rc = 0;
	PGresult *res = pg_run(st, claim_sql, &p, "claiming an item", &rc);
	if (!res)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		/* Nothing pending, or this run was judged lost. */
		struct pgp q = { 0 };
		pgp_i64(&q, run_id);
		int64_t open = 0;
		int r = pg_int(st, "SELECT count(*) FROM runs WHERE id = $1 AND ended_at IS NULL", &q,
			       "claiming an item", &open);
		return r < 0 ? r : open ? 0 : run_gone(st, run_id, "claiming an item");
	}
	out->item_id = pg_col_i64(res, 0, 0, 0);
	out->attempt_id = pg_col_i64(res, 0, 1, 0);
	out->attempt_no = (int)pg_col_i64(res, 0, 2, 0);
	out->path = pg_col_bytes(res, 0, 3, NULL);
	PQclear(res);
	if (!out->path)
		return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	return 1;
}

static int stale(struct store *st, const struct store_claim *c)
{
	return store_fail(st, STORE_ESTALE,
			  "database %s: %s: the lease of attempt %lld was taken back "
			  "(another runner judged this one dead); its outcome is not recorded",
			  st->path, c->path ? c->path : "item", (long long)c->attempt_id);
}

/* ---- results and finishing -------------------------------------------------- */

int pg_result_check_json(struct store *st, const void *buf, size_t len, bool *valid)
{
	*valid = false;
	if (len == 0 || memchr(buf, '\0', len) || !store_utf8_valid(buf, len))
		return 0;
	char *text = strndup(buf, len);
	if (!text)
		return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	struct pgp p = { 0 };
	pgp_text(&p, text);
	PGresult *res = PQexecParams(st->pg->conn, "SELECT $1::jsonb IS NOT NULL", 1, NULL, p.v,
				     p.len, p.fmt, 0);
	free(text);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int r = 0;
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
		*valid = true;
	else if (!state || strncmp(state, "22", 2) != 0) /* 22P02, 22P05: not JSON(b) */
		r = pg_fail(st, res, "validating a result");
	PQclear(res);
	return r;
}

/* The whole finish in one statement: the item (only while it runs under
 * this attempt: the fencing check), the attempt, the result. */
static const char finish_sql[] =
	"WITH it AS (UPDATE items SET status = $3, last_outcome = $4, last_error = $5,"
	"  last_attempt = $2, " LEASE_NULLS ", updated_at = now_ms()"
	"  WHERE id = $1 AND status = 'running' AND lease_attempt = $2 RETURNING id),"
	" at AS (UPDATE attempts SET ended_at = now_ms(), outcome = $4, exit_code = $6,"
	"  signal = $7, syscall = $8, wall_ms = $9, cpu_ms = $10, peak_memory_bytes = $11,"
	"  oom_kills = $12, error = $5, stderr_tail = $13, output_head = $18" /* schema 3 */
	"  WHERE id = $2 AND EXISTS (SELECT 1 FROM it) RETURNING id),"
	" res AS (INSERT INTO results AS r (item_id, attempt_id, kind, value_json,"
	"  value_json_text, value_text, value_blob, stored_at)"
	"  SELECT $1, $2, $14::text, $15::text::jsonb, $15::text, $16::text, $17::bytea, now_ms()"
	"  WHERE $14::text IS NOT NULL AND EXISTS (SELECT 1 FROM it)"
	"  ON CONFLICT (item_id) DO UPDATE SET attempt_id = excluded.attempt_id,"
	"  kind = excluded.kind, value_json = excluded.value_json,"
	"  value_json_text = excluded.value_json_text,"
	"  value_text = excluded.value_text, value_blob = excluded.value_blob,"
	"  stored_at = excluded.stored_at RETURNING 1)"
	" SELECT (SELECT count(*) FROM it), (SELECT count(*) FROM at), (SELECT count(*) FROM res)";

int pg_attempt_finish(struct store *st, const struct store_claim *c,
		      const struct store_attempt_end *e, bool *became_bad_output)
{
	struct store_attempt_end end;
	char described[256], error[1024];
	bool ok, bad = false;
	int r = store_attempt_end_prepare(st, e, &end, described, sizeof described, &ok, &bad);
	if (r < 0)
		return r;
	const void *data = e->result ? e->result : "";
	size_t len = e->result ? e->result_len : 0;
	char *text = NULL;
	if (end.error)
		end.error = pg_text(error, sizeof error, end.error);
	const char *kind = NULL;
	if (ok) {
		kind = e->result_kind == STORE_RESULT_JSON ? "json"
		       : e->result_kind == STORE_RESULT_TEXT && !memchr(data, '\0', len) &&
				       store_utf8_valid(data, len)
			       ? "text"
			       : "blob";
		if (strcmp(kind, "blob") != 0 && !(text = strndup(data, len)))
			return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	}
	struct pgp p = { 0 };
	pgp_i64(&p, c->item_id);
	pgp_i64(&p, c->attempt_id);
	pgp_text(&p, ok ? "done" : end.retry ? "pending" : "failed");
	pgp_text(&p, end.outcome);
	pgp_text(&p, end.error);
	pgp_i64_or_null(&p, end.exit_code);
	pgp_i64_or_null(&p, end.signal > 0 ? end.signal : -1);
	pgp_text(&p, end.syscall && *end.syscall ? end.syscall : NULL);
	pgp_i64_or_null(&p, end.wall_ms);
	pgp_i64_or_null(&p, end.cpu_ms);
	pgp_i64_or_null(&p, end.peak_memory_bytes);
	pgp_i64_or_null(&p, end.oom_kills);
	if (end.stderr_tail && end.stderr_len)
		pgp_bytes(&p, end.stderr_tail, end.stderr_len);
	else
		pgp_text(&p, NULL);
	pgp_text(&p, kind);
	pgp_text(&p, kind && !strcmp(kind, "json") ? text : NULL);
	pgp_text(&p, kind && !strcmp(kind, "text") ? text : NULL);
	if (kind && !strcmp(kind, "blob"))
		pgp_bytes(&p, data, len);
	else
		pgp_text(&p, NULL);
	if (end.output && end.output_len)
		pgp_bytes(&p, end.output, end.output_len);
	else
		pgp_text(&p, NULL);
	int rc = 0;
	PGresult *res = pg_run(st, finish_sql, &p, "recording the attempt", &rc);
	free(text);
	if (!res)
		return rc;
	bool done = pg_col_i64(res, 0, 0, 0) == 1;
	PQclear(res);
	if (!done)
		return stale(st, c);
	if (became_bad_output)
		*became_bad_output = bad;
	return 0;
}

int pg_attempt_release(struct store *st, const struct store_claim *c)
{
	struct pgp p = { 0 };
	pgp_i64(&p, c->item_id);
	pgp_i64(&p, c->attempt_id);
	int64_t n = pg_cmd(st,
			   "WITH it AS (UPDATE items SET status = 'pending', attempts = attempts - 1, "
			   LEASE_NULLS ", updated_at = now_ms()"
			   "  WHERE id = $1 AND status = 'running' AND lease_attempt = $2 RETURNING id)"
			   " UPDATE attempts SET ended_at = now_ms(), outcome = 'interrupted', counted = 0,"
			   "  error = 'the runner was interrupted; not counted'"
			   " WHERE id = $2 AND EXISTS (SELECT 1 FROM it)",
			   &p, "releasing an interrupted item");
	if (n < 0)
		return (int)n;
	return n == 1 ? 0 : stale(st, c);
}

int pg_attempt_input_error(struct store *st, const struct store_claim *c, const char *error)
{
	char msg[1024];
	const char *text = pg_text(msg, sizeof msg, error && *error ? error : "cannot open the input");
	struct pgp p = { 0 };
	pgp_i64(&p, c->item_id);
	pgp_i64(&p, c->attempt_id);
	pgp_text(&p, text);
	int64_t n = pg_cmd(st,
			   "WITH it AS (UPDATE items SET status = 'failed',"
			   "  attempts = greatest(attempts - 1, 0), last_outcome = 'input_error',"
			   "  last_error = $3, last_attempt = $2, size = NULL, mtime_ns = NULL, "
			   LEASE_NULLS ", updated_at = now_ms()"
			   "  WHERE id = $1 AND status = 'running' AND lease_attempt = $2 RETURNING id)"
			   " UPDATE attempts SET ended_at = now_ms(), outcome = 'input_error', counted = 0,"
			   "  error = $3 WHERE id = $2 AND item_id = $1 AND EXISTS (SELECT 1 FROM it)",
			   &p, "recording an input error");
	if (n < 0)
		return (int)n;
	return n == 1 ? 0 : stale(st, c);
}

int pg_count_pending(struct store *st, const char *spec_key, int64_t *n)
{
	struct pgp p = { 0 };
	pgp_text(&p, spec_key ? spec_key : "");
	return pg_int(st, "SELECT count(*) FROM items WHERE status = 'pending' AND spec_key = $1", &p,
		      "counting pending items", n);
}
