/*
 * ebclient.h — libebclient, the kit's reference client SDK of the Early Bird
 * sync protocol (docs/PROTOCOL.md section 12, docs/EBCLIENT.md).
 *
 * One client object talks to one server: it opens stores, keeps their merged
 * state (section 6, through eb_merge), queues local changes (in memory, or in
 * SQLite when given a data file) and pushes them in order with their
 * original ids, follows the stores live over the notification socket and
 * falls back to polling when the socket is lost, with the timers of 12.2.
 *
 * The client never blocks and owns no thread: the application drives it with
 * ebcl_client_step() from its own loop (poll over its fds plus the client's).
 * Every callback runs inside ebcl_client_step() or the call that caused it.
 * Not thread-safe: one thread per client.
 */
#ifndef EBCLIENT_H
#define EBCLIENT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "eb_tls.h"

#define EBCL_VERSION "1.0.0"

typedef struct ebcl_client ebcl_client;

/* The user's activity (CLIENT-POLL-1, CLIENT-POLL-6). */
typedef enum ebcl_activity {
	EBCL_ACTIVE = 0,      /* poll every 30 s */
	EBCL_IDLE,            /* every 300 s */
	EBCL_BACKGROUND       /* every 900 s */
} ebcl_activity;

/* Connection state of section 12.1. */
typedef enum ebcl_conn {
	EBCL_CONNECTING = 0,
	EBCL_LIVE,
	EBCL_POLLING,
	EBCL_STOPPED
} ebcl_conn;

/* Injectable defects for the client suite's self-proof: each breaks one
 * rule of section 12 on purpose. Off unless set with ebcl_client_defect();
 * never use them in production. The table (name, rule, description) is
 * ebcl_defect_info(). */
typedef enum ebcl_defect {
	EBCL_DEFECT_POLLS_WHILE_LIVE = 0,
	EBCL_DEFECT_IGNORES_NOTIFICATION,
	EBCL_DEFECT_PARALLEL_SYNCS,
	EBCL_DEFECT_NO_SYNC_ON_HIGHER_ACK,
	EBCL_DEFECT_SYNCS_STALE_NOTIFICATION,
	EBCL_DEFECT_IGNORES_LOWER_VERSION,
	EBCL_DEFECT_SUBSCRIBE_BEFORE_AUTH_OK,
	EBCL_DEFECT_SUBSCRIBE_BATCH_TOO_LARGE,
	EBCL_DEFECT_NO_SILENT_SOCKET_DETECTION,
	EBCL_DEFECT_PING_FLOOD,
	EBCL_DEFECT_IGNORES_ACTIVITY,
	EBCL_DEFECT_NO_BACKOFF,
	EBCL_DEFECT_BACKOFF_NO_CAP,
	EBCL_DEFECT_BACKOFF_NO_RESET,
	EBCL_DEFECT_IGNORES_RETRY_AFTER,
	EBCL_DEFECT_NO_CATCH_UP,
	EBCL_DEFECT_ACTIVITY_CHANGE_LATE,
	EBCL_DEFECT_READS_TWICE_PER_ROUND,
	EBCL_DEFECT_RECONNECT_EVERY_5S,
	EBCL_DEFECT_NEVER_RECONNECTS,
	EBCL_DEFECT_NEVER_STOPS_POLLING,
	EBCL_DEFECT_NO_ATTEMPT_DEADLINE,
	EBCL_DEFECT_QUEUE_OUT_OF_ORDER,
	EBCL_DEFECT_QUEUE_NEW_IDS,
	EBCL_DEFECT_NO_RESYNC_AFTER_409,
	EBCL_DEFECT_FIRST_PAGE_ONLY,
	EBCL_DEFECT_RETRIES_REJECTED,
	EBCL_DEFECT_BATCH_TOO_LARGE,
	EBCL_DEFECT_KNOWN_VERSION_CURRENT,
	EBCL_DEFECT_MERGE_BY_ARRIVAL,
	EBCL_DEFECT_NO_REAUTH,
	EBCL_DEFECT_NO_401_REFRESH,
	EBCL_DEFECT_NO_4401_RECONNECT,
	EBCL_DEFECT_UNKNOWN_TYPE_CLOSES,
	EBCL_DEFECT_VERSION_AS_DOUBLE,
	EBCL_DEFECT_COUNT
} ebcl_defect;

typedef struct ebcl_defect_desc {
	const char *name;   /* "polls-while-live" */
	const char *rule;   /* "CLIENT-WS-1" */
	const char *desc;   /* one line */
} ebcl_defect_desc;

/* The description of d; NULL when d is out of range. Static storage. */
const ebcl_defect_desc *ebcl_defect_info(ebcl_defect d);

/* The defect named name; -1 when there is none. */
int ebcl_defect_by_name(const char *name);

/* Callbacks; every one may be NULL. ud is passed back unchanged. */
typedef struct ebcl_callbacks {
	/* The token provider (CLIENT-TOKEN-1): returns a malloc'd token the
	 * client then owns, or NULL when there is none (requests then go
	 * without Authorization). Called at start, before each re-auth (90 %
	 * of the token's lifetime), after an HTTP 401 and a close 4401. */
	char *(*token)(void *ud);
	/* A change the server rejected was dropped from the queue
	 * (CLIENT-QUEUE-5): status 400/403/409/413/422, code the error code. */
	void (*rejected)(void *ud, const char *store, const char *change_id,
			 int status, const char *code);
	/* The connection state changed (12.1). */
	void (*state)(void *ud, ebcl_conn state);
	/* A store's merged state may have changed (a read applied changes, a
	 * local change, a rejection). */
	void (*changed)(void *ud, const char *store);
	/* One line worth showing to a person (no trailing newline). */
	void (*log)(void *ud, const char *line);
	void *ud;
} ebcl_callbacks;

typedef struct ebcl_config {
	const char *url;        /* "http://host:port[/base]" (ws:// derived); required */
	double clock_scale;     /* test hook: every computed wait x scale; 0 means 1 */
	ebcl_activity activity; /* initial activity */
	const char *data_file;  /* SQLite file for the queue; NULL: in memory */
	uint64_t seed;          /* jitter seed; 0: from getrandom */
	eb_tls_opts tls;        /* https:// urls: --cacert (copied), --insecure */
	size_t max_response;    /* cap on one HTTP response body; 0: 32 MiB. All
				 * bodies being received share a cap of 64 MiB
				 * (or this, when larger) */
	ebcl_callbacks cb;
} ebcl_config;

/* Creates a stopped client for cfg (strings are copied). NULL with a message
 * in err on a bad url, an unreadable data file, a --cacert without a
 * certificate or no memory. Free with
 * ebcl_client_free. */
ebcl_client *ebcl_client_new(const ebcl_config *cfg, char *err, size_t errlen);

/* Stops (no more network) and frees c and everything it owns. NULL no-op. */
void ebcl_client_free(ebcl_client *c);

/* Turns defect d on (test hook). Call before ebcl_client_start. */
void ebcl_client_defect(ebcl_client *c, ebcl_defect d);

/* True when defect d is on. */
bool ebcl_defect_on(const ebcl_client *c, ebcl_defect d);

/* Starts the client: asks the provider for a token, reads GET /api/limits
 * and opens the socket (state connecting). Returns at once. 0, or -1 with
 * err when already started or stopped. */
int ebcl_client_start(ebcl_client *c, char *err, size_t errlen);

/* Stops the client: closes the socket (1000), abandons requests. After it,
 * no network traffic; state EBCL_STOPPED. Idempotent. */
void ebcl_client_stop(ebcl_client *c);

/* Opens store (STORE-1 id): the client reads it and subscribes it (on the
 * open socket when live). Opening an open store is a no-op. With a data
 * file, the changes queued for store before a restart are loaded and pushed.
 * 0, or -1 with err (bad id, too many stores, no memory). */
int ebcl_client_open(ebcl_client *c, const char *store, char *err, size_t errlen);

/* A local change of an open store (CLIENT-QUEUE-4: id and timestamp are
 * given now): set value (copied; any JSON value) at path (n segments,
 * 1-32), or delete at path when value is NULL. The change joins the queue
 * (and the data file) and the merged state at once. id_out (>= 64 bytes)
 * and ts_out receive the change's id and timestamp (either may be NULL).
 * 0, or -1 with err (store not open, bad path, queue full). */
int ebcl_client_change(ebcl_client *c, const char *store,
		       const char *const *path, size_t n, const cJSON *value,
		       char *id_out, uint64_t *ts_out, char *err, size_t errlen);

/* Tells the client the user's activity (CLIENT-POLL-6). */
void ebcl_client_set_activity(ebcl_client *c, ebcl_activity a);

/* The merged state of an open store: a new object the caller frees with
 * cJSON_Delete (server changes and queued local ones). NULL when the store
 * is not open or on no memory. */
cJSON *ebcl_client_state(ebcl_client *c, const char *store);

/* Last known version of store (0 when not open). */
uint64_t ebcl_client_version(const ebcl_client *c, const char *store);

/* Count of queued, not yet acknowledged changes of store (all stores when
 * store is NULL). */
size_t ebcl_client_pending(const ebcl_client *c, const char *store);

/* True when nothing is queued and no request of the client is in flight. */
bool ebcl_client_quiet(const ebcl_client *c);

/* Current connection state. */
ebcl_conn ebcl_client_conn_state(const ebcl_client *c);

/* Static name of a state ("connecting", "live", "polling", "stopped"). */
const char *ebcl_conn_name(ebcl_conn s);

/* Parses "active", "idle", "background"; false otherwise. */
bool ebcl_activity_parse(const char *s, ebcl_activity *out);

/* Runs the client: waits up to max_wait_ms (0: no wait) for its sockets,
 * its timers and the caller's extra fds (revents filled in, like poll()),
 * then does all work due. The wait ends early at the client's next
 * deadline. Returns the number of extra fds with events (>= 0), or -1 when
 * poll failed (errno kept; EINTR is 0). */
int ebcl_client_step(ebcl_client *c, struct pollfd *extra, size_t n_extra,
		     long max_wait_ms);

#endif
