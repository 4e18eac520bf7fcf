/* lib/duration.c — see duration.h. */
#include "lib/duration.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static const struct {
	const char *name;
	double ms;
} units[] = {
	{ "ms", 1 },          { "msec", 1 },       { "s", 1000 },          { "sec", 1000 },
	{ "second", 1000 },   { "seconds", 1000 }, { "m", 60000 },         { "min", 60000 },
	{ "minute", 60000 },  { "minutes", 60000 }, { "h", 3600000 },      { "hr", 3600000 },
	{ "hour", 3600000 },  { "hours", 3600000 }, { "d", 86400000 },     { "day", 86400000 },
	{ "days", 86400000 },
};

static int fail(const char **why, const char *reason, int err)
{
	if (why)
		*why = reason;
	return err;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One "NUMBER[UNIT]" at *p: its milliseconds, *p moved past it. */
static int component(const char **pp, double *ms, const char **why)
{
	const char *p = *pp;
	double v = 0, scale = 1;
	int digits = 0;
	for (; is_digit(*p); p++, digits++)
		v = v * 10 + (*p - '0');
	if (*p == '.')
		for (p++; is_digit(*p); p++, digits++)
			v += (*p - '0') * (scale /= 10);
	if (digits == 0)
		return fail(why, is_alpha(*p) ? "a unit needs a number before it" : "not a number", -EINVAL);
	const char *num_end = p;
	while (*p == ' ') /* "1 minute" */
		p++;
	const char *u = p;
	while (is_alpha(*p))
		p++;
	double unit = 1000; /* no unit: seconds */
	if (p == u && *num_end && *num_end != ' ')
		return fail(why, "not a number", -EINVAL); /* "1..5", "5,5" */
	if (p == u) {
		p = num_end;
	} else {
		unit = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0] && !unit; i++)
			if (strlen(units[i].name) == (size_t)(p - u) && memcmp(units[i].name, u, (size_t)(p - u)) == 0)
				unit = units[i].ms;
		if (!unit)
			return fail(why, "unknown unit (use ms, s, min, h or d)", -EINVAL);
	}
	*ms = v * unit;
	*pp = p;
	return 0;
}

int sr_parse_duration_ms(const char *s, uint64_t *out_ms, const char **why)
{
	if (!s)
		return fail(why, "empty", -EINVAL);
	const char *p = s;
	double total = 0;
	int n = 0;
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		double ms;
		int r = component(&p, &ms, why);
		if (r < 0)
			return r;
		total += ms;
		n++;
		if (!isfinite(total) || total > (double)SR_DURATION_MAX_MS)
			return fail(why, "too long (at most 31 years)", -ERANGE);
	}
	if (n == 0)
		return fail(why, "empty", -EINVAL);
	*out_ms = (uint64_t)llround(total);
	return 0;
}
