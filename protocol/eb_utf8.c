#include "eb_utf8.h"

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t eb_utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (avail >= 2 && is_cont(p[1])) ? 2 : 0;
	/* Second-byte ranges exclude overlongs, surrogates and > U+10FFFF. */
	if (c >= 0xE0 && c <= 0xEF) {
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
		if (avail < 3 || p[1] < lo || p[1] > hi || !is_cont(p[2]))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
		if (avail < 4 || p[1] < lo || p[1] > hi || !is_cont(p[2]) ||
		    !is_cont(p[3]))
			return 0;
		return 4;
	}
	return 0;
}

size_t eb_utf8_cut(const char *s, size_t n)
{
	size_t i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return n;
	lead = (unsigned char)s[i - 1];
	if (lead < 0xC0)
		return n;
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	return (i - 1 + need > n) ? i - 1 : n;
}
