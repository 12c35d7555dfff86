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

/* The real encoders, as --wrap names them. */
eb_rc __real_eb_sync_request_encode(const eb_sync_request *r, char **out);
eb_rc __real_eb_sync_response_encode(const eb_sync_response *r, char **out);
eb_rc __real_eb_error_body_encode(const char *code, const char *message,
				  const eb_problems *problems, int64_t current_version,
				  char **out);
eb_rc __real_eb_limits_encode(const eb_limits *l, char **out);
eb_rc __real_eb_ws_encode_auth(const char *request_id, const char *token, char **out);
eb_rc __real_eb_ws_encode_subscribe(const char *request_id, bool unsubscribe,
				    const char *const *store_ids, size_t n, char **out);
eb_rc __real_eb_ws_encode_ping(const char *request_id, char **out);
eb_rc __real_eb_ws_encode_auth_ok(const char *request_id, const char *subject,
				  uint64_t expires_at_ms, char **out);
eb_rc __real_eb_ws_encode_sub_ack(const char *request_id, bool unsubscribed,
				  const eb_ws_store_version *stores, size_t n_stores,
				  const eb_ws_store_error *errors, size_t n_errors,
				  char **out);
eb_rc __real_eb_ws_encode_pong(const char *request_id, char **out);
eb_rc __real_eb_ws_encode_store_changed(const char *store_id, uint64_t version,
					uint64_t timestamp_ms, char **out);
eb_rc __real_eb_ws_encode_error(const char *request_id, const char *code,
				const char *message, char **out);

/* Their wrappers (prototypes for -Wmissing-prototypes; the linker finds
 * them by name). */
eb_rc __wrap_eb_sync_request_encode(const eb_sync_request *r, char **out);
eb_rc __wrap_eb_sync_response_encode(const eb_sync_response *r, char **out);
eb_rc __wrap_eb_error_body_encode(const char *code, const char *message,
				  const eb_problems *problems, int64_t current_version,
				  char **out);
eb_rc __wrap_eb_limits_encode(const eb_limits *l, char **out);
eb_rc __wrap_eb_ws_encode_auth(const char *request_id, const char *token, char **out);
eb_rc __wrap_eb_ws_encode_subscribe(const char *request_id, bool unsubscribe,
				    const char *const *store_ids, size_t n, char **out);
eb_rc __wrap_eb_ws_encode_ping(const char *request_id, char **out);
eb_rc __wrap_eb_ws_encode_auth_ok(const char *request_id, const char *subject,
				  uint64_t expires_at_ms, char **out);
eb_rc __wrap_eb_ws_encode_sub_ack(const char *request_id, bool unsubscribed,
				  const eb_ws_store_version *stores, size_t n_stores,
				  const eb_ws_store_error *errors, size_t n_errors,
				  char **out);
eb_rc __wrap_eb_ws_encode_pong(const char *request_id, char **out);
eb_rc __wrap_eb_ws_encode_store_changed(const char *store_id, uint64_t version,
					uint64_t timestamp_ms, char **out);
eb_rc __wrap_eb_ws_encode_error(const char *request_id, const char *code,
				const char *message, char **out);

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

/* The HTTP status the table of PROTOCOL.md section 7 gives an error code;
 * 0 for a code the table does not have (dumped as "error-0", which no
 * schema accepts). */
static int error_status(const char *code)
{
	static const struct { const char *code; int status; } table[] = {
		{ "INVALID_JSON", 400 }, { "INVALID_REQUEST", 400 },
		{ "INVALID_STORE_ID", 400 }, { "UNAUTHORIZED", 401 },
		{ "FORBIDDEN", 403 }, { "NOT_FOUND", 404 },
		{ "METHOD_NOT_ALLOWED", 405 }, { "RESYNC_REQUIRED", 409 },
		{ "CHANGE_ID_CONFLICT", 409 }, { "PAYLOAD_TOO_LARGE", 413 },
		{ "UNSUPPORTED_MEDIA_TYPE", 415 }, { "LIMIT_EXCEEDED", 422 },
		{ "TIMESTAMP_IN_FUTURE", 422 }, { "RATE_LIMITED", 429 },
		{ "INTERNAL", 500 }, { "UNAVAILABLE", 503 },
	};
	size_t i;

	for (i = 0; code && i < sizeof table / sizeof table[0]; i++)
		if (strcmp(code, table[i].code) == 0)
			return table[i].status;
	return 0;
}

eb_rc __wrap_eb_sync_request_encode(const eb_sync_request *r, char **out)
{
	eb_rc rc = __real_eb_sync_request_encode(r, out);

	dump(rc, "sync-request", out);
	return rc;
}

eb_rc __wrap_eb_sync_response_encode(const eb_sync_response *r, char **out)
{
	eb_rc rc = __real_eb_sync_response_encode(r, out);

	dump(rc, "sync-response", out);
	return rc;
}

eb_rc __wrap_eb_error_body_encode(const char *code, const char *message,
				  const eb_problems *problems, int64_t current_version,
				  char **out)
{
	eb_rc rc = __real_eb_error_body_encode(code, message, problems, current_version, out);
	char kind[32];

	snprintf(kind, sizeof kind, "error-%d", error_status(code));
	dump(rc, kind, out);
	return rc;
}

eb_rc __wrap_eb_limits_encode(const eb_limits *l, char **out)
{
	eb_rc rc = __real_eb_limits_encode(l, out);

	dump(rc, "limits", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_auth(const char *request_id, const char *token, char **out)
{
	eb_rc rc = __real_eb_ws_encode_auth(request_id, token, out);

	dump(rc, "ws-auth", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_subscribe(const char *request_id, bool unsubscribe,
				    const char *const *store_ids, size_t n, char **out)
{
	eb_rc rc = __real_eb_ws_encode_subscribe(request_id, unsubscribe, store_ids, n, out);

	dump(rc, unsubscribe ? "ws-unsubscribe" : "ws-subscribe", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_ping(const char *request_id, char **out)
{
	eb_rc rc = __real_eb_ws_encode_ping(request_id, out);

	dump(rc, "ws-ping", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_auth_ok(const char *request_id, const char *subject,
				  uint64_t expires_at_ms, char **out)
{
	eb_rc rc = __real_eb_ws_encode_auth_ok(request_id, subject, expires_at_ms, out);

	dump(rc, "ws-auth_ok", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_sub_ack(const char *request_id, bool unsubscribed,
				  const eb_ws_store_version *stores, size_t n_stores,
				  const eb_ws_store_error *errors, size_t n_errors,
				  char **out)
{
	eb_rc rc = __real_eb_ws_encode_sub_ack(request_id, unsubscribed, stores, n_stores,
					       errors, n_errors, out);

	dump(rc, unsubscribed ? "ws-unsubscribed" : "ws-subscribed", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_pong(const char *request_id, char **out)
{
	eb_rc rc = __real_eb_ws_encode_pong(request_id, out);

	dump(rc, "ws-pong", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_store_changed(const char *store_id, uint64_t version,
					uint64_t timestamp_ms, char **out)
{
	eb_rc rc = __real_eb_ws_encode_store_changed(store_id, version, timestamp_ms, out);

	dump(rc, "ws-store_changed", out);
	return rc;
}

eb_rc __wrap_eb_ws_encode_error(const char *request_id, const char *code,
				const char *message, char **out)
{
	eb_rc rc = __real_eb_ws_encode_error(request_id, code, message, out);

	dump(rc, "ws-error", out);
	return rc;
}
