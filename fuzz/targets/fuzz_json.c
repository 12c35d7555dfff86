/*
 * fuzz_json.c — eb_json_parse on arbitrary bytes, at several depth limits.
 *
 * Invariants (abort on violation):
 *  - a parse that fails leaves *out NULL and an error with code INVALID_JSON
 *    (or EB_ERR_NOMEM);
 *  - an accepted text is valid UTF-8, and its tree is no deeper than the limit;
 *  - the canonical form of an accepted text parses again, is canonically
 *    equal to it, and is a fixed point (canonical(parse(c)) == c).
 * (cJSON's own print is not checked: it prints numbers with 15 significant
 * digits when they compare "close enough", so 777777777777777777 comes back
 * as another number. Encoders must use eb_json_canonical.)
 */
#include "../fuzz_common.h"

#include "eb_json.h"

static void fj_check_canonical(const cJSON *v, int depth_limit)
{
	char *c1 = NULL, *c2 = NULL;
	size_t l1 = 0, l2 = 0;
	cJSON *back = NULL;
	eb_err err;

	if (eb_json_canonical(v, &c1, &l1) != EB_OK)
		return; /* out of memory only */
	FZ_CHECK(strlen(c1) == l1, "canonical length matches its text");
	FZ_CHECK(eb_utf8_valid(c1, l1), "canonical form is UTF-8");
	FZ_CHECK(eb_json_parse(c1, l1, depth_limit, &back, &err) == EB_OK,
		 "canonical form parses again");
	FZ_CHECK(eb_json_canon_equal(v, back), "canonical form is equal to the value");
	FZ_CHECK(eb_json_depth(back) == eb_json_depth(v), "depth survives canonicalization");
	FZ_CHECK(eb_json_canonical(back, &c2, &l2) == EB_OK, "canonicalize twice");
	FZ_CHECK(l1 == l2 && memcmp(c1, c2, l1) == 0, "canonical form is a fixed point");

	cJSON_Delete(back);
	free(c1);
	free(c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int limits[] = { EB_JSON_MAX_DEPTH, 3, 1 };
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		cJSON *v = (cJSON *)(uintptr_t)1;
		eb_err err;
		eb_rc rc = eb_json_parse((const char *)data, size, limits[i],
					 &v, &err);

		if (rc != EB_OK) {
			FZ_CHECK(v == NULL, "failed parse leaves *out NULL");
			FZ_CHECK(rc == EB_ERR_JSON || rc == EB_ERR_NOMEM,
				 "parse fails only as JSON or NOMEM");
			if (rc == EB_ERR_JSON)
				FZ_CHECK(strcmp(err.code, "INVALID_JSON") == 0,
					 "JSON errors carry INVALID_JSON");
			/* Shallower limits cannot accept what deeper ones refuse. */
			if (rc == EB_ERR_JSON)
				break;
			continue;
		}
		FZ_CHECK(v != NULL, "accepted parse yields a tree");
		FZ_CHECK(eb_utf8_valid((const char *)data, size), "accepted text is UTF-8");
		FZ_CHECK(eb_json_depth(v) <= limits[i], "depth limit honoured");
		if (i == 0)
			fj_check_canonical(v, limits[i]);
		cJSON_Delete(v);
	}
	return 0;
}
