/*
 * eb_merge.c — the reference oracle of PROTOCOL.md section 6 (MERGE-1..5).
 *
 * The state is a cJSON object. Changes are applied in stamp order; set
 * replaces the subtree at its path (MERGE-2) and delete removes it (MERGE-3).
 */
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_merge.h"

/* Canonical JSON of c for the MERGE-5 tie-break. The version is left out:
 * it is assigned by the server, and a client folding its own unsent changes
 * must order them exactly like the copies it reads back. NULL on NOMEM. */
static char *change_canonical(const eb_change *c)
{
	eb_change tmp = *c;
	tmp.has_version = false;
	cJSON *j = eb_change_to_json(&tmp);
	if (!j)
		return NULL;
	char *s = NULL;
	if (eb_json_canonical(j, &s, NULL) != EB_OK)
		s = NULL;
	cJSON_Delete(j);
	return s;
}

/* (timestamp, id bytewise as unsigned bytes): strcmp compares unsigned char. */
static int stamp_cmp(const eb_change *a, const eb_change *b)
{
	if (a->timestamp != b->timestamp)
		return a->timestamp < b->timestamp ? -1 : 1;
	int r = strcmp(a->id ? a->id : "", b->id ? b->id : "");
	return r < 0 ? -1 : r > 0;
}

static int str_cmp3(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	int r = strcmp(a, b);
	return r < 0 ? -1 : r > 0;
}

int eb_change_stamp_cmp(const eb_change *a, const eb_change *b)
{
	int r = stamp_cmp(a, b);
	if (r)
		return r;
	char *ca = change_canonical(a);
	char *cb = change_canonical(b);
	/* Out of memory leaves the tie unresolved; eb_merge_state does not
	 * depend on this path and reports NOMEM itself. */
	r = str_cmp3(ca, cb);
	free(ca);
	free(cb);
	return r;
}

/* ---- apply ---------------------------------------------------------------- */

static eb_rc merge_nomem(eb_err *err)
{
	return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, EB_CODE_INTERNAL, -1,
			  "out of memory");
}

/* Puts item under key in obj, replacing any member of that name. Takes
 * ownership of item in every case. */
static bool put_member(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
		if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item)) {
			cJSON_Delete(item);
			return false;
		}
		return true;
	}
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

eb_rc eb_merge_apply(cJSON *state, const eb_change *c, eb_err *err)
{
	if (!cJSON_IsObject(state) || !c || !c->path || c->path_len == 0 ||
	    (c->op != EB_OP_SET && c->op != EB_OP_DELETE) ||
	    (c->op == EB_OP_SET && !c->value))
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "state must be an object and the change a set with "
				  "a value or a delete, with a non-empty path");
	for (size_t i = 0; i < c->path_len; i++)
		if (!c->path[i])
			return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
					  "NULL path segment %zu", i);

	cJSON *cur = state;
	size_t last = c->path_len - 1;
	for (size_t i = 0; i < last; i++) {
		cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, c->path[i]);
		if (cJSON_IsObject(child)) {
			cur = child;
			continue;
		}
		/* MERGE-3: a delete below a missing or non-object node is a no-op. */
		if (c->op == EB_OP_DELETE)
			return EB_OK;
		/* MERGE-2: create (or replace a non-object with) an empty object. */
		cJSON *obj = cJSON_CreateObject();
		if (!obj || !put_member(cur, c->path[i], obj))
			return merge_nomem(err);
		cur = obj;
	}
	if (c->op == EB_OP_DELETE) {
		cJSON_DeleteItemFromObjectCaseSensitive(cur, c->path[last]);
		return EB_OK;
	}
	cJSON *v = cJSON_Duplicate(c->value, true);
	if (!v || !put_member(cur, c->path[last], v))
		return merge_nomem(err);
	return EB_OK;
}

/* ---- state ---------------------------------------------------------------- */

typedef struct merge_item {
	const eb_change *c;
	char *canon;   /* set only inside a run of equal stamps */
} merge_item;

static int item_stamp_cmp(const void *pa, const void *pb)
{
	const merge_item *a = pa, *b = pb;
	return stamp_cmp(a->c, b->c);
}

static int item_canon_cmp(const void *pa, const void *pb)
{
	const merge_item *a = pa, *b = pb;
	return strcmp(a->canon, b->canon);
}

eb_rc eb_merge_state(const eb_change *changes, size_t n, cJSON **state,
		     eb_err *err)
{
	merge_item *items = NULL;
	cJSON *s = NULL;
	eb_rc rc = EB_OK;

	if (!state || (n && !changes))
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "NULL state or changes");
	*state = NULL;
	s = cJSON_CreateObject();
	if (!s) {
		rc = merge_nomem(err);
		goto out;
	}
	if (n) {
		items = calloc(n, sizeof *items);
		if (!items) {
			rc = merge_nomem(err);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		items[i].c = &changes[i];
	if (n > 1)
		qsort(items, n, sizeof *items, item_stamp_cmp);

	/* MERGE-5: only runs of equal stamps need their canonical JSON, and
	 * computing it here (not inside qsort) lets NOMEM be reported. */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && stamp_cmp(items[i].c, items[j].c) == 0)
			j++;
		if (j - i > 1) {
			for (size_t k = i; k < j; k++) {
				items[k].canon = change_canonical(items[k].c);
				if (!items[k].canon) {
					rc = merge_nomem(err);
					goto out;
				}
			}
			qsort(items + i, j - i, sizeof *items, item_canon_cmp);
		}
		i = j;
	}

	for (size_t i = 0; i < n; i++) {
		rc = eb_merge_apply(s, items[i].c, err);
		if (rc != EB_OK) {
			if (err)
				err->index = (long)(items[i].c - changes);
			goto out;
		}
	}
out:
	if (items)
		for (size_t i = 0; i < n; i++)
			free(items[i].canon);
	free(items);
	if (rc == EB_OK)
		*state = s;
	else
		cJSON_Delete(s);
	return rc;
}
