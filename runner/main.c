/* runner/main.c — the sandrun command: dispatch to a subcommand.
 *
 *   sandrun [run] [OPTIONS] PATH...     analyze files (runner/run_cmd.c)
 *   sandrun exec [OPTIONS] -- CMD...    one command, one sandbox
 *   sandrun check                       what this host can enforce
 *   sandrun status|list|show|retry|export|quarantine   query the database
 */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/report.h"
#include "runner/run.h"

#include <stdio.h>
#include <string.h>

static const char main_usage[] =
	"Usage: sandrun [run] [OPTIONS] PATH...\n"
	"       sandrun COMMAND [OPTIONS] [ARGS]\n"
	"Analyze untrusted files, each in its own kernel sandbox, and record every\n"
	"attempt in SQLite. A run that is interrupted resumes where it stopped.\n\n"
	"Commands:\n"
	"  run         analyze files (the default when the first argument is not a command)\n"
	"  exec        run one command in a sandbox and report how it ended\n"
	"  check       report what this host can enforce\n"
	"  status      counts by status and outcome\n"
	"  list        one line per item\n"
	"  show        every attempt of one item\n"
	"  retry       put failed items back to pending\n"
	"  export      write the results as JSON or CSV\n"
	"  quarantine  move or copy the inputs of failed items aside\n"
	"  report      write a self-contained HTML page about the database\n\n"
	"  -h, --help     show this help (sandrun COMMAND --help for a command's options)\n"
	"  -V, --version  show the version\n\n"
	"Exit status: 0 all ok, 1 some failed, 2 usage error, 3 isolation not available,\n"
	"4 store error, 129/130/143 interrupted. See sandrun(1).\n";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },       { "exec", cmd_exec },       { "check", cmd_check },
	{ "status", cmd_status }, { "list", cmd_list },       { "show", cmd_show },
	{ "retry", cmd_retry },   { "export", cmd_export },   { "quarantine", cmd_quarantine },
	{ "report", cmd_report },
};

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(main_usage, stdout);
		return SR_EXIT_OK;
	}
	if (argc >= 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("sandrun %s\n", SANDRUN_VERSION);
		return SR_EXIT_OK;
	}
	if (argc >= 2)
		for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].fn(argc - 1, argv + 1);
	if (argc < 2)
		return sr_usage_error(NULL, "no files given");
	/* "sandrun [OPTIONS] PATH...": the default command is run. */
	argv[0] = "run";
	return cmd_run(argc, argv);
}
