/* lib/duration.h — durations as an operator types them (pure).
 *
 *   90  90s  1.5h  10min  1h30m  1h 30min  250ms  2d
 *
 * A plain number is seconds, as timeout(1) reads it; a number may carry a
 * unit, and several may follow each other, as systemd.time(7) writes them.
 * Units: ms msec; s sec second seconds; m min minute minutes; h hr hour
 * hours; d day days. Numbers are decimal with an optional fraction: no
 * sign, exponent, hex, inf or nan. */
#ifndef SANDRUN_LIB_DURATION_H
#define SANDRUN_LIB_DURATION_H

#include <stdint.h>

/* The longest duration accepted: about 31 years, in milliseconds. */
#define SR_DURATION_MAX_MS 1000000000000ULL

/* Parse s into milliseconds (rounded to the nearest; 0 is a valid result,
 * callers that need more say so). Returns 0, -EINVAL for text that is not
 * a duration or -ERANGE for one over SR_DURATION_MAX_MS; then *why, if
 * not NULL, gets a short static reason such as "unknown unit (use ms, s,
 * min, h or d)". */
int sr_parse_duration_ms(const char *s, uint64_t *out_ms, const char **why);

/* The hint that goes with a rejected duration. */
#define SR_DURATION_HINT "e.g. 90 (seconds), 90s, 10min, 1h30m or 1.5h"

#endif
