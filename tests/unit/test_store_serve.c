/* tests/unit/test_store_serve.c — submissions over the service socket in
 * the store (store_serve.c, pg_serve.c; docs/serve.md): the client's
 * identity on the item, the fair claim order, cancel before it runs, what
 * a client uid holds in the spool (the quota's count), and the upgrade of a schema-1 SQLite store. Both backends (store_fixture.h). */
#include "tests/unit/store_fixture.h"
#include "store/store.h"

static int64_t submit(struct store *st, const char *path, int64_t uid)
{
	struct store_submission s = { .path = path, .size = 1, .mtime_ns = 1, .uid = uid, .gid = uid + 1,
				      .pid = 4242, .name = "upload.wav" };
	int64_t id = 0, seq = 0;
	assert_int_equal(store_submit(st, SPEC, &s, &id, &seq), 0);
	assert_true(id > 0 && seq > 0);
	return id;
}

static void test_identity_and_status(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t id = submit(st, "/spool/a", 1000);
	struct store_item_client ic;
	assert_int_equal(store_item_client(st, id, &ic), 0);
	assert_string_equal(ic.path, "/spool/a");
	assert_string_equal(ic.status, "pending");
	assert_int_equal(ic.uid, 1000);
	assert_int_equal(ic.gid, 1001);
	assert_int_equal(ic.pid, 4242);
	free(ic.path);
	assert_int_equal(store_item_client(st, id + 100, &ic), -ENOENT);
	/* The same spooled path twice is refused, nothing changed. */
	struct store_submission again = { .path = "/spool/a", .uid = 1 };
	int64_t id2;
	assert_int_equal(store_submit(st, SPEC, &again, &id2, NULL), -EEXIST);
	/* An item of `run` has no client. */
	enqueue1(st, SPEC, "/in/r", 1, 1, false);
	int64_t rid = sql_int(f->db, "SELECT id FROM items WHERE path = $1", "/in/r");
	assert_int_equal(store_item_client(st, rid, &ic), 0);
	assert_int_equal(ic.uid, -1);
	free(ic.path);
	store_close(st);
}

/* Claim everything; the order of the paths, as one string. */
static void claim_order(struct store *st, char *out, size_t len)
{
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	struct store_claim c;
	out[0] = '\0';
	while (store_claim_next(st, run, SPEC, &c) == 1) {
		strncat(out, c.path + strlen(c.path) - 2, len - strlen(out) - 1);
		strncat(out, " ", len - strlen(out) - 1);
		struct store_attempt_end e = end_of("ok", false);
		e.result = "{}";
		e.result_len = 2;
		assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
		store_claim_free(&c);
	}
}

static void test_fair_order(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	/* run's items first, in id order; then one client's four files and
	 * another's two, which arrived later: they alternate. */
	enqueue1(st, SPEC, "/in/r1", 1, 1, false);
	submit(st, "/s/a1", 1);
	submit(st, "/s/a2", 1);
	submit(st, "/s/a3", 1);
	submit(st, "/s/a4", 1);
	submit(st, "/s/b1", 2);
	submit(st, "/s/b2", 2);
	char order[128];
	claim_order(st, order, sizeof order);
	assert_string_equal(order, "r1 a1 b1 a2 b2 a3 a4 ");
	/* A client arriving when the others are far along starts at the
	 * floor, not at 1: it does not jump ahead of what waits already. */
	submit(st, "/s/a5", 1);
	submit(st, "/s/a6", 1);
	submit(st, "/s/a7", 1);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1); /* a5 runs */
	submit(st, "/s/c1", 3);
	struct store_attempt_end e = end_of("ok", false);
	e.result = "{}";
	e.result_len = 2;
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	claim_order(st, order, sizeof order);
	assert_string_equal(order, "a6 c1 a7 ");
	store_close(st);
}

static void test_cancel_pending(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t a = submit(st, "/s/a", 7), b = submit(st, "/s/b", 7);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	assert_int_equal(c.item_id, a);
	/* running: not touched; pending: failed, no attempt spent */
	assert_int_equal(store_cancel_pending(st, a, "cancelled"), 0);
	assert_int_equal(store_cancel_pending(st, b, "cancelled"), 1);
	assert_int_equal(store_cancel_pending(st, b, "cancelled"), 0);
	assert_status(f->db, "/s/a", "running", 1);
	assert_status(f->db, "/s/b", "failed", 0);
	char *why = sql_text(f->db, "SELECT last_outcome || ' ' || last_error FROM items WHERE path = $1", "/s/b");
	assert_string_equal(why, "input_error cancelled");
	free(why);
	assert_int_equal(store_attempt_release(st, &c), 0);
	store_claim_free(&c);
	assert_int_equal(store_cancel_pending(st, a, "cancelled"), 1);
	assert_attempts_consistent(f->db);
	store_close(st);
}

/* store_client_usage: a uid's pending, running and failed submissions
 * (a done one's copy is gone), files and bytes. */
static void test_client_usage(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	int64_t a = submit(st, "/u/a", 7), b = submit(st, "/u/b", 7);
	submit(st, "/u/c", 8);
	int64_t files, bytes;
	assert_int_equal(store_client_usage(st, 7, &files, &bytes), 0);
	assert_int_equal(files, 2);
	assert_int_equal(bytes, 2);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 1);
	assert_int_equal(c.item_id, a);
	assert_int_equal(store_client_usage(st, 7, &files, &bytes), 0);
	assert_int_equal(files, 2); /* running still holds its copy */
	struct store_attempt_end e = end_of("ok", false);
	e.result = "{}";
	e.result_len = 2;
	assert_int_equal(store_attempt_finish(st, &c, &e, NULL), 0);
	store_claim_free(&c);
	assert_int_equal(store_cancel_pending(st, b, "cancelled"), 1);
	assert_int_equal(store_client_usage(st, 7, &files, &bytes), 0);
	assert_int_equal(files, 1); /* a done, b failed: b's copy stays */
	assert_int_equal(bytes, 1);
	assert_int_equal(store_client_usage(st, 9, &files, &bytes), 0);
	assert_int_equal(files, 0);
	assert_int_equal(bytes, 0);
	store_close(st);
}

/* A schema-1 store (SQLite) is upgraded by a read-write open, its items
 * kept; a read-only open leaves it as it is. */
static void test_upgrade_from_1(void **state)
{
	struct fx *f = *state;
	if (fx_pg())
		skip(); /* PostgreSQL's upgrades: tests/suites/store-pg.sh */
	struct store *st = open_rw(f->db);
	enqueue1(st, SPEC, "/in/old", 1, 1, false);
	store_close(st);
	sql_exec(f->db, "DROP INDEX items_client; DROP INDEX items_claim;"
			" ALTER TABLE items DROP COLUMN client_uid; ALTER TABLE items DROP COLUMN client_gid;"
			" ALTER TABLE items DROP COLUMN client_pid; ALTER TABLE items DROP COLUMN client_name;"
			" ALTER TABLE items DROP COLUMN queue_seq;"
			" ALTER TABLE items DROP COLUMN not_before;"
			" ALTER TABLE attempts DROP COLUMN output_head;"
			" CREATE INDEX items_claim ON items(spec_key, id) WHERE status = 'pending';"
			" PRAGMA user_version = 1");
	char err[512];
	assert_int_equal(store_open(f->db, STORE_RO, &st, err, sizeof err), 0);
	store_close(st);
	assert_int_equal(schema_version(f->db), 1);
	st = open_rw(f->db);
	assert_int_equal(schema_version(f->db), STORE_SCHEMA_VERSION); /* 1 -> 2 -> 3 -> 4 */
	submit(st, "/s/new", 5);
	char order[64];
	claim_order(st, order, sizeof order);
	assert_string_equal(order, "ld ew ");
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fair_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_1, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
