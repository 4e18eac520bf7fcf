/* analyzer/silence.c — see silence.h. */
#include "analyzer/silence.h"

#include <math.h>
#include <string.h>

void an_silence_init(struct an_silence *s, uint32_t rate)
{
	memset(s, 0, sizeof(*s));
	double f = round(AN_SILENCE_MIN_SEGMENT_S * rate);
	s->min_frames = f < 1.0 ? 1 : (uint64_t)f;
}

static void close_run(struct an_silence *s)
{
	uint64_t len = s->pos - s->run_start;

	s->in_run = false;
	if (len < s->min_frames)
		return;
	if (s->listed < AN_SILENCE_MAX_SEGMENTS)
		s->seg[s->listed++] = (struct an_silence_segment){ s->run_start, s->pos };
	s->segments++;
	s->silent_frames += len;
}

void an_silence_window(struct an_silence *s, bool silent, uint64_t frames)
{
	if (silent && !s->in_run) {
		s->in_run = true;
		s->run_start = s->pos;
	} else if (!silent && s->in_run) {
		close_run(s);
	}
	if (!silent && !s->heard) {
		s->heard = true;
		s->leading = s->pos;
	}
	s->pos += frames;
	if (!silent)
		s->last_sound_end = s->pos;
}

void an_silence_finish(struct an_silence *s)
{
	if (s->in_run)
		close_run(s);
}

uint64_t an_silence_leading(const struct an_silence *s)
{
	return s->heard ? s->leading : s->pos;
}

uint64_t an_silence_trailing(const struct an_silence *s)
{
	return s->heard ? s->pos - s->last_sound_end : s->pos;
}
