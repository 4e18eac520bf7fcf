/* runner/serve_req.c — the requests of the service protocol (serve.h;
 * docs/serve.md has every request and answer) and the answers to clients
 * that wait for an item's end. */
#include "runner/serve.h"
#include "lib/fd.h"
#include "lib/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fields a request may carry, by op. Anything else is refused: a request
 * never smuggles a path (or an option) past the server. */
static const char *const submit_fields[] = { "v", "op", "wait", "name", "tag", NULL };
static const char *const id_fields[] = { "v", "op", "id", "tag", NULL };
static const char *const stats_fields[] = { "v", "op", "tag", NULL };

static bool field_allowed(const char *const *allowed, const char *key)
{
	for (; *allowed; allowed++)
		if (strcmp(*allowed, key) == 0)
			return true;
	return false;
}

/* A field that names a file is the one refusal with its own code: the
 * server never opens what a client names (docs/serve.md "Security"). */
static bool names_a_path(const char *key, json_t *v)
{
	static const char *const path_keys[] = { "path", "file", "filename", "paths", "files", "dir", NULL };
	return field_allowed(path_keys, key) || (json_is_string(v) && json_string_value(v)[0] == '/' &&
						 strcmp(key, "name") != 0);
}

static json_t *check_fields(json_t *req, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		char shown[96];
		sr_text_escape_name(key, strlen(key), shown, sizeof shown);
		if (names_a_path(key, v))
			return serve_error("path_refused", "the server never opens a path a client names "
					   "(field '%s'): send the open file as an SCM_RIGHTS descriptor with the "
					   "submit line", shown);
		if (!field_allowed(allowed, key))
			return serve_error("bad_request", "unknown field '%s' for this request", shown);
	}
	return NULL;
}

static json_t *answer(const char *op, json_t *req)
{
	json_t *a = json_pack("{s:i, s:b, s:s}", "v", SERVE_PROTOCOL, "ok", 1, "op", op);
	json_t *tag = json_object_get(req, "tag");
	if (a && tag)
		json_object_set(a, "tag", tag);
	return a;
}

static void send_with_tag(struct serve *s, struct serve_conn *c, json_t *req, json_t *a)
{
	json_t *tag = req ? json_object_get(req, "tag") : NULL;
	if (a && tag && !json_object_get(a, "tag"))
		json_object_set(a, "tag", tag);
	serve_send(s, c, a);
}

bool serve_may_see(const struct serve *s, const struct ucred *who, int64_t item_uid)
{
	(void)s;
	return who->uid == 0 || who->uid == geteuid() || (item_uid >= 0 && (uid_t)item_uid == who->uid);
}

/* ---- submit ---------------------------------------------------------- */

static uint64_t serve_reserved_bytes(const struct serve *s, const struct serve_conn *c);

/* The per-uid spool quota (--quota-files, --quota-bytes): what this
 * client's uid holds in the spool (store_client_usage: pending, running,
 * failed), its copies under way, and `more` bytes about to be added. The
 * server's own uid is not counted against. NULL when within it. */
static json_t *over_quota(struct serve *s, const struct serve_conn *c, int64_t more)
{
	if (c->cred.uid == geteuid() || (!s->o->quota_files && !s->o->quota_bytes))
		return NULL;
	int64_t files, bytes;
	if (store_client_usage(s->st, c->cred.uid, &files, &bytes) < 0) {
		progress_message(s->progress, "%s", store_errmsg(s->st));
		return serve_error("store_error", "counting this client's files failed; nothing was queued");
	}
	bytes += (int64_t)serve_reserved_bytes(s, c);
	for (int i = 0; i < s->nconns; i++)
		files += s->conns[i].used && s->conns[i].sp.on && &s->conns[i] != c &&
			 s->conns[i].cred.uid == c->cred.uid;
	bool too_many = s->o->quota_files && files + 1 > s->o->quota_files;
	/* before the copy: no room left at all; after: the file fits */
	bool too_big = s->o->quota_bytes && (more ? bytes + more > s->o->quota_bytes : bytes >= s->o->quota_bytes);
	if (!too_many && !too_big)
		return NULL;
	json_t *e = serve_error("quota", "uid %u holds %lld files (%lld bytes) in this server's spool, pending, "
				"running or failed; it may hold %lld files and %lld bytes (--quota-files, "
				"--quota-bytes; 0 is no limit): wait for its files to end, and have failed ones "
				"retried or forgotten", (unsigned)c->cred.uid, (long long)files, (long long)bytes,
				(long long)s->o->quota_files, (long long)s->o->quota_bytes);
	json_object_set_new(e, "retry_after_ms", json_integer(SERVE_RETRY_AFTER_MS));
	return e;
}

/* Bytes the copies under way of c's uid (but c's own) may still write:
 * each one's limit, reserved of the quota until it ends. */
static uint64_t serve_reserved_bytes(const struct serve *s, const struct serve_conn *c)
{
	uint64_t n = 0;
	for (int i = 0; i < s->nconns; i++) {
		const struct serve_conn *o = &s->conns[i];
		if (o->used && o->sp.on && o != c && o->cred.uid == c->cred.uid)
			n += o->sp.limit;
	}
	return n;
}

static int copies_of(const struct serve *s, uid_t uid)
{
	int n = 0;
	for (int i = 0; i < s->nconns; i++)
		n += s->conns[i].used && s->conns[i].sp.on && s->conns[i].cred.uid == uid;
	return n;
}

/* The most the copy of c's next file may write: --max-size, or what is
 * left of its uid's --quota-bytes (its files in the spool, and the limits
 * of its copies under way: they are reserved, so concurrent copies cannot
 * together take it past its quota). 0: nothing left, or unknown. */
static uint64_t copy_limit(struct serve *s, const struct serve_conn *c)
{
	if (c->cred.uid == geteuid() || !s->o->quota_bytes)
		return s->o->max_size;
	int64_t files, bytes;
	if (store_client_usage(s->st, c->cred.uid, &files, &bytes) < 0)
		return 0;
	int64_t left = s->o->quota_bytes - bytes - (int64_t)serve_reserved_bytes(s, c);
	return left <= 0 ? 0 : (uint64_t)left < s->o->max_size ? (uint64_t)left : s->o->max_size;
}

static bool add_wait(struct serve_conn *c, int64_t id, json_t *tag)
{
	if (c->nwaits == c->capwaits) {
		size_t cap = c->capwaits ? c->capwaits * 2 : 8;
		struct serve_wait *p = realloc(c->waits, cap * sizeof *p);
		if (!p)
			return false;
		c->waits = p;
		c->capwaits = cap;
	}
	c->waits[c->nwaits++] = (struct serve_wait){ id, json_incref(tag) };
	return true;
}

static void submit(struct serve *s, struct serve_conn *c, json_t *req)
{
	json_t *err = check_fields(req, submit_fields);
	json_t *wait = json_object_get(req, "wait"), *name = json_object_get(req, "name");
	if (!err && ((wait && !json_is_boolean(wait)) || (name && !json_is_string(name))))
		err = serve_error("bad_request", "wait is true or false, name a string");
	if (!err && name && json_string_length(name) > SERVE_NAME_MAX)
		err = serve_error("bad_request", "name is longer than %d bytes", SERVE_NAME_MAX);
	struct serve_waiter w;
	bool has_fd = serve_take_waiter(c, &w);
	if (!err && !has_fd)
		err = serve_error("no_fd", "a submit carries the file as one SCM_RIGHTS descriptor sent with "
				  "its line (sendmsg); none came");
	/* Busy is answered at once, before a byte is copied. The count kept
	 * in memory only ever errs high here (items of this spec that `run`,
	 * `retry` or `forget` changed in the same store): before refusing,
	 * the store's own count. */
	if (!err && s->outstanding + s->nspooling >= s->o->max_queue) {
		int64_t n;
		if (store_count_pending(s->st, s->js->key, &n) == 0)
			s->outstanding = n + progress_counts(s->progress)->running;
	}
	if (!err)
		err = over_quota(s, c, 0);
	size_t stuck = err ? 0 : serve_stuck_helpers(s, c->cred.uid);
	if (stuck >= SERVE_STUCK_PER_UID) {
		err = serve_error("busy", "%zu processes of this server are still stuck on files uid %u sent (a "
				  "file system that stalls, such as FUSE under an overlay?); retry later", stuck,
				  (unsigned)c->cred.uid);
		json_object_set_new(err, "retry_after_ms", json_integer(SERVE_RETRY_AFTER_MS));
	}
	/* Copies of one uid at once: each may hold a process on a stalled
	 * file until --spool-timeout, and reserves bytes of its quota. */
	int copies = err || c->cred.uid == geteuid() ? 0 : copies_of(s, c->cred.uid);
	if (copies >= SERVE_COPIES_PER_UID) {
		err = serve_error("busy", "%d copies of files uid %u sent are under way, the most one uid may "
				  "have at once; retry later", copies, (unsigned)c->cred.uid);
		json_object_set_new(err, "retry_after_ms", json_integer(SERVE_RETRY_AFTER_MS));
	}
	uint64_t limit = err ? 0 : copy_limit(s, c);
	if (!err && limit == 0)
		err = over_quota(s, c, 1);
	if (!err && s->outstanding + s->nspooling >= s->o->max_queue) {
		s->refused_busy++;
		err = serve_error("busy", "the queue is full (%lld files waiting or running, --max-queue %d); "
				  "retry later", (long long)(s->outstanding + s->nspooling), s->o->max_queue);
		json_object_set_new(err, "retry_after_ms", json_integer(SERVE_RETRY_AFTER_MS));
	}
	if (err) {
		if (has_fd) /* its waiting child is not needed */
			serve_spool_drop_waiter(s, c, &w);
		return send_with_tag(s, c, req, err);
	}
	/* The copy is its waiting child's (serve_spool.c); the answer comes
	 * when it ends, and this client's next requests wait for it. */
	int r = serve_spool_start(s, c, &w, limit, req, serve_spool_data(s, c));
	if (r < 0)
		send_with_tag(s, c, req, serve_error("spool_error", "cannot start the copy of the file: %s; "
						     "nothing was queued", strerror(-r)));
}

void serve_spooled(struct serve *s, struct serve_conn *c, json_t *req, const char *spooled, const struct stat *st,
		   json_t *err)
{
	if (!c->used) { /* gone meanwhile: nothing acknowledged, nothing kept */
		if (spooled)
			unlinkat(s->spool_fd, spooled, 0);
		json_decref(err);
		return;
	}
	if (!spooled)
		return send_with_tag(s, c, req, err);
	/* the size is known now: the bytes checked again */
	if ((err = over_quota(s, c, st->st_size))) {
		unlinkat(s->spool_fd, spooled, 0);
		return send_with_tag(s, c, req, err);
	}
	json_t *wait = json_object_get(req, "wait"), *name = json_object_get(req, "name");
	char path[PATH_MAX + SERVE_SPOOL_NAME_LEN + 2];
	snprintf(path, sizeof path, "%s/%s", s->spool_path, spooled);
	struct store_submission sub = {
		.path = path, .size = st->st_size,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		.uid = c->cred.uid, .gid = c->cred.gid, .pid = c->cred.pid,
		.name = name ? json_string_value(name) : NULL,
	};
	int64_t id = 0, seq = 0;
	if (store_submit(s->st, s->js->key, &sub, &id, &seq) < 0) {
		unlinkat(s->spool_fd, spooled, 0); /* not acknowledged: not kept */
		progress_message(s->progress, "%s", store_errmsg(s->st));
		return send_with_tag(s, c, req, serve_error("store_error", "the store refused the file; "
							     "nothing was queued (see the server's log)"));
	}
	s->outstanding++;
	s->submitted++;
	if (json_is_true(wait) && add_wait(c, id, json_object_get(req, "tag")))
		return; /* the answer comes with the item's end (serve_on_finish) */
	json_t *a = answer("submit", req);
	json_object_set_new(a, "id", json_integer(id));
	json_object_set_new(a, "status", json_string("pending"));
	json_object_set_new(a, "queue_seq", json_integer(seq));
	json_object_set_new(a, "size", json_integer(st->st_size));
	serve_send(s, c, a);
}

/* ---- status, cancel -------------------------------------------------- */

struct item_answer {
	json_t *a;
};

/* The result as JSON when it is (checked by the store), a string when it
 * is UTF-8 text, else only its size. */
static void put_result(json_t *a, const char *kind, const void *res, size_t len)
{
	json_t *v = NULL;
	if (res && kind && strcmp(kind, "json") == 0)
		v = json_loadb(res, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	else if (res && kind && strcmp(kind, "text") == 0)
		v = json_stringn(res, len);
	if (v)
		json_object_set_new(a, "result", v);
	else if (res)
		json_object_set_new(a, "result_bytes", json_integer((json_int_t)len));
}

static int item_row(const struct store_item_row *row, void *ctx)
{
	json_t *a = ((struct item_answer *)ctx)->a;
	json_object_set_new(a, "status", json_string(row->status));
	json_object_set_new(a, "attempts", json_integer(row->attempts));
	if (row->outcome)
		json_object_set_new(a, "outcome", json_string(row->outcome));
	if (row->error)
		json_object_set_new(a, "error", json_string(row->error));
	if (row->has_attempt) {
		if (row->exit_code >= 0)
			json_object_set_new(a, "exit_code", json_integer(row->exit_code));
		if (row->signal > 0)
			json_object_set_new(a, "signal", json_integer(row->signal));
		if (row->syscall)
			json_object_set_new(a, "syscall", json_string(row->syscall));
		if (row->wall_ms >= 0)
			json_object_set_new(a, "wall_ms", json_integer(row->wall_ms));
		if (row->peak_memory_bytes >= 0)
			json_object_set_new(a, "peak_memory_bytes", json_integer(row->peak_memory_bytes));
	}
	if (row->outcome && strcmp(row->status, "done") == 0)
		put_result(a, row->result_kind, row->result, row->result_len);
	return 0;
}

static int no_attempt(const struct store_attempt_row *row, void *ctx)
{
	(void)row, (void)ctx;
	return 0;
}

/* The item's state as a status answer, or an error (not found, not yours). */
static json_t *item_state(struct serve *s, struct serve_conn *c, json_t *req, int64_t id, const char *op)
{
	struct store_item_client ic;
	int r = store_item_client(s->st, id, &ic);
	if (r == -ENOENT || (r == 0 && !serve_may_see(s, &c->cred, ic.uid))) {
		free(r == 0 ? ic.path : NULL);
		/* another client's item is "not found" too: ids are not secret,
		 * but what others submit is none of this client's business */
		return serve_error("not_found", "no item %lld of yours", (long long)id);
	}
	if (r < 0)
		return serve_error("store_error", "reading item %lld failed (see the server's log)", (long long)id);
	json_t *a = answer(op, req);
	json_object_set_new(a, "id", json_integer(id));
	struct item_answer ia = { a };
	r = store_show_item(s->st, ic.path, item_row, no_attempt, &ia);
	free(ic.path);
	if (r < 0) {
		json_decref(a);
		return serve_error("store_error", "reading item %lld failed (see the server's log)", (long long)id);
	}
	return a;
}

static int64_t request_id(json_t *req, json_t **err, const char *const *fields)
{
	*err = check_fields(req, fields);
	json_t *id = json_object_get(req, "id");
	if (!*err && (!json_is_integer(id) || json_integer_value(id) <= 0))
		*err = serve_error("bad_request", "id is the positive whole number a submit answered");
	return *err ? 0 : json_integer_value(id);
}

static void status(struct serve *s, struct serve_conn *c, json_t *req)
{
	json_t *err;
	int64_t id = request_id(req, &err, id_fields);
	send_with_tag(s, c, req, err ? err : item_state(s, c, req, id, "status"));
}

/* An item left the queue bound. Items another command put back to
 * pending (sandrun retry) were never counted in: never below zero. */
static void one_less(struct serve *s)
{
	if (s->outstanding > 0)
		s->outstanding--;
}

static bool remember_cancel(struct serve *s, int64_t id)
{
	if (s->ncancels == s->capcancels) {
		size_t cap = s->capcancels ? s->capcancels * 2 : 8;
		int64_t *p = realloc(s->cancels, cap * sizeof *p);
		if (!p)
			return false;
		s->cancels = p;
		s->capcancels = cap;
	}
	s->cancels[s->ncancels++] = id;
	return true;
}

static void answer_waiters(struct serve *s, int64_t id);

/* A pending item ends failed here and now; a running one is stopped, and
 * ends so once the loop has released it (serve_on_finish). */
static void cancel(struct serve *s, struct serve_conn *c, json_t *req)
{
	json_t *err;
	int64_t id = request_id(req, &err, id_fields);
	json_t *state = err ? NULL : item_state(s, c, req, id, "cancel");
	if (err || !json_is_true(json_object_get(state, "ok")))
		return send_with_tag(s, c, req, err ? err : state);
	char st[16];
	snprintf(st, sizeof st, "%s", json_string_value(json_object_get(state, "status")));
	json_decref(state);
	char why[128];
	snprintf(why, sizeof why, "cancelled by uid %u before it ran: not analyzed", (unsigned)c->cred.uid);
	int r = 0;
	if (strcmp(st, "pending") == 0 && (r = store_cancel_pending(s->st, id, why)) == 1) {
		one_less(s);
		s->failed++;
		answer_waiters(s, id);
		return send_with_tag(s, c, req, item_state(s, c, req, id, "cancel"));
	}
	if (r < 0)
		return send_with_tag(s, c, req, serve_error("store_error", "cancelling item %lld failed",
							     (long long)id));
	if (strcmp(st, "running") == 0 && s->loop && remember_cancel(s, id)) {
		if (loop_stop_item(s->loop, id) == 1) {
			json_t *a = answer("cancel", req);
			json_object_set_new(a, "id", json_integer(id));
			json_object_set_new(a, "status", json_string("running"));
			json_object_set_new(a, "stopping", json_true());
			return serve_send(s, c, a);
		}
		/* Not running here (another runner's, or just finished): a
		 * remembered id would fail the item if it came back to us. */
		s->ncancels--;
	}
	send_with_tag(s, c, req, serve_error("finished", "item %lld is %s: nothing to cancel", (long long)id, st));
}

/* ---- stats ----------------------------------------------------------- */

static void stats(struct serve *s, struct serve_conn *c, json_t *req)
{
	json_t *err = check_fields(req, stats_fields);
	if (err)
		return send_with_tag(s, c, req, err);
	int64_t pending = 0;
	if (store_count_pending(s->st, s->js->key, &pending) < 0)
		return send_with_tag(s, c, req, serve_error("store_error", "counting the queue failed"));
	json_t *a = answer("stats", req), *by = json_object();
	for (int i = 0; i < OUTCOME_COUNT; i++)
		if (s->by_outcome[i])
			json_object_set_new(by, outcome_name((enum outcome)i), json_integer(s->by_outcome[i]));
	int clients = 0;
	for (int i = 0; i < s->nconns; i++)
		clients += s->conns[i].used;
	int64_t running = s->outstanding - pending;
	json_object_set_new(a, "queued", json_integer(pending));
	json_object_set_new(a, "running", json_integer(running > 0 ? running : 0));
	json_object_set_new(a, "jobs", json_integer(s->jobs));
	json_object_set_new(a, "max_queue", json_integer(s->o->max_queue));
	json_object_set_new(a, "clients", json_integer(clients));
	json_object_set_new(a, "submitted", json_integer(s->submitted));
	json_object_set_new(a, "refused_busy", json_integer(s->refused_busy));
	json_object_set_new(a, "done", json_integer(s->done));
	json_object_set_new(a, "failed", json_integer(s->failed));
	json_object_set_new(a, "outcomes", by);
	serve_send(s, c, a);
}

void serve_request(struct serve *s, struct serve_conn *c, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	json_error_t je;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	const char *op = json_string_value(json_object_get(req, "op"));
	json_t *v = json_object_get(req, "v");
	if (!json_is_object(req) || !op)
		serve_send(s, c, serve_error("bad_request", "each line is one JSON object with an \"op\" "
					     "(submit, status, cancel, stats): %s", req ? "no op" : je.text));
	else if (v && (!json_is_integer(v) || json_integer_value(v) != SERVE_PROTOCOL))
		send_with_tag(s, c, req, serve_error("bad_version", "this server speaks protocol version %d",
						     SERVE_PROTOCOL));
	else if (strcmp(op, "submit") == 0)
		submit(s, c, req);
	else if (strcmp(op, "status") == 0)
		status(s, c, req);
	else if (strcmp(op, "cancel") == 0)
		cancel(s, c, req);
	else if (strcmp(op, "stats") == 0)
		stats(s, c, req);
	else
		send_with_tag(s, c, req, serve_error("bad_request", "unknown op (submit, status, cancel, stats)"));
	json_decref(req);
}

/* ---- an item's end --------------------------------------------------- */

/* Every client waiting for id gets its state, read from the store. */
static void answer_waiters(struct serve *s, int64_t id)
{
	for (int i = 0; i < s->nconns; i++) {
		struct serve_conn *c = &s->conns[i];
		for (size_t w = 0; c->used && w < c->nwaits; w++) {
			if (c->waits[w].id != id)
				continue;
			struct serve_wait sw = c->waits[w];
			c->waits[w--] = c->waits[--c->nwaits];
			json_t *a = item_state(s, c, NULL, id, "result");
			if (a && json_is_true(json_object_get(a, "ok")))
				json_object_set_new(a, "op", json_string("result"));
			if (a && sw.tag)
				json_object_set(a, "tag", sw.tag);
			json_decref(sw.tag);
			serve_send(s, c, a);
		}
	}
}

static bool take_cancel(struct serve *s, int64_t id)
{
	for (size_t i = 0; i < s->ncancels; i++)
		if (s->cancels[i] == id) {
			s->cancels[i] = s->cancels[--s->ncancels];
			return true;
		}
	return false;
}

void serve_on_finish(void *ctx, const struct loop_finish *lf)
{
	struct serve *s = ctx;
	const struct progress_finished *f = lf->f;
	bool cancelled = strcmp(f->status, "pending") == 0 && take_cancel(s, lf->item_id);
	if (cancelled) {
		char why[96];
		snprintf(why, sizeof why, "cancelled by a client while it ran: not counted");
		if (store_cancel_pending(s->st, lf->item_id, why) == 1) {
			one_less(s);
			s->failed++;
			answer_waiters(s, lf->item_id);
		}
		return;
	}
	bool done = strcmp(f->status, "done") == 0, failed = strcmp(f->status, "failed") == 0;
	if (!done && !failed)
		return; /* retried or released: it runs again */
	one_less(s);
	done ? s->done++ : s->failed++;
	int o = outcome_from_name(f->outcome);
	if (o >= 0)
		s->by_outcome[o]++;
	answer_waiters(s, lf->item_id);
	/* A done item's copy has served its purpose; a failed one's stays
	 * for `sandrun show`, retry and quarantine (docs/serve.md). */
	const char *base = strrchr(f->path, '/');
	if (done && base)
		unlinkat(s->spool_fd, base + 1, 0);
}
