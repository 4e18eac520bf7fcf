/* lib/text.c — see text.h. */
#include "lib/text.h"

#include <errno.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

size_t sr_utf8_decode(const unsigned char *s, size_t left, uint32_t *cpo)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	if (left == 0)
		return 0;
	if (c < 0x80) {
		*cpo = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpo = cp;
	return n;
}

size_t sr_text_escape_at(const unsigned char *s, size_t left, char esc[SR_ESC_MAX])
{
	uint32_t cp = 0;
	size_t n = sr_utf8_decode(s, left, &cp);
	esc[0] = '\0';
	if (n == 0) {
		snprintf(esc, SR_ESC_MAX, "\\x%02x", s[0]);
		return 1;
	}
	if (!sr_text_unsafe(cp))
		return n;
	if (cp < 0x80)
		snprintf(esc, SR_ESC_MAX, "\\x%02x", s[0]);
	else if (sr_utf8_is_c1(cp))
		snprintf(esc, SR_ESC_MAX, "\\x%02x\\x%02x", s[0], s[1]);
	else
		snprintf(esc, SR_ESC_MAX, "\\u{%04x}", (unsigned)cp);
	return n;
}

/* names: a line break shows as \n (\t, \r): it is part of the name;
 * else as a space: it is a break in a message. */
static char *escape_one_line(const void *in, size_t len, char *out, size_t outlen, bool names)
{
	const unsigned char *s = in;
	size_t o = 0;
	if (outlen == 0)
		return out;
	for (size_t i = 0; i < len;) {
		char esc[SR_ESC_MAX];
		size_t n = 1;
		const char *put;
		size_t need;
		if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
			put = !names ? " " : s[i] == '\n' ? "\\n" : s[i] == '\t' ? "\\t" : "\\r";
			need = strlen(put);
		} else if (s[i] == '\\') {
			put = "\\\\", need = 2;
		} else {
			n = sr_text_escape_at(s + i, len - i, esc);
			put = esc[0] ? esc : (const char *)s + i;
			need = esc[0] ? strlen(esc) : n;
		}
		if (o + need + 1 > outlen)
			break;
		memcpy(out + o, put, need);
		o += need;
		i += n;
	}
	out[o] = '\0';
	return out;
}

static const char *html_entity(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

void sr_text_put(FILE *f, const void *bytes, size_t len, unsigned flags)
{
	const unsigned char *s = bytes;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		const char *ent = (flags & SR_TEXT_HTML) ? html_entity(c) : NULL;
		if (ent) {
			fputs(ent, f);
			i++;
		} else if (c == '\\' && !(flags & SR_TEXT_KEEP_BACKSLASH)) {
			fputs("\\\\", f);
			i++;
		} else if ((flags & SR_TEXT_KEEP_NEWLINES) && (c == '\n' || c == '\t')) {
			fputc(c, f);
			i++;
		} else {
			/* the one rule: \xNN, \xc2\xNN, \u{XXXX} are plain
			 * ASCII, safe on a terminal and in HTML */
			char esc[SR_ESC_MAX];
			size_t n = sr_text_escape_at(s + i, len - i, esc);
			if (esc[0])
				fputs(esc, f);
			else
				fwrite(s + i, 1, n, f);
			i += n;
		}
	}
}

int sr_text_utf8_repair(const void *bytes, size_t len, char **out, size_t *outlen)
{
	const unsigned char *s = bytes;
	size_t i = 0;
	bool clean = true;
	while (i < len && clean) {
		uint32_t cp;
		size_t n = sr_utf8_decode(s + i, len - i, &cp); /* C1 is valid in JSON */
		if (n == 0)
			clean = false;
		i += n;
	}
	if (clean)
		return 0;
	char *buf = malloc(len * 3 + 1);
	if (!buf)
		return -ENOMEM;
	size_t o = 0;
	for (i = 0; i < len;) {
		uint32_t cp;
		size_t n = sr_utf8_decode(s + i, len - i, &cp);
		if (n) {
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 1;
}

char *sr_text_escape_line(const void *in, size_t len, char *out, size_t outlen)
{
	return escape_one_line(in, len, out, outlen, false);
}

char *sr_text_escape_name(const void *in, size_t len, char *out, size_t outlen)
{
	return escape_one_line(in, len, out, outlen, true);
}

void sr_text_put_csv(FILE *f, const void *bytes, size_t len, bool is_text)
{
	const char *s = bytes;
	bool formula = is_text && len > 0 && s[0] && strchr("=+-@\t\r", s[0]);
	bool quote = formula || memchr(s, ',', len) || memchr(s, '"', len) ||
		     memchr(s, '\n', len) || memchr(s, '\r', len);
	if (!quote) {
		fwrite(s, 1, len, f);
		return;
	}
	fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

void sr_text_put_json_string(FILE *f, const void *utf8, size_t len)
{
	const unsigned char *s = utf8;
	size_t run = 0; /* bytes that need no escape, written at once */
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fwrite(s + run, 1, i - run, f);
		run = i + 1;
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default: fprintf(f, "\\u%04X", c);
		}
	}
	fwrite(s + run, 1, len - run, f);
	fputc('"', f);
}
