/*
 * eb_preflight.h — the few requests every client program sends before it
 * runs anything, to tell a wrong command from a broken server: does the
 * target speak the protocol, and does it take the program's token over
 * HTTP and on the socket?
 *
 * A refusal is a setup error (exit 2) only when it is consistent: HTTP
 * refuses and the socket does not accept. A server that accepts the token
 * on one and refuses it on the other is let through, so that the case (or
 * the finding) that checks it reports the rule it breaks.
 */
#ifndef EB_PREFLIGHT_H
#define EB_PREFLIGHT_H

#include <stdbool.h>
#include "eb_msg.h"
#include "eb_target.h"

typedef enum eb_pf_verdict {
	EB_PF_OK = 0,        /* the token works on both: run */
	EB_PF_INCONSISTENT,  /* one accepts, the other refuses: run, a case fails */
	EB_PF_REFUSED,       /* the token is refused: exit 2 with the hint */
	EB_PF_NOT_EB,        /* not an Early Bird server: exit 2 */
	EB_PF_TLS,           /* TLS does not work as configured (a certificate the
			      * program does not trust, no TLS on the port): exit 2 */
	EB_PF_UNREACHABLE    /* nothing answered: exit 3 */
} eb_pf_verdict;

typedef struct eb_preflight {
	eb_pf_verdict verdict;
	bool limits_offered;       /* GET /api/limits: 200 with valid limits */
	bool tls_untrusted;        /* the certificate or its name did not verify */
	int transport_error;       /* of GET /api/limits (eb_http_resp), 0 none */
	eb_limits limits;          /* those, or the defaults */
	long limits_status;        /* its status (0: no answer) */
	long http_status;          /* the token's read of a fresh store */
	bool http_ok, http_refused;
	bool speaks;               /* an ERR-1 error body or a 5xx was seen */
	bool ws_ok, ws_refused;
	int ws_close;              /* close code seen, 0 none */
	char seen_http[400];       /* what HTTP answered, one line */
	char seen_ws[400];         /* what the socket answered, one line */
	char message[2048];        /* one paragraph for the user (not OK) */
} eb_preflight;

/* Runs the preflight against t's URL: GET /api/limits without a token,
 * GET /api/stores/<store>/changes?since=0 with token (NULL or "": none),
 * and on the socket `auth` with token (with --no-auth: `subscribe` to
 * store) expecting auth_ok (subscribed); over TLS with t->tls_opts (and
 * t->tls when made). prog names the program in the message. A certificate
 * the program does not trust is EB_PF_TLS with a message naming --cacert
 * and --insecure. Each request is bounded by t->timeout_ms. Returns out->verdict;
 * out->message says what was seen and, for a refusal, the flag that is
 * likely wrong and the server's own error text. */
eb_pf_verdict eb_preflight_run(const eb_target *t, const char *prog, const char *token,
			       const char *store, eb_preflight *out);

/* The verdict from what was seen (http_ok/http_refused, ws_ok/ws_refused,
 * seen_http/seen_ws): REFUSED when HTTP refuses and the socket does not
 * accept, INCONSISTENT when one accepts and the other refuses, else OK;
 * out->message as eb_preflight_run leaves it. Used by eb_preflight_run after
 * its requests; on its own for tests. */
eb_pf_verdict eb_preflight_judge(const eb_target *t, const char *prog, eb_preflight *p);

/* The message for a TLS setup mistake seen by a first request (for
 * programs that probe before the preflight): transport_error
 * EB_HTTP_UNTRUSTED (a certificate or name that did not verify: names
 * --cacert and --insecure), or a https:// URL whose port speaks no TLS.
 * seen is curl's error text. true with msg written; false otherwise. */
bool eb_preflight_tls_hint(const eb_target *t, const char *prog, int transport_error,
			   const char *seen, char *msg, size_t len);

/* The exit code of a verdict that stops the program, or EB_EXIT_OK (0)
 * when the program runs. */
eb_exit eb_preflight_exit(eb_pf_verdict v);

#endif
