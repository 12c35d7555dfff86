/*
 * auth.c — section 9 on HTTP: missing and malformed tokens, signatures,
 * algorithms (none, confusion, unconfigured), time claims with the leeway,
 * issuer/audience, subject, and the permission claims (AUTH-9..12).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

/* Expects 401 UNAUTHORIZED with WWW-Authenticate: Bearer (and
 * error="invalid_token" when a token was sent). */
static bool a_expect_401(ebc_ctx *ctx, const eb_http_resp *resp, const char *rule, bool token_sent)
{
	char h[256];

	if (!ebc_expect_error(ctx, resp, 401, "UNAUTHORIZED", rule, NULL))
		return false;
	if (!eb_http_resp_header(resp, "WWW-Authenticate", h, sizeof(h)) ||
	    strncasecmp(h, "Bearer", 6) != 0) {
		ebc_fail(ctx, "ERR-4", "WWW-Authenticate: Bearer", "WWW-Authenticate %s",
			 eb_http_resp_header(resp, "WWW-Authenticate", h, sizeof(h)) ? h : "absent");
		return false;
	}
	if (token_sent && !strstr(h, "invalid_token")) {
		ebc_fail(ctx, "ERR-4", "WWW-Authenticate: Bearer error=\"invalid_token\" when a token was given",
			 "WWW-Authenticate: %s", h);
		return false;
	}
	return true;
}

/* The token is refused on the feed and on a push (which must not apply). */
static void a_refused(ebc_ctx *ctx, const char *token, const char *rule)
{
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	eb_http_resp resp;
	uint64_t v = 0;

	memset(&resp, 0, sizeof(resp));
	if (!token)
		return;
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_get_changes(ctx, NULL, store, token, "since=0", &resp))
		goto out;
	if (!a_expect_401(ctx, &resp, rule, true))
		goto out;
	eb_http_resp_clear(&resp);
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), 1000, "a", "1");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	if (!ebc_post_sync(ctx, NULL, store, token, body, &resp))
		goto out;
	if (!a_expect_401(ctx, &resp, rule, true))
		goto out;
	if (ebc_version(ctx, store, &v) && v != 0)
		ebc_fail(ctx, rule, "the refused push not applied", "version %llu", (unsigned long long)v);
out:
	eb_http_resp_clear(&resp);
	free(ch);
	free(body);
}

/* The token is accepted for a push and a read. */
static void a_accepted(ebc_ctx *ctx, const char *token, const char *rule)
{
	char store[160];
	eb_http_resp resp;
	eb_sync_response *r = NULL;

	if (!token)
		return;
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, token, 1, 0, NULL, NULL, rule))
		return;
	if (!ebc_get_changes(ctx, NULL, store, token, "since=0", &resp))
		return;
	r = ebc_expect_ok(ctx, &resp, rule);
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
}

static void au_missing(ebc_ctx *ctx)
{
	char store[160];
	eb_http_resp resp;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_get_changes(ctx, NULL, store, NULL, "since=0", &resp))
		return;
	if (!a_expect_401(ctx, &resp, "AUTH-1", false)) {
		eb_http_resp_clear(&resp);
		return;
	}
	eb_http_resp_clear(&resp);
	if (!ebc_post_sync(ctx, NULL, store, NULL, "{\"lastKnownVersion\":0}", &resp))
		return;
	a_expect_401(ctx, &resp, "AUTH-1", false);
	eb_http_resp_clear(&resp);
}

static void au_other_scheme(ebc_ctx *ctx)
{
	char store[160], path[256], basic[1024];
	eb_http_header h[1];
	eb_http_resp resp;
	const char *tok = ebc_token(ctx);

	if (!tok)
		return;
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
	snprintf(basic, sizeof(basic), "Basic %.900s", tok);
	h[0].name = "Authorization";
	h[0].value = basic;
	if (!ebc_req(ctx, NULL, "GET", path, NULL, NULL, NULL, 0, h, 1, 0, &resp))
		return;
	if (!ebc_expect_error(ctx, &resp, 401, "UNAUTHORIZED", "AUTH-1", NULL))
		ebc_note(ctx, "sent Authorization: Basic <valid jwt>");
	eb_http_resp_clear(&resp);
}

static void au_malformed(ebc_ctx *ctx)
{
	const char *toks[] = { "abc", "a.b.c", "a.b", "eyJhbGciOiJIUzI1NiJ9.e30", "....",
			       "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln" };
	size_t i;

	for (i = 0; i < 6 && !ebc_done(ctx); i++)
		a_refused(ctx, toks[i], "AUTH-2");
}

static void au_wrong_signature(ebc_ctx *ctx)
{
	char *tok = ebc_mint_signed(ctx, EB_JWT_HS256, "definitely-not-the-server-secret");

	a_refused(ctx, tok, "AUTH-2");
	free(tok);
}

/* A valid token whose payload was swapped for another subject's. */
static void au_tampered(ebc_ctx *ctx)
{
	char *a = ebc_token_sub(ctx, "a");
	char *b = ebc_token_sub(ctx, "bb");
	char forged[4096];
	const char *a1, *a2, *b1, *b2;

	if (!a || !b)
		goto out;
	a1 = strchr(a, '.');
	a2 = a1 ? strchr(a1 + 1, '.') : NULL;
	b1 = strchr(b, '.');
	b2 = b1 ? strchr(b1 + 1, '.') : NULL;
	if (!a2 || !b2) {
		ebc_error(ctx, "minted token is not compact JWS");
		goto out;
	}
	/* header of a, payload of b, signature of a */
	snprintf(forged, sizeof(forged), "%.*s%.*s%s", (int)(a1 - a), a, (int)(b2 - b1), b1, a2);
	a_refused(ctx, forged, "AUTH-2");
out:
	free(a);
	free(b);
}

static void au_alg_none(ebc_ctx *ctx)
{
	char *tok = ebc_mint_signed(ctx, EB_JWT_NONE, NULL);

	a_refused(ctx, tok, "AUTH-3");
	free(tok);
}

static void au_alg_confusion(ebc_ctx *ctx)
{
	char *tok = ebc_mint_signed(ctx, EB_JWT_HS256, ctx->run->public_pem);

	ebc_note(ctx, "HS256 token signed with the server's RS256 public key PEM as the secret");
	a_refused(ctx, tok, "AUTH-3");
	free(tok);
}

static void au_unconfigured_alg(ebc_ctx *ctx)
{
	static const char *const algs[] = { "HS512", "HS384", "ES256", "none", "NONE" };
	size_t i;

	for (i = 0; i < 5 && !ebc_done(ctx); i++) {
		eb_jwt_mint_opts o;
		const char *pats[2];
		char pb[160];
		char *tok;

		ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
		o.header_alg_override = algs[i];
		tok = ebc_mint(ctx, &o);
		ebc_note(ctx, "token with header alg %s", algs[i]);
		a_refused(ctx, tok, "AUTH-3");
		free(tok);
	}
}

static void au_rs256_accepted(ebc_ctx *ctx)
{
	char *tok = ebc_mint_signed(ctx, EB_JWT_RS256, ctx->run->private_pem);

	a_accepted(ctx, tok, "AUTH-2");
	free(tok);
}

static char *a_time_token(ebc_ctx *ctx, bool has_exp, int64_t exp_off, bool has_nbf, int64_t nbf_off)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	int64_t now = (int64_t)(ebc_now_ms() / 1000);

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.has_exp = has_exp;
	o.exp = now + exp_off;
	o.has_nbf = has_nbf;
	o.nbf = now + nbf_off;
	o.iat = now - 7200;
	return ebc_mint(ctx, &o);
}

static void au_expired(ebc_ctx *ctx)
{
	char *t = a_time_token(ctx, true, -(ctx->run->opts->jwt_leeway_s + 120), false, 0);

	a_refused(ctx, t, "AUTH-4");
	free(t);
}

/* A token whose exp (sign -1) or nbf (sign +1) lies half the leeway away
 * from the moment it is sent. Claims are whole seconds, so the suite waits
 * (under 1 s) for the instant where the claim is exactly leeway/2 from its
 * clock: a leeway of 1 or 2 s is tested as well as 60. NULL after a verdict;
 * a leeway of 0 leaves nothing to test inside and SKIPs. */
static char *a_half_leeway_token(ebc_ctx *ctx, int sign)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	long l = ctx->run->opts->jwt_leeway_s;
	int64_t half = (int64_t)l * 500, now = (int64_t)ebc_now_ms(), claim, at;

	if (l < 1) {
		ebc_skip(ctx, "the server's leeway is 0 s: nothing to test inside it");
		return NULL;
	}
	/* the first whole second whose distance is exactly `half` at or after now */
	if (sign < 0) {
		claim = (now - half + 999) / 1000;
		at = claim * 1000 + half;
	} else {
		claim = (now + half + 999) / 1000;
		at = claim * 1000 - half;
	}
	ebc_note(ctx, "%s %lld s, sent %lld ms from now: %lld ms %s (half the %ld s leeway)",
		 sign < 0 ? "exp" : "nbf", (long long)claim, (long long)(at - now), (long long)half,
		 sign < 0 ? "past" : "ahead", l);
	ebc_sleep_ms((long)(at - now));
	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.iat = claim - 7200;
	if (sign < 0) {
		o.exp = claim;
	} else {
		o.has_nbf = true;
		o.nbf = claim;
	}
	return ebc_mint(ctx, &o);
}

static void au_exp_within_leeway(ebc_ctx *ctx)
{
	char *t = a_half_leeway_token(ctx, -1);

	if (!t)
		return;
	a_accepted(ctx, t, "AUTH-4");
	free(t);
}

static void au_missing_exp(ebc_ctx *ctx)
{
	char *t = a_time_token(ctx, false, 0, false, 0);

	a_refused(ctx, t, "AUTH-4");
	free(t);
}

static void au_not_yet_valid(ebc_ctx *ctx)
{
	char *t = a_time_token(ctx, true, 3600, true, ctx->run->opts->jwt_leeway_s + 120);

	a_refused(ctx, t, "AUTH-5");
	free(t);
}

static void au_nbf_within_leeway(ebc_ctx *ctx)
{
	char *t = a_half_leeway_token(ctx, +1);

	if (!t)
		return;
	a_accepted(ctx, t, "AUTH-5");
	free(t);
}

static void au_claim(ebc_ctx *ctx, const char *iss, const char *aud, const char *sub,
		     bool accept, const char *rule)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	char *tok;

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	if (iss)
		o.iss = *iss ? iss : NULL;
	if (aud)
		o.aud = *aud ? aud : NULL;
	if (sub)
		o.sub = strcmp(sub, "(none)") == 0 ? NULL : sub;
	tok = ebc_mint(ctx, &o);
	if (accept)
		a_accepted(ctx, tok, rule);
	else
		a_refused(ctx, tok, rule);
	free(tok);
}

static void au_wrong_issuer(ebc_ctx *ctx)
{
	au_claim(ctx, "https://issuer.invalid/", NULL, NULL, false, "AUTH-6");
}

static void au_missing_issuer(ebc_ctx *ctx)
{
	au_claim(ctx, "", NULL, NULL, false, "AUTH-6");
}

static void au_wrong_audience(ebc_ctx *ctx)
{
	au_claim(ctx, NULL, "some-other-audience", NULL, false, "AUTH-6");
}

static void au_missing_audience(ebc_ctx *ctx)
{
	au_claim(ctx, NULL, "", NULL, false, "AUTH-6");
}

static void au_missing_sub(ebc_ctx *ctx)
{
	au_claim(ctx, NULL, NULL, "(none)", false, "AUTH-8");
	if (!ebc_done(ctx))
		au_claim(ctx, NULL, NULL, "", false, "AUTH-8");
}

/* ---- permissions ----------------------------------------------------------- */

/* Expects status on GET feed (read) / POST with a change (push) / POST
 * without changes, for the token on store. */
static bool a_perm(ebc_ctx *ctx, const char *store, const char *tok, long want_read,
		   long want_push, const char *rule)
{
	char id[32];
	char *ch = NULL, *body = NULL;
	eb_http_resp resp;
	bool ok = false;
	int step;

	memset(&resp, 0, sizeof(resp));
	for (step = 0; step < 3; step++) {
		long want = step == 1 ? want_push : want_read;
		const char *what = step == 0 ? "GET changes" : step == 1 ? "push" : "sync without changes";

		eb_http_resp_clear(&resp);
		if (step == 0) {
			if (!ebc_get_changes(ctx, NULL, store, tok, "since=0", &resp))
				goto out;
		} else if (step == 1) {
			ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), 1000, "p", "1");
			body = ebc_body(0, (const char *const *)&ch, 1, -1);
			if (!ebc_post_sync(ctx, NULL, store, tok, body, &resp))
				goto out;
		} else {
			if (!ebc_post_sync(ctx, NULL, store, tok, "{\"lastKnownVersion\":0,\"changes\":[]}", &resp))
				goto out;
		}
		if (want == 200) {
			if (resp.status != 200) {
				ebc_fail(ctx, rule, "200", "%s on %s: status %ld", what, store, resp.status);
				goto out;
			}
		} else if (!ebc_expect_error(ctx, &resp, 403, "FORBIDDEN", rule, NULL)) {
			ebc_note(ctx, "%s on %s", what, store);
			goto out;
		}
	}
	ok = true;
out:
	eb_http_resp_clear(&resp);
	free(ch);
	free(body);
	return ok;
}

static void au_read_only_cannot_push(ebc_ctx *ctx)
{
	char store[160];
	const char *r[1];
	char *tok;
	uint64_t v = 0;

	ebc_store(ctx, NULL, store, sizeof(store));
	r[0] = store;
	tok = ebc_token_perm(ctx, r, 1, NULL, 0);
	if (!tok)
		return;
	if (a_perm(ctx, store, tok, 200, 403, "AUTH-11") && ebc_version(ctx, store, &v) && v != 0)
		ebc_fail(ctx, "AUTH-11", "the forbidden push not applied", "version %llu", (unsigned long long)v);
	free(tok);
}

static void au_no_read(ebc_ctx *ctx)
{
	char store[160], other[160];
	const char *r[1];
	char *tok;

	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_store(ctx, NULL, other, sizeof(other));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, NULL, NULL, "SYNC-9"))
		return;
	r[0] = other;
	tok = ebc_token_perm(ctx, r, 1, r, 1);
	if (tok)
		a_perm(ctx, store, tok, 403, 403, "AUTH-12");
	free(tok);
}

static void au_no_claims(ebc_ctx *ctx)
{
	char store[160];
	char *tok = ebc_token_perm(ctx, NULL, 0, NULL, 0);

	ebc_store(ctx, NULL, store, sizeof(store));
	if (tok)
		a_perm(ctx, store, tok, 403, 403, "AUTH-12");
	free(tok);
}

static void au_write_implies_read(ebc_ctx *ctx)
{
	char store[160];
	const char *w[1];
	char *tok;

	ebc_store(ctx, NULL, store, sizeof(store));
	w[0] = store;
	tok = ebc_token_perm(ctx, NULL, 0, w, 1);
	if (tok)
		a_perm(ctx, store, tok, 200, 200, "AUTH-10");
	free(tok);
}

static void au_prefix_pattern(ebc_ctx *ctx)
{
	char base[160], inside[200], outside[200], pat[200];
	const char *r[1];
	char *tok;

	ebc_store(ctx, "pre", base, sizeof(base));
	snprintf(inside, sizeof(inside), "%sfix.1", base);
	snprintf(outside, sizeof(outside), "%.*sX", (int)strlen(base) - 1, base);
	snprintf(pat, sizeof(pat), "%s*", base);
	r[0] = pat;
	tok = ebc_token_perm(ctx, NULL, 0, r, 1);
	if (!tok)
		return;
	if (!a_perm(ctx, base, tok, 200, 200, "AUTH-9"))
		goto out;
	if (!a_perm(ctx, inside, tok, 200, 200, "AUTH-9"))
		goto out;
	a_perm(ctx, outside, tok, 403, 403, "AUTH-9");
out:
	free(tok);
}

static void au_exact_pattern(ebc_ctx *ctx)
{
	char store[160], longer[200], shorter[160];
	const char *w[1];
	char *tok;

	ebc_store(ctx, "exact", store, sizeof(store));
	snprintf(longer, sizeof(longer), "%s2", store);
	snprintf(shorter, sizeof(shorter), "%.*s", (int)strlen(store) - 1, store);
	w[0] = store;
	tok = ebc_token_perm(ctx, NULL, 0, w, 1);
	if (!tok)
		return;
	if (a_perm(ctx, store, tok, 200, 200, "AUTH-9") &&
	    a_perm(ctx, longer, tok, 403, 403, "AUTH-9"))
		a_perm(ctx, shorter, tok, 403, 403, "AUTH-9");
	free(tok);
}

static void au_star_pattern(ebc_ctx *ctx)
{
	char store[160];
	const char *r[1] = { "*" };
	char *tok;

	ebc_store(ctx, NULL, store, sizeof(store));
	tok = ebc_token_perm(ctx, r, 1, NULL, 0);
	if (tok)
		a_perm(ctx, store, tok, 200, 403, "AUTH-9");
	free(tok);
}

/* WS-AUTH-7, for --no-auth-server only: the socket is served without any
 * auth, and an auth sent anyway may be answered or ignored, never a reason
 * to close. */
static void au_no_auth_socket(ebc_ctx *ctx)
{
	char store[160], rid[16], prid[16], ping[64];
	const char *stores[1] = { store };
	char *text = NULL;
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;

	if (!ctx->run->opts->no_auth_server) {
		ebc_skip(ctx, "the server checks tokens: this case is for --no-auth-server");
		return;
	}
	ebc_store(ctx, NULL, store, sizeof(store));
	/* no auth sent: subscribe at once */
	w = ebc_ws_open(ctx);
	if (!w)
		goto out;
	m = ebc_ws_sub(w, false, stores, 1, "WS-AUTH-7");
	if (!m)
		goto out;
	eb_ws_server_msg_free(m);
	m = NULL;
	/* an auth with no token, then a ping: the pong must come, an auth_ok
	 * before it or not */
	ebc_ws_rid(w, rid, sizeof(rid));
	if (eb_ws_encode_auth(rid, "", &text) != EB_OK) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	if (!ebc_ws_send(w, text))
		goto out;
	ebc_ws_rid(w, prid, sizeof(prid));
	snprintf(ping, sizeof(ping), "{\"type\":\"ping\",\"requestId\":\"%s\"}", prid);
	m = ebc_ws_call(w, ping, prid, "WS-AUTH-7");
	if (m && m->type != EB_WS_S_PONG)
		ebc_fail(ctx, "WS-5", "pong", "reply of type %s", m->type_str ? m->type_str : "?");
out:
	eb_ws_server_msg_free(m);
	free(text);
	ebc_ws_free(w);
}

const ebc_case ebc_cases_auth[] = {
	{ "auth/missing-token", "Requests without a token are 401 with WWW-Authenticate: Bearer",
	  "MUST", { "AUTH-1", "ERR-4" }, { "auth" }, EBC_F_AUTH, au_missing },
	{ "auth/other-scheme", "Authorization with a scheme other than Bearer is 401",
	  "MUST", { "AUTH-1" }, { "auth" }, EBC_F_AUTH, au_other_scheme },
	{ "auth/malformed-token", "Tokens that are not three base64url JSON parts are 401 (invalid_token)",
	  "MUST", { "AUTH-2", "ERR-4" }, { "auth" }, EBC_F_AUTH, au_malformed },
	{ "auth/wrong-signature", "A token signed with another secret is 401",
	  "MUST", { "AUTH-2" }, { "auth" }, EBC_F_AUTH, au_wrong_signature },
	{ "auth/tampered-payload", "A token whose payload was swapped is 401",
	  "MUST", { "AUTH-2" }, { "auth" }, EBC_F_AUTH, au_tampered },
	{ "auth/alg-none", "An unsigned alg:none token is 401",
	  "MUST", { "AUTH-3" }, { "auth" }, EBC_F_AUTH, au_alg_none },
	{ "auth/alg-confusion", "HS256 signed with the RS256 public key is 401",
	  "MUST", { "AUTH-3" }, { "auth" }, EBC_F_AUTH | EBC_F_RSA, au_alg_confusion },
	{ "auth/unconfigured-alg", "Header algorithms the server was not configured with are 401",
	  "MUST", { "AUTH-3" }, { "auth" }, EBC_F_AUTH, au_unconfigured_alg },
	{ "auth/rs256-accepted", "An RS256 token signed with the configured key is accepted",
	  "MUST", { "AUTH-2", "AUTH-3" }, { "auth" }, EBC_F_AUTH | EBC_F_RSA, au_rs256_accepted },
	{ "auth/expired", "A token expired beyond the leeway is 401",
	  "MUST", { "AUTH-4" }, { "auth" }, EBC_F_AUTH, au_expired },
	{ "auth/exp-within-leeway", "A token expired half the leeway ago is accepted",
	  "MUST", { "AUTH-4", "AUTH-7" }, { "auth" }, EBC_F_AUTH, au_exp_within_leeway },
	{ "auth/missing-exp", "A token without exp is 401",
	  "MUST", { "AUTH-4" }, { "auth" }, EBC_F_AUTH, au_missing_exp },
	{ "auth/not-yet-valid", "A token whose nbf is beyond the leeway is 401",
	  "MUST", { "AUTH-5" }, { "auth" }, EBC_F_AUTH, au_not_yet_valid },
	{ "auth/nbf-within-leeway", "A token valid from half the leeway ahead is accepted",
	  "MUST", { "AUTH-5", "AUTH-7" }, { "auth" }, EBC_F_AUTH, au_nbf_within_leeway },
	{ "auth/wrong-issuer", "A token with another iss is 401",
	  "MUST", { "AUTH-6" }, { "auth" }, EBC_F_AUTH | EBC_F_ISS, au_wrong_issuer },
	{ "auth/missing-issuer", "A token without iss is 401 when the server has an issuer",
	  "MUST", { "AUTH-6" }, { "auth" }, EBC_F_AUTH | EBC_F_ISS, au_missing_issuer },
	{ "auth/wrong-audience", "A token with another aud is 401",
	  "MUST", { "AUTH-6" }, { "auth" }, EBC_F_AUTH | EBC_F_AUD, au_wrong_audience },
	{ "auth/missing-audience", "A token without aud is 401 when the server has an audience",
	  "MUST", { "AUTH-6" }, { "auth" }, EBC_F_AUTH | EBC_F_AUD, au_missing_audience },
	{ "auth/missing-sub", "A token without sub, or with an empty sub, is 401",
	  "MUST", { "AUTH-8" }, { "auth" }, EBC_F_AUTH, au_missing_sub },
	{ "auth/read-only-cannot-push", "Read permission allows reads and empty syncs but a push is 403",
	  "MUST", { "AUTH-11", "AUTH-12" }, { "auth", "permissions" }, EBC_F_AUTH, au_read_only_cannot_push },
	{ "auth/no-read-permission", "Without a matching pattern every read and push is 403",
	  "MUST", { "AUTH-12", "AUTH-11" }, { "auth", "permissions" }, EBC_F_AUTH, au_no_read },
	{ "auth/no-permission-claims", "A token without eb_read/eb_write may do nothing",
	  "MUST", { "AUTH-12", "AUTH-9" }, { "auth", "permissions" }, EBC_F_AUTH, au_no_claims },
	{ "auth/write-implies-read", "Write permission alone also allows reading",
	  "MUST", { "AUTH-10" }, { "auth", "permissions" }, EBC_F_AUTH, au_write_implies_read },
	{ "auth/prefix-pattern", "A prefix* pattern matches the prefix and longer ids only",
	  "MUST", { "AUTH-9" }, { "auth", "permissions" }, EBC_F_AUTH, au_prefix_pattern },
	{ "auth/exact-pattern", "An exact pattern matches that store only",
	  "MUST", { "AUTH-9" }, { "auth", "permissions" }, EBC_F_AUTH, au_exact_pattern },
	{ "auth/star-pattern", "The pattern * matches every store",
	  "MUST", { "AUTH-9" }, { "auth", "permissions" }, EBC_F_AUTH, au_star_pattern },
	{ "auth/no-auth-socket", "A server without auth serves the socket without auth and never closes it for one",
	  "MUST", { "WS-AUTH-7", "WS-5" }, { "auth", "ws" }, 0, au_no_auth_socket },
};
const size_t ebc_cases_auth_n = sizeof(ebc_cases_auth) / sizeof(ebc_cases_auth[0]);
