/* store/store_api.c — the public functions of store/store.h: choose the
 * backend when opening (store_open), then hand every call to the open
 * store's ops table (store_internal.h, "the backend seam"). Nothing here
 * knows SQL. */
#include "store/pg_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static bool nonempty(const char *s)
{
	return s && *s;
}

int store_open(const char *path, enum store_open_mode mode, struct store **out, char *err,
	       size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (store_is_postgresql(path))
		return pg_open(path, mode, out, err, errlen);
	return sq_open(path, mode, out, err, errlen);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

int store_run_begin(struct store *st, const char *version, const char *argv_json,
		    const char *spec_json, int64_t *run_id)
{
	return st->ops->run_begin(st, version, argv_json, spec_json, run_id);
}

int store_run_heartbeat(struct store *st, int64_t run_id)
{
	return st->ops->run_heartbeat(st, run_id);
}

int store_run_end(struct store *st, int64_t run_id, const char *how, const char *summary_json)
{
	if (!how || (strcmp(how, "completed") != 0 && strcmp(how, "interrupted") != 0))
		return store_fail(st, -EINVAL,
				  "database %s: run end: how must be completed or interrupted",
				  st->path);
	return st->ops->run_end(st, run_id, how, summary_json);
}

int store_enqueue(struct store *st, const char *spec_key, const struct store_input *in,
		  size_t n, bool force)
{
	if (!nonempty(spec_key))
		return store_fail(st, -EINVAL, "database %s: enqueue: empty spec key", st->path);
	for (size_t i = 0; i < n; i++)
		if (!nonempty(in[i].path))
			return store_fail(st, -EINVAL, "database %s: enqueue: input %zu has no path",
					  st->path, i);
	return st->ops->enqueue(st, spec_key, in, n, force);
}

int store_record_input_error(struct store *st, const char *spec_key, const char *path,
			     const char *error)
{
	if (!nonempty(spec_key) || !nonempty(path))
		return store_fail(st, -EINVAL, "database %s: input error: empty path or spec key",
				  st->path);
	return st->ops->record_input_error(st, spec_key, path, error);
}

int store_reclaim_dead(struct store *st, int max_attempts, int *reclaimed)
{
	return st->ops->reclaim_dead(st, max_attempts, reclaimed);
}

int store_claim_next(struct store *st, int64_t run_id, const char *spec_key,
		     struct store_claim *out)
{
	memset(out, 0, sizeof *out);
	if (!nonempty(spec_key))
		return store_fail(st, -EINVAL, "database %s: claim: empty spec key", st->path);
	return st->ops->claim_next(st, run_id, spec_key, out);
}

int store_attempt_finish(struct store *st, const struct store_claim *c,
			 const struct store_attempt_end *e, bool *became_bad_output)
{
	if (became_bad_output)
		*became_bad_output = false;
	int o = e->outcome ? outcome_from_name(e->outcome) : -EINVAL;
	if (o < 0 || o == OUTCOME_INPUT_ERROR)
		return store_fail(st, -EINVAL, "database %s: finishing an attempt: outcome '%s' %s",
				  st->path, e->outcome ? e->outcome : "(null)",
				  o < 0 ? "is unknown" : "is not an attempt's outcome");
	if (e->stderr_len > STORE_STDERR_TAIL_MAX)
		return store_fail(st, -EINVAL,
				  "database %s: stderr tail of %zu bytes (at most %d; trim it)",
				  st->path, e->stderr_len, STORE_STDERR_TAIL_MAX);
	return st->ops->attempt_finish(st, c, e, became_bad_output);
}

int store_attempt_release(struct store *st, const struct store_claim *c)
{
	return st->ops->attempt_release(st, c);
}

int store_count_pending(struct store *st, const char *spec_key, int64_t *n)
{
	return st->ops->count_pending(st, spec_key, n);
}

int store_result_check_json(struct store *st, const void *buf, size_t len, bool *valid)
{
	return st->ops->result_check_json(st, buf, len, valid);
}

int store_get_status(struct store *st, struct store_status *out)
{
	return st->ops->get_status(st, out);
}

int store_list_items(struct store *st, const struct store_filter *f, store_item_fn fn,
		     void *ctx)
{
	return st->ops->list_items(st, f, fn, ctx);
}

int store_show_item(struct store *st, const char *path, store_item_fn item_fn,
		    store_attempt_fn attempt_fn, void *ctx)
{
	return st->ops->show_item(st, path, item_fn, attempt_fn, ctx);
}

int store_show_item_id(struct store *st, int64_t id, store_item_fn item_fn,
		       store_attempt_fn attempt_fn, void *ctx)
{
	if (id <= 0)
		return store_fail(st, -ENOENT, "item %lld: not in the store %s", (long long)id,
				  st->path);
	return st->ops->show_item_id(st, id, item_fn, attempt_fn, ctx);
}

int store_forget(struct store *st, const char *const *paths, size_t npaths, bool dry_run,
		 store_forget_fn fn, void *ctx, int64_t *n)
{
	*n = 0;
	for (size_t i = 0; i < npaths; i++)
		if (!nonempty(paths[i]))
			return store_fail(st, -EINVAL, "database %s: forget: an empty path", st->path);
	return st->ops->forget(st, paths, npaths, dry_run, fn, ctx, n);
}

int store_gc(struct store *st, int64_t *before, int64_t *after)
{
	*before = *after = -1;
	return st->ops->gc(st, before, after);
}

const char *store_order_sql(enum store_sort sort, bool postgresql)
{
	static const char *const order[STORE_SORT_COUNT] = {
		[STORE_SORT_PATH] = "i.path",
		[STORE_SORT_MTIME] = "i.mtime_ns IS NULL, i.mtime_ns DESC, i.path",
		[STORE_SORT_SIZE] = "i.size IS NULL, i.size DESC, i.path",
		[STORE_SORT_WALL] = "a.wall_ms IS NULL, a.wall_ms DESC, i.path",
		[STORE_SORT_OUTCOME] = "coalesce(i.last_outcome, ''), i.path",
		[STORE_SORT_ATTEMPTS] = "i.attempts DESC, i.path",
		[STORE_SORT_UPDATED] = "i.updated_at DESC, i.path",
	};
	if ((unsigned)sort >= STORE_SORT_COUNT)
		sort = STORE_SORT_PATH;
	if (postgresql && sort == STORE_SORT_OUTCOME)
		return "coalesce(i.last_outcome, '') COLLATE \"C\", i.path";
	return order[sort];
}

int store_prefix_upper(const char *prefix, char **upper)
{
	size_t n = strlen(prefix);
	while (n && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	*upper = NULL;
	if (!n)
		return 0;
	if (!(*upper = strndup(prefix, n)))
		return -ENOMEM;
	(*upper)[n - 1] = (char)((unsigned char)(*upper)[n - 1] + 1);
	return 0;
}

int store_retry_failed(struct store *st, const char *outcome, const char *const *paths,
		       size_t npaths,
		       void (*not_reset)(const char *path, const char *status, void *ctx),
		       void *ctx, int64_t *reset)
{
	return st->ops->retry_failed(st, outcome, paths, npaths, not_reset, ctx, reset);
}

int store_export(struct store *st, store_item_fn fn, void *ctx)
{
	return st->ops->export(st, fn, ctx);
}

int store_record_quarantine(struct store *st, int64_t item_id, const char *dest)
{
	return st->ops->record_quarantine(st, item_id, dest);
}

int store_batch_open(struct store *st)
{
	return st->ops->batch_open(st);
}

int store_batch_add(struct store *st, const char *const *paths, size_t n, bool *is_new)
{
	return st->ops->batch_add(st, paths, n, is_new);
}

int store_batch_counts(struct store *st, const char *spec_key, struct store_batch_counts *out)
{
	return st->ops->batch_counts(st, spec_key, out);
}

int store_batch_counts_since(struct store *st, int64_t run_id, int64_t *mark,
			     struct store_batch_counts *out)
{
	return st->ops->batch_counts_since(st, run_id, mark, out);
}

int store_batch_elsewhere(struct store *st, const char *spec_key, int64_t run_id, int64_t *n)
{
	return st->ops->batch_elsewhere(st, spec_key, run_id, n);
}

int store_attempt_input_error(struct store *st, const struct store_claim *c, const char *error)
{
	return st->ops->attempt_input_error(st, c, error);
}

int store_set_lease_timeout(struct store *st, int seconds)
{
	if (seconds <= 0)
		return store_fail(st, -EINVAL, "database %s: the lease timeout must be positive",
				  st->path);
	if (st->pg)
		st->pg->lease_timeout_ms = seconds * 1000LL;
	return 0;
}

int store_set_retry_delay(struct store *st, int64_t ms)
{
	if (ms < 0)
		return store_fail(st, -EINVAL, "database %s: the retry delay cannot be negative",
				  st->path);
	st->retry_delay_ms = ms;
	return 0;
}

int store_retry_wait(struct store *st, const char *spec_key, int64_t *wait_ms)
{
	*wait_ms = -1;
	return st->ops->retry_wait(st, spec_key ? spec_key : "", wait_ms);
}

int store_spec_counts(struct store *st, store_spec_count_fn fn, void *ctx)
{
	return st->ops->spec_counts(st, fn, ctx);
}

int store_run_specs(struct store *st, int (*fn)(const char *spec, void *ctx), void *ctx)
{
	return st->ops->run_specs(st, fn, ctx);
}

int store_spec_rekey(struct store *st, const char *old_key, const char *new_key, int64_t *n)
{
	return st->ops->spec_rekey(st, old_key, new_key, n);
}

int store_read_begin(struct store *st)
{
	return st->ops->read_begin(st);
}

void store_read_end(struct store *st)
{
	st->ops->read_end(st);
}

int store_item_groups(struct store *st, store_group_fn fn, void *ctx)
{
	return st->ops->item_groups(st, fn, ctx);
}

int store_each_run(struct store *st, store_run_fn fn, void *ctx)
{
	return st->ops->each_run(st, fn, ctx);
}

int store_each_attempt(struct store *st, store_attempt_fact_fn fn, void *ctx)
{
	return st->ops->each_attempt(st, fn, ctx);
}

int store_failed_items(struct store *st, const char *outcome, size_t tail_max, int64_t limit,
		       store_failure_fn fn, void *ctx)
{
	if (limit < 0)
		return store_fail(st, -EINVAL, "database %s: failed items: negative limit", st->path);
	return st->ops->failed_items(st, outcome, tail_max, limit, fn, ctx);
}

int store_audio_reports(struct store *st, store_audio_fn fn, void *ctx, int64_t *results)
{
	return st->ops->audio_reports(st, fn, ctx, results);
}

int store_wakeup_fd(struct store *st)
{
	return st->ops->wakeup_fd ? st->ops->wakeup_fd(st) : -1;
}

int store_wakeup_drain(struct store *st)
{
	return st->ops->wakeup_drain ? st->ops->wakeup_drain(st) : 0;
}

uint32_t store_jitter(void)
{
	uint32_t r;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
		return r;
	return (uint32_t)getpid() * 2654435761u ^ (uint32_t)store_now_ms();
}

int store_reconnect(struct store *st)
{
	return st->ops->reconnect ? st->ops->reconnect(st) : 0;
}

int store_claim_batch(struct store *st, int64_t run_id, const char *spec_key,
		      struct store_claim *out, int max)
{
	if (max < 1 || !nonempty(spec_key))
		return store_fail(st, -EINVAL, "database %s: claim: max < 1 or an empty spec key",
				  st->path);
	if (st->ops->claim_batch)
		return st->ops->claim_batch(st, run_id, spec_key, out, max);
	int n = 0;
	while (n < max) {
		int r = st->ops->claim_next(st, run_id, spec_key, &out[n]);
		if (r < 0 && n == 0)
			return r;
		if (r <= 0)
			break;
		n++;
	}
	return n;
}

int store_submit(struct store *st, const char *spec_key, const struct store_submission *s,
		 int64_t *item_id, int64_t *queue_seq)
{
	if (!nonempty(spec_key) || !s || !nonempty(s->path))
		return store_fail(st, -EINVAL, "database %s: submit: a spec key and a path are needed",
				  st->path);
	int64_t id = 0, seq = 0;
	int r = st->ops->submit(st, spec_key, s, &id, &seq);
	if (r == 0 && item_id)
		*item_id = id;
	if (r == 0 && queue_seq)
		*queue_seq = seq;
	return r;
}

int store_client_usage(struct store *st, int64_t uid, int64_t *files, int64_t *bytes)
{
	*files = *bytes = 0;
	return st->ops->client_usage(st, uid, files, bytes);
}

int store_item_client(struct store *st, int64_t id, struct store_item_client *out)
{
	*out = (struct store_item_client){ .uid = -1, .gid = -1, .pid = -1 };
	return st->ops->item_client(st, id, out);
}

int store_cancel_pending(struct store *st, int64_t id, const char *why)
{
	return st->ops->cancel_pending(st, id, why ? why : "cancelled before it ran");
}
