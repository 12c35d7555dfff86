/*
 * eb_msg.h — the HTTP messages of the protocol: changes, the sync request and
 * response, the changes-feed response (same shape as the sync response), the
 * error body and the limits document. Parse from bytes, validate against
 * PROTOCOL.md, encode back to JSON.
 */
#ifndef EB_MSG_H
#define EB_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "eb_buf.h"
#include "eb_error.h"

#define EB_MAX_UINT53 9007199254740991ULL

typedef enum eb_op { EB_OP_SET = 1, EB_OP_DELETE = 2 } eb_op;

/* Limits of PROTOCOL.md section 8 (and the advertised extras of LIMIT-10). */
typedef struct eb_limits {
	uint64_t max_body_bytes;          /* 1048576 */
	uint32_t max_changes_per_request; /* 500 */
	uint32_t max_path_segments;       /* 32 */
	uint32_t max_path_segment_bytes;  /* 256 */
	uint32_t max_value_bytes;         /* 65536 */
	uint32_t max_value_depth;         /* 32 */
	uint32_t max_change_id_bytes;     /* 128 */
	uint32_t max_frame_bytes;         /* 65536 */
	uint32_t max_page_limit;          /* 1000 */
	uint32_t max_subscriptions;       /* 100 */
	uint64_t timestamp_skew_ms;       /* 60000 */
	uint32_t coalesce_ms;             /* 0 = no coalescing */
	bool rate_limit_on;               /* false: no "rateLimit" member */
	double http_per_second, http_burst, ws_per_second, ws_burst;
} eb_limits;

/* Fills l with the defaults of section 8 (rate limiting off). */
void eb_limits_default(eb_limits *l);

/* Parses a GET /api/limits body (LIMIT-10). Missing members keep the defaults
 * already in *out (call eb_limits_default first). EB_ERR_JSON / EB_ERR_SHAPE. */
eb_rc eb_limits_parse(const char *buf, size_t len, eb_limits *out, eb_err *err);

/* Encodes l as the LIMIT-10 document. *out malloc'd, caller frees. */
eb_rc eb_limits_encode(const eb_limits *l, char **out);

typedef struct eb_change {
	char *id;            /* NUL-terminated, owned */
	uint64_t timestamp;
	eb_op op;
	char **path;         /* path_len owned NUL-terminated segments */
	size_t path_len;
	cJSON *value;        /* owned; NULL for delete; a cJSON null node for "value": null */
	uint64_t version;    /* valid when has_version */
	bool has_version;
} eb_change;

/* Frees the members of c (not c itself). NULL is a no-op. */
void eb_change_clear(eb_change *c);

/* Deep copy of src into *dst (dst's old contents are not freed). */
eb_rc eb_change_copy(eb_change *dst, const eb_change *src);

/* Canonical content equality for IDEM-2: timestamp, operation, path, value. */
bool eb_change_same_content(const eb_change *a, const eb_change *b);

/* Builds the JSON object of c (with "version" when has_version). Caller owns
 * the result (cJSON_Delete). NULL on allocation failure. */
cJSON *eb_change_to_json(const eb_change *c);

/* Appends c's JSON object to b as eb_json_print prints eb_change_to_json(c)
 * (no tree is built: the encoders write straight into one buffer). A NULL
 * path segment, which eb_change_to_json cannot hold, sets b->oom as a
 * failed allocation does. c must not be NULL. */
void eb_change_put(eb_buf *b, const eb_change *c);

/* One entry of an error body's "errors" (ERR-2). */
typedef struct eb_problem {
	long index;          /* -1: about a top-level field */
	char field[128];
	char code[32];       /* INVALID_FIELD, LIMIT_EXCEEDED, TIMESTAMP_IN_FUTURE, CHANGE_ID_CONFLICT */
	char rule[24];       /* rule id broken; not sent on the wire */
	char msg[160];
} eb_problem;

typedef struct eb_problems {
	eb_problem *items;   /* owned */
	size_t n, cap;
} eb_problems;

/* Frees the items of p and zeroes it. NULL is a no-op. */
void eb_problems_clear(eb_problems *p);

/* Appends one problem; strings are truncated to the struct's sizes, NULL is
 * stored as "". After 10000 entries further ones are dropped silently (a
 * request failing that many changes also breaks LIMIT-2). p NULL is a no-op.
 * EB_OK or EB_ERR_NOMEM. */
eb_rc eb_problems_add(eb_problems *p, long index, const char *field,
		      const char *code, const char *rule, const char *msg);

typedef struct eb_sync_request {
	uint64_t last_known_version;
	eb_change *changes;  /* n owned changes */
	size_t n;
	uint32_t limit;      /* 1..max_page_limit; max_page_limit when absent */
	bool has_limit;
} eb_sync_request;

/* Parses and validates a sync request body with the checks of ERR-3 steps 7-9
 * in that order: JSON (EB_ERR_JSON), shape and types (EB_ERR_SHAPE), limits
 * (EB_ERR_LIMIT, batch size first, then per change). On a per-change failure
 * every failing change gets one eb_problem (its first failing field, in the
 * field order of section 7) appended to *problems (may be NULL), and err
 * holds the first. A bad top-level field (lastKnownVersion, changes, limit;
 * the batch size) gives one problem with index -1; a body that is not an
 * object gives none (err code INVALID_REQUEST). Per-field codes are
 * INVALID_FIELD or LIMIT_EXCEEDED; the caller maps rc to the top-level code.
 * Rules cited: SYNC-1, GEN-5, LIMIT-7 (top level), CHG-1..CHG-6 (shape),
 * LIMIT-2, LIMIT-3, LIMIT-4, LIMIT-5 (limits). Values nested deeper than
 * max_value_depth are LIMIT_EXCEEDED up to cJSON's nesting limit (997 levels
 * inside a request), INVALID_JSON beyond. lim NULL means the defaults.
 * Timestamps and conflicts are NOT checked here (they need the clock and the
 * store). On EB_OK *out is the caller's, freed with eb_sync_request_free. */
eb_rc eb_sync_request_parse(const char *buf, size_t len, const eb_limits *lim,
			    eb_sync_request **out, eb_problems *problems,
			    eb_err *err);

/* TS-2: every change with timestamp > now_ms + skew_ms gets a problem
 * (code TIMESTAMP_IN_FUTURE). EB_OK or EB_ERR_TIMESTAMP. */
eb_rc eb_sync_request_check_timestamps(const eb_sync_request *req,
				       uint64_t now_ms, uint64_t skew_ms,
				       eb_problems *problems, eb_err *err);

/* IDEM-4: two changes of one request with the same id and different content.
 * Returns EB_ERR_CONFLICT naming the later index, else EB_OK. */
eb_rc eb_sync_request_check_internal_conflicts(const eb_sync_request *req,
					       eb_problems *problems,
					       eb_err *err);

/* Frees r and everything it owns. NULL is a no-op. */
void eb_sync_request_free(eb_sync_request *r);

/* Encodes r; "limit" only when has_limit. *out malloc'd, caller frees. */
eb_rc eb_sync_request_encode(const eb_sync_request *r, char **out);

/* The 200 body of both sync and the changes feed (SYNC-4, FEED-3). */
typedef struct eb_sync_response {
	uint64_t current_version;
	eb_change *changes;  /* n owned changes, each with has_version */
	size_t n;
	uint64_t to_version;
	bool has_more;
} eb_sync_response;

/* Parses a sync/changes response as a client must: SYNC-4 shape, every change
 * valid per CHG-1..CHG-6 and carrying an integer version (VER-6). Unknown
 * members are ignored (GEN-3). It does NOT check ordering or density; that is
 * the conformance suite's job. On EB_OK *out is freed with
 * eb_sync_response_free. */
eb_rc eb_sync_response_parse(const char *buf, size_t len,
			     eb_sync_response **out, eb_err *err);

void eb_sync_response_free(eb_sync_response *r);

/* Encodes r. *out malloc'd, caller frees. */
eb_rc eb_sync_response_encode(const eb_sync_response *r, char **out);

/* The error body of section 7. */
typedef struct eb_error_body {
	char *code;          /* owned */
	char *message;       /* owned */
	eb_problems errors;  /* may be empty */
	bool has_errors;     /* "errors" member present */
	uint64_t current_version; /* RESYNC_REQUIRED extension */
	bool has_current_version;
} eb_error_body;

/* Parses an error body per ERR-1/ERR-2: an object with string code and
 * message; errors, where present, an array of objects with field (string),
 * code (string) and optional integer index. EB_ERR_JSON / EB_ERR_SHAPE with
 * rule ERR-1 or ERR-2. *out freed with eb_error_body_free. */
eb_rc eb_error_body_parse(const char *buf, size_t len, eb_error_body **out,
			  eb_err *err);

void eb_error_body_free(eb_error_body *b);

/* Encodes an error body. problems may be NULL or empty (then no "errors");
 * current_version < 0 means absent. *out malloc'd, caller frees. */
eb_rc eb_error_body_encode(const char *code, const char *message,
			   const eb_problems *problems, int64_t current_version,
			   char **out);

#endif
