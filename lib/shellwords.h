/* lib/shellwords.h — split a --cmd string the way a POSIX shell splits
 * words: blanks separate words; single quotes keep everything literally;
 * double quotes keep everything but \" \\ \$ \` and \newline; a backslash
 * outside quotes escapes the next character. There is no expansion of any
 * kind ($VAR, `cmd`, $(cmd), globs, ~) and no shell runs. */
#ifndef SANDRUN_SHELLWORDS_H
#define SANDRUN_SHELLWORDS_H

#include <stddef.h>

/* On success *out is a NULL-terminated malloc'd vector (free with
 * shellwords_free) and 0 is returned. Errors: -EINVAL with a message in
 * err for unbalanced quotes, a trailing backslash, or an empty command. */
int shellwords_split(const char *s, char ***out, size_t *count, char *err, size_t errlen);
void shellwords_free(char **words);

#endif
