/*
 * ebm_int.h — the state shared by the files of the ebmock core: the server,
 * its stores, subscriptions and sessions, and the backend interface. Only
 * types live here; each module's functions are in its own header
 * (ebm_store.h, ebm_pg.h, ebm_auth.h, ebm_ws.h, ...), none of which includes
 * this one. Not a public header: the glue and the fuzz target use ebm_core.h
 * only.
 */
#ifndef EBM_INT_H
#define EBM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "ebm_core.h"
#include "ebm_rate.h"
#include "eb_ids.h"
#include "eb_jwt.h"
#include "eb_msg.h"

typedef struct ebm_sub ebm_sub;
typedef struct ebm_store ebm_store;

/* One subscription: a (session, store) pair, in the session's list and in
 * the store's subscriber list. The pending flag and version are what bound a
 * non-reading client's memory (WS-CLOSE-3): one per pair, newer replaces. */
struct ebm_sub {
	ebm_store *store;
	ebm_ws_session *sess;
	ebm_sub *sess_next;
	ebm_sub *store_prev, *store_next;
	uint64_t last_sent;    /* WS-NOTIF-4: only strictly increasing versions */
	uint64_t pending_old;  /* version before the first pending commit */
	bool pending;
	bool dup_pending;      /* notify-duplicate defect: send even if not newer */
};

struct ebm_store {
	char *id;
	uint64_t version;
	eb_change *changes;    /* ascending version; changes[i].has_version */
	size_t n, cap;
	size_t *idx;           /* open addressing: 0 empty, else change index + 1 */
	size_t idx_cap, idx_used;
	ebm_sub *subs;
	size_t n_subs;
	ebm_store *hnext;
	bool persisted;        /* has a row in the stores table */
	/* remote backend (ebm_pg.c): newest version a NOTIFY announced, and
	 * whether a refresh of this store is in flight */
	uint64_t seen_version;
	bool refreshing;
};

/* Queued WebSocket reply. */
typedef struct ebm_outmsg {
	struct ebm_outmsg *next;
	size_t len;
	char data[];
} ebm_outmsg;

struct ebm_ws_session {
	ebm_server *srv;
	void *user;
	ebm_ws_session *prev, *next;   /* all sessions */
	eb_claims *claims;             /* NULL until authenticated */
	char *subject;                 /* owned copy (claims->sub or address) */
	uint64_t opened_ms;
	uint64_t expire_ms;            /* exp + leeway, mono; 0 none */
	uint64_t ping_due_ms;
	uint64_t flush_ms;             /* coalescing deadline; 0 none */
	uint64_t last_rate_err_ms;     /* RATE-4 */
	ebm_outmsg *out_head, *out_tail;
	size_t out_bytes;              /* charged to the memory budget */
	uint64_t full_since_ms;        /* out_bytes reached EBM_WS_MAX_PENDING
	                                * then, 0: below it (ws_stall_ms) */
	ebm_sub *subs;
	uint32_t n_subs;
	uint32_t n_pending;
	int close_code;                /* > 0: close with it */
	bool authed;
	bool drop;                     /* drop without close frame */
	bool ping_now;
	char addr[48];
	uint64_t conn;                 /* glue's connection number (event log) */
	char *jti;                     /* jti of the token, NULL without one */
	/* shared backend: a subscribe/unsubscribe waits for its stores' newest
	 * versions (the ack tells the current version, WS-SUB-1/4/5 across
	 * nodes); it and the messages after it wait here, reads paused */
	ebm_outmsg *park_head, *park_tail;
	size_t park_bytes;
	struct ebm_job **jobs;
	size_t n_jobs;
};

typedef struct ebm_http_count {
	uint8_t route;
	uint16_t status;
	uint64_t n;
} ebm_http_count;

typedef struct ebm_metrics {
	int64_t connections;
	uint64_t http_requests_total;
	ebm_http_count http[128];
	size_t n_http;
	uint64_t notifications_sent_total;
	uint64_t changes_stored_total;
	uint64_t duplicates_total;
	uint64_t ws_messages_total;
	uint64_t ws_closes_total;
	uint64_t ws_drops_total;
	uint64_t rate_limited_total;
	uint64_t auth_failures_total;
	uint64_t refusals[EBM_REFUSE__COUNT];   /* ebm_refusal */
} ebm_metrics;

/* The storage backend behind the stores (ebm_store.c: memory, SQLite;
 * ebm_pg.c: PostgreSQL). The protocol logic (ebm_http.c) runs on the
 * in-memory copy of every backend; a remote backend (shared by several
 * nodes) also needs that copy refreshed before a request reads it, and
 * commits through an asynchronous job (ebm_job, ebm_pg.h) instead of in
 * place. */
typedef struct ebm_backend_ops {
	const char *name;
	bool remote;
	/* local backends: makes the batch durable before it is appended */
	eb_rc (*commit)(ebm_server *srv, ebm_store *st, const eb_change *batch,
			size_t n, uint64_t new_version, eb_err *err);
	eb_rc (*drop)(ebm_server *srv, const char *id, eb_err *err);
	eb_rc (*set_version)(ebm_server *srv, ebm_store *st, uint64_t v, eb_err *err);
	void (*close)(ebm_server *srv);
} ebm_backend_ops;

/* The store_changed of the fan-out pass under way (ebm_ws.c): encoded once
 * and copied to every subscriber of that store and version, until it is
 * EBM_NOTIF_REUSE_MS old (WS-NOTIF-3). built_ms 0: empty. */
typedef struct ebm_notif_cache {
	uint64_t version, built_ms;
	size_t len;
	char id[EB_STORE_ID_MAX + 1];
	char text[EB_STORE_ID_MAX + 96];
} ebm_notif_cache;

struct ebm_server {
	ebm_config cfg;                /* strings point into owned copies below */
	char *own_secret, *own_pem, *own_issuer, *own_audience, *own_data,
	     *own_admin;
	eb_jwt_verifier *jwt;          /* NULL with no_auth */
	eb_jwt_verifier *jwt_noiss;    /* issuer-ignored defect */
	eb_jwt_verifier *jwt_noaud;    /* aud-array-unchecked defect */
	ebm_faults faults;
	ebm_store **stores;            /* chained hash table */
	size_t stores_cap, n_stores;
	sqlite3 *db;
	sqlite3_stmt *st_insert, *st_store;
	ebm_ws_session *sessions;
	size_t n_sessions;
	size_t n_subs_total;
	ebm_buckets rate_http, rate_ws;
	ebm_wake_fn wake;
	void *glue;
	ebm_metrics m;
	ebm_notif_cache notif;         /* ebm_ws.c, the fan-out pass */
	uint64_t mem_used;             /* charged to cfg.mem_budget_bytes */
	struct ebm_evlog *evlog;       /* borrowed, NULL: no event log */
	const ebm_backend_ops *be;     /* never NULL (memory by default) */
	struct ebm_pg *pg;             /* ebm_pg.c, NULL without --backend */
	ebm_wake_fn http_wake;         /* a pending request's job is done */
	/* The fan-out of a commit (ebm_ws_notify_commit, set by ebm_server_new):
	 * the backend reaches the sessions through it, not by name, so the
	 * storage modules stay below the notification module. */
	void (*notify_commit)(ebm_server *srv, ebm_store *st, uint64_t old_version,
			      const char *pusher_subject, bool only_duplicates);
	ebm_http_ctx *pending;         /* left waiting by the last call */
};

#endif
