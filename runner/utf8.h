/* runner/utf8.h — one UTF-8 decoder for every place that shows untrusted
 * bytes (terminal lines, JSON, HTML). Pure. */
#ifndef SANDRUN_UTF8_H
#define SANDRUN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid UTF-8 sequence at s (at most `left` bytes)
 * and its code point in *cp; 0 if the bytes there are not one (overlong,
 * surrogate, beyond U+10FFFF, truncated). */
size_t sr_utf8_decode(const unsigned char *s, size_t left, uint32_t *cp);

/* C1 controls (U+0080..U+009F) are valid UTF-8, but some terminals act on
 * them as escapes (U+009B is a CSI). */
static inline int sr_utf8_is_c1(uint32_t cp)
{
	return cp >= 0x80 && cp <= 0x9f;
}

/* For a terminal: the length of the valid UTF-8 sequence at s, or 0 when
 * there is none or it is a C1 control. */
static inline size_t sr_utf8_printable_len(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n = sr_utf8_decode(s, left, &cp);
	return n && !sr_utf8_is_c1(cp) ? n : 0;
}

#endif
