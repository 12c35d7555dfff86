/*
 * eb_msg_change.c — one change of PROTOCOL.md section 2 as a C value: copy,
 * content equality for IDEM-2, and its JSON object.
 */
#include "eb_msg.h"

#include <stdlib.h>
#include <string.h>

#include "eb_buf.h"
#include "eb_json.h"

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

void eb_change_clear(eb_change *c)
{
	size_t i;

	if (!c)
		return;
	free(c->id);
	for (i = 0; i < c->path_len; i++)
		free(c->path[i]);
	free(c->path);
	cJSON_Delete(c->value);
	memset(c, 0, sizeof(*c));
}

eb_rc eb_change_copy(eb_change *dst, const eb_change *src)
{
	size_t i;

	if (!dst || !src)
		return EB_ERR_ARG;
	memset(dst, 0, sizeof(*dst));
	dst->timestamp = src->timestamp;
	dst->op = src->op;
	dst->version = src->version;
	dst->has_version = src->has_version;
	dst->id = dup_str(src->id ? src->id : "");
	if (!dst->id)
		goto nomem;
	if (src->path_len) {
		dst->path = calloc(src->path_len, sizeof(*dst->path));
		if (!dst->path)
			goto nomem;
		for (i = 0; i < src->path_len; i++) {
			dst->path[i] = dup_str(src->path[i] ? src->path[i] : "");
			if (!dst->path[i])
				goto nomem;
			dst->path_len = i + 1;
		}
	}
	if (src->value) {
		dst->value = cJSON_Duplicate(src->value, 1);
		if (!dst->value)
			goto nomem;
	}
	return EB_OK;
nomem:
	eb_change_clear(dst);
	return EB_ERR_NOMEM;
}

bool eb_change_same_content(const eb_change *a, const eb_change *b)
{
	size_t i;

	if (!a || !b)
		return a == b;
	if (a->timestamp != b->timestamp || a->op != b->op ||
	    a->path_len != b->path_len)
		return false;
	for (i = 0; i < a->path_len; i++)
		if (strcmp(a->path[i], b->path[i]) != 0)
			return false;
	return eb_json_canon_equal(a->value, b->value);
}

static bool add_number(cJSON *o, const char *name, uint64_t v)
{
	return cJSON_AddNumberToObject(o, name, (double)v) != NULL;
}

static bool add_path(cJSON *o, const eb_change *c)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "path"), *s;
	size_t i;

	if (!arr)
		return false;
	for (i = 0; i < c->path_len; i++) {
		s = cJSON_CreateString(c->path[i]);
		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return true;
}

cJSON *eb_change_to_json(const eb_change *c)
{
	cJSON *o, *v;

	if (!c)
		return NULL;
	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "id", c->id ? c->id : "") ||
	    !add_number(o, "timestamp", c->timestamp) ||
	    !cJSON_AddStringToObject(o, "operation",
				     c->op == EB_OP_DELETE ? "delete" : "set") ||
	    !add_path(o, c))
		goto fail;
	if (c->value) {
		v = cJSON_Duplicate(c->value, 1);
		if (!v || !cJSON_AddItemToObject(o, "value", v)) {
			cJSON_Delete(v);
			goto fail;
		}
	}
	if (c->has_version && !add_number(o, "version", c->version))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

void eb_change_put(eb_buf *b, const eb_change *c)
{
	size_t i;

	eb_buf_str(b, "{\"id\":");
	eb_json_put_string(b, c->id ? c->id : "");
	eb_buf_str(b, ",\"timestamp\":");
	eb_json_put_number(b, (double)c->timestamp);
	eb_buf_str(b, c->op == EB_OP_DELETE ? ",\"operation\":\"delete\",\"path\":["
					    : ",\"operation\":\"set\",\"path\":[");
	for (i = 0; i < c->path_len; i++) {
		if (!c->path[i])
			b->oom = true;
		if (i)
			eb_buf_put(b, ",", 1);
		eb_json_put_string(b, c->path[i]);
	}
	eb_buf_put(b, "]", 1);
	if (c->value) {
		eb_buf_str(b, ",\"value\":");
		eb_json_put_value(b, c->value);
	}
	if (c->has_version) {
		eb_buf_str(b, ",\"version\":");
		eb_json_put_number(b, (double)c->version);
	}
	eb_buf_put(b, "}", 1);
}
