/*
 * fuzz_sync_response.c — eb_sync_response_parse on arbitrary bodies (what a
 * client SDK and the conformance suite do with every 200 of sync and the
 * changes feed), then parse -> encode -> parse.
 *
 * Invariants: refusals are JSON or SHAPE with a rule and no result; an
 * accepted response has SYNC-4's members and every change is valid and
 * carries a version (VER-6); the encoder's output parses back to the same
 * response with canonically equal values (CHG-9).
 */
#include "../fuzz_common.h"

#include "eb_json.h"
#include "eb_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_sync_response *r = (eb_sync_response *)(uintptr_t)1, *back = NULL;
	char *enc = NULL;
	eb_err err;
	eb_rc rc = eb_sync_response_parse((const char *)data, size, &r, &err);
	size_t i;

	if (rc != EB_OK) {
		FZ_CHECK(r == NULL, "a refused response yields nothing");
		FZ_CHECK(rc == EB_ERR_JSON || rc == EB_ERR_SHAPE || rc == EB_ERR_NOMEM,
			 "response refusals are JSON or SHAPE");
		if (rc != EB_ERR_NOMEM)
			FZ_CHECK(err.rule[0] != '\0', "response refusals cite a rule");
		return 0;
	}
	FZ_CHECK(r->current_version <= EB_MAX_UINT53 && r->to_version <= EB_MAX_UINT53,
		 "versions are GEN-5 (SYNC-4)");
	for (i = 0; i < r->n; i++) {
		const eb_change *c = &r->changes[i];

		FZ_CHECK(c->has_version && c->version <= EB_MAX_UINT53,
			 "every change carries its version (VER-6)");
		FZ_CHECK(c->id && c->id[0] && c->path_len >= 1, "changes are valid (CHG-1, CHG-4)");
		FZ_CHECK((c->op == EB_OP_SET) == (c->value != NULL),
			 "value exactly for set (CHG-5, CHG-6)");
	}
	rc = eb_sync_response_encode(r, &enc);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an accepted response encodes");
	if (rc == EB_OK) {
		rc = eb_sync_response_parse(enc, strlen(enc), &back, &err);
		if (rc != EB_OK && rc != EB_ERR_NOMEM)
			fprintf(stderr, "re-parse of %s failed: %s\n", enc, err.msg);
		FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded response parses");
	}
	if (back) {
		FZ_CHECK(back->current_version == r->current_version &&
			 back->to_version == r->to_version &&
			 back->has_more == r->has_more && back->n == r->n,
			 "round trip keeps the response members");
		for (i = 0; i < r->n; i++) {
			bool same = strcmp(back->changes[i].id, r->changes[i].id) == 0 &&
				    back->changes[i].version == r->changes[i].version &&
				    eb_change_same_content(&back->changes[i], &r->changes[i]);

			if (!same)
				fprintf(stderr, "change %zu differs after %s\n", i, enc);
			FZ_CHECK(same, "round trip keeps every change (CHG-9)");
		}
	}
	eb_sync_response_free(back);
	eb_sync_response_free(r);
	free(enc);
	return 0;
}
