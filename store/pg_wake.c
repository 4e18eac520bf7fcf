/* store/pg_wake.c — wake-ups on PostgreSQL: LISTEN on a second connection
 * of the store's own, whose socket the runner watches in its epoll loop.
 * The transactions that make items pending (pg_queue.c, pg_reclaim.c,
 * pg_query.c) send pg_notify(channel, spec_key) before they commit, so a
 * notification never arrives before the items can be claimed. The
 * connection never holds a transaction (LISTEN is all it runs), so a
 * stopped runner holds back nothing. Notifications sent while it is down
 * are lost: the runner keeps its poll timer (docs/scale-out.md "Wake-ups"). */
#include "store/pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After a failed connect, no new try before a capped exponential backoff
 * with jitter (retry_backoff_ms): a server that is down must not stall the
 * runner's loop on every tick, and runners cut off together must not come
 * back in one burst. The poll timer covers the wait. */
#define RECONNECT_BASE_MS 500
#define RECONNECT_CAP_MS 10000

void pg_wakeup_close(struct store *st)
{
	if (st->pg->listen)
		PQfinish(st->pg->listen);
	st->pg->listen = NULL;
	st->pg->listen_broken = false;
	st->pg->listen_ready = false;
}

int pg_wakeup_fd(struct store *st)
{
	struct store_pg *pg = st->pg;
	if (pg->listen && pg->listen_ready && !pg->listen_broken)
		return PQsocket(pg->listen);
	if (pg->listen_broken)
		pg_wakeup_close(st); /* its watcher has let go of it */
	int64_t now = store_now_ms();
	if (!pg->listen) {
		if (!pg->uri || !pg->channel[0] || now < pg->listen_retry_ms)
			return -1;
		pg->listen_retry_ms = now + retry_backoff_ms(RECONNECT_BASE_MS, RECONNECT_CAP_MS,
							     ++pg->listen_tries, store_jitter());
		/* Made without blocking the runner's loop: stepped at each call. */
		pg->listen = pg_connect(st, pg->uri, "/listen", "2", true);
		pg->listen_state = PGRES_POLLING_WRITING;
		pg->listen_since_ms = now;
		if (!pg->listen || PQstatus(pg->listen) == CONNECTION_BAD) {
			pg_wakeup_close(st);
			return -1;
		}
	}
	if (!pg_connect_step(pg->listen, &pg->listen_state)) {
		if (pg->listen_state == PGRES_POLLING_FAILED || pg->listen_state == PGRES_POLLING_OK ||
		    now - pg->listen_since_ms >= 2000)
			pg_wakeup_close(st); /* failed, or no answer within 2 s: after the backoff */
		return -1;
	}
	char sql[96];
	/* The channel is "sandrun_" and a validated identifier (pg_open.c). */
	snprintf(sql, sizeof sql, "LISTEN \"%s\"", pg->channel);
	PGresult *res = PQexec(pg->listen, sql);
	bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		pg_wakeup_close(st);
		return -1;
	}
	pg->listen_tries = 0;
	pg->listen_ready = true;
	return PQsocket(pg->listen);
}

int pg_wakeup_drain(struct store *st)
{
	struct store_pg *pg = st->pg;
	if (!pg->listen || !pg->listen_ready || pg->listen_broken)
		return -ENOTCONN;
	if (!PQconsumeInput(pg->listen) || PQstatus(pg->listen) != CONNECTION_OK) {
		/* Kept open until the next store_wakeup_fd(): the caller stops
		 * watching its descriptor first. */
		pg->listen_broken = true;
		return -EIO;
	}
	int n = 0;
	for (PGnotify *nt; (nt = PQnotifies(pg->listen)); n++)
		PQfreemem(nt);
	return n;
}
