/* sandbox/error.c — the caller-owned error record (sandbox.h: sbx_fail,
 * sbx_err_text). There is no module state here on purpose: a message lives
 * in the record of the call that failed, so a failure without one can
 * never borrow an older, unrelated text. */
#include "sandbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail_v(struct sbx_err *err, int neg_errno, bool with_errno, const char *fmt, va_list ap)
{
	if (!err)
		return neg_errno;
	char what[SBX_ERR_MSG];
	vsnprintf(what, sizeof what, fmt, ap);
	err->code = neg_errno;
	if (neg_errno < 0 && with_errno)
		snprintf(err->msg, sizeof err->msg, "%s: %s", what, strerror(-neg_errno));
	else
		snprintf(err->msg, sizeof err->msg, "%s", what);
	return neg_errno;
}

int sbx_fail(struct sbx_err *err, int neg_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fail_v(err, neg_errno, true, fmt, ap);
	va_end(ap);
	return r;
}

int sbx_fail_plain(struct sbx_err *err, int neg_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fail_v(err, neg_errno, false, fmt, ap);
	va_end(ap);
	return r;
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
