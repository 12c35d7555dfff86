/*
 * eb_msg.c — validation of changes, the sync request and the
 * sync/changes-feed response (PROTOCOL.md sections 2, 3, 4 and the check
 * order of ERR-3).
 *
 * The sync request is validated in passes so that the first failing check of
 * ERR-3 wins and nothing is allocated for a request that is going to be
 * refused: (1) top-level shape, (2) the shape of every change, (3) batch
 * size, (4) per-change limits, and only then (5) the eb_change copies.
 */
#include "eb_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"

/* Nesting bound of request and response texts: cJSON's own limit. A value
 * nested deeper than max_value_depth must be a 422 (CHG-7, LIMIT-4), not a
 * parse error, so the parser only stops what cJSON cannot hold; values of
 * more than 997 levels (3 are the request's own) are INVALID_JSON. */
#define PARSE_DEPTH 1000

/* ---- helpers ---------------------------------------------------------------- */

static const eb_limits *limits_or_default(const eb_limits *lim, eb_limits *tmp)
{
	if (lim)
		return lim;
	eb_limits_default(tmp);
	return tmp;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Sets err for field changes[index]<sub> (or <sub> alone when index < 0). */
static eb_rc field_err(eb_err *err, eb_rc rc, const char *rule, long index,
		       const char *sub, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* s into dst[cap], cut at cap - 1 bytes as snprintf cuts. */
static void copy_bytes(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* "changes[<index>]<sub>" as snprintf would print it into dst[cap]: every
 * refused change names its field, and snprintf (its interceptor parsing
 * the format under ASan) was a tenth of a fuzz target's time. */
static void change_field(char *dst, size_t cap, long index, const char *sub)
{
	char tmp[48], rev[24];
	size_t n = 0, k = 0;
	unsigned long u = (unsigned long)index;

	do {
		rev[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	memcpy(tmp, "changes[", 8);
	n = 8;
	while (k)
		tmp[n++] = rev[--k];
	tmp[n++] = ']';
	tmp[n] = '\0';
	copy_bytes(dst, cap, tmp);
	if (n < cap - 1)
		copy_bytes(dst + n, cap - n, sub);
}

static eb_rc field_err(eb_err *err, eb_rc rc, const char *rule, long index,
		       const char *sub, const char *code, const char *fmt, ...)
{
	char field[128], msg[200];
	va_list ap;

	if (index >= 0)
		change_field(field, sizeof(field), index, sub);
	else
		copy_bytes(field, sizeof(field), sub);
	va_start(ap, fmt);
	if (eb_err_vformat(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	return eb_err_set(err, rc, rule, field, code, index, "%s: %s", field,
			  msg);
}

static eb_rc problem_from_err(eb_problems *p, const eb_err *e)
{
	return eb_problems_add(p, e->index, e->field, e->code, e->rule, e->msg);
}

/* ---- change validation (CHG-1..CHG-6, VER-6) -------------------------------- */

static bool has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7F)
			return true;
	return false;
}

static const cJSON *member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static eb_rc check_id(const cJSON *o, long i, eb_err *err)
{
	const cJSON *v = member(o, "id");

	if (!v)
		return field_err(err, EB_ERR_SHAPE, "CHG-1", i, ".id",
				 EB_CODE_INVALID_FIELD, "id is required");
	if (!cJSON_IsString(v))
		return field_err(err, EB_ERR_SHAPE, "CHG-1", i, ".id",
				 EB_CODE_INVALID_FIELD, "id must be a string");
	if (v->valuestring[0] == '\0')
		return field_err(err, EB_ERR_SHAPE, "CHG-1", i, ".id",
				 EB_CODE_INVALID_FIELD, "id must not be empty");
	if (has_control(v->valuestring))
		return field_err(err, EB_ERR_SHAPE, "CHG-1", i, ".id",
				 EB_CODE_INVALID_FIELD,
				 "id must not hold control characters");
	return EB_OK;
}

static eb_rc check_timestamp(const cJSON *o, long i, eb_err *err)
{
	const cJSON *v = member(o, "timestamp");

	if (!v)
		return field_err(err, EB_ERR_SHAPE, "CHG-2", i, ".timestamp",
				 EB_CODE_INVALID_FIELD,
				 "timestamp is required");
	if (!eb_json_get_uint53(v, NULL))
		return field_err(err, EB_ERR_SHAPE, "CHG-2", i, ".timestamp",
				 EB_CODE_INVALID_FIELD,
				 "timestamp must be an integer 0..2^53-1");
	return EB_OK;
}

/* Sets *op on success. */
static eb_rc check_operation(const cJSON *o, long i, eb_op *op, eb_err *err)
{
	const cJSON *v = member(o, "operation");

	if (cJSON_IsString(v) && strcmp(v->valuestring, "set") == 0)
		*op = EB_OP_SET;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "delete") == 0)
		*op = EB_OP_DELETE;
	else
		return field_err(err, EB_ERR_SHAPE, "CHG-3", i, ".operation",
				 EB_CODE_INVALID_FIELD,
				 v ? "operation must be \"set\" or \"delete\""
				   : "operation is required");
	return EB_OK;
}

static eb_rc check_path(const cJSON *o, long i, eb_err *err)
{
	const cJSON *v = member(o, "path"), *s;
	long j = 0;
	char sub[48];

	if (!cJSON_IsArray(v))
		return field_err(err, EB_ERR_SHAPE, "CHG-4", i, ".path",
				 EB_CODE_INVALID_FIELD,
				 v ? "path must be an array of strings"
				   : "path is required");
	if (!v->child)
		return field_err(err, EB_ERR_SHAPE, "CHG-4", i, ".path",
				 EB_CODE_INVALID_FIELD,
				 "path must not be empty");
	for (s = v->child; s; s = s->next, j++) {
		if (cJSON_IsString(s) && s->valuestring[0] != '\0')
			continue;
		snprintf(sub, sizeof(sub), ".path[%ld]", j);
		return field_err(err, EB_ERR_SHAPE, "CHG-4", i, sub,
				 EB_CODE_INVALID_FIELD,
				 cJSON_IsString(s) ? "empty path segment"
						   : "path segment must be a string");
	}
	return EB_OK;
}

static eb_rc check_value(const cJSON *o, long i, eb_op op, eb_err *err)
{
	const cJSON *v = member(o, "value");

	if (op == EB_OP_SET && !v)
		return field_err(err, EB_ERR_SHAPE, "CHG-5", i, ".value",
				 EB_CODE_INVALID_FIELD,
				 "a set needs a value");
	if (op == EB_OP_DELETE && v)
		return field_err(err, EB_ERR_SHAPE, "CHG-6", i, ".value",
				 EB_CODE_INVALID_FIELD,
				 "a delete must not carry a value");
	return EB_OK;
}

/* Shape of one change, fields in the order of section 7; with_version for
 * responses (VER-6), where pushes ignore "version" (CHG-8). */
static eb_rc check_change_shape(const cJSON *o, long i, bool with_version,
				eb_err *err)
{
	eb_op op = EB_OP_SET;
	eb_rc rc;

	if (!cJSON_IsObject(o))
		return field_err(err, EB_ERR_SHAPE,
				 with_version ? "SYNC-4" : "SYNC-1", i, "",
				 EB_CODE_INVALID_FIELD,
				 "a change must be an object");
	if ((rc = check_id(o, i, err)) != EB_OK ||
	    (rc = check_timestamp(o, i, err)) != EB_OK ||
	    (rc = check_operation(o, i, &op, err)) != EB_OK ||
	    (rc = check_path(o, i, err)) != EB_OK ||
	    (rc = check_value(o, i, op, err)) != EB_OK)
		return rc;
	if (with_version && !eb_json_get_uint53(member(o, "version"), NULL))
		return field_err(err, EB_ERR_SHAPE, "VER-6", i, ".version",
				 EB_CODE_INVALID_FIELD,
				 "a change in a response needs an integer version");
	return EB_OK;
}

/* ---- per-change limits (LIMIT-3, LIMIT-4, LIMIT-5) -------------------------- */

static eb_rc limit_path(const cJSON *path, long i, const eb_limits *lim,
			eb_err *err)
{
	const cJSON *s;
	long j = 0;
	char sub[48];
	size_t n = (size_t)cJSON_GetArraySize(path);

	if (n > lim->max_path_segments)
		return field_err(err, EB_ERR_LIMIT, "LIMIT-3", i, ".path",
				 EB_CODE_LIMIT_EXCEEDED,
				 "%zu path segments, at most %u", n,
				 (unsigned)lim->max_path_segments);
	for (s = path->child; s; s = s->next, j++) {
		n = strlen(s->valuestring);
		if (n <= lim->max_path_segment_bytes)
			continue;
		snprintf(sub, sizeof(sub), ".path[%ld]", j);
		return field_err(err, EB_ERR_LIMIT, "LIMIT-3", i, sub,
				 EB_CODE_LIMIT_EXCEEDED,
				 "segment of %zu bytes, at most %u", n,
				 (unsigned)lim->max_path_segment_bytes);
	}
	return EB_OK;
}

static eb_rc limit_value(const cJSON *v, long i, const eb_limits *lim,
			 eb_err *err)
{
	size_t n = 0;
	int depth;

	if (!v)
		return EB_OK;
	if (eb_json_canonical_size(v, &n) != EB_OK)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	if (n > lim->max_value_bytes)
		return field_err(err, EB_ERR_LIMIT, "LIMIT-4", i, ".value",
				 EB_CODE_LIMIT_EXCEEDED,
				 "value of %zu bytes serialized, at most %u", n,
				 (unsigned)lim->max_value_bytes);
	depth = eb_json_depth(v);
	if (depth < 0 || (uint32_t)depth > lim->max_value_depth)
		return field_err(err, EB_ERR_LIMIT, "LIMIT-4", i, ".value",
				 EB_CODE_LIMIT_EXCEEDED,
				 "value nested %d deep, at most %u", depth,
				 (unsigned)lim->max_value_depth);
	return EB_OK;
}

/* Only for changes that passed check_change_shape. */
static eb_rc check_change_limits(const cJSON *o, long i, const eb_limits *lim,
				 eb_err *err)
{
	size_t n = strlen(member(o, "id")->valuestring);
	eb_rc rc;

	if (n > lim->max_change_id_bytes)
		return field_err(err, EB_ERR_LIMIT, "LIMIT-5", i, ".id",
				 EB_CODE_LIMIT_EXCEEDED,
				 "id of %zu bytes, at most %u", n,
				 (unsigned)lim->max_change_id_bytes);
	rc = limit_path(member(o, "path"), i, lim, err);
	if (rc != EB_OK)
		return rc;
	return limit_value(member(o, "value"), i, lim, err);
}

/* ---- building eb_change from a checked object --------------------------------- */

/* o passed check_change_shape. The value is copied out of o. */
static eb_rc build_change(const cJSON *o, bool with_version, eb_change *c)
{
	const cJSON *s, *v;
	uint64_t u = 0;
	size_t j = 0;

	memset(c, 0, sizeof(*c));
	c->id = dup_str(member(o, "id")->valuestring);
	if (!c->id)
		goto nomem;
	eb_json_get_uint53(member(o, "timestamp"), &c->timestamp);
	c->op = strcmp(member(o, "operation")->valuestring, "set") == 0
			? EB_OP_SET : EB_OP_DELETE;
	s = member(o, "path");
	c->path = calloc((size_t)cJSON_GetArraySize(s), sizeof(*c->path));
	if (!c->path)
		goto nomem;
	for (s = s->child; s; s = s->next) {
		c->path[j] = dup_str(s->valuestring);
		if (!c->path[j])
			goto nomem;
		c->path_len = ++j;
	}
	/* A copy: the parsed tree is one block (eb_json_parse_block) */
	v = cJSON_GetObjectItemCaseSensitive(o, "value");
	if (v && c->op == EB_OP_SET && !(c->value = cJSON_Duplicate(v, 1)))
		goto nomem;
	if (with_version && eb_json_get_uint53(member(o, "version"), &u)) {
		c->version = u;
		c->has_version = true;
	}
	return EB_OK;
nomem:
	eb_change_clear(c);
	return EB_ERR_NOMEM;
}

/* Builds n changes from the array arr; on failure frees what it built. */
static eb_rc build_changes(cJSON *arr, bool with_version, eb_change **out,
			   size_t *n_out)
{
	eb_change *cs;
	cJSON *o;
	size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return EB_OK;
	cs = calloc(n, sizeof(*cs));
	if (!cs)
		return EB_ERR_NOMEM;
	for (o = arr->child; o; o = o->next, k++) {
		if (build_change(o, with_version, &cs[k]) != EB_OK) {
			while (k > 0)
				eb_change_clear(&cs[--k]);
			free(cs);
			return EB_ERR_NOMEM;
		}
	}
	*out = cs;
	*n_out = n;
	return EB_OK;
}

static void free_changes(eb_change *cs, size_t n)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < n; i++)
		eb_change_clear(&cs[i]);
	free(cs);
}

/* ---- sync request ------------------------------------------------------------- */

/* A top-level field error: one problem with index -1 (ERR-2). */
static eb_rc top_err(eb_problems *problems, eb_err *err, eb_rc rc,
		     const char *rule, const char *field, const char *code,
		     const char *msg)
{
	eb_err tmp = { 0 };
	eb_err *e = err ? err : &tmp;

	field_err(e, rc, rule, -1, field, code, "%s", msg);
	if (problem_from_err(problems, e) != EB_OK)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	return rc;
}

static eb_rc check_uint53_member(const cJSON *v, const char *name,
				 eb_problems *problems, eb_err *err)
{
	if (eb_json_get_uint53(v, NULL))
		return EB_OK;
	if (cJSON_IsNumber(v))
		return top_err(problems, err, EB_ERR_SHAPE, "GEN-5", name,
			       EB_CODE_INVALID_FIELD,
			       "must be an integer 0..2^53-1");
	return top_err(problems, err, EB_ERR_SHAPE, "SYNC-1", name,
		       EB_CODE_INVALID_FIELD,
		       v ? "must be an integer" : "is required");
}

static eb_rc check_request_top(const cJSON *root, const eb_limits *lim,
			       eb_problems *problems, eb_err *err)
{
	const cJSON *lkv, *ch, *li;
	uint64_t l;
	eb_rc rc;

	if (!cJSON_IsObject(root))
		return eb_err_set(err, EB_ERR_SHAPE, "SYNC-1", "",
				  EB_CODE_INVALID_REQUEST, -1,
				  "the request body must be a JSON object");
	lkv = member(root, "lastKnownVersion");
	rc = check_uint53_member(lkv, "lastKnownVersion", problems, err);
	if (rc != EB_OK)
		return rc;
	ch = member(root, "changes");
	if (ch && !cJSON_IsArray(ch))
		return top_err(problems, err, EB_ERR_SHAPE, "SYNC-1", "changes",
			       EB_CODE_INVALID_FIELD,
			       "changes must be an array");
	li = member(root, "limit");
	if (!li)
		return EB_OK;
	rc = check_uint53_member(li, "limit", problems, err);
	if (rc != EB_OK)
		return rc;
	eb_json_get_uint53(li, &l);
	if (l < 1 || l > lim->max_page_limit)
		return top_err(problems, err, EB_ERR_SHAPE, "LIMIT-7", "limit",
			       EB_CODE_INVALID_FIELD,
			       "must be 1..the server's page maximum");
	return EB_OK;
}

/* Passes over every change with check(); each failure becomes a problem and
 * the first lands in err. Returns EB_OK, the check's rc or EB_ERR_NOMEM. */
static eb_rc check_all_changes(const cJSON *arr, const eb_limits *lim,
			       bool limits_pass, eb_problems *problems,
			       eb_err *err)
{
	const cJSON *o;
	eb_err e;
	eb_rc rc, first = EB_OK;
	long i = 0;

	for (o = arr ? arr->child : NULL; o; o = o->next, i++) {
		eb_err_clear(&e);
		rc = limits_pass ? check_change_limits(o, i, lim, &e)
				 : check_change_shape(o, i, false, &e);
		if (rc == EB_OK)
			continue;
		if (rc == EB_ERR_NOMEM || problem_from_err(problems, &e) != EB_OK)
			return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL,
					  -1, "out of memory");
		if (first == EB_OK) {
			first = rc;
			if (err)
				*err = e;
		}
	}
	return first;
}

static eb_rc check_request(const cJSON *root, const eb_limits *lim,
			   eb_problems *problems, eb_err *err)
{
	const cJSON *arr;
	int n;
	eb_rc rc;

	rc = check_request_top(root, lim, problems, err);
	if (rc != EB_OK)
		return rc;
	arr = member(root, "changes");
	rc = check_all_changes(arr, lim, false, problems, err);
	if (rc != EB_OK)
		return rc;
	n = arr ? cJSON_GetArraySize(arr) : 0;
	if ((uint32_t)n > lim->max_changes_per_request)
		return top_err(problems, err, EB_ERR_LIMIT, "LIMIT-2", "changes",
			       EB_CODE_LIMIT_EXCEEDED,
			       "too many changes in one request");
	return check_all_changes(arr, lim, true, problems, err);
}


eb_rc eb_sync_request_parse(const char *buf, size_t len, const eb_limits *lim,
			    eb_sync_request **out, eb_problems *problems,
			    eb_err *err)
{
	eb_limits tmp;
	eb_sync_request *r = NULL;
	cJSON *root = NULL, *arr;
	eb_rc rc;

	if (!out)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_sync_request_parse: bad argument");
	*out = NULL;
	lim = limits_or_default(lim, &tmp);
	rc = eb_json_parse_block(buf, len, PARSE_DEPTH, &root, err);
	if (rc != EB_OK)
		return rc;
	rc = check_request(root, lim, problems, err);
	if (rc != EB_OK)
		goto out;
	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	eb_json_get_uint53(member(root, "lastKnownVersion"),
			   &r->last_known_version);
	r->limit = lim->max_page_limit;
	if (member(root, "limit")) {
		uint64_t l = 0;

		eb_json_get_uint53(member(root, "limit"), &l);
		r->limit = (uint32_t)l;
		r->has_limit = true;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "changes");
	rc = arr ? build_changes(arr, false, &r->changes, &r->n) : EB_OK;
	if (rc != EB_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	if (rc == EB_ERR_NOMEM)
		eb_err_set(err, rc, NULL, NULL, NULL, -1, "out of memory");
	eb_sync_request_free(r);
	eb_json_block_free(root);
	return rc;
}

void eb_sync_request_free(eb_sync_request *r)
{
	if (!r)
		return;
	free_changes(r->changes, r->n);
	free(r);
}

eb_rc eb_sync_request_check_timestamps(const eb_sync_request *req,
				       uint64_t now_ms, uint64_t skew_ms,
				       eb_problems *problems, eb_err *err)
{
	uint64_t bound = now_ms + skew_ms;
	eb_err e;
	eb_rc first = EB_OK;
	size_t i;

	if (!req)
		return EB_ERR_ARG;
	if (bound < now_ms)
		bound = UINT64_MAX; /* saturate */
	for (i = 0; i < req->n; i++) {
		if (req->changes[i].timestamp <= bound)
			continue;
		field_err(&e, EB_ERR_TIMESTAMP, "TS-2", (long)i, ".timestamp",
			  EB_CODE_TIMESTAMP_IN_FUTURE,
			  "more than %llu ms ahead of the server clock",
			  (unsigned long long)skew_ms);
		if (problem_from_err(problems, &e) != EB_OK)
			return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL,
					  -1, "out of memory");
		if (first == EB_OK && err)
			*err = e;
		first = EB_ERR_TIMESTAMP;
	}
	return first;
}

/* Index order of changes sorted by (id, index). */
typedef struct id_ref {
	const char *id;
	size_t index;
} id_ref;

static int cmp_id_ref(const void *a, const void *b)
{
	const id_ref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Marks bad[i] for each change that has an earlier change with the same id
 * and other content. Sorting keeps this O(n log n) for large batches. */
static eb_rc mark_conflicts(const eb_sync_request *req, bool *bad)
{
	id_ref *refs = malloc(req->n * sizeof(*refs));
	size_t i, first = 0;
	bool seen_diff = false;

	if (!refs)
		return EB_ERR_NOMEM;
	for (i = 0; i < req->n; i++) {
		refs[i].id = req->changes[i].id;
		refs[i].index = i;
	}
	qsort(refs, req->n, sizeof(*refs), cmp_id_ref);
	for (i = 1; i < req->n; i++) {
		if (strcmp(refs[i].id, refs[first].id) != 0) {
			first = i;
			seen_diff = false;
			continue;
		}
		/* Equal to the group's first but a differing one came between:
		 * then it differs from that one. */
		if (seen_diff || !eb_change_same_content(
				&req->changes[refs[first].index],
				&req->changes[refs[i].index])) {
			bad[refs[i].index] = true;
			seen_diff = true;
		}
	}
	free(refs);
	return EB_OK;
}

eb_rc eb_sync_request_check_internal_conflicts(const eb_sync_request *req,
					       eb_problems *problems,
					       eb_err *err)
{
	bool *bad;
	eb_err e;
	eb_rc rc = EB_OK;
	size_t i;

	if (!req)
		return EB_ERR_ARG;
	if (req->n < 2)
		return EB_OK;
	bad = calloc(req->n, sizeof(*bad));
	if (!bad || mark_conflicts(req, bad) != EB_OK) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				"out of memory");
		goto out;
	}
	for (i = 0; i < req->n; i++) {
		if (!bad[i])
			continue;
		field_err(&e, EB_ERR_CONFLICT, "IDEM-4", (long)i, ".id",
			  EB_CODE_CHANGE_ID_CONFLICT,
			  "an earlier change of this request has this id and other content");
		if (problem_from_err(problems, &e) != EB_OK) {
			rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL,
					-1, "out of memory");
			goto out;
		}
		if (rc == EB_OK && err)
			*err = e;
		rc = EB_ERR_CONFLICT;
	}
out:
	free(bad);
	return rc;
}

/* ---- encoders ----------------------------------------------------------------- */

/* The encoders write the message straight into one buffer, in the member
 * order and with the numbers eb_json_print gives the tree of the message
 * (a tree of it, with a copy of every value, was most of an encode). */

static void put_changes(eb_buf *b, const eb_change *cs, size_t n)
{
	size_t i;

	eb_buf_str(b, ",\"changes\":[");
	for (i = 0; i < n; i++) {
		if (i)
			eb_buf_put(b, ",", 1);
		eb_change_put(b, &cs[i]);
	}
	eb_buf_put(b, "]", 1);
}

static eb_rc take_text(eb_buf *b, char **out)
{
	*out = eb_buf_take(b, NULL);
	return *out ? EB_OK : EB_ERR_NOMEM;
}

eb_rc eb_sync_request_encode(const eb_sync_request *r, char **out)
{
	eb_buf b = { 0 };

	if (!r || !out)
		return EB_ERR_ARG;
	*out = NULL;
	eb_buf_str(&b, "{\"lastKnownVersion\":");
	eb_json_put_number(&b, (double)r->last_known_version);
	put_changes(&b, r->changes, r->n);
	if (r->has_limit) {
		eb_buf_str(&b, ",\"limit\":");
		eb_json_put_number(&b, (double)r->limit);
	}
	eb_buf_put(&b, "}", 1);
	return take_text(&b, out);
}

eb_rc eb_sync_response_encode(const eb_sync_response *r, char **out)
{
	eb_buf b = { 0 };

	if (!r || !out)
		return EB_ERR_ARG;
	*out = NULL;
	eb_buf_str(&b, "{\"currentVersion\":");
	eb_json_put_number(&b, (double)r->current_version);
	put_changes(&b, r->changes, r->n);
	eb_buf_str(&b, ",\"toVersion\":");
	eb_json_put_number(&b, (double)r->to_version);
	eb_buf_str(&b, r->has_more ? ",\"hasMore\":true}" : ",\"hasMore\":false}");
	return take_text(&b, out);
}

/* ---- sync response (client side) ------------------------------------------- */

static eb_rc response_uint(const cJSON *root, const char *name, uint64_t *v,
			   eb_err *err)
{
	if (eb_json_get_uint53(member(root, name), v))
		return EB_OK;
	return eb_err_set(err, EB_ERR_SHAPE, "SYNC-4", name,
			  EB_CODE_INVALID_FIELD, -1,
			  "%s must be an integer 0..2^53-1", name);
}

static eb_rc check_response(const cJSON *root, eb_sync_response *r,
			    eb_err *err)
{
	const cJSON *o;
	eb_rc rc;
	long i = 0;

	if (!cJSON_IsObject(root))
		return eb_err_set(err, EB_ERR_SHAPE, "SYNC-4", "",
				  EB_CODE_INVALID_REQUEST,
				  -1, "the response must be a JSON object");
	if ((rc = response_uint(root, "currentVersion", &r->current_version,
				err)) != EB_OK)
		return rc;
	o = member(root, "changes");
	if (!cJSON_IsArray(o))
		return eb_err_set(err, EB_ERR_SHAPE, "SYNC-4", "changes",
				  EB_CODE_INVALID_FIELD, -1,
				  "changes must be an array");
	for (o = o->child; o; o = o->next, i++)
		if ((rc = check_change_shape(o, i, true, err)) != EB_OK)
			return rc;
	if ((rc = response_uint(root, "toVersion", &r->to_version, err)) !=
	    EB_OK)
		return rc;
	o = member(root, "hasMore");
	if (!cJSON_IsBool(o))
		return eb_err_set(err, EB_ERR_SHAPE, "SYNC-4", "hasMore",
				  EB_CODE_INVALID_FIELD, -1,
				  "hasMore must be a boolean");
	r->has_more = cJSON_IsTrue(o);
	return EB_OK;
}

eb_rc eb_sync_response_parse(const char *buf, size_t len,
			     eb_sync_response **out, eb_err *err)
{
	eb_sync_response *r = NULL;
	cJSON *root = NULL;
	eb_rc rc;

	if (!out)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_sync_response_parse: bad argument");
	*out = NULL;
	/* A server may allow deeper values than the default (LIMIT-10). */
	rc = eb_json_parse_block(buf, len, PARSE_DEPTH, &root, err);
	if (rc != EB_OK)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	rc = check_response(root, r, err);
	if (rc != EB_OK)
		goto out;
	rc = build_changes(cJSON_GetObjectItemCaseSensitive(root, "changes"),
			   true, &r->changes, &r->n);
	if (rc != EB_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	if (rc == EB_ERR_NOMEM)
		eb_err_set(err, rc, NULL, NULL, NULL, -1, "out of memory");
	eb_sync_response_free(r);
	eb_json_block_free(root);
	return rc;
}

void eb_sync_response_free(eb_sync_response *r)
{
	if (!r)
		return;
	free_changes(r->changes, r->n);
	free(r);
}
