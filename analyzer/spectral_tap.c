/* analyzer/spectral_tap.c — see spectral_tap.h. */
#include "analyzer/spectral_tap.h"

#include "analyzer/report.h"

static void start(void *u, unsigned channels, uint32_t rate)
{
	struct an_spectral_tap *st = u;

	st->started = an_spectral_init(&st->sp, channels, rate) == 0;
}

static void push(void *u, const float *frames, size_t nframes)
{
	struct an_spectral_tap *st = u;

	if (st->started)
		an_spectral_push(&st->sp, frames, nframes);
}

static void finish(void *u, struct an_report *r)
{
	struct an_spectral_tap *st = u;

	r->spectral_asked = true;
	if (!st->started)
		return; /* out of memory: the fields stay null */
	an_spectral_finish(&st->sp, &r->spectral);
	r->spectral_done = true;
	an_spectral_free(&st->sp);
	st->started = false;
}

void an_spectral_tap_init(struct an_spectral_tap *st, const struct an_tap *next)
{
	st->started = false;
	st->tap = (struct an_tap){ .start = start, .push = push, .finish = finish, .u = st, .next = next };
}
