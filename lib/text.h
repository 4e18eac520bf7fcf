/* lib/text.h — the text module: one UTF-8 decoder and one rule for
 * every place that shows untrusted bytes, with a named escape policy per
 * reader: a terminal (sr_text_put), one line (sr_text_escape_line), HTML
 * (sr_text_put with SR_TEXT_HTML), JSON (sr_text_utf8_repair: JSON only
 * needs valid UTF-8). Pure: no module state.
 *
 * Untrusted text is file names from hostile trees, a job's stderr, its
 * results. On a terminal it must not be able to act (escape sequences) nor
 * to lie about what it is (bidirectional controls: "evil<U+202E>gpj.wav"
 * displays as "evilvaw.jpg"). Every escaper asks sr_text_unsafe() and
 * writes what sr_text_escape_at() gives; they differ only in what they do
 * with a backslash, newlines, and HTML's own characters. */
#ifndef SANDRUN_LIB_TEXT_H
#define SANDRUN_LIB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Length (1..4) of the valid UTF-8 sequence at s (at most `left` bytes)
 * and its code point in *cp; 0 if the bytes there are not one (overlong,
 * surrogate, beyond U+10FFFF, truncated). */
size_t sr_utf8_decode(const unsigned char *s, size_t left, uint32_t *cp);

/* C1 controls (U+0080..U+009F) are valid UTF-8, but some terminals act on
 * them as escapes (U+009B is a CSI). */
static inline bool sr_utf8_is_c1(uint32_t cp)
{
	return cp >= 0x80 && cp <= 0x9f;
}

/* The bidirectional formatting controls: ALM U+061C, LRM/RLM U+200E/F,
 * LRE RLE PDF LRO RLO U+202A..E, LRI RLI FSI PDI U+2066..9. They reorder
 * what follows them on the screen (Trojan Source, CVE-2021-42574). */
static inline bool sr_text_is_bidi(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* THE predicate: a code point a terminal (or a one-line log) must not get
 * raw from untrusted text. C0 controls and DEL (escape sequences, cursor
 * movement, the bell, a line break in a one-line record), C1 controls, the
 * bidi controls, and U+2028/U+2029 (line and paragraph separators: a line
 * break to some terminals, editors and log viewers). Callers that keep
 * newlines or tabs handle those first. */
static inline bool sr_text_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || sr_utf8_is_c1(cp) || sr_text_is_bidi(cp) ||
	       cp == 0x2028 || cp == 0x2029;
}

/* For a terminal: the length of the valid UTF-8 sequence at s, or 0 when
 * there is none or it is unsafe (sr_text_unsafe). */
static inline size_t sr_utf8_printable_len(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n = sr_utf8_decode(s, left, &cp);
	return n && !sr_text_unsafe(cp) ? n : 0;
}

/* The escaped form of the character at s (left >= 1 bytes). Returns how
 * many input bytes it covers (>= 1). esc gets "" when they are safe (copy
 * them as they are), else the escape, NUL-terminated, plain ASCII:
 *   a byte that is not valid UTF-8, a C0 control, DEL   \xNN
 *   a C1 control (its two bytes)                        \xc2\xNN
 *   a bidi control, U+2028, U+2029                      \u{XXXX}
 * A backslash is safe here: whoever must keep the form unambiguous (a
 * terminal line) doubles it. */
#define SR_ESC_MAX 16
size_t sr_text_escape_at(const unsigned char *s, size_t left, char esc[SR_ESC_MAX]);

/* Untrusted bytes as one escaped line, for a terminal or a log: newline,
 * tab and CR become a space, a backslash is doubled, everything else as
 * sr_text_escape_at. Cut at a character (or escape) boundary to fit
 * outlen (>= 1). Returns out. */
char *sr_text_escape_line(const void *in, size_t len, char *out, size_t outlen);
/* A name (a path) as one escaped line: the same, but a newline, tab or
 * CR in it shows as \n, \t, \r, never as a space that would pass for
 * another name ("a\nb.wav" is not "a b.wav"). */
char *sr_text_escape_name(const void *in, size_t len, char *out, size_t outlen);

/* Untrusted bytes written to f under one policy: every character that is
 * unsafe or not UTF-8 as sr_text_escape_at gives it (so no escape
 * sequence reaches a terminal and nothing reorders the text around it),
 * and, by the flags:
 *   SR_TEXT_KEEP_NEWLINES   \n and \t pass (multi-line text: a stderr tail)
 *   SR_TEXT_KEEP_BACKSLASH  a backslash passes (text already escaped, like
 *                           JSON); otherwise it is doubled, so the \xNN form
 *                           stays unambiguous
 *   SR_TEXT_HTML            & < > " ' become entities
 * The named policies below are the ones the program uses. */
enum {
	SR_TEXT_KEEP_NEWLINES = 1,
	SR_TEXT_KEEP_BACKSLASH = 2,
	SR_TEXT_HTML = 4,
};
/* A terminal or text file: one-line fields; multi-line text. */
#define SR_TEXT_TERMINAL 0u
#define SR_TEXT_TERMINAL_MULTILINE ((unsigned)SR_TEXT_KEEP_NEWLINES)
/* HTML: one-line text (paths, errors: as `sandrun list` prints them);
 * a <pre> block (a stderr tail, where backslashes are the job's own). */
#define SR_TEXT_HTML_LINE ((unsigned)SR_TEXT_HTML)
#define SR_TEXT_HTML_PRE ((unsigned)(SR_TEXT_HTML | SR_TEXT_KEEP_NEWLINES | SR_TEXT_KEEP_BACKSLASH))
void sr_text_put(FILE *f, const void *bytes, size_t len, unsigned flags);
static inline void sr_text_put_str(FILE *f, const char *s, unsigned flags)
{
	sr_text_put(f, s ? s : "", s ? __builtin_strlen(s) : 0, flags);
}

/* For JSON: the bytes themselves when they are UTF-8 (C1 controls are
 * valid JSON text), else a copy with each invalid byte replaced by U+FFFD.
 * Returns 0 when the bytes are valid as they are (*out untouched), 1 with
 * a malloc'd *out of *outlen bytes when repaired, -ENOMEM. */
int sr_text_utf8_repair(const void *bytes, size_t len, char **out, size_t *outlen);

/* A JSON string literal of UTF-8 text (sr_text_utf8_repair first when it
 * may not be), with its quotes: " and \ escaped, control characters as
 * \b \f \n \r \t or \u00XX, everything else as it is — the form jansson
 * writes, without building a value per string. */
void sr_text_put_json_string(FILE *f, const void *utf8, size_t len);

/* One RFC 4180 CSV cell (no separator): quoted when it holds a comma, a
 * quote (doubled) or a line break. A text cell (is_text) that a
 * spreadsheet would evaluate as a formula (it starts with = + - @, a tab
 * or CR) gets a leading apostrophe, inside quotes: paths and results are
 * untrusted, and a formula in a cell can run commands or leak data when
 * the sheet is opened (CWE-1236). Numbers are written as they are. */
void sr_text_put_csv(FILE *f, const void *bytes, size_t len, bool is_text);

#endif
