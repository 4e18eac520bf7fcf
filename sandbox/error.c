/* sandbox/error.c — the caller-owned error record (sandbox.h: sbx_fail,
 * sbx_err_text). There is no module state here on purpose: a message lives
 * in the record of the call that failed, so a failure without one can
 * never borrow an older, unrelated text. */
#include "sandbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sbx_fail(struct sbx_err *err, int neg_errno, const char *fmt, ...)
{
	if (!err)
		return neg_errno;
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	err->code = neg_errno;
	if (neg_errno < 0)
		snprintf(err->msg, sizeof err->msg, "%s: %s", what, strerror(-neg_errno));
	else
		snprintf(err->msg, sizeof err->msg, "%s", what);
	return neg_errno;
}

const char *sbx_err_text(const struct sbx_err *err, int rc)
{
	/* A detail recorded for another code (a best-effort step that failed
	 * earlier in the same call, then the call failed otherwise) does not
	 * explain rc: say only what rc is. */
	if (err && err->msg[0] && err->code == rc)
		return err->msg;
	return rc < 0 ? strerror(-rc) : "";
}
