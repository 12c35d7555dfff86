/*
 * eb_buf.h — a growable string that the JSON and WebSocket encoders, the
 * conformance runner and ebfuzz build their text in. A failed allocation
 * sets `oom` and turns every later append into a no-op, so a writer appends
 * without checking each call and looks at the flag (or at eb_buf_take) once
 * at the end.
 */
#ifndef EB_BUF_H
#define EB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Zero-initialised ({ 0 }) is an empty buffer with nothing allocated. Once
 * anything was appended (even zero bytes), p is a malloc'd, NUL-terminated
 * string of len bytes (p[len] == '\0') with room for cap bytes. Callers
 * read p and len directly and may set oom themselves when an allocation
 * of their own for the same text failed. */
typedef struct eb_buf {
	char *p;
	size_t len, cap;
	bool oom;
} eb_buf;

/* Appends n bytes of s (s may hold NULs; s may be NULL when n is 0). On a
 * failed allocation sets oom and keeps the text appended so far; no-op once
 * oom is set. s must not point into b's own storage. */
void eb_buf_put(eb_buf *b, const void *s, size_t n);

/* Appends the C string s (not NULL), as eb_buf_put(b, s, strlen(s)). */
void eb_buf_str(eb_buf *b, const char *s);

/* Appends printf-style output of any length; sets oom when the allocation
 * or the formatting fails. No argument may point into b's own storage. */
void eb_buf_fmt(eb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* eb_buf_fmt with a va_list, for writers that forward their own varargs;
 * ap is consumed as by vsnprintf. */
void eb_buf_vfmt(eb_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Hands the text to the caller, who frees it: the NUL-terminated string
 * (an empty buffer gives a newly allocated ""), its length in *len (len may
 * be NULL). NULL when oom was set or allocating "" failed; the text is then
 * freed and *len is 0. In every case b is left empty, ready for reuse. */
char *eb_buf_take(eb_buf *b, size_t *len);

/* Frees the text and resets b to empty (oom cleared). b may be NULL. */
void eb_buf_clear(eb_buf *b);

#endif
