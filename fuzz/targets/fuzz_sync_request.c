/*
 * fuzz_sync_request.c — eb_sync_request_parse on arbitrary bodies (what a
 * server does with every POST .../sync), then the TS-2 and IDEM-4 checks,
 * then parse -> encode -> parse.
 *
 * The body is parsed twice: under the default limits and under tiny limits
 * (3 changes, 2 path segments of 4 bytes, 16-byte values 2 deep, 8-byte
 * ids, page limit 10) so small inputs reach every limit branch.
 *
 * Invariants: the error class matches its wire code (ERR-3 steps 7-9);
 * problems are one per change in ascending index order with the first in
 * err (ERR-2); an accepted request obeys SYNC-1, CHG-1..CHG-7 and the limits
 * it was parsed under; what tiny limits accept the defaults accept; TS-2
 * flags exactly the changes past the skew; IDEM-4 flags exactly the changes
 * with an earlier same-id change of other content; and the encoder's output
 * parses back to the same request (CHG-9: values canonically equal).
 */
#include "../fuzz_common.h"

#include "eb_json.h"
#include "eb_msg.h"

#define FR_NOW 1700000000000ULL
#define FR_SKEW 60000ULL

static void fr_tiny(eb_limits *l)
{
	eb_limits_default(l);
	l->max_changes_per_request = 3;
	l->max_path_segments = 2;
	l->max_path_segment_bytes = 4;
	l->max_value_bytes = 16;
	l->max_value_depth = 2;
	l->max_change_id_bytes = 8;
	l->max_page_limit = 10;
}

static bool fr_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void fr_check_refusal(eb_rc rc, const eb_err *err, const eb_problems *pr)
{
	size_t i;

	FZ_CHECK(rc == EB_ERR_JSON || rc == EB_ERR_SHAPE || rc == EB_ERR_LIMIT ||
		 rc == EB_ERR_NOMEM, "request refusals are JSON, SHAPE or LIMIT");
	if (rc == EB_ERR_NOMEM)
		return;
	FZ_CHECK(err->rule[0] != '\0', "refusals cite a rule");
	if (rc == EB_ERR_JSON)
		FZ_CHECK(strcmp(err->code, "INVALID_JSON") == 0, "JSON errors are INVALID_JSON");
	if (rc == EB_ERR_SHAPE)
		FZ_CHECK(strcmp(err->code, "INVALID_REQUEST") == 0 ||
			 strcmp(err->code, "INVALID_FIELD") == 0,
			 "shape errors are INVALID_REQUEST/INVALID_FIELD");
	if (rc == EB_ERR_LIMIT)
		FZ_CHECK(strcmp(err->code, "LIMIT_EXCEEDED") == 0,
			 "limit errors are LIMIT_EXCEEDED");
	if (pr->n == 0)
		return;
	FZ_CHECK(pr->items[0].index == err->index &&
		 strcmp(pr->items[0].field, err->field) == 0,
		 "the first problem is the reported error (ERR-2)");
	for (i = 0; i < pr->n; i++) {
		const eb_problem *p = &pr->items[i];

		FZ_CHECK(strcmp(p->code, err->code) == 0,
			 "one check's errors only (ERR-3)");
		if (i > 0)
			FZ_CHECK(p->index > pr->items[i - 1].index,
				 "one entry per change, ascending (ERR-2)");
		if (p->index >= 0) {
			char want[32];

			snprintf(want, sizeof(want), "changes[%ld]", p->index);
			FZ_CHECK(strncmp(p->field, want, strlen(want)) == 0,
				 "a change's field starts with changes[i]");
		} else {
			FZ_CHECK(pr->n == 1, "a top-level error stands alone");
		}
	}
}

static void fr_check_accepted(const eb_sync_request *r, const eb_limits *l)
{
	size_t i, j;

	FZ_CHECK(r->last_known_version <= EB_MAX_UINT53, "lastKnownVersion is GEN-5");
	FZ_CHECK(r->limit >= 1 && r->limit <= l->max_page_limit, "limit in 1..max (LIMIT-7)");
	FZ_CHECK(r->has_limit || r->limit == l->max_page_limit, "limit defaults to the maximum");
	FZ_CHECK(r->n <= l->max_changes_per_request, "batch size (LIMIT-2)");
	for (i = 0; i < r->n; i++) {
		const eb_change *c = &r->changes[i];
		size_t idlen = strlen(c->id);
		char *canon = NULL;
		size_t clen = 0;

		FZ_CHECK(idlen >= 1 && idlen <= l->max_change_id_bytes, "id length (CHG-1, LIMIT-5)");
		FZ_CHECK(!fr_has_control(c->id), "id without control characters (CHG-1)");
		FZ_CHECK(eb_utf8_valid(c->id, idlen), "id is UTF-8");
		FZ_CHECK(c->timestamp <= EB_MAX_UINT53, "timestamp is GEN-5 (CHG-2)");
		FZ_CHECK(c->op == EB_OP_SET || c->op == EB_OP_DELETE, "operation (CHG-3)");
		FZ_CHECK(c->path_len >= 1 && c->path_len <= l->max_path_segments,
			 "path length (CHG-4, LIMIT-3)");
		for (j = 0; j < c->path_len; j++) {
			size_t sl = strlen(c->path[j]);

			FZ_CHECK(sl >= 1 && sl <= l->max_path_segment_bytes,
				 "segment length (CHG-4, LIMIT-3)");
		}
		FZ_CHECK((c->op == EB_OP_SET) == (c->value != NULL),
			 "value present exactly for set (CHG-5, CHG-6)");
		FZ_CHECK(!c->has_version, "pushed versions are ignored (CHG-8)");
		if (c->value && eb_json_canonical(c->value, &canon, &clen) == EB_OK) {
			FZ_CHECK(clen <= l->max_value_bytes, "value size (CHG-7, LIMIT-4)");
			FZ_CHECK(eb_json_depth(c->value) <= (int)l->max_value_depth,
				 "value depth (CHG-7, LIMIT-4)");
		}
		free(canon);
	}
}

static void fr_check_timestamps(const eb_sync_request *r, uint64_t skew)
{
	eb_problems pr = { 0 };
	eb_err err;
	eb_rc rc = eb_sync_request_check_timestamps(r, FR_NOW, skew, &pr, &err);
	size_t i, k = 0, late = 0;

	if (rc == EB_ERR_NOMEM)
		goto out;
	for (i = 0; i < r->n; i++) {
		if (r->changes[i].timestamp <= FR_NOW + skew)
			continue;
		late++;
		FZ_CHECK(k < pr.n && pr.items[k].index == (long)i,
			 "every change past the skew is flagged, in order (TS-2)");
		FZ_CHECK(strcmp(pr.items[k].code, "TIMESTAMP_IN_FUTURE") == 0,
			 "TS-2 code");
		k++;
	}
	FZ_CHECK(pr.n == late, "only changes past the skew are flagged (TS-2)");
	FZ_CHECK((rc == EB_OK) == (late == 0), "TS-2 verdict");
	if (late)
		FZ_CHECK(err.index == pr.items[0].index, "TS-2 error names the first");
out:
	eb_problems_clear(&pr);
}

static void fr_check_conflicts(const eb_sync_request *r)
{
	eb_problems pr = { 0 };
	eb_err err;
	eb_rc rc = eb_sync_request_check_internal_conflicts(r, &pr, &err);
	size_t i, j, k = 0, bad = 0;

	if (rc == EB_ERR_NOMEM)
		goto out;
	for (i = 0; i < r->n; i++) {
		bool want = false;

		for (j = 0; j < i && !want; j++)
			want = strcmp(r->changes[j].id, r->changes[i].id) == 0 &&
			       !eb_change_same_content(&r->changes[j], &r->changes[i]);
		if (!want)
			continue;
		bad++;
		FZ_CHECK(k < pr.n && pr.items[k].index == (long)i,
			 "the later change of a differing same-id pair is flagged (IDEM-4)");
		FZ_CHECK(strcmp(pr.items[k].code, "CHANGE_ID_CONFLICT") == 0, "IDEM-4 code");
		k++;
	}
	FZ_CHECK(pr.n == bad, "only conflicting changes are flagged (IDEM-4)");
	FZ_CHECK((rc == EB_OK) == (bad == 0), "IDEM-4 verdict");
out:
	eb_problems_clear(&pr);
}

static void fr_roundtrip(const eb_sync_request *r, const eb_limits *l)
{
	char *enc = NULL;
	eb_sync_request *back = NULL;
	eb_err err;
	eb_rc rc;
	size_t i;

	rc = eb_sync_request_encode(r, &enc);
	if (rc == EB_ERR_NOMEM)
		return;
	FZ_CHECK(rc == EB_OK, "an accepted request encodes");
	rc = eb_sync_request_parse(enc, strlen(enc), l, &back, NULL, &err);
	if (rc != EB_OK && rc != EB_ERR_NOMEM)
		fprintf(stderr, "re-parse of %s failed: %s\n", enc, err.msg);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded request parses under the same limits");
	if (rc == EB_OK) {
		FZ_CHECK(back->last_known_version == r->last_known_version,
			 "round trip keeps lastKnownVersion");
		FZ_CHECK(back->limit == r->limit && back->has_limit == r->has_limit,
			 "round trip keeps limit");
		FZ_CHECK(back->n == r->n, "round trip keeps the changes");
		for (i = 0; i < r->n; i++) {
			bool same = strcmp(back->changes[i].id, r->changes[i].id) == 0 &&
				    eb_change_same_content(&back->changes[i], &r->changes[i]);

			if (!same)
				fprintf(stderr, "change %zu differs after %s\n", i, enc);
			FZ_CHECK(same, "round trip keeps every change (CHG-9)");
		}
	}
	eb_sync_request_free(back);
	free(enc);
}

static eb_rc fr_parse(const uint8_t *data, size_t size, const eb_limits *l,
		      eb_sync_request **out)
{
	eb_problems pr = { 0 };
	eb_err err;
	eb_rc rc;

	*out = (eb_sync_request *)(uintptr_t)1;
	rc = eb_sync_request_parse((const char *)data, size, l, out, &pr, &err);
	if (rc != EB_OK) {
		FZ_CHECK(*out == NULL, "a refused request yields nothing");
		fr_check_refusal(rc, &err, &pr);
	} else {
		FZ_CHECK(*out != NULL, "an accepted request is returned");
		FZ_CHECK(pr.n == 0, "an accepted request has no problems");
		fr_check_accepted(*out, l);
	}
	eb_problems_clear(&pr);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_limits def, tiny;
	eb_sync_request *r = NULL, *rt = NULL;
	eb_rc rc, rct;

	eb_limits_default(&def);
	fr_tiny(&tiny);
	rc = fr_parse(data, size, &def, &r);
	rct = fr_parse(data, size, &tiny, &rt);
	if (rct == EB_OK)
		FZ_CHECK(rc == EB_OK, "what tiny limits accept the defaults accept");
	if (rc == EB_ERR_JSON)
		FZ_CHECK(rct == EB_ERR_JSON, "JSON validity does not depend on limits");
	if (r) {
		fr_check_timestamps(r, FR_SKEW);
		fr_check_timestamps(r, 0);
		fr_check_conflicts(r);
		fr_roundtrip(r, &def);
	}
	eb_sync_request_free(r);
	eb_sync_request_free(rt);
	return 0;
}
