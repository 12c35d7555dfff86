/*
 * ebm_faultspec.h — the scripted fault state of ebmock (docs/EBMOCK.md)
 * and the parser of one `--fault SPEC`. The admin side (POST
 * /admin/faults, the state as JSON) is ebm_faults.h; this part is pure and
 * depends on nothing else in the core.
 */
#ifndef EBM_FAULTSPEC_H
#define EBM_FAULTSPEC_H

#include <stdbool.h>
#include <stdint.h>
#include "eb_error.h"

#define EBM_REVOKE_MAX 16        /* jti values in the revoke fault */
#define EBM_REVOKE_JTI_MAX 128   /* bytes of one jti */

/* The fault state; times are monotonic milliseconds (0: off). */
typedef struct ebm_faults {
	bool refuse_ws;          /* upgrades answered 503 */
	bool stall;              /* accept, never answer /api HTTP or WS */
	bool no_notify;          /* commits notify nobody */
	uint32_t drop_ws_after_s;/* drop each socket N s after max(open, set) */
	uint64_t drop_set_ms;    /* when drop_ws_after_s was set */
	uint64_t http503_until_ms;
	uint64_t http429_until_ms;
	uint32_t delay_ms;       /* every /api HTTP response delayed */
	/* for client tests (docs/EBMOCK.md, scripted faults) */
	bool silent_ws;          /* sockets send nothing and ignore input */
	bool extras;             /* unknown members and message types */
	uint64_t http_reset_until_ms; /* /api: connection closed, no answer */
	uint32_t retry_after_s;  /* Retry-After of the 503/429 faults, 0: left */
	uint32_t page_max;       /* sync/changes pages at most this long, 0 off */
	uint32_t n_revoke;       /* tokens with a listed jti are refused */
	char revoke[EBM_REVOKE_MAX][EBM_REVOKE_JTI_MAX + 1];
} ebm_faults;

/* Parses one --fault SPEC ("refuse-ws", "drop-ws-after=N", "stall",
 * "http-503=S", "http-429=S", "delay-ms=N", "no-notify", "silent-ws",
 * "extras", "http-reset-ms=N", "http-503-ms=N", "http-429-ms=N",
 * "retry-after=S", "page-max=N") into f, with now_ms
 * the monotonic clock (the S/N of the timed faults count from it). Only
 * the fields the spec names change, and only on success: EB_OK, or
 * EB_ERR_ARG with a message naming the spec and listing the valid ones in
 * err (f untouched). Numbers are decimal, no sign; S and drop-ws-after at
 * most 86400, delay-ms at most 600000, the *-ms faults at most 86400000,
 * page-max at most 1000000; 0 switches a timed fault off. */
eb_rc ebm_fault_parse(const char *spec, uint64_t now_ms, ebm_faults *f,
		      eb_err *err);

#endif
