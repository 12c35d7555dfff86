/*
 * eb_ws.h — the WebSocket messages of PROTOCOL.md section 10, both directions.
 */
#ifndef EB_WS_H
#define EB_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eb_error.h"

#define EB_WS_REQUEST_ID_MAX 64
#define EB_WS_MAX_STORE_IDS 100

typedef enum eb_ws_client_type {
	EB_WS_C_UNKNOWN = 0,   /* well-formed, type not known: reply UNKNOWN_TYPE (WS-3) */
	EB_WS_C_AUTH,
	EB_WS_C_SUBSCRIBE,
	EB_WS_C_UNSUBSCRIBE,
	EB_WS_C_PING
} eb_ws_client_type;

typedef struct eb_ws_client_msg {
	eb_ws_client_type type;
	char *type_str;      /* owned, the "type" as sent */
	char *request_id;    /* owned; NULL only for EB_WS_C_UNKNOWN without one */
	char *token;         /* owned; auth only */
	char **store_ids;    /* owned; subscribe/unsubscribe: n_store_ids entries, NOT validated against STORE-1 (per-store errors) */
	size_t n_store_ids;
} eb_ws_client_msg;

/* Parses a client->server text message. EB_ERR_JSON or EB_ERR_SHAPE (rule
 * WS-2 / WS-SUB-6; the server closes 4400). An unknown type that is otherwise
 * an object with a string "type" is EB_OK with EB_WS_C_UNKNOWN. On EB_OK *out
 * is freed with eb_ws_client_msg_free. */
eb_rc eb_ws_client_msg_parse(const char *buf, size_t len,
			     eb_ws_client_msg **out, eb_err *err);

void eb_ws_client_msg_free(eb_ws_client_msg *m);

/* Client message encoders; *out malloc'd, caller frees. */
eb_rc eb_ws_encode_auth(const char *request_id, const char *token, char **out);
eb_rc eb_ws_encode_subscribe(const char *request_id, bool unsubscribe,
			     const char *const *store_ids, size_t n, char **out);
eb_rc eb_ws_encode_ping(const char *request_id, char **out);

typedef enum eb_ws_server_type {
	EB_WS_S_UNKNOWN = 0,   /* clients ignore (GEN-7) */
	EB_WS_S_AUTH_OK,
	EB_WS_S_SUBSCRIBED,
	EB_WS_S_UNSUBSCRIBED,
	EB_WS_S_PONG,
	EB_WS_S_STORE_CHANGED,
	EB_WS_S_ERROR
} eb_ws_server_type;

typedef struct eb_ws_store_version {
	char *store_id;      /* owned */
	uint64_t version;
} eb_ws_store_version;

typedef struct eb_ws_store_error {
	char *store_id;      /* owned */
	char *code;          /* owned */
} eb_ws_store_error;

typedef struct eb_ws_server_msg {
	eb_ws_server_type type;
	char *type_str;      /* owned */
	char *request_id;    /* owned or NULL */
	/* auth_ok */
	char *subject;       /* owned or NULL */
	uint64_t expires_at;
	/* subscribed / unsubscribed */
	eb_ws_store_version *stores; size_t n_stores;
	eb_ws_store_error *errors;   size_t n_errors;
	/* store_changed */
	char *store_id;      /* owned or NULL */
	uint64_t version;
	uint64_t timestamp;
	/* error */
	char *code;          /* owned or NULL */
	char *message;       /* owned or NULL */
} eb_ws_server_msg;

/* Parses a server->client message as a client must: the known types are
 * checked for their required members (WS-AUTH-4, WS-SUB-1, WS-SUB-5,
 * WS-NOTIF-3, WS-5); unknown types are EB_OK with EB_WS_S_UNKNOWN. Returns
 * EB_ERR_JSON or EB_ERR_SHAPE with the rule id. *out freed with
 * eb_ws_server_msg_free. */
eb_rc eb_ws_server_msg_parse(const char *buf, size_t len,
			     eb_ws_server_msg **out, eb_err *err);

void eb_ws_server_msg_free(eb_ws_server_msg *m);

/* Server message encoders; *out malloc'd, caller frees. request_id may be
 * NULL where the type allows (error). */
eb_rc eb_ws_encode_auth_ok(const char *request_id, const char *subject,
			   uint64_t expires_at_ms, char **out);
eb_rc eb_ws_encode_sub_ack(const char *request_id, bool unsubscribed,
			   const eb_ws_store_version *stores, size_t n_stores,
			   const eb_ws_store_error *errors, size_t n_errors,
			   char **out);
eb_rc eb_ws_encode_pong(const char *request_id, char **out);
eb_rc eb_ws_encode_store_changed(const char *store_id, uint64_t version,
				 uint64_t timestamp_ms, char **out);
eb_rc eb_ws_encode_error(const char *request_id, const char *code,
			 const char *message, char **out);

#endif
