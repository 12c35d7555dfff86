/*
 * ebm_int.h — internals shared by the files of the ebmock core. Not a public
 * header: the glue and the fuzz target use ebm_core.h only.
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
 * commits through an asynchronous job (ebm_job) instead of in place. */
typedef struct ebm_job ebm_job;
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
	/* The fan-out of a commit (ebm_notify_commit, set by ebm_server_new):
	 * the backend reaches the sessions through it, not by name, so the
	 * storage modules stay below the notification module. */
	void (*notify_commit)(ebm_server *srv, ebm_store *st, uint64_t old_version,
			      const char *pusher_subject, bool only_duplicates);
	ebm_http_ctx *pending;         /* left waiting by the last call */
};

/* store (ebm_store.c) */
ebm_store *ebm_store_find(ebm_server *srv, const char *id);
ebm_store *ebm_store_get(ebm_server *srv, const char *id); /* creates in memory */
void ebm_store_maybe_release(ebm_server *srv, ebm_store *st);
/* Index of the change with this id, or -1. */
long ebm_store_lookup(const ebm_store *st, const char *id);
/* First index with version > v. */
size_t ebm_store_first_after(const ebm_store *st, uint64_t v);
/* Appends the n changes of batch (taken over: their members are moved out)
 * with the versions in batch[i].version, then sets the store version to
 * new_version, durably when a database is open (one transaction). */
eb_rc ebm_store_commit(ebm_server *srv, ebm_store *st, eb_change *batch,
		       size_t n, uint64_t new_version, eb_err *err);
eb_rc ebm_store_open_db(ebm_server *srv, const char *path, eb_err *err);
/* The backend of a server without --data or --backend. */
const ebm_backend_ops *ebm_store_memory_ops(void);
/* Appends in memory only (the backend already has them): moves the
 * members out of batch. index false: the ids are not entered in the
 * change-id index (the cluster-idempotency-per-node defect). */
eb_rc ebm_store_append(ebm_store *st, eb_change *batch, size_t n,
		       uint64_t new_version, bool index);
/* A stored change back from the JSON the backends keep. */
eb_rc ebm_store_change_from_json(const char *js, size_t len, uint64_t version,
				 eb_change *c);
/* The JSON a backend keeps for a change (without its version), malloc'd. */
char *ebm_store_change_json(const eb_change *c);

/* remote backend jobs (ebm_pg.c). A job is submitted from the loop thread,
 * run by the database thread, and applied to the memory copy by
 * ebm_server_poll (ebm_backend.h) in the loop thread, which then marks it
 * done and wakes its request. */
typedef enum ebm_job_status {
	EBM_JOB_RUNNING = 0,
	EBM_JOB_OK,          /* refresh read / commit committed */
	EBM_JOB_CONFLICT,    /* commit: the store moved on (or the id is taken);
	                      * the newer changes were read and applied */
	EBM_JOB_FAILED       /* database unreachable or error: 503 */
} ebm_job_status;
/* Reads the changes of store after version `after` into the memory copy. */
ebm_job *ebm_pg_refresh(ebm_server *srv, const char *store, uint64_t after);
/* Commits batch (moved out; versions set) if the store is still at
 * expected; NULL on allocation failure. */
ebm_job *ebm_pg_commit(ebm_server *srv, const char *store, uint64_t expected,
		       eb_change *batch, size_t n, uint64_t new_version,
		       const char *subject);
/* Status; the message of a failure in msg (may be NULL). */
ebm_job_status ebm_job_status_of(const ebm_job *j, char *msg, size_t cap);
/* The glue's handle woken (http_wake) when the job is done. */
void ebm_job_set_user(ebm_job *j, void *user);
/* The request no longer waits: freed now when done, else when it is. */
void ebm_job_release(ebm_job *j);
/* Who waits for the job besides a request: ebm_server_poll calls fn(arg)
 * when it is done, instead of http_wake. The storage side thereby never
 * names the sessions above it (a subscribe parked in ebm_ws.c waits so). */
typedef void (*ebm_job_done_fn)(void *arg);
void ebm_job_on_done(ebm_job *j, ebm_job_done_fn fn, void *arg);
void ebm_store_close_all(ebm_server *srv);

/* auth (ebm_auth.c): verifies a token with the defects that loosen it, and
 * refuses a token whose jti the revoke fault lists (err rule "revoked").
 * EB_OK with *out, or EB_ERR_AUTH. */
eb_rc ebm_auth_verify(ebm_server *srv, const char *token, size_t len,
		      eb_claims **out, eb_err *err);
/* The jti claim of a token (not verified here: call after ebm_auth_verify),
 * malloc'd, NULL when absent or not a string. */
char *ebm_auth_jti(const char *token, size_t len);
/* true when jti is listed by the revoke fault. */
bool ebm_jti_revoked(const ebm_server *srv, const char *jti);

/* notifications (ebm_ws.c) */
void ebm_notify_commit(ebm_server *srv, ebm_store *st, uint64_t old_version,
		       const char *pusher_subject, bool only_duplicates);
/* Applies a fault change to every open session (admin dropWs). */
void ebm_ws_faults_changed(ebm_server *srv, bool drop_now);
/* Admin actions on the open sessions; each returns how many it touched:
 * close every socket with code; close (4401) the sockets whose token's jti
 * is revoked now. */
size_t ebm_ws_close_all(ebm_server *srv, int code);
size_t ebm_ws_close_revoked(ebm_server *srv);
/* The store was dropped or re-versioned: its subscribers forget what they
 * were told, so the next commit notifies them again. */
void ebm_ws_store_reset(ebm_server *srv, ebm_store *st);
/* store (ebm_store.c), admin: forget store id (memory and database);
 * give an empty store the version v. Subscribers are not told (the caller
 * calls ebm_ws_store_reset: the store does not call into the sessions). EB_ERR_ARG (message in err) when the
 * store has changes or v is too large, EB_ERR_IO for the database. */
eb_rc ebm_store_drop(ebm_server *srv, const char *id, eb_err *err);
eb_rc ebm_store_set_version(ebm_server *srv, const char *id, uint64_t v,
			    eb_err *err);

#endif
