/* lib/shellwords.c — POSIX word splitting without expansion (pure). */
#include "lib/shellwords.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void shellwords_free(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}

static int fail(char **words, char *err, size_t errlen, const char *msg)
{
	shellwords_free(words);
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

int shellwords_split(const char *s, char ***out, size_t *count, char *err, size_t errlen)
{
	size_t n = 0, cap = 8, len = strlen(s);
	char **words = calloc(cap + 1, sizeof *words);
	char *cur = malloc(len + 1);
	if (!words || !cur) {
		free(words);
		free(cur);
		return -ENOMEM;
	}
	size_t wl = 0;
	bool in_word = false;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			if (in_word) {
				cur[wl] = '\0';
				if (n == cap) {
					char **grown = realloc(words, (cap * 2 + 1) * sizeof *words);
					if (!grown)
						return free(cur), fail(words, err, errlen, "out of memory");
					words = grown;
					cap *= 2;
				}
				words[n++] = strdup(cur);
				words[n] = NULL;
				wl = 0;
				in_word = false;
			}
			continue;
		}
		in_word = true;
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');
			if (!end)
				return free(cur), fail(words, err, errlen, "unbalanced single quote in the command");
			memcpy(cur + wl, p + 1, (size_t)(end - p - 1));
			wl += (size_t)(end - p - 1);
			p = end;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1])) {
					p++;
					if (*p == '\n')
						continue; /* line continuation */
				}
				cur[wl++] = *p;
			}
			if (!*p)
				return free(cur), fail(words, err, errlen, "unbalanced double quote in the command");
		} else if (*p == '\\') {
			if (!p[1])
				return free(cur), fail(words, err, errlen, "trailing backslash in the command");
			p++;
			if (*p != '\n')
				cur[wl++] = *p;
		} else {
			cur[wl++] = *p;
		}
	}
	if (in_word) {
		cur[wl] = '\0';
		if (n == cap) {
			char **grown = realloc(words, (cap + 2) * sizeof *words);
			if (!grown)
				return free(cur), fail(words, err, errlen, "out of memory");
			words = grown;
		}
		words[n++] = strdup(cur);
		words[n] = NULL;
	}
	free(cur);
	if (n == 0)
		return fail(words, err, errlen, "the command is empty");
	*out = words;
	if (count)
		*count = n;
	return 0;
}
