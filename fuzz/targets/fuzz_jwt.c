/*
 * fuzz_jwt.c — eb_jwt_verify with HS256 verifiers, and the permission checks
 * of the claims it returns (PROTOCOL.md section 9).
 *
 * Raw token bytes almost never carry a valid signature, so the first input
 * byte picks how the token is built from the rest:
 *   0  the rest is the token as is;
 *   1  the rest is "header JSON 0xFF payload JSON", signed with the secret;
 *   2  the rest is the payload, under {"alg":"HS256","typ":"JWT"}, signed;
 *   3  as 2 but signed with another secret        -> must be refused (AUTH-2);
 *   4  as 2 but "alg":"none" and no signature      -> must be refused (AUTH-3);
 *   5  as 2 but "alg":"hs256", signed correctly    -> must be refused (AUTH-3);
 *   6  as 2 but "alg":"RS256", HMAC-signed         -> must be refused (AUTH-3).
 * Invariants on acceptance: the claims obey AUTH-4/5/8 at the verification
 * time, they are the payload's own values, a verifier that also checks issuer
 * and audience accepts only tokens the plain one accepts (and only with the
 * configured iss and aud), and write permission implies read (AUTH-10).
 */
/* SHA-256's low-level interface (deprecated in OpenSSL 3) is the one whose
 * state copies without an allocation; see fj_key. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "../fuzz_common.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "eb_json.h"
#include "eb_jwt.h"

#define FJ_NOW 1700000000ULL
#define FJ_LEEWAY 5
#define FJ_ISSUER "https://issuer.example"
#define FJ_AUDIENCE "eb-sync"
#define FJ_MAX_TOKEN 8192

static const char fj_secret[] = "fuzz-secret-0123456789";
static const char fj_other_secret[] = "another-secret";

/* An HMAC-SHA256 key: the SHA-256 states after its ipad and opad blocks
 * (RFC 2104), hashed once and copied per token. EVP_MAC_CTX_dup of a keyed
 * context allocated a dozen objects per signed token (a tenth of the
 * target's time under ASan); LLVMFuzzerInitialize checks these MACs
 * against OpenSSL's HMAC(). */
typedef struct fj_key {
	SHA256_CTX inner, outer;
} fj_key;

/* Built once: verifier creation is not what is being fuzzed, and per-input
 * setup would cost most of the run. */
static eb_jwt_verifier *fj_plain, *fj_strict;
static fj_key fj_mac, fj_other_mac;

static void fj_key_init(fj_key *k, const char *key)
{
	unsigned char pad[SHA256_CBLOCK];
	size_t n = strlen(key), i;

	if (n > sizeof pad)
		abort(); /* the two secrets above are shorter than a block */
	for (i = 0; i < sizeof pad; i++)
		pad[i] = (unsigned char)((i < n ? key[i] : 0) ^ 0x36);
	SHA256_Init(&k->inner);
	SHA256_Update(&k->inner, pad, sizeof pad);
	for (i = 0; i < sizeof pad; i++)
		pad[i] = (unsigned char)((i < n ? key[i] : 0) ^ 0x5c);
	SHA256_Init(&k->outer);
	SHA256_Update(&k->outer, pad, sizeof pad);
}

static void fj_hmac(const fj_key *k, const void *in, size_t n,
		    unsigned char out[SHA256_DIGEST_LENGTH])
{
	SHA256_CTX c = k->inner;
	unsigned char ih[SHA256_DIGEST_LENGTH];

	SHA256_Update(&c, in, n);
	SHA256_Final(ih, &c);
	c = k->outer;
	SHA256_Update(&c, ih, sizeof ih);
	SHA256_Final(out, &c);
}

/* The target's MAC is OpenSSL's HMAC(), or every verdict below is moot. */
static void fj_key_check(const fj_key *k, const char *key)
{
	static const char msg[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0";
	unsigned char mine[SHA256_DIGEST_LENGTH], want[EVP_MAX_MD_SIZE];
	unsigned int wl = 0;

	fj_hmac(k, msg, strlen(msg), mine);
	if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg,
		  strlen(msg), want, &wl) ||
	    wl != sizeof mine || CRYPTO_memcmp(mine, want, wl) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	eb_jwt_verifier_opts o;

	(void)argc;
	(void)argv;
	memset(&o, 0, sizeof(o));
	o.hs256_secret = fj_secret;
	o.hs256_secret_len = strlen(fj_secret);
	o.leeway_s = FJ_LEEWAY;
	if (eb_jwt_verifier_new(&o, &fj_plain, NULL) != EB_OK)
		abort();
	o.issuer = FJ_ISSUER;
	o.audience = FJ_AUDIENCE;
	if (eb_jwt_verifier_new(&o, &fj_strict, NULL) != EB_OK)
		abort();
	fj_key_init(&fj_mac, fj_secret);
	fj_key_init(&fj_other_mac, fj_other_secret);
	fj_key_check(&fj_mac, fj_secret);
	fj_key_check(&fj_other_mac, fj_other_secret);
	return 0;
}

/* base64url without padding. Walking pointers with constant offsets:
 * every variable index is a pointer-overflow check under UBSan, and its
 * compare a call into libFuzzer (a tenth of the target's time). */
static size_t fj_b64url(const uint8_t *src, size_t n, char *dst)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const uint8_t *end3 = src + n / 3 * 3;
	char *o = dst;
	uint32_t v;

	for (; src != end3; src += 3, o += 4) {
		v = (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
		o[0] = al[v >> 18];
		o[1] = al[(v >> 12) & 63];
		o[2] = al[(v >> 6) & 63];
		o[3] = al[v & 63];
	}
	if (n % 3 == 1) {
		v = (uint32_t)src[0] << 16;
		o[0] = al[v >> 18];
		o[1] = al[(v >> 12) & 63];
		o += 2;
	} else if (n % 3 == 2) {
		v = (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8;
		o[0] = al[v >> 18];
		o[1] = al[(v >> 12) & 63];
		o[2] = al[(v >> 6) & 63];
		o += 3;
	}
	return (size_t)(o - dst);
}

/* header.payload.signature into tok (FJ_MAX_TOKEN bytes); 0 if too long. */
static size_t fj_build(const uint8_t *hdr, size_t hlen, const uint8_t *pay,
		       size_t plen, const fj_key *key, bool sign, char *tok)
{
	unsigned char mac[SHA256_DIGEST_LENGTH];
	size_t n;

	if ((hlen + plen) / 3 * 4 + 8 + 64 > FJ_MAX_TOKEN)
		return 0;
	n = fj_b64url(hdr, hlen, tok);
	tok[n++] = '.';
	n += fj_b64url(pay, plen, tok + n);
	if (sign)
		fj_hmac(key, tok, n, mac);
	tok[n++] = '.';
	if (sign)
		n += fj_b64url(mac, sizeof mac, tok + n);
	tok[n] = '\0';
	return n;
}

static void fj_check_claims(const eb_claims *c, const uint8_t *pay, size_t plen,
			    bool strict)
{
	cJSON *p = NULL, *j;
	size_t i;

	FZ_CHECK(c->sub && c->sub[0], "sub is a non-empty string (AUTH-8)");
	FZ_CHECK(FJ_NOW <= c->exp + FJ_LEEWAY, "token not expired beyond leeway (AUTH-4)");
	FZ_CHECK(c->nbf <= FJ_NOW + FJ_LEEWAY, "token valid already (AUTH-5)");
	FZ_CHECK(c->n_read == 0 || c->read, "read patterns present");
	FZ_CHECK(c->n_write == 0 || c->write, "write patterns present");
	for (i = 0; i < c->n_write; i++) {
		bool w;

		FZ_CHECK(c->write[i] != NULL, "write pattern is a string");
		/* asked once for both checks: claims lists run to hundreds
		 * of patterns, and each question walks the whole list */
		w = eb_claims_can_write(c, c->write[i]);
		if (!strchr(c->write[i], '*'))
			FZ_CHECK(w, "an exact write pattern grants its store");
		FZ_CHECK(!w || eb_claims_can_read(c, c->write[i]),
			 "write implies read (AUTH-10)");
	}
	for (i = 0; i < c->n_read; i++) {
		FZ_CHECK(c->read[i] != NULL, "read pattern is a string");
		FZ_CHECK(!eb_claims_can_write(c, c->read[i]) ||
			 eb_claims_can_read(c, c->read[i]),
			 "write implies read (AUTH-10)");
	}
	if (!pay)
		return;
	/* The claims are the payload's own values. */
	FZ_CHECK(eb_json_parse((const char *)pay, plen, EB_JSON_MAX_DEPTH, &p, NULL) == EB_OK,
		 "an accepted payload is strict JSON");
	j = cJSON_GetObjectItemCaseSensitive(p, "sub");
	FZ_CHECK(cJSON_IsString(j) && strcmp(j->valuestring, c->sub) == 0, "sub is the payload's");
	j = cJSON_GetObjectItemCaseSensitive(p, "exp");
	/* exp beyond EB_JWT_EXP_MAX_S is reported clamped (expiresAt in ms
	 * stays a safe integer) */
	FZ_CHECK(cJSON_IsNumber(j) &&
		 (j->valuedouble == (double)c->exp ||
		  (c->exp == EB_JWT_EXP_MAX_S && j->valuedouble > (double)EB_JWT_EXP_MAX_S)),
		 "exp is the payload's, clamped to EB_JWT_EXP_MAX_S");
	if (strict) {
		j = cJSON_GetObjectItemCaseSensitive(p, "iss");
		FZ_CHECK(cJSON_IsString(j) && strcmp(j->valuestring, FJ_ISSUER) == 0,
			 "strict verifier accepted only the configured iss (AUTH-6)");
		j = cJSON_GetObjectItemCaseSensitive(p, "aud");
		if (cJSON_IsString(j)) {
			FZ_CHECK(strcmp(j->valuestring, FJ_AUDIENCE) == 0,
				 "strict verifier accepted only the configured aud (AUTH-6)");
		} else {
			cJSON *e;
			bool found = false;

			FZ_CHECK(cJSON_IsArray(j), "aud is a string or an array (AUTH-6)");
			cJSON_ArrayForEach(e, j)
				if (cJSON_IsString(e) && strcmp(e->valuestring, FJ_AUDIENCE) == 0)
					found = true;
			FZ_CHECK(found, "strict verifier's aud array holds the audience (AUTH-6)");
		}
	}
	cJSON_Delete(p);
}

static eb_rc fj_verify(const eb_jwt_verifier *v, const char *tok, size_t len,
		       const uint8_t *pay, size_t plen, bool strict)
{
	eb_claims *c = (eb_claims *)(uintptr_t)1;
	eb_err err;
	eb_rc rc = eb_jwt_verify(v, tok, len, FJ_NOW, &c, &err);

	if (rc != EB_OK) {
		FZ_CHECK(c == NULL, "refused token yields no claims");
		FZ_CHECK(rc == EB_ERR_AUTH || rc == EB_ERR_NOMEM, "refusals are AUTH");
		if (rc == EB_ERR_AUTH)
			FZ_CHECK(strncmp(err.rule, "AUTH-", 5) == 0, "refusals cite AUTH-n");
		return rc;
	}
	FZ_CHECK(c != NULL, "accepted token yields claims");
	fj_check_claims(c, pay, plen, strict);
	eb_claims_free(c);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char std_hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const char none_hdr[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
	static const char lower_hdr[] = "{\"alg\":\"hs256\",\"typ\":\"JWT\"}";
	static const char rs_hdr[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	char tok[FJ_MAX_TOKEN];
	const uint8_t *rest = data + 1, *pay = NULL, *sep;
	size_t rlen = size ? size - 1 : 0, len = 0, plen = 0;
	const char *hdr = std_hdr;
	bool must_refuse = false;
	eb_rc plain, strict;

	if (size == 0)
		return 0;
	switch (data[0] % 7) {
	case 0:
		plain = fj_verify(fj_plain, (const char *)rest, rlen, NULL, 0, false);
		strict = fj_verify(fj_strict, (const char *)rest, rlen, NULL, 0, true);
		FZ_CHECK(strict != EB_OK || plain == EB_OK,
			 "issuer/audience checks only refuse more");
		return 0;
	case 1:
		sep = memchr(rest, 0xFF, rlen);
		if (!sep)
			return 0;
		pay = sep + 1;
		plen = rlen - (size_t)(pay - rest);
		len = fj_build(rest, (size_t)(sep - rest), pay, plen, &fj_mac, true, tok);
		break;
	case 3:
		must_refuse = true;
		/* fall through */
	case 2:
		pay = rest;
		plen = rlen;
		len = fj_build((const uint8_t *)hdr, strlen(hdr), pay, plen,
			       must_refuse ? &fj_other_mac : &fj_mac, true, tok);
		break;
	default:
		must_refuse = true;
		hdr = data[0] % 7 == 4 ? none_hdr : data[0] % 7 == 5 ? lower_hdr : rs_hdr;
		pay = rest;
		plen = rlen;
		len = fj_build((const uint8_t *)hdr, strlen(hdr), pay, plen, &fj_mac,
			       data[0] % 7 != 4, tok);
		break;
	}
	if (len == 0)
		return 0;
	plain = fj_verify(fj_plain, tok, len, pay, plen, false);
	strict = fj_verify(fj_strict, tok, len, pay, plen, true);
	FZ_CHECK(strict != EB_OK || plain == EB_OK, "issuer/audience checks only refuse more");
	if (must_refuse)
		FZ_CHECK(plain != EB_OK, "wrong key or algorithm is refused (AUTH-2, AUTH-3)");
	return 0;
}
