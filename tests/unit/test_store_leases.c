/* tests/unit/test_store_leases.c — claims under concurrency and leases
 * (store/store_items.c, store/store_reclaim.c). The other processes are
 * real: two runners claiming at once are two forked processes, a dead runner
 * is a child that exits holding a lease. */
#include "tests/unit/store_fixture.h"
#include "tests/unit/testkit.h"

/* Two handles on one store, each with a run, and n items "/in/0".. queued;
 * paths[i] (16 bytes each) holds item i's path. */
static void two_runners(const char *db, struct store **a, struct store **b, int64_t *ra,
			int64_t *rb, char (*paths)[16], int n)
{
	*a = open_rw(db), *b = open_rw(db);
	assert_int_equal(store_run_begin(*a, "t", NULL, NULL, ra), 0);
	assert_int_equal(store_run_begin(*b, "t", NULL, NULL, rb), 0);
	struct store_input *in = calloc((size_t)n, sizeof *in);
	assert_non_null(in);
	for (int i = 0; i < n; i++) {
		snprintf(paths[i], 16, "/in/%d", i);
		in[i] = (struct store_input){ paths[i], 1, 1 };
	}
	assert_int_equal(store_enqueue(*a, SPEC, in, (size_t)n, false), 0);
	free(in);
}

/* Two handles on one file in one process, claiming in turn. */
static void test_two_handles_disjoint(void **state)
{
	struct fx *f = *state;
	struct store *a, *b;
	int64_t ra, rb;
	enum { N = 200 };
	static char paths[N][16];
	two_runners(f->db, &a, &b, &ra, &rb, paths, N);
	static char seen[N + 1];
	memset(seen, 0, sizeof seen);
	int claimed = 0;
	for (int turn = 0;; turn++) {
		struct store *st = turn % 2 ? b : a;
		struct store_claim c;
		int r = store_claim_next(st, turn % 2 ? rb : ra, SPEC, &c);
		assert_true(r >= 0);
		if (r == 0)
			break;
		int idx = (int)c.item_id;
		assert_true(idx >= 1 && idx <= N);
		assert_int_equal(seen[idx], 0);
		seen[idx] = 1;
		claimed++;
		/* Finish with the other handle half the time: any handle may. */
		struct store_attempt_end e = end_of("ok", false);
		assert_int_equal(store_attempt_finish(turn % 3 ? st : (st == a ? b : a), &c, &e, NULL), 0);
		store_claim_free(&c);
	}
	assert_int_equal(claimed, N);
	assert_attempts_consistent(f->db);
	store_close(a);
	store_close(b);
}

/* A batch claim (a runner with several free slots): up to max items in one
 * call, each counted, each with its own fencing token; another runner's
 * batch gets the rest, never the same items. */
static void test_batch_claims(void **state)
{
	struct fx *f = *state;
	struct store *a, *b;
	int64_t ra, rb;
	enum { N = 10 };
	char paths[N][16];
	two_runners(f->db, &a, &b, &ra, &rb, paths, N);
	struct store_claim ca[N], cb[N];
	assert_int_equal(store_claim_batch(a, ra, SPEC, ca, 0), -EINVAL);
	assert_int_equal(store_claim_batch(a, ra, SPEC, ca, 4), 4);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items WHERE status = 'running'", NULL), 4);
	assert_int_equal(sql_int(f->db, "SELECT sum(attempts) FROM items", NULL), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ca[i].attempt_no, 1);
		assert_string_equal(ca[i].path, paths[i]); /* the oldest first */
		for (int j = 0; j < i; j++)
			assert_true(ca[j].attempt_id != ca[i].attempt_id);
	}
	assert_int_equal(store_claim_batch(b, rb, SPEC, cb, N), N - 4);
	for (int i = 0; i < N - 4; i++)
		for (int j = 0; j < 4; j++)
			assert_true(cb[i].item_id != ca[j].item_id);
	assert_int_equal(store_claim_batch(a, ra, SPEC, ca + 4, 2), 0);
	/* Each claim is fenced by its own token: another claim's token of
	 * the same batch does not finish it. */
	struct store_claim wrong = ca[0];
	wrong.attempt_id = ca[1].attempt_id;
	struct store_attempt_end e = end_of("ok", false);
	assert_int_equal(store_attempt_finish(a, &wrong, &e, NULL), STORE_ESTALE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(store_attempt_finish(a, &ca[i], &e, NULL), 0);
	assert_int_equal(store_attempt_release(b, &cb[0]), 0);
	for (int i = 1; i < N - 4; i++)
		assert_int_equal(store_attempt_finish(b, &cb[i], &e, NULL), 0);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items WHERE status = 'done'", NULL), N - 1);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items WHERE status = 'pending'"
				 " AND attempts = 0", NULL), 1);
	for (int i = 0; i < 4; i++)
		store_claim_free(&ca[i]);
	for (int i = 0; i < N - 4; i++)
		store_claim_free(&cb[i]);
	assert_attempts_consistent(f->db);
	store_close(a);
	store_close(b);
}

/* A claiming runner in a child: opens the store, waits at the barrier,
 * claims and finishes until the queue is empty, writing each claimed id to
 * its pipe. Exits 0, or the number of the step that failed. */
struct claimer {
	const char *db;
	int *barrier, *out;
};

static int claimer_main(void *p)
{
	struct claimer *a = p;
	close(a->out[0]);
	struct store *cs;
	char err[512];
	int64_t run;
	if (store_open(a->db, STORE_RW, &cs, err, sizeof err) < 0 ||
	    store_run_begin(cs, "child", NULL, NULL, &run) < 0)
		return 10;
	close(a->barrier[1]);
	char go;
	if (read(a->barrier[0], &go, 1) != 0)
		return 14;
	for (;;) {
		struct store_claim c;
		int r = store_claim_next(cs, run, SPEC, &c);
		if (r < 0)
			return 11;
		if (r == 0)
			break;
		int64_t id = c.item_id;
		if (write(a->out[1], &id, sizeof id) != sizeof id)
			return 12;
		usleep(200); /* the job: a real runner does not hold the lock */
		struct store_attempt_end e = end_of("ok", false);
		if (store_attempt_finish(cs, &c, &e, NULL) < 0)
			return 13;
		store_claim_free(&c);
	}
	store_run_end(cs, run, "completed", NULL);
	store_close(cs);
	return 0;
}

/* Two processes claim from one queue as fast as they can: no item is
 * claimed twice and together they claim every one. */
static void test_two_processes_disjoint(void **state)
{
	struct fx *f = *state;
	enum { N = 600 };
	struct store *st = open_rw(f->db);
	struct store_input in[N];
	char paths[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(paths[i], sizeof paths[i], "/in/%d", i);
		in[i] = (struct store_input){ paths[i], 1, 1 };
	}
	assert_int_equal(store_enqueue(st, SPEC, in, N, false), 0);
	store_close(st);

	/* Both children open the store, then wait at this barrier, so their
	 * claims overlap in time however slowly each one starts. */
	int barrier[2];
	assert_int_equal(pipe(barrier), 0);
	int fds[2][2];
	pid_t pids[2];
	for (int k = 0; k < 2; k++) {
		assert_int_equal(pipe(fds[k]), 0);
		struct claimer arg = { f->db, barrier, fds[k] };
		pids[k] = tk_spawn(claimer_main, &arg);
		assert_true(pids[k] > 0);
		close(fds[k][1]);
	}
	close(barrier[0]);
	close(barrier[1]); /* go */
	static int owner[N + 1];
	memset(owner, 0, sizeof owner);
	int per[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		int64_t id;
		while (read(fds[k][0], &id, sizeof id) == sizeof id) {
			assert_true(id >= 1 && id <= N);
			assert_int_equal(owner[id], 0); /* never claimed twice */
			owner[id] = k + 1;
			per[k]++;
		}
		close(fds[k][0]);
		int wst = tk_wait(pids[k]);
		assert_true(wst >= 0 && WIFEXITED(wst));
		assert_int_equal(WEXITSTATUS(wst), 0);
	}
	assert_int_equal(per[0] + per[1], N);
	assert_true(per[0] > 0 && per[1] > 0); /* they did run at once */
	print_message("# two processes: %d and %d claims of %d\n", per[0], per[1], N);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items WHERE status='done'", NULL), N);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM attempts", NULL), N);
	assert_attempts_consistent(f->db);
}

/* One of the runners that start together: waits at the barrier, opens
 * (maybe creates) the store, queues every input, claims until empty. */
struct starter {
	const char *db;
	int k;
	int *barrier, *results;
};

static int starter_main(void *p)
{
	struct starter *a = p;
	enum { N = 120 };
	close(a->barrier[1]);
	close(a->results[0]);
	char go;
	if (read(a->barrier[0], &go, 1) != 0)
		return 20;
	struct store *cs;
	char err[512];
	int64_t run;
	if (store_open(a->db, STORE_RW, &cs, err, sizeof err) < 0) {
		fprintf(stderr, "runner %d: %s\n", a->k, err);
		return 21;
	}
	struct store_input in[N];
	char paths[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(paths[i], sizeof paths[i], "/in/%d", i);
		in[i] = (struct store_input){ paths[i], 1, 1 };
	}
	if (store_run_begin(cs, "r", NULL, NULL, &run) < 0 ||
	    store_enqueue(cs, SPEC, in, N, false) < 0)
		return 22;
	for (;;) {
		struct store_claim c;
		int r = store_claim_next(cs, run, SPEC, &c);
		if (r < 0)
			return 23;
		if (r == 0)
			break;
		int64_t id = c.item_id;
		if (write(a->results[1], &id, sizeof id) != sizeof id)
			return 24;
		usleep(100);
		struct store_attempt_end e = end_of("ok", false);
		if (store_attempt_finish(cs, &c, &e, NULL) < 0)
			return 25;
		store_claim_free(&c);
	}
	store_close(cs);
	return 0;
}

/* Four runners start at once on a database that does not exist yet: one
 * creates the schema, all of them queue the same inputs, and together they
 * run each input exactly once. */
static void test_runners_start_together(void **state)
{
	struct fx *f = *state;
	enum { RUNNERS = 4, N = 120 };
	int barrier[2], results[2];
	assert_int_equal(pipe(barrier), 0);
	assert_int_equal(pipe(results), 0);
	pid_t pids[RUNNERS];
	for (int k = 0; k < RUNNERS; k++) {
		struct starter arg = { f->db, k, barrier, results };
		pids[k] = tk_spawn(starter_main, &arg);
		assert_true(pids[k] > 0);
	}
	close(barrier[0]);
	close(results[1]);
	close(barrier[1]); /* go */
	/* Ids are 1..N on SQLite; on PostgreSQL an upsert that finds the row
	 * already there still spends an identity value, so they may reach
	 * RUNNERS * N. Either way: N claims, none twice. */
	static int seen[RUNNERS * N + 1];
	memset(seen, 0, sizeof seen);
	int64_t id;
	int total = 0;
	while (read(results[0], &id, sizeof id) == sizeof id) {
		assert_true(id >= 1 && id <= RUNNERS * N);
		assert_int_equal(seen[id]++, 0);
		total++;
	}
	close(results[0]);
	for (int k = 0; k < RUNNERS; k++) {
		int wst = tk_wait(pids[k]);
		assert_true(wst >= 0);
		if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
			fail_msg("runner %d ended with status 0x%x", k, wst);
	}
	assert_int_equal(total, N);
	assert_int_equal(schema_version(f->db), fx_schema_version());
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM items WHERE status='done'", NULL), N);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM runs", NULL), RUNNERS);
	assert_attempts_consistent(f->db);
	/* The runners' claims and finishes, at once, kept the counts exact. */
	struct store *st = open_rw(f->db);
	assert_counts_exact(f->db, st);
	store_close(st);
}

/* A child process that claims one item and exits without finishing it:
 * a runner killed mid-job. Returns its pid, not yet reaped. */
static int doomed_main(void *db)
{
	struct store *cs;
	char err[512];
	int64_t run;
	struct store_claim c;
	if (store_open(db, STORE_RW, &cs, err, sizeof err) < 0 ||
	    store_run_begin(cs, "doomed", NULL, NULL, &run) < 0 ||
	    store_claim_next(cs, run, SPEC, &c) != 1)
		return 1;
	return 0; /* no finish, no close: the lease stays */
}

static pid_t runner_that_dies(const char *db)
{
	pid_t pid = tk_spawn(doomed_main, (void *)db);
	assert_true(pid > 0);
	return pid;
}

static void reap(pid_t pid)
{
	int wst = tk_wait(pid);
	assert_true(wst >= 0 && WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
}

static void test_reclaim_dead_runner(void **state)
{
	struct fx *f = *state;
	struct store *st = open_rw(f->db);
	enqueue1(st, SPEC, "/in/killer", 1, 1, false);
	int max_attempts = retry_max_attempts("runner_lost", 2, RETRY_DEFAULT_MASK);
	assert_int_equal(max_attempts, 3);
	/* A file that kills its runner every time: three runners die on it,
	 * then it is failed, never claimed a fourth time. */
	for (int i = 1; i <= 3; i++) {
		pid_t pid = runner_that_dies(f->db);
		reap(pid);
		assert_status(f->db, "/in/killer", "running", i);
		int reclaimed = -1;
		assert_int_equal(store_reclaim_dead(st, max_attempts, &reclaimed), 0);
		assert_int_equal(reclaimed, 1);
		assert_status(f->db, "/in/killer", i < 3 ? "pending" : "failed", i);
		assert_attempts_consistent(f->db);
		assert_counts_exact(f->db, st);
	}
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM attempts WHERE outcome='runner_lost'",
				 NULL),
			 3);
	char *o = sql_text(f->db, "SELECT last_outcome FROM items", NULL);
	assert_string_equal(o, "runner_lost");
	free(o);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM runs WHERE how='lost'", NULL), 3);
	int64_t run;
	struct store_claim c;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	assert_int_equal(store_claim_next(st, run, SPEC, &c), 0);
	/* Reclaim again: nothing more to do. */
	int reclaimed = -1;
	assert_int_equal(store_reclaim_dead(st, max_attempts, &reclaimed), 0);
	assert_int_equal(reclaimed, 0);
	store_close(st);
}

static void test_reclaim_spares_the_living(void **state)
{
	struct fx *f = *state;
	if (fx_pg())
		skip(); /* per-lease pids and boot ids: SQLite's rules; test_lease_timeout */
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	enqueue1(st, SPEC, "/in/a", 1, 1, false);
	enqueue1(st, SPEC, "/in/b", 1, 1, false);
	enqueue1(st, SPEC, "/in/c", 1, 1, false);
	struct store_claim a, b;
	assert_int_equal(store_claim_next(st, run, SPEC, &a), 1);
	assert_int_equal(store_claim_next(st, run, SPEC, &b), 1);
	/* Our own leases, seen from another handle: alive. */
	struct store *other = open_rw(f->db);
	int reclaimed = -1;
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 0);
	/* A zombie holds a lease: dead, although its pid still exists. */
	pid_t zombie = runner_that_dies(f->db);
	for (int i = 0; i < 500 && sql_int(f->db, "SELECT count(*) FROM items WHERE"
						  " status='running'", NULL) < 3; i++)
		usleep(10000);
	usleep(50000); /* let it become a zombie */
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 1);
	assert_status(f->db, "/in/c", "pending", 1);
	reap(zombie);
	/* Our pid with another start time: the pid was reused — dead. */
	sql_exec(f->db, "UPDATE items SET lease_pid_start = lease_pid_start + 1 WHERE path = '/in/a'");
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 1);
	assert_status(f->db, "/in/a", "pending", 1);
	/* Finishing a reclaimed claim is refused and changes nothing. */
	struct store_attempt_end e = end_of("ok", false);
	assert_int_equal(store_attempt_finish(st, &a, &e, NULL), STORE_ESTALE);
	assert_non_null(strstr(store_errmsg(st), "taken back"));
	assert_status(f->db, "/in/a", "pending", 1);
	/* A lease from another pid namespace: judged by its heartbeat. */
	sql_exec(f->db, "UPDATE runs SET pid_ns = 'pid:[1]'");
	assert_int_equal(store_run_heartbeat(st, run), 0);
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 0);
	assert_status(f->db, "/in/b", "running", 1);
	sql_exec(f->db, "UPDATE items SET lease_heartbeat_at = lease_heartbeat_at - 600000");
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 1);
	assert_status(f->db, "/in/b", "pending", 1);
	/* A lease from another boot: dead whatever its pid. */
	store_claim_free(&b);
	assert_int_equal(store_claim_next(st, run, SPEC, &b), 1);
	sql_exec(f->db, "UPDATE runs SET pid_ns = (SELECT pid_ns FROM runs WHERE how = 'lost'"
			" UNION SELECT 'x' LIMIT 1), boot_id = 'another-boot'");
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 1);
	assert_attempts_consistent(f->db);
	store_claim_free(&a);
	store_claim_free(&b);
	store_close(other);
	store_close(st);
}

/* PostgreSQL: a runner is lost when its heartbeat (database time) is older
 * than the lease timeout, whatever host it is on. Its leases are taken
 * back, once, as runner_lost; then its finish, release, heartbeat and claim
 * carry a stale token and write nothing (STORE_ESTALE). */
static void test_lease_timeout(void **state)
{
	struct fx *f = *state;
	if (!fx_pg())
		skip(); /* SQLite judges liveness by pid and boot id */
	struct store *st = open_rw(f->db), *other = open_rw(f->db);
	int64_t run, run2;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	assert_int_equal(store_run_begin(other, "t", NULL, NULL, &run2), 0);
	enqueue1(st, SPEC, "/in/a", 1, 1, false);
	enqueue1(st, SPEC, "/in/b", 1, 1, false);
	struct store_claim a, b;
	assert_int_equal(store_claim_next(st, run, SPEC, &a), 1);
	assert_int_equal(store_claim_next(st, run, SPEC, &b), 1);
	/* Another host (another boot id): only the heartbeat tells. */
	sql_exec(f->db, "UPDATE runs SET boot_id = 'another-host'");
	assert_int_equal(store_set_lease_timeout(other, 60), 0);
	int reclaimed = -1;
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 0);
	sql_exec(f->db, "UPDATE runs SET heartbeat_at = heartbeat_at - 61000");
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 2);
	assert_status(f->db, "/in/a", "pending", 1);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM attempts WHERE outcome='runner_lost'",
				 NULL), 2);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM runs WHERE how='lost'", NULL), 2);
	assert_int_equal(store_reclaim_dead(other, 3, &reclaimed), 0);
	assert_int_equal(reclaimed, 0);
	/* The lost runner wakes up: every write carries a stale token. */
	struct store_attempt_end e = end_of("ok", false);
	assert_int_equal(store_attempt_finish(st, &a, &e, NULL), STORE_ESTALE);
	assert_int_equal(store_attempt_release(st, &b), STORE_ESTALE);
	assert_int_equal(store_run_heartbeat(st, run), STORE_ESTALE);
	struct store_claim c;
	assert_int_equal(store_claim_next(st, run, SPEC, &c), STORE_ESTALE);
	assert_status(f->db, "/in/a", "pending", 1);
	assert_status(f->db, "/in/b", "pending", 1);
	assert_int_equal(sql_int(f->db, "SELECT count(*) FROM results", NULL), 0);
	/* A live runner takes them, with new tokens. */
	sql_exec(f->db, "UPDATE runs SET heartbeat_at = now_ms(), ended_at = NULL, how = NULL"
			" WHERE id = (SELECT max(id) FROM runs)");
	assert_int_equal(store_run_begin(other, "t", NULL, NULL, &run2), 0);
	assert_int_equal(store_claim_next(other, run2, SPEC, &c), 1);
	assert_true(c.attempt_id > b.attempt_id);
	assert_int_equal(store_attempt_finish(other, &c, &e, NULL), 0);
	assert_attempts_consistent(f->db);
	store_claim_free(&a);
	store_claim_free(&b);
	store_claim_free(&c);
	store_close(other);
	store_close(st);
}

/* The counts status reads stay exact through a randomized mix of every
 * operation that changes items: queue (new, changed, forced, another spec),
 * input errors, batch claims, finishes (done, failed, retried), releases,
 * input errors of claims, retry, forget, gc, a spec rekey, submissions and
 * their cancel, and the reclaim of a runner that died holding a lease.
 * Checked after every step (assert_counts_exact; on PostgreSQL also the
 * maintained counts row for row). The seed is fixed, so a failure
 * replays; SANDRUN_TEST_SEED picks another. */
#define MIX_PATHS 24
#define MIX_STEPS 160
#define MIX_OPEN 8

static void mix_forgot(const char *path, const char *status, bool forgotten, void *ctx)
{
}

static void mix_finish(struct store *st, struct store_claim *c)
{
	static const char *const outcomes[] = { "ok", "damaged", "timeout", "exit_nonzero", "oom" };
	struct store_attempt_end e = end_of(outcomes[rand() % 5], rand() % 2);
	int r = rand() % 6 == 0 ? store_attempt_input_error(st, c, "gone")
				: store_attempt_finish(st, c, &e, NULL);
	assert_true(r == 0 || r == STORE_ESTALE); /* a reclaimed lease: stale */
	store_claim_free(c);
}

static void mix_step(const char *db, struct store *st, int64_t run, struct store_claim *open,
		     int *nopen, const char *const *paths)
{
	const char *path = paths[rand() % MIX_PATHS];
	int64_t n = 0;
	switch (rand() % 12) {
	case 0:
	case 1: {
		struct store_input in[3];
		for (int i = 0; i < 3; i++)
			in[i] = (struct store_input){ paths[rand() % MIX_PATHS], rand() % 3, 7 };
		assert_int_equal(store_enqueue(st, rand() % 4 ? SPEC : "spec-B", in, 3, rand() % 5 == 0), 0);
		break;
	}
	case 2:
	case 3:
		if (*nopen < MIX_OPEN) {
			int got = store_claim_batch(st, run, rand() % 4 ? SPEC : "spec-B", open + *nopen,
						    MIX_OPEN - *nopen < 3 ? MIX_OPEN - *nopen : 3);
			assert_true(got >= 0);
			*nopen += got;
		}
		break;
	case 4:
	case 5:
		if (*nopen > 0) {
			int k = rand() % *nopen;
			mix_finish(st, &open[k]);
			open[k] = open[--*nopen];
		}
		break;
	case 6:
		if (*nopen > 0) {
			int k = rand() % *nopen;
			int r = store_attempt_release(st, &open[k]);
			assert_true(r == 0 || r == STORE_ESTALE);
			store_claim_free(&open[k]);
			open[k] = open[--*nopen];
		}
		break;
	case 7: {
		const char *outcome = rand() % 2 ? NULL : "timeout";
		size_t npaths = (size_t)(rand() % 2);
		assert_int_equal(store_retry_failed(st, outcome, &path, npaths, NULL, NULL, &n), 0);
		break;
	}
	case 8: { /* forget leaves an item under our live lease alone */
		assert_int_equal(store_forget(st, &path, 1, rand() % 4 == 0, mix_forgot, NULL, &n), 0);
		if (rand() % 4 == 0)
			assert_int_equal(store_record_input_error(st, SPEC, path, "unreadable"), 0);
		break;
	}
	case 9:
		if (rand() % 3 == 0) {
			int64_t before, after;
			assert_int_equal(store_gc(st, &before, &after), 0);
		} else {
			assert_int_equal(store_spec_rekey(st, rand() % 2 ? SPEC : "spec-B",
							  rand() % 2 ? "spec-B" : SPEC, &n), 0);
		}
		break;
	case 10: {
		char sub[32];
		snprintf(sub, sizeof sub, "/spool/%d", rand() % 1000);
		struct store_submission s = { sub, 1, 1, 1000, 1000, 42, "mix" };
		int64_t id = 0;
		int r = store_submit(st, SPEC, &s, &id, NULL);
		assert_true(r == 0 || r == -EEXIST);
		if (r == 0 && rand() % 2)
			assert_true(store_cancel_pending(st, id, "cancelled") >= 0);
		break;
	}
	case 11: /* a runner that dies holding a lease, then its reclaim */
		if (rand() % 3 == 0) {
			int before = (int)sql_int(db, "SELECT count(*) FROM items WHERE status = 'pending'"
						      " AND spec_key = 'spec-A'", NULL);
			if (before > 0)
				reap(runner_that_dies(db));
			int reclaimed = -1;
			assert_int_equal(store_reclaim_dead(st, 3, &reclaimed), 0);
			assert_true(reclaimed == (before > 0));
		}
		break;
	}
}

static void test_counts_exact_through_a_mix(void **state)
{
	struct fx *f = *state;
	const char *seed_env = getenv("SANDRUN_TEST_SEED");
	unsigned seed = seed_env && *seed_env ? (unsigned)strtoul(seed_env, NULL, 10) : 13;
	srand(seed);
	char names[MIX_PATHS][16];
	const char *paths[MIX_PATHS];
	for (int i = 0; i < MIX_PATHS; i++) {
		snprintf(names[i], sizeof names[i], "/in/m%d", i);
		paths[i] = names[i];
	}
	struct store *st = open_rw(f->db);
	int64_t run;
	assert_int_equal(store_run_begin(st, "t", NULL, NULL, &run), 0);
	struct store_claim open[MIX_OPEN];
	int nopen = 0;
	for (int step = 0; step < MIX_STEPS; step++) {
		mix_step(f->db, st, run, open, &nopen, paths);
		assert_counts_exact(f->db, st);
	}
	while (nopen > 0)
		mix_finish(st, &open[--nopen]);
	assert_counts_exact(f->db, st);
	assert_attempts_consistent(f->db);
	/* Every kind of change was made at least once. */
	assert_true(sql_int(f->db, "SELECT count(*) FROM items WHERE status = 'done'", NULL) > 0);
	assert_true(sql_int(f->db, "SELECT count(*) FROM items WHERE status = 'failed'", NULL) > 0);
	assert_true(sql_int(f->db, "SELECT count(*) FROM attempts WHERE outcome = 'runner_lost'", NULL) > 0);
	assert_true(sql_int(f->db, "SELECT count(*) FROM attempts WHERE outcome = 'interrupted'", NULL) > 0);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_handles_disjoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_disjoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runners_start_together, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_dead_runner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_spares_the_living, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_exact_through_a_mix, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
