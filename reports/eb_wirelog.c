/*
 * eb_wirelog.c — bounded, thread-safe wire log. Text is escaped once, when
 * an entry is added, so every writer (console, JSON, JUnit, HTML) can show it
 * without caring about binary payloads.
 */
#include "eb_wirelog.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_time.h"
#include "eb_utf8.h"

#define WL_DEFAULT_ENTRY_CAP 4096u
#define WL_DEFAULT_TOTAL_CAP (1024u * 1024u)

struct eb_wirelog {
	pthread_mutex_t lock;
	uint64_t t0_ns;
	size_t entry_cap;
	size_t total_cap;
	size_t used;      /* bytes charged against total_cap */
	eb_wire_entry *e;
	size_t n, cap;
	size_t dropped;
	bool full;        /* once an entry did not fit, later ones are dropped too,
			   * so the kept part is an unbroken prefix of the exchange */
};

/* Escapes data into a new string of at most cap bytes (plus NUL), never
 * splitting an escape or a UTF-8 sequence. *consumed gets the number of
 * input bytes represented. NULL on allocation failure. */
static char *wl_escape(const char *data, size_t len, size_t cap, size_t *consumed)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)data;
	size_t out_max = len <= (SIZE_MAX - 1) / 4 ? len * 4 : SIZE_MAX - 1;
	size_t i = 0, o = 0;
	char *out;

	if (out_max > cap)
		out_max = cap;
	out = malloc(out_max + 1);
	if (!out)
		return NULL;
	while (i < len) {
		unsigned char c = s[i];
		size_t u;

		if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7F)) {
			if (o + 1 > out_max)
				break;
			out[o++] = (char)c;
			i++;
		} else if (c >= 0x80 && (u = eb_utf8_seq_len(s + i, len - i)) != 0) {
			if (o + u > out_max)
				break;
			memcpy(out + o, s + i, u);
			o += u;
			i += u;
		} else {
			if (o + 4 > out_max)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
			i++;
		}
	}
	out[o] = '\0';
	*consumed = i;
	return out;
}

eb_wirelog *eb_wirelog_new(size_t entry_cap, size_t total_cap)
{
	eb_wirelog *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return NULL;
	}
	w->entry_cap = entry_cap ? entry_cap : WL_DEFAULT_ENTRY_CAP;
	w->total_cap = total_cap ? total_cap : WL_DEFAULT_TOTAL_CAP;
	w->t0_ns = eb_time_mono_ns();
	return w;
}

void eb_wirelog_free(eb_wirelog *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->n; i++)
		free(w->e[i].text);
	free(w->e);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Appends an entry whose text is already built; takes text. t_us UINT64_MAX
 * means "now". 0, or -1 when dropped (text freed). */
static int wl_append(eb_wirelog *w, uint64_t t_us, eb_wire_dir dir,
		     const char *proto, int conn, char *text)
{
	size_t charge = sizeof(eb_wire_entry) + strlen(text) + 1;
	eb_wire_entry *e;
	int rc = -1;

	pthread_mutex_lock(&w->lock);
	if (w->full || charge > w->total_cap - w->used) {
		w->full = true;
		w->dropped++;
		goto out;
	}
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		eb_wire_entry *ne = realloc(w->e, ncap * sizeof(*ne));

		if (!ne) {
			w->dropped++;
			goto out;
		}
		w->e = ne;
		w->cap = ncap;
	}
	e = &w->e[w->n++];
	memset(e, 0, sizeof(*e));
	if (t_us == UINT64_MAX) {
		uint64_t now = eb_time_mono_ns();

		t_us = now > w->t0_ns ? (now - w->t0_ns) / 1000u : 0;
	}
	e->t_us = t_us;
	e->dir = dir;
	if (proto) {
		size_t pl = strnlen(proto, sizeof(e->proto) - 1);

		memcpy(e->proto, proto, pl);
		e->proto[pl] = '\0';
	}
	e->conn = conn;
	e->text = text;
	text = NULL;
	w->used += charge;
	rc = 0;
out:
	pthread_mutex_unlock(&w->lock);
	free(text);
	return rc;
}

static void wl_count_drop(eb_wirelog *w)
{
	pthread_mutex_lock(&w->lock);
	w->dropped++;
	pthread_mutex_unlock(&w->lock);
}

void eb_wirelog_add(eb_wirelog *w, eb_wire_dir dir, const char *proto,
		    int conn, const char *data, size_t len)
{
	eb_wirelog_add_part(w, dir, proto, conn, data, len, len);
}

void eb_wirelog_add_part(eb_wirelog *w, eb_wire_dir dir, const char *proto,
			 int conn, const char *data, size_t len, size_t total)
{
	size_t consumed = 0;
	char *text;

	if (!w)
		return;
	if (!data)
		len = total = 0;
	text = wl_escape(data ? data : "", len, w->entry_cap, &consumed);
	if (!text) {
		wl_count_drop(w);
		return;
	}
	if (total < len)
		total = len;
	if (consumed < total) {
		char marker[48];
		int ml = snprintf(marker, sizeof(marker), "[... %zu bytes more]",
				  total - consumed);
		size_t tl = strlen(text);
		char *t2 = realloc(text, tl + (size_t)ml + 1);

		if (!t2) {
			free(text);
			wl_count_drop(w);
			return;
		}
		memcpy(t2 + tl, marker, (size_t)ml + 1);
		text = t2;
	}
	wl_append(w, UINT64_MAX, dir, proto, conn, text);
}

void eb_wirelog_note(eb_wirelog *w, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	char *buf = small;
	int n;

	if (!w || !fmt)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		wl_count_drop(w);
		return;
	}
	if ((size_t)n >= sizeof(small)) {
		buf = malloc((size_t)n + 1);
		if (!buf) {
			wl_count_drop(w);
			return;
		}
		va_start(ap, fmt);
		vsnprintf(buf, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	eb_wirelog_add(w, EB_WIRE_NOTE, "", -1, buf, (size_t)n);
	if (buf != small)
		free(buf);
}

int eb_wirelog_add_entry(eb_wirelog *w, const eb_wire_entry *e)
{
	const char *t;
	size_t consumed = 0, len;
	char *text;

	if (!w || !e)
		return -1;
	t = e->text ? e->text : "";
	len = strlen(t);
	text = wl_escape(t, len, SIZE_MAX - 1, &consumed);
	if (!text) {
		wl_count_drop(w);
		return -1;
	}
	return wl_append(w, e->t_us == UINT64_MAX ? UINT64_MAX - 1 : e->t_us,
			 e->dir, e->proto, e->conn, text);
}

void eb_wirelog_add_dropped(eb_wirelog *w, size_t n)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->dropped = n > SIZE_MAX - w->dropped ? SIZE_MAX : w->dropped + n;
	pthread_mutex_unlock(&w->lock);
}

size_t eb_wirelog_count(const eb_wirelog *w)
{
	eb_wirelog *mw = (eb_wirelog *)w; /* the lock is not part of the value */
	size_t n;

	if (!w)
		return 0;
	pthread_mutex_lock(&mw->lock);
	n = w->n;
	pthread_mutex_unlock(&mw->lock);
	return n;
}

const eb_wire_entry *eb_wirelog_get(const eb_wirelog *w, size_t i)
{
	if (!w || i >= w->n)
		return NULL;
	return &w->e[i];
}

size_t eb_wirelog_dropped(const eb_wirelog *w)
{
	eb_wirelog *mw = (eb_wirelog *)w;
	size_t n;

	if (!w)
		return 0;
	pthread_mutex_lock(&mw->lock);
	n = w->dropped;
	pthread_mutex_unlock(&mw->lock);
	return n;
}
