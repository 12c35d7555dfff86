/*
 * ebm_extras.c — the "extras" fault's decoration of responses
 * (ebm_extras.h): unknown members that clients must ignore (GEN-3/GEN-7).
 */
#include "ebm_extras.h"
#include "ebm_util.h"

#include <stdbool.h>
#include <string.h>
#include "eb_json.h"

/* Adds "x-ext":{"a":[1]} to every object of v except change values (member
 * "value"), which are the application's data, and the added member itself. */
static bool decorate(cJSON *v)
{
	if (cJSON_IsArray(v)) {
		for (cJSON *c = v->child; c; c = c->next)
			if (!decorate(c))
				return false;
		return true;
	}
	if (!cJSON_IsObject(v))
		return true;
	for (cJSON *c = v->child; c; c = c->next) {
		if (c->string && strcmp(c->string, "value") == 0)
			continue;
		if (!decorate(c))
			return false;
	}
	if (cJSON_GetObjectItemCaseSensitive(v, EBM_EXTRA_MEMBER))
		return true;
	cJSON *x = cJSON_CreateObject();
	cJSON *a = cJSON_CreateArray();
	cJSON *one = cJSON_CreateNumber(1);
	if (!x || !a || !one) {
		cJSON_Delete(x);
		cJSON_Delete(a);
		cJSON_Delete(one);
		return false;
	}
	cJSON_AddItemToArray(a, one);
	cJSON_AddItemToObject(x, "a", a);
	cJSON_AddItemToObject(v, EBM_EXTRA_MEMBER, x);
	return true;
}

char *ebm_extras_decorate(const char *json, size_t len)
{
	cJSON *root = NULL;
	char *out = NULL;
	if (!json || eb_json_parse(json, len, 1000, &root, NULL) != EB_OK)
		return NULL;
	if (decorate(root))
		out = ebm_print(root);
	cJSON_Delete(root);
	return out;
}
