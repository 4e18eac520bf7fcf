/* runner/main.c — the sandrun command: dispatch to a subcommand.
 *
 *   sandrun [run] [OPTIONS] PATH...     analyze files (runner/run_cmd.c)
 *   sandrun watch [OPTIONS] DIR...      analyze what arrives in drop folders
 *   sandrun exec [OPTIONS] -- CMD...    one command, one sandbox
 *   sandrun check                       what this host can enforce
 *   sandrun status|list|show|retry|export|quarantine|forget|gc   the database
 *   sandrun help [COMMAND]              the help (of COMMAND)
 *
 * A first argument that is neither a command nor an existing path is a
 * usage error that names the nearest command: a typo must not become a
 * batch (and a database) of one failed file.
 */
#include "runner/common.h"
#include "runner/query.h"
#include "runner/run.h"
#include "lib/text.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char main_usage[] =
	"Usage: sandrun [run] [OPTIONS] PATH...\n"
	"       sandrun COMMAND [OPTIONS] [ARGS]\n"
	"Analyze untrusted files, each in its own kernel sandbox, and record every\n"
	"attempt in SQLite. A run that is interrupted resumes where it stopped.\n\n"
	"Commands:\n"
	"  run         analyze files (the default when the first argument is not a command)\n"
	"  watch       analyze the files that arrive in drop folders, until stopped\n"
	"  exec        run one command in a sandbox and report how it ended\n"
	"  check       report what this host can enforce\n"
	"  status      counts by status and outcome\n"
	"  list        one line per item\n"
	"  show        every attempt of one item\n"
	"  retry       put failed items back to pending\n"
	"  export      write the results as JSON or CSV\n"
	"  quarantine  move or copy the inputs of failed items aside\n"
	"  report      write a self-contained HTML page about the database\n"
	"  forget      remove items (and their attempts and results) from the store\n"
	"  gc          compact the store\n"
	"  help [CMD]  show this help, or the help of CMD\n\n"
	"A PATH of '-' reads the list of paths from stdin, as --files-from - does.\n\n"
	"  -h, --help     show this help (sandrun COMMAND --help for a command's options)\n"
	"  -V, --version  show the version\n\n"
	"Exit status: 0 all ok, 1 some failed, 2 usage error, 3 isolation not available,\n"
	"4 store error, 129/130/143 interrupted. See sandrun(1).\n";

/* The store a subcommand's argv names: its last --db, else SANDRUN_DB. */
static const char *db_of(int argc, char **argv)
{
	const char *db = getenv("SANDRUN_DB");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			db = argv[i] + 5;
	}
	return db;
}

/* report reads SQLite directly until it reads through store/store.h: on a
 * PostgreSQL store it refuses instead of opening the URI as a file. */
static int cmd_report_guarded(int argc, char **argv)
{
	if (store_is_postgresql(db_of(argc, argv))) {
		sr_err("report: not yet supported on a PostgreSQL store");
		return SR_EXIT_STORE;
	}
	return cmd_report(argc, argv);
}

/* SANDRUN_DB is the default of --db for every command that takes one: an
 * explicit --db given later on the command line wins (getopt keeps the
 * last). */
static char **with_default_db(int *argc, char **argv)
{
	const char *db = getenv("SANDRUN_DB");
	static const char *const takes_db[] = { "run", "watch", "status", "list", "show", "retry",
						"export", "quarantine", "report", "forget", "gc" };
	bool takes = false;
	for (size_t i = 0; i < sizeof takes_db / sizeof takes_db[0]; i++)
		takes = takes || strcmp(argv[0], takes_db[i]) == 0;
	if (!db || !*db || !takes)
		return argv;
	char **v = calloc((size_t)*argc + 3, sizeof *v);
	if (!v)
		return argv;
	v[0] = argv[0];
	v[1] = "--db";
	v[2] = (char *)db;
	memcpy(v + 3, argv + 1, (size_t)(*argc - 1) * sizeof *v);
	*argc += 2;
	return v;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },       { "exec", cmd_exec },       { "check", cmd_check },
	{ "status", cmd_status }, { "list", cmd_list },       { "show", cmd_show },
	{ "retry", cmd_retry },   { "export", cmd_export },   { "quarantine", cmd_quarantine },
	{ "report", cmd_report_guarded }, { "watch", cmd_watch }, { "forget", cmd_forget },
	{ "gc", cmd_gc },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Optimal string alignment distance (Levenshtein plus the transposition
 * of two neighbours, the commonest typo: "stauts"). Names are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return SIZE_MAX;
	size_t d[33][33];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* The command nearest to word, if it is near enough to be a typo. */
static const char *nearest_command(const char *word)
{
	const char *best = NULL;
	size_t best_d = 3; /* at most two edits */
	for (size_t i = 0; i < NCOMMANDS; i++) {
		size_t d = edit_distance(word, commands[i].name);
		if (d < best_d && d < strlen(commands[i].name)) {
			best_d = d;
			best = commands[i].name;
		}
	}
	if (edit_distance(word, "help") < best_d)
		best = "help";
	return best;
}

static int not_a_command(const char *word)
{
	const char *near = nearest_command(word);
	char shown[1024]; /* it may be a name from a hostile tree: escaped */
	sr_text_escape_line(word, strlen(word), shown, sizeof shown);
	if (near)
		return sr_usage_error(NULL, "'%s' is neither a command nor an existing file; did you mean '%s'?",
				      shown, near);
	return sr_usage_error(NULL, "'%s' is neither a command nor an existing file", shown);
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		fputs(main_usage, stdout);
		return SR_EXIT_OK;
	}
	if (argc > 2)
		return sr_usage_error(NULL, "help takes one command name");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			char *args[] = { (char *)commands[i].name, "--help", NULL };
			return commands[i].fn(2, args);
		}
	return not_a_command(argv[1]);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return cmd_help(1, argv);
	if (argc >= 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("sandrun %s\n", SANDRUN_VERSION);
		return SR_EXIT_OK;
	}
	if (argc < 2)
		return sr_usage_error(NULL, "no files given");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			int n = argc - 1;
			char **v = with_default_db(&n, argv + 1);
			int rc = commands[i].fn(n, v);
			if (v != argv + 1)
				free(v);
			return rc;
		}
	if (strcmp(argv[1], "help") == 0)
		return cmd_help(argc - 1, argv + 1);
	/* "sandrun [OPTIONS] PATH...": the default command is run, when the
	 * first argument is an option, '-' (the list on stdin) or a path
	 * that exists. */
	struct stat st;
	if (argv[1][0] != '-' && lstat(argv[1], &st) < 0)
		return not_a_command(argv[1]);
	argv[0] = "run";
	char **v = with_default_db(&argc, argv);
	int rc = cmd_run(argc, v);
	if (v != argv)
		free(v);
	return rc;
}
