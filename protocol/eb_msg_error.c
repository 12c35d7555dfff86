/*
 * eb_msg_error.c — the error body of PROTOCOL.md section 7 (ERR-1, ERR-2) and
 * the problem list behind its "errors".
 */
#include "eb_msg.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_utf8.h"

/* The codes of the table of section 7: the only top-level codes (ERR-1). */
static const char *const wire_codes[] = {
	EB_CODE_INVALID_JSON, EB_CODE_INVALID_REQUEST,
	EB_CODE_INVALID_STORE_ID, EB_CODE_UNAUTHORIZED, EB_CODE_FORBIDDEN,
	EB_CODE_NOT_FOUND, EB_CODE_METHOD_NOT_ALLOWED,
	EB_CODE_RESYNC_REQUIRED, EB_CODE_CHANGE_ID_CONFLICT,
	EB_CODE_PAYLOAD_TOO_LARGE, EB_CODE_UNSUPPORTED_MEDIA,
	EB_CODE_LIMIT_EXCEEDED, EB_CODE_TIMESTAMP_IN_FUTURE,
	EB_CODE_RATE_LIMITED, EB_CODE_INTERNAL, EB_CODE_UNAVAILABLE,
};

static bool is_wire_code(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(wire_codes) / sizeof(wire_codes[0]); i++)
		if (strcmp(wire_codes[i], s) == 0)
			return true;
	return false;
}

/* ERR-2 wants one entry per failing change; a 1 MiB body can hold ~500k
 * malformed changes, so the list is bounded. Any request that reaches the
 * bound also breaks LIMIT-2 (500 changes), so no valid request loses
 * entries. */
#define MAX_PROBLEMS 10000

static void copy_trunc(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = eb_utf8_cut(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

eb_rc eb_problems_add(eb_problems *p, long index, const char *field,
		      const char *code, const char *rule, const char *msg)
{
	eb_problem *items, *it;
	size_t cap;

	if (!p)
		return EB_OK;
	if (p->n >= MAX_PROBLEMS)
		return EB_OK;
	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 8;
		items = realloc(p->items, cap * sizeof(*items));
		if (!items)
			return EB_ERR_NOMEM;
		p->items = items;
		p->cap = cap;
	}
	it = &p->items[p->n++];
	memset(it, 0, sizeof(*it));
	it->index = index;
	copy_trunc(it->field, sizeof(it->field), field ? field : "");
	copy_trunc(it->code, sizeof(it->code), code ? code : "");
	copy_trunc(it->rule, sizeof(it->rule), rule ? rule : "");
	copy_trunc(it->msg, sizeof(it->msg), msg ? msg : "");
	return EB_OK;
}

void eb_problems_clear(eb_problems *p)
{
	if (!p)
		return;
	free(p->items);
	memset(p, 0, sizeof(*p));
}

void eb_error_body_free(eb_error_body *b)
{
	if (!b)
		return;
	free(b->code);
	free(b->message);
	eb_problems_clear(&b->errors);
	free(b);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

static eb_rc shape(eb_err *err, const char *rule, const char *field,
		   const char *msg)
{
	return eb_err_set(err, EB_ERR_SHAPE, rule, field,
			  EB_CODE_INVALID_FIELD, -1, "%s: %s", field, msg);
}

/* One entry of "errors" (ERR-2): field and code strings, optional index. */
static eb_rc parse_entry(const cJSON *e, size_t k, eb_problems *p,
			 eb_err *err)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "field");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *i = cJSON_GetObjectItemCaseSensitive(e, "index");
	char name[64];
	uint64_t idx = 0;

	snprintf(name, sizeof(name), "errors[%zu]", k);
	if (!cJSON_IsObject(e))
		return shape(err, "ERR-2", name, "must be an object");
	if (!cJSON_IsString(f))
		return shape(err, "ERR-2", name, "field must be a string");
	if (!cJSON_IsString(c))
		return shape(err, "ERR-2", name, "code must be a string");
	if (i && (!eb_json_get_uint53(i, &idx) || idx > (uint64_t)LONG_MAX))
		return shape(err, "ERR-2", name, "index must be an integer");
	if (eb_problems_add(p, i ? (long)idx : -1, f->valuestring,
			    c->valuestring, "", "") != EB_OK)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	return EB_OK;
}

static eb_rc parse_errors(const cJSON *arr, eb_error_body *b, eb_err *err)
{
	const cJSON *e;
	size_t k = 0;
	eb_rc rc;

	if (!cJSON_IsArray(arr))
		return shape(err, "ERR-2", "errors", "must be an array");
	b->has_errors = true;
	for (e = arr->child; e; e = e->next, k++)
		if ((rc = parse_entry(e, k, &b->errors, err)) != EB_OK)
			return rc;
	return EB_OK;
}

static eb_rc parse_body(const cJSON *root, eb_error_body *b, eb_err *err)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "errors");
	const cJSON *cv = cJSON_GetObjectItemCaseSensitive(root, "currentVersion");
	eb_rc rc;

	if (!cJSON_IsObject(root))
		return eb_err_set(err, EB_ERR_SHAPE, "ERR-1", "",
				  EB_CODE_INVALID_REQUEST, -1,
				  "an error body must be a JSON object");
	if (!cJSON_IsString(code))
		return shape(err, "ERR-1", "code", "must be a string");
	if (!is_wire_code(code->valuestring))
		return shape(err, "ERR-1", "code",
			     "not a code of the table of section 7");
	if (!cJSON_IsString(msg))
		return shape(err, "ERR-1", "message", "must be a string");
	b->code = dup_str(code->valuestring);
	b->message = dup_str(msg->valuestring);
	if (!b->code || !b->message)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	if (errs && (rc = parse_errors(errs, b, err)) != EB_OK)
		return rc;
	if (cv) {
		if (!eb_json_get_uint53(cv, &b->current_version))
			return shape(err, "SYNC-8", "currentVersion",
				     "must be an integer 0..2^53-1");
		b->has_current_version = true;
	}
	return EB_OK;
}

eb_rc eb_error_body_parse(const char *buf, size_t len, eb_error_body **out,
			  eb_err *err)
{
	eb_error_body *b = NULL;
	cJSON *root = NULL;
	eb_rc rc;

	if (!out)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_error_body_parse: bad argument");
	*out = NULL;
	rc = eb_json_parse_block(buf, len, EB_JSON_MAX_DEPTH, &root, err);
	if (rc != EB_OK)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				"out of memory");
		goto out;
	}
	rc = parse_body(root, b, err);
	if (rc != EB_OK)
		goto out;
	*out = b;
	b = NULL;
out:
	eb_error_body_free(b);
	eb_json_block_free(root);
	return rc;
}

/* Written straight into one buffer, as eb_json_print prints the tree of
 * the body (building that tree was most of an encode). */
static void put_problems(eb_buf *b, const eb_problems *problems)
{
	const eb_problem *p;
	size_t i;

	if (!problems || problems->n == 0)
		return;
	eb_buf_str(b, ",\"errors\":[");
	for (i = 0; i < problems->n; i++) {
		p = &problems->items[i];
		eb_buf_str(b, i ? ",{" : "{");
		if (p->index >= 0) {
			eb_buf_str(b, "\"index\":");
			eb_json_put_number(b, (double)p->index);
			eb_buf_put(b, ",", 1);
		}
		eb_buf_str(b, "\"field\":");
		eb_json_put_string(b, p->field);
		eb_buf_str(b, ",\"code\":");
		eb_json_put_string(b, p->code);
		eb_buf_put(b, "}", 1);
	}
	eb_buf_put(b, "]", 1);
}

eb_rc eb_error_body_encode(const char *code, const char *message,
			   const eb_problems *problems, int64_t current_version,
			   char **out)
{
	eb_buf b = { 0 };

	if (!code || !out)
		return EB_ERR_ARG;
	eb_buf_str(&b, "{\"code\":");
	eb_json_put_string(&b, code);
	eb_buf_str(&b, ",\"message\":");
	eb_json_put_string(&b, message ? message : "");
	put_problems(&b, problems);
	if (current_version >= 0) {
		eb_buf_str(&b, ",\"currentVersion\":");
		eb_json_put_number(&b, (double)current_version);
	}
	eb_buf_put(&b, "}", 1);
	*out = eb_buf_take(&b, NULL);
	return *out ? EB_OK : EB_ERR_NOMEM;
}
