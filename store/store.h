/* store/store.h — the store: items, leases, attempts, results, runs; the
 * retry policy over the outcome catalog (lib/outcome.h). The one public header of
 * store/ (store_internal.h is private to the store's sources).
 *
 * One database file (WAL mode) holds the whole state of a batch, so that a
 * runner killed at any moment can be followed by another that continues
 * where it stopped. docs/store.md has the schema, the synchronous-level
 * decision and the lease/reclaim rules; this header is the contract.
 *
 * Only the runner's parent process touches a struct store; never share one
 * across fork() (open a new one in the child).
 *
 * Code: store_api.c (the backend seam: open picks a backend, every call goes
 * through its ops table), store.c store_open.c store_schema.c store_items.c store_reclaim.c
 * store_query.c store_batch.c store_report.c (SQLite), pg_*.c (PostgreSQL),
 * retry.c (pure: the retry policy).
 *
 * Error idiom: every function returns 0 (or a documented count/flag) on
 * success and a negative code on failure: -errno, or one of the STORE_E*
 * codes below. store_errmsg() then holds a one-line message that names the
 * database file and says what to do. A failed call changes nothing: each
 * write is one transaction, rolled back on any error.
 */
#ifndef SANDRUN_STORE_H
#define SANDRUN_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/outcome.h"

/* Codes beyond plain errno (all negative, all distinct from each other). */
#define STORE_EBUSY    (-EBUSY)           /* a lock was held longer than the busy timeout */
#define STORE_ECORRUPT (-EUCLEAN)         /* garbage, truncated or malformed database file */
#define STORE_ENOTOURS (-EMEDIUMTYPE)     /* a valid SQLite file, but not a sandrun store */
#define STORE_EFUTURE  (-EPROTONOSUPPORT) /* schema written by a newer sandrun */
#define STORE_ESTALE   (-ESTALE)          /* the claim is no longer ours (lease reclaimed) */
/* and: -EROFS (read-only path for STORE_RW), -ENOSPC (disk full),
 * -ENOENT (STORE_RO on a missing file, or an unknown path), -EINVAL, -ENOMEM,
 * -EIO (any other SQLite or I/O failure). */

/* Schema version this build writes; older ones are upgraded on STORE_RW.
 * 2 (issue 15, item 9): attempts.output_head. 3 (serve):
 * items.client_uid/gid/pid/name and items.queue_seq, the claim ordered by
 * (queue_seq, id): docs/serve.md, docs/store.md. 4 (--retry-delay):
 * items.not_before, the time before which a retried item is not claimed. */
#define STORE_SCHEMA_VERSION 4
/* How long a statement waits for another connection's lock before failing
 * with STORE_EBUSY. The environment variable SANDRUN_DB_BUSY_TIMEOUT_MS
 * overrides it (the tests use a short one). */
#define STORE_BUSY_TIMEOUT_MS 10000
/* stderr tails longer than this are refused (the caller trims). */
#define STORE_STDERR_TAIL_MAX 65536
/* The first bytes of a job's stdout kept with an attempt that is not ok
 * (the store cuts; `show` prints them through lib/text.c). */
#define STORE_OUTPUT_HEAD_MAX 4096
/* A lease held by a runner whose liveness cannot be checked from here
 * (another pid namespace) is dead when its heartbeat is older than this.
 * Runners call store_run_heartbeat() far more often (every few seconds). */
#define STORE_LEASE_STALE_MS (5 * 60 * 1000)

/* ---- the retry policy (store/retry.c; pure, no I/O) -------------------
 *
 * Every attempt ends in exactly one outcome. Some are transient (the same
 * file may well succeed next time: the runner died, the sandbox could not be
 * set up, the machine was short of memory or time); the others are
 * properties of the file or of the analyzer and will repeat. The default
 * retries only the transient ones; docs/store.md explains each choice.
 */

#define RETRY_BIT(o) (1u << (o))
/* The default of --retries and --retry-on. */
#define RETRY_DEFAULT_RETRIES 2
#define RETRY_DEFAULT_MASK (RETRY_BIT(OUTCOME_RUNNER_LOST) | RETRY_BIT(OUTCOME_SETUP_ERROR))
/* Outcomes that may appear in --retry-on: every failure an attempt can end
 * in. Not "ok" or "damaged" (not failures: a result is kept) and not
 * "input_error" (decided before any
 * attempt; the next run re-checks the file anyway). */
#define RETRY_ALLOWED_MASK                                                        \
	(((1u << OUTCOME_COUNT) - 1) & ~RETRY_BIT(OUTCOME_OK) &                     \
	 ~RETRY_BIT(OUTCOME_INPUT_ERROR) & ~RETRY_BIT(OUTCOME_DAMAGED))

/* Parse --retry-on: a comma-separated list of outcome names, or one of the
 * words "default", "all" (every allowed outcome), "none". Spaces around names
 * are ignored; an empty list is an error. Returns 0 and sets *mask, or
 * -EINVAL with a message naming the bad word and the valid ones in err. */
int retry_parse_outcomes(const char *csv, unsigned *mask, char *err, size_t errlen);

/* Whether an attempt that ended in `outcome`, the attempt_no-th of its item's
 * budget (1-based), is retried: outcome in retry_on_mask and fewer than
 * max_retries retries spent (attempt_no <= max_retries). Unknown outcomes,
 * "ok", "damaged" and "input_error" are never retried. */
bool retry_decide(const char *outcome, int attempt_no, int max_retries, unsigned retry_on_mask);

/* The number of attempts an item may spend when its attempts end in
 * `outcome`: max_retries + 1 if outcome is retried, else 1. This is what
 * store_reclaim_dead() takes for "runner_lost". */
int retry_max_attempts(const char *outcome, int max_retries, unsigned retry_on_mask);

/* --retry-delay: the wait before the retry that follows the attempt_no-th
 * attempt (1-based) of an item's budget is base_ms * 2^(attempt_no - 1),
 * capped at RETRY_DELAY_MAX_MS (and base_ms itself is capped there too).
 * 0 when base_ms <= 0. docs/runner.md "Retry delay". */
#define RETRY_DELAY_MAX_MS (60LL * 60 * 1000)
int64_t retry_delay_for(int64_t base_ms, int attempt_no);

/* Reconnecting after a lost database connection (docs/scale-out.md "When
 * PostgreSQL is down"): the wait before try number `attempt` (1-based) is
 * base_ms * 2^(attempt - 1) capped at cap_ms ("capped exponential"), of
 * which the upper half is jitter drawn from rnd (any random 32 bits), so
 * runners cut off together do not come back in one burst: the result lies
 * in [d/2, d]. Pure. */
int64_t retry_backoff_ms(int64_t base_ms, int64_t cap_ms, int attempt, uint32_t rnd);
/* 32 random bits for that jitter (getrandom; a pid-based value before the
 * kernel has entropy). store_api.c. */
uint32_t store_jitter(void);

/* Write the names in mask as "a,b,c" ("none" when empty). */
void retry_format_outcomes(unsigned mask, char *buf, size_t len);

struct store; /* one open database connection */

enum store_open_mode { STORE_RW, STORE_RO };

/* Open (STORE_RW: create if missing) the database at `path`.
 * STORE_RW creates the schema in a new or empty file, switches it to WAL,
 * sets the busy timeout, verifies the whole file (PRAGMA quick_check) and
 * takes the write lock once, so a store that cannot be used is refused here
 * and not half-way through a batch. STORE_RO never writes to the file.
 * Refuses, with a message in err and nothing changed: a file that is not a
 * database or is truncated/malformed (STORE_ECORRUPT), an SQLite file of
 * another program (STORE_ENOTOURS), a schema from a newer sandrun
 * (STORE_EFUTURE), a read-only path or file for STORE_RW (-EROFS), a lock
 * held longer than the busy timeout (STORE_EBUSY), a missing file for
 * STORE_RO (-ENOENT). */
int store_open(const char *path, enum store_open_mode mode, struct store **out,
	       char *err, size_t errlen);
/* Whether `db` names a PostgreSQL store: a libpq connection URI beginning
 * with postgresql:// or postgres:// (including ?host=/socket/dir). Anything
 * else is an SQLite file path. store_open() picks the backend by this. */
bool store_is_postgresql(const char *db);
/* db as it may be shown or recorded: a PostgreSQL URI's password (user
 * info, or a password parameter, percent-encoded keys included) is "***".
 * malloc'd; NULL when out of memory. */
char *store_redact_uri(const char *db);
/* PostgreSQL: a runner whose heartbeat (database time) is older than this is
 * lost, and any runner may reclaim its leases (docs/scale-out.md). SQLite
 * judges liveness by pid and boot id and ignores it. -EINVAL unless > 0. */
#define STORE_LEASE_TIMEOUT_DEFAULT_S 60
int store_set_lease_timeout(struct store *st, int seconds);
/* --retry-delay for this open store: from now on, a store_attempt_finish()
 * whose end.retry puts the item back to pending also sets its not_before
 * to now + retry_delay_for(ms, attempt_no) (SQLite: this host's clock;
 * PostgreSQL: the database's, like heartbeats), and claims skip pending
 * items whose not_before is still to come. 0 (the default): retries are
 * claimable at once. The wait lives in the store, not in the runner, so a
 * runner killed during it leaves an ordinary pending item that any later
 * run claims once its time has come, with nothing counted.
 * store_reclaim_dead() and store_attempt_release() set no wait; enqueue of a
 * changed/forced item and store_retry_failed() clear it. -EINVAL if ms < 0. */
int store_set_retry_delay(struct store *st, int64_t ms);
/* The wait, in ms from now (by the clock the store judges not_before by),
 * until the earliest pending item of spec_key that a retry delay holds back
 * becomes claimable: 0 if one already is, -1 in *wait_ms when none is held
 * back. The runner waits this long instead of ending its batch. */
int store_retry_wait(struct store *st, const char *spec_key, int64_t *wait_ms);
/* After a call failed with -ENOTCONN (the connection to the server was
 * lost: a restart, a failover, a network blip), try once to connect again,
 * with the same URI and session settings: 0 when the store is usable again,
 * -EINPROGRESS while the new connection is being made (it never blocks:
 * call again later, e.g. at the next tick), -ENOTCONN (message set) when
 * this try failed (no answer within 2 s, refused, ...), -ENOMEM. The batch (a TEMP table of the old session) is
 * gone with the session: it is created again empty, and
 * store_batch_counts() then answers -ENODATA. The wake-up connection
 * reconnects apart (store_wakeup_fd). SQLite: 0 (a file has no connection;
 * its calls never fail with -ENOTCONN). */
int store_reconnect(struct store *st);
/* Safe on NULL. */
void store_close(struct store *st);
/* The message of the last failure on this handle ("" if none). */
const char *store_errmsg(const struct store *st);
/* The path or URI it was opened with (for messages). */
const char *store_path(const struct store *st);

/* ---- runs ------------------------------------------------------------ */

/* Insert a runs row for this process: version, argv and job spec (JSON text
 * or NULL), host identity (hostname, boot id, pid namespace), pid and the
 * pid's start time (/proc/self/stat field 22), started = heartbeat = now.
 * Leases taken through store_claim_next() point at this row. */
int store_run_begin(struct store *st, const char *version, const char *argv_json,
		    const char *spec_json, int64_t *run_id);
/* Refresh the run's heartbeat and that of every lease it holds. Call it at
 * least once a minute (see STORE_LEASE_STALE_MS); every few seconds is cheap. */
int store_run_heartbeat(struct store *st, int64_t run_id);
/* how: "completed" or "interrupted"; summary: JSON text or NULL. */
int store_run_end(struct store *st, int64_t run_id, const char *how,
		  const char *summary_json);

/* ---- the queue ------------------------------------------------------- */

/* One input as the runner found it: `path` is its real path (realpath(3));
 * size and mtime from fstat of the opened file. */
struct store_input {
	const char *path;
	int64_t size;
	int64_t mtime_ns;
};

/* Queue inputs for the job spec identified by spec_key (a hash of the job
 * spec: analyzer/command, limits that change results, ...).
 * An item is one real path. A new path becomes pending. An existing item
 *  - whose size, mtime and spec_key are unchanged is left as it is
 *    (done stays done, failed stays failed, pending keeps its budget);
 *  - whose size, mtime or spec_key changed, or any item when `force`, becomes
 *    pending with a fresh attempt budget;
 *  - that is running under a lease is never touched (its runner finishes it;
 *    the next enqueue compares against the identity it ran with).
 * Written in transactions of a few thousand rows, so 100,000 inputs take well
 * under a second and other runners' claims interleave. */
int store_enqueue(struct store *st, const char *spec_key, const struct store_input *in,
		  size_t n, bool force);

/* An input that could not be opened or stat'ed (missing, unreadable, a
 * directory without -r): the item becomes failed with last outcome
 * "input_error" and this message, with no attempt spent, so the batch goes
 * on. Its size/mtime are cleared, so the next enqueue of the path (once it
 * can be stat'ed) makes it pending again. An item running under a lease is
 * left alone. */
int store_record_input_error(struct store *st, const char *spec_key, const char *path,
			     const char *error);

/* For every item 'running' whose lease holder is dead — its runner's pid
 * is gone, is a zombie, or now belongs to a process with another start time;
 * its boot id is not this boot's; or (lease from another pid namespace) its
 * heartbeat is older than STORE_LEASE_STALE_MS — finish the open attempt with
 * outcome "runner_lost" (the attempt was already counted at claim), and put
 * the item back to pending, or to failed once `max_attempts` attempts of its
 * budget are spent. So a file that kills its runner cannot loop forever.
 * Runs whose process is dead and that never ended are marked "lost".
 * Pass max_attempts = retry_max_attempts("runner_lost", retries, mask).
 * *reclaimed (may be NULL) gets the number of items reclaimed. */
int store_reclaim_dead(struct store *st, int max_attempts, int *reclaimed);

struct store_claim {
	int64_t item_id, attempt_id;
	int attempt_no;   /* 1 for the first attempt of the item's budget */
	char *path;       /* malloc'd; store_claim_free() */
};

/* In one BEGIN IMMEDIATE transaction: pick the oldest pending item of this
 * spec_key, make it running under a lease (run_id, this process's pid and
 * start time, heartbeat now), count the attempt (attempts + 1) and insert its
 * attempt row (started_at now). That commit is synced to disk
 * (synchronous=FULL) before the job starts, so an attempt is counted even if
 * the job takes the whole machine down.
 * Returns 1 when claimed (*out filled), 0 when nothing is pending, <0 on error. */
int store_claim_next(struct store *st, int64_t run_id, const char *spec_key,
		     struct store_claim *out);
void store_claim_free(struct store_claim *c);
/* Up to max claims (max >= 1), for a runner with max free slots: each as
 * store_claim_next() makes it — its attempt counted, its own attempt id as
 * fencing token — oldest first into out[0..n-1]. PostgreSQL: one
 * transaction, one statement (FOR UPDATE SKIP LOCKED, LIMIT max).
 * SQLite: store_claim_next() up to max times, one transaction each (its
 * write lock is the whole file's: nothing is gained by holding it longer).
 * Returns n (0: nothing pending), or <0 with nothing claimed (SQLite: an
 * error after some claims returns those; the next call meets it again). */
int store_claim_batch(struct store *st, int64_t run_id, const char *spec_key,
		      struct store_claim *out, int max);

enum store_result_kind { STORE_RESULT_JSON, STORE_RESULT_TEXT, STORE_RESULT_BLOB };

struct store_attempt_end {
	/* "ok","exit_nonzero","signaled","oom","timeout","cpu_limit","seccomp",
	 * "setup_error","output_limit","bad_input","bad_output","runner_lost" */
	const char *outcome;
	int exit_code;                /* -1 when not applicable */
	int signal;                   /* 0 when not applicable */
	const char *syscall;          /* NULL when not applicable */
	int64_t wall_ms, cpu_ms, peak_memory_bytes, oom_kills; /* -1: unknown */
	const char *error;            /* NULL or text */
	const void *stderr_tail;      /* at most STORE_STDERR_TAIL_MAX bytes */
	size_t stderr_len;
	const void *result;           /* the job's stdout (untrusted); kept for "ok"
					 and "damaged" (outcome_succeeded) */
	size_t result_len;
	const void *output;           /* the job's stdout as captured, whatever the
					 outcome (untrusted): its first
					 STORE_OUTPUT_HEAD_MAX bytes are kept with an
					 attempt that does not end ok (bad_output's
					 text, a crash's last words); NULL: none */
	size_t output_len;
	enum store_result_kind result_kind;
	bool retry;                   /* retry_decide(): pending instead of failed */
};

/* Record the end of a claimed attempt, in one transaction: the attempt row,
 * the item's new state (ok, damaged → done; else retry ? pending : failed), its last
 * outcome and error, and for "ok" and "damaged" the result (an idempotent upsert keyed by
 * the item). A JSON result is checked with json_valid() (and for NUL bytes
 * and UTF-8); if it is not valid the attempt's outcome becomes "bad_output",
 * the item becomes failed (retry is ignored: it was decided for "ok"), and
 * *became_bad_output (may be NULL) is set. A TEXT result that is not UTF-8
 * is stored as a BLOB. Returns STORE_ESTALE, changing nothing, if the item
 * is no longer running under this claim (its lease was reclaimed). */
int store_attempt_finish(struct store *st, const struct store_claim *c,
			 const struct store_attempt_end *e, bool *became_bad_output);

/* The runner itself was interrupted (SIGINT/SIGTERM): put the item back to
 * pending without spending the attempt. The attempt row stays, with outcome
 * "interrupted" and counted = 0, and the item's attempts go back down by one.
 * STORE_ESTALE as above. */
int store_attempt_release(struct store *st, const struct store_claim *c);

/* Wake-ups: a descriptor that becomes readable when another process may
 * have made items pending, so an idle runner claims at once instead of at
 * its next poll. PostgreSQL: LISTEN on a second connection of its own; the
 * transaction that queues items or puts them back to pending (retry,
 * release, a retried finish, reclaim) sends NOTIFY before it commits.
 * Returns the descriptor to watch for input (it may change after a failure:
 * watch it again), or -1 when there is none: SQLite (the runner's poll
 * timer is all there is), or the listening connection is down: being
 * connected (it never blocks: each call takes the connect a step further)
 * or waiting out a backoff after a failed try (capped exponential with
 * jitter, 0.5 s to 10 s; a try has 2 s). Call it again later (each tick).
 * Notifications sent while it was down are lost: keep polling too. */
int store_wakeup_fd(struct store *st);
/* Read what arrived on it: the number of notifications (0: none), or <0
 * when the connection was lost: stop watching the descriptor, then call
 * store_wakeup_fd() again later (it closes the old one and reconnects).
 * SQLite: 0. */
int store_wakeup_drain(struct store *st);

/* Items of this spec_key waiting to run. */
int store_count_pending(struct store *st, const char *spec_key, int64_t *n);

/* Whether `len` bytes are a result store_attempt_finish() would accept as
 * JSON (json_valid() in SQL, no NUL, valid UTF-8), so the caller can decide
 * a retry for "bad_output" before finishing. */
int store_result_check_json(struct store *st, const void *buf, size_t len, bool *valid);

/* ---- queries (sandrun status/list/show/export/retry/quarantine) ------ */

struct store_count {
	char *name;
	int64_t n;
};

struct store_status {
	int64_t items, pending, running, done, failed;
	int64_t damaged;              /* done, with last outcome damaged */
	int64_t pending_delayed;      /* pending, held back by --retry-delay until
					 their not_before */
	int64_t running_orphaned;     /* running, but its runner is dead: the next
					 run reclaims them (status never writes) */
	struct store_count *outcomes; /* items by last outcome; name "" = none yet */
	size_t noutcomes;
	int64_t attempts;             /* every attempt row */
	int64_t measured;             /* attempts with resources recorded */
	double wall_ms_mean;
	int64_t wall_ms_max;
	double peak_memory_mean;
	int64_t peak_memory_max;
	/* the most recent run; last_run_id 0 when there has been none */
	int64_t last_run_id;
	char *last_run_version, *last_run_how; /* how: NULL while running; "lost"
						  when its process is dead */
	int64_t last_run_started_ms, last_run_until_ms; /* until: end, else heartbeat */
	int64_t last_run_finished;    /* attempts it finished */
	double last_run_per_second;   /* finished / (until - started) */
};
int store_get_status(struct store *st, struct store_status *out);
void store_status_free(struct store_status *s);

/* One item with its last finished attempt (fields -1/NULL when absent). */
struct store_item_row {
	int64_t id;
	const char *path, *spec_key, *status, *outcome, *error, *quarantined_to;
	int64_t size, mtime_ns;       /* -1 when never stat'ed */
	int attempts;
	int64_t enqueued_ms, updated_ms;
	bool has_attempt;             /* the fields below come from it */
	int exit_code, signal;
	const char *syscall;
	int64_t wall_ms, cpu_ms, peak_memory_bytes, oom_kills;
	const char *running_host;     /* running: its runner's hostname */
	int64_t running_since_ms;     /* running: start of the open attempt; -1 */
	int64_t not_before_ms;        /* pending: not claimed before this time
					 (--retry-delay; ms since the epoch, the
					 store's clock); -1: none */
	const char *result_kind;      /* "json","text","blob" or NULL */
	const void *result;
	size_t result_len;
};

struct store_attempt_row {
	int64_t id, run_id;
	int attempt_no;
	bool counted;
	int64_t started_ms, ended_ms; /* ended -1 while running */
	const char *outcome;          /* NULL while running */
	int exit_code, signal;
	const char *syscall, *error;
	int64_t wall_ms, cpu_ms, peak_memory_bytes, oom_kills;
	const void *stderr_tail;
	size_t stderr_len;
	const void *output_head;      /* STORE_OUTPUT_HEAD_MAX bytes at most; NULL: none */
	size_t output_len;            /* of output_head */
};

/* Callbacks return 0 to go on, or a negative code that stops the iteration
 * and is returned. Row pointers are valid only during the callback. */
typedef int (*store_item_fn)(const struct store_item_row *row, void *ctx);
typedef int (*store_attempt_fn)(const struct store_attempt_row *row, void *ctx);

/* The orders of list --sort (docs/runner.md "Query commands"). Every order
 * ends with the path (bytewise), so both backends give the same rows in
 * the same order. */
enum store_sort {
	STORE_SORT_PATH,      /* path */
	STORE_SORT_MTIME,     /* newest input first (never stat'ed last) */
	STORE_SORT_SIZE,      /* largest first (never stat'ed last) */
	STORE_SORT_WALL,      /* longest last attempt first (none last) */
	STORE_SORT_OUTCOME,   /* last outcome by name (none first) */
	STORE_SORT_ATTEMPTS,  /* most attempts of the current budget first */
	STORE_SORT_UPDATED,   /* most recently changed first */
	STORE_SORT_COUNT
};

struct store_filter {
	const char *status;   /* NULL: any */
	const char *outcome;  /* last outcome; NULL: any */
	bool with_result;     /* fetch the result too */
	enum store_sort sort; /* 0: by path */
	int64_t since_ms;     /* > 0: items changed (updated_at) at or after */
	int64_t run_id;       /* > 0: items with an attempt in that run */
	int64_t limit;        /* > 0: at most that many rows */
	int64_t id;           /* > 0: only the item with that id */
	const char *path_prefix; /* non-NULL: only paths that begin with these
				    bytes (a range of the path index) */
};
/* Items by f (NULL: every item, by path). */
int store_list_items(struct store *st, const struct store_filter *f, store_item_fn fn,
		     void *ctx);
/* One item by exact path, then each of its attempts (oldest first).
 * -ENOENT when the path is not in the store. */
int store_show_item(struct store *st, const char *path, store_item_fn item_fn,
		    store_attempt_fn attempt_fn, void *ctx);
/* The same by item id (list --json and show print it). -ENOENT. */
int store_show_item_id(struct store *st, int64_t id, store_item_fn item_fn,
		       store_attempt_fn attempt_fn, void *ctx);

/* sandrun forget: remove the items at these exact paths with their
 * attempts and results, in one transaction. An item running under a live
 * lease is refused (its runner would record into a hole); one whose
 * holder is dead (the rules of store_reclaim_dead) is removed. For each
 * path, fn(path, status, forgotten, ctx): status NULL when the path is
 * not in the store. dry_run: the same decisions, rolled back. *n gets the
 * number of items removed (or that would be). */
typedef void (*store_forget_fn)(const char *path, const char *status, bool forgotten,
				void *ctx);
int store_forget(struct store *st, const char *const *paths, size_t npaths, bool dry_run,
		 store_forget_fn fn, void *ctx, int64_t *n);

/* sandrun gc: compact the store; nothing a command shows is deleted.
 * SQLite: wal_checkpoint(TRUNCATE), VACUUM, wal_checkpoint(TRUNCATE),
 * PRAGMA optimize; sizes are the file's plus its WAL's. PostgreSQL:
 * VACUUM (ANALYZE) of sandrun's tables; sizes are their
 * pg_total_relation_size (VACUUM without FULL gives space back for reuse,
 * rarely to the file system). before and after: bytes. */
int store_gc(struct store *st, int64_t *before, int64_t *after);

/* Back to pending with a fresh budget: failed items, restricted to those
 * whose last outcome is `outcome` (NULL: any) and, when npaths > 0, to those
 * paths. For each named path that is not reset, not_reset(path, status) is
 * called with its status, or NULL when it is not in the store.
 * *reset gets the number of items reset. One transaction. */
int store_retry_failed(struct store *st, const char *outcome, const char *const *paths,
		       size_t npaths, void (*not_reset)(const char *path, const char *status,
							void *ctx),
		       void *ctx, int64_t *reset);

/* Done items with their results (with_result is implied), ordered by path. */
int store_export(struct store *st, store_item_fn fn, void *ctx);

/* Record where a failed item's input was moved or copied. */
int store_record_quarantine(struct store *st, int64_t item_id, const char *dest);

/* ---- the batch and claim-time input errors (store/store_batch.c) -----
 *
 * The batch is the set of paths one `sandrun run` invocation named: a
 * TEMP table of this connection, so it costs the shared database nothing
 * and vanishes with the process. It deduplicates inputs named twice and
 * lets the run report on exactly its own items at the start and the end.
 */

/* Create the (empty) batch table of this connection. */
int store_batch_open(struct store *st);
/* Add paths to the batch in one transaction; is_new[i] tells whether
 * paths[i] was not in it yet (an input named twice is queued once). */
int store_batch_add(struct store *st, const char *const *paths, size_t n, bool *is_new);

struct store_batch_counts {
	int64_t total;                     /* paths in the batch */
	int64_t pending, running, done, failed;
	int64_t damaged;                   /* done items whose last outcome is damaged */
	int64_t failed_by[OUTCOME_COUNT];  /* failed items by last outcome */
	int64_t failed_other;              /* ... whose outcome is not in the catalog */
	int64_t pending_elsewhere;         /* pending items of spec_key outside the batch */
};
/* -ENODATA (PostgreSQL) when the batch was lost with its session
 * (store_reconnect): the caller reports on what it counted itself. */
int store_batch_counts(struct store *st, const char *spec_key, struct store_batch_counts *out);

/* For the live status line while the batch is still being queued: counts
 * of the batch paths added after *mark (0: all of them), and *mark moved
 * past them, so each chunk is counted once, in O(chunk). Items whose last
 * attempt is run_id's are counted in total but not in done/failed (the
 * run counts its own finishes). pending_elsewhere is left 0. */
int store_batch_counts_since(struct store *st, int64_t run_id, int64_t *mark,
			     struct store_batch_counts *out);

/* Once the batch is complete: the items outside it that this run works on
 * too, so that done/total can reach total: pending items of spec_key, and
 * those run_id holds or has finished (it may have claimed them while the
 * batch was still being queued). */
int store_batch_elsewhere(struct store *st, const char *spec_key, int64_t run_id, int64_t *n);

/* A claimed item whose input could no longer be opened (deleted or
 * replaced since it was queued): in one transaction, end the attempt as
 * "input_error" with counted = 0 (no attempt spent: the job never ran) and
 * make the item failed with that outcome and message, size and mtime
 * cleared, as store_record_input_error() does. STORE_ESTALE if the lease is
 * no longer ours. */
int store_attempt_input_error(struct store *st, const struct store_claim *c, const char *error);

/* ---- the report's reads (report/, docs/report.md) --------------------
 *
 * Pure data for `sandrun report`, the same on both backends: the page
 * aggregates them itself (histograms, percentiles, samples), so what it
 * shows does not depend on either engine's SQL. Row pointers are valid only
 * during the callback; a callback returns 0 to go on or a negative code
 * that stops the walk and is returned. Memory stays flat: rows are walked,
 * never collected here.
 */

/* One consistent snapshot for the reads that follow, until
 * store_read_end() (SQLite: a read transaction; PostgreSQL: REPEATABLE READ
 * READ ONLY). Nothing is written. store_read_end() is safe without a begin. */
int store_read_begin(struct store *st);
void store_read_end(struct store *st);

/* Items by status and last outcome (NULL: none yet), in no particular order. */
typedef int (*store_group_fn)(const char *status, const char *outcome, int64_t n, void *ctx);
int store_item_groups(struct store *st, store_group_fn fn, void *ctx);

struct store_run_fact {
	int64_t id, started_ms, until_ms; /* until: its end, else its last heartbeat */
	const char *how;                  /* NULL while running (or died unseen) */
	const char *interrupted_by;       /* summary.interrupted_by, or NULL */
	const char *hostname, *version;
	bool has_spec;                    /* it recorded its job spec */
	const char *kind;                 /* spec.kind, or NULL */
	double mem_bytes, timeout_ms;     /* spec.limits.*; NAN unless a number */
};
typedef int (*store_run_fn)(const struct store_run_fact *run, void *ctx);
/* Every run, the newest first. */
int store_each_run(struct store *st, store_run_fn fn, void *ctx);

struct store_attempt_fact {
	int64_t id, item_id, run_id;      /* run_id 0 when none */
	const char *outcome;              /* NULL while running */
	bool ended;
	int64_t wall_ms, peak_memory_bytes; /* -1: not recorded */
	const char *path;                 /* the item's path when the attempt ended in
					     anything but "ok", else NULL */
};
typedef int (*store_attempt_fact_fn)(const struct store_attempt_fact *a, void *ctx);
/* Every attempt (without its stderr), by id. */
int store_each_attempt(struct store *st, store_attempt_fact_fn fn, void *ctx);

struct store_failure_row {
	const char *path, *error;         /* error NULL when none */
	int64_t attempts;
	int64_t exit_code, signal;        /* of its last attempt; -1: none */
	const char *syscall;              /* NULL when none */
	int64_t wall_ms, peak_memory_bytes; /* -1: not recorded */
	int64_t stderr_total;             /* bytes of its stderr tail; -1: none */
	const void *stderr_end;           /* the last tail_max of them */
	size_t stderr_len;
};
typedef int (*store_failure_fn)(const struct store_failure_row *row, void *ctx);
/* Failed items whose last outcome is `outcome` (NULL: none recorded), with
 * their last attempt, ordered by path (bytes), at most `limit`. */
int store_failed_items(struct store *st, const char *outcome, size_t tail_max, int64_t limit,
		       store_failure_fn fn, void *ctx);

/* The built-in analyzer's report of a done item: a JSON result with
 * "levels" and "format" objects. A field that is not a JSON number (of a
 * sane size, |x| < 1e250) is NAN: a hostile result may put anything there. */
struct store_audio_row {
	const char *path;
	double lufs, true_peak_dbtp, duration_s, clipped_samples, silence_ratio;
	bool damaged, truncated;          /* damage.* is true (or 1) */
	const char *decoder_error;        /* damage.decoder_error when a string */
};
typedef int (*store_audio_fn)(const struct store_audio_row *row, void *ctx);
/* Every analyzer report of a done item; *results (may be NULL) gets the
 * number of done items with a result of any kind. */
int store_audio_reports(struct store *st, store_audio_fn fn, void *ctx, int64_t *results);

/* ---- job spec identity (runner/spec_guard.c, docs/store.md) ---- */

/* Items per spec key: done ones, and failed ones that were analyzed (not
 * input_error). fn's non-zero return stops and is returned. */
typedef int (*store_spec_count_fn)(const char *spec_key, int64_t done, int64_t failed, void *ctx);
int store_spec_counts(struct store *st, store_spec_count_fn fn, void *ctx);
/* The distinct runs.spec texts, the latest run's first. */
int store_run_specs(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx);
/* Every item of old_key gets new_key (the same spec under a newer key
 * format); *n: how many. One transaction. */
int store_spec_rekey(struct store *st, const char *old_key, const char *new_key, int64_t *n);

/* ---- submissions over the service socket (sandrun serve; docs/serve.md) --
 *
 * A submission is an item like any other (status, list, show, export and
 * report see it), with the identity of the client that sent it and its
 * place in the fair queue. Items queued by store_enqueue() have no
 * queue_seq and sort first, in id order, as before.
 */
struct store_submission {
	const char *path;     /* the spooled copy's real path (the item's key) */
	int64_t size, mtime_ns;
	int64_t uid, gid, pid; /* SO_PEERCRED of the client */
	const char *name;     /* the client's label for it (untrusted text; may be NULL) */
};

/* Queue one submission as a new pending item of spec_key, in one
 * transaction whose commit is synced (synchronous=FULL): once it returns 0
 * the item survives a crash, and the caller may acknowledge it.
 * Fairness (store_schema.c): the item's queue_seq is
 * max(the smallest queue_seq pending, this uid's largest queue_seq pending
 * or running + 1), and claims go by (queue_seq, id): each client's n-th
 * waiting file comes before anyone's (n+1)-th. *item_id and *queue_seq
 * (may be NULL) get the new item's. -EEXIST when the path is an item
 * already. */
int store_submit(struct store *st, const char *spec_key, const struct store_submission *s,
		 int64_t *item_id, int64_t *queue_seq);

/* Who submitted item `id`, its path and status. path is malloc'd (free it).
 * -ENOENT when there is no such item; uid -1 when it was not submitted
 * over the socket. */
struct store_item_client {
	char *path;
	char status[16];
	int64_t uid, gid, pid;
};
int store_item_client(struct store *st, int64_t id, struct store_item_client *out);

/* What client uid `uid` holds in the spool: its submissions that are
 * pending, running or failed (a done one's copy is deleted; a failed one's
 * stays until it is retried or forgotten), their count and bytes. */
int store_client_usage(struct store *st, int64_t uid, int64_t *files, int64_t *bytes);

/* A pending item that will not run: failed, last outcome "input_error"
 * (decided before any attempt, no attempt spent) and `why` as its error.
 * Returns 1 when it was pending and is now failed, 0 when it was not
 * pending (running, done, failed: nothing changed). */
int store_cancel_pending(struct store *st, int64_t id, const char *why);

#endif
