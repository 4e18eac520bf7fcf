/* store/store_internal.h — shared by the store's sources only; not an API. */
#ifndef SANDRUN_STORE_INTERNAL_H
#define SANDRUN_STORE_INTERNAL_H

#include "store/store.h"

#include <sqlite3.h>
#include <stdarg.h>

/* Prepared once per connection (SQLITE_PREPARE_PERSISTENT) and reused: the
 * hot paths (claim, finish, enqueue) run once per file. */
enum store_stmt_id {
	SQL_BEGIN_IMMEDIATE,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_SYNC_FULL,
	SQL_SYNC_NORMAL,
	SQL_ENQUEUE,
	SQL_CLAIM_PICK,
	SQL_CLAIM_ITEM,
	SQL_CLAIM_ATTEMPT,
	SQL_LEASE_CHECK,
	SQL_FINISH_ATTEMPT,
	SQL_FINISH_ITEM,
	SQL_RESULT_UPSERT,
	SQL_JSON_VALID,
	SQL_RELEASE_ATTEMPT,
	SQL_RELEASE_ITEM,
	SQL_COUNT_PENDING,
	SQL_STMT_COUNT
};

/* Who we are, for leases: see docs/store.md "Leases". */
struct store_self {
	int pid;
	long long pid_start;    /* /proc/self/stat field 22, clock ticks after boot */
	char boot_id[64];       /* /proc/sys/kernel/random/boot_id */
	char pid_ns[64];        /* readlink /proc/self/ns/pid, "pid:[4026531836]" */
	char hostname[256];
};

/* The backend seam: one contract (store/store.h), one ops table per
 * backend. store_api.c holds the public functions: it checks the arguments
 * every backend would refuse alike, then calls st->ops. SQLite's are the
 * sq_* functions (store.c, store_open.c, store_items.c, ...). */
struct store_ops {
	const char *name; /* "sqlite", "postgresql" */
	void (*close)(struct store *st);
	int (*run_begin)(struct store *st, const char *version, const char *argv_json,
			 const char *spec_json, int64_t *run_id);
	int (*run_heartbeat)(struct store *st, int64_t run_id);
	int (*run_end)(struct store *st, int64_t run_id, const char *how,
		       const char *summary_json);
	int (*enqueue)(struct store *st, const char *spec_key, const struct store_input *in,
		       size_t n, bool force);
	int (*record_input_error)(struct store *st, const char *spec_key, const char *path,
				  const char *error);
	int (*reclaim_dead)(struct store *st, int max_attempts, int *reclaimed);
	int (*claim_next)(struct store *st, int64_t run_id, const char *spec_key,
			  struct store_claim *out);
	int (*attempt_finish)(struct store *st, const struct store_claim *c,
			      const struct store_attempt_end *e, bool *became_bad_output);
	int (*attempt_release)(struct store *st, const struct store_claim *c);
	int (*count_pending)(struct store *st, const char *spec_key, int64_t *n);
	int (*retry_wait)(struct store *st, const char *spec_key, int64_t *wait_ms);
	int (*result_check_json)(struct store *st, const void *buf, size_t len, bool *valid);
	int (*get_status)(struct store *st, struct store_status *out);
	int (*list_items)(struct store *st, const struct store_filter *f, store_item_fn fn,
			  void *ctx);
	int (*show_item)(struct store *st, const char *path, store_item_fn item_fn,
			 store_attempt_fn attempt_fn, void *ctx);
	int (*show_item_id)(struct store *st, int64_t id, store_item_fn item_fn,
			    store_attempt_fn attempt_fn, void *ctx);
	int (*forget)(struct store *st, const char *const *paths, size_t npaths, bool dry_run,
		      store_forget_fn fn, void *ctx, int64_t *n);
	int (*gc)(struct store *st, int64_t *before, int64_t *after);
	int (*retry_failed)(struct store *st, const char *outcome, const char *const *paths,
			    size_t npaths,
			    void (*not_reset)(const char *path, const char *status, void *ctx),
			    void *ctx, int64_t *reset);
	int (*export)(struct store *st, store_item_fn fn, void *ctx);
	int (*record_quarantine)(struct store *st, int64_t item_id, const char *dest);
	int (*batch_open)(struct store *st);
	int (*batch_add)(struct store *st, const char *const *paths, size_t n, bool *is_new);
	int (*batch_counts)(struct store *st, const char *spec_key,
			    struct store_batch_counts *out);
	int (*batch_counts_since)(struct store *st, int64_t run_id, int64_t *mark,
				  struct store_batch_counts *out);
	int (*batch_elsewhere)(struct store *st, const char *spec_key, int64_t run_id,
			       int64_t *n);
	int (*attempt_input_error)(struct store *st, const struct store_claim *c,
				   const char *error);
	int (*spec_counts)(struct store *st, store_spec_count_fn fn, void *ctx);
	int (*run_specs)(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx);
	int (*spec_rekey)(struct store *st, const char *old_key, const char *new_key, int64_t *n);
	int (*read_begin)(struct store *st);
	void (*read_end)(struct store *st);
	int (*item_groups)(struct store *st, store_group_fn fn, void *ctx);
	int (*each_run)(struct store *st, store_run_fn fn, void *ctx);
	int (*each_attempt)(struct store *st, store_attempt_fact_fn fn, void *ctx);
	int (*failed_items)(struct store *st, const char *outcome, size_t tail_max, int64_t limit,
			    store_failure_fn fn, void *ctx);
	int (*audio_reports)(struct store *st, store_audio_fn fn, void *ctx, int64_t *results);
	int (*claim_batch)(struct store *st, int64_t run_id, const char *spec_key,
			   struct store_claim *out, int max); /* NULL: claim_next in a loop */
	int (*wakeup_fd)(struct store *st);    /* NULL: no wake-ups (SQLite) */
	int (*wakeup_drain)(struct store *st);
	int (*reconnect)(struct store *st);    /* NULL: nothing to reconnect (SQLite) */
	/* serve (store_serve.c, pg_serve.c) */
	int (*submit)(struct store *st, const char *spec_key, const struct store_submission *s,
		      int64_t *item_id, int64_t *queue_seq);
	int (*item_client)(struct store *st, int64_t id, struct store_item_client *out);
	int (*client_usage)(struct store *st, int64_t uid, int64_t *files, int64_t *bytes);
	int (*cancel_pending)(struct store *st, int64_t id, const char *why);
};

/* SQLite (store_open.c): open `path` and fill *out, ops = store_sqlite_ops. */
int sq_open(const char *path, enum store_open_mode mode, struct store **out, char *err,
	    size_t errlen);
extern const struct store_ops store_sqlite_ops;
/* The SQLite implementations behind store_sqlite_ops. */
int sq_run_begin(struct store *st, const char *version, const char *argv_json, const char *spec_json, int64_t *run_id);
int sq_run_heartbeat(struct store *st, int64_t run_id);
int sq_run_end(struct store *st, int64_t run_id, const char *how, const char *summary_json);
int sq_enqueue(struct store *st, const char *spec_key, const struct store_input *in, size_t n, bool force);
int sq_record_input_error(struct store *st, const char *spec_key, const char *path, const char *error);
int sq_claim_next(struct store *st, int64_t run_id, const char *spec_key, struct store_claim *out);
int sq_result_check_json(struct store *st, const void *buf, size_t len, bool *valid);
int sq_attempt_finish(struct store *st, const struct store_claim *c, const struct store_attempt_end *e, bool *became_bad_output);
int sq_attempt_release(struct store *st, const struct store_claim *c);
int sq_count_pending(struct store *st, const char *spec_key, int64_t *n);
int sq_retry_wait(struct store *st, const char *spec_key, int64_t *wait_ms);
int sq_reclaim_dead(struct store *st, int max_attempts, int *reclaimed);
int sq_get_status(struct store *st, struct store_status *out);
int sq_list_items(struct store *st, const struct store_filter *f, store_item_fn fn, void *ctx);
int sq_spec_counts(struct store *st, store_spec_count_fn fn, void *ctx);
int sq_run_specs(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx);
int sq_spec_rekey(struct store *st, const char *old_key, const char *new_key, int64_t *n);
int sq_export(struct store *st, store_item_fn fn, void *ctx);
int sq_show_item(struct store *st, const char *path, store_item_fn item_fn, store_attempt_fn attempt_fn, void *ctx);
int sq_show_item_id(struct store *st, int64_t id, store_item_fn item_fn, store_attempt_fn attempt_fn, void *ctx);
int sq_forget(struct store *st, const char *const *paths, size_t npaths, bool dry_run, store_forget_fn fn, void *ctx, int64_t *n);
int sq_gc(struct store *st, int64_t *before, int64_t *after);
int sq_retry_failed(struct store *st, const char *outcome, const char *const *paths, size_t npaths, void (*not_reset)(const char *path, const char *status, void *ctx), void *ctx, int64_t *reset);
int sq_record_quarantine(struct store *st, int64_t item_id, const char *dest);
int sq_batch_open(struct store *st);
int sq_batch_add(struct store *st, const char *const *paths, size_t n, bool *is_new);
int sq_batch_counts(struct store *st, const char *spec_key, struct store_batch_counts *out);
int sq_batch_counts_since(struct store *st, int64_t run_id, int64_t *mark, struct store_batch_counts *out);
int sq_batch_elsewhere(struct store *st, const char *spec_key, int64_t run_id, int64_t *n);
int sq_attempt_input_error(struct store *st, const struct store_claim *c, const char *error);
void sq_close(struct store *st);
/* The report's reads (store_report.c). */
int sq_read_begin(struct store *st);
void sq_read_end(struct store *st);
int sq_item_groups(struct store *st, store_group_fn fn, void *ctx);
int sq_each_run(struct store *st, store_run_fn fn, void *ctx);
int sq_each_attempt(struct store *st, store_attempt_fact_fn fn, void *ctx);
int sq_failed_items(struct store *st, const char *outcome, size_t tail_max, int64_t limit, store_failure_fn fn, void *ctx);
int sq_audio_reports(struct store *st, store_audio_fn fn, void *ctx, int64_t *results);
int sq_submit(struct store *st, const char *spec_key, const struct store_submission *s, int64_t *item_id, int64_t *queue_seq);
int sq_item_client(struct store *st, int64_t id, struct store_item_client *out);
int sq_client_usage(struct store *st, int64_t uid, int64_t *files, int64_t *bytes);
int sq_cancel_pending(struct store *st, int64_t id, const char *why);

struct store {
	const struct store_ops *ops;
	sqlite3 *db;
	char *path;
	enum store_open_mode mode;
	bool created_file;      /* store_open() created the file (cleanup on failure) */
	int busy_timeout_ms;
	struct store_self self;
	sqlite3_stmt *stmt[SQL_STMT_COUNT];
	struct store_pg *pg;    /* the PostgreSQL backend's connection (pg_internal.h) */
	int schema_version;     /* SQLite: of the open file (older only when read-only) */
	int64_t retry_delay_ms; /* store_set_retry_delay(); 0: a retry is claimable at once */
	char err[1024];
};

/* Prepared statement `id`, reset and with bindings cleared; NULL on failure
 * (message set, *rc gets the code). */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt_id id, int *rc);

/* Map the SQLite result code `sqlite_rc` of doing `what` to a STORE_E* /
 * -errno code, write a message naming the file and what to do, and return
 * the code. */
int store_fail_sqlite(struct store *st, int sqlite_rc, const char *what);
/* Set the message from a format and return `code`. */
int store_fail(struct store *st, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Transactions. store_begin() takes the write lock (BEGIN IMMEDIATE);
 * store_commit() commits; store_rollback() is safe to call when no
 * transaction is open and keeps the message of the failure that caused it. */
int store_begin(struct store *st, const char *what);
int store_commit(struct store *st, const char *what);
void store_rollback(struct store *st);

/* Run SQL without results (sqlite3_exec). */
int store_exec(struct store *st, const char *sql, const char *what);

/* Step a statement that returns no row (or whose rows are ignored). */
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t store_now_ms(void);

/* Liveness of a lease holder (store.c). 1 alive, 0 dead. */
int store_holder_alive(const struct store *st, int pid, long long pid_start,
		       const char *boot_id, const char *pid_ns, int64_t heartbeat_ms,
		       int64_t now_ms);
/* Fill *self from /proc and gethostname() (store_open.c). */
int store_read_self(struct store_self *self);
/* Field 22 of /proc/PID/stat and whether the process is a zombie. */
int store_read_pid_start(int pid, long long *start, bool *zombie);

/* Schema (store_schema.c): create or upgrade inside an open write
 * transaction; check application id and version. */
int store_schema_check(struct store *st, bool *is_empty);
int store_schema_create(struct store *st);
/* STORE_RW: bring an older schema to STORE_SCHEMA_VERSION, in one write
 * transaction (a runner that got there first makes it a no-op). */
int store_schema_upgrade(struct store *st);

/* The error a list line shows for a failed attempt whose caller gave none
 * (store_items.c). */
void store_describe_outcome(const struct store_attempt_end *e, char *buf, size_t len);

/* Add n items of this status and last outcome to the counts (store_batch.c). */
void store_batch_tally(struct store_batch_counts *out, const char *status, const char *outcome,
		       int64_t n);

/* Add n items of this status and last outcome (NULL: none yet) to a status
 * (store_query.c); -ENOMEM. */
int store_status_tally(struct store_status *out, const char *status, const char *outcome,
		       int64_t n);

/* The attempt end a backend records for *e (store_items.c): an "ok" whose
 * JSON result the backend does not accept becomes "bad_output" (no retry;
 * *bad_output set); a failure without an error gets one described in
 * `described`. *ok: the attempt is ok after all. */
int store_attempt_end_prepare(struct store *st, const struct store_attempt_end *e,
			      struct store_attempt_end *end, char *described, size_t len, bool *ok,
			      bool *bad_output);

/* The ORDER BY of a list order (store_api.c): fixed SQL, never data.
 * PostgreSQL compares the outcome names bytewise (COLLATE "C"), as SQLite
 * does, so both backends give one order. */
const char *store_order_sql(enum store_sort sort, bool postgresql);
/* The first byte string after every string that begins with `prefix`
 * (its last byte below 0xff incremented, the 0xff bytes after it dropped),
 * malloc'd in *upper; *upper NULL when there is none (all 0xff). -ENOMEM. */
int store_prefix_upper(const char *prefix, char **upper);

/* Strict UTF-8 check (no overlongs, no surrogates). */
bool store_utf8_valid(const void *buf, size_t len);

#endif
