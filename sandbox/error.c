/* sandbox/error.c — the detail of the sandbox's most recent failure
 * (sandbox.h: sbx_fail, sbx_last_error). */
#include "sandbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char last_error[512];

int sbx_fail(int neg_errno, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (neg_errno < 0)
		snprintf(last_error, sizeof last_error, "%s: %s", what, strerror(-neg_errno));
	else
		snprintf(last_error, sizeof last_error, "%s", what);
	return neg_errno;
}

const char *sbx_last_error(void)
{
	return last_error;
}
