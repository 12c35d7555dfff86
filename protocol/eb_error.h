/*
 * eb_error.h — the one return-code enum of the Early Bird protocol library and
 * the error record callers supply.
 *
 * Every library function that can fail returns an eb_rc and, when the caller
 * passes a non-NULL eb_err, fills it with the rule id of docs/PROTOCOL.md that
 * was broken, the JSON path of the field, the wire error code and a message.
 * The library never prints and never aborts.
 */
#ifndef EB_ERROR_H
#define EB_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum eb_rc {
	EB_OK = 0,
	EB_ERR_NOMEM,          /* allocation failed */
	EB_ERR_ARG,            /* caller passed an invalid argument (a bug) */
	EB_ERR_JSON,           /* not one JSON text / bad UTF-8 / duplicate key: 400 INVALID_JSON */
	EB_ERR_SHAPE,          /* wrong shape or type: 400 INVALID_REQUEST (WS: close 4400) */
	EB_ERR_LIMIT,          /* a limit of section 8 broken: 422 LIMIT_EXCEEDED */
	EB_ERR_TIMESTAMP,      /* TS-2: 422 TIMESTAMP_IN_FUTURE */
	EB_ERR_CONFLICT,       /* IDEM-3/4: 409 CHANGE_ID_CONFLICT */
	EB_ERR_AUTH,           /* token refused: 401 / close 4401 */
	EB_ERR_FORBIDDEN,      /* permission missing: 403 */
	EB_ERR_NOT_FOUND,      /* no such route: 404 */
	EB_ERR_IO,             /* storage or OS error (programs only) */
	EB_ERR_INTERNAL        /* anything else: 500 */
} eb_rc;

/* Caller-owned error record. Strings are always NUL-terminated (truncated
 * if needed). index is -1 when the error is not about one change. */
typedef struct eb_err {
	char rule[24];   /* e.g. "CHG-4"; "" if none applies */
	char field[128]; /* e.g. "changes[3].path[1]"; "" for the whole message */
	char code[32];   /* wire code, e.g. "INVALID_FIELD", "LIMIT_EXCEEDED" */
	char msg[256];   /* human-readable */
	long index;
} eb_err;

/* Wire error codes of PROTOCOL.md section 7. */
#define EB_CODE_INVALID_JSON        "INVALID_JSON"
#define EB_CODE_INVALID_REQUEST     "INVALID_REQUEST"
#define EB_CODE_INVALID_FIELD       "INVALID_FIELD"
#define EB_CODE_INVALID_STORE_ID    "INVALID_STORE_ID"
#define EB_CODE_UNAUTHORIZED        "UNAUTHORIZED"
#define EB_CODE_FORBIDDEN           "FORBIDDEN"
#define EB_CODE_NOT_FOUND           "NOT_FOUND"
#define EB_CODE_METHOD_NOT_ALLOWED  "METHOD_NOT_ALLOWED"
#define EB_CODE_RESYNC_REQUIRED     "RESYNC_REQUIRED"
#define EB_CODE_CHANGE_ID_CONFLICT  "CHANGE_ID_CONFLICT"
#define EB_CODE_PAYLOAD_TOO_LARGE   "PAYLOAD_TOO_LARGE"
#define EB_CODE_UNSUPPORTED_MEDIA   "UNSUPPORTED_MEDIA_TYPE"
#define EB_CODE_LIMIT_EXCEEDED      "LIMIT_EXCEEDED"
#define EB_CODE_TIMESTAMP_IN_FUTURE "TIMESTAMP_IN_FUTURE"
#define EB_CODE_RATE_LIMITED        "RATE_LIMITED"
#define EB_CODE_INTERNAL            "INTERNAL"
#define EB_CODE_UNAVAILABLE         "UNAVAILABLE"
#define EB_CODE_UNKNOWN_TYPE        "UNKNOWN_TYPE"

/* WebSocket close codes of PROTOCOL.md section 10.5. */
#define EB_WS_CLOSE_GOING_AWAY   1001
#define EB_WS_CLOSE_TOO_BIG      1009
#define EB_WS_CLOSE_RESTART      1012
#define EB_WS_CLOSE_MALFORMED    4400
#define EB_WS_CLOSE_AUTH         4401
#define EB_WS_CLOSE_AUTH_TIMEOUT 4408
#define EB_WS_CLOSE_RATE_LIMITED 4429

/* Fills err (if non-NULL) and returns rc. fmt is printf-style; rule, field and
 * code may be NULL (stored as ""). index -1 when not about one change. */
eb_rc eb_err_set(eb_err *err, eb_rc rc, const char *rule, const char *field,
		 const char *code, long index, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* vsnprintf(dst, cap, fmt, ap) with the same text, truncation and return
 * (the length the whole text has; negative on an output error), but a
 * format without conversions, "%s" and "%s: %s" (non-NULL strings) are
 * copied without vsnprintf: most refusals are such, and under the fuzz
 * build vsnprintf's interceptor parsing the format was a sixth of a
 * target's time. cap > 0. */
int eb_err_vformat(char *dst, size_t cap, const char *fmt, va_list ap);

/* Resets err to "no error" (empty strings, index -1). NULL is a no-op. */
void eb_err_clear(eb_err *err);

/* Static name of rc, e.g. "EB_ERR_SHAPE". Never NULL. */
const char *eb_rc_name(eb_rc rc);

/* HTTP status of a wire error code from the table of section 7 (e.g.
 * "RESYNC_REQUIRED" -> 409); 500 for unknown codes. */
int eb_code_http_status(const char *code);

#endif
