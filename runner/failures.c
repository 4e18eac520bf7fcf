/* runner/failures.c — the retry delay's table and --halt's threshold. See
 * failures.h. */
#include "runner/failures.h"

#include <stdlib.h>

uint64_t failures_retry_delay(uint64_t delay_ms, int attempt_no)
{
	uint64_t d = delay_ms;
	for (int i = 1; i < attempt_no && d < FAILURES_RETRY_DELAY_CAP_MS; i++)
		d *= 2;
	return d < FAILURES_RETRY_DELAY_CAP_MS ? d : FAILURES_RETRY_DELAY_CAP_MS;
}

bool failures_halt(int halt_fails, int halt_percent, int64_t failed, int64_t finished)
{
	if (halt_fails)
		return failed >= halt_fails;
	return halt_percent && finished >= FAILURES_HALT_MIN_FINISHED && failed * 100 >= (int64_t)halt_percent * finished;
}

static void remove_at(struct retry_waits *w, size_t i)
{
	if (w->v[i].held)
		w->nheld--;
	w->v[i] = w->v[--w->n];
}

void retry_waits_add(struct retry_waits *w, int64_t item_id, uint64_t due_ms)
{
	struct retry_wait *v = realloc(w->v, (w->n + 1) * sizeof *v);
	if (!v)
		return;
	w->v = v;
	v[w->n++] = (struct retry_wait){ .item_id = item_id, .due_ms = due_ms };
}

bool retry_waits_hold(struct retry_waits *w, const struct store_claim *claim, uint64_t now_ms)
{
	for (size_t i = 0; i < w->n; i++) {
		struct retry_wait *d = &w->v[i];
		if (d->held || d->item_id != claim->item_id)
			continue;
		if (now_ms >= d->due_ms) {
			remove_at(w, i);
			return false;
		}
		d->held = true;
		d->claim = *claim;
		w->nheld++;
		return true;
	}
	return false;
}

bool retry_waits_take(struct retry_waits *w, uint64_t now_ms, bool due_only, struct store_claim *out)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].held && (!due_only || now_ms >= w->v[i].due_ms)) {
			*out = w->v[i].claim;
			remove_at(w, i);
			return true;
		}
	return false;
}

void retry_waits_free(struct retry_waits *w)
{
	struct store_claim c;
	while (retry_waits_take(w, 0, false, &c))
		store_claim_free(&c);
	free(w->v);
	*w = (struct retry_waits){ 0 };
}
