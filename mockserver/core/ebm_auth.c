/*
 * ebm_auth.c — token checks of ebmock: eb_jwt_verify, plus the defects that
 * loosen it (alg-none-accepted, exp-ignored, nbf-ignored, issuer-ignored).
 * The defects need the token's header and payload, so this file can peek at
 * them without verifying (only ever to decide how to be wrong on purpose).
 */
#include "ebm_auth.h"
#include "ebm_int.h"

#include <stdlib.h>
#include <string.h>
#include "eb_json.h"
#include "eb_time.h"

static int b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

/* Decodes base64url (no padding) into a malloc'd buffer. NULL when invalid. */
static char *b64url_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = malloc(len * 3 / 4 + 4);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_val((unsigned char)s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* Parses part k (0 header, 1 payload) of a compact JWS as JSON. */
static cJSON *jwt_part(const char *tok, size_t len, int k)
{
	const char *p = tok, *end = tok + len;
	for (int i = 0; i < k; i++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		if (!dot)
			return NULL;
		p = dot + 1;
	}
	const char *dot = memchr(p, '.', (size_t)(end - p));
	if (!dot)
		return NULL;
	size_t dl = 0;
	char *dec = b64url_decode(p, (size_t)(dot - p), &dl);
	cJSON *j = NULL;
	if (dec && eb_json_parse(dec, dl, 8, &j, NULL) != EB_OK)
		j = NULL;
	free(dec);
	return j;
}

static char **claims_patterns(const cJSON *arr, size_t *n)
{
	*n = 0;
	if (!cJSON_IsArray(arr))
		return NULL;
	int cnt = cJSON_GetArraySize(arr);
	char **v = calloc(cnt > 0 ? (size_t)cnt : 1, sizeof *v);
	if (!v)
		return NULL;
	for (const cJSON *e = arr->child; e; e = e->next) {
		if (!cJSON_IsString(e))
			continue;
		v[*n] = strdup(e->valuestring);
		if (v[*n])
			(*n)++;
	}
	return v;
}

/* alg-none-accepted: claims straight from the unsigned payload. */
static eb_rc claims_from_payload(const cJSON *pl, eb_claims **out)
{
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(pl, "sub");
	eb_claims *c;
	uint64_t v;

	if (!cJSON_IsString(sub) || !sub->valuestring[0])
		return EB_ERR_AUTH;
	c = calloc(1, sizeof *c);
	if (!c)
		return EB_ERR_NOMEM;
	c->sub = strdup(sub->valuestring);
	if (eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(pl, "exp"), &v))
		c->exp = v;
	else
		c->exp = eb_time_now_ms() / 1000 + 3600;
	if (eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(pl, "nbf"), &v))
		c->nbf = v;
	c->read = claims_patterns(cJSON_GetObjectItemCaseSensitive(pl, "eb_read"), &c->n_read);
	c->write = claims_patterns(cJSON_GetObjectItemCaseSensitive(pl, "eb_write"), &c->n_write);
	if (!c->sub) {
		eb_claims_free(c);
		return EB_ERR_NOMEM;
	}
	*out = c;
	return EB_OK;
}

eb_rc ebm_auth_verify(ebm_server *srv, const char *token, size_t len,
		      eb_claims **out, eb_err *err)
{
	uint64_t now_s = eb_time_now_ms() / 1000;
	const eb_jwt_verifier *v = srv->jwt_noiss ? srv->jwt_noiss : srv->jwt;
	cJSON *hdr = NULL, *pl = NULL;
	eb_rc rc;

	*out = NULL;
	if (!v)
		return eb_err_set(err, EB_ERR_AUTH, "AUTH-2", NULL, EB_CODE_UNAUTHORIZED, -1,
				  "no verifier");
	if (ebm_defect_on(srv, EBM_DEFECT_ALG_NONE_ACCEPTED)) {
		hdr = jwt_part(token, len, 0);
		const cJSON *alg = cJSON_GetObjectItemCaseSensitive(hdr, "alg");
		if (cJSON_IsString(alg) && strcmp(alg->valuestring, "none") == 0) {
			pl = jwt_part(token, len, 1);
			rc = pl ? claims_from_payload(pl, out) : EB_ERR_AUTH;
			if (rc != EB_OK)
				eb_err_set(err, EB_ERR_AUTH, "AUTH-2", NULL,
					   EB_CODE_UNAUTHORIZED, -1, "bad unsigned token");
			goto out;
		}
	}
	if (ebm_defect_on(srv, EBM_DEFECT_EXP_IGNORED) ||
	    ebm_defect_on(srv, EBM_DEFECT_NBF_IGNORED)) {
		/* Verify "at" a time where the broken check passes, so every other
		 * check (signature, claims) still runs. */
		uint64_t t;
		pl = jwt_part(token, len, 1);
		if (ebm_defect_on(srv, EBM_DEFECT_EXP_IGNORED) &&
		    eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(pl, "exp"), &t) &&
		    t < now_s)
			now_s = t;
		if (ebm_defect_on(srv, EBM_DEFECT_NBF_IGNORED) &&
		    eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(pl, "nbf"), &t) &&
		    t > now_s)
			now_s = t;
	}
	if (srv->jwt_noaud) {
		/* aud-array-unchecked: an array aud is taken as matching */
		cJSON *p2 = jwt_part(token, len, 1);
		if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(p2, "aud")))
			v = srv->jwt_noaud;
		cJSON_Delete(p2);
	}
	rc = eb_jwt_verify(v, token, len, now_s, out, err);
	if (rc == EB_OK && srv->faults.n_revoke) {
		/* the revoke fault: a valid token refused by its jti */
		char *jti = ebm_auth_jti(token, len);
		if (jti && ebm_auth_jti_revoked(srv, jti)) {
			eb_claims_free(*out);
			*out = NULL;
			rc = eb_err_set(err, EB_ERR_AUTH, "revoked", NULL, EB_CODE_UNAUTHORIZED, -1,
					"token revoked (jti listed by the revoke fault)");
		}
		free(jti);
	}
out:
	cJSON_Delete(hdr);
	cJSON_Delete(pl);
	if (rc != EB_OK) {
		srv->m.auth_failures_total++;
		if (rc != EB_ERR_NOMEM)
			rc = EB_ERR_AUTH;
	}
	return rc;
}

char *ebm_auth_jti(const char *token, size_t len)
{
	cJSON *pl = jwt_part(token, len, 1);
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(pl, "jti");
	char *out = cJSON_IsString(j) ? strdup(j->valuestring) : NULL;
	cJSON_Delete(pl);
	return out;
}

bool ebm_auth_jti_revoked(const ebm_server *srv, const char *jti)
{
	for (uint32_t i = 0; jti && i < srv->faults.n_revoke; i++)
		if (strcmp(srv->faults.revoke[i], jti) == 0)
			return true;
	return false;
}
