/* tests/unit/test_store.c — the SQLite store (store/).
 *
 * This file: the queue's rules (claims count attempts, release spends
 * none, enqueue identity, input errors, results and bad_output, retry).
 * Leases and concurrency: test_store_leases.c; unusable files and scale:
 * test_store_files.c; shared fixture: store_fixture.h.
 *
 * Run with arguments, this binary is also the seeding tool of
 * tests/cli/store.bats (it writes through the store's own functions):
 *   test_store seed DB OUTCOME=PATH...
 * OUTCOME is an attempt outcome (ok gets a JSON result; the others a stderr
 * tail), or "pending", "input_error" or "running" (a lease left by this
 * process, dead once it exits). */
#include "tests/unit/store_fixture.h"
#include "store/store.h"

static void test_open_creates_schema(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	store_close(st);
	assert_int_equal(schema_version(f->db), fx_schema_version());
	if (!fx_pg()) {
		char *mode = sql_text(f->db, "PRAGMA journal_mode", NULL);
		assert_string_equal(mode, "wal");
		free(mode);
	}
	/* Read-only afterwards, and a second RW open of an existing store. */
	char err[512];
	assert_int_equal(store_open(f->db, STORE_RO, &st, err, sizeof err), 0);
	struct store_status s;
	assert_int_equal(store_get_status(st, &s), 0);
	assert_int_equal(s.items, 0);
	assert_int_equal(s.last_run_id, 0);
	store_status_free(&s);
	store_close(st);
	store_close(open_rw(f->db));
}

static void test_claim_counts_attempt(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", "[\"sandrun\"]", "{}", &run), 0);
	enqueue1(st, SPEC, "/in/a", 10, 1000, false);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	assert_string_equal(c.path, "/in/a");
	assert_int_equal(c.attempt_no, 1);
	/* Counted at the claim, before any outcome. */
	assert_status(f->db, "/in/a", "running", 1);
	assert_attempts_consistent(f->db);
	struct store_claim none;
	assert_int_equal(store_claim_next(st, run, SPEC, &none), 0);

	struct store_attempt_end e = end_of("timeout", true);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	assert_status(f->db, "/in/a", "pending", 1);
	char *err = sql_text(f->db, "SELECT last_error FROM items WHERE path=?1", "/in/a");
	assert_non_null(strstr(err, "timeout"));
	free(err);

	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	assert_int_equal(c.attempt_no, 2);
	e = end_of("timeout", false);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	assert_status(f->db, "/in/a", "failed", 2);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM attempts", NULL), 2);
	assert_attempts_consistent(f->db);
	int64_t n = -1;
	assert_int_equal(store_count_pending(st, SPEC, &n), 0);
	assert_int_equal(n, 0);
	store_close(st);
}

static void test_release_spends_nothing(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	enqueue1(st, SPEC, "/in/a", 10, 1000, false);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	assert_int_equal(store_attempt_release(st, &c), 0);
	store_claim_free(&c);
	assert_status(f->db, "/in/a", "pending", 0);
	char *o = sql_text(f->db, "SELECT outcome FROM attempts", NULL);
	assert_string_equal(o, "interrupted");
	free(o);
	assert_int_equal(sql_int(f->db, "SELECT counted FROM attempts", NULL), 0);
	assert_attempts_consistent(f->db);
	/* The next claim is attempt 1 again. */
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	assert_int_equal(c.attempt_no, 1);
	/* Releasing twice is refused: the claim is no longer running. */
	struct store_attempt_end e = end_of("ok", false);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	assert_int_equal(store_attempt_release(st, &c), STORE_ESTALE);
	store_claim_free(&c);
	assert_status(f->db, "/in/a", "done", 1);
	assert_int_equal(store_run_end(st, run, "interrupted", "{\"done\":1}"), 0);
	assert_int_equal(store_run_end(st, run, "bogus", NULL), -EINVAL);
	store_close(st);
}

static void test_enqueue_identity(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	enqueue1(st, SPEC, "/in/a", 10, 1000, false);
	claim_finish(st, run, SPEC, "ok", false);
	assert_status(f->db, "/in/a", "done", 1);

	/* Same identity: kept done, not re-run. */
	enqueue1(st, SPEC, "/in/a", 10, 1000, false);
	assert_status(f->db, "/in/a", "done", 1);
	/* Changed size / mtime / spec: pending with a fresh budget. */
	enqueue1(st, SPEC, "/in/a", 11, 1000, false);
	assert_status(f->db, "/in/a", "pending", 0);
	claim_finish(st, run, SPEC, "ok", false);
	enqueue1(st, SPEC, "/in/a", 11, 2000, false);
	assert_status(f->db, "/in/a", "pending", 0);
	claim_finish(st, run, SPEC, "ok", false);
	enqueue1(st, "spec-B", "/in/a", 11, 2000, false);
	assert_status(f->db, "/in/a", "pending", 0);
	/* A claim for the old spec finds nothing; the new one does. */
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 0);
	claim_finish(st, run, "spec-B", "ok", false);
	/* force re-runs a done item. */
	enqueue1(st, "spec-B", "/in/a", 11, 2000, true);
	assert_status(f->db, "/in/a", "pending", 0);
	claim_finish(st, run, "spec-B", "bad_input", false);
	/* A failed item with the same identity stays failed. */
	enqueue1(st, "spec-B", "/in/a", 11, 2000, false);
	assert_status(f->db, "/in/a", "failed", 1);
	/* A running item is its runner's, even when forced or changed. */
	enqueue1(st, "spec-B", "/in/b", 1, 1, false);
	assert_int_equal(store_claim_next(st, run, "spec-B", &c), 1);
	enqueue1(st, "spec-B", "/in/b", 2, 2, true);
	assert_status(f->db, "/in/b", "running", 1);
	assert_int_equal(sql_int(f->db, "SELECT size FROM items WHERE path=?1", "/in/b"), 1);
	struct store_attempt_end e = end_of("ok", false);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	/* ...and the next enqueue sees the change. */
	enqueue1(st, "spec-B", "/in/b", 2, 2, false);
	assert_status(f->db, "/in/b", "pending", 0);
	assert_attempts_consistent(f->db);
	/* One result row per item however often it was done. */
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM results WHERE item_id ="
					" (SELECT id FROM items WHERE path=?1)", "/in/a"),
			 1);
	store_close(st);
}

static void test_enqueue_many(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	enum { N = 20000 };
	struct store_input *in = calloc(N, sizeof *in);
	char (*paths)[32] = calloc(N, 32);
	for (int i = 0; i < N; i++) {
		snprintf(paths[i], 32, "/in/%06d", i);
		in[i] = (struct store_input){ paths[i], i, i };
	}
	assert_int_equal(store_enqueue(st, SPEC, in, N, false), 0);
	assert_int_equal(store_enqueue(st, SPEC, in, N, false), 0); /* idempotent */
	int64_t n = 0;
	assert_int_equal(store_count_pending(st, SPEC, &n), 0);
	assert_int_equal(n, N);
	/* Empty paths and spec keys are refused before anything is written. */
	struct store_input bad[2] = { { "/in/x", 1, 1 }, { "", 1, 1 } };
	assert_int_equal(store_enqueue(st, SPEC, bad, 2, false), -EINVAL);
	assert_int_equal(store_enqueue(st, "", in, 1, false), -EINVAL);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items", NULL), N);
	free(in);
	free(paths);
	store_close(st);
}

static void test_input_error(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	assert_int_equal(store_record_input_error(st, SPEC, "/in/missing",
						  "cannot open: No such file or directory"),
			 0);
	assert_status(f->db, "/in/missing", "failed", 0);
	char *o = sql_text(f->db, "SELECT last_outcome || ': ' || last_error FROM items", NULL);
	assert_string_equal(o, "input_error: cannot open: No such file or directory");
	free(o);
	/* Still missing next run: still failed, no attempt ever spent. */
	assert_int_equal(store_record_input_error(st, SPEC, "/in/missing", "still missing"), 0);
	assert_status(f->db, "/in/missing", "failed", 0);
	/* Once it can be stat'ed, the next enqueue makes it pending. */
	enqueue1(st, SPEC, "/in/missing", 5, 5, false);
	assert_status(f->db, "/in/missing", "pending", 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM attempts", NULL), 0);
	store_close(st);
}

static void test_bad_output(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	static const struct {
		const char *bytes;
		size_t len;
		bool valid;
	} cases[] = {
		{ "{\"a\": [1, 2, {\"b\": null}]}", 26, true },
		{ "{\"a\": 1", 7, false },
		{ "{\"a\": \"x\0y\"}", 12, false },     /* raw NUL */
		{ "{\"a\": \"\xff\xfe\"}", 11, false }, /* not UTF-8 */
		{ "", 0, false },
		{ "garbage", 7, false },
		/* beyond what a double or int64 holds: jansson refuses, so the
		 * PostgreSQL backend asks the server; both engines take it */
		{ "[1e400, 123456789012345678901234567890]", 39, true },
		{ "42", 2, true },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[32];
		snprintf(path, sizeof path, "/in/%zu", i);
		enqueue1(st, SPEC, path, 1, 1, false);
		bool valid = !cases[i].valid;
		assert_int_equal(store_result_check_json(st, cases[i].bytes, cases[i].len, &valid), 0);
		assert_int_equal(valid, cases[i].valid);
		struct store_claim c;
		assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
		struct store_attempt_end e = end_of("ok", true /* ignored when bad */);
		e.result = cases[i].bytes;
		e.result_len = cases[i].len;
		bool bad = false;
		assert_int_equal(store_attempt_finish(st, &c, &e, &bad), 0);
		store_claim_free(&c);
		assert_int_equal(bad, !cases[i].valid);
		assert_status(f->db, path, cases[i].valid ? "done" : "failed", 1);
		char *o = sql_text(f->db, "SELECT last_outcome FROM items WHERE path=?1", path);
		assert_string_equal(o, cases[i].valid ? "ok" : "bad_output");
		free(o);
		assert_int_equal(sql_int(f->db, "SELECT count(*) FROM results r JOIN items i ON"
						" i.id = r.item_id WHERE i.path=?1", path),
				 cases[i].valid);
	}
	/* A text result that is not UTF-8 is kept byte for byte as a blob. */
	enqueue1(st, SPEC, "/in/text", 1, 1, false);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	struct store_attempt_end e = end_of("ok", false);
	e.result = "a\xff\0b";
	e.result_len = 4;
	e.result_kind = STORE_RESULT_TEXT;
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	assert_int_equal(sql_int(f->db, "SELECT length(value) FROM results WHERE kind='blob'", NULL), 4);
	/* Unknown outcomes and oversized stderr tails are refused. */
	enqueue1(st, SPEC, "/in/z", 1, 1, false);
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	e = end_of("exploded", false);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), -EINVAL);
	e = end_of("signaled", false);
	static char big[STORE_STDERR_TAIL_MAX + 1];
	e.stderr_tail = big;
	e.stderr_len = sizeof big;
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), -EINVAL);
	e.stderr_len = STORE_STDERR_TAIL_MAX;
	e.signal = 11;
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	char *err = sql_text(f->db, "SELECT last_error FROM items WHERE path=?1", "/in/z");
	assert_string_equal(err, "killed by signal 11 (SIGSEGV)");
	free(err);
	assert_attempts_consistent(f->db);
	store_close(st);
}

static void test_heartbeat(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	enqueue1(st, SPEC, "/in/a", 1, 1, false);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	sql_exec(f->db, "UPDATE runs SET heartbeat_at = 5");
	sql_exec(f->db, "UPDATE items SET lease_heartbeat_at = 5");
	assert_int_equal(store_run_heartbeat(st, run), 0);
	assert_true(sql_int(f->db, "SELECT heartbeat_at FROM runs", NULL) > 5);
	/* SQLite refreshes every lease; PostgreSQL writes only the runner's
	 * row (one write per runner: its leases live as long as it does). */
	if (fx_pg())
		assert_int_equal(sql_int(f->db, "SELECT lease_heartbeat_at FROM items", NULL), 5);
	else
		assert_true(sql_int(f->db, "SELECT lease_heartbeat_at FROM items", NULL) > 5);
	assert_int_equal(store_run_heartbeat(st, run + 100), -ENOENT);
	store_claim_free(&c);
	store_close(st);
}

struct not_reset_log {
	int n;
	char what[3][32];
};

/* store_retry_failed's callback for named paths it did not reset. */
static void log_not_reset(const char *path, const char *status, void *ctx)
{
	struct not_reset_log *log = ctx;
	snprintf(log->what[log->n++], sizeof log->what[0], "%s=%s", path, status ? status : "(none)");
}

static void test_retry_failed(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	enqueue1(st, SPEC, "/in/a", 1, 1, false);
	enqueue1(st, SPEC, "/in/b", 1, 1, false);
	enqueue1(st, SPEC, "/in/c", 1, 1, false);
	claim_finish(st, run, SPEC, "timeout", false);
	claim_finish(st, run, SPEC, "bad_input", false);
	claim_finish(st, run, SPEC, "ok", false);
	int64_t reset = -1;
	assert_int_equal(store_retry_failed(st, "timeout", NULL, 0, NULL, NULL, &reset), 0);
	assert_int_equal(reset, 1);
	assert_status(f->db, "/in/a", "pending", 0);
	assert_status(f->db, "/in/b", "failed", 1);
	/* Named paths: one failed, one done, one unknown. */
	const char *paths[] = { "/in/b", "/in/c", "/in/nope" };
	struct not_reset_log seen = { 0 };
	assert_int_equal(store_retry_failed(st, NULL, paths, 3, log_not_reset, &seen, &reset), 0);
	assert_int_equal(reset, 1);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.what[0], "/in/c=done");
	assert_string_equal(seen.what[1], "/in/nope=(none)");
	assert_status(f->db, "/in/b", "pending", 0);
	assert_attempts_consistent(f->db);
	store_close(st);
}

static int seed(const char *db, int n, char **specs)
{
	struct store *st;
	char err[1024];
	int64_t run;
	if (store_open(db, STORE_RW, &st, err, sizeof err) < 0) {
		fprintf(stderr, "seed: %s\n", err);
		return 4;
	}
	if (store_run_begin(st, "seed", "[\"test_store\",\"seed\"]", "{}", &run) < 0)
		goto fail;
	/* Pending inputs last: a claim takes the oldest pending item. */
	for (int pass = 0; pass < 2; pass++)
	for (int i = 0; i < n; i++) {
		bool pending = strncmp(specs[i], "pending=", 8) == 0;
		if (pending != (pass == 1))
			continue;
		char *eq = strchr(specs[i], '=');
		if (!eq) {
			fprintf(stderr, "seed: '%s' is not OUTCOME=PATH\n", specs[i]);
			store_close(st);
			return 2;
		}
		*eq = '\0';
		const char *what = specs[i], *path = eq + 1;
		if (strcmp(what, "input_error") == 0) {
			if (store_record_input_error(st, SPEC, path, "cannot open: No such file or directory") < 0)
				goto fail;
			continue;
		}
		struct stat sb;
		struct store_input in = { path, 0, 0 };
		if (stat(path, &sb) == 0)
			in = (struct store_input){ path, sb.st_size,
						   sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec };
		if (store_enqueue(st, SPEC, &in, 1, true) < 0)
			goto fail;
		if (strcmp(what, "pending") == 0)
			continue;
		struct store_claim c;
		if (store_claim_next(st, run, SPEC, &c) != 1)
			goto fail;
		if (strcmp(what, "running") == 0) {
			store_claim_free(&c);
			continue; /* this process's lease, dead once it exits */
		}
		char result[512];
		snprintf(result, sizeof result,
			 "{\"size\": %lld, \"lufs\": -23.5, \"formula\": \"=1+1\","
			 " \"tags\": [\"a\", \"b\"]}",
			 (long long)in.size);
		static const char tail[] = "decoding...\nerror: \x1b[31mbad frame\x1b[0m at 12\n";
		struct store_attempt_end e = end_of(what, false);
		e.result = result;
		e.result_len = strlen(result);
		e.stderr_tail = tail;
		e.stderr_len = sizeof tail - 1;
		if (strcmp(what, "signaled") == 0)
			e.signal = 11;
		if (strcmp(what, "seccomp") == 0) {
			e.signal = 31;
			e.syscall = "ptrace";
		}
		if (store_attempt_finish(st, &c, &e, NULL) < 0)
			goto fail;
		store_claim_free(&c);
	}
	store_run_end(st, run, "completed", "{\"seeded\": true}");
	store_close(st);
	return 0;
fail:
	fprintf(stderr, "seed: %s\n", store_errmsg(st));
	store_close(st);
	return 4;
}

/* The runner's batch counts while the batch is still being queued
 * (store/store_batch.c): each chunk counted once, the run's own finishes
 * left to the run, and what is outside the batch counted at the end. */
static void test_batch_counts_as_queued(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run0, run1;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run0), 0);
	const char *names[] = { "/in/a", "/in/b", "/in/c", "/in/x", "/in/y", "/in/z" };
	for (int i = 0; i < 6; i++)
		enqueue1(st, SPEC, names[i], 1, 1, false);
	claim_finish(st, run0, SPEC, "ok", false);           /* a: done before */
	claim_finish(st, run0, SPEC, "exit_nonzero", false); /* b: failed before */
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run1), 0);
	assert_int_equal(store_batch_open(st), 0);
	bool is_new[2];
	int64_t mark = 0;
	struct store_batch_counts d;
	const char *chunk1[] = { "/in/a" };
	assert_int_equal(store_batch_add(st, chunk1, 1, is_new), 0);
	assert_int_equal(store_batch_counts_since(st, run1, &mark, &d), 0);
	assert_int_equal(d.total, 1);
	assert_int_equal(d.done, 1);
	/* Claimed before its chunk is queued: c is run1's, counted by the run. */
	claim_finish(st, run1, SPEC, "ok", false);
	const char *chunk2[] = { "/in/b", "/in/c" };
	assert_int_equal(store_batch_add(st, chunk2, 2, is_new), 0);
	assert_int_equal(store_batch_counts_since(st, run1, &mark, &d), 0);
	assert_int_equal(d.total, 2);
	assert_int_equal(d.done, 0);
	assert_int_equal(d.failed, 1);
	assert_int_equal(d.failed_by[OUTCOME_EXIT_NONZERO], 1);
	assert_int_equal(store_batch_counts_since(st, run1, &mark, &d), 0);
	assert_int_equal(d.total, 0);
	/* Outside the batch: x finished by run1, y running under run1, z pending. */
	claim_finish(st, run1, SPEC, "ok", false);
	struct store_claim held;
	assert_int_equal(store_claim_next(st, run1, SPEC, &held), 1);
	assert_string_equal(held.path, "/in/y");
	int64_t n = -1;
	assert_int_equal(store_batch_elsewhere(st, SPEC, run1, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_batch_elsewhere(st, "other-spec", run0, &n), 0);
	assert_int_equal(n, 0);
	/* The summary's counts: the whole batch, the run's finishes included. */
	struct store_batch_counts all;
	assert_int_equal(store_batch_counts(st, SPEC, &all), 0);
	assert_int_equal(all.total, 3);
	assert_int_equal(all.done, 2);
	assert_int_equal(all.failed, 1);
	assert_int_equal(all.pending_elsewhere, 1);
	/* z, still pending, joins the batch: no longer elsewhere (on
	 * PostgreSQL the pending count less the batch's pending items). */
	const char *chunk3[] = { "/in/z" };
	assert_int_equal(store_batch_add(st, chunk3, 1, is_new), 0);
	assert_int_equal(store_batch_elsewhere(st, SPEC, run1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_batch_counts(st, SPEC, &all), 0);
	assert_int_equal(all.total, 4);
	assert_int_equal(all.pending_elsewhere, 0);
	store_claim_free(&held);
	store_close(st);
}

/* list, show, export and the quarantine record: rows in path order (bytes),
 * a JSON result exactly as the job printed it (key order included). */
struct rows_log {
	char text[1024];
	int attempts;
};

static int log_item(const struct store_item_row *row, void *ctx)
{
	struct rows_log *log = ctx;
	size_t o = strlen(log->text);
	snprintf(log->text + o, sizeof log->text - o, "%s%s %s %s %d q=%s r=%.*s", o ? "|" : "",
		 row->path, row->status, row->outcome ? row->outcome : "-", row->attempts,
		 row->quarantined_to ? row->quarantined_to : "-", (int)row->result_len,
		 row->result ? (const char *)row->result : "");
	return 0;
}

static int log_attempt(const struct store_attempt_row *a, void *ctx)
{
	struct rows_log *log = ctx;
	assert_true(a->ended_ms >= a->started_ms);
	assert_int_equal(a->stderr_len, 4);
	assert_memory_equal(a->stderr_tail, "oops", 4);
	log->attempts++;
	return 0;
}

static void test_queries(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	enqueue1(st, SPEC, "/in/\xff", 1, 1, false);
	enqueue1(st, SPEC, "/in/b", 2, 2, false);
	enqueue1(st, SPEC, "/in/a", 3, 3, false);
	claim_finish(st, run, SPEC, "ok", false);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	struct store_attempt_end e = end_of("exit_nonzero", false);
	e.stderr_tail = "oops";
	e.stderr_len = 4;
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	assert_string_equal(c.path, "/in/b");
	assert_int_equal(store_record_quarantine(st, c.item_id, "/q/in/b"), 0);
	assert_int_equal(store_record_quarantine(st, c.item_id + 1000, "/q/x"), -ENOENT);
	store_claim_free(&c);

	struct rows_log log = { 0 };
	assert_int_equal(store_list_items(st, NULL, log_item, &log), 0);
	assert_string_equal(log.text, "/in/a pending - 0 q=- r=|/in/b failed exit_nonzero 1 "
				      "q=/q/in/b r=|/in/\xff done ok 1 q=- r=");
	memset(&log, 0, sizeof log);
	struct store_filter failed = { .status = "failed", .with_result = true };
	assert_int_equal(store_list_items(st, &failed, log_item, &log), 0);
	assert_string_equal(log.text, "/in/b failed exit_nonzero 1 q=/q/in/b r=");
	memset(&log, 0, sizeof log);
	assert_int_equal(store_export(st, log_item, &log), 0);
	assert_string_equal(log.text, "/in/\xff done ok 1 q=- r={\"size\": 42, \"name\": \"x\"}");
	memset(&log, 0, sizeof log);
	assert_int_equal(store_show_item(st, "/in/b", log_item, log_attempt, &log), 0);
	assert_string_equal(log.text, "/in/b failed exit_nonzero 1 q=/q/in/b r=");
	assert_int_equal(log.attempts, 1);
	assert_int_equal(store_show_item(st, "/in/nope", log_item, log_attempt, &log), -ENOENT);
	store_close(st);
}

/* --retry-delay lives in the store: the finish that decides a retry sets
 * the item's not_before, the claims (one and batch) skip it until then and
 * take it after; the wait doubles with each attempt; a forced enqueue
 * clears it. On PostgreSQL the times are the database's. */
static int row_not_before(const struct store_item_row *row, void *ctx)
{
	*(int64_t *)ctx = strcmp(row->status, "pending") == 0 ? row->not_before_ms : -2;
	return 0;
}

static void wait_out(struct store *st, int64_t max_ms)
{
	int64_t wait = -1;
	assert_int_equal(store_retry_wait(st, SPEC, &wait), 0);
	assert_true(wait > 0 && wait <= max_ms);
	usleep((useconds_t)(wait + 50) * 1000);
	assert_int_equal(store_retry_wait(st, SPEC, &wait), 0);
	assert_int_equal(wait, 0);
}

static void test_retry_delay(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	assert_int_equal(store_set_retry_delay(st, -1), -EINVAL);
	assert_int_equal(store_set_retry_delay(st, 300), 0);
	int64_t run, wait = 0;
	assert_int_equal(store_run_begin(st, "t", "[\"sandrun\"]", "{}", &run), 0);
	enqueue1(st, SPEC, "/in/a", 10, 1000, false);
	assert_int_equal(store_retry_wait(st, SPEC, &wait), 0);
	assert_int_equal(wait, -1); /* nothing held back */
	struct store_claim c, more[4];
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	struct store_attempt_end e = end_of("timeout", true);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	assert_status(f->db, "/in/a", "pending", 1);
	/* Held back: neither claim takes it, another item is not blocked. */
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 0);
	assert_int_equal(store_claim_batch(st, run, SPEC, more, 4), 0);
	enqueue1(st, SPEC, "/in/b", 10, 1000, false);
	assert_int_equal(store_claim_batch(st, run, SPEC, more, 4), 1);
	assert_string_equal(more[0].path, "/in/b");
	e = end_of("ok", false);
	assert_int_equal(store_attempt_finish(st, &more[0], &e, NULL), 0);
	store_claim_free(&more[0]);
	struct store_status s;
	assert_int_equal(store_get_status(st, &s), 0);
	assert_int_equal(s.pending, 1);
	assert_int_equal(s.pending_delayed, 1);
	store_status_free(&s);
	int64_t nb = -1;
	struct store_filter one = { .status = "pending" };
	assert_int_equal(store_list_items(st, &one, row_not_before, &nb), 0);
	assert_true(nb > 0);
	/* After its time: claimed, the second attempt of its budget. */
	wait_out(st, 300);
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	assert_string_equal(c.path, "/in/a");
	assert_int_equal(c.attempt_no, 2);
	e = end_of("timeout", true);
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	/* Doubled: 600 ms after the second attempt. */
	assert_int_equal(store_retry_wait(st, SPEC, &wait), 0);
	assert_true(wait > 300 && wait <= 600);
	assert_int_equal(store_claim_batch(st, run, SPEC, more, 4), 0);
	wait_out(st, 600);
	assert_int_equal(store_claim_batch(st, run, SPEC, more, 4), 1);
	assert_int_equal(more[0].attempt_no, 3);
	e = end_of("timeout", false); /* budget spent: failed, no wait */
	assert_int_equal(store_attempt_finish(st, &more[0], &e, NULL), 0);
	store_claim_free(&more[0]);
	assert_status(f->db, "/in/a", "failed", 3);
	assert_int_equal(store_retry_wait(st, SPEC, &wait), 0);
	assert_int_equal(wait, -1);
	/* A forced enqueue starts a fresh budget with no wait. */
	enqueue1(st, SPEC, "/in/a", 10, 1000, true);
	claim_finish(st, run, SPEC, "timeout", true);
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 0);
	enqueue1(st, SPEC, "/in/a", 10, 1000, true);
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	store_claim_free(&c);
	assert_attempts_consistent(f->db);
	store_close(st);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "seed") == 0)
		return seed(argv[2], argc - 3, argv + 3);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_counts_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_spends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_counts_as_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_delay, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
