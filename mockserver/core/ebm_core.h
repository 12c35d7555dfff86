/*
 * ebm_core.h — the socket-free core of ebmock, the reference server of
 * docs/PROTOCOL.md: the store (memory, or SQLite with --data), the HTTP
 * request handler with the ERR-3 order of checks, the WebSocket session
 * logic (auth, subscriptions, notifications, rate limits), scripted faults,
 * injectable defects (docs/DEFECTS.md) and metrics.
 *
 * Nothing here touches a socket: the lws glue (the mockserver folder) feeds
 * requests and messages in and writes out what the core returns, and the
 * handler fuzz target calls the same functions directly. Single-threaded:
 * every function must be called from the one thread that owns the server.
 */
#ifndef EBM_CORE_H
#define EBM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eb_error.h"
#include "eb_msg.h"
/* the leaf modules the API below is built on */
#include "ebm_defects.h"
#include "ebm_faultspec.h"
#include "ebm_metrics.h"
#include "ebm_util.h"

typedef struct ebm_server ebm_server;
typedef struct ebm_ws_session ebm_ws_session;

/* ---- configuration and lifetime ------------------------------------------- */

typedef struct ebm_config {
	eb_limits limits;            /* section 8, plus coalesce and rate limits */
	bool no_auth;                /* everything allowed, subject = address */
	bool no_auth_ws_ignore;      /* no_auth: `auth` on the socket gets no
	                              * answer (else auth_ok), WS-AUTH-7 */
	bool no_limits_endpoint;     /* GET /api/limits answers 404 (LIMIT-10
	                              * "where offered") */
	bool rate_ws_preauth_addr;   /* messages before a successful auth are
	                              * charged to the address's WS bucket (RATE-5) */
	const char *jwt_secret;      /* HS256 secret or NULL */
	const char *jwt_public_pem;  /* RS256 public key PEM text or NULL */
	const char *jwt_issuer;      /* NULL: not checked */
	const char *jwt_audience;    /* NULL: not checked */
	unsigned jwt_leeway_s;       /* <= 60, default 5 */
	const char *data_path;       /* SQLite file, NULL: memory only */
	uint32_t auth_timeout_ms;    /* WS-AUTH-1, default 10000 */
	uint32_t ping_interval_s;    /* WS-6, default 30; 0 off */
	const char *admin_token;     /* NULL: /admin is 404 */
	uint64_t defects;            /* bit (1 << ebm_defect) */
	ebm_faults faults;           /* initial fault state */
	/* hostile clients (docs/EBMOCK.md "Hostile clients") */
	uint64_t mem_budget_bytes;   /* request bodies + pending output, all
	                              * connections together */
	uint32_t body_timeout_ms;    /* a request body must be complete this
	                              * long after its head (not per byte) */
	uint32_t ws_stall_ms;        /* a socket whose replies stay at the
	                              * WS-CLOSE-4 bound this long is dropped */
} ebm_config;

#define EBM_MEM_BUDGET_DEFAULT (32ULL << 20)
#define EBM_BODY_TIMEOUT_DEFAULT_MS 10000u
#define EBM_WS_STALL_DEFAULT_MS 1000u
/* WS-CLOSE-4: replies pending for one socket at which its reads pause. */
#define EBM_WS_MAX_PENDING (64u * 1024u)

/* Fills c with the defaults (limits of section 8, auth timeout 10 s, ping
 * 30 s, leeway 5 s, memory store, no faults, no defects, the hostile-client
 * bounds above). */
void ebm_config_default(ebm_config *c);

/* Wakes the glue for session s: something changed (a notification became
 * pending, a fault asks for a drop) so it must re-read ebm_ws_wants_write and
 * ebm_ws_next_deadline_ms. user is what the glue passed to ebm_ws_open. */
typedef void (*ebm_wake_fn)(void *glue, void *user);

/* Creates a server: copies cfg (strings included), opens and loads the
 * SQLite file when data_path is set. EB_ERR_ARG (bad config, e.g. no key and
 * no no_auth), EB_ERR_IO (database), EB_ERR_NOMEM; message in err. Free with
 * ebm_server_free. wake may be NULL (sessions are then polled). */
eb_rc ebm_server_new(const ebm_config *cfg, ebm_wake_fn wake, void *glue,
		     ebm_server **out, eb_err *err);

/* Closes the store (the database is flushed: every acknowledged change is
 * on disk already) and frees everything. Sessions still open are freed too
 * (the glue must not use them afterwards). NULL is a no-op. */
void ebm_server_free(ebm_server *srv);

/* The server's limits (advertised by GET /api/limits). Borrowed. */
const eb_limits *ebm_server_limits(const ebm_server *srv);

/* The server's configuration (borrowed; strings owned by the server). */
const ebm_config *ebm_server_config(const ebm_server *srv);

/* Current faults (borrowed, live). */
const ebm_faults *ebm_server_faults(const ebm_server *srv);

/* Hands the event log l (ebm_evlog.h; borrowed: the caller frees it after
 * the server) to srv and writes its first line, the fault state at start
 * ({"ev":"fault",...}). NULL switches logging off. */
typedef struct ebm_evlog ebm_evlog;
void ebm_server_set_evlog(ebm_server *srv, ebm_evlog *l);

/* ---- HTTP ------------------------------------------------------------------ */

typedef struct ebm_http_req {
	const char *method;          /* "GET", "POST", ... NUL-terminated */
	const char *path;            /* no query string; need not be NUL-terminated */
	size_t path_len;
	const char *query;           /* without '?', NULL when none */
	size_t query_len;
	const char *authorization;   /* header value or NULL */
	const char *content_type;    /* header value or NULL */
	int64_t content_length;      /* -1: unknown (chunked or absent) */
	const char *body;            /* NULL before the body is read */
	size_t body_len;
	const char *remote_addr;     /* "127.0.0.1"; NULL taken as "unknown" */
	bool upgrade_ws;             /* asks for a WebSocket upgrade */
} ebm_http_req;

/* What the event log says about a response, filled only while a log is
 * open (ebm_evlog.h); the strings are owned by the response. */
typedef struct ebm_http_ev {
	const char *code;            /* error code of a non-2xx answer (static) */
	const char *fault;           /* scripted fault that answered (static) */
	char *subject;               /* sub of the valid token, NULL without */
	char *change_ids;            /* sync: JSON array of the pushed ids */
	bool has_lkv;
	uint64_t lkv;                /* sync: lastKnownVersion */
	bool has_page;               /* a page was answered: */
	uint64_t n, current_version; /*   changes returned, currentVersion */
	bool has_more;
} ebm_http_ev;

typedef struct ebm_http_resp {
	int status;                  /* 0 until decided */
	char *body;                  /* malloc'd, owned; may be NULL (no body) */
	size_t body_len;
	const char *content_type;    /* static string, NULL with no body */
	char allow[48];              /* "" or the Allow header value (ERR-5) */
	char www_authenticate[64];   /* "" or the WWW-Authenticate value (ERR-4) */
	unsigned retry_after_s;      /* 0: no Retry-After (ERR-6) */
	uint32_t delay_ms;           /* fault: answer after this delay */
	bool stall;                  /* fault: never answer */
	bool reset;                  /* fault: close the connection, no answer */
	ebm_route route;
	ebm_http_ev ev;              /* for the event log (ebm_evlog.h) */
} ebm_http_resp;

/* Frees resp->body and zeroes resp. NULL is a no-op. */
void ebm_http_resp_clear(ebm_http_resp *resp);

typedef enum ebm_http_step {
	EBM_HTTP_DONE = 0,     /* resp is complete: send it */
	EBM_HTTP_NEED_BODY,    /* read the body (at most ebm_http_ctx_max_body) then call finish */
	EBM_HTTP_UPGRADE       /* accept the WebSocket upgrade */
} ebm_http_step;

typedef struct ebm_http_ctx ebm_http_ctx;

/* Runs the checks that need only the request head (ERR-3 steps 1-6 when the
 * body has not been read; req->body is ignored). On EBM_HTTP_NEED_BODY *ctx
 * is set and must be passed to ebm_http_finish or ebm_http_body_too_large
 * (which free it) or freed with ebm_http_ctx_free. resp is filled on DONE. */
ebm_http_step ebm_http_begin(ebm_server *srv, const ebm_http_req *req,
			     ebm_http_ctx **ctx, ebm_http_resp *resp);

/* Largest body the request of ctx may have (the 413 limit). */
uint64_t ebm_http_ctx_max_body(const ebm_http_ctx *ctx);

/* The body grew past the limit while being read (chunked): fills resp with
 * 413 and frees ctx. */
void ebm_http_body_too_large(ebm_server *srv, ebm_http_ctx *ctx,
			     ebm_http_resp *resp);

/* Runs the remaining checks on the complete body (req->body/body_len) and the
 * request itself (commit, read). Frees ctx. resp is always filled. */
void ebm_http_finish(ebm_server *srv, ebm_http_ctx *ctx,
		     const ebm_http_req *req, ebm_http_resp *resp);

void ebm_http_ctx_free(ebm_http_ctx *ctx);

/* The whole request in one call (begin, size check, finish): what the fuzz
 * target uses. EBM_HTTP_UPGRADE is returned for an acceptable upgrade (resp
 * then holds nothing); otherwise resp holds the answer. */
ebm_http_step ebm_http_handle(ebm_server *srv, const ebm_http_req *req,
			      ebm_http_resp *resp);

/* ---- refusals (hostile clients; the budget and counters: ebm_metrics.h) ---- */

/* Fills resp (cleared first) with 503 UNAVAILABLE and Retry-After: 1 for a
 * request refused because the memory budget is spent; route kept. */
void ebm_http_refuse_busy(ebm_server *srv, ebm_http_resp *resp);

/* ---- WebSocket sessions ------------------------------------------------ */

/* Opens a session for an accepted upgrade. user is handed back to the wake
 * function. NULL on allocation failure (the glue drops the connection). */
ebm_ws_session *ebm_ws_open(ebm_server *srv, const char *remote_addr,
			    void *user);

/* Removes the session from every index and frees it. NULL is a no-op. */
void ebm_ws_free(ebm_ws_session *s);

/* Largest message the glue may assemble before calling ebm_ws_on_too_big. */
size_t ebm_ws_max_message(const ebm_server *srv);

/* One complete message (fragments joined). binary: it came in binary frames.
 * The reply, if any, is queued; check ebm_ws_wants_write afterwards. */
void ebm_ws_on_message(ebm_ws_session *s, const char *buf, size_t len,
		       bool binary);

/* A message exceeded ebm_ws_max_message: the session closes with 1009. */
void ebm_ws_on_too_big(ebm_ws_session *s);

/* The deadline from ebm_ws_next_deadline_ms has come (or any timer fired). */
void ebm_ws_on_timer(ebm_ws_session *s);

/* Monotonic ms of the next timer the glue must arm for s; 0: none. */
uint64_t ebm_ws_next_deadline_ms(const ebm_ws_session *s);

/* true while the socket's reads should be paused: its replies reached
 * EBM_WS_MAX_PENDING (a pipelining client is served as it reads, WS-CLOSE-4),
 * or the memory budget is spent and replies are waiting. */
bool ebm_ws_rx_paused(const ebm_ws_session *s);

/* true when ebm_ws_next_out has something to do now. */
bool ebm_ws_wants_write(const ebm_ws_session *s);

typedef enum ebm_ws_out {
	EBM_WS_OUT_NONE = 0,   /* nothing now */
	EBM_WS_OUT_TEXT,       /* send *text (*len bytes, malloc'd, caller frees) */
	EBM_WS_OUT_PING,       /* send a protocol-level ping */
	EBM_WS_OUT_CLOSE,      /* send a close frame with *close_code, then close */
	EBM_WS_OUT_DROP        /* drop the TCP connection without a close frame */
} ebm_ws_out;

/* The next thing to write: close/drop first, then queued replies, then
 * pending notifications (one per call), then a due ping. */
ebm_ws_out ebm_ws_next_out(ebm_ws_session *s, char **text, size_t *len,
			   int *close_code);

/* Server shutdown, one step: sessions are told to close with 1001
 * (WS-CLOSE-1), the glue's wake called for each, until max_closing of them
 * are closing at once; call again as they go. Returns the number of
 * sessions not told yet (0: every session is closing). The pacing is for
 * lws 4.1, which files each close handshake's timeout in a list sorted on
 * insert: 12000 closes at once took ebmock 5 s of CPU. */
size_t ebm_ws_shutdown_step(ebm_server *srv, size_t max_closing);

/* Number of open sessions. */
size_t ebm_ws_count(const ebm_server *srv);

#endif
