/* runner/query.h — the subcommands that read (and lightly edit) the store.
 *
 * Each takes the subcommand's own argv (argv[0] is its name, e.g. "status"),
 * parses GNU-style long options (--db PATH, default ./sandrun.db; --json;
 * -h/--help) and returns the process exit code:
 *   0 ok; 1 the command ran but part of its work failed (a named path is not
 *   in the store, an input could not be quarantined, the output file could
 *   not be written); 2 usage error; 4 store error (the database cannot be
 *   opened or read; the message names it and says what to do).
 * Output formats are in docs/store.md and sandrun(1).
 */
#ifndef SANDRUN_QUERY_H
#define SANDRUN_QUERY_H

/* Counts by status and by last outcome, mean/max wall time and peak memory
 * of the attempts, throughput of the last run. */
int cmd_status(int argc, char **argv);
/* One line per item (PATH|GLOB..., --status S, --outcome O, --since T,
 * --run N, --sort KEY, --limit N); --json: JSON Lines. */
int cmd_list(int argc, char **argv);
/* Items by path or id: every attempt with its stderr tail, and the result. */
int cmd_show(int argc, char **argv);
/* Failed items back to pending with a fresh budget (--outcome O, PATH...,
 * --dry-run). */
int cmd_retry(int argc, char **argv);
/* Results as JSON, JSON Lines or flattened CSV: --format, -o FILE (its
 * extension picks the format), --status/--outcome/--failed/--all. */
int cmd_export(int argc, char **argv);
/* Move (or --copy) the inputs of failed items into DIR (--outcome O,
 * --dry-run); DIR inside a directory of inputs is refused. */
int cmd_quarantine(int argc, char **argv);
/* Remove items (PATH|GLOB..., --dry-run) with their attempts and results. */
int cmd_forget(int argc, char **argv);
/* Compact the store (SQLite VACUUM, PostgreSQL VACUUM (ANALYZE)). */
int cmd_gc(int argc, char **argv);
/* One self-contained HTML page about the store, -o FILE (runner/report_cmd.c;
 * the page is report/'s). 1: the page could not be written. */
int cmd_report(int argc, char **argv);

#endif
