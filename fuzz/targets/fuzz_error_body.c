/*
 * fuzz_error_body.c — eb_error_body_parse on arbitrary bodies (how the suite
 * and clients read every non-2xx answer), then parse -> encode -> parse.
 *
 * Invariants: refusals cite ERR-1/ERR-2/SYNC-8 (or are INVALID_JSON); an
 * accepted body has a code and a message (ERR-1) and errors entries with
 * field and code (ERR-2); the encoder's output parses back to the same body.
 */
#include "../fuzz_common.h"

#include "eb_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_error_body *b = (eb_error_body *)(uintptr_t)1, *back = NULL;
	char *enc = NULL;
	eb_err err;
	eb_rc rc = eb_error_body_parse((const char *)data, size, &b, &err);
	size_t i;

	if (rc != EB_OK) {
		FZ_CHECK(b == NULL, "a refused body yields nothing");
		FZ_CHECK(rc == EB_ERR_JSON || rc == EB_ERR_SHAPE || rc == EB_ERR_NOMEM,
			 "error body refusals are JSON or SHAPE");
		if (rc == EB_ERR_SHAPE)
			FZ_CHECK(strcmp(err.rule, "ERR-1") == 0 || strcmp(err.rule, "ERR-2") == 0 ||
				 strcmp(err.rule, "SYNC-8") == 0,
				 "error body refusals cite ERR-1, ERR-2 or SYNC-8");
		return 0;
	}
	FZ_CHECK(b->code && b->code[0] && b->message, "code and message (ERR-1)");
	FZ_CHECK(eb_code_http_status(b->code) >= 400, "code is one of section 7's table");
	FZ_CHECK(b->has_errors || b->errors.n == 0, "errors only when present");
	for (i = 0; i < b->errors.n; i++)
		FZ_CHECK(b->errors.items[i].index >= -1, "index is absent or an integer");
	rc = eb_error_body_encode(b->code, b->message, &b->errors,
				  b->has_current_version ? (int64_t)b->current_version : -1,
				  &enc);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an accepted error body encodes");
	if (rc == EB_OK) {
		rc = eb_error_body_parse(enc, strlen(enc), &back, &err);
		if (rc != EB_OK && rc != EB_ERR_NOMEM)
			fprintf(stderr, "re-parse of %s failed: %s\n", enc, err.msg);
		FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded error body parses");
	}
	if (back) {
		FZ_CHECK(strcmp(back->code, b->code) == 0 && strcmp(back->message, b->message) == 0,
			 "round trip keeps code and message");
		FZ_CHECK(back->errors.n == b->errors.n, "round trip keeps errors");
		for (i = 0; i < b->errors.n; i++) {
			const eb_problem *x = &b->errors.items[i], *y = &back->errors.items[i];

			FZ_CHECK(x->index == y->index && strcmp(x->field, y->field) == 0 &&
				 strcmp(x->code, y->code) == 0, "round trip keeps each entry");
		}
		FZ_CHECK(back->has_current_version == b->has_current_version &&
			 back->current_version == b->current_version,
			 "round trip keeps currentVersion");
	}
	eb_error_body_free(back);
	eb_error_body_free(b);
	free(enc);
	return 0;
}
