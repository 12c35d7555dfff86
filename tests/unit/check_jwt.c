/*
 * check_jwt.c — token verification and minting (PROTOCOL.md section 9).
 *
 * RSA keys are generated when the test starts (EVP_RSA_gen), so no key
 * material is committed. Hand-made tokens (arrays in aud, duplicate names,
 * wrong claim types) are signed here with OpenSSL's HMAC.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "eb_ids.h"
#include "eb_jwt.h"

#define NOW 1700000000ULL
#define SECRET "0123456789abcdef0123456789abcdef"

/* Key material for the whole run, made once in main() before the forks. */
typedef struct test_keys {
	char *priv;      /* RSA private key PEM */
	char *pub;       /* its public key PEM */
	char *priv2;     /* another RSA key, for wrong-key signatures */
} test_keys;
static test_keys keys;

static char *bio_to_string(BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *s = malloc((size_t)n + 1);
	if (!s)
		exit(2);   /* runs in main(), outside any test */
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

static void make_rsa(char **priv, char **pub)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	if (!k) {
		fprintf(stderr, "EVP_RSA_gen failed\n");
		exit(2);
	}
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
		exit(2);
	*priv = bio_to_string(b);
	BIO_free(b);
	if (pub) {
		b = BIO_new(BIO_s_mem());
		if (!b || PEM_write_bio_PUBKEY(b, k) != 1)
			exit(2);
		*pub = bio_to_string(b);
		BIO_free(b);
	}
	EVP_PKEY_free(k);
}

/* ---- helpers -------------------------------------------------------------- */

static const char *const read_p[] = { "r-*" };
static const char *const write_p[] = { "w1" };

/* A good token's options: HS256, sub alice, exp in an hour. */
static eb_jwt_mint_opts base_opts(void)
{
	eb_jwt_mint_opts o = {
		.alg = EB_JWT_HS256, .key = SECRET, .key_len = strlen(SECRET),
		.sub = "alice", .has_exp = true, .exp = (int64_t)NOW + 3600,
		.has_iat = true, .iat = (int64_t)NOW,
		.read = read_p, .n_read = 1, .write = write_p, .n_write = 1,
	};
	return o;
}

static eb_jwt_mint_opts rs_opts(void)
{
	eb_jwt_mint_opts o = base_opts();
	o.alg = EB_JWT_RS256;
	o.key = keys.priv;
	o.key_len = strlen(keys.priv);
	return o;
}

static char *mint(const eb_jwt_mint_opts *o)
{
	char *t = NULL;
	eb_err err;
	eb_rc rc = eb_jwt_mint(o, &t, &err);
	ck_assert_msg(rc == EB_OK, "mint: %s %s", eb_rc_name(rc), err.msg);
	return t;
}

typedef enum { V_HS = 1, V_RS = 2, V_BOTH = 3 } vkind;

static eb_jwt_verifier *verifier(vkind k, const char *iss, const char *aud,
				 unsigned leeway)
{
	eb_jwt_verifier_opts o = {
		.hs256_secret = (k & V_HS) ? SECRET : NULL,
		.hs256_secret_len = (k & V_HS) ? strlen(SECRET) : 0,
		.rs256_public_pem = (k & V_RS) ? keys.pub : NULL,
		.issuer = iss, .audience = aud, .leeway_s = leeway,
	};
	eb_jwt_verifier *v = NULL;
	eb_err err;
	eb_rc rc = eb_jwt_verifier_new(&o, &v, &err);
	ck_assert_msg(rc == EB_OK, "verifier: %s", err.msg);
	return v;
}

static eb_claims *accept(const eb_jwt_verifier *v, const char *tok, uint64_t now)
{
	eb_claims *c = NULL;
	eb_err err;
	eb_rc rc = eb_jwt_verify(v, tok, strlen(tok), now, &c, &err);
	ck_assert_msg(rc == EB_OK, "%s refused: %s %s", tok, err.rule, err.msg);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void refuse_n(const eb_jwt_verifier *v, const char *tok, size_t len,
		     uint64_t now, const char *rule)
{
	eb_claims *c = (eb_claims *)1;
	eb_err err;
	eb_rc rc = eb_jwt_verify(v, tok, len, now, &c, &err);
	ck_assert_msg(rc == EB_ERR_AUTH, "%.*s: got %s, want refusal %s",
		      (int)len, tok, eb_rc_name(rc), rule);
	ck_assert_ptr_null(c);
	ck_assert_msg(!strcmp(err.rule, rule), "%.*s: rule %s (%s), want %s",
		      (int)len, tok, err.rule, err.msg, rule);
	ck_assert_str_eq(err.code, "UNAUTHORIZED");
}

static void refuse(const eb_jwt_verifier *v, const char *tok, uint64_t now,
		   const char *rule)
{
	refuse_n(v, tok, strlen(tok), now, rule);
}

static char *b64url(const void *data, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *s = data;
	char *o = malloc(n / 3 * 4 + 5);
	size_t j = 0, i = 0;
	ck_assert_ptr_nonnull(o);
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		o[j++] = a[v >> 18];
		o[j++] = a[(v >> 12) & 63];
		o[j++] = a[(v >> 6) & 63];
		o[j++] = a[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)s[i] << 16;
		o[j++] = a[v >> 18];
		o[j++] = a[(v >> 12) & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8;
		o[j++] = a[v >> 18];
		o[j++] = a[(v >> 12) & 63];
		o[j++] = a[(v >> 6) & 63];
	}
	o[j] = '\0';
	return o;
}

/* header.payload.HMAC-SHA256(secret) of raw JSON texts. */
static char *hs256_raw(const char *header, const char *payload,
		       const char *secret, size_t secret_len)
{
	char *h = b64url(header, strlen(header));
	char *p = b64url(payload, strlen(payload));
	size_t n = strlen(h) + 1 + strlen(p);
	char *t = malloc(n + 100);
	ck_assert_ptr_nonnull(t);
	snprintf(t, n + 1, "%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)secret_len,
				   (const unsigned char *)t, n, mac, &ml));
	char *s = b64url(mac, ml);
	snprintf(t + n, 100, ".%s", s);
	free(h);
	free(p);
	free(s);
	return t;
}

static char *hs256_payload(const char *payload)
{
	return hs256_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, SECRET,
			 strlen(SECRET));
}

#define GOOD_CLAIMS "\"sub\":\"alice\",\"exp\":1700003600"

/* ---- accepted --------------------------------------------------------------- */

START_TEST(test_jwt_valid_hs256_is_accepted_AUTH_2)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	char *t = mint(&o);
	eb_claims *c = accept(v, t, NOW);
	ck_assert_str_eq(c->sub, "alice");
	ck_assert_uint_eq(c->exp, NOW + 3600);
	ck_assert_uint_eq(c->nbf, 0);
	ck_assert_uint_eq(c->n_read, 1);
	ck_assert_str_eq(c->read[0], "r-*");
	ck_assert_uint_eq(c->n_write, 1);
	ck_assert_str_eq(c->write[0], "w1");
	eb_claims_free(c);
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_valid_rs256_is_accepted_AUTH_2)
{
	eb_jwt_verifier *v = verifier(V_RS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = rs_opts();
	char *t = mint(&o);
	eb_claims *c = accept(v, t, NOW);
	ck_assert_str_eq(c->sub, "alice");
	eb_claims_free(c);
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_both_algs_configured_accept_both)
{
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	char *t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	o = rs_opts();
	t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_minted_tokens_verify_with_plain_libjwt)
{
	/* Interop: what eb_jwt_mint writes is a JWS any library reads. */
	eb_jwt_mint_opts o = base_opts();
	char *t = mint(&o);
	jwt_t *j = NULL;
	ck_assert_int_eq(jwt_decode(&j, t, (const unsigned char *)SECRET,
				    (int)strlen(SECRET)), 0);
	ck_assert_str_eq(jwt_get_grant(j, "sub"), "alice");
	ck_assert_int_eq(jwt_get_grant_int(j, "exp"), (long)NOW + 3600);
	jwt_free(j);
	free(t);

	o = rs_opts();
	t = mint(&o);
	j = NULL;
	ck_assert_int_eq(jwt_decode(&j, t, (const unsigned char *)keys.pub,
				    (int)strlen(keys.pub)), 0);
	ck_assert_int_eq(jwt_get_alg(j), JWT_ALG_RS256);
	char *r = jwt_get_grants_json(j, "eb_write");
	ck_assert_str_eq(r, "[\"w1\"]");
	free(r);
	jwt_free(j);
	free(t);
}
END_TEST

START_TEST(test_jwt_unknown_claims_and_header_members_are_ignored_GEN_3)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	char *t = hs256_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
			    "{" GOOD_CLAIMS ",\"jti\":\"x\",\"extra\":{\"a\":[1,2]}}",
			    SECRET, strlen(SECRET));
	eb_claims *c = accept(v, t, NOW);
	ck_assert_uint_eq(c->n_read, 0);
	ck_assert_uint_eq(c->n_write, 0);
	ck_assert(!eb_claims_can_read(c, "anything"));
	eb_claims_free(c);
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_crit_header_naming_an_unknown_extension_is_refused_AUTH_2)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	/* RFC 7515 4.1.11: crit lists extensions the recipient must
	 * understand; the verifier understands none */
	const char *hdr[] = {
		"{\"alg\":\"HS256\",\"crit\":[\"x-unknown\"],\"x-unknown\":1}",
		"{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":true}",
		"{\"alg\":\"HS256\",\"crit\":[]}",
		"{\"alg\":\"HS256\",\"crit\":\"exp\"}",
	};
	for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++) {
		char *t = hs256_raw(hdr[i], "{" GOOD_CLAIMS "}", SECRET, strlen(SECRET));
		refuse(v, t, NOW, "AUTH-2");
		free(t);
	}
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_exp_beyond_the_ms_safe_range_is_clamped_so_expiresAt_stays_safe)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	const char *pl[] = {
		"{\"sub\":\"alice\",\"exp\":9007199254740991}",
		"{\"sub\":\"alice\",\"exp\":9007199254741}",
		"{\"sub\":\"alice\",\"exp\":9007199254740}",
	};
	for (size_t i = 0; i < sizeof pl / sizeof pl[0]; i++) {
		char *t = hs256_payload(pl[i]);
		eb_claims *c = accept(v, t, NOW);
		ck_assert_uint_eq(c->exp, EB_JWT_EXP_MAX_S);
		ck_assert_uint_le(c->exp * 1000u, 9007199254740991ULL);
		eb_claims_free(c);
		free(t);
	}
	eb_jwt_verifier_free(v);
}
END_TEST

/* ---- AUTH-3: algorithms ---------------------------------------------------- */

START_TEST(test_jwt_alg_none_is_refused_AUTH_3)
{
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	o.alg = EB_JWT_NONE;
	char *t = mint(&o);
	/* "header.payload." : the empty signature is refused as well, but the
	 * alg check comes first. */
	ck_assert_int_eq(t[strlen(t) - 1], '.');
	refuse(v, t, NOW, "AUTH-3");
	free(t);

	/* Spellings libjwt would read as none (it compares case-insensitively),
	 * with and without a signature part. */
	const char *names[] = { "None", "NONE", "nOnE" };
	for (size_t i = 0; i < 3; i++) {
		o = base_opts();
		o.alg = EB_JWT_NONE;
		o.header_alg_override = names[i];
		t = mint(&o);
		refuse(v, t, NOW, "AUTH-3");
		free(t);
		o = base_opts();
		o.header_alg_override = names[i];
		t = mint(&o);
		refuse(v, t, NOW, "AUTH-3");
		free(t);
	}
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_hs256_refused_when_only_rs256_configured_AUTH_3)
{
	eb_jwt_verifier *v = verifier(V_RS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-3");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_rs256_refused_when_only_hs256_configured_AUTH_3)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = rs_opts();
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-3");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_algorithm_confusion_is_refused_AUTH_3)
{
	/* HS256 "signed" with the server's RS256 public key PEM as secret. */
	eb_jwt_verifier *v = verifier(V_RS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	o.key = keys.pub;
	o.key_len = strlen(keys.pub);
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-3");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_other_algs_and_odd_spellings_are_refused_AUTH_3)
{
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	const char *names[] = { "hs256", "Rs256", "HS384", "HS512", "RS512",
				"ES256", "PS256", "HS256 ", "" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		eb_jwt_mint_opts o = base_opts();
		o.header_alg_override = names[i];
		char *t = mint(&o);
		refuse(v, t, NOW, "AUTH-3");
		free(t);
	}
	/* No alg, or not a string. */
	char *t = hs256_raw("{\"typ\":\"JWT\"}", "{" GOOD_CLAIMS "}", SECRET,
			    strlen(SECRET));
	refuse(v, t, NOW, "AUTH-3");
	free(t);
	t = hs256_raw("{\"alg\":[\"HS256\"]}", "{" GOOD_CLAIMS "}", SECRET,
		      strlen(SECRET));
	refuse(v, t, NOW, "AUTH-3");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_header_alg_not_matching_signature_is_refused_AUTH_2)
{
	/* Signed RS256, header claims HS256: the HMAC does not verify. */
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = rs_opts();
	o.header_alg_override = "HS256";
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	o = base_opts();
	o.header_alg_override = "RS256";
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

/* ---- AUTH-2: signature and structure --------------------------------------- */

START_TEST(test_jwt_bad_signature_is_refused_AUTH_2)
{
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	o.key = "another secret";
	o.key_len = strlen(o.key);
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-2");
	free(t);

	o = rs_opts();
	o.key = keys.priv2;
	o.key_len = strlen(keys.priv2);
	t = mint(&o);
	ERR_clear_error();
	refuse(v, t, NOW, "AUTH-2");
	/* A refusal leaves OpenSSL's error queue as it found it. */
	ck_assert_uint_eq(ERR_peek_error(), 0);
	free(t);

	/* One signature character changed. */
	o = base_opts();
	t = mint(&o);
	char *last = t + strlen(t) - 3;
	*last = *last == 'A' ? 'B' : 'A';
	refuse(v, t, NOW, "AUTH-2");
	free(t);

	/* Signature cut short, and an empty signature. */
	o = base_opts();
	t = mint(&o);
	t[strlen(t) - 4] = '\0';
	refuse(v, t, NOW, "AUTH-2");
	*(strrchr(t, '.') + 1) = '\0';
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_tampered_payload_is_refused_AUTH_2)
{
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	const char *payload = "{\"eb_write\":[\"*\"],\"exp\":1700003600,\"sub\":\"alice\"}";
	char *p = b64url(payload, strlen(payload));
	for (int rs = 0; rs < 2; rs++) {
		eb_jwt_mint_opts o = rs ? rs_opts() : base_opts();
		char *t = mint(&o);
		char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
		size_t n = (size_t)(d1 - t) + 1 + strlen(p) + strlen(d2) + 1;
		char *x = malloc(n);
		snprintf(x, n, "%.*s.%s%s", (int)(d1 - t), t, p, d2);
		refuse(v, x, NOW, "AUTH-2");
		free(x);
		free(t);
	}
	free(p);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_malformed_tokens_are_refused_AUTH_2)
{
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	char *good = mint(&o);
	char buf[4096];

	/* Two parts. */
	snprintf(buf, sizeof buf, "%.*s", (int)(strrchr(good, '.') - good), good);
	refuse(v, buf, NOW, "AUTH-2");
	/* Four parts. */
	snprintf(buf, sizeof buf, "%s.AAAA", good);
	refuse(v, buf, NOW, "AUTH-2");
	/* One part, empty, dots only. */
	refuse(v, "abc", NOW, "AUTH-2");
	refuse(v, "..", NOW, "AUTH-2");
	refuse_n(v, "", 0, NOW, "AUTH-2");
	/* Bytes outside base64url: standard alphabet, padding, space. */
	snprintf(buf, sizeof buf, "%s", good);
	buf[3] = '+';
	refuse(v, buf, NOW, "AUTH-2");
	snprintf(buf, sizeof buf, "%s", good);
	buf[3] = '/';
	refuse(v, buf, NOW, "AUTH-2");
	snprintf(buf, sizeof buf, "%s=", good);
	refuse(v, buf, NOW, "AUTH-2");
	snprintf(buf, sizeof buf, " %s", good);
	refuse(v, buf, NOW, "AUTH-2");
	/* A NUL byte: the length counts, not the C string. */
	size_t gl = strlen(good);
	memcpy(buf, good, gl);
	buf[gl] = '\0';
	buf[gl + 1] = 'A';
	refuse_n(v, buf, gl + 2, NOW, "AUTH-2");
	/* A header segment of impossible length (4k+1 characters). */
	snprintf(buf, sizeof buf, "A%s", good);
	refuse(v, buf, NOW, "AUTH-2");
	free(good);

	/* Header not JSON, header an array, payload not JSON / not an object. */
	char *t = hs256_raw("{\"alg\":\"HS256\"", "{" GOOD_CLAIMS "}", SECRET,
			    strlen(SECRET));
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	t = hs256_raw("[\"HS256\"]", "{" GOOD_CLAIMS "}", SECRET, strlen(SECRET));
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	t = hs256_payload("{" GOOD_CLAIMS);
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	t = hs256_payload("[1]");
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	/* GEN-6: a duplicate claim could be read two ways; refused. */
	t = hs256_payload("{" GOOD_CLAIMS ",\"sub\":\"root\"}");
	refuse(v, t, NOW, "AUTH-2");
	free(t);
	t = hs256_raw("{\"alg\":\"none\",\"alg\":\"HS256\"}", "{" GOOD_CLAIMS "}",
		      SECRET, strlen(SECRET));
	refuse(v, t, NOW, "AUTH-2");
	free(t);

	/* Far too long. */
	char *huge = malloc(40000);
	memset(huge, 'A', 39999);
	huge[39999] = '\0';
	huge[10] = '.';
	huge[20] = '.';
	refuse(v, huge, NOW, "AUTH-2");
	free(huge);
	eb_jwt_verifier_free(v);
}
END_TEST

/* ---- time claims ------------------------------------------------------------ */

START_TEST(test_jwt_expired_beyond_leeway_is_refused_AUTH_4)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);   /* default 5 s */
	eb_jwt_mint_opts o = base_opts();
	o.exp = (int64_t)NOW - 6;
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-4");
	free(t);
	eb_jwt_verifier_free(v);

	v = verifier(V_HS, NULL, NULL, 60);
	o.exp = (int64_t)NOW - 61;
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-4");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_zero_leeway_refuses_a_token_one_second_past_exp_AUTH_4)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, 0);
	eb_jwt_mint_opts o = base_opts();
	o.exp = (int64_t)NOW;
	char *t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	o.exp = (int64_t)NOW - 1;
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-4");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_expired_within_leeway_is_accepted_AUTH_7)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);   /* default 5 s */
	eb_jwt_mint_opts o = base_opts();
	o.exp = (int64_t)NOW - 5;
	char *t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	o.exp = (int64_t)NOW;
	t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	eb_jwt_verifier_free(v);

	v = verifier(V_HS, NULL, NULL, 60);
	o.exp = (int64_t)NOW - 60;
	t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_missing_or_non_integer_exp_is_refused_AUTH_4)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	o.has_exp = false;
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-4");
	free(t);
	const char *bad[] = {
		"{\"sub\":\"alice\",\"exp\":\"1700003600\"}",
		"{\"sub\":\"alice\",\"exp\":null}",
		"{\"sub\":\"alice\",\"exp\":1700003600.5}",
		"{\"sub\":\"alice\",\"exp\":-1}",
	};
	for (size_t i = 0; i < 4; i++) {
		t = hs256_payload(bad[i]);
		refuse(v, t, NOW, "AUTH-4");
		free(t);
	}
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_nbf_in_the_future_is_refused_AUTH_5)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	o.has_nbf = true;
	o.nbf = (int64_t)NOW + 6;
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-5");
	free(t);
	o.nbf = (int64_t)NOW + 5;   /* within leeway */
	t = mint(&o);
	eb_claims *c = accept(v, t, NOW);
	ck_assert_uint_eq(c->nbf, NOW + 5);
	eb_claims_free(c);
	free(t);
	t = hs256_payload("{" GOOD_CLAIMS ",\"nbf\":\"soon\"}");
	refuse(v, t, NOW, "AUTH-5");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

/* ---- AUTH-6: iss / aud ------------------------------------------------------ */

START_TEST(test_jwt_wrong_issuer_is_refused_AUTH_6)
{
	eb_jwt_verifier *v = verifier(V_HS, "https://issuer.example", NULL, 0);
	eb_jwt_mint_opts o = base_opts();
	o.iss = "https://issuer.example";
	char *t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	o.iss = "https://other.example";
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	o.iss = NULL;
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	t = hs256_payload("{" GOOD_CLAIMS ",\"iss\":[\"https://issuer.example\"]}");
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	eb_jwt_verifier_free(v);

	/* Without a configured issuer any iss is fine. */
	v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	o.iss = "whoever";
	t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_audience_string_is_checked_AUTH_6)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, "sync-api", 0);
	eb_jwt_mint_opts o = base_opts();
	o.aud = "sync-api";
	char *t = mint(&o);
	eb_claims_free(accept(v, t, NOW));
	free(t);
	o.aud = "other-api";
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	o.aud = NULL;
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_audience_array_is_checked_AUTH_6)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, "sync-api", 0);
	char *t = hs256_payload("{" GOOD_CLAIMS ",\"aud\":[\"web\",\"sync-api\"]}");
	eb_claims_free(accept(v, t, NOW));
	free(t);
	t = hs256_payload("{" GOOD_CLAIMS ",\"aud\":[\"web\",\"admin\"]}");
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	t = hs256_payload("{" GOOD_CLAIMS ",\"aud\":[]}");
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	t = hs256_payload("{" GOOD_CLAIMS ",\"aud\":[[\"sync-api\"]]}");
	refuse(v, t, NOW, "AUTH-6");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

/* ---- AUTH-8 / AUTH-9: sub and permission claims ----------------------------- */

START_TEST(test_jwt_missing_sub_is_refused_AUTH_8)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	o.sub = NULL;
	char *t = mint(&o);
	refuse(v, t, NOW, "AUTH-8");
	free(t);
	o.sub = "";
	t = mint(&o);
	refuse(v, t, NOW, "AUTH-8");
	free(t);
	t = hs256_payload("{\"sub\":42,\"exp\":1700003600}");
	refuse(v, t, NOW, "AUTH-8");
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_permission_claims_of_wrong_type_are_refused_AUTH_9)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	const char *bad[] = {
		"{" GOOD_CLAIMS ",\"eb_read\":\"*\"}",
		"{" GOOD_CLAIMS ",\"eb_read\":[\"a\",1]}",
		"{" GOOD_CLAIMS ",\"eb_write\":{\"a\":true}}",
		"{" GOOD_CLAIMS ",\"eb_write\":[null]}",
		"{" GOOD_CLAIMS ",\"eb_read\":null}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *t = hs256_payload(bad[i]);
		refuse(v, t, NOW, "AUTH-9");
		free(t);
	}
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_permission_patterns_AUTH_9_AUTH_10)
{
	eb_jwt_verifier *v = verifier(V_HS, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	char *t = hs256_payload("{" GOOD_CLAIMS ",\"eb_read\":[\"exact\",\"team-*\"],"
				"\"eb_write\":[\"w-*\",\"solo\"]}");
	eb_claims *c = accept(v, t, NOW);
	/* exact */
	ck_assert(eb_claims_can_read(c, "exact"));
	ck_assert(!eb_claims_can_read(c, "exac"));
	ck_assert(!eb_claims_can_read(c, "exactly"));
	ck_assert(!eb_claims_can_read(c, "EXACT"));
	ck_assert(!eb_claims_can_write(c, "exact"));
	/* prefix* */
	ck_assert(eb_claims_can_read(c, "team-"));
	ck_assert(eb_claims_can_read(c, "team-42"));
	ck_assert(!eb_claims_can_read(c, "team"));
	ck_assert(!eb_claims_can_write(c, "team-42"));
	/* write implies read (AUTH-10) */
	ck_assert(eb_claims_can_write(c, "w-1"));
	ck_assert(eb_claims_can_read(c, "w-1"));
	ck_assert(eb_claims_can_write(c, "solo"));
	ck_assert(eb_claims_can_read(c, "solo"));
	ck_assert(!eb_claims_can_write(c, "solo2"));
	ck_assert(!eb_claims_can_read(c, "other"));
	ck_assert(!eb_claims_can_read(c, NULL));
	ck_assert(!eb_claims_can_read(NULL, "exact"));
	eb_claims_free(c);
	free(t);

	/* "*" matches every store. */
	t = hs256_payload("{" GOOD_CLAIMS ",\"eb_read\":[\"*\"]}");
	c = accept(v, t, NOW);
	ck_assert(eb_claims_can_read(c, "a"));
	ck_assert(eb_claims_can_read(c, "project-456"));
	ck_assert(!eb_claims_can_write(c, "a"));
	eb_claims_free(c);
	free(t);
	t = hs256_payload("{" GOOD_CLAIMS ",\"eb_write\":[\"*\"]}");
	c = accept(v, t, NOW);
	ck_assert(eb_claims_can_write(c, "anything"));
	ck_assert(eb_claims_can_read(c, "anything"));
	eb_claims_free(c);
	free(t);

	/* A '*' not at the end is no wildcard. */
	t = hs256_payload("{" GOOD_CLAIMS ",\"eb_read\":[\"a*b\"]}");
	c = accept(v, t, NOW);
	ck_assert(!eb_claims_can_read(c, "axb"));
	ck_assert(!eb_claims_can_read(c, "ab"));
	eb_claims_free(c);
	free(t);
	eb_jwt_verifier_free(v);
}
END_TEST

/* ---- construction ----------------------------------------------------------- */

START_TEST(test_jwt_verifier_options_are_checked_AUTH_7)
{
	eb_jwt_verifier *v = (eb_jwt_verifier *)1;
	eb_err err;
	eb_jwt_verifier_opts o = { 0 };
	ck_assert_int_eq(eb_jwt_verifier_new(&o, &v, &err), EB_ERR_ARG);
	ck_assert_ptr_null(v);
	o.hs256_secret = SECRET;
	o.hs256_secret_len = strlen(SECRET);
	o.leeway_s = 61;
	ck_assert_int_eq(eb_jwt_verifier_new(&o, &v, &err), EB_ERR_ARG);
	o.leeway_s = 60;
	ck_assert_int_eq(eb_jwt_verifier_new(&o, &v, &err), EB_OK);
	eb_jwt_verifier_free(v);
	o.hs256_secret_len = 0;
	ck_assert_int_eq(eb_jwt_verifier_new(&o, &v, &err), EB_ERR_ARG);
	o.hs256_secret = NULL;
	o.rs256_public_pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
	ck_assert_int_eq(eb_jwt_verifier_new(&o, &v, &err), EB_ERR_ARG);
	/* A private key is not the public key the option asks for. */
	o.rs256_public_pem = keys.priv;
	ck_assert_int_eq(eb_jwt_verifier_new(&o, &v, &err), EB_ERR_ARG);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	eb_jwt_verifier_free(NULL);
	eb_claims_free(NULL);
}
END_TEST

START_TEST(test_jwt_mint_refuses_bad_keys)
{
	char *t = (char *)1;
	eb_err err;
	eb_jwt_mint_opts o = rs_opts();
	o.key = "not a pem";
	o.key_len = strlen(o.key);
	ck_assert_int_eq(eb_jwt_mint(&o, &t, &err), EB_ERR_ARG);
	ck_assert_ptr_null(t);
	o.key = keys.pub;   /* public, cannot sign */
	o.key_len = strlen(keys.pub);
	ck_assert_int_eq(eb_jwt_mint(&o, &t, &err), EB_ERR_ARG);
	o = base_opts();
	o.key_len = 0;
	ck_assert_int_eq(eb_jwt_mint(&o, &t, &err), EB_ERR_ARG);
}
END_TEST

/* The permission questions answer as eb_pattern_match over the lists
 * does, whatever the first bytes (the lists are walked with a first-byte
 * filter): exact ids, prefixes, "*", "", malformed patterns, NULL entries. */
START_TEST(test_jwt_permissions_are_eb_pattern_match_over_the_lists_AUTH_10)
{
	static const char *pats[] = { "", "*", "a", "a*", "ab", "ab*", "b*", "*a",
				      "a**", "*a*", "a*b", "proj-*", "proj-1", NULL };
	static const char *ids[] = { "", "a", "ab", "abc", "b", "*", "*a", "proj-1",
				     "proj-", "x" };
	const size_t np = sizeof(pats) / sizeof(pats[0]);
	eb_claims c;
	size_t r, w, k, i;

	for (r = 0; r < np; r++) {
		for (w = 0; w < np; w++) {
			char *rd[2] = { (char *)(uintptr_t)pats[r], (char *)(uintptr_t)pats[(r + 5) % np] };
			char *wr[2] = { (char *)(uintptr_t)pats[w], (char *)(uintptr_t)pats[(w + 3) % np] };

			memset(&c, 0, sizeof(c));
			c.read = rd;
			c.n_read = 2;
			c.write = wr;
			c.n_write = 2;
			for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
				bool want_w = false, want_r = false;

				for (i = 0; i < 2; i++) {
					want_w = want_w || eb_pattern_match(wr[i], ids[k]);
					want_r = want_r || eb_pattern_match(rd[i], ids[k]);
				}
				ck_assert(eb_claims_can_write(&c, ids[k]) == want_w);
				ck_assert(eb_claims_can_read(&c, ids[k]) == (want_r || want_w));
			}
		}
	}
}
END_TEST

START_TEST(test_jwt_mint_writes_integer_claims_GEN_5)
{
	eb_jwt_mint_opts o = base_opts();
	o.exp = 9007199254740991LL;
	char *t = mint(&o);
	jwt_t *j = NULL;
	ck_assert_int_eq(jwt_decode(&j, t, (const unsigned char *)SECRET,
				    (int)strlen(SECRET)), 0);
	char *all = jwt_get_grants_json(j, NULL);
	ck_assert_ptr_nonnull(strstr(all, "\"exp\":9007199254740991"));
	free(all);
	jwt_free(j);
	free(t);
}
END_TEST

/* ---- AUTH-2: the signature checked over OpenSSL, without libjwt ------------ */

/* The value of base64url character c (it is one). */
static int b64url_value(char c)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	return (int)(strchr(a, c) - a);
}

START_TEST(test_jwt_signature_with_nonzero_unused_bits_is_refused_AUTH_2)
{
	/* The last character of a 32-byte (HS256) or 256-byte (RS256)
	 * signature carries unused bits; a lenient decoder reads the same
	 * bytes when they are set, the strict one refuses: one encoding per
	 * signature. */
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	for (int rs = 0; rs < 2; rs++) {
		eb_jwt_mint_opts o = rs ? rs_opts() : base_opts();
		char *t = mint(&o);
		eb_claims_free(accept(v, t, NOW));
		char *last = t + strlen(t) - 1;
		*last = a[b64url_value(*last) ^ 1];
		refuse(v, t, NOW, "AUTH-2");
		free(t);
	}
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_claims_longer_than_the_stack_buffer_verify_AUTH_2)
{
	/* Segments up to 1 KiB decode on the stack, longer ones in a malloc'd
	 * buffer: a 3 KiB payload of 2, 3 and 4 characters past a multiple
	 * of four verifies, its claims intact, and a flipped bit in its last
	 * character is refused. */
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	for (int pad = 0; pad < 3; pad++) {
		char payload[4096], *t, *at;
		size_t n = 0;
		n += (size_t)snprintf(payload + n, sizeof payload - n, "{" GOOD_CLAIMS ",\"eb_read\":[");
		for (int i = 0; i < 250; i++)
			n += (size_t)snprintf(payload + n, sizeof payload - n, "%s\"store-%04d\"",
					      i ? "," : "", i);
		n += (size_t)snprintf(payload + n, sizeof payload - n, "]%.*s}", pad, "   ");
		ck_assert_uint_gt(n, 3000);
		t = hs256_payload(payload);
		eb_claims *c = accept(v, t, NOW);
		ck_assert_uint_eq(c->n_read, 250);
		ck_assert_str_eq(c->read[249], "store-0249");
		ck_assert_str_eq(c->sub, "alice");
		eb_claims_free(c);
		/* the payload's last character, just before the second dot */
		at = strrchr(t, '.') - 1;
		*at = *at == 'A' ? 'B' : 'A';
		refuse(v, t, NOW, "AUTH-2");
		free(t);
	}
	eb_jwt_verifier_free(v);
}
END_TEST

START_TEST(test_jwt_hs256_secrets_around_a_hash_block_verify_AUTH_2)
{
	/* HMAC pads a key up to SHA-256's 64-byte block and hashes a longer
	 * one first: the verifier's own HMAC agrees with OpenSSL's HMAC()
	 * (the minter's) on each side of the block, and a key one byte
	 * shorter is another key. */
	static const size_t lens[] = { 1, 2, 63, 64, 65, 100 };
	char secret[100];
	for (size_t i = 0; i < sizeof secret; i++)
		secret[i] = (char)('a' + i % 26);
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		eb_jwt_verifier_opts vo = { .hs256_secret = secret, .hs256_secret_len = lens[k] };
		eb_jwt_verifier *v = NULL;
		eb_err err;
		ck_assert_int_eq(eb_jwt_verifier_new(&vo, &v, &err), EB_OK);
		eb_jwt_mint_opts o = base_opts();
		o.key = secret;
		o.key_len = lens[k];
		char *t = mint(&o);
		eb_claims_free(accept(v, t, NOW));
		free(t);
		o.key_len = lens[k] - 1 ? lens[k] - 1 : 2;
		t = mint(&o);
		refuse(v, t, NOW, "AUTH-2");
		free(t);
		eb_jwt_verifier_free(v);
	}
}
END_TEST

START_TEST(test_jwt_one_verifier_checks_tokens_in_turn_AUTH_2)
{
	/* The keyed HMAC and the RSA key are set up once per verifier: each
	 * token is checked afresh, a refused one leaves nothing behind. */
	eb_jwt_verifier *v = verifier(V_BOTH, NULL, NULL, EB_JWT_DEFAULT_LEEWAY_S);
	eb_jwt_mint_opts o = base_opts();
	char *hs = mint(&o);
	o = rs_opts();
	char *rs = mint(&o);
	o = base_opts();
	o.key = "another secret";
	o.key_len = strlen(o.key);
	char *bad_hs = mint(&o);
	o = rs_opts();
	o.key = keys.priv2;
	o.key_len = strlen(keys.priv2);
	char *bad_rs = mint(&o);
	for (int round = 0; round < 3; round++) {
		eb_claims_free(accept(v, hs, NOW));
		refuse(v, bad_hs, NOW, "AUTH-2");
		eb_claims_free(accept(v, rs, NOW));
		refuse(v, bad_rs, NOW, "AUTH-2");
	}
	free(hs);
	free(rs);
	free(bad_hs);
	free(bad_rs);
	eb_jwt_verifier_free(v);
}
END_TEST

static Suite *jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *c = tcase_create("verify");
	tcase_set_timeout(c, 60);
	tcase_add_test(c, test_jwt_valid_hs256_is_accepted_AUTH_2);
	tcase_add_test(c, test_jwt_valid_rs256_is_accepted_AUTH_2);
	tcase_add_test(c, test_jwt_both_algs_configured_accept_both);
	tcase_add_test(c, test_jwt_minted_tokens_verify_with_plain_libjwt);
	tcase_add_test(c, test_jwt_unknown_claims_and_header_members_are_ignored_GEN_3);
	tcase_add_test(c, test_jwt_crit_header_naming_an_unknown_extension_is_refused_AUTH_2);
	tcase_add_test(c, test_jwt_exp_beyond_the_ms_safe_range_is_clamped_so_expiresAt_stays_safe);
	tcase_add_test(c, test_jwt_alg_none_is_refused_AUTH_3);
	tcase_add_test(c, test_jwt_hs256_refused_when_only_rs256_configured_AUTH_3);
	tcase_add_test(c, test_jwt_rs256_refused_when_only_hs256_configured_AUTH_3);
	tcase_add_test(c, test_jwt_algorithm_confusion_is_refused_AUTH_3);
	tcase_add_test(c, test_jwt_other_algs_and_odd_spellings_are_refused_AUTH_3);
	tcase_add_test(c, test_jwt_header_alg_not_matching_signature_is_refused_AUTH_2);
	tcase_add_test(c, test_jwt_bad_signature_is_refused_AUTH_2);
	tcase_add_test(c, test_jwt_signature_with_nonzero_unused_bits_is_refused_AUTH_2);
	tcase_add_test(c, test_jwt_hs256_secrets_around_a_hash_block_verify_AUTH_2);
	tcase_add_test(c, test_jwt_one_verifier_checks_tokens_in_turn_AUTH_2);
	tcase_add_test(c, test_jwt_tampered_payload_is_refused_AUTH_2);
	tcase_add_test(c, test_jwt_malformed_tokens_are_refused_AUTH_2);
	tcase_add_test(c, test_jwt_expired_beyond_leeway_is_refused_AUTH_4);
	tcase_add_test(c, test_jwt_expired_within_leeway_is_accepted_AUTH_7);
	tcase_add_test(c, test_jwt_zero_leeway_refuses_a_token_one_second_past_exp_AUTH_4);
	tcase_add_test(c, test_jwt_missing_or_non_integer_exp_is_refused_AUTH_4);
	tcase_add_test(c, test_jwt_nbf_in_the_future_is_refused_AUTH_5);
	tcase_add_test(c, test_jwt_wrong_issuer_is_refused_AUTH_6);
	tcase_add_test(c, test_jwt_audience_string_is_checked_AUTH_6);
	tcase_add_test(c, test_jwt_audience_array_is_checked_AUTH_6);
	tcase_add_test(c, test_jwt_missing_sub_is_refused_AUTH_8);
	tcase_add_test(c, test_jwt_permission_claims_of_wrong_type_are_refused_AUTH_9);
	tcase_add_test(c, test_jwt_permission_patterns_AUTH_9_AUTH_10);
	tcase_add_test(c, test_jwt_permissions_are_eb_pattern_match_over_the_lists_AUTH_10);
	tcase_add_test(c, test_jwt_verifier_options_are_checked_AUTH_7);
	tcase_add_test(c, test_jwt_mint_refuses_bad_keys);
	tcase_add_test(c, test_jwt_mint_writes_integer_claims_GEN_5);
	tcase_add_test(c, test_jwt_claims_longer_than_the_stack_buffer_verify_AUTH_2);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	make_rsa(&keys.priv, &keys.pub);
	make_rsa(&keys.priv2, NULL);
	SRunner *r = srunner_create(jwt_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	free(keys.priv);
	free(keys.pub);
	free(keys.priv2);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
