/* store/pg_queue.c — the queue on PostgreSQL: runs, enqueue, claims,
 * finishing, releasing. Each public function is one transaction, most of
 * them one statement. The attempt id is the fencing token: it grows with
 * every claim, and a finish, release or input error is written only while
 * the item is still running under that very attempt (else STORE_ESTALE,
 * nothing written). docs/scale-out.md. */
#include "store/pg_internal.h"

#include <jansson.h>

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
	int rc = 0;
	PGresult *res = pg_run_prepared(st, PG_STMT_HEARTBEAT,
					"UPDATE runs SET heartbeat_at = now_ms() WHERE id = $1 AND ended_at IS NULL",
					&p, "heartbeat", &rc);
	if (!res)
		return rc;
	bool beat = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	return beat ? 0 : run_gone(st, run_id, "heartbeat");
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
	"WITH up AS (INSERT INTO items AS i (path, spec_key, size, mtime_ns, status, enqueued_at,"
	" updated_at)"
	" SELECT DISTINCT ON (p) p, $4, s, m, 'pending', now_ms(), now_ms()"
	"  FROM unnest($1::bytea[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(p, s, m, o)"
	"  ORDER BY p, o DESC"
	" ON CONFLICT (path) DO UPDATE SET spec_key = excluded.spec_key,"
	"  size = excluded.size, mtime_ns = excluded.mtime_ns, status = 'pending',"
	"  attempts = 0, budget = i.budget + 1, quarantined_to = NULL, quarantined_at = NULL,"
	"  not_before = NULL, updated_at = excluded.updated_at" /* schema 5 */
	" WHERE i.status <> 'running' AND ($5::boolean OR i.size IS DISTINCT FROM excluded.size"
	"  OR i.mtime_ns IS DISTINCT FROM excluded.mtime_ns OR i.spec_key <> excluded.spec_key)"
	" RETURNING 1)"
	/* wake the idle runners (pg_wake.c), delivered at commit */
	" SELECT pg_notify($6, $4) WHERE EXISTS (SELECT 1 FROM up)";

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
		pgp_text(&p, st->pg->channel);
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
 * ended (was not judged lost) may claim, and its runs row is locked FOR
 * SHARE until the commit: a reclaim that would end the run waits for the
 * claim (pg_reclaim.c locks the runs FOR UPDATE first), so the items it
 * claims are seen by the reclaim, never left running under an ended run;
 * and a claim behind a reclaim sees the run ended and claims nothing.
 * (The runner's own heartbeat never waits on it: one connection does
 * both, one after the other.) The commit is synchronous (the session's
 * synchronous_commit is off, pg_open.c; the claim turns it on for its own
 * transaction: set_config(..., true) is read at commit), as SQLite syncs
 * only its claims (docs/store.md "Durability")), so the counted attempt
 * survives a crash of the machine the job takes down; and as the WAL is
 * one sequence, every earlier commit of this runner is durable with it. */
static const char claim_sql[] =
	"WITH sync AS (SELECT set_config('synchronous_commit', 'on', true)),"
	" r AS (SELECT runs.id FROM runs, sync WHERE runs.id = $2 AND ended_at IS NULL"
	"  FOR SHARE OF runs),"
	" picked AS MATERIALIZED ("
	"  SELECT i.id, i.budget, i.attempts FROM items i"
	"  WHERE i.status = 'pending' AND i.spec_key = $1 AND EXISTS (SELECT 1 FROM r)"
	"   AND (i.not_before IS NULL OR i.not_before <= now_ms())" /* schema 5: --retry-delay */
	"  ORDER BY i.queue_seq NULLS FIRST, i.id LIMIT $5 FOR UPDATE OF i SKIP LOCKED),"
	" att AS ("
	"  INSERT INTO attempts(item_id, run_id, budget, attempt_no, started_at)"
	"  SELECT id, $2, budget, attempts + 1, now_ms() FROM picked ORDER BY id"
	"  RETURNING id, item_id, attempt_no)"
	" UPDATE items i SET status = 'running', attempts = i.attempts + 1, lease_run = $2,"
	"  lease_attempt = att.id, lease_pid = $3, lease_pid_start = $4,"
	"  lease_heartbeat_at = now_ms(), updated_at = now_ms()"
	" FROM att WHERE i.id = att.item_id"
	" RETURNING i.id, att.id, att.attempt_no, i.path";

static int cmp_claim(const void *a, const void *b)
{
	const struct store_claim *x = a, *y = b;
	return (x->item_id > y->item_id) - (x->item_id < y->item_id);
}

int pg_claim_batch(struct store *st, int64_t run_id, const char *spec_key,
		   struct store_claim *out, int max)
{
	struct pgp p = { 0 };
	pgp_text(&p, spec_key);
	pgp_i64(&p, run_id);
	pgp_i64(&p, st->self.pid);
	pgp_i64(&p, st->self.pid_start);
	pgp_i64(&p, max);
	int rc = 0;
	PGresult *res = pg_run_prepared(st, PG_STMT_CLAIM, claim_sql, &p, "claiming items", &rc);
	if (!res)
		return rc;
	int n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		/* Nothing pending, or this run was judged lost. */
		struct pgp q = { 0 };
		pgp_i64(&q, run_id);
		int64_t open = 0;
		int r = pg_int(st, "SELECT count(*) FROM runs WHERE id = $1 AND ended_at IS NULL", &q,
			       "claiming items", &open);
		return r < 0 ? r : open ? 0 : run_gone(st, run_id, "claiming items");
	}
	for (int i = 0; i < n && i < max; i++) {
		out[i] = (struct store_claim){
			.item_id = pg_col_i64(res, i, 0, 0),
			.attempt_id = pg_col_i64(res, i, 1, 0),
			.attempt_no = (int)pg_col_i64(res, i, 2, 0),
			.path = pg_col_bytes(res, i, 3, NULL),
		};
		if (!out[i].path)
			rc = store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
	}
	PQclear(res);
	/* Out of memory after the commit: the claims stand (their leases
	 * are ours); the caller gets them all, a path NULL is an error. */
	if (rc < 0) {
		for (int i = 0; i < n; i++)
			store_claim_free(&out[i]);
		return rc; /* the leases go back when this run's reclaim ends it */
	}
	qsort(out, (size_t)n, sizeof *out, cmp_claim);
	return n;
}

int pg_claim_next(struct store *st, int64_t run_id, const char *spec_key,
		  struct store_claim *out)
{
	return pg_claim_batch(st, run_id, spec_key, out, 1);
}

static int stale(struct store *st, const struct store_claim *c)
{
	return store_fail(st, STORE_ESTALE,
			  "database %s: %s: the lease of attempt %lld was taken back "
			  "(another runner judged this one dead); its outcome is not recorded",
			  st->path, c->path ? c->path : "item", (long long)c->attempt_id);
}

/* A refused finish may be our own, already committed: the
 * connection broke after the server committed it and before its answer
 * arrived, and the runner wrote it again after reconnecting (a finish; a
 * release is not repeated: refused twice is the contract). The attempt
 * then has ended with this very outcome; nobody else ends it so (a reclaim
 * writes runner_lost), so it is recorded: 0. Else STORE_ESTALE. */
static int stale_unless_ours(struct store *st, const struct store_claim *c, const char *outcome)
{
	struct pgp p = { 0 };
	pgp_i64(&p, c->attempt_id);
	pgp_text(&p, outcome);
	int64_t n = 0;
	int r = pg_int(st,
		       "SELECT count(*) FROM attempts WHERE id = $1 AND ended_at IS NOT NULL"
		       " AND outcome = $2",
		       &p, "recording the attempt", &n);
	return r < 0 ? r : n == 1 ? 0 : stale(st, c);
}

/* ---- results and finishing -------------------------------------------------- */

/* The server is asked only when jansson refuses the text: what jansson
 * parses (strict RFC 8259; no \u0000, no lone surrogate, nesting under
 * 2048, numbers a double holds) jsonb takes too, so the usual result costs
 * no round trip. What jansson refuses but jsonb may take (1e400, an integer
 * beyond 64 bits, deeper nesting) goes to the server, which decides as
 * before. */
int pg_result_check_json(struct store *st, const void *buf, size_t len, bool *valid)
{
	*valid = false;
	if (len == 0 || memchr(buf, '\0', len) || !store_utf8_valid(buf, len))
		return 0;
	json_error_t jerr;
	json_t *doc = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
	if (doc) {
		json_decref(doc);
		*valid = true;
		return 0;
	}
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
	"  last_attempt = $2, " LEASE_NULLS ", updated_at = now_ms(),"
	"  not_before = now_ms() + $20::bigint" /* schema 5; NULL: claimable at once */
	"  WHERE id = $1 AND status = 'running' AND lease_attempt = $2 RETURNING id, spec_key),"
	" nt AS (SELECT pg_notify($19, spec_key) FROM it WHERE $3 = 'pending'),"
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
	" SELECT (SELECT count(*) FROM it), (SELECT count(*) FROM at), (SELECT count(*) FROM res),"
	" (SELECT count(*) FROM nt)";

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
	pgp_text(&p, st->pg->channel);
	if (!ok && end.retry && st->retry_delay_ms > 0)
		pgp_i64(&p, retry_delay_for(st->retry_delay_ms, c->attempt_no));
	else
		pgp_text(&p, NULL);
	int rc = 0;
	PGresult *res = pg_run_prepared(st, PG_STMT_FINISH, finish_sql, &p, "recording the attempt", &rc);
	free(text);
	if (!res)
		return rc;
	bool done = pg_col_i64(res, 0, 0, 0) == 1;
	PQclear(res);
	if (!done)
		return stale_unless_ours(st, c, end.outcome);
	if (became_bad_output)
		*became_bad_output = bad;
	return 0;
}

int pg_attempt_release(struct store *st, const struct store_claim *c)
{
	struct pgp p = { 0 };
	pgp_i64(&p, c->item_id);
	pgp_i64(&p, c->attempt_id);
	pgp_text(&p, st->pg->channel);
	int64_t n = 0;
	int r = pg_int(st,
		       "WITH it AS (UPDATE items SET status = 'pending', attempts = attempts - 1, "
		       LEASE_NULLS ", updated_at = now_ms()"
		       "  WHERE id = $1 AND status = 'running' AND lease_attempt = $2"
		       "  RETURNING id, spec_key),"
		       " at AS (UPDATE attempts SET ended_at = now_ms(), outcome = 'interrupted',"
		       "  counted = 0, error = 'the runner was interrupted; not counted'"
		       "  WHERE id = $2 AND EXISTS (SELECT 1 FROM it) RETURNING 1),"
		       " nt AS (SELECT pg_notify($3, spec_key) FROM it)"
		       " SELECT (SELECT count(*) FROM at) + 0 * (SELECT count(*) FROM nt)",
		       &p, "releasing an interrupted item", &n);
	if (r < 0)
		return r;
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

int pg_retry_wait(struct store *st, const char *spec_key, int64_t *wait_ms)
{
	if (st->pg->schema_version < 5)
		return 0; /* a read-only store from before --retry-delay: nothing waits */
	struct pgp p = { 0 };
	pgp_text(&p, spec_key);
	int rc = 0;
	/* By the database's clock, as the claim judges it. */
	PGresult *res = pg_run(st,
			       /* NULL when none waits (greatest() would ignore it) */
			       "SELECT min(not_before) - now_ms() FROM items"
			       " WHERE status = 'pending' AND spec_key = $1 AND not_before IS NOT NULL",
			       &p, "reading the retry delays", &rc);
	if (!res)
		return rc;
	if (!PQgetisnull(res, 0, 0)) {
		int64_t wait = pg_col_i64(res, 0, 0, 0);
		*wait_ms = wait > 0 ? wait : 0;
	}
	PQclear(res);
	return 0;
}

int pg_count_pending(struct store *st, const char *spec_key, int64_t *n)
{
	struct pgp p = { 0 };
	pgp_text(&p, spec_key ? spec_key : "");
	/* Schema 6: the maintained counts (pg_schema.c), else every item. */
	return pg_int(st, st->pg->schema_version >= 6
				  ? "SELECT coalesce(sum(n), 0) FROM item_counts"
				    " WHERE spec_key = $1 AND status = 'pending'"
				  : "SELECT count(*) FROM items WHERE status = 'pending' AND spec_key = $1",
		      &p, "counting pending items", n);
}
