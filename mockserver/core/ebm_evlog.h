/*
 * ebm_evlog.h — ebmock's event log (--event-log FILE): one JSON object per
 * line for every API request, WebSocket open/close/message and admin action,
 * each stamped with CLOCK_MONOTONIC in milliseconds ("t", 3 decimals) so a
 * client test can line the server's view up with its own clock. The format
 * is documented in docs/EBMOCK.md ("Event log").
 *
 * Each line is built in memory and written with one write(2), so a reader
 * tailing the file never sees half a line and nothing waits in a buffer.
 * The file is capped: the line that would pass the cap is replaced by
 * {"t":..,"ev":"log_full"} and nothing is written after it. Tokens and
 * secrets are never logged (query parameters that look like one are
 * redacted, auth messages are logged without their token).
 *
 * Single-threaded, like the rest of the core.
 */
#ifndef EBM_EVLOG_H
#define EBM_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ebm_core.h"

typedef struct ebm_evlog ebm_evlog;

/* Default cap of --event-log-max-bytes. */
#define EBM_EVLOG_DEFAULT_MAX (64ull * 1024 * 1024)
/* Smallest cap accepted (room for the log_full line and a few events). */
#define EBM_EVLOG_MIN_MAX 1024u

/* Creates (truncates) path and returns a log capped at max_bytes
 * (>= EBM_EVLOG_MIN_MAX). EB_ERR_ARG for a bad cap, EB_ERR_IO when the file
 * cannot be opened; message in err. Free with ebm_evlog_free. */
eb_rc ebm_evlog_open(const char *path, uint64_t max_bytes, ebm_evlog **out,
		     eb_err *err);

/* Closes the file. NULL is a no-op. */
void ebm_evlog_free(ebm_evlog *l);

/* ebm_server_set_evlog (ebm_core.h) hands a log to a server. */

/* The log of srv, NULL when there is none or it is full. */
ebm_evlog *ebm_evlog_of(const ebm_server *srv);

/* CLOCK_MONOTONIC in microseconds (the clock of "t" and "t0"). */
uint64_t ebm_evlog_now_us(void);

/* One line being built. Every add function is a no-op once building failed
 * (out of memory) or when begin returned false. */
typedef struct ebm_ev {
	char *p;
	size_t len, cap;
	bool on;
	bool failed;
	bool need_comma;
} ebm_ev;

/* Starts a line {"t":<now>,"ev":"<ev>". false (and e inert) without a log. */
bool ebm_ev_begin(ebm_evlog *l, ebm_ev *e, const char *ev);
/* Members; k is a plain identifier (not escaped); a NULL string is null. */
void ebm_ev_str(ebm_ev *e, const char *k, const char *v);
void ebm_ev_strn(ebm_ev *e, const char *k, const char *v, size_t n);
void ebm_ev_int(ebm_ev *e, const char *k, int64_t v);
void ebm_ev_uint(ebm_ev *e, const char *k, uint64_t v);
void ebm_ev_bool(ebm_ev *e, const char *k, bool v);
void ebm_ev_null(ebm_ev *e, const char *k);
/* A monotonic time in microseconds, printed as milliseconds.3 decimals. */
void ebm_ev_time(ebm_ev *e, const char *k, uint64_t us);
/* v is already valid JSON (an array or object built by the caller). */
void ebm_ev_raw(ebm_ev *e, const char *k, const char *json);
/* Ends the line and writes it (or log_full at the cap). Frees e's buffer
 * in every case. */
void ebm_ev_end(ebm_evlog *l, ebm_ev *e);

/* Appends v as a JSON string (quotes, escapes, invalid UTF-8 as U+FFFD) to
 * the growable buffer p, len, cap. false on allocation failure. */
bool ebm_json_str_append(char **p, size_t *len, size_t *cap, const char *v,
			 size_t n);

/* ---- what the core logs itself ----------------------------------------- */

/* The glue's number of the connection of s, for "conn" in ws_in/ws_out. */
void ebm_ws_set_conn(ebm_ws_session *s, uint64_t conn);

/* A WebSocket message received on session s (type, requestId, storeIds, or
 * valid:false). The token of an auth message is never logged. */
void ebm_evlog_ws_in(ebm_ws_session *s, const char *buf, size_t len, bool binary);
/* A message over the frame limit arrived on s (logged as ws_in with type
 * null, valid false, tooBig true; its content is never kept). */
void ebm_evlog_ws_too_big(ebm_ws_session *s);
/* A text message about to be sent on s. */
void ebm_evlog_ws_out(ebm_ws_session *s, const char *text, size_t len);

#endif
