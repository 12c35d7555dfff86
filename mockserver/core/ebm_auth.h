/*
 * ebm_auth.h — token checks of ebmock (ebm_auth.c): eb_jwt_verify with the
 * defects that loosen it and the revoke fault that refuses by jti. Loop
 * thread only, like the rest of the core.
 */
#ifndef EBM_AUTH_H
#define EBM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include "ebm_core.h"   /* ebm_server, eb_rc, eb_err */
#include "eb_jwt.h"     /* eb_claims */

/* Verifies token (len bytes) with the server's verifier and the defects
 * that loosen it (alg-none-accepted, exp-ignored, nbf-ignored,
 * issuer-ignored, aud-array-unchecked), and refuses a token whose jti the
 * revoke fault lists (err rule "revoked"). EB_OK with *out (the caller
 * frees it with eb_claims_free); otherwise *out is NULL,
 * auth_failures_total is counted and the result is EB_ERR_AUTH (rule and
 * message in err; also without a verifier, i.e. with no_auth) or
 * EB_ERR_NOMEM. */
eb_rc ebm_auth_verify(ebm_server *srv, const char *token, size_t len,
		      eb_claims **out, eb_err *err);

/* The jti claim of a token (not verified here: call after ebm_auth_verify),
 * malloc'd (the caller frees it); NULL when absent, not a string, or out of
 * memory. */
char *ebm_auth_jti(const char *token, size_t len);

/* true when jti is listed by the revoke fault now; false for a NULL jti. */
bool ebm_auth_jti_revoked(const ebm_server *srv, const char *jti);

#endif
