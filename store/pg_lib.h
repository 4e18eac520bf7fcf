/* store/pg_lib.h — libpq, loaded only when a PostgreSQL store is opened.
 *
 * libpq links about twenty libraries (TLS, Kerberos, LDAP, SASL ...);
 * loading them at every start cost each `sandrun exec`, `status` or `list`
 * on SQLite about 3.5 ms (bench/ab.sh). So sandrun does not link it:
 * pg_lib_load() dlopens libpq.so.5 the first time a PostgreSQL URI is
 * opened, and the backend's PQ* calls go through this table. The types
 * come from <libpq-fe.h> at build time (libpq-dev); at run time only a
 * PostgreSQL user needs libpq5. */
#ifndef SANDRUN_PG_LIB_H
#define SANDRUN_PG_LIB_H

#include <libpq-fe.h>
#include <stddef.h>

#define PG_LIB_FUNCS(X)                                                                  \
	X(PQclear) X(PQcmdTuples) X(PQconnectdbParams) X(PQerrorMessage) X(PQexec)       \
	X(PQexecParams) X(PQfinish) X(PQfreemem) X(PQgetisnull) X(PQgetlength)            \
	X(PQgetvalue) X(PQntuples) X(PQresultErrorField) X(PQresultErrorMessage)          \
	X(PQresultStatus) X(PQstatus) X(PQtransactionStatus) X(PQunescapeBytea)          \
	X(PQsocket) X(PQconsumeInput) X(PQnotifies) X(PQsetNoticeProcessor)  \
	X(PQprepare) X(PQexecPrepared) X(PQconnectStartParams) X(PQconnectPoll)

struct pg_lib {
#define PG_LIB_MEMBER(f) __typeof__(&f) f;
	PG_LIB_FUNCS(PG_LIB_MEMBER)
#undef PG_LIB_MEMBER
};
extern struct pg_lib pg_lib;

/* Load libpq once per process: 0, or -ENOENT with what is missing in err. */
int pg_lib_load(char *err, size_t errlen);

#ifndef PG_LIB_IMPL
#define PQclear (pg_lib.PQclear)
#define PQcmdTuples (pg_lib.PQcmdTuples)
#define PQconnectdbParams (pg_lib.PQconnectdbParams)
#define PQerrorMessage (pg_lib.PQerrorMessage)
#define PQexec (pg_lib.PQexec)
#define PQexecParams (pg_lib.PQexecParams)
#define PQfinish (pg_lib.PQfinish)
#define PQfreemem (pg_lib.PQfreemem)
#define PQgetisnull (pg_lib.PQgetisnull)
#define PQgetlength (pg_lib.PQgetlength)
#define PQgetvalue (pg_lib.PQgetvalue)
#define PQntuples (pg_lib.PQntuples)
#define PQresultErrorField (pg_lib.PQresultErrorField)
#define PQresultErrorMessage (pg_lib.PQresultErrorMessage)
#define PQresultStatus (pg_lib.PQresultStatus)
#define PQstatus (pg_lib.PQstatus)
#define PQtransactionStatus (pg_lib.PQtransactionStatus)
#define PQunescapeBytea (pg_lib.PQunescapeBytea)
#define PQsocket (pg_lib.PQsocket)
#define PQconsumeInput (pg_lib.PQconsumeInput)
#define PQnotifies (pg_lib.PQnotifies)
#define PQsetNoticeProcessor (pg_lib.PQsetNoticeProcessor)
#define PQprepare (pg_lib.PQprepare)
#define PQexecPrepared (pg_lib.PQexecPrepared)
#define PQconnectStartParams (pg_lib.PQconnectStartParams)
#define PQconnectPoll (pg_lib.PQconnectPoll)
#endif

#endif
