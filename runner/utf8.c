/* runner/utf8.c — see utf8.h. */
#include "runner/utf8.h"

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
