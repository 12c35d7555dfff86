/*
 * fuzz_canon.c — canonical equality (PROTOCOL.md 1.1) as a property.
 *
 * The input is two JSON texts separated by one 0xFF byte (a byte that never
 * occurs in valid UTF-8, so it cannot be part of either text). Invariants:
 *  - eb_json_canon_equal is reflexive and symmetric;
 *  - it agrees with the encoder: equal iff the canonical strings are equal;
 *  - member order does not matter: a deep copy with every object's members
 *    reversed is equal, and has the same canonical string;
 *  - a real difference matters: the copy with one more character appended
 *    to its first string leaf is not equal.
 */
#include "../fuzz_common.h"

#include "eb_json.h"

static bool fc_canon(const cJSON *v, char **s, size_t *len)
{
	return eb_json_canonical(v, s, len) == EB_OK;
}

static void fc_reverse_members(cJSON *v)
{
	cJSON *c, *next, *rev = NULL;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return;
	for (c = v->child; c; c = c->next)
		fc_reverse_members(c);
	if (!cJSON_IsObject(v) || !v->child)
		return;
	/* Rebuild the sibling list back to front (cJSON keeps child->prev as
	 * the tail). */
	for (c = v->child; c; c = next) {
		next = c->next;
		c->next = rev;
		if (rev)
			rev->prev = c;
		rev = c;
	}
	v->child = rev;
	for (c = rev; c->next; c = c->next)
		;
	rev->prev = c;
}

/* The first string value in document order, or NULL. */
static cJSON *fc_first_string(cJSON *v)
{
	cJSON *c, *s;

	if (cJSON_IsString(v))
		return v;
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return NULL;
	for (c = v->child; c; c = c->next)
		if ((s = fc_first_string(c)) != NULL)
			return s;
	return NULL;
}

static void fc_pair(const cJSON *a, const cJSON *b)
{
	char *ca = NULL, *cb = NULL;
	size_t la = 0, lb = 0;
	bool eq_ab = eb_json_canon_equal(a, b);

	FZ_CHECK(eq_ab == eb_json_canon_equal(b, a), "canonical equality is symmetric");
	if (fc_canon(a, &ca, &la) && fc_canon(b, &cb, &lb))
		FZ_CHECK(eq_ab == (la == lb && memcmp(ca, cb, la) == 0),
			 "canonical equality agrees with the canonical encoder");
	free(ca);
	free(cb);
}

static void fc_one(const cJSON *a)
{
	cJSON *rev, *longer;
	cJSON *s;

	FZ_CHECK(eb_json_canon_equal(a, a), "canonical equality is reflexive");
	rev = cJSON_Duplicate(a, 1);
	if (!rev)
		return;
	FZ_CHECK(eb_json_canon_equal(a, rev), "a deep copy is equal");
	fc_reverse_members(rev);
	FZ_CHECK(eb_json_canon_equal(a, rev), "member order does not matter");
	fc_pair(a, rev);

	longer = cJSON_Duplicate(a, 1);
	s = longer ? fc_first_string(longer) : NULL;
	if (s) {
		size_t n = strlen(s->valuestring);
		char *grown = malloc(n + 2);

		if (grown) {
			memcpy(grown, s->valuestring, n);
			grown[n] = '!';
			grown[n + 1] = '\0';
			cJSON_free(s->valuestring);
			s->valuestring = grown;
			/* cJSON frees valuestring with its allocator, which is
			 * malloc here (no cJSON_InitHooks anywhere). */
			FZ_CHECK(!eb_json_canon_equal(a, longer),
				 "a longer string is a different value");
			fc_pair(a, longer);
		}
	}
	cJSON_Delete(longer);
	cJSON_Delete(rev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0xFF, size);
	size_t la = sep ? (size_t)(sep - data) : size;
	cJSON *a = NULL, *b = NULL;

	if (eb_json_parse((const char *)data, la, EB_JSON_MAX_DEPTH, &a, NULL) != EB_OK)
		a = NULL;
	if (sep && eb_json_parse((const char *)sep + 1, size - la - 1,
				 EB_JSON_MAX_DEPTH, &b, NULL) != EB_OK)
		b = NULL;
	if (a)
		fc_one(a);
	if (b)
		fc_one(b);
	if (a && b)
		fc_pair(a, b);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return 0;
}
