/* runner/report_cmd.c — `sandrun report`: its options and exit status; the
 * page itself is report/'s (report/report.h, docs/report.md). */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/query_util.h"
#include "report/report.h"
#include "lib/text.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

static const char usage[] =
	"Usage: sandrun report [--db PATH|URI] [-o FILE] [-q]\n"
	"Write one self-contained HTML page about a store: outcomes, failed files with\n"
	"their errors and stderr, wall time and peak memory against the limits, the\n"
	"built-in analyzer's loudness, true peak and duration, and the runs. No network:\n"
	"inline SVG and CSS only. Read-only: the store is never written.\n\n"
	"      --db PATH|URI  the store: an SQLite file (default " QUERY_DEFAULT_DB "), or a\n"
	"                     postgresql:// URI (default: SANDRUN_DB when set)\n"
	"  -o, --output FILE  the page to write (default " REPORT_DEFAULT_OUTPUT "), replaced\n"
	"                     atomically\n"
	"  -q, --quiet        do not say where the page went\n"
	"  -h, --help         show this help\n"
	"Exit status: 0 ok, 1 the page could not be written, 2 usage error, 4 store error.\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = QUERY_DEFAULT_DB, *out = REPORT_DEFAULT_OUTPUT;
	bool quiet = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hqo:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage, stdout); return SR_EXIT_OK;
		default: return sr_usage_error("report ", "bad option");
		}
	}
	if (optind < argc)
		return sr_usage_error("report ", "unexpected argument '%s'", argv[optind]);
	if (!*out)
		return sr_usage_error("report ", "-o needs a file name");
	char err[1024];
	switch (report_write(db, out, err, sizeof err)) {
	case REPORT_OK:
		if (!quiet) { /* on stderr: stdout stays empty */
			fputs("sandrun: report written to ", stderr);
			sr_text_put_str(stderr, out, SR_TEXT_TERMINAL);
			fputc('\n', stderr);
		}
		return SR_EXIT_OK;
	case REPORT_ERR_OUTPUT:
		sr_err("%s", err);
		return SR_EXIT_SOME_FAILED;
	case REPORT_ERR_STORE:
	default:
		sr_err("%s", err);
		return SR_EXIT_STORE;
	}
}
