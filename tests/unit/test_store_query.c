/* tests/unit/test_store_query.c — the store's side of the query commands
 * (issue 15 items 12 and 13): list's orders, limit, --since, --run and id
 * filters, running items' host and start, show by id, forget (refusing a
 * live lease, taking a dead one, the dry run), gc, and status's counts by
 * (status, last outcome), in their order. Part of the
 * conformance suite: tests/suites/store-pg.sh runs it on PostgreSQL too. */
#include "store_fixture.h"

struct paths {
	char text[512];
	int64_t last_id;
	const char *host;
	int64_t since;
};

static int log_path(const struct store_item_row *row, void *ctx)
{
	struct paths *p = ctx;
	size_t o = strlen(p->text);
	snprintf(p->text + o, sizeof p->text - o, "%s%s", o ? " " : "", row->path);
	p->last_id = row->id;
	if (row->running_since_ms >= 0) {
		p->since = row->running_since_ms;
		p->host = row->running_host ? "set" : NULL;
	}
	return 0;
}

static const char *list(struct store *st, struct store_filter f, struct paths *p)
{
	memset(p, 0, sizeof *p);
	assert_int_equal(store_list_items(st, &f, log_path, p), 0);
	return p->text;
}

static int no_attempt(const struct store_attempt_row *a, void *ctx)
{
	return 0;
}

/* /in/a: size 1, oldest, ok; /in/b: size 3, exit_nonzero; /in/c: size 2,
 * newest, still running under this process's lease; /in/d pending. */
static struct store *four_items(const char *db, int64_t *run)
{
	struct store *st = open_rw(db);
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, run), 0);
	enqueue1(st, SPEC, "/in/a", 1, 100, false);
	enqueue1(st, SPEC, "/in/b", 3, 200, false);
	enqueue1(st, SPEC, "/in/c", 2, 300, false);
	enqueue1(st, SPEC, "/in/d", 4, -1, false);
	claim_finish(st, *run, SPEC, "ok", false);
	claim_finish(st, *run, SPEC, "exit_nonzero", false);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, *run, SPEC, &c), 1);
	assert_string_equal(c.path, "/in/c");
	store_claim_free(&c);
	return st;
}

static void test_list_orders_and_filters(void **state)
{
	struct fx *f = *state;
	int64_t run;
	struct store *st = four_items(f->db, &run);
	struct paths p;
	assert_string_equal(list(st, (struct store_filter){ 0 }, &p), "/in/a /in/b /in/c /in/d");
	assert_string_equal(list(st, (struct store_filter){ .sort = STORE_SORT_SIZE }, &p),
			    "/in/d /in/b /in/c /in/a");
	/* never stat'ed (mtime NULL) last */
	sql_exec(f->db, "UPDATE items SET mtime_ns = NULL WHERE attempts = 0");
	assert_string_equal(list(st, (struct store_filter){ .sort = STORE_SORT_MTIME }, &p),
			    "/in/c /in/b /in/a /in/d");
	/* no outcome first, then by name */
	assert_string_equal(list(st, (struct store_filter){ .sort = STORE_SORT_OUTCOME }, &p),
			    "/in/c /in/d /in/b /in/a");
	assert_string_equal(list(st, (struct store_filter){ .sort = STORE_SORT_ATTEMPTS, .limit = 2 }, &p),
			    "/in/a /in/b");
	assert_string_equal(list(st, (struct store_filter){ .run_id = run }, &p), "/in/a /in/b /in/c");
	assert_string_equal(list(st, (struct store_filter){ .run_id = run + 1 }, &p), "");
	assert_string_equal(list(st, (struct store_filter){ .since_ms = INT64_MAX / 2 }, &p), "");
	assert_string_equal(list(st, (struct store_filter){ .since_ms = 1 }, &p),
			    "/in/a /in/b /in/c /in/d");
	list(st, (struct store_filter){ .status = "running" }, &p);
	assert_non_null(p.host);
	assert_true(p.since > 0);
	/* a path range: [prefix, prefix with its last byte + 1) */
	assert_string_equal(list(st, (struct store_filter){ .path_prefix = "/in/b" }, &p), "/in/b");
	assert_string_equal(list(st, (struct store_filter){ .path_prefix = "/in/" }, &p),
			    "/in/a /in/b /in/c /in/d");
	assert_string_equal(list(st, (struct store_filter){ .path_prefix = "/im" }, &p), "");
	enqueue1(st, SPEC, "/in/\xff\xff", 5, 5, false);
	assert_string_equal(list(st, (struct store_filter){ .path_prefix = "/in/\xff" }, &p),
			    "/in/\xff\xff");
		int64_t b = sql_int(f->db, "SELECT id FROM items WHERE path = ?1", "/in/b");
	assert_string_equal(list(st, (struct store_filter){ .id = b }, &p), "/in/b");
	/* show by id is show by path */
	memset(&p, 0, sizeof p);
	assert_int_equal(store_show_item_id(st, b, log_path, no_attempt, &p), 0);
	assert_string_equal(p.text, "/in/b");
	assert_int_equal(store_show_item_id(st, b + 100, log_path, no_attempt, &p), -ENOENT);
	assert_int_equal(store_show_item_id(st, 0, log_path, no_attempt, &p), -ENOENT);
	store_close(st);
}

struct forgot {
	char text[512];
};

static void log_forget(const char *path, const char *status, bool forgotten, void *ctx)
{
	struct forgot *fg = ctx;
	size_t o = strlen(fg->text);
	snprintf(fg->text + o, sizeof fg->text - o, "%s%s:%s:%s", o ? " " : "", path,
		 status ? status : "-", forgotten ? "yes" : "no");
}

static void test_forget(void **state)
{
	struct fx *f = *state;
	int64_t run, n;
	struct store *st = four_items(f->db, &run);
	const char *paths[] = { "/in/a", "/in/c", "/in/zz" };
	struct forgot fg = { 0 };
	/* A dry run decides alike and changes nothing. */
	assert_int_equal(store_forget(st, paths, 3, true, log_forget, &fg, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fg.text, "/in/a:done:yes /in/c:running:no /in/zz:-:no");
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items", NULL), 4);
	memset(&fg, 0, sizeof fg);
	assert_int_equal(store_forget(st, paths, 3, false, log_forget, &fg, &n), 0);
	assert_string_equal(fg.text, "/in/a:done:yes /in/c:running:no /in/zz:-:no");
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items", NULL), 3);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM attempts a WHERE NOT EXISTS"
					" (SELECT 1 FROM items i WHERE i.id = a.item_id)", NULL), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM results", NULL), 0);
	assert_attempts_consistent(f->db);
	/* The runner holding /in/c is gone: its lease is dead, forget takes it. */
	store_close(st);
	sql_exec(f->db, "UPDATE runs SET pid = 999999999, boot_id = 'another-boot',"
			" heartbeat_at = 0");
	sql_exec(f->db, "UPDATE items SET lease_pid = 999999999, lease_heartbeat_at = 0"
			" WHERE status = 'running'");
	st = open_rw(f->db);
	memset(&fg, 0, sizeof fg);
	assert_int_equal(store_forget(st, &paths[1], 1, false, log_forget, &fg, &n), 0);
	assert_string_equal(fg.text, "/in/c:running:yes");
	assert_int_equal(n, 1);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items", NULL), 2);
	store_close(st);
}

static void test_gc(void **state)
{
	struct fx *f = *state;
	make_store_with_items(f->db, 50);
	struct store *st = open_rw(f->db);
	int64_t before, after;
	assert_int_equal(store_gc(st, &before, &after), 0);
	assert_true(before > 0);
	assert_true(after > 0);
	struct paths p;
	list(st, (struct store_filter){ .status = "done" }, &p);
	assert_int_equal(strlen(p.text) > 0, 1);
	store_close(st);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items", NULL), 50);
}

/* status's counts, exact and in (status, outcome) order (on
 * PostgreSQL one count per pair found in the index, not a GROUP BY): one
 * status with an outcome and without (pending), and a status with no
 * outcome at all (running). */
static void test_status_counts(void **state)
{
	struct fx *f = *state;
	int64_t run;
	struct store *st = four_items(f->db, &run);
	enqueue1(st, SPEC, "/in/e", 5, 500, false);
	enqueue1(st, SPEC, "/in/f", 6, 600, false);
	claim_finish(st, run, SPEC, "timeout", true); /* /in/d: pending again, timeout */
	struct store_status s;
	assert_int_equal(store_get_status(st, &s), 0);
	assert_int_equal(s.items, 6);
	assert_int_equal(s.pending, 3);
	assert_int_equal(s.running, 1);
	assert_int_equal(s.done, 1);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.noutcomes, 4);
	/* The named outcomes in order; no outcome ("", never printed) is
	 * first in its status on SQLite and last on PostgreSQL. */
	const char *names[] = { "ok", "exit_nonzero", "timeout" };
	size_t k = 0;
	for (size_t i = 0; i < s.noutcomes; i++) {
		if (!s.outcomes[i].name[0]) {
			assert_int_equal(s.outcomes[i].n, 3);
			continue;
		}
		assert_true(k < 3);
		assert_string_equal(s.outcomes[i].name, names[k++]);
		assert_int_equal(s.outcomes[i].n, 1);
	}
	assert_int_equal(k, 3);
	store_status_free(&s);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_orders_and_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_counts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
