/*
 * fuzz_limits.c — eb_limits_parse on arbitrary GET /api/limits bodies
 * (LIMIT-10), then parse -> encode -> parse.
 *
 * Invariants: a refusal leaves the caller's limits untouched; members absent
 * from the document keep the values already there; the encoder's output
 * parses back to the same limits.
 */
#include "../fuzz_common.h"

#include "eb_msg.h"

static bool fl_equal(const eb_limits *a, const eb_limits *b)
{
	return a->max_body_bytes == b->max_body_bytes &&
	       a->max_changes_per_request == b->max_changes_per_request &&
	       a->max_path_segments == b->max_path_segments &&
	       a->max_path_segment_bytes == b->max_path_segment_bytes &&
	       a->max_value_bytes == b->max_value_bytes &&
	       a->max_value_depth == b->max_value_depth &&
	       a->max_change_id_bytes == b->max_change_id_bytes &&
	       a->max_frame_bytes == b->max_frame_bytes &&
	       a->max_page_limit == b->max_page_limit &&
	       a->max_subscriptions == b->max_subscriptions &&
	       a->timestamp_skew_ms == b->timestamp_skew_ms &&
	       a->coalesce_ms == b->coalesce_ms &&
	       a->rate_limit_on == b->rate_limit_on &&
	       (!a->rate_limit_on ||
		(a->http_per_second == b->http_per_second &&
		 a->http_burst == b->http_burst &&
		 a->ws_per_second == b->ws_per_second &&
		 a->ws_burst == b->ws_burst));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_limits l, before, back;
	char *enc = NULL;
	eb_err err;
	eb_rc rc;

	eb_limits_default(&l);
	before = l;
	rc = eb_limits_parse((const char *)data, size, &l, &err);
	if (rc != EB_OK) {
		FZ_CHECK(rc == EB_ERR_JSON || rc == EB_ERR_SHAPE || rc == EB_ERR_NOMEM,
			 "limits refusals are JSON or SHAPE");
		FZ_CHECK(fl_equal(&l, &before), "a refused document changes nothing");
		return 0;
	}
	if (size == 2 && memcmp(data, "{}", 2) == 0)
		FZ_CHECK(fl_equal(&l, &before), "an empty document keeps the defaults");
	rc = eb_limits_encode(&l, &enc);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "accepted limits encode");
	if (rc != EB_OK)
		return 0;
	/* Start from other values so every member must come from the text. */
	memset(&back, 0, sizeof(back));
	rc = eb_limits_parse(enc, strlen(enc), &back, &err);
	if (rc != EB_OK && rc != EB_ERR_NOMEM)
		fprintf(stderr, "re-parse of %s failed: %s\n", enc, err.msg);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "encoded limits parse");
	if (rc == EB_OK) {
		if (!fl_equal(&l, &back))
			fprintf(stderr, "limits differ after %s\n", enc);
		FZ_CHECK(fl_equal(&l, &back), "round trip keeps every limit");
	}
	free(enc);
	return 0;
}
