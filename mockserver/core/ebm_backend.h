/*
 * ebm_backend.h — ebmock nodes sharing one PostgreSQL database (--backend
 * postgresql://…, docs/EBMOCK.md "Cluster mode"), and what the glue needs
 * for requests that wait on it.
 *
 * The database is only ever used from one thread of its own (ebm_pg.c);
 * the loop thread submits jobs, and the results are applied to the
 * in-memory copy of the stores by ebm_server_poll, called by the glue from
 * the loop when the database thread woke it (loop_wake). A request that
 * waits is "pending": the glue keeps its ebm_http_ctx and calls
 * ebm_http_resume when http_wake names it or at its deadline.
 */
#ifndef EBM_BACKEND_H
#define EBM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include "ebm_core.h"

/* Connects to url (a libpq connection URI or key=value string), creates
 * the tables when missing, loads every store (blocking: call before
 * serving) and starts the database thread. loop_wake(arg) is called from
 * that thread whenever results wait: it must only wake the loop (e.g.
 * lws_cancel_service). http_wake(glue, user) is called from
 * ebm_server_poll for a pending request whose answer can now be made.
 * EB_ERR_IO (message in err) when the database cannot be reached. */
eb_rc ebm_server_open_pg(ebm_server *srv, const char *url,
			 void (*loop_wake)(void *arg), void *arg,
			 ebm_wake_fn http_wake, eb_err *err);

/* Loop thread: applies what the database thread finished (changes read,
 * commits made, NOTIFYs of other nodes: their subscribers on this node are
 * notified) and wakes the pending requests. Cheap when nothing waits. */
void ebm_server_poll(ebm_server *srv);

/* After ebm_http_begin (DONE) or ebm_http_finish: the request waits for
 * the database. Returns its context (owned by the caller: resume it, or
 * free it with ebm_http_ctx_free when the connection goes) and clears the
 * server's note; NULL when the answer is in resp. user is handed to
 * http_wake. */
ebm_http_ctx *ebm_http_pending_take(ebm_server *srv, void *user);

/* Monotonic ms at which a pending request is answered 503 whatever the
 * database does (the glue arms a timer for it). */
uint64_t ebm_http_ctx_deadline_ms(const ebm_http_ctx *ctx);

/* Continues a pending request (req as for ebm_http_finish, body included).
 * true: resp holds the answer and ctx was freed; false: still waiting
 * (ctx kept). */
bool ebm_http_resume(ebm_server *srv, ebm_http_ctx *ctx,
		     const ebm_http_req *req, ebm_http_resp *resp);

#endif
