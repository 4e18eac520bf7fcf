/* store/pg_internal.h — the PostgreSQL backend's private header (store/pg_*.c
 * only): the connection, the parameter builder, errors, transactions.
 * docs/scale-out.md describes the backend; docs/store.md the contract. */
#ifndef SANDRUN_PG_INTERNAL_H
#define SANDRUN_PG_INTERNAL_H

#include "store/store_internal.h"

#include "store/pg_lib.h" /* <libpq-fe.h>, and PQ* through the loaded table */

/* Schema version this build writes in a PostgreSQL store (meta.schema_version).
 * 2 added results.value_json_text (docs/scale-out.md "Schema"), 3
 * attempts.output_head (issue 15), 4 (serve) the items' client identity and
 * queue_seq (docs/serve.md), 5 items.not_before (--retry-delay), 6 the
 * maintained counts item_counts (docs/scale-out.md "Counts"). */
#define PG_SCHEMA_VERSION 6

/* The hot path's statements, prepared once per session (pg_run_prepared):
 * parsed and planned once, then each call sends only its parameters. */
enum pg_stmt { PG_STMT_CLAIM, PG_STMT_FINISH, PG_STMT_HEARTBEAT, PG_STMT_COUNT };

struct store_pg {
	PGconn *conn;
	char schema[64];        /* validated identifier: [a-z_][a-z0-9_]* */
	int64_t lease_timeout_ms;
	bool batch_open;        /* pg_batch_open() made the session's batch table */
	bool batch_lost;        /* ... and a reconnect lost it (pg_reconnect) */
	int schema_version;     /* of the open store: older only for a read-only
				   open of a store no read-write open has upgraded yet */
	char *uri;              /* as given (the wake-up connection opens it too) */
	char channel[64];       /* NOTIFY channel of this schema: "sandrun_<schema>" */
	PGconn *listen;         /* the wake-up connection (pg_wake.c), or NULL */
	bool listen_broken;     /* lost: replaced by the next pg_wakeup_fd() */
	bool listen_ready;      /* connected and LISTENing (else being connected) */
	PostgresPollingStatusType listen_state;
	int64_t listen_since_ms; /* its connect began (a try has 2 s) */
	int64_t listen_retry_ms; /* no reconnect before this (CLOCK_REALTIME ms) */
	int listen_tries;       /* failed reconnects of it in a row (the backoff) */
	bool prepared[PG_STMT_COUNT]; /* in this session (a reconnect clears them) */
	PGconn *connecting;     /* a reconnect in progress (pg_reconnect), or NULL */
	PostgresPollingStatusType connect_state;
	int64_t connect_since_ms;
};

/* Parameters of one statement: text values, or binary bytea (format 1).
 * SQL is always parameterized; never built from data. */
#define PGP_MAX 24
struct pgp {
	int n;
	const char *v[PGP_MAX];
	int len[PGP_MAX];
	int fmt[PGP_MAX];
	char num[PGP_MAX][24];
};
void pgp_text(struct pgp *p, const char *s);          /* NULL: SQL NULL */
void pgp_i64(struct pgp *p, int64_t v);
void pgp_i64_or_null(struct pgp *p, int64_t v);       /* v < 0: NULL */
void pgp_bytes(struct pgp *p, const void *b, size_t len); /* bytea, binary */

/* Array literals for unnest(): append an element to *buf (growing it), then
 * close it ("{...}"). -ENOMEM on failure. Bytes are bytea in hex. */
int pg_arr_bytes(char **buf, size_t *len, size_t *cap, const void *s, size_t n);
int pg_arr_i64(char **buf, size_t *len, size_t *cap, int64_t v);
int pg_arr_close(char **buf, size_t *len, size_t *cap);

/* Run one statement; on success the result (PGRES_COMMAND_OK or
 * PGRES_TUPLES_OK; PQclear it), on failure NULL with *rc set and the
 * message written (rolled back by the caller). */
PGresult *pg_run(struct store *st, const char *sql, const struct pgp *p, const char *what,
		 int *rc);
/* pg_run() for a statement of the hot path: prepared in this session at
 * its first use (name "sandrun_<id>"), then executed by name. */
PGresult *pg_run_prepared(struct store *st, enum pg_stmt id, const char *sql, const struct pgp *p,
			  const char *what, int *rc);
/* A statement whose rows are ignored; returns the number of rows it
 * affected or returned, or <0. */
int64_t pg_cmd(struct store *st, const char *sql, const struct pgp *p, const char *what);
/* The first column of the first row as an integer (0 when NULL). */
int pg_int(struct store *st, const char *sql, const struct pgp *p, const char *what,
	   int64_t *out);

/* Map a failed result (SQLSTATE) or the connection's state to a store code,
 * write "database URI: what: server message: advice", return the code. */
int pg_fail(struct store *st, const PGresult *res, const char *what);

int pg_begin(struct store *st, const char *what);
int pg_commit(struct store *st, const char *what);
void pg_rollback(struct store *st); /* keeps the message of the failure */

/* Column helpers over a text-format result. */
int64_t pg_col_i64(const PGresult *r, int row, int col, int64_t if_null);
/* A bytea column (text format "\x..."): malloc'd bytes, NUL-terminated. */
char *pg_col_bytes(const PGresult *r, int row, int col, size_t *len);

/* Copy server text into buf as printable ASCII: control characters,
 * DEL and every byte >= 0x80 become '?', the trailing newline goes (the
 * message reaches a terminal; docs/scale-out.md). */
void pg_printable(char *buf, size_t len, const char *msg);

/* Text for a text column: `s` itself when it is UTF-8 (PostgreSQL refuses
 * anything else), else its pg_printable() copy in buf. */
const char *pg_text(char *buf, size_t len, const char *s);

/* pg_schema.c: create or check the schema (version, ours, newer refused). */
int pg_schema_open(struct store *st);

/* The PostgreSQL ops (pg_open.c) and their implementations. */
extern const struct store_ops store_pg_ops;
int pg_open(const char *uri, enum store_open_mode mode, struct store **out, char *err,
	    size_t errlen);
int pg_run_begin(struct store *st, const char *version, const char *argv_json,
		 const char *spec_json, int64_t *run_id);
int pg_run_heartbeat(struct store *st, int64_t run_id);
int pg_run_end(struct store *st, int64_t run_id, const char *how, const char *summary_json);
int pg_enqueue(struct store *st, const char *spec_key, const struct store_input *in, size_t n,
	       bool force);
int pg_record_input_error(struct store *st, const char *spec_key, const char *path,
			  const char *error);
int pg_claim_next(struct store *st, int64_t run_id, const char *spec_key,
		  struct store_claim *out);
int pg_claim_batch(struct store *st, int64_t run_id, const char *spec_key,
		   struct store_claim *out, int max);
int pg_result_check_json(struct store *st, const void *buf, size_t len, bool *valid);
int pg_attempt_finish(struct store *st, const struct store_claim *c,
		      const struct store_attempt_end *e, bool *became_bad_output);
int pg_attempt_release(struct store *st, const struct store_claim *c);
int pg_count_pending(struct store *st, const char *spec_key, int64_t *n);
int pg_retry_wait(struct store *st, const char *spec_key, int64_t *wait_ms);
int pg_reclaim_dead(struct store *st, int max_attempts, int *reclaimed);
int pg_attempt_input_error(struct store *st, const struct store_claim *c, const char *error);
int pg_batch_open(struct store *st);
int pg_batch_add(struct store *st, const char *const *paths, size_t n, bool *is_new);
int pg_batch_counts(struct store *st, const char *spec_key, struct store_batch_counts *out);
int pg_batch_counts_since(struct store *st, int64_t run_id, int64_t *mark,
			  struct store_batch_counts *out);
int pg_batch_elsewhere(struct store *st, const char *spec_key, int64_t run_id, int64_t *n);
int pg_spec_counts(struct store *st, store_spec_count_fn fn, void *ctx);
int pg_run_specs(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx);
int pg_spec_rekey(struct store *st, const char *old_key, const char *new_key, int64_t *n);
int pg_submit(struct store *st, const char *spec_key, const struct store_submission *s, int64_t *item_id, int64_t *queue_seq);
int pg_item_client(struct store *st, int64_t id, struct store_item_client *out);
int pg_client_usage(struct store *st, int64_t uid, int64_t *files, int64_t *bytes);
int pg_cancel_pending(struct store *st, int64_t id, const char *why);
int pg_get_status(struct store *st, struct store_status *out);
int pg_list_items(struct store *st, const struct store_filter *f, store_item_fn fn, void *ctx);
int pg_show_item(struct store *st, const char *path, store_item_fn item_fn,
		 store_attempt_fn attempt_fn, void *ctx);
int pg_show_item_id(struct store *st, int64_t id, store_item_fn item_fn,
		    store_attempt_fn attempt_fn, void *ctx);
int pg_forget(struct store *st, const char *const *paths, size_t npaths, bool dry_run,
	      store_forget_fn fn, void *ctx, int64_t *n);
int pg_gc(struct store *st, int64_t *before, int64_t *after);
int pg_retry_failed(struct store *st, const char *outcome, const char *const *paths,
		    size_t npaths, void (*not_reset)(const char *path, const char *status, void *ctx),
		    void *ctx, int64_t *reset);
int pg_export(struct store *st, store_item_fn fn, void *ctx);
int pg_record_quarantine(struct store *st, int64_t item_id, const char *dest);
/* Connect to uri with sandrun's session defaults (application_name,
 * keepalives, tcp_user_timeout); `role` is appended to the application
 * name ("" for the main connection). NULL only when out of memory. */
PGconn *pg_connect(struct store *st, const char *uri, const char *role, const char *timeout_s,
		   bool nonblocking); /* nonblocking: PQconnectStartParams */
/* Drive a connection started without blocking as far as its socket
 * allows, never waiting (PQconnectPoll while poll() says ready; *state
 * starts at PGRES_POLLING_WRITING): true once connected. Not connected
 * yet: *state _READING/_WRITING (call again later) or _FAILED. */
bool pg_connect_step(PGconn *c, PostgresPollingStatusType *state);
/* A new main connection after the old one was lost (pg_open.c). */
int pg_reconnect(struct store *st);
/* Wake-ups (pg_wake.c). */
int pg_wakeup_fd(struct store *st);
int pg_wakeup_drain(struct store *st);
void pg_wakeup_close(struct store *st);

/* The report's reads (pg_report.c). */
int pg_read_begin(struct store *st);
void pg_read_end(struct store *st);
int pg_item_groups(struct store *st, store_group_fn fn, void *ctx);
int pg_each_run(struct store *st, store_run_fn fn, void *ctx);
int pg_each_attempt(struct store *st, store_attempt_fact_fn fn, void *ctx);
int pg_failed_items(struct store *st, const char *outcome, size_t tail_max, int64_t limit,
		    store_failure_fn fn, void *ctx);
int pg_audio_reports(struct store *st, store_audio_fn fn, void *ctx, int64_t *results);
/* Runs judged dead (pg_reclaim.c): ids of runs not ended whose heartbeat is
 * older than the lease timeout in database time, or (same host) whose
 * process is gone. malloc'd array. */
int pg_dead_runs(struct store *st, int64_t **ids, size_t *n);

#endif
