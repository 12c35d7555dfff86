/*
 * eb_msg_limits.c — the limits of PROTOCOL.md section 8 and the document of
 * GET /api/limits (LIMIT-10).
 */
#include "eb_msg.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "eb_json.h"

void eb_limits_default(eb_limits *l)
{
	if (!l)
		return;
	l->max_body_bytes = 1048576;
	l->max_changes_per_request = 500;
	l->max_path_segments = 32;
	l->max_path_segment_bytes = 256;
	l->max_value_bytes = 65536;
	l->max_value_depth = 32;
	l->max_change_id_bytes = 128;
	l->max_frame_bytes = 65536;
	l->max_page_limit = 1000;
	l->max_subscriptions = 100;
	l->timestamp_skew_ms = 60000;
	l->coalesce_ms = 0;
	l->rate_limit_on = false;
	l->http_per_second = 0;
	l->http_burst = 0;
	l->ws_per_second = 0;
	l->ws_burst = 0;
}

/* The integer members of LIMIT-10, by name and place in eb_limits. */
typedef struct limit_field {
	const char *name;
	size_t off;
	bool wide; /* uint64_t, else uint32_t */
} limit_field;

static const limit_field int_fields[] = {
	{ "maxBodyBytes", offsetof(eb_limits, max_body_bytes), true },
	{ "maxChangesPerRequest", offsetof(eb_limits, max_changes_per_request), false },
	{ "maxPathSegments", offsetof(eb_limits, max_path_segments), false },
	{ "maxPathSegmentBytes", offsetof(eb_limits, max_path_segment_bytes), false },
	{ "maxValueBytes", offsetof(eb_limits, max_value_bytes), false },
	{ "maxValueDepth", offsetof(eb_limits, max_value_depth), false },
	{ "maxChangeIdBytes", offsetof(eb_limits, max_change_id_bytes), false },
	{ "maxFrameBytes", offsetof(eb_limits, max_frame_bytes), false },
	{ "maxPageLimit", offsetof(eb_limits, max_page_limit), false },
	{ "maxSubscriptionsPerSocket", offsetof(eb_limits, max_subscriptions), false },
	{ "timestampSkewMs", offsetof(eb_limits, timestamp_skew_ms), true },
	{ "coalesceMs", offsetof(eb_limits, coalesce_ms), false },
};

#define N_INT_FIELDS (sizeof(int_fields) / sizeof(int_fields[0]))

typedef struct rate_field {
	const char *name;
	size_t off;
} rate_field;

static const rate_field rate_fields[] = {
	{ "httpPerSecond", offsetof(eb_limits, http_per_second) },
	{ "httpBurst", offsetof(eb_limits, http_burst) },
	{ "wsPerSecond", offsetof(eb_limits, ws_per_second) },
	{ "wsBurst", offsetof(eb_limits, ws_burst) },
};

#define N_RATE_FIELDS (sizeof(rate_fields) / sizeof(rate_fields[0]))

static eb_rc limits_err(eb_err *err, const char *field, const char *msg)
{
	return eb_err_set(err, EB_ERR_SHAPE, "LIMIT-10", field,
			  EB_CODE_INVALID_FIELD, -1, "%s: %s", field, msg);
}

static eb_rc read_int(const cJSON *root, const limit_field *f, eb_limits *l,
		      eb_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, f->name);
	char *base = (char *)l + f->off;
	uint64_t u;

	if (!v)
		return EB_OK;
	if (!eb_json_get_uint53(v, &u) || (!f->wide && u > UINT32_MAX))
		return limits_err(err, f->name, "must be a non-negative integer");
	if (f->wide)
		*(uint64_t *)(void *)base = u;
	else
		*(uint32_t *)(void *)base = (uint32_t)u;
	return EB_OK;
}

static eb_rc read_rate(const cJSON *rl, eb_limits *l, eb_err *err)
{
	const cJSON *v;
	size_t i;

	if (!cJSON_IsObject(rl))
		return limits_err(err, "rateLimit", "must be an object");
	for (i = 0; i < N_RATE_FIELDS; i++) {
		v = cJSON_GetObjectItemCaseSensitive(rl, rate_fields[i].name);
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
		    v->valuedouble < 0)
			return limits_err(err, rate_fields[i].name,
					  "must be a non-negative number");
		*(double *)(void *)((char *)l + rate_fields[i].off) =
			v->valuedouble;
	}
	l->rate_limit_on = true;
	return EB_OK;
}

eb_rc eb_limits_parse(const char *buf, size_t len, eb_limits *out, eb_err *err)
{
	cJSON *root = NULL;
	eb_limits l;
	const cJSON *rl;
	eb_rc rc;
	size_t i;

	if (!out)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_limits_parse: bad argument");
	rc = eb_json_parse(buf, len, EB_JSON_MAX_DEPTH, &root, err);
	if (rc != EB_OK)
		return rc;
	l = *out; /* fill a copy: *out stays untouched on failure */
	if (!cJSON_IsObject(root)) {
		rc = eb_err_set(err, EB_ERR_SHAPE, "LIMIT-10", "",
				EB_CODE_INVALID_REQUEST, -1,
				"the limits document must be a JSON object");
		goto out;
	}
	for (i = 0; i < N_INT_FIELDS; i++)
		if ((rc = read_int(root, &int_fields[i], &l, err)) != EB_OK)
			goto out;
	rl = cJSON_GetObjectItemCaseSensitive(root, "rateLimit");
	if (rl && (rc = read_rate(rl, &l, err)) != EB_OK)
		goto out;
	*out = l;
out:
	cJSON_Delete(root);
	return rc;
}

static bool add_rate(cJSON *o, const eb_limits *l)
{
	cJSON *rl;
	size_t i;
	double v;

	if (!l->rate_limit_on)
		return true;
	rl = cJSON_AddObjectToObject(o, "rateLimit");
	if (!rl)
		return false;
	for (i = 0; i < N_RATE_FIELDS; i++) {
		v = *(const double *)(const void *)((const char *)l +
						    rate_fields[i].off);
		if (!cJSON_AddNumberToObject(rl, rate_fields[i].name, v))
			return false;
	}
	return true;
}

eb_rc eb_limits_encode(const eb_limits *l, char **out)
{
	cJSON *o;
	const char *base;
	double v;
	eb_rc rc;
	bool ok = true;
	size_t i;

	if (!l || !out)
		return EB_ERR_ARG;
	*out = NULL;
	o = cJSON_CreateObject();
	if (!o)
		return EB_ERR_NOMEM;
	for (i = 0; i < N_INT_FIELDS && ok; i++) {
		base = (const char *)l + int_fields[i].off;
		v = int_fields[i].wide ? (double)*(const uint64_t *)(const void *)base
				       : (double)*(const uint32_t *)(const void *)base;
		ok = cJSON_AddNumberToObject(o, int_fields[i].name, v) != NULL;
	}
	ok = ok && add_rate(o, l);
	rc = ok ? eb_json_print(o, out, NULL) : EB_ERR_NOMEM;
	cJSON_Delete(o);
	return rc;
}
