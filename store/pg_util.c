/* store/pg_util.c — what every pg_*.c file uses: statement parameters and
 * array literals, errors (SQLSTATE to store codes, server text made
 * printable), statements, transactions, columns. */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters ------------------------------------------------------- */

void pgp_text(struct pgp *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void pgp_i64(struct pgp *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof p->num[0], "%lld", (long long)v);
	pgp_text(p, p->num[p->n]);
}

void pgp_i64_or_null(struct pgp *p, int64_t v)
{
	if (v < 0)
		pgp_text(p, NULL);
	else
		pgp_i64(p, v);
}

void pgp_bytes(struct pgp *p, const void *b, size_t len)
{
	p->v[p->n] = b ? b : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

/* ---- errors ------------------------------------------------------------ */

void pg_printable(char *buf, size_t len, const char *msg)
{
	size_t o = 0;
	for (const unsigned char *s = (const unsigned char *)(msg ? msg : ""); *s && o + 1 < len; s++) {
		unsigned char c = *s;
		if (c == '\n' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (c == ' ' && (o == 0 || buf[o - 1] == ' '))
			continue;
		buf[o++] = (char)c;
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
}

const char *pg_text(char *buf, size_t len, const char *s)
{
	if (store_utf8_valid(s, strlen(s)))
		return s;
	pg_printable(buf, len, s);
	return buf;
}

static int classify_state(const char *state, const char **advice)
{
	if (!state)
		state = "";
	if (strncmp(state, "08", 2) == 0 || !*state) {
		*advice = "the connection to the server was lost (nothing half-done was committed)";
		return -ENOTCONN;
	}
	/* The server is shutting down or restarting: the session is over. */
	if (!strcmp(state, "57P01") || !strcmp(state, "57P02") || !strcmp(state, "57P03")) {
		*advice = "the server is shutting down or restarting (nothing half-done was committed)";
		return -ENOTCONN;
	}
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03") ||
	    !strcmp(state, "57014")) {
		*advice = "another session held a lock for too long, or the statement timed out; "
			  "run again (or raise SANDRUN_DB_BUSY_TIMEOUT_MS)";
		return STORE_EBUSY;
	}
	if (!strcmp(state, "53100")) {
		*advice = "the server's disk is full; free some space and run again (this command "
			  "changed nothing)";
		return -ENOSPC;
	}
	if (!strcmp(state, "25006")) {
		*advice = "the server is read-only (a standby?); give --db the primary";
		return -EROFS;
	}
	if (!strcmp(state, "42501")) {
		*advice = "permission denied; the user needs rights on the sandrun schema (or "
			  "CREATE on the database to create it)";
		return -EACCES;
	}
	if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2)) {
		*advice = "a value was refused by the schema (a bug in sandrun; please report it)";
		return -EINVAL;
	}
	if (!strncmp(state, "53", 2)) {
		*advice = "the server is out of resources; try again later";
		return -ENOMEM;
	}
	*advice = "unexpected PostgreSQL error";
	return -EIO;
}

int pg_fail(struct store *st, const PGresult *res, const char *what)
{
	const char *advice;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(st->pg->conn) == CONNECTION_BAD)
		state = NULL;
	int code = classify_state(state, &advice);
	char msg[512];
	pg_printable(msg, sizeof msg,
		     res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
							: PQerrorMessage(st->pg->conn));
	snprintf(st->err, sizeof st->err, "database %s: %s: %s: %s", st->path, what, msg, advice);
	return code;
}

/* ---- statements and transactions ---------------------------------------- */

/* res when the statement succeeded; else NULL, *rc and the message set. */
static PGresult *succeeded(struct store *st, PGresult *res, const char *what, int *rc)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return res;
	*rc = pg_fail(st, res, what);
	PQclear(res);
	return NULL;
}

PGresult *pg_run(struct store *st, const char *sql, const struct pgp *p, const char *what,
		 int *rc)
{
	return succeeded(st,
			 PQexecParams(st->pg->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
				      p ? p->len : NULL, p ? p->fmt : NULL, 0),
			 what, rc);
}

PGresult *pg_run_prepared(struct store *st, enum pg_stmt id, const char *sql, const struct pgp *p,
			  const char *what, int *rc)
{
	char name[32];
	snprintf(name, sizeof name, "sandrun_%d", (int)id);
	if (!st->pg->prepared[id]) {
		/* Parameter types are the server's inference, as for pg_run(). */
		PGresult *res = succeeded(st, PQprepare(st->pg->conn, name, sql, p ? p->n : 0, NULL),
					  what, rc);
		if (!res)
			return NULL;
		PQclear(res);
		st->pg->prepared[id] = true;
	}
	return succeeded(st,
			 PQexecPrepared(st->pg->conn, name, p ? p->n : 0, p ? p->v : NULL,
					p ? p->len : NULL, p ? p->fmt : NULL, 0),
			 what, rc);
}

int64_t pg_cmd(struct store *st, const char *sql, const struct pgp *p, const char *what)
{
	int rc = 0;
	PGresult *res = pg_run(st, sql, p, what, &rc);
	if (!res)
		return rc;
	int64_t n = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res)
							    : strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

int pg_int(struct store *st, const char *sql, const struct pgp *p, const char *what,
	   int64_t *out)
{
	int rc = 0;
	PGresult *res = pg_run(st, sql, p, what, &rc);
	if (!res)
		return rc;
	*out = PQntuples(res) > 0 ? pg_col_i64(res, 0, 0, 0) : 0;
	PQclear(res);
	return 0;
}

int pg_begin(struct store *st, const char *what)
{
	int64_t r = pg_cmd(st, "BEGIN", NULL, what);
	return r < 0 ? (int)r : 0;
}

int pg_commit(struct store *st, const char *what)
{
	int64_t r = pg_cmd(st, "COMMIT", NULL, what);
	return r < 0 ? (int)r : 0;
}

void pg_rollback(struct store *st)
{
	if (PQtransactionStatus(st->pg->conn) == PQTRANS_IDLE)
		return;
	char saved[sizeof st->err];
	memcpy(saved, st->err, sizeof saved);
	PQclear(PQexec(st->pg->conn, "ROLLBACK"));
	memcpy(st->err, saved, sizeof saved);
}

int64_t pg_col_i64(const PGresult *r, int row, int col, int64_t if_null)
{
	return PQgetisnull(r, row, col) ? if_null : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

char *pg_col_bytes(const PGresult *r, int row, int col, size_t *len)
{
	size_t n = 0;
	unsigned char *u = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	if (!u)
		return NULL;
	char *out = malloc(n + 1);
	if (out) {
		memcpy(out, u, n);
		out[n] = '\0';
	}
	PQfreemem(u);
	if (len)
		*len = n;
	return out;
}

/* ---- array literals ------------------------------------------------------ */

/* Append `s` (len bytes) to the array literal in *buf as a bytea element in
 * hex: "\\x2f61". */
int pg_arr_bytes(char **buf, size_t *len, size_t *cap, const void *s, size_t n)
{
	size_t need = *len + 2 * n + 8;
	if (need > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		while (ncap < need)
			ncap *= 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	static const char hex[] = "0123456789abcdef";
	char *o = *buf + *len;
	*o++ = *len > 1 ? ',' : '{';
	memcpy(o, "\"\\\\x", 4);
	o += 4;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = ((const unsigned char *)s)[i];
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	*o++ = '"';
	*len = (size_t)(o - *buf);
	return 0;
}

int pg_arr_i64(char **buf, size_t *len, size_t *cap, int64_t v)
{
	if (*len + 24 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	*len += (size_t)snprintf(*buf + *len, *cap - *len, "%s%lld", *len > 1 ? "," : "{",
				 (long long)v);
	return 0;
}

int pg_arr_close(char **buf, size_t *len, size_t *cap)
{
	if (*len == 0 && pg_arr_i64(buf, len, cap, 0) == 0)
		*len = 1; /* "{" */
	if (*len + 2 > *cap) {
		char *nb = realloc(*buf, *cap + 2);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap += 2;
	}
	(*buf)[(*len)++] = '}';
	(*buf)[*len] = '\0';
	return 0;
}

