/* store/pg_open.c — the PostgreSQL backend: telling a URI from a path,
 * connecting (session hygiene, errors a user can act on), the helpers every
 * pg_*.c file uses (parameters, errors, transactions), the ops table. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool store_is_postgresql(const char *db)
{
	return db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0);
}

/* ---- opening ------------------------------------------------------------- */

/* The URI as shown in messages: without a password (user:PASSWORD@ or
 * password=...). */
static char *display_uri(const char *uri)
{
	char *d = strdup(uri);
	if (!d)
		return NULL;
	char *auth = strstr(d, "://");
	if (auth) {
		auth += 3;
		char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
		char *colon = strchr(auth, ':');
		if (at && (!slash || at < slash) && colon && colon < at)
			memmove(colon, at, strlen(at) + 1);
	}
	for (char *p = strstr(d, "password="); p; p = strstr(p + 1, "password=")) {
		char *v = p + 9, *end = v + strcspn(v, "&");
		if (end > v) {
			memmove(v + 3, end, strlen(end) + 1);
			memcpy(v, "***", 3);
		}
	}
	return d;
}

static int connect_error(struct store *st, char *err, size_t errlen)
{
	char msg[512];
	pg_printable(msg, sizeof msg, PQerrorMessage(st->pg->conn));
	const char *advice;
	int code;
	if (strstr(msg, "database \"") && strstr(msg, "does not exist")) {
		code = -ENOENT;
		advice = "that database does not exist; create it (createdb) or fix the URI";
	} else if ((strstr(msg, "role \"") && strstr(msg, "does not exist")) ||
		   strstr(msg, "authentication failed") || strstr(msg, "password") ||
		   strstr(msg, "no pg_hba.conf entry")) {
		code = -EACCES;
		advice = "the server refused these credentials; check the user and password (URI, "
			 "PGPASSWORD or ~/.pgpass) and pg_hba.conf";
	} else {
		code = -ECONNREFUSED;
		advice = "cannot reach the server; is it running, and does the URI name the right "
			 "host, port or socket directory?";
	}
	snprintf(err, errlen, "database %s: cannot connect: %s: %s", st->path, msg, advice);
	return code;
}

static int busy_timeout_ms(void)
{
	const char *e = getenv("SANDRUN_DB_BUSY_TIMEOUT_MS");
	long v = e && *e ? strtol(e, NULL, 10) : STORE_BUSY_TIMEOUT_MS;
	return v > 0 && v < 3600000 ? (int)v : STORE_BUSY_TIMEOUT_MS;
}

/* Session settings: a lock waits as long as SQLite's busy timeout; no
 * statement or idle transaction may hold locks for long (a stopped runner
 * must not block the queue); read-only sessions cannot write. Returns the
 * schema name the session asked for (sandrun.schema, default sandrun). */
static int setup_session(struct store *st)
{
	char lock_ms[24];
	snprintf(lock_ms, sizeof lock_ms, "%d", busy_timeout_ms());
	struct pgp p = { 0 };
	pgp_text(&p, lock_ms);
	pgp_text(&p, st->mode == STORE_RO ? "on" : "off");
	int rc = 0;
	PGresult *res = pg_run(
		st,
		"SELECT set_config('lock_timeout', $1, false),"
		" set_config('statement_timeout', '60s', false),"
		" set_config('idle_in_transaction_session_timeout', '60s', false),"
		" set_config('default_transaction_read_only', $2, false),"
		" set_config('client_encoding', 'UTF8', false),"
		" coalesce(nullif(current_setting('sandrun.schema', true), ''), 'sandrun')",
		&p, "setting up the session", &rc);
	if (!res)
		return rc;
	const char *schema = PQgetvalue(res, 0, 5);
	bool ok = strlen(schema) < sizeof st->pg->schema && strchr("abcdefghijklmnopqrstuvwxyz_", schema[0]);
	for (const char *c = schema; ok && *c; c++)
		ok = strchr("abcdefghijklmnopqrstuvwxyz0123456789_", *c) != NULL;
	if (ok)
		snprintf(st->pg->schema, sizeof st->pg->schema, "%s", schema);
	PQclear(res);
	if (!ok)
		return store_fail(st, -EINVAL,
				  "database %s: sandrun.schema must be a lower-case identifier "
				  "([a-z_][a-z0-9_]*, under 64 characters)",
				  st->path);
	p.n = 0;
	pgp_text(&p, st->pg->schema);
	int64_t r = pg_cmd(st, "SELECT set_config('search_path', quote_ident($1), false)", &p,
			   "setting up the session");
	return r < 0 ? (int)r : 0;
}

int pg_open(const char *uri, enum store_open_mode mode, struct store **out, char *err,
	    size_t errlen)
{
	char why[256];
	if (pg_lib_load(why, sizeof why) < 0) {
		snprintf(err, errlen, "database: %s", why);
		return -ENOENT;
	}
	struct store *st = calloc(1, sizeof *st);
	if (st)
		st->pg = calloc(1, sizeof *st->pg);
	if (!st || !st->pg || !(st->path = display_uri(uri))) {
		if (st)
			free(st->pg);
		free(st);
		snprintf(err, errlen, "database: out of memory");
		return -ENOMEM;
	}
	st->ops = &store_pg_ops;
	st->mode = mode;
	st->pg->lease_timeout_ms = STORE_LEASE_TIMEOUT_DEFAULT_S * 1000LL;
	int r = store_read_self(&st->self);
	if (r < 0) {
		snprintf(err, errlen, "database %s: cannot read /proc/self (is /proc mounted?)",
			 st->path);
		store_close(st);
		return r;
	}
	char app[96];
	snprintf(app, sizeof app, "sandrun/%.64s/%d", st->self.hostname, st->self.pid);
	/* Defaults first; the URI (expanded last) overrides any of them. */
	const char *const keys[] = { "fallback_application_name", "connect_timeout", "keepalives",
				     "keepalives_idle", "keepalives_interval", "keepalives_count",
				     "tcp_user_timeout", "dbname", NULL };
	const char *const vals[] = { app, "10", "1", "30", "10", "3", "60000", uri, NULL };
	st->pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!st->pg->conn) {
		snprintf(err, errlen, "database %s: out of memory", st->path);
		store_close(st);
		return -ENOMEM;
	}
	if (PQstatus(st->pg->conn) != CONNECTION_OK) {
		r = connect_error(st, err, errlen);
		store_close(st);
		return r;
	}
	r = setup_session(st);
	if (r == 0)
		r = pg_schema_open(st);
	if (r < 0) {
		snprintf(err, errlen, "%s", st->err);
		store_close(st);
		return r;
	}
	*out = st;
	return 0;
}

static void pg_close(struct store *st)
{
	if (st->pg && st->pg->conn)
		PQfinish(st->pg->conn);
	free(st->pg);
	free(st->path);
	free(st);
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.run_begin = pg_run_begin,
	.run_heartbeat = pg_run_heartbeat,
	.run_end = pg_run_end,
	.enqueue = pg_enqueue,
	.record_input_error = pg_record_input_error,
	.reclaim_dead = pg_reclaim_dead,
	.claim_next = pg_claim_next,
	.attempt_finish = pg_attempt_finish,
	.attempt_release = pg_attempt_release,
	.count_pending = pg_count_pending,
	.result_check_json = pg_result_check_json,
	.get_status = pg_get_status,
	.list_items = pg_list_items,
	.show_item = pg_show_item,
	.retry_failed = pg_retry_failed,
	.export = pg_export,
	.record_quarantine = pg_record_quarantine,
	.batch_open = pg_batch_open,
	.batch_add = pg_batch_add,
	.batch_counts = pg_batch_counts,
	.batch_counts_since = pg_batch_counts_since,
	.batch_elsewhere = pg_batch_elsewhere,
	.attempt_input_error = pg_attempt_input_error,
	.spec_counts = pg_spec_counts,
	.run_specs = pg_run_specs,
	.spec_rekey = pg_spec_rekey,
};
