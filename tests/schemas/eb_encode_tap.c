/*
 * eb_encode_tap.c — a tap on the protocol library's encoders for
 * tests/scripts/schemas.sh. The unit tests of the protocol library
 * (check_msg, check_ws), of ebmock's handlers, of the client SDK and of
 * ebload's message scanner are linked a second time
 * (build/<config>/schema-tap/, SCHEMA_TAP_TESTS in the Makefile) with
 * `-Wl,--wrap=<encoder>` for every encoder below, so each call they make
 * goes through __wrap_<encoder>: it calls the real encoder and, when
 * EB_SCHEMA_DUMP_DIR is set, writes what it encoded to a file of that folder
 * named after the message kind ("ws-auth_ok-XXXXXX.json", "error-409-…",
 * "sync-response-…"). The script then validates every file against the
 * matching schema of docs/openapi.yaml or docs/asyncapi.yaml, so a message
 * the library encodes in its own tests that the documents do not describe
 * fails the build. Without the variable the tap only forwards.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_msg.h"
#include "eb_ws.h"

/* Writes text to a new, uniquely named file of $EB_SCHEMA_DUMP_DIR
 * (mkstemps: the tests fork, so no counter could be shared). Best effort:
 * a tap that cannot write leaves the file out, and the script's count of
 * files per kind catches a tap that writes nothing. */
static void dump(eb_rc rc, const char *kind, char *const *out)
{
	const char *dir = getenv("EB_SCHEMA_DUMP_DIR");
	char path[4096];
	FILE *f;
	int fd;

	if (rc != EB_OK || !dir || !*dir || !out || !*out)
		return;
	if (snprintf(path, sizeof path, "%s/%s-XXXXXX.json", dir, kind) >= (int)sizeof path)
		return;
	fd = mkstemps(path, 5);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return;
	}
	fputs(*out, f);
	fclose(f);
}

/* The dump kind of an error body: "error-<status>" with the HTTP status the
 * table of PROTOCOL.md section 7 gives its code; "error-0" for a code the
 * table does not have (no schema accepts it). */
static const char *error_kind(const char *code)
{
	static const struct { const char *code, *kind; } table[] = {
		{ "INVALID_JSON", "error-400" }, { "INVALID_REQUEST", "error-400" },
		{ "INVALID_STORE_ID", "error-400" }, { "UNAUTHORIZED", "error-401" },
		{ "FORBIDDEN", "error-403" }, { "NOT_FOUND", "error-404" },
		{ "METHOD_NOT_ALLOWED", "error-405" }, { "RESYNC_REQUIRED", "error-409" },
		{ "CHANGE_ID_CONFLICT", "error-409" }, { "PAYLOAD_TOO_LARGE", "error-413" },
		{ "UNSUPPORTED_MEDIA_TYPE", "error-415" }, { "LIMIT_EXCEEDED", "error-422" },
		{ "TIMESTAMP_IN_FUTURE", "error-422" }, { "RATE_LIMITED", "error-429" },
		{ "INTERNAL", "error-500" }, { "UNAVAILABLE", "error-503" },
	};
	size_t i;

	for (i = 0; code && i < sizeof table / sizeof table[0]; i++)
		if (strcmp(code, table[i].code) == 0)
			return table[i].kind;
	return "error-0";
}

/* One tap: the real encoder as --wrap names it, and its wrapper, which
 * calls it and dumps what it encoded as kind (an expression of the
 * parameters). The prototypes are for -Wmissing-prototypes; the linker
 * finds both by name. */
#define TAP(name, kind, params, args) \
	eb_rc __real_##name params; \
	eb_rc __wrap_##name params; \
	eb_rc __wrap_##name params \
	{ \
		eb_rc rc = __real_##name args; \
		dump(rc, kind, out); \
		return rc; \
	}

TAP(eb_sync_request_encode, "sync-request",
    (const eb_sync_request *r, char **out), (r, out))
TAP(eb_sync_response_encode, "sync-response",
    (const eb_sync_response *r, char **out), (r, out))
TAP(eb_error_body_encode, error_kind(code),
    (const char *code, const char *message, const eb_problems *problems,
     int64_t current_version, char **out),
    (code, message, problems, current_version, out))
TAP(eb_limits_encode, "limits", (const eb_limits *l, char **out), (l, out))
TAP(eb_ws_encode_auth, "ws-auth",
    (const char *request_id, const char *token, char **out), (request_id, token, out))
TAP(eb_ws_encode_subscribe, unsubscribe ? "ws-unsubscribe" : "ws-subscribe",
    (const char *request_id, bool unsubscribe, const char *const *store_ids, size_t n,
     char **out),
    (request_id, unsubscribe, store_ids, n, out))
TAP(eb_ws_encode_ping, "ws-ping", (const char *request_id, char **out), (request_id, out))
TAP(eb_ws_encode_auth_ok, "ws-auth_ok",
    (const char *request_id, const char *subject, uint64_t expires_at_ms, char **out),
    (request_id, subject, expires_at_ms, out))
TAP(eb_ws_encode_sub_ack, unsubscribed ? "ws-unsubscribed" : "ws-subscribed",
    (const char *request_id, bool unsubscribed, const eb_ws_store_version *stores,
     size_t n_stores, const eb_ws_store_error *errors, size_t n_errors, char **out),
    (request_id, unsubscribed, stores, n_stores, errors, n_errors, out))
TAP(eb_ws_encode_pong, "ws-pong", (const char *request_id, char **out), (request_id, out))
TAP(eb_ws_encode_store_changed, "ws-store_changed",
    (const char *store_id, uint64_t version, uint64_t timestamp_ms, char **out),
    (store_id, version, timestamp_ms, out))
TAP(eb_ws_encode_error, "ws-error",
    (const char *request_id, const char *code, const char *message, char **out),
    (request_id, code, message, out))
