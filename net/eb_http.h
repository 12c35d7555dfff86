/*
 * eb_http.h — a small blocking HTTP/1.1 client on libcurl for the harnesses
 * (conformance, fuzz, load pushers, integration tests). Every call has a
 * timeout; every exchange can be recorded in a wire log.
 */
#ifndef EB_HTTP_H
#define EB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include "eb_error.h"
#include "eb_tls.h"
#include "eb_wirelog.h"

/* Call once per process before threads start; 0 on success. */
int eb_http_global_init(void);
void eb_http_global_cleanup(void);

typedef struct eb_http eb_http;   /* one keep-alive connection cache; one thread */

/* base_url: "http://127.0.0.1:8080" (no trailing slash needed). timeout_ms
 * bounds each whole request (connect included). NULL on failure. */
eb_http *eb_http_new(const char *base_url, long timeout_ms);
void eb_http_free(eb_http *h);

/* Changes the bound of the following requests; timeout_ms <= 0 is ignored. */
void eb_http_set_timeout(eb_http *h, long timeout_ms);

/* The cap on one response body of the following requests (bytes; 0 keeps
 * it), EB_HTTP_MAX_BODY_DEFAULT unless set. No rule of PROTOCOL.md bounds
 * a response's size (a changes page of 1000 changes of 64 KiB values is
 * over 64 MiB, JSON allows any whitespace): a body over the cap is the
 * harness's limit, a transport error whose message names the cap and
 * --max-response-mib (eb_target), never a verdict on the server. */
#define EB_HTTP_MAX_BODY_DEFAULT ((size_t)64 * 1024 * 1024)
void eb_http_set_max_body(eb_http *h, size_t max_bytes);

/* https: trust o->cacert (copied) instead of the system's CAs, or with
 * o->insecure check neither certificate nor name (NULL: the defaults).
 * Applies to the following requests. EB_OK, EB_ERR_NOMEM. A certificate
 * that does not verify is transport_error EB_HTTP_UNTRUSTED. */
eb_rc eb_http_set_tls(eb_http *h, const eb_tls_opts *o);

/* A bound on the response bodies being received at one time by every
 * client that shares it (threads included): each response is capped at
 * 64 MiB, but 7 threads receiving endless bodies held 443 MiB. A response
 * that would take the sum over max_bytes fails like an oversized one
 * ("response bodies in flight exceed ..."). NULL on allocation failure. */
typedef struct eb_http_budget eb_http_budget;
eb_http_budget *eb_http_budget_new(size_t max_bytes);
/* Frees; every client using it must be freed (or unset) first. NULL no-op. */
void eb_http_budget_free(eb_http_budget *b);
/* Makes h's following requests draw on b (borrowed; NULL: per-response cap
 * only). */
void eb_http_set_budget(eb_http *h, eb_http_budget *b);

/* A request in progress ends as soon as stop(arg) returns true (it is
 * polled while the request waits: at once after a signal interrupts the
 * wait, within 1 s otherwise): EB_ERR_IO with transport_error
 * EB_HTTP_STOPPED. stop NULL: never. arg is borrowed. */
void eb_http_set_stop(eb_http *h, bool (*stop)(void *arg), void *arg);
#define EB_HTTP_STOPPED 42

/* curl's code for a peer certificate or name that did not verify. */
#define EB_HTTP_UNTRUSTED 60

/* Attach a wire log (borrowed, may be NULL) and the connection number to tag
 * entries with. */
void eb_http_set_wirelog(eb_http *h, eb_wirelog *w, int conn);

typedef struct eb_http_header { const char *name, *value; } eb_http_header;

typedef struct eb_http_resp {
	long status;          /* 0 when no response arrived */
	char *body;           /* owned, NUL-terminated (may contain NULs before body_len) */
	size_t body_len;
	char *headers;        /* owned raw header block, "Name: value\r\n"... */
	double elapsed_ms;
	int transport_error;  /* 0, or a nonzero curl code */
	char error[256];      /* transport error text */
} eb_http_resp;

/* Performs one request. method "GET"/"POST"/...; path starts with '/', may
 * carry a query. bearer: token for Authorization (NULL: none). content_type:
 * NULL means "application/json" when body is non-NULL. extra headers may be
 * NULL. Returns EB_OK when a response arrived (any status), EB_ERR_IO on
 * transport failure (resp->transport_error, resp->error set; a refused
 * connection sets transport_error to 7), EB_ERR_NOMEM. resp is always
 * initialised; free with eb_http_resp_clear.
 *
 * Sent as written: any method string (a body is allowed on GET too), the
 * body's len bytes (NULs, invalid UTF-8; non-NULL body with len 0 sends
 * Content-Length: 0), the path without dot-segment normalisation, never
 * "Expect: 100-continue", no proxy. content_type "" sends no Content-Type.
 * An extra header replaces a default of the same name (Content-Type,
 * Authorization); value "" sends an empty header, value NULL suppresses a
 * header curl would add (e.g. Accept). On EB_OK body and headers are
 * non-NULL; headers holds the final response's lines only (no status line,
 * no interim 1xx). A response body over the cap (eb_http_set_max_body) is a
 * transport error (the message says "exceeds" and names the cap); timeouts
 * set transport_error 28. */
eb_rc eb_http_request(eb_http *h, const char *method, const char *path,
		      const char *bearer, const char *content_type,
		      const char *body, size_t body_len,
		      const eb_http_header *extra, size_t n_extra,
		      eb_http_resp *resp);

/* Value of header name (case-insensitive) in resp, copied into buf; false
 * when absent. */
bool eb_http_resp_header(const eb_http_resp *resp, const char *name,
			 char *buf, size_t buflen);

void eb_http_resp_clear(eb_http_resp *resp);

#endif
