/*
 * fuzz_merge.c — the merge oracle of PROTOCOL.md section 6 as a property.
 *
 * 2 to 6 changes are built from the input, with ids, timestamps and paths
 * drawn from small sets so that equal stamps (MERGE-5), overlapping paths
 * (MERGE-4), deletes of missing members (MERGE-3) and sets through
 * non-objects (MERGE-2) are common. Invariants:
 *  - eb_merge_state gives the same state for every order of the changes
 *    (identity, reverse, rotations, and input-chosen swaps) (MERGE-1);
 *  - adding an exact duplicate of a change does not change the state;
 *  - the state equals a model written here from MERGE-1..5 (stamp order,
 *    ties by canonical JSON, set/delete semantics);
 *  - eb_change_stamp_cmp is an antisymmetric order.
 */
#include "../fuzz_gen.h"

#include "eb_json.h"
#include "eb_merge.h"

#define FM_MAX 7

static cJSON *fm_state(const eb_change *cs, size_t n)
{
	cJSON *s = NULL;
	eb_err err;
	eb_rc rc = eb_merge_state(cs, n, &s, &err);

	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "valid changes always merge");
	return rc == EB_OK ? s : NULL;
}

static void fm_same(const cJSON *a, const cJSON *b, const char *what)
{
	if (!a || !b)
		return; /* out of memory */
	if (!eb_json_canon_equal(a, b)) {
		char *x = NULL, *y = NULL;

		eb_json_canonical(a, &x, NULL);
		eb_json_canonical(b, &y, NULL);
		fprintf(stderr, "state %s\n   vs %s\n", x ? x : "?", y ? y : "?");
		free(x);
		free(y);
	}
	FZ_CHECK(eb_json_canon_equal(a, b), what);
}

/* ---- the model ------------------------------------------------------------ */

typedef struct fm_item {
	const eb_change *c;
	char *canon;
} fm_item;

static int fm_cmp(const void *pa, const void *pb)
{
	const fm_item *a = pa, *b = pb;
	int r;

	if (a->c->timestamp != b->c->timestamp)
		return a->c->timestamp < b->c->timestamp ? -1 : 1;
	r = strcmp(a->c->id, b->c->id);
	if (r)
		return r;
	return strcmp(a->canon, b->canon);
}

static void fm_apply(cJSON *state, const eb_change *c)
{
	cJSON *cur = state, *child;
	size_t i, last = c->path_len - 1;

	for (i = 0; i < last; i++) {
		child = cJSON_GetObjectItemCaseSensitive(cur, c->path[i]);
		if (!cJSON_IsObject(child)) {
			if (c->op == EB_OP_DELETE)
				return;
			cJSON_DeleteItemFromObjectCaseSensitive(cur, c->path[i]);
			child = cJSON_AddObjectToObject(cur, c->path[i]);
			if (!child)
				return;
		}
		cur = child;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(cur, c->path[last]);
	if (c->op == EB_OP_SET)
		cJSON_AddItemToObject(cur, c->path[last], cJSON_Duplicate(c->value, 1));
}

static cJSON *fm_model(const eb_change *cs, size_t n)
{
	fm_item items[FM_MAX];
	cJSON *state = cJSON_CreateObject(), *j;
	size_t i;

	for (i = 0; i < n; i++) {
		eb_change tmp = cs[i];

		tmp.has_version = false;
		items[i].c = &cs[i];
		items[i].canon = NULL;
		j = eb_change_to_json(&tmp);
		if (j)
			eb_json_canonical(j, &items[i].canon, NULL);
		cJSON_Delete(j);
		if (!items[i].canon)
			goto fail;
	}
	/* cppcheck-suppress uninitvar ; the loop above set items[0..n) */
	qsort(items, n, sizeof(items[0]), fm_cmp);
	for (i = 0; state && i < n; i++)
		fm_apply(state, items[i].c);
	for (i = 0; i < n; i++)
		free(items[i].canon);
	return state;
fail:
	while (i > 0)
		free(items[--i].canon);
	cJSON_Delete(state);
	return NULL;
}

/* ---- the target ----------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_change cs[FM_MAX], perm[FM_MAX];
	cJSON *base = NULL, *other, *model;
	fz_in in;
	size_t n, built = 0, i, j, r;

	fz_init(&in, data, size);
	n = 2 + fz_below(&in, 5);
	for (built = 0; built < n; built++)
		if (!fg_change(&in, &cs[built], true, true, 2, 3))
			goto out;

	for (i = 0; i < n; i++)
		for (j = i; j < n; j++) {
			int a = eb_change_stamp_cmp(&cs[i], &cs[j]);
			int b = eb_change_stamp_cmp(&cs[j], &cs[i]);

			FZ_CHECK((a > 0) - (a < 0) == -((b > 0) - (b < 0)),
				 "stamp order is antisymmetric (MERGE-1, MERGE-5)");
			if (i == j)
				FZ_CHECK(a == 0, "stamp order is reflexive");
		}

	base = fm_state(cs, n);
	model = fm_model(cs, n);
	fm_same(base, model, "the oracle follows MERGE-1..5");
	cJSON_Delete(model);

	/* Reverse and every rotation. */
	for (r = 0; r <= n; r++) {
		for (i = 0; i < n; i++)
			perm[i] = r == n ? cs[n - 1 - i] : cs[(i + r) % n];
		other = fm_state(perm, n);
		fm_same(base, other, "the state does not depend on arrival order (MERGE-1)");
		cJSON_Delete(other);
	}
	/* Input-chosen swaps. */
	memcpy(perm, cs, n * sizeof(cs[0]));
	for (r = 0; r < 4 && fz_remaining(&in); r++) {
		eb_change t;

		i = fz_below(&in, (uint32_t)n);
		j = fz_below(&in, (uint32_t)n);
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		other = fm_state(perm, n);
		fm_same(base, other, "the state does not depend on arrival order (MERGE-1)");
		cJSON_Delete(other);
	}
	/* A duplicate of one change (shallow: the oracle only reads). */
	memcpy(perm, cs, n * sizeof(cs[0]));
	perm[n] = cs[fz_below(&in, (uint32_t)n)];
	other = fm_state(perm, n + 1);
	fm_same(base, other, "a duplicate change does not change the state");
	cJSON_Delete(other);
out:
	cJSON_Delete(base);
	for (i = 0; i < built; i++)
		eb_change_clear(&cs[i]);
	return 0;
}
