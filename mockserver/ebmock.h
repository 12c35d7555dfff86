/*
 * ebmock.h — what the lws glue files of ebmock share: the per-context state
 * (reached from any wsi through lws_context_user) and the two protocols.
 * The protocol logic lives in the socket-free core (core/ebm_core.h).
 */
#ifndef EBMOCK_H
#define EBMOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include "core/ebm_core.h"

struct notify_pss;
struct http_pss;

/* Close handshakes in flight at once during shutdown (ebm_ws_shutdown_step). */
#define EBMOCK_SHUTDOWN_CLOSING 500

/* The deadlines of every notification socket in one binary heap, served by
 * one lws timer: lws keeps its timers in a sorted list (an O(n) insert), so
 * per-socket wsi timers made every re-arm cost a walk over all sockets. */
typedef struct ebmock_timers {
	struct notify_pss **heap;
	size_t n, cap;
	lws_sorted_usec_list_t sul;
	uint64_t armed_ms;       /* deadline the sul is set for, 0: not set */
} ebmock_timers;

/* Per-process glue state; one instance lives in main(). */
typedef struct ebmock_glue {
	ebm_server *srv;
	struct lws_context *ctx;
	bool quiet;
	unsigned max_conns;      /* 0: no limit */
	unsigned n_conns;
	bool shutting_down;
	bool evlib;              /* libev (epoll) loop instead of poll() */
	bool loop_ended;         /* main.c destroyed the context from its tick */
	uint64_t shutdown_deadline_ms;
	size_t shutdown_waiting;  /* sessions not yet told to close */
	lws_sorted_usec_list_t tick;   /* main.c: stop flag and shutdown, libev loop */
	ebmock_timers timers;    /* proto_notify.c */
	unsigned char *wbuf;     /* LWS_PRE + the message being written */
	size_t wbuf_cap;
	uint64_t last_conn;      /* connections numbered for the event log */
	/* the open-file limit (hostile clients): accepting pauses for
	 * EBMOCK_ACCEPT_PAUSE_MS when an accepted socket's fd is within
	 * EBMOCK_FD_RESERVE of the limit, instead of spinning on EMFILE */
	unsigned fd_limit;       /* RLIMIT_NOFILE at start, 0: unknown */
	struct lws *listen_wsi;  /* seen in FILTER_NETWORK_CONNECTION */
	bool accept_paused;
	lws_sorted_usec_list_t accept_sul;
	/* requests waiting for their body, oldest first (one body timeout
	 * for all, so also ordered by deadline); one timer sweeps them
	 * (proto_http.c) instead of a sorted lws timer per connection */
	struct http_pss *body_first, *body_last;
	lws_sorted_usec_list_t body_sul;
	bool body_sul_armed;
} ebmock_glue;

#define EBMOCK_FD_RESERVE 16
#define EBMOCK_ACCEPT_PAUSE_MS 100

/* An accepted socket (fd) arrived on the listen wsi: false when it must be
 * refused because the process is near its open-file limit (accepting is
 * then paused for a while; main.c resumes it). */
bool ebmock_accept_ok(ebmock_glue *g, struct lws *listen_wsi, int fd);

/* The number of wsi's TCP connection ("conn" in the event log, from 1),
 * given at its first request and kept in lws's opaque user pointer, which
 * survives the upgrade to a WebSocket. */
uint64_t ebmock_conn_of(struct lws *wsi);

/* The glue state of wsi's context. */
ebmock_glue *ebmock_glue_of(struct lws *wsi);

/* HTTP (all routes, and the upgrade check). Index 0 of the protocol list. */
int ebmock_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len);
size_t ebmock_http_pss_size(void);

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE for either protocol: 0 lets the upgrade
 * proceed, 1 after writing a refusal (e.g. the refuse-ws fault's 503), -1
 * hangs up. */
int ebmock_confirm_upgrade(struct lws *wsi);

/* The notification WebSocket (/api/sync/notifications). */
int ebmock_notify_callback(struct lws *wsi, enum lws_callback_reasons reason,
			   void *user, void *in, size_t len);
size_t ebmock_notify_pss_size(void);

/* ebm_wake_fn of the core: re-arms writable and timer of one session. */
void ebmock_notify_wake(void *glue, void *user);

/* http_wake of the core (--backend): user is the wsi of a pending request. */
void ebmock_http_wake(void *glue, void *user);

/* Liveness of a notification socket, lws's default rule: a ping after this
 * long without a sign of life (open, pong), a hang-up if still nothing at
 * the second mark. Kept by proto_notify.c in its timer heap; lws's own
 * per-socket idle timer is off (main.c), as its re-arm walks every socket. */
#define EBMOCK_IDLE_PING_MS 300000u
#define EBMOCK_IDLE_HANGUP_MS 310000u

/* Frees the timer heap and the write buffer (after lws_context_destroy). */
void ebmock_notify_cleanup(ebmock_glue *g);

#endif
