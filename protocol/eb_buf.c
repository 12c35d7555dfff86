/*
 * eb_buf.c — the growable string of eb_buf.h.
 */
#include "eb_buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most WebSocket messages and change bodies fit in one allocation. */
#define EB_BUF_FIRST_CAP 128

/* Room for n more bytes plus the NUL; false (oom set) when it cannot be had. */
static bool reserve(eb_buf *b, size_t n)
{
	size_t need, cap;
	char *np;

	if (b->oom)
		return false;
	if (n > SIZE_MAX - 1 - b->len)
		goto fail;
	need = b->len + n + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : EB_BUF_FIRST_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	np = realloc(b->p, cap);
	if (!np)
		goto fail;
	b->p = np;
	b->cap = cap;
	return true;
fail:
	b->oom = true;
	return false;
}

void eb_buf_put(eb_buf *b, const void *s, size_t n)
{
	if (!reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void eb_buf_str(eb_buf *b, const char *s)
{
	eb_buf_put(b, s, strlen(s));
}

void eb_buf_vfmt(eb_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	size_t room;
	int n;

	if (b->oom)
		return;
	/* Most output fits the room left: format straight into it, and only
	 * when it did not, grow and format a second time. */
	room = b->p ? b->cap - b->len : 0;
	va_copy(again, ap);
	n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
	if (n < 0) {
		b->oom = true;
	} else if ((size_t)n >= room) {
		if (reserve(b, (size_t)n))
			vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
	}
	if (!b->oom && n >= 0)
		b->len += (size_t)n;
	/* A truncated first attempt wrote over the old terminator. */
	if (b->p)
		b->p[b->len] = '\0';
	va_end(again);
}

void eb_buf_fmt(eb_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	eb_buf_vfmt(b, fmt, ap);
	va_end(ap);
}

char *eb_buf_take(eb_buf *b, size_t *len)
{
	char *s = NULL;
	size_t n = 0;

	if (!b->oom) {
		s = b->p ? b->p : calloc(1, 1);
		n = s ? b->len : 0;
		b->p = NULL;
	}
	eb_buf_clear(b);
	if (len)
		*len = n;
	return s;
}

void eb_buf_clear(eb_buf *b)
{
	if (!b)
		return;
	free(b->p);
	memset(b, 0, sizeof(*b));
}
