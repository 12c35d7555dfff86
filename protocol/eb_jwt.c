/*
 * eb_jwt.c — JWT verification (PROTOCOL.md section 9) over OpenSSL, and
 * minting of good and deliberately bad tokens for tests and clients.
 *
 * The token is split, decoded and its header checked here; the signature
 * is verified with the key of the algorithm the header names, and only of
 * an algorithm the verifier was configured with (libjwt 1.10, used before,
 * took the algorithm from the token itself, accepted "none" without a key
 * and matched names case-insensitively, and it decoded the whole token a
 * second time through jansson: four fifths of a verification's time).
 * HS256 is HMAC-SHA256 from the key's two pad blocks hashed once per
 * verifier, RS256 is RSASSA-PKCS1-v1_5 with SHA-256 on the key parsed once. Claims are read
 * from our own strict parse of the payload (duplicate names refused).
 */
/* SHA-256's low-level interface is deprecated in OpenSSL 3, but it is the
 * one whose state copies without an allocation: the HMAC halves keyed once
 * per verifier are copied per token (EVP_MAC_CTX_dup allocated a dozen
 * times per token, most of a verification under the fuzzer's ASan). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "eb_ids.h"
#include "eb_json.h"
#include "eb_jwt.h"

/* Far above any real token; bounds libjwt's alloca() of the token length. */
#define JWT_MAX_TOKEN 16384
#define JWT_MAX_LEEWAY 60
/* Header and claims are flat objects with one level of arrays. */
#define JWT_JSON_DEPTH 8

struct eb_jwt_verifier {
	bool hs256;                /* HS256 configured: */
	SHA256_CTX hs_inner;       /* SHA-256 after the key ^ ipad block */
	SHA256_CTX hs_outer;       /* SHA-256 after the key ^ opad block */
	EVP_PKEY *rs_key;          /* NULL: RS256 not configured */
	char *issuer;
	char *audience;
	unsigned leeway;
};

/* ---- base64url (RFC 4648 section 5, no padding) -------------------------- */

static const char b64url_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of each byte in the url alphabet; B64_DOT for '.', B64_BAD
 * for every other byte. One lookup a byte: under the fuzzer's
 * instrumentation each comparison is a call, and the range tests of a
 * by-hand decoder were two fifths of a verification. */
#define B64_DOT 0x40
#define B64_BAD 0x80
static const unsigned char b64url_class[256] = {
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,  62,  64, 128,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 128, 128, 128, 128, 128, 128,
	128,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 128, 128, 128, 128,  63,
	128,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
	128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
};

/* The top bit of each byte of x that is one of lo..hi (1 <= lo <= hi
 * <= 0x7F): per byte, y + (0x80 - lo) reaches the top bit exactly when
 * y >= lo, (0x80 + hi) - y keeps it exactly when y <= hi, and neither
 * carries into the next byte; bytes >= 0x80 are out (~x). */
static uint64_t bytes_in(uint64_t x, unsigned lo, unsigned hi)
{
	const uint64_t ones = 0x0101010101010101ULL, y = x & (ones * 0x7F);

	return (y + ones * (0x80 - lo)) & (ones * (0x80 + hi) - y) & ~x &
	       (ones * 0x80);
}

/* Whether the 8 bytes at p are all of the url alphabet or '.', tested as
 * one word: no table lookup (each is a call under the fuzzer). */
static bool b64url_word(const unsigned char *p)
{
	uint64_t x, ok;

	memcpy(&x, p, 8);
	ok = bytes_in(x, 'A', 'Z') | bytes_in(x, 'a', 'z') | bytes_in(x, '0', '9') |
	     bytes_in(x, '-', '.') | bytes_in(x, '_', '_');
	return ok == 0x8080808080808080ULL;
}

/* Strict decode: url alphabet only, no padding, unused trailing bits zero
 * (so each byte string has exactly one encoding), into out, which has
 * room for n / 4 * 3 + 3 bytes; NUL-terminated. false: not base64url. */
static bool b64url_decode_into(const char *s, size_t n, unsigned char *out,
			       size_t *out_len)
{
	/* Walking pointers with constant offsets: under the fuzzer's UBSan
	 * every variable index is a pointer-overflow check, and its compare
	 * one more call. */
	const unsigned char *p = (const unsigned char *)s, *quads = p + n / 4 * 4;
	unsigned char *d = out;
	unsigned a, b, c, e;

	if (n % 4 == 1)
		return false;
	for (; p != quads; p += 4, d += 3) {
		a = b64url_class[p[0]];
		b = b64url_class[p[1]];
		c = b64url_class[p[2]];
		e = b64url_class[p[3]];
		if ((a | b | c | e) & (B64_DOT | B64_BAD))
			return false;
		d[0] = (unsigned char)(a << 2 | b >> 4);
		d[1] = (unsigned char)((b & 15) << 4 | c >> 2);
		d[2] = (unsigned char)((c & 3) << 6 | e);
	}
	if (n % 4 >= 2) {
		a = b64url_class[p[0]];
		b = b64url_class[p[1]];
		c = n % 4 == 3 ? b64url_class[p[2]] : 0;
		if ((a | b | c) & (B64_DOT | B64_BAD))
			return false;
		*d++ = (unsigned char)(a << 2 | b >> 4);
		if (n % 4 == 2) {
			if (b & 15)
				return false;
		} else {
			*d++ = (unsigned char)((b & 15) << 4 | c >> 2);
			if (c & 3)
				return false;
		}
	}
	*d = '\0';
	*out_len = (size_t)(d - out);
	return true;
}

/* Segments up to this size decode on the stack (a header, the claims of
 * any ordinary token, any signature); a malloc per segment was a fifth of
 * a verification under ASan. */
#define B64_STACK 1024

/* Decodes s into small (B64_STACK bytes) or, when longer, a malloc'd
 * buffer; *out is the one used. EB_OK, EB_ERR_AUTH (not base64url),
 * EB_ERR_NOMEM. The caller frees *out when it is not small. */
static eb_rc b64url_decode(const char *s, size_t n, unsigned char *small,
			   unsigned char **out, size_t *out_len)
{
	*out = NULL;
	if (n % 4 == 1)
		return EB_ERR_AUTH;
	*out = small;
	if (n / 4 * 3 + 3 > B64_STACK && !(*out = malloc(n / 4 * 3 + 3)))
		return EB_ERR_NOMEM;
	if (b64url_decode_into(s, n, *out, out_len))
		return EB_OK;
	if (*out != small)
		free(*out);
	*out = NULL;
	return EB_ERR_AUTH;
}

/* Appends the encoding of n bytes to dst (which has room for it). */
static size_t b64url_encode(const unsigned char *src, size_t n, char *dst)
{
	size_t o = 0;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		dst[o++] = b64url_chars[v >> 18];
		dst[o++] = b64url_chars[(v >> 12) & 63];
		dst[o++] = b64url_chars[(v >> 6) & 63];
		dst[o++] = b64url_chars[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)src[i] << 16;
		dst[o++] = b64url_chars[v >> 18];
		dst[o++] = b64url_chars[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		dst[o++] = b64url_chars[v >> 18];
		dst[o++] = b64url_chars[(v >> 12) & 63];
		dst[o++] = b64url_chars[(v >> 6) & 63];
	}
	return o;
}

static size_t b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* ---- verifier ------------------------------------------------------------- */

static eb_rc arg_err(eb_err *err, const char *msg)
{
	return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1, "%s", msg);
}

static eb_rc jwt_nomem(eb_err *err)
{
	return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, EB_CODE_INTERNAL, -1,
			  "out of memory");
}

static eb_rc refuse(eb_err *err, const char *rule, const char *msg)
{
	return eb_err_set(err, EB_ERR_AUTH, rule, NULL, EB_CODE_UNAUTHORIZED, -1,
			  "%s", msg);
}

void eb_jwt_verifier_free(eb_jwt_verifier *v)
{
	if (!v)
		return;
	OPENSSL_cleanse(&v->hs_inner, sizeof v->hs_inner);
	OPENSSL_cleanse(&v->hs_outer, sizeof v->hs_outer);
	EVP_PKEY_free(v->rs_key);
	free(v->issuer);
	free(v->audience);
	free(v);
}

/* The RSA public key in pem, or NULL when OpenSSL cannot read one. */
static EVP_PKEY *rsa_public_pem_read(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	BIO_free(bio);
	/* Leave no stale entry for the caller's next OpenSSL call to trip on. */
	ERR_clear_error();
	return k;
}

/* HMAC (RFC 2104) with SHA-256: the states after the key's ipad and opad
 * blocks, hashed once; a key longer than a block is hashed first. */
static void hmac_sha256_key(eb_jwt_verifier *v, const void *key, size_t n)
{
	unsigned char k[SHA256_CBLOCK] = { 0 }, pad[SHA256_CBLOCK];

	if (n > sizeof k)
		SHA256(key, n, k);
	else
		memcpy(k, key, n);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&v->hs_inner);
	SHA256_Update(&v->hs_inner, pad, sizeof pad);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&v->hs_outer);
	SHA256_Update(&v->hs_outer, pad, sizeof pad);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
	v->hs256 = true;
}

/* HMAC-SHA256 of in with the verifier's key into out. */
static void hmac_sha256(const eb_jwt_verifier *v, const unsigned char *in,
			size_t n, unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned char ih[SHA256_DIGEST_LENGTH];
	SHA256_CTX c = v->hs_inner;

	SHA256_Update(&c, in, n);
	SHA256_Final(ih, &c);
	c = v->hs_outer;
	SHA256_Update(&c, ih, sizeof ih);
	SHA256_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof c);
}

eb_rc eb_jwt_verifier_new(const eb_jwt_verifier_opts *opts,
			  eb_jwt_verifier **out, eb_err *err)
{
	eb_jwt_verifier *v = NULL;
	eb_rc rc = EB_OK;

	if (!opts || !out)
		return arg_err(err, "NULL opts or out");
	*out = NULL;
	if (!opts->hs256_secret && !opts->rs256_public_pem)
		return arg_err(err, "no algorithm configured");
	if (opts->hs256_secret &&
	    (opts->hs256_secret_len == 0 || opts->hs256_secret_len > INT_MAX))
		return arg_err(err, "HS256 secret must be 1 to INT_MAX bytes");
	if (opts->leeway_s > JWT_MAX_LEEWAY)
		return arg_err(err, "leeway above 60 s (AUTH-7)");
	v = calloc(1, sizeof *v);
	if (!v)
		return jwt_nomem(err);
	/* 0 is the zero-initialised default: 5 s (AUTH-7). */
	v->leeway = opts->leeway_s;
	if (opts->hs256_secret) {
		hmac_sha256_key(v, opts->hs256_secret, opts->hs256_secret_len);
	}
	if (opts->rs256_public_pem) {
		size_t pem_len = strlen(opts->rs256_public_pem);
		if (pem_len > INT_MAX ||
		    !(v->rs_key = rsa_public_pem_read(opts->rs256_public_pem, pem_len))) {
			rc = arg_err(err, "RS256 key is not a readable RSA public key PEM");
			goto out;
		}
	}
	if ((opts->issuer && !(v->issuer = strdup(opts->issuer))) ||
	    (opts->audience && !(v->audience = strdup(opts->audience)))) {
		rc = jwt_nomem(err);
		goto out;
	}
out:
	if (rc == EB_OK)
		*out = v;
	else
		eb_jwt_verifier_free(v);
	return rc;
}

void eb_claims_free(eb_claims *c)
{
	if (!c)
		return;
	free(c->sub);
	for (size_t i = 0; i < c->n_read; i++)
		free(c->read[i]);
	free(c->read);
	for (size_t i = 0; i < c->n_write; i++)
		free(c->write[i]);
	free(c->write);
	free(c);
}

/* Decodes one segment (the header or the payload) and parses it as a JSON
 * object, a tree in one block (eb_json_block_free). EB_ERR_AUTH (AUTH-2)
 * when it is not base64url of a JSON object; the messages are literals
 * (snprintf was most of a refusal). */
static eb_rc decode_json_segment(const char *s, size_t n, bool header,
				 cJSON **out, eb_err *err)
{
	unsigned char small[B64_STACK], *raw = NULL;
	size_t len = 0;
	eb_rc rc = b64url_decode(s, n, small, &raw, &len);

	if (rc == EB_ERR_NOMEM)
		return jwt_nomem(err);
	if (rc != EB_OK)
		return refuse(err, "AUTH-2", header ? "token header is not base64url"
						    : "token payload is not base64url");
	rc = eb_json_parse_block((const char *)raw, len, JWT_JSON_DEPTH, out, NULL);
	if (raw != small)
		free(raw);
	if (rc == EB_ERR_NOMEM)
		return jwt_nomem(err);
	if (rc != EB_OK || !cJSON_IsObject(*out)) {
		eb_json_block_free(*out);
		*out = NULL;
		return refuse(err, "AUTH-2", header ? "token header is not a JSON object"
						    : "token payload is not a JSON object");
	}
	return EB_OK;
}

/* AUTH-9: absent, or an array of strings. */
static eb_rc get_patterns(const cJSON *claims, const char *name, char ***out,
			  size_t *n_out, eb_err *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(claims, name);
	char msg[96];
	if (!a)
		return EB_OK;
	if (!cJSON_IsArray(a)) {
		snprintf(msg, sizeof msg, "claim %s is not an array", name);
		return refuse(err, "AUTH-9", msg);
	}
	int n = cJSON_GetArraySize(a);
	if (n == 0)
		return EB_OK;
	*out = calloc((size_t)n, sizeof **out);
	if (!*out)
		return jwt_nomem(err);
	const cJSON *e;
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e) || !e->valuestring) {
			snprintf(msg, sizeof msg, "claim %s holds a non-string", name);
			return refuse(err, "AUTH-9", msg);
		}
		(*out)[*n_out] = strdup(e->valuestring);
		if (!(*out)[*n_out])
			return jwt_nomem(err);
		(*n_out)++;
	}
	return EB_OK;
}

static bool aud_contains(const cJSON *aud, const char *want)
{
	if (cJSON_IsString(aud))
		return aud->valuestring && !strcmp(aud->valuestring, want);
	if (!cJSON_IsArray(aud))
		return false;
	const cJSON *e;
	cJSON_ArrayForEach(e, aud)
		if (cJSON_IsString(e) && e->valuestring &&
		    !strcmp(e->valuestring, want))
			return true;
	return false;
}

/* AUTH-2: sig64 (base64url, n bytes) is the signature of the signing input
 * (header.payload, in_len bytes) by the verifier's key of the header's alg
 * (rs: RS256, else HS256). EB_OK, EB_ERR_AUTH, EB_ERR_NOMEM. */
static eb_rc verify_signature(const eb_jwt_verifier *v, bool rs,
			      const char *in, size_t in_len, const char *sig64,
			      size_t n, eb_err *err)
{
	size_t sig_len = 0;
	bool ok = false;
	unsigned char small[B64_STACK], *sig = NULL;
	eb_rc rc = b64url_decode(sig64, n, small, &sig, &sig_len);

	if (rc != EB_OK)
		return rc == EB_ERR_AUTH ? refuse(err, "AUTH-2", "signature is not base64url")
					 : jwt_nomem(err);
	if (rs) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, v->rs_key) == 1 &&
		     EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)in, in_len) == 1;
		EVP_MD_CTX_free(md);
	} else {
		unsigned char mac[SHA256_DIGEST_LENGTH];
		hmac_sha256(v, (const unsigned char *)in, in_len, mac);
		ok = sig_len == sizeof mac && CRYPTO_memcmp(mac, sig, sizeof mac) == 0;
	}
	if (sig != small)
		free(sig);
	ERR_clear_error();
	return ok ? EB_OK : refuse(err, "AUTH-2", "signature does not verify");
}

/* The time and identity claims, in the order of section 9. */
static eb_rc check_claims(const eb_jwt_verifier *v, const cJSON *p,
			  uint64_t now_s, eb_claims *c, eb_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(p, "exp");
	if (!j)
		return refuse(err, "AUTH-4", "token has no exp");
	if (!eb_json_get_uint53(j, &c->exp))
		return refuse(err, "AUTH-4", "exp is not an integer");
	/* expiresAt (auth_ok) is exp in ms and must stay a safe integer
	 * (2^53 - 1): a later exp (year 287 000 and on) is that far */
	if (c->exp > EB_JWT_EXP_MAX_S)
		c->exp = EB_JWT_EXP_MAX_S;
	if (now_s > c->exp + v->leeway)
		return refuse(err, "AUTH-4", "token expired");

	j = cJSON_GetObjectItemCaseSensitive(p, "nbf");
	if (j) {
		if (!eb_json_get_uint53(j, &c->nbf))
			return refuse(err, "AUTH-5", "nbf is not an integer");
		if (c->nbf > now_s + v->leeway)
			return refuse(err, "AUTH-5", "token not yet valid (nbf)");
	}

	if (v->issuer) {
		j = cJSON_GetObjectItemCaseSensitive(p, "iss");
		if (!cJSON_IsString(j) || !j->valuestring ||
		    strcmp(j->valuestring, v->issuer))
			return refuse(err, "AUTH-6", "iss is not the configured issuer");
	}
	if (v->audience &&
	    !aud_contains(cJSON_GetObjectItemCaseSensitive(p, "aud"), v->audience))
		return refuse(err, "AUTH-6", "aud does not name the configured audience");

	j = cJSON_GetObjectItemCaseSensitive(p, "sub");
	if (!cJSON_IsString(j) || !j->valuestring || !j->valuestring[0])
		return refuse(err, "AUTH-8", "sub is missing or not a non-empty string");
	if (!(c->sub = strdup(j->valuestring)))
		return jwt_nomem(err);

	eb_rc rc = get_patterns(p, "eb_read", &c->read, &c->n_read, err);
	if (rc != EB_OK)
		return rc;
	return get_patterns(p, "eb_write", &c->write, &c->n_write, err);
}

eb_rc eb_jwt_verify(const eb_jwt_verifier *v, const char *token, size_t len,
		    uint64_t now_s, eb_claims **out, eb_err *err)
{
	cJSON *header = NULL, *payload = NULL;
	eb_claims *c = NULL;
	eb_rc rc;

	if (!v || !out || (!token && len))
		return arg_err(err, "NULL verifier, token or out");
	*out = NULL;
	if (len == 0 || len > JWT_MAX_TOKEN) {
		rc = refuse(err, "AUTH-2", len ? "token too long" : "empty token");
		goto out;
	}
	/* Three parts of the url alphabet: this also keeps NUL bytes and
	 * anything a JSON parser might read differently from reaching one.
	 * Every byte up to a third dot is checked (the dots are found first,
	 * the bytes then tested eight at a time). */
	const char *d0 = memchr(token, '.', len), *d1 = NULL, *d2 = NULL;
	if (d0)
		d1 = memchr(d0 + 1, '.', len - (size_t)(d0 + 1 - token));
	if (d1)
		d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
	size_t dot[2] = { d0 ? (size_t)(d0 - token) : 0, d1 ? (size_t)(d1 - token) : 0 };
	size_t n_dots = d2 ? 3 : d1 ? 2 : d0 ? 1 : 0;
	const unsigned char *t = (const unsigned char *)token;
	const unsigned char *t_end = t + (d2 ? (size_t)(d2 - token) : len);
	unsigned cls = 0;
	for (; t_end - t >= 8; t += 8)
		if (!b64url_word(t))
			cls = B64_BAD;
	for (; t != t_end; t++)
		cls |= b64url_class[*t];
	if (cls & B64_BAD) {
		rc = refuse(err, "AUTH-2", "token has a byte outside base64url");
		goto out;
	}
	if (n_dots != 2) {
		rc = refuse(err, "AUTH-2", "token is not three dot-separated parts");
		goto out;
	}
	if (dot[0] == 0 || dot[1] == dot[0] + 1) {
		rc = refuse(err, "AUTH-2", "token has an empty header or payload");
		goto out;
	}

	rc = decode_json_segment(token, dot[0], true, &header, err);
	if (rc != EB_OK)
		goto out;

	/* AUTH-3, before any signature check: exact names only, and only
	 * algorithms this verifier holds a key for. */
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
	bool rs;
	if (!cJSON_IsString(alg) || !alg->valuestring) {
		rc = refuse(err, "AUTH-3", "header has no string alg");
		goto out;
	}
	if (!strcmp(alg->valuestring, "HS256") && v->hs256) {
		rs = false;
	} else if (!strcmp(alg->valuestring, "RS256") && v->rs_key) {
		rs = true;
	} else {
		rc = refuse(err, "AUTH-3", "alg is none or not configured");
		goto out;
	}

	/* AUTH-2 (RFC 7515 4.1.11): crit names extensions the recipient
	 * must understand; this verifier understands none, so any crit
	 * (well-formed or not) refuses the token. */
	if (cJSON_GetObjectItemCaseSensitive(header, "crit")) {
		rc = refuse(err, "AUTH-2", "header crit names an extension not understood");
		goto out;
	}

	/* Checked after the alg so an unsigned "none" token reads as AUTH-3. */
	if (dot[1] + 1 == len) {
		rc = refuse(err, "AUTH-2", "token has no signature");
		goto out;
	}

	rc = decode_json_segment(token + dot[0] + 1, dot[1] - dot[0] - 1,
				 false, &payload, err);
	if (rc != EB_OK)
		goto out;

	rc = verify_signature(v, rs, token, dot[1], token + dot[1] + 1,
			      len - dot[1] - 1, err);
	if (rc != EB_OK)
		goto out;

	c = calloc(1, sizeof *c);
	if (!c) {
		rc = jwt_nomem(err);
		goto out;
	}
	rc = check_claims(v, payload, now_s, c, err);
out:
	eb_json_block_free(header);
	eb_json_block_free(payload);
	if (rc == EB_OK)
		*out = c;
	else
		eb_claims_free(c);
	return rc;
}

/* Whether one of the n patterns grants store_id. */
static bool any_pattern_matches(char *const *pat, size_t n, const char *store_id)
{
	for (size_t i = 0; i < n; i++)
		if (eb_pattern_match(pat[i], store_id))
			return true;
	return false;
}

bool eb_claims_can_write(const eb_claims *c, const char *store_id)
{
	if (!c || !store_id)
		return false;
	return any_pattern_matches(c->write, c->n_write, store_id);
}

bool eb_claims_can_read(const eb_claims *c, const char *store_id)
{
	if (!c || !store_id)
		return false;
	if (any_pattern_matches(c->read, c->n_read, store_id))
		return true;
	/* AUTH-10: write implies read. */
	return eb_claims_can_write(c, store_id);
}

/* ---- minting -------------------------------------------------------------- */

static bool add_patterns(cJSON *o, const char *name, const char *const *p,
			 size_t n)
{
	if (!p && n == 0)
		return true;
	cJSON *a = cJSON_AddArrayToObject(o, name);
	if (!a)
		return false;
	for (size_t i = 0; i < n; i++) {
		cJSON *s = cJSON_CreateString(p[i]);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return true;
}

/* Claims of o as canonical JSON (integers printed without exponent). */
static char *mint_payload(const eb_jwt_mint_opts *o)
{
	char *s = NULL;
	cJSON *p = cJSON_CreateObject();
	if (!p)
		return NULL;
	if ((o->sub && !cJSON_AddStringToObject(p, "sub", o->sub)) ||
	    (o->has_exp && !cJSON_AddNumberToObject(p, "exp", (double)o->exp)) ||
	    (o->has_nbf && !cJSON_AddNumberToObject(p, "nbf", (double)o->nbf)) ||
	    (o->has_iat && !cJSON_AddNumberToObject(p, "iat", (double)o->iat)) ||
	    (o->iss && !cJSON_AddStringToObject(p, "iss", o->iss)) ||
	    (o->jti && !cJSON_AddStringToObject(p, "jti", o->jti)) ||
	    (o->aud && !o->n_aud_list && !cJSON_AddStringToObject(p, "aud", o->aud)) ||
	    (o->n_aud_list && !add_patterns(p, "aud", o->aud_list, o->n_aud_list)) ||
	    !add_patterns(p, "eb_read", o->read, o->n_read) ||
	    !add_patterns(p, "eb_write", o->write, o->n_write))
		goto out;
	if (eb_json_canonical(p, &s, NULL) != EB_OK)
		s = NULL;
out:
	cJSON_Delete(p);
	return s;
}

static char *mint_header(const char *alg)
{
	char *s = NULL;
	cJSON *h = cJSON_CreateObject();
	if (!h || !cJSON_AddStringToObject(h, "alg", alg) ||
	    !cJSON_AddStringToObject(h, "typ", "JWT") ||
	    eb_json_canonical(h, &s, NULL) != EB_OK)
		s = NULL;
	cJSON_Delete(h);
	return s;
}

/* RS256 signature of data with a private key PEM. EB_ERR_ARG for a bad key. */
static eb_rc rs256_sign(const char *pem, size_t pem_len, const char *data,
			size_t n, unsigned char **sig, size_t *sig_len)
{
	eb_rc rc = EB_ERR_ARG;
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;

	*sig = NULL;
	if (pem_len > INT_MAX)
		goto out;
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (!bio) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		goto out;
	md = EVP_MD_CTX_new();
	if (!md) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(md, NULL, sig_len, (const unsigned char *)data, n) != 1)
		goto out;
	*sig = malloc(*sig_len);
	if (!*sig) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(md, *sig, sig_len, (const unsigned char *)data, n) != 1) {
		free(*sig);
		*sig = NULL;
		goto out;
	}
	rc = EB_OK;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	BIO_free(bio);
	if (rc != EB_OK)
		ERR_clear_error();
	return rc;
}

eb_rc eb_jwt_mint(const eb_jwt_mint_opts *o, char **out, eb_err *err)
{
	char *header = NULL, *payload = NULL, *tok = NULL;
	unsigned char *sig = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t sig_len = 0;
	eb_rc rc = EB_OK;
	const char *alg_name;

	if (!o || !out)
		return arg_err(err, "NULL opts or out");
	*out = NULL;
	switch (o->alg) {
	case EB_JWT_HS256:
		alg_name = "HS256";
		if (!o->key || o->key_len == 0 || o->key_len > INT_MAX)
			return arg_err(err, "HS256 needs a secret of 1 to INT_MAX bytes");
		break;
	case EB_JWT_RS256:
		alg_name = "RS256";
		if (!o->key)
			return arg_err(err, "RS256 needs a private key PEM");
		break;
	case EB_JWT_NONE:
		alg_name = "none";
		break;
	default:
		return arg_err(err, "unknown alg");
	}
	header = mint_header(o->header_alg_override ? o->header_alg_override
						    : alg_name);
	payload = mint_payload(o);
	if (!header || !payload) {
		rc = jwt_nomem(err);
		goto out;
	}
	size_t hl = strlen(header), pl = strlen(payload);
	size_t signed_len = b64url_len(hl) + 1 + b64url_len(pl);
	/* Room for the largest signature (RSA 16384 bits) and the NUL. */
	tok = malloc(signed_len + 1 + b64url_len(2048) + 1);
	if (!tok) {
		rc = jwt_nomem(err);
		goto out;
	}
	size_t n = b64url_encode((const unsigned char *)header, hl, tok);
	tok[n++] = '.';
	n += b64url_encode((const unsigned char *)payload, pl, tok + n);
	tok[n] = '\0';

	const unsigned char *s = NULL;
	if (o->alg == EB_JWT_HS256) {
		unsigned int mac_len = 0;
		if (!HMAC(EVP_sha256(), o->key, (int)o->key_len,
			  (const unsigned char *)tok, n, mac, &mac_len)) {
			rc = eb_err_set(err, EB_ERR_INTERNAL, NULL, NULL,
					EB_CODE_INTERNAL, -1, "HMAC failed");
			goto out;
		}
		s = mac;
		sig_len = mac_len;
	} else if (o->alg == EB_JWT_RS256) {
		size_t kl = o->key_len ? o->key_len : strlen(o->key);
		rc = rs256_sign(o->key, kl, tok, n, &sig, &sig_len);
		if (rc == EB_ERR_NOMEM) {
			rc = jwt_nomem(err);
			goto out;
		}
		if (rc != EB_OK || sig_len > 2048) {
			rc = arg_err(err, "RS256 key is not a usable RSA private key PEM");
			goto out;
		}
		s = sig;
	}
	tok[n++] = '.';
	if (s)
		n += b64url_encode(s, sig_len, tok + n);
	tok[n] = '\0';
out:
	OPENSSL_cleanse(mac, sizeof mac);
	free(sig);
	free(header);
	free(payload);
	if (rc == EB_OK)
		*out = tok;
	else
		free(tok);
	return rc;
}
