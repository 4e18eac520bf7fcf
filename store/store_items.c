/* store/store_items.c — the queue: enqueue, claims and leases, attempts,
 * results, release and reclaim. Each public function is one transaction
 * (enqueue: one per batch), rolled back on any error. */
#include "store/store_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_NULLS                                                                \
	"lease_run=NULL, lease_attempt=NULL, lease_pid=NULL, lease_pid_start=NULL," \
	" lease_heartbeat_at=NULL"

const char *const store_sql_text[SQL_STMT_COUNT] = {
	[SQL_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_SYNC_FULL] = "PRAGMA synchronous=FULL",
	[SQL_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
	/* Identity = path (the key) + size + mtime + spec_key. A running item
	 * is its runner's; anything else with a changed identity, or any item
	 * when forced (?6), starts over with a fresh budget. */
	[SQL_ENQUEUE] =
		"INSERT INTO items(path, spec_key, size, mtime_ns, status, enqueued_at, updated_at)"
		" VALUES(?1, ?2, ?3, ?4, 'pending', ?5, ?5)"
		" ON CONFLICT(path) DO UPDATE SET spec_key=excluded.spec_key,"
		"  size=excluded.size, mtime_ns=excluded.mtime_ns, status='pending',"
		"  attempts=0, budget=budget+1, quarantined_to=NULL, quarantined_at=NULL,"
		"  not_before=NULL," /* schema 4: a fresh budget waits for nothing */
		"  updated_at=excluded.updated_at"
		" WHERE status <> 'running' AND (?6 OR size IS NOT excluded.size"
		"  OR mtime_ns IS NOT excluded.mtime_ns OR spec_key IS NOT excluded.spec_key)",
	[SQL_CLAIM_PICK] = "SELECT id, path, attempts, budget FROM items"
			   " WHERE status='pending' AND spec_key=?1"
			   "  AND (not_before IS NULL OR not_before <= ?2)" /* schema 4: --retry-delay */
			   " ORDER BY queue_seq, id LIMIT 1",
	[SQL_CLAIM_ATTEMPT] = "INSERT INTO attempts(item_id, run_id, budget, attempt_no, started_at)"
			      " VALUES(?1, ?2, ?3, ?4, ?5)",
	[SQL_CLAIM_ITEM] = "UPDATE items SET status='running', attempts=attempts+1,"
			   " lease_run=?2, lease_attempt=?3, lease_pid=?4, lease_pid_start=?5,"
			   " lease_heartbeat_at=?6, updated_at=?6"
			   " WHERE id=?1 AND status='pending'",
	[SQL_LEASE_CHECK] = "SELECT status, lease_attempt FROM items WHERE id=?1",
	[SQL_FINISH_ATTEMPT] = "UPDATE attempts SET ended_at=?2, outcome=?3, exit_code=?4,"
			       " signal=?5, syscall=?6, wall_ms=?7, cpu_ms=?8,"
			       " peak_memory_bytes=?9, oom_kills=?10, error=?11, stderr_tail=?12,"
			       " output_head=?13" /* schema 2 */
			       " WHERE id=?1",
	[SQL_FINISH_ITEM] = "UPDATE items SET status=?2, last_outcome=?3, last_error=?4,"
			    " last_attempt=?5, " LEASE_NULLS ", updated_at=?6,"
			    " not_before=?7 WHERE id=?1", /* schema 4 */
	[SQL_RESULT_UPSERT] =
		"INSERT INTO results(item_id, attempt_id, kind, value, stored_at)"
		" VALUES(?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT(item_id) DO UPDATE SET attempt_id=excluded.attempt_id,"
		"  kind=excluded.kind, value=excluded.value, stored_at=excluded.stored_at",
	[SQL_JSON_VALID] = "SELECT json_valid(?1)",
	[SQL_RELEASE_ATTEMPT] = "UPDATE attempts SET ended_at=?2, outcome='interrupted',"
				" counted=0, error='the runner was interrupted; not counted'"
				" WHERE id=?1",
	[SQL_RELEASE_ITEM] = "UPDATE items SET status='pending', attempts=attempts-1, " LEASE_NULLS
			     ", updated_at=?2 WHERE id=?1",
	[SQL_COUNT_PENDING] = "SELECT count(*) FROM items WHERE status='pending' AND spec_key=?1",
};

/* Inputs per enqueue transaction: large enough that 100,000 paths take a
 * fraction of a second, small enough that another runner's claim waits
 * milliseconds, not seconds, for the write lock. */
#define ENQUEUE_BATCH 4096

bool store_utf8_valid(const void *buf, size_t len)
{
	const unsigned char *s = buf, *end = s + len;
	while (s < end) {
		unsigned char c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - s) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

int sq_enqueue(struct store *st, const char *spec_key, const struct store_input *in, size_t n,
		  bool force)
{
	size_t done = 0;
	while (done < n) {
		size_t batch = n - done < ENQUEUE_BATCH ? n - done : ENQUEUE_BATCH;
		int r = store_begin(st, "queueing inputs");
		if (r < 0)
			return r;
		int64_t now = store_now_ms();
		sqlite3_stmt *s = store_stmt(st, SQL_ENQUEUE, &r);
		for (size_t i = done; s && r == 0 && i < done + batch; i++) {
			sqlite3_reset(s);
			sqlite3_bind_text(s, 1, in[i].path, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, spec_key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, in[i].size);
			sqlite3_bind_int64(s, 4, in[i].mtime_ns);
			sqlite3_bind_int64(s, 5, now);
			sqlite3_bind_int(s, 6, force);
			r = store_step_done(st, s, "queueing inputs");
		}
		if (r == 0)
			r = store_commit(st, "queueing inputs");
		if (r < 0) {
			store_rollback(st);
			return r;
		}
		done += batch;
	}
	return 0;
}

int sq_record_input_error(struct store *st, const char *spec_key, const char *path,
			     const char *error)
{
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(
		st->db,
		"INSERT INTO items(path, spec_key, status, last_outcome, last_error, enqueued_at,"
		" updated_at) VALUES(?1, ?2, 'failed', 'input_error', ?3, ?4, ?4)"
		" ON CONFLICT(path) DO UPDATE SET spec_key=excluded.spec_key, size=NULL,"
		"  mtime_ns=NULL, status='failed', last_outcome='input_error',"
		"  last_error=excluded.last_error, updated_at=excluded.updated_at"
		" WHERE status <> 'running'",
		-1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "recording an input error");
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, spec_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, error ? error : "cannot open the input", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, store_now_ms());
	r = store_step_done(st, s, "recording an input error");
	sqlite3_finalize(s);
	return r;
}

/* ---- claims ---------------------------------------------------------- */

void store_claim_free(struct store_claim *c)
{
	if (!c)
		return;
	free(c->path);
	c->path = NULL;
}

static int claim_in_txn(struct store *st, int64_t run_id, const char *spec_key,
			struct store_claim *out)
{
	int r = 0;
	sqlite3_stmt *pick = store_stmt(st, SQL_CLAIM_PICK, &r);
	if (!pick)
		return r;
	sqlite3_bind_text(pick, 1, spec_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(pick, 2, store_now_ms());
	int step = sqlite3_step(pick);
	if (step == SQLITE_DONE) {
		sqlite3_reset(pick);
		return 0;
	}
	if (step != SQLITE_ROW)
		return store_fail_sqlite(st, step, "claiming an item");
	int64_t item_id = sqlite3_column_int64(pick, 0);
	char *path = strdup((const char *)sqlite3_column_text(pick, 1));
	int attempt_no = sqlite3_column_int(pick, 2) + 1;
	int64_t budget = sqlite3_column_int64(pick, 3);
	sqlite3_reset(pick);
	if (!path)
		return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);

	int64_t now = store_now_ms();
	sqlite3_stmt *ins = store_stmt(st, SQL_CLAIM_ATTEMPT, &r);
	if (ins) {
		sqlite3_bind_int64(ins, 1, item_id);
		sqlite3_bind_int64(ins, 2, run_id);
		sqlite3_bind_int64(ins, 3, budget);
		sqlite3_bind_int(ins, 4, attempt_no);
		sqlite3_bind_int64(ins, 5, now);
		r = store_step_done(st, ins, "claiming an item");
	}
	int64_t attempt_id = sqlite3_last_insert_rowid(st->db);
	sqlite3_stmt *upd = r == 0 ? store_stmt(st, SQL_CLAIM_ITEM, &r) : NULL;
	if (upd) {
		sqlite3_bind_int64(upd, 1, item_id);
		sqlite3_bind_int64(upd, 2, run_id);
		sqlite3_bind_int64(upd, 3, attempt_id);
		sqlite3_bind_int(upd, 4, st->self.pid);
		sqlite3_bind_int64(upd, 5, st->self.pid_start);
		sqlite3_bind_int64(upd, 6, now);
		r = store_step_done(st, upd, "claiming an item");
		if (r == 0 && sqlite3_changes(st->db) != 1)
			r = store_fail(st, -EIO, "database %s: claim: item %lld changed under the lock",
				       st->path, (long long)item_id);
	}
	if (r < 0) {
		free(path);
		return r;
	}
	*out = (struct store_claim){ item_id, attempt_id, attempt_no, path };
	return 1;
}

int sq_claim_next(struct store *st, int64_t run_id, const char *spec_key,
		     struct store_claim *out)
{
	/* The claim's commit is synced (FULL) so the counted attempt survives a
	 * crash of the whole machine caused by the job it starts; see
	 * docs/store.md. The other commits stay NORMAL. */
	int r = 0;
	sqlite3_stmt *sync = store_stmt(st, SQL_SYNC_FULL, &r);
	if (!sync || (r = store_step_done(st, sync, "claiming an item")) < 0)
		return r;
	r = store_begin(st, "claiming an item");
	int claimed = r == 0 ? claim_in_txn(st, run_id, spec_key, out) : r;
	if (claimed >= 0) {
		r = store_commit(st, "claiming an item");
		if (r < 0) {
			store_claim_free(out);
			claimed = r;
		}
	}
	if (claimed < 0)
		store_rollback(st);
	int r2 = 0;
	sync = store_stmt(st, SQL_SYNC_NORMAL, &r2);
	if (sync)
		r2 = store_step_done(st, sync, "claiming an item");
	return claimed < 0 ? claimed : r2 < 0 ? r2 : claimed;
}

/* Inside a write transaction: is the item still running under this claim? */
static int lease_is_ours(struct store *st, const struct store_claim *c)
{
	int r = 0;
	sqlite3_stmt *s = store_stmt(st, SQL_LEASE_CHECK, &r);
	if (!s)
		return r;
	sqlite3_bind_int64(s, 1, c->item_id);
	int step = sqlite3_step(s);
	if (step != SQLITE_ROW) {
		sqlite3_reset(s);
		return step == SQLITE_DONE
			       ? store_fail(st, -ENOENT, "database %s: item %lld does not exist",
					    st->path, (long long)c->item_id)
			       : store_fail_sqlite(st, step, "checking the lease");
	}
	bool ours = strcmp((const char *)sqlite3_column_text(s, 0), "running") == 0 &&
		    sqlite3_column_int64(s, 1) == c->attempt_id;
	sqlite3_reset(s);
	if (!ours)
		return store_fail(st, STORE_ESTALE,
				  "database %s: %s: the lease of attempt %lld was taken back "
				  "(another runner judged this one dead); its outcome is not recorded",
				  st->path, c->path ? c->path : "item", (long long)c->attempt_id);
	return 0;
}

/* ---- results --------------------------------------------------------- */

static int json_valid_sql(struct store *st, const void *buf, size_t len, bool *valid)
{
	*valid = false;
	/* SQLite text stops at a NUL for json_valid(); JSON never holds a raw
	 * one, and a result must be UTF-8 to be exported as JSON. */
	if (len == 0 || memchr(buf, '\0', len) || !store_utf8_valid(buf, len))
		return 0;
	int r = 0;
	sqlite3_stmt *s = store_stmt(st, SQL_JSON_VALID, &r);
	if (!s)
		return r;
	sqlite3_bind_text64(s, 1, buf, len, SQLITE_STATIC, SQLITE_UTF8);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*valid = sqlite3_column_int(s, 0) == 1;
	sqlite3_reset(s);
	return step == SQLITE_ROW ? 0 : store_fail_sqlite(st, step, "validating a result");
}

int sq_result_check_json(struct store *st, const void *buf, size_t len, bool *valid)
{
	return json_valid_sql(st, buf, len, valid);
}

static int upsert_result(struct store *st, const struct store_claim *c,
			 const struct store_attempt_end *e, int64_t now)
{
	int r = 0;
	sqlite3_stmt *s = store_stmt(st, SQL_RESULT_UPSERT, &r);
	if (!s)
		return r;
	const void *data = e->result ? e->result : "";
	size_t len = e->result ? e->result_len : 0;
	sqlite3_bind_int64(s, 1, c->item_id);
	sqlite3_bind_int64(s, 2, c->attempt_id);
	if (e->result_kind == STORE_RESULT_JSON) {
		sqlite3_bind_text(s, 3, "json", -1, SQLITE_STATIC);
		sqlite3_bind_text64(s, 4, data, len, SQLITE_STATIC, SQLITE_UTF8);
	} else if (e->result_kind == STORE_RESULT_TEXT && !memchr(data, '\0', len) &&
		   store_utf8_valid(data, len)) {
		sqlite3_bind_text(s, 3, "text", -1, SQLITE_STATIC);
		sqlite3_bind_text64(s, 4, data, len, SQLITE_STATIC, SQLITE_UTF8);
	} else {
		/* Not text after all: kept byte for byte. */
		sqlite3_bind_text(s, 3, "blob", -1, SQLITE_STATIC);
		sqlite3_bind_blob64(s, 4, data, len, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 5, now);
	return store_step_done(st, s, "storing the result");
}

/* ---- finishing attempts ---------------------------------------------- */

/* The error a list line shows when the caller gave none. */
void store_describe_outcome(const struct store_attempt_end *e, char *buf, size_t len)
{
	int o = outcome_from_name(e->outcome);
	const char *sig = e->signal > 0 ? sigabbrev_np(e->signal) : NULL;
	switch (o) {
	case OUTCOME_EXIT_NONZERO:
		snprintf(buf, len, "exited with status %d", e->exit_code);
		break;
	case OUTCOME_SIGNALED:
		snprintf(buf, len, "killed by signal %d (SIG%s)", e->signal, sig ? sig : "?");
		break;
	case OUTCOME_OOM:
		snprintf(buf, len, "out of memory (%lld OOM kills)", (long long)e->oom_kills);
		break;
	case OUTCOME_TIMEOUT:
		snprintf(buf, len, "wall-clock timeout after %.1f s", (double)e->wall_ms / 1000);
		break;
	case OUTCOME_CPU_LIMIT:
		snprintf(buf, len, "CPU time limit reached (%.1f s)", (double)e->cpu_ms / 1000);
		break;
	case OUTCOME_SECCOMP:
		snprintf(buf, len, "stopped by the seccomp policy at syscall %s",
			 e->syscall && *e->syscall ? e->syscall : "(unknown)");
		break;
	case OUTCOME_OUTPUT_LIMIT:
		snprintf(buf, len, "output larger than the limit");
		break;
	case OUTCOME_BAD_INPUT:
		snprintf(buf, len, "the analyzer rejected the input");
		break;
	case OUTCOME_BAD_OUTPUT:
		snprintf(buf, len, "the result is not valid JSON (%zu bytes)", e->result_len);
		break;
	default:
		snprintf(buf, len, "%s", e->outcome);
		break;
	}
}

int store_attempt_end_prepare(struct store *st, const struct store_attempt_end *e,
			      struct store_attempt_end *end, char *described, size_t len, bool *ok,
			      bool *bad_output)
{
	*end = *e;
	*ok = outcome_name_succeeded(e->outcome);
	if (*ok && e->result_kind == STORE_RESULT_JSON) {
		bool valid;
		int r = st->ops->result_check_json(st, e->result ? e->result : "",
						   e->result ? e->result_len : 0, &valid);
		if (r < 0)
			return r;
		if (!valid) {
			end->outcome = "bad_output";
			end->retry = false;
			end->error = NULL;
			*ok = false;
			*bad_output = true;
		}
	}
	if (!*ok && !end->error) {
		store_describe_outcome(end, described, len);
		end->error = described;
	}
	/* What a failed job printed, its head only: an ok one's is the result. */
	if (*ok || !end->output)
		end->output_len = 0;
	else if (end->output_len > STORE_OUTPUT_HEAD_MAX)
		end->output_len = STORE_OUTPUT_HEAD_MAX;
	if (!end->output_len)
		end->output = NULL;
	return 0;
}

static void bind_i64_or_null(sqlite3_stmt *s, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

static int finish_in_txn(struct store *st, const struct store_claim *c,
			 const struct store_attempt_end *e, bool *bad_output)
{
	int r = lease_is_ours(st, c);
	if (r < 0)
		return r;
	struct store_attempt_end end;
	char described[256];
	bool ok;
	r = store_attempt_end_prepare(st, e, &end, described, sizeof described, &ok, bad_output);
	if (r < 0)
		return r;
	int64_t now = store_now_ms();
	sqlite3_stmt *s = store_stmt(st, SQL_FINISH_ATTEMPT, &r);
	if (!s)
		return r;
	sqlite3_bind_int64(s, 1, c->attempt_id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, end.outcome, -1, SQLITE_STATIC);
	if (end.exit_code >= 0)
		sqlite3_bind_int(s, 4, end.exit_code);
	if (end.signal > 0)
		sqlite3_bind_int(s, 5, end.signal);
	if (end.syscall && *end.syscall)
		sqlite3_bind_text(s, 6, end.syscall, -1, SQLITE_STATIC);
	bind_i64_or_null(s, 7, end.wall_ms);
	bind_i64_or_null(s, 8, end.cpu_ms);
	bind_i64_or_null(s, 9, end.peak_memory_bytes);
	bind_i64_or_null(s, 10, end.oom_kills);
	if (end.error)
		sqlite3_bind_text(s, 11, end.error, -1, SQLITE_STATIC);
	if (end.stderr_tail && end.stderr_len)
		sqlite3_bind_blob64(s, 12, end.stderr_tail, end.stderr_len, SQLITE_STATIC);
	if (end.output && end.output_len)
		sqlite3_bind_blob64(s, 13, end.output, end.output_len, SQLITE_STATIC);
	r = store_step_done(st, s, "recording the attempt");
	if (r < 0)
		return r;

	s = store_stmt(st, SQL_FINISH_ITEM, &r);
	if (!s)
		return r;
	sqlite3_bind_int64(s, 1, c->item_id);
	sqlite3_bind_text(s, 2, ok ? "done" : end.retry ? "pending" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, end.outcome, -1, SQLITE_STATIC);
	if (end.error)
		sqlite3_bind_text(s, 4, end.error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, c->attempt_id);
	sqlite3_bind_int64(s, 6, now);
	if (!ok && end.retry && st->retry_delay_ms > 0) /* else NULL: claimable at once */
		sqlite3_bind_int64(s, 7, now + retry_delay_for(st->retry_delay_ms, c->attempt_no));
	r = store_step_done(st, s, "recording the attempt");
	if (r == 0 && ok)
		r = upsert_result(st, c, e, now);
	return r;
}

int sq_attempt_finish(struct store *st, const struct store_claim *c,
			 const struct store_attempt_end *e, bool *became_bad_output)
{
	bool bad = false;
	int r = store_begin(st, "recording the attempt");
	if (r == 0)
		r = finish_in_txn(st, c, e, &bad);
	if (r == 0)
		r = store_commit(st, "recording the attempt");
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	if (became_bad_output)
		*became_bad_output = bad;
	return 0;
}

int sq_attempt_release(struct store *st, const struct store_claim *c)
{
	int r = store_begin(st, "releasing an interrupted item");
	if (r == 0)
		r = lease_is_ours(st, c);
	int64_t now = store_now_ms();
	sqlite3_stmt *s = r == 0 ? store_stmt(st, SQL_RELEASE_ATTEMPT, &r) : NULL;
	if (s) {
		sqlite3_bind_int64(s, 1, c->attempt_id);
		sqlite3_bind_int64(s, 2, now);
		r = store_step_done(st, s, "releasing an interrupted item");
	}
	s = r == 0 ? store_stmt(st, SQL_RELEASE_ITEM, &r) : NULL;
	if (s) {
		sqlite3_bind_int64(s, 1, c->item_id);
		sqlite3_bind_int64(s, 2, now);
		r = store_step_done(st, s, "releasing an interrupted item");
	}
	if (r == 0)
		r = store_commit(st, "releasing an interrupted item");
	if (r < 0)
		store_rollback(st);
	return r;
}

int sq_count_pending(struct store *st, const char *spec_key, int64_t *n)
{
	int r = 0;
	sqlite3_stmt *s = store_stmt(st, SQL_COUNT_PENDING, &r);
	if (!s)
		return r;
	sqlite3_bind_text(s, 1, spec_key ? spec_key : "", -1, SQLITE_STATIC);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return step == SQLITE_ROW ? 0 : store_fail_sqlite(st, step, "counting pending items");
}

int sq_retry_wait(struct store *st, const char *spec_key, int64_t *wait_ms)
{
	if (st->schema_version < 4)
		return 0; /* a read-only store from before --retry-delay: nothing waits */
	sqlite3_stmt *s;
	int r = sqlite3_prepare_v2(st->db,
				   "SELECT min(not_before) FROM items WHERE status='pending'"
				   " AND spec_key=?1 AND not_before IS NOT NULL",
				   -1, &s, NULL);
	if (r != SQLITE_OK)
		return store_fail_sqlite(st, r, "reading the retry delays");
	sqlite3_bind_text(s, 1, spec_key, -1, SQLITE_STATIC);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		int64_t wait = sqlite3_column_int64(s, 0) - store_now_ms();
		*wait_ms = wait > 0 ? wait : 0;
	}
	sqlite3_finalize(s);
	return step == SQLITE_ROW ? 0 : store_fail_sqlite(st, step, "reading the retry delays");
}
