/*
 * eb_jwt.h — JWT mint and verify (PROTOCOL.md section 9) over OpenSSL.
 * The signature is checked only with the key of an algorithm the verifier
 * was configured with, named exactly in the header, so "none" and
 * unconfigured algorithms are refused.
 */
#ifndef EB_JWT_H
#define EB_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eb_error.h"

typedef struct eb_jwt_verifier eb_jwt_verifier;

/* AUTH-7's default leeway, for programs to use when not told otherwise. */
#define EB_JWT_DEFAULT_LEEWAY_S 5

typedef struct eb_jwt_verifier_opts {
	const char *hs256_secret;      /* NULL: HS256 not configured */
	size_t hs256_secret_len;
	const char *rs256_public_pem;  /* NULL: RS256 not configured */
	const char *issuer;            /* NULL: iss not checked */
	const char *audience;          /* NULL: aud not checked */
	unsigned leeway_s;             /* seconds, <= 60 (AUTH-7); 0 means none; servers default to EB_JWT_DEFAULT_LEEWAY_S */
} eb_jwt_verifier_opts;

/* Creates a verifier (copies everything in opts). EB_ERR_ARG when no
 * algorithm is configured, leeway > 60 or the PEM is unreadable. Caller frees
 * with eb_jwt_verifier_free. */
eb_rc eb_jwt_verifier_new(const eb_jwt_verifier_opts *opts,
			  eb_jwt_verifier **out, eb_err *err);

void eb_jwt_verifier_free(eb_jwt_verifier *v);

/* The latest exp a verified token reports: later values are clamped to it,
 * so exp * 1000 (expiresAt, ms) stays at most 2^53 - 1. */
#define EB_JWT_EXP_MAX_S 9007199254740ULL

typedef struct eb_claims {
	char *sub;            /* owned, non-empty */
	uint64_t exp;         /* seconds, at most EB_JWT_EXP_MAX_S */
	uint64_t nbf;         /* seconds; 0 when absent */
	char **read;  size_t n_read;   /* owned patterns of eb_read */
	char **write; size_t n_write;  /* owned patterns of eb_write */
} eb_claims;

/* Verifies token (len bytes) at time now_s: structure, alg allowed (AUTH-3),
 * signature (AUTH-2), exp (AUTH-4), nbf (AUTH-5), iss/aud (AUTH-6), sub
 * (AUTH-8), permission claims (AUTH-9, wrong types refused). EB_ERR_AUTH with
 * the rule id on refusal. On EB_OK *out is freed with eb_claims_free. */
eb_rc eb_jwt_verify(const eb_jwt_verifier *v, const char *token, size_t len,
		    uint64_t now_s, eb_claims **out, eb_err *err);

void eb_claims_free(eb_claims *c);

/* AUTH-9/10: read allowed when a read or write pattern matches. */
bool eb_claims_can_read(const eb_claims *c, const char *store_id);
/* AUTH-9: write allowed when a write pattern matches. */
bool eb_claims_can_write(const eb_claims *c, const char *store_id);

typedef enum eb_jwt_alg {
	EB_JWT_HS256 = 1,
	EB_JWT_RS256,
	EB_JWT_NONE        /* unsigned token, for negative tests only */
} eb_jwt_alg;

/* Everything a test or client needs to mint tokens, good and bad. */
typedef struct eb_jwt_mint_opts {
	eb_jwt_alg alg;
	const char *key;       /* HS256: secret; RS256: private key PEM; NONE: unused */
	size_t key_len;
	const char *sub;       /* NULL: no sub */
	bool has_exp;  int64_t exp;   /* seconds */
	bool has_nbf;  int64_t nbf;
	bool has_iat;  int64_t iat;
	const char *iss;       /* NULL: none */
	const char *aud;       /* NULL: none */
	const char *const *aud_list; size_t n_aud_list; /* n > 0: aud as this array (aud ignored) */
	const char *const *read;  size_t n_read;   /* eb_read; NULL with 0: absent */
	const char *const *write; size_t n_write;  /* eb_write */
	const char *jti;       /* NULL: none (ebmock's revoke fault refuses by jti) */
	const char *header_alg_override; /* non-NULL: written as "alg" whatever was used to sign */
} eb_jwt_mint_opts;

/* Mints a compact JWS. *out malloc'd, caller frees. EB_ERR_ARG for a bad key. */
eb_rc eb_jwt_mint(const eb_jwt_mint_opts *o, char **out, eb_err *err);

#endif
