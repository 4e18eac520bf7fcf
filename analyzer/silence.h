/* analyzer/silence.h — where the silence is: leading and trailing
 * silence, and the silent segments with their start and end times.
 *
 * Built on the levels' silence windows (levels.h): 50 ms windows, back
 * to back, silent when their RMS is below -60 dBFS in every channel. A
 * silent segment is a maximal run of silent windows lasting at least
 * AN_SILENCE_MIN_SEGMENT_S (0.5 s); the leading and trailing silence are
 * runs too when long enough, and are reported on their own whatever
 * their length. Times are window boundaries: multiples of the window
 * length (the last window may be shorter).
 *
 * Constant memory: the first AN_SILENCE_MAX_SEGMENTS segments are kept,
 * the rest only counted. Pure: no I/O, no allocation.
 */
#ifndef SANDRUN_ANALYZER_SILENCE_H
#define SANDRUN_ANALYZER_SILENCE_H

#include <stdbool.h>
#include <stdint.h>

#define AN_SILENCE_MIN_SEGMENT_S 0.5
#define AN_SILENCE_MAX_SEGMENTS 100u

struct an_silence_segment {
	uint64_t start, end;      /* frames, end exclusive */
};

struct an_silence {
	uint64_t min_frames;      /* a run this long is a segment */
	uint64_t pos;             /* frames judged so far */
	bool in_run;
	uint64_t run_start;
	bool heard;               /* a non-silent window has been seen */
	uint64_t leading;         /* frames before the first sound */
	uint64_t last_sound_end;  /* end of the last non-silent window */
	uint64_t segments;        /* all segments, listed or not */
	uint64_t silent_frames;   /* in segments */
	unsigned listed;
	struct an_silence_segment seg[AN_SILENCE_MAX_SEGMENTS];
};

void an_silence_init(struct an_silence *s, uint32_t rate);
/* One closed window of frames frames, silent in every channel or not. */
void an_silence_window(struct an_silence *s, bool silent, uint64_t frames);
/* End of stream: close a run still open. */
void an_silence_finish(struct an_silence *s);
/* Leading and trailing silence in frames (the whole stream when it is
 * all silent: then both are its length). */
uint64_t an_silence_leading(const struct an_silence *s);
uint64_t an_silence_trailing(const struct an_silence *s);

#endif
