/* runner/input_filter.h — which files a -r walk hands to the analyzer:
 * --include/--exclude patterns, and the built-in analyzer's default that
 * skips what is clearly not audio (docs/runner.md, "Filters").
 *
 * The rules, rsync-like:
 *
 *   * A pattern is an fnmatch(3) glob. Without a '/' it matches an entry's
 *     name (its last component); with one it matches the entry's path
 *     relative to the -r root ("Artwork/x*.jpg", '*' does not cross a '/'; a
 *     leading '/' is the root itself). A trailing '/' makes it match
 *     directories only.
 *   * Patterns are tried in the order given; the first that matches
 *     decides: --exclude skips the entry (an excluded directory is not
 *     entered), --include takes it (a file is analyzed, whatever the
 *     default says). An entry no pattern matches falls to the default.
 *   * The default (the built-in analyzer only, never --cmd): a file whose
 *     name ends in a listed extension or is a listed name, or whose first
 *     bytes are a known non-audio format or plain text, is skipped as "not
 *     audio". The bytes are read from the descriptor the walk opened.
 *
 * So `--include '*.flac' --exclude '*'` keeps FLAC files only, and
 * `--include '*'` turns the default off. Files named on the command line or
 * in a --files-from list are not filtered: they were chosen already.
 */
#ifndef SANDRUN_INPUT_FILTER_H
#define SANDRUN_INPUT_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#define INPUT_FILTER_MAX_PATTERNS 256

struct input_pattern {
	const char *glob;       /* as given (not owned) */
	bool include;           /* --include; else --exclude */
};

struct input_filter {
	struct input_pattern patterns[INPUT_FILTER_MAX_PATTERNS];
	size_t npatterns;
	bool not_audio_default; /* skip what is clearly not audio (built-in analyzer) */
};

/* Add one --include/--exclude. -EINVAL (empty, or only "/"), -E2BIG. */
int input_filter_add(struct input_filter *f, const char *glob, bool include);

/* The first pattern that matches the entry (rel: its path relative to the
 * walk's root, without a leading '/'), or NULL. */
const struct input_pattern *input_filter_match(const struct input_filter *f, const char *rel, bool is_dir);

/* The default, by name: a short reason ("by name: .jpg") or NULL. */
const char *input_filter_not_audio_name(const char *name);
/* The default, by the first bytes of a file (n of them, at most
 * INPUT_FILTER_MAGIC_BYTES): a reason ("JPEG image", "text") or NULL. An
 * empty file is left to the analyzer (a truncated audio file is a failure
 * worth seeing). */
#define INPUT_FILTER_MAGIC_BYTES 512
const char *input_filter_not_audio_bytes(const unsigned char *buf, size_t n);
/* Read the first bytes of the open file fd (pread at 0: its offset is left
 * alone) and judge them. NULL also when they cannot be read. */
const char *input_filter_not_audio_fd(int fd);

/* The default's lists, for --help and the man page (tests check they
 * name every entry of the lists). */
extern const char *const input_filter_extensions[];
extern const char *const input_filter_names[];
extern const char input_filter_help[];

#endif
