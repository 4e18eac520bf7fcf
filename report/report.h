/* report/report.h — the HTML report: one self-contained page that shows a
 * store at a glance (docs/report.md). The module's contract; it reads the
 * store (store/store.h) and knows nothing of the command line, which is
 * `sandrun report` (runner/report_cmd.c).
 */
#ifndef SANDRUN_REPORT_H
#define SANDRUN_REPORT_H

#include <stddef.h>

/* The default page name of `sandrun report -o`. */
#define REPORT_DEFAULT_OUTPUT "report.html"

enum report_status {
	REPORT_OK = 0,
	REPORT_ERR_OUTPUT,  /* the page could not be created or written */
	REPORT_ERR_STORE,   /* the store could not be opened or read */
};

/* Write the page about the store at db_path to out_path, read-only: the
 * store is checked with store_open(STORE_RO), then read in one read
 * transaction. The page is written to a temporary file beside out_path
 * and renamed over it once complete, so a failure replaces nothing.
 * Returns REPORT_OK, or an error with a one-line message in err (naming
 * the file and what to do). */
enum report_status report_write(const char *db_path, const char *out_path, char *err,
				size_t errlen);

#endif
