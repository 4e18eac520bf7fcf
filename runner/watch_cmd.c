/* runner/watch_cmd.c — `sandrun watch [OPTIONS] DIR...`: analyze every
 * file that arrives in drop folders, until stopped. The options, store,
 * sandbox and loop are run's (run_cmd.c); the folders are dropdir.c's.
 * docs/runner.md, "Watching a drop folder". */
#include "runner/run.h"
#include "runner/run_opts.h"

const char watch_usage[] =
	"Usage: sandrun watch [OPTIONS] DIR...\n"
	"Analyze each file that arrives under DIR (a drop folder), each in its own\n"
	"sandbox, until stopped; record every attempt in a database as run does.\n"
	"A file is taken once it was closed after writing or renamed in, and no one\n"
	"has it open for writing. DIR is walked at the start and whenever the kernel's\n"
	"event queue overflowed: files dropped while sandrun was not watching are\n"
	"analyzed too, and files already done are not analyzed again.\n\n"
	"Inputs:\n"
	"      --settle TIME       take a file only once its size and mtime stayed the\n"
	"                          same this long (e.g. 30s, 1m; default 0: at its close)\n"
	"      --include GLOB      analyze what GLOB matches, even if not audio by the\n"
	"                          default below (repeatable)\n"
	"      --exclude GLOB      skip what GLOB matches (repeatable; as for run -r:\n"
	"                          GLOB with a '/' matches the path below DIR, else the\n"
	"                          name; 'DIR/' matches directories only)\n"
	"      --follow-symlinks   follow links to regular files inside DIR\n"
	"      --max-dirs N        watch at most N directories (default 10000, and at\n"
	"                          most half the descriptor limit); beyond, a warning,\n"
	"                          and their files are found only by the full walks\n"
	"      --new-spec          the job spec changed on purpose: analyze again the\n"
	"                          items done with another one\n\n";

const char watch_signals_help[] =
	"\nSignals: SIGINT/SIGTERM/SIGHUP stop watching, start nothing new and stop after\n"
	"the grace period (a second one stops at once); interrupted files go back to\n"
	"pending and are taken at the next start. SIGUSR1 pauses/resumes every job.\n"
	"SIGUSR2 prints a status line.\n"
	"Exit status: 0 stopped by a signal, 1 stopped by --halt, 2 usage (or DIR moved\n"
	"or deleted), 3 isolation not available, 4 database error. Failed files are in\n"
	"the database.\n";

int cmd_watch(int argc, char **argv)
{
	return run_command(argc, argv, true);
}
