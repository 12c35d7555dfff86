/*
 * eb_wirelog.h — the wire log of one case or one finding: HTTP requests and
 * responses, WebSocket frames and notes, with times relative to the log's
 * creation. Thread-safe: a case may log from several threads.
 */
#ifndef EB_WIRELOG_H
#define EB_WIRELOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum eb_wire_dir {
	EB_WIRE_OUT = 0,  /* harness -> target */
	EB_WIRE_IN,       /* target -> harness */
	EB_WIRE_NOTE      /* harness commentary ("waiting for notification") */
} eb_wire_dir;

typedef struct eb_wire_entry {
	uint64_t t_us;    /* microseconds since the log was created */
	eb_wire_dir dir;
	char proto[8];    /* "HTTP", "WS", "TCP", "" for notes */
	char *text;       /* owned, NUL-terminated, non-printable bytes escaped, truncated to the per-entry cap with a "[... N bytes more]" marker */
	int conn;         /* connection number within the case, -1 none */
} eb_wire_entry;

typedef struct eb_wirelog eb_wirelog;

/* New empty log. entry_cap bounds each entry's text (0: 4096 bytes);
 * total_cap bounds the log (0: 1 MiB); past it entries are counted, not kept.
 * NULL on allocation failure. */
eb_wirelog *eb_wirelog_new(size_t entry_cap, size_t total_cap);

/* Frees the log. NULL is a no-op. */
void eb_wirelog_free(eb_wirelog *w);

/* Appends len bytes as one entry. w NULL is a no-op (callers log unconditionally). */
void eb_wirelog_add(eb_wirelog *w, eb_wire_dir dir, const char *proto,
		    int conn, const char *data, size_t len);

/* Appends an entry of total bytes of which the caller kept only the first
 * len (len <= total; a larger len counts as total): the entry ends with the
 * same "[... N bytes more]" marker as a cut made here, N counting every
 * byte not shown. A caller that must not copy a large message logs its
 * head this way. w NULL is a no-op. */
void eb_wirelog_add_part(eb_wirelog *w, eb_wire_dir dir, const char *proto,
			 int conn, const char *data, size_t len, size_t total);

/* Appends a printf-style note. w NULL is a no-op. */
void eb_wirelog_note(eb_wirelog *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Number of entries kept, and entry i (borrowed; valid until the log is freed;
 * do not call while another thread appends). */
size_t eb_wirelog_count(const eb_wirelog *w);
const eb_wire_entry *eb_wirelog_get(const eb_wirelog *w, size_t i);
/* Entries dropped because total_cap was reached. */
size_t eb_wirelog_dropped(const eb_wirelog *w);

/* Escaping used for every entry's text: bytes 0x00-0x1F (except \n and \t),
 * 0x7F and bytes that are not part of valid UTF-8 become the four characters
 * \xNN (hex, upper case); valid multi-byte UTF-8 is kept. Backslashes are
 * kept as they are, so the form reads naturally but is not reversible. */

/* Appends a copy of e (t_us, dir, proto, conn and text kept) for rebuilding
 * a log, e.g. from a saved report. text is escaped as above (a no-op on text
 * that came out of a wire log) but not truncated to entry_cap; total_cap
 * applies. w NULL is a no-op. 0, or -1 when the entry was dropped. */
int eb_wirelog_add_entry(eb_wirelog *w, const eb_wire_entry *e);

/* Adds n to the dropped count (a rebuilt log keeps its original's count).
 * w NULL is a no-op. */
void eb_wirelog_add_dropped(eb_wirelog *w, size_t n);

#endif
