/* runner/progress.h — what the user sees of a run.
 *
 *   stderr is a terminal   one live status line, redrawn ~4x/s, then the summary
 *   stderr is not          no live line: the same messages as plain log lines
 *   either way             one line per failed file (path, outcome, short
 *                          error), input errors, notices (signals, pause)
 *   --quiet                no live line and no notices: errors and the summary
 *   --verbose              also one line per finished attempt (ok, retried, put back)
 *   journal                stderr is systemd's journal stream (JOURNAL_STREAM):
 *                          each line starts with its syslog priority, <3> errors,
 *                          <4> warnings, <6> information (sd-daemon(3))
 *   --json                 JSON Lines events on stdout (docs/runner.md has the schema)
 *   SIGUSR2                one status line on stderr, whatever the mode
 *
 * Every message about an item goes through here, so the live line is
 * cleared first and redrawn after, and text that came from a job (an error
 * message, a path) is made printable before it reaches a terminal.
 */
#ifndef SANDRUN_PROGRESS_H
#define SANDRUN_PROGRESS_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Counts behind the status line. "batch" counts come from the store as
 * the inputs are queued (items of this invocation already done or failed,
 * input errors included); "run" counts are this process's finishes. */
struct progress_counts {
	int64_t total;                 /* batch items + other pending items of the spec;
					  grows while queueing */
	int64_t done_before, failed_before;
	int64_t damaged_before;        /* of done_before: last outcome damaged */
	int64_t failed_before_by[OUTCOME_COUNT];
	int64_t ok, failed;            /* terminal finishes of this run */
	int64_t damaged;               /* done, but the result says the input is damaged
					  (not in ok) */
	int64_t failed_by[OUTCOME_COUNT];
	int64_t retried;               /* attempts that ended with the item pending again */
	int64_t released;              /* interrupted attempts put back, not counted */
	int64_t input_errors;          /* new input errors logged by this run */
	int64_t running;
	double elapsed_s;              /* since the loop started */
	bool paused, stopping, waiting_memory;
	bool queueing;                 /* inputs still being queued: total is a floor */
	bool watching;                 /* `sandrun watch`: ... and always will be */
};

/* One status line (pure): "12/40 done, 3.1 files/s, ETA 0:09 | ok 10,
 * failed 2 (bad_input 2) | 2 running" ("ok 9, damaged 1, failed 2" once a
 * file is damaged). While queueing: "12/3072+ done, ...
 * ETA -- | ... | 2 running, queueing". Cut to width (0: no limit). */
size_t progress_format_line(const struct progress_counts *c, size_t width, char *buf, size_t len);
/* "1:02:03" / "2:03" / "--" for an unknown ETA (pure). */
void progress_format_duration(double seconds, char *buf, size_t len);

/* One finished attempt (or an input error: attempt 0, no measurements). */
struct progress_finished {
	int64_t item_id;               /* the store's items.id; 0: null */
	const char *path;
	int attempt;
	const char *outcome;           /* outcome name, or "interrupted" */
	const char *status;            /* the item's status now: done, failed, pending */
	int exit_code;                 /* -1: null */
	int signal;                    /* 0: null */
	const char *syscall;           /* NULL/"": null */
	int64_t wall_ms, cpu_ms, peak_memory_bytes, oom_kills; /* -1: null */
	const char *error;             /* NULL/"": null */
};

/* Walk entries skipped, by reason ("not audio", "excluded", ...). */
#define PROGRESS_SKIP_KINDS 8
struct progress_skip {
	const char *reason;            /* NULL: the end of the list */
	int64_t n;
};

/* The end of a run, from the store's view of the batch plus this run. */
struct progress_summary {
	int64_t total, ok, failed, pending, running;
	int64_t damaged;               /* done items whose input is damaged (not in ok) */
	int64_t failed_by[OUTCOME_COUNT];
	int64_t finished, retried, released, skipped_entries;
	struct progress_skip skipped_by[PROGRESS_SKIP_KINDS];
	double elapsed_s;
	const char *interrupted_by;    /* "SIGINT", "SIGTERM", "SIGHUP" or NULL */
	int exit_status;
	bool nothing_to_do;            /* every file was done or failed before this run */
	bool left_pending;             /* a run that went to its end left `pending` files
					  it could not claim (another runner re-queued
					  them, e.g. under another job spec): exit 1 */
	bool watch;                    /* `sandrun watch`: a signal is its normal end */
};

/* JSON Lines (pure; malloc'd, no newline). Every event starts with the
 * same envelope (docs/runner.md, "--json"): {"v":PROGRESS_EVENTS_VERSION,
 * "event":NAME,"ts":RFC 3339 UTC with ms,"ts_ms":unix ms,"run":run id}.
 * The version changes when a field changes meaning or goes away; new
 * fields and events do not change it. */
#define PROGRESS_EVENTS_VERSION 1
struct progress_stamp {
	int64_t run_id;                /* 0: null (before the run row exists) */
	int64_t ts_ms;                 /* wall clock, ms since the epoch */
};
/* "2026-12-04T17:00:42.123Z" (pure); buf of at least 32 bytes. */
void progress_format_rfc3339(int64_t ms, char *buf, size_t len);
char *progress_event_begin(const struct progress_stamp *st, const char *version, const char *spec_key,
			   int jobs);
char *progress_event_started(const struct progress_stamp *st, int64_t item_id, const char *path, int attempt);
char *progress_event_finished(const struct progress_stamp *st, const struct progress_finished *f);
char *progress_event_progress(const struct progress_stamp *st, const struct progress_counts *c);
char *progress_event_summary(const struct progress_stamp *st, const struct progress_summary *s);
/* The human summary (pure), one or two lines without the final newline. */
size_t progress_format_summary(const struct progress_summary *s, char *buf, size_t len);

struct progress;

enum progress_verbosity { PROGRESS_QUIET = -1, PROGRESS_NORMAL = 0, PROGRESS_VERBOSE = 1 };

struct progress_opts {
	bool live;        /* redraw a status line (stderr is a terminal) */
	bool journal;     /* prefix lines with <N> priorities (progress_stderr_is_journal) */
	enum progress_verbosity verbosity;
	bool json;        /* events on `events` */
	uint64_t json_interval_ms; /* a "progress" event this often (0: none) */
	FILE *events;     /* stdout */
	FILE *status;     /* stderr */
};
int progress_new(const struct progress_opts *o, struct progress **out);
void progress_free(struct progress *p);
struct progress_counts *progress_counts(struct progress *p);

/* The run's id for the events' "run", and the "begin" event. */
void progress_begin(struct progress *p, int64_t run_id, const char *version, const char *spec_key, int jobs);
void progress_started(struct progress *p, int64_t item_id, const char *path, int attempt);
/* done: counted as ok (damaged when o is OUTCOME_DAMAGED); failed: as
 * failed by outcome; else as retried or put back. */
void progress_finished(struct progress *p, const struct progress_finished *f, enum outcome o);
/* An input that cannot be analyzed: its message on stderr, whatever the
 * mode, and a finished event (attempt 0, outcome input_error). counted:
 * add it to this run's failures (found at claim time); errors found while
 * collecting are in the batch counts read from the store instead. */
void progress_input_error(struct progress *p, int64_t item_id, const char *path, const char *error,
			  bool counted);
/* A walk entry that is not analyzed (not audio, excluded, a link, ...):
 * named on stderr ("sandrun: skipped PATH: REASON (DETAIL)") and, with
 * --json, a "skipped" event. The one place that names them: a verbosity
 * setting would decide here whether each one is shown. */
void progress_skipped(struct progress *p, const char *path, const char *reason, const char *detail);
/* A message about one item or the run, on stderr ("sandrun: ..."): an
 * error, or a warning when it starts with "warning: ". */
void progress_message(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Information about the run (a signal taken, paused, resumed): not with
 * --quiet. */
void progress_notice(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether stderr is the journal stream systemd gave this process: set,
 * and naming stderr's device and inode (a child that redirected its
 * stderr elsewhere inherits the variable, not the stream). */
bool progress_stderr_is_journal(void);
/* Redraw the live line if due (4x/s) or forced; with --json, the
 * "progress" event when its interval is over. */
void progress_tick(struct progress *p, bool force);
/* SIGUSR2: the status line once, as a plain line on stderr. */
void progress_print_status(struct progress *p);
void progress_summary(struct progress *p, const struct progress_summary *s);

#endif
