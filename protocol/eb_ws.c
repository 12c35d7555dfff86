/*
 * eb_ws.c — the WebSocket messages of PROTOCOL.md section 10: parsers for
 * both directions (a server parses client messages, a client parses server
 * messages) and encoders that write the exact member names of the spec.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_buf.h"
#include "eb_json.h"
#include "eb_ws.h"

/* ---- output: encoders write members in the order of section 10 -------- */

/* Integers are written digit by digit (never with an exponent, GEN-5). */
static void wb_uint(eb_buf *b, uint64_t v)
{
	eb_buf_fmt(b, "%llu", (unsigned long long)v);
}

/* ,"name":"value" (or without the comma for the first member) */
static void wb_member_str(eb_buf *b, const char *name, const char *val)
{
	eb_buf_str(b, ",");
	eb_json_put_string(b, name);
	eb_buf_str(b, ":");
	eb_json_put_string(b, val);
}

static void wb_member_uint(eb_buf *b, const char *name, uint64_t val)
{
	eb_buf_str(b, ",");
	eb_json_put_string(b, name);
	eb_buf_str(b, ":");
	wb_uint(b, val);
}

static void wb_open(eb_buf *b, const char *type)
{
	eb_buf_str(b, "{\"type\":");
	eb_json_put_string(b, type);
}

static eb_rc wb_finish(eb_buf *b, char **out)
{
	eb_buf_str(b, "}");
	char *s = eb_buf_take(b, NULL);
	if (!s)
		return EB_ERR_NOMEM;
	*out = s;
	return EB_OK;
}

/* Encoders only take text that can be sent as is: valid UTF-8. */
static bool text_ok(const char *s)
{
	return s && eb_utf8_valid(s, strlen(s));
}

/* requestId of section 10: 1..64 bytes. */
static bool request_id_ok(const char *s)
{
	if (!text_ok(s))
		return false;
	size_t n = strlen(s);
	return n >= 1 && n <= EB_WS_REQUEST_ID_MAX;
}

/* ---- client encoders ------------------------------------------------------ */

eb_rc eb_ws_encode_auth(const char *request_id, const char *token, char **out)
{
	if (!out || !request_id_ok(request_id) || !text_ok(token))
		return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, "auth");
	wb_member_str(&b, "requestId", request_id);
	wb_member_str(&b, "token", token);
	return wb_finish(&b, out);
}

eb_rc eb_ws_encode_subscribe(const char *request_id, bool unsubscribe,
			     const char *const *store_ids, size_t n, char **out)
{
	if (!out || !request_id_ok(request_id) || (n && !store_ids))
		return EB_ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (!text_ok(store_ids[i]))
			return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, unsubscribe ? "unsubscribe" : "subscribe");
	wb_member_str(&b, "requestId", request_id);
	eb_buf_str(&b, ",\"storeIds\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			eb_buf_str(&b, ",");
		eb_json_put_string(&b, store_ids[i]);
	}
	eb_buf_str(&b, "]");
	return wb_finish(&b, out);
}

eb_rc eb_ws_encode_ping(const char *request_id, char **out)
{
	if (!out || !request_id_ok(request_id))
		return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, "ping");
	wb_member_str(&b, "requestId", request_id);
	return wb_finish(&b, out);
}

/* ---- server encoders ------------------------------------------------------ */

eb_rc eb_ws_encode_auth_ok(const char *request_id, const char *subject,
			   uint64_t expires_at_ms, char **out)
{
	if (!out || !request_id_ok(request_id) || !text_ok(subject))
		return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, "auth_ok");
	wb_member_str(&b, "requestId", request_id);
	wb_member_str(&b, "subject", subject);
	wb_member_uint(&b, "expiresAt", expires_at_ms);
	return wb_finish(&b, out);
}

eb_rc eb_ws_encode_sub_ack(const char *request_id, bool unsubscribed,
			   const eb_ws_store_version *stores, size_t n_stores,
			   const eb_ws_store_error *errors, size_t n_errors,
			   char **out)
{
	if (!out || !request_id_ok(request_id) || (n_stores && !stores) ||
	    (n_errors && !errors))
		return EB_ERR_ARG;
	for (size_t i = 0; i < n_stores; i++)
		if (!text_ok(stores[i].store_id))
			return EB_ERR_ARG;
	for (size_t i = 0; i < n_errors; i++)
		if (!text_ok(errors[i].store_id) || !text_ok(errors[i].code))
			return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, unsubscribed ? "unsubscribed" : "subscribed");
	wb_member_str(&b, "requestId", request_id);
	eb_buf_str(&b, ",\"stores\":[");
	for (size_t i = 0; i < n_stores; i++) {
		eb_buf_str(&b, i ? ",{\"storeId\":" : "{\"storeId\":");
		eb_json_put_string(&b, stores[i].store_id);
		wb_member_uint(&b, "version", stores[i].version);
		eb_buf_str(&b, "}");
	}
	eb_buf_str(&b, "]");
	/* An ack without per-store errors carries no "errors" member. */
	if (n_errors) {
		eb_buf_str(&b, ",\"errors\":[");
		for (size_t i = 0; i < n_errors; i++) {
			eb_buf_str(&b, i ? ",{\"storeId\":" : "{\"storeId\":");
			eb_json_put_string(&b, errors[i].store_id);
			wb_member_str(&b, "code", errors[i].code);
			eb_buf_str(&b, "}");
		}
		eb_buf_str(&b, "]");
	}
	return wb_finish(&b, out);
}

eb_rc eb_ws_encode_pong(const char *request_id, char **out)
{
	if (!out || !request_id_ok(request_id))
		return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, "pong");
	wb_member_str(&b, "requestId", request_id);
	return wb_finish(&b, out);
}

eb_rc eb_ws_encode_store_changed(const char *store_id, uint64_t version,
				 uint64_t timestamp_ms, char **out)
{
	if (!out || !text_ok(store_id))
		return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, "store_changed");
	wb_member_str(&b, "storeId", store_id);
	wb_member_uint(&b, "version", version);
	wb_member_uint(&b, "timestamp", timestamp_ms);
	return wb_finish(&b, out);
}

eb_rc eb_ws_encode_error(const char *request_id, const char *code,
			 const char *message, char **out)
{
	/* An error about a message without a usable requestId has none. */
	if (!out || !text_ok(code) || (request_id && !text_ok(request_id)) ||
	    (message && !text_ok(message)))
		return EB_ERR_ARG;
	eb_buf b = { 0 };
	wb_open(&b, "error");
	if (request_id)
		wb_member_str(&b, "requestId", request_id);
	wb_member_str(&b, "code", code);
	wb_member_str(&b, "message", message ? message : "");
	return wb_finish(&b, out);
}

/* ---- parsing helpers ------------------------------------------------------ */

static eb_rc shape(eb_err *err, const char *rule, const char *field,
		   const char *msg)
{
	return eb_err_set(err, EB_ERR_SHAPE, rule, field,
			  EB_CODE_INVALID_REQUEST, -1, "%s", msg);
}

/* shape() with the message "<what> <name><tail>", e.g. "\"token\" is missing". */
static eb_rc shape_named(eb_err *err, const char *rule, const char *field,
			 const char *name, const char *tail)
{
	char msg[200];
	snprintf(msg, sizeof msg, "\"%s\" %s", name, tail);
	return shape(err, rule, field, msg);
}

static eb_rc nomem(eb_err *err)
{
	return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, EB_CODE_INTERNAL, -1,
			  "out of memory");
}

/* Parses buf as one JSON object with a string "type" (WS-2). On EB_OK
 * *root is the caller's and *type points into it. */
static eb_rc parse_envelope(const char *buf, size_t len, cJSON **root,
			    const char **type, eb_err *err)
{
	cJSON *j = NULL;
	*root = NULL;
	if (!buf && len)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "NULL buffer");
	eb_rc rc = eb_json_parse(buf ? buf : "", len, EB_JSON_MAX_DEPTH, &j, err);
	if (rc == EB_ERR_JSON) {
		/* On the socket, bad JSON is a malformed message (close 4400). */
		if (err)
			snprintf(err->rule, sizeof err->rule, "%s", "WS-2");
		return rc;
	}
	if (rc != EB_OK)
		return rc;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return shape(err, "WS-2", "", "message is not a JSON object");
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
	if (!t) {
		cJSON_Delete(j);
		return shape(err, "WS-2", "type", "message has no \"type\"");
	}
	if (!cJSON_IsString(t) || !t->valuestring) {
		cJSON_Delete(j);
		return shape(err, "WS-2", "type", "\"type\" is not a string");
	}
	*root = j;
	*type = t->valuestring;
	return EB_OK;
}

/* A requestId per section 10: a string of 1..64 bytes. */
static eb_rc get_request_id(const cJSON *root, const char *rule,
			    bool required, char **out, eb_err *err)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "requestId");
	*out = NULL;
	if (!r) {
		if (!required)
			return EB_OK;
		return shape(err, rule, "requestId", "\"requestId\" is missing");
	}
	if (!cJSON_IsString(r) || !r->valuestring)
		return shape(err, rule, "requestId", "\"requestId\" is not a string");
	size_t n = strlen(r->valuestring);
	if (n < 1 || n > EB_WS_REQUEST_ID_MAX)
		return shape(err, rule, "requestId",
			     "\"requestId\" must be 1 to 64 bytes");
	*out = strdup(r->valuestring);
	return *out ? EB_OK : nomem(err);
}

/* A required (or optional, when !required) string member. */
static eb_rc get_string(const cJSON *obj, const char *name, bool required,
			const char *rule, const char *field, char **out,
			eb_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	*out = NULL;
	if (!v) {
		if (!required)
			return EB_OK;
		return shape_named(err, rule, field, name, "is missing");
	}
	if (!cJSON_IsString(v) || !v->valuestring)
		return shape_named(err, rule, field, name, "is not a string");
	*out = strdup(v->valuestring);
	return *out ? EB_OK : nomem(err);
}

static eb_rc get_uint53(const cJSON *obj, const char *name, const char *rule,
			const char *field, uint64_t *out, eb_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!v)
		return shape_named(err, rule, field, name, "is missing");
	if (!eb_json_get_uint53(v, out))
		return shape_named(err, rule, field, name, "is not an integer (GEN-5)");
	return EB_OK;
}

/* ---- client -> server ----------------------------------------------------- */

void eb_ws_client_msg_free(eb_ws_client_msg *m)
{
	if (!m)
		return;
	free(m->type_str);
	free(m->request_id);
	free(m->token);
	for (size_t i = 0; i < m->n_store_ids; i++)
		free(m->store_ids[i]);
	free(m->store_ids);
	free(m);
}

static eb_rc parse_store_ids(const cJSON *root, eb_ws_client_msg *m,
			     eb_err *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "storeIds");
	if (!a)
		return shape(err, "WS-SUB-6", "storeIds", "\"storeIds\" is missing");
	if (!cJSON_IsArray(a))
		return shape(err, "WS-SUB-6", "storeIds",
			     "\"storeIds\" is not an array");
	int n = cJSON_GetArraySize(a);
	if (n < 1 || n > EB_WS_MAX_STORE_IDS)
		return shape(err, "WS-SUB-6", "storeIds",
			     "\"storeIds\" must hold 1 to 100 entries");
	m->store_ids = calloc((size_t)n, sizeof *m->store_ids);
	if (!m->store_ids)
		return nomem(err);
	const cJSON *e;
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e) || !e->valuestring) {
			char field[40];
			snprintf(field, sizeof field, "storeIds[%zu]", m->n_store_ids);
			return shape_named(err, "WS-SUB-6", field, field, "is not a string");
		}
		m->store_ids[m->n_store_ids] = strdup(e->valuestring);
		if (!m->store_ids[m->n_store_ids])
			return nomem(err);
		m->n_store_ids++;
	}
	return EB_OK;
}

eb_rc eb_ws_client_msg_parse(const char *buf, size_t len,
			     eb_ws_client_msg **out, eb_err *err)
{
	cJSON *root = NULL;
	const char *type = NULL;
	eb_ws_client_msg *m = NULL;
	eb_rc rc;

	if (!out)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1, "NULL out");
	*out = NULL;
	rc = parse_envelope(buf, len, &root, &type, err);
	if (rc != EB_OK)
		goto out;
	m = calloc(1, sizeof *m);
	if (!m || !(m->type_str = strdup(type))) {
		rc = nomem(err);
		goto out;
	}
	if (!strcmp(type, "auth"))
		m->type = EB_WS_C_AUTH;
	else if (!strcmp(type, "subscribe"))
		m->type = EB_WS_C_SUBSCRIBE;
	else if (!strcmp(type, "unsubscribe"))
		m->type = EB_WS_C_UNSUBSCRIBE;
	else if (!strcmp(type, "ping"))
		m->type = EB_WS_C_PING;
	else
		m->type = EB_WS_C_UNKNOWN;

	if (m->type == EB_WS_C_UNKNOWN) {
		/* Kept only so the UNKNOWN_TYPE error can echo it (WS-3, WS-4). */
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "requestId");
		if (cJSON_IsString(r) && r->valuestring &&
		    !(m->request_id = strdup(r->valuestring))) {
			rc = nomem(err);
			goto out;
		}
		rc = EB_OK;
		goto out;
	}
	rc = get_request_id(root, "WS-2", true, &m->request_id, err);
	if (rc != EB_OK)
		goto out;
	switch (m->type) {
	case EB_WS_C_AUTH:
		rc = get_string(root, "token", true, "WS-2", "token", &m->token, err);
		break;
	case EB_WS_C_SUBSCRIBE:
	case EB_WS_C_UNSUBSCRIBE:
		rc = parse_store_ids(root, m, err);
		break;
	default:
		break;
	}
out:
	cJSON_Delete(root);
	if (rc == EB_OK)
		*out = m;
	else
		eb_ws_client_msg_free(m);
	return rc;
}

/* ---- server -> client ----------------------------------------------------- */

void eb_ws_server_msg_free(eb_ws_server_msg *m)
{
	if (!m)
		return;
	free(m->type_str);
	free(m->request_id);
	free(m->subject);
	for (size_t i = 0; i < m->n_stores; i++)
		free(m->stores[i].store_id);
	free(m->stores);
	for (size_t i = 0; i < m->n_errors; i++) {
		free(m->errors[i].store_id);
		free(m->errors[i].code);
	}
	free(m->errors);
	free(m->store_id);
	free(m->code);
	free(m->message);
	free(m);
}

/* "stores" of subscribed/unsubscribed: objects with storeId and version. */
static eb_rc parse_stores(const cJSON *root, const char *rule,
			  eb_ws_server_msg *m, eb_err *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "stores");
	if (!a)
		return shape(err, rule, "stores", "\"stores\" is missing");
	if (!cJSON_IsArray(a))
		return shape(err, rule, "stores", "\"stores\" is not an array");
	int n = cJSON_GetArraySize(a);
	if (n == 0)
		return EB_OK;
	m->stores = calloc((size_t)n, sizeof *m->stores);
	if (!m->stores)
		return nomem(err);
	const cJSON *e;
	cJSON_ArrayForEach(e, a) {
		char field[48];
		size_t i = m->n_stores;
		snprintf(field, sizeof field, "stores[%zu]", i);
		if (!cJSON_IsObject(e))
			return shape_named(err, rule, field, field, "is not an object");
		snprintf(field, sizeof field, "stores[%zu].storeId", i);
		eb_rc rc = get_string(e, "storeId", true, rule, field,
				      &m->stores[i].store_id, err);
		if (rc != EB_OK)
			return rc;
		m->n_stores++;
		snprintf(field, sizeof field, "stores[%zu].version", i);
		rc = get_uint53(e, "version", rule, field, &m->stores[i].version, err);
		if (rc != EB_OK)
			return rc;
	}
	return EB_OK;
}

/* Optional "errors" of an ack: objects with storeId and code (WS-SUB-3). */
static eb_rc parse_store_errors(const cJSON *root, eb_ws_server_msg *m,
				eb_err *err)
{
	const char *rule = "WS-SUB-3";
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "errors");
	if (!a)
		return EB_OK;
	if (!cJSON_IsArray(a))
		return shape(err, rule, "errors", "\"errors\" is not an array");
	int n = cJSON_GetArraySize(a);
	if (n == 0)
		return EB_OK;
	m->errors = calloc((size_t)n, sizeof *m->errors);
	if (!m->errors)
		return nomem(err);
	const cJSON *e;
	cJSON_ArrayForEach(e, a) {
		char field[48];
		size_t i = m->n_errors;
		snprintf(field, sizeof field, "errors[%zu]", i);
		if (!cJSON_IsObject(e))
			return shape_named(err, rule, field, field, "is not an object");
		m->n_errors++;
		snprintf(field, sizeof field, "errors[%zu].storeId", i);
		eb_rc rc = get_string(e, "storeId", true, rule, field,
				      &m->errors[i].store_id, err);
		if (rc != EB_OK)
			return rc;
		snprintf(field, sizeof field, "errors[%zu].code", i);
		rc = get_string(e, "code", true, rule, field, &m->errors[i].code, err);
		if (rc != EB_OK)
			return rc;
	}
	return EB_OK;
}

eb_rc eb_ws_server_msg_parse(const char *buf, size_t len,
			     eb_ws_server_msg **out, eb_err *err)
{
	cJSON *root = NULL;
	const char *type = NULL;
	eb_ws_server_msg *m = NULL;
	eb_rc rc;

	if (!out)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1, "NULL out");
	*out = NULL;
	rc = parse_envelope(buf, len, &root, &type, err);
	if (rc != EB_OK)
		goto out;
	m = calloc(1, sizeof *m);
	if (!m || !(m->type_str = strdup(type))) {
		rc = nomem(err);
		goto out;
	}
	if (!strcmp(type, "auth_ok")) {
		m->type = EB_WS_S_AUTH_OK;
		if ((rc = get_request_id(root, "WS-4", true, &m->request_id, err)) ||
		    (rc = get_string(root, "subject", true, "WS-AUTH-4", "subject",
				     &m->subject, err)) ||
		    (rc = get_uint53(root, "expiresAt", "WS-AUTH-4", "expiresAt",
				     &m->expires_at, err)))
			goto out;
	} else if (!strcmp(type, "subscribed") || !strcmp(type, "unsubscribed")) {
		bool sub = type[0] == 's';
		m->type = sub ? EB_WS_S_SUBSCRIBED : EB_WS_S_UNSUBSCRIBED;
		if ((rc = get_request_id(root, "WS-4", true, &m->request_id, err)) ||
		    (rc = parse_stores(root, sub ? "WS-SUB-1" : "WS-SUB-5", m, err)) ||
		    (rc = parse_store_errors(root, m, err)))
			goto out;
	} else if (!strcmp(type, "pong")) {
		m->type = EB_WS_S_PONG;
		if ((rc = get_request_id(root, "WS-4", true, &m->request_id, err)))
			goto out;
	} else if (!strcmp(type, "store_changed")) {
		m->type = EB_WS_S_STORE_CHANGED;
		if ((rc = get_string(root, "storeId", true, "WS-NOTIF-3", "storeId",
				     &m->store_id, err)) ||
		    (rc = get_uint53(root, "version", "WS-NOTIF-3", "version",
				     &m->version, err)) ||
		    (rc = get_uint53(root, "timestamp", "WS-NOTIF-3", "timestamp",
				     &m->timestamp, err)))
			goto out;
	} else if (!strcmp(type, "error")) {
		m->type = EB_WS_S_ERROR;
		/* An error may answer a message that had no usable requestId. */
		if ((rc = get_request_id(root, "WS-4", false, &m->request_id, err)) ||
		    (rc = get_string(root, "code", true, "WS-3", "code", &m->code,
				     err)) ||
		    (rc = get_string(root, "message", false, "WS-3", "message",
				     &m->message, err)))
			goto out;
	} else {
		/* GEN-7: ignored by the caller; the requestId helps logging. */
		m->type = EB_WS_S_UNKNOWN;
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "requestId");
		if (cJSON_IsString(r) && r->valuestring &&
		    !(m->request_id = strdup(r->valuestring))) {
			rc = nomem(err);
			goto out;
		}
	}
	rc = EB_OK;
out:
	cJSON_Delete(root);
	if (rc == EB_OK)
		*out = m;
	else
		eb_ws_server_msg_free(m);
	return rc;
}
