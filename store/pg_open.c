/* store/pg_open.c — the PostgreSQL backend: telling a URI from a path,
 * connecting (session hygiene, errors a user can act on), the helpers every
 * pg_*.c file uses (parameters, errors, transactions), the ops table. */
#include "store/pg_internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool store_is_postgresql(const char *db)
{
	return db && (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0);
}

/* ---- opening ------------------------------------------------------------- */

/* A query parameter's key, percent-decoded ("%70assword" is "password" to
 * libpq too). */
static bool key_is_password(const char *k, size_t n)
{
	char dec[16];
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof dec - 1; i++) {
		unsigned v;
		if (k[i] == '%' && i + 2 < n + 0 && sscanf(k + i + 1, "%2x", &v) == 1)
			dec[o++] = (char)v, i += 2;
		else
			dec[o++] = k[i];
	}
	dec[o] = '\0';
	return strcmp(dec, "password") == 0;
}

/* Where the URI's secrets are: the user-info password and the value of
 * every password parameter, as [start, end) offsets into uri. */
static size_t find_secrets(const char *uri, size_t (*at)[2], size_t max)
{
	size_t n = 0;
	const char *auth = strstr(uri, "://");
	if (auth) {
		auth += 3;
		const char *at_sign = strchr(auth, '@'), *slash = strchr(auth, '/');
		const char *colon = strchr(auth, ':');
		if (at_sign && (!slash || at_sign < slash) && colon && colon < at_sign && n < max)
			at[n][0] = (size_t)(colon + 1 - uri), at[n][1] = (size_t)(at_sign - uri), n++;
	}
	const char *q = strchr(uri, '?');
	for (const char *p = q ? q + 1 : NULL; p && *p && n < max;) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		if (eq && key_is_password(p, (size_t)(eq - p)))
			at[n][0] = (size_t)(eq + 1 - uri), at[n][1] = (size_t)(p + len - uri), n++;
		p = p[len] ? p + len + 1 : NULL;
	}
	return n;
}

char *store_redact_uri(const char *uri)
{
	size_t sec[8][2];
	size_t n = store_is_postgresql(uri) ? find_secrets(uri, sec, 8) : 0;
	char *d = malloc(strlen(uri) + 3 * n + 1);
	if (!d)
		return NULL;
	size_t o = 0, from = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(d + o, uri + from, sec[i][0] - from);
		o += sec[i][0] - from;
		memcpy(d + o, "***", 3);
		o += 3;
		from = sec[i][1];
	}
	strcpy(d + o, uri + from);
	return d;
}

/* libpq repeats a malformed token in its message ("invalid
 * percent-encoded token: \"s3cr%zzet\""): every secret of the URI in msg
 * becomes ***. */
static void redact_message(char *msg, const char *uri)
{
	size_t sec[8][2];
	size_t n = find_secrets(uri, sec, 8);
	for (size_t i = 0; i < n; i++) {
		size_t len = sec[i][1] - sec[i][0];
		if (len < 3)
			continue;
		char secret[256];
		if (len >= sizeof secret)
			len = sizeof secret - 1;
		memcpy(secret, uri + sec[i][0], len);
		secret[len] = '\0';
		for (char *p = strstr(msg, secret); p; p = strstr(p + 3, secret)) {
			memmove(p + 3, p + len, strlen(p + len) + 1);
			memcpy(p, "***", 3);
		}
	}
}

static int connect_error(struct store *st, const char *uri, char *err, size_t errlen)
{
	char msg[512];
	pg_printable(msg, sizeof msg, PQerrorMessage(st->pg->conn));
	redact_message(msg, uri);
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
		/* Only the claim waits for its WAL to reach the disk (it turns
		 * this on for its own commit, pg_queue.c): SQLite's NORMAL/FULL
		 * split, docs/scale-out.md "Durability". */
		" set_config('synchronous_commit', 'off', false),"
		" coalesce(nullif(current_setting('sandrun.schema', true), ''), 'sandrun')",
		&p, "setting up the session", &rc);
	if (!res)
		return rc;
	const char *schema = PQgetvalue(res, 0, 6);
	bool ok = strlen(schema) < sizeof st->pg->schema && strchr("abcdefghijklmnopqrstuvwxyz_", schema[0]);
	for (const char *c = schema; ok && *c; c++)
		ok = strchr("abcdefghijklmnopqrstuvwxyz0123456789_", *c) != NULL;
	if (ok) {
		snprintf(st->pg->schema, sizeof st->pg->schema, "%s", schema);
		/* at most 63 bytes, as PostgreSQL keeps of a channel name */
		snprintf(st->pg->channel, sizeof st->pg->channel, "sandrun_%s", schema);
	}
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

/* libpq prints the server's notices on stderr as they come, unescaped
 * ("FATAL: terminating connection due to administrator command" when the
 * server shuts down under a runner): server text must not reach a terminal
 * raw, and what matters of it comes back as the failed call's message. */
static void drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGconn *pg_connect(struct store *st, const char *uri, const char *role, const char *timeout_s,
		   bool nonblocking)
{
	char app[128];
	snprintf(app, sizeof app, "sandrun/%.64s/%d%s", st->self.hostname, st->self.pid, role);
	/* Defaults first; the URI (expanded last) overrides any of them. */
	const char *const keys[] = { "fallback_application_name", "connect_timeout", "keepalives",
				     "keepalives_idle", "keepalives_interval", "keepalives_count",
				     "tcp_user_timeout", "dbname", NULL };
	const char *const vals[] = { app, timeout_s, "1", "30", "10", "3", "60000", uri, NULL };
	PGconn *c = nonblocking ? PQconnectStartParams(keys, vals, 1) : PQconnectdbParams(keys, vals, 1);
	if (c)
		PQsetNoticeProcessor(c, drop_notice, NULL);
	return c;
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
	if (!st || !st->pg || !(st->path = store_redact_uri(uri))) {
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
	if (!(st->pg->uri = strdup(uri)) || !(st->pg->conn = pg_connect(st, uri, "", "10", false))) {
		snprintf(err, errlen, "database %s: out of memory", st->path);
		store_close(st);
		return -ENOMEM;
	}
	if (PQstatus(st->pg->conn) != CONNECTION_OK) {
		r = connect_error(st, uri, err, errlen);
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

/* A reconnect gets this long to be answered (PQconnectPoll ignores
 * connect_timeout). */
#define RECONNECT_TIMEOUT_MS 2000

static int reconnect_failed(struct store *st, const char *why)
{
	struct store_pg *pg = st->pg;
	char msg[512];
	pg_printable(msg, sizeof msg, why ? why : PQerrorMessage(pg->connecting));
	redact_message(msg, pg->uri);
	PQfinish(pg->connecting);
	pg->connecting = NULL;
	return store_fail(st, -ENOTCONN, "database %s: cannot reconnect: %s", st->path, msg);
}

bool pg_connect_step(PGconn *c, PostgresPollingStatusType *state)
{
	while (*state == PGRES_POLLING_READING || *state == PGRES_POLLING_WRITING) {
		struct pollfd pfd = { .fd = PQsocket(c),
				      .events = *state == PGRES_POLLING_READING ? POLLIN : POLLOUT };
		if (pfd.fd < 0 || poll(&pfd, 1, 0) == 0)
			return false;
		*state = PQconnectPoll(c);
	}
	return *state == PGRES_POLLING_OK && PQstatus(c) == CONNECTION_OK;
}

/* The server restarted, failed over or the network broke: a new session
 * in place of the old (its settings again; its TEMP batch is gone). The
 * connection is made without blocking the caller's loop (PQconnectStart,
 * then PQconnectPoll whenever its socket is ready: -EINPROGRESS until
 * then). The old connection is dropped only once the new one is up, so a
 * failed try leaves the store as it was: failing fast with -ENOTCONN. */
int pg_reconnect(struct store *st)
{
	struct store_pg *pg = st->pg;
	if (!pg->connecting) {
		if (!(pg->connecting = pg_connect(st, pg->uri, "", "2", true)))
			return store_fail(st, -ENOMEM, "database %s: out of memory", st->path);
		if (PQstatus(pg->connecting) == CONNECTION_BAD)
			return reconnect_failed(st, NULL);
		pg->connect_state = PGRES_POLLING_WRITING; /* libpq: wait for writable first */
		pg->connect_since_ms = store_now_ms();
	}
	bool up = pg_connect_step(pg->connecting, &pg->connect_state);
	if (!up && (pg->connect_state == PGRES_POLLING_FAILED || pg->connect_state == PGRES_POLLING_OK))
		return reconnect_failed(st, NULL);
	if (!up) {
		if (store_now_ms() - pg->connect_since_ms >= RECONNECT_TIMEOUT_MS)
			return reconnect_failed(st, "no answer within 2 s");
		return store_fail(st, -EINPROGRESS, "database %s: reconnecting", st->path);
	}
	PGconn *c = pg->connecting;
	pg->connecting = NULL;
	PQfinish(pg->conn);
	pg->conn = c;
	memset(pg->prepared, 0, sizeof pg->prepared); /* they were the old session's */
	int r = setup_session(st);
	if (r == 0 && pg->batch_open) {
		pg->batch_open = false;
		r = pg_batch_open(st);
		pg->batch_lost = true;
	}
	/* The wake-up connection is likely dead too: try it at once. */
	pg->listen_retry_ms = 0;
	pg->listen_tries = 0;
	return r;
}

static void pg_close(struct store *st)
{
	if (st->pg && st->pg->conn)
		PQfinish(st->pg->conn);
	if (st->pg && st->pg->connecting)
		PQfinish(st->pg->connecting);
	if (st->pg) {
		pg_wakeup_close(st);
		free(st->pg->uri);
	}
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
	.retry_wait = pg_retry_wait,
	.result_check_json = pg_result_check_json,
	.get_status = pg_get_status,
	.list_items = pg_list_items,
	.show_item = pg_show_item,
	.show_item_id = pg_show_item_id,
	.forget = pg_forget,
	.gc = pg_gc,
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
	.read_begin = pg_read_begin,
	.read_end = pg_read_end,
	.item_groups = pg_item_groups,
	.each_run = pg_each_run,
	.each_attempt = pg_each_attempt,
	.failed_items = pg_failed_items,
	.audio_reports = pg_audio_reports,
	.claim_batch = pg_claim_batch,
	.wakeup_fd = pg_wakeup_fd,
	.wakeup_drain = pg_wakeup_drain,
	.submit = pg_submit,
	.item_client = pg_item_client,
	.client_usage = pg_client_usage,
	.cancel_pending = pg_cancel_pending,
	.reconnect = pg_reconnect,
};
