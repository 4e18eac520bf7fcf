/* sandbox/limits.c — pure helpers: defaults, limit parsing.
 * No system calls here, so the unit tests run without root. */
#include "sandbox.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sbx_limits_defaults(struct sbx_limits *l)
{
	*l = (struct sbx_limits){
		.mem_bytes = 1ull << 30,         /* 1 GiB */
		.timeout_ms = 600 * 1000,
		.cpu_time_ms = 0,                /* off: the wall deadline bounds it */
		.cpus = 0,                       /* off: no cpu.max quota */
		.pids = 256,
		.fsize_bytes = 1ull << 30,
		.nofile = 1024,
		.tmp_bytes = 64ull << 20,
	};
}

/* Decimal number with an optional fraction; rejects sign, hex, inf, nan,
 * and trailing junk other than what the caller allows. */
static int parse_decimal(const char *s, double *out, const char **rest)
{
	if (!s || !*s)
		return -EINVAL;
	const char *p = s;
	int digits = 0;
	while (*p >= '0' && *p <= '9')
		p++, digits++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, digits++;
	}
	if (digits == 0)
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end != p || !isfinite(v))
		return -EINVAL;
	*out = v;
	*rest = p;
	return 0;
}

int sbx_parse_size(const char *s, uint64_t *out)
{
	double v;
	const char *rest;
	if (parse_decimal(s, &v, &rest) < 0)
		return -EINVAL;
	double mult = 1;
	switch (*rest) {
	case '\0': break;
	case 'k': case 'K': mult = 1024.0; rest++; break;
	case 'm': case 'M': mult = 1024.0 * 1024; rest++; break;
	case 'g': case 'G': mult = 1024.0 * 1024 * 1024; rest++; break;
	case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; rest++; break;
	default: return -EINVAL;
	}
	/* Accept "6G", "6GB", "6GiB" alike: all binary units. */
	if (mult > 1 && (strcmp(rest, "B") == 0 || strcmp(rest, "iB") == 0))
		rest += strlen(rest);
	if (*rest)
		return -EINVAL;
	double bytes = v * mult;
	if (bytes < 1 || bytes > 9.2e18)
		return -ERANGE;
	*out = (uint64_t)bytes;
	return 0;
}

int sbx_parse_positive_double(const char *s, double *out)
{
	double v;
	const char *rest;
	if (parse_decimal(s, &v, &rest) < 0 || *rest)
		return -EINVAL;
	if (v <= 0 || v > 1e6)
		return -ERANGE;
	*out = v;
	return 0;
}

int sbx_parse_u32(const char *s, uint32_t *out)
{
	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, NULL, 10);
	if (errno || v == 0 || v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}
