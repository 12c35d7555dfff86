/*
 * ebm_metrics.h — what the ebmock core counts: the /metrics counters (HTTP
 * exchanges by route and status, connections, refusals) and the memory
 * budget shared by every connection (hostile clients). Plain bookkeeping
 * on the server's fields: it calls nothing else in the core.
 */
#ifndef EBM_METRICS_H
#define EBM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ebm_server ebm_server;

/* Route labels for metrics and logs. */
typedef enum ebm_route {
	EBM_R_OTHER = 0, EBM_R_SYNC, EBM_R_CHANGES, EBM_R_NOTIFICATIONS,
	EBM_R_LIMITS, EBM_R_HEALTHZ, EBM_R_METRICS, EBM_R_ADMIN, EBM_R__COUNT
} ebm_route;

/* Why a client was refused or cut off, one counter each on /metrics as
 * ebmock_refusals_total{reason="..."}. */
typedef enum ebm_refusal {
	EBM_REFUSE_MEMORY = 0,    /* 503: the memory budget is spent */
	EBM_REFUSE_BODY_TIMEOUT,  /* body not complete within body_timeout_ms */
	EBM_REFUSE_FD_LIMIT,      /* accepting paused at the open-file limit */
	EBM_REFUSE_WS_PAUSED,     /* a socket's reads paused (replies at the bound) */
	EBM_REFUSE_WS_STALLED,    /* a socket dropped: replies stayed at the bound */
	EBM_REFUSE__COUNT
} ebm_refusal;

/* ---- memory budget (cfg.mem_budget_bytes) ---------------------------------- */

/* Charges n bytes (a request body growing, a response held, a queued
 * reply) to the server's memory budget: true when they fit and were
 * charged, false (nothing charged) when the budget would be exceeded. */
bool ebm_mem_take(ebm_server *srv, size_t n);
/* Charges n bytes even over the budget (output already decided, e.g. the
 * answer of a commit); ebm_mem_spent then refuses new work. */
void ebm_mem_force(ebm_server *srv, size_t n);
/* Gives back n bytes charged by ebm_mem_take or ebm_mem_force (never below
 * zero). */
void ebm_mem_give(ebm_server *srv, size_t n);
/* true when the budget is used up (new bodies and reads are refused). */
bool ebm_mem_spent(const ebm_server *srv);

/* ---- counters -------------------------------------------------------------- */

/* Counts one refusal of kind why; a value out of range is ignored. */
void ebm_metrics_refusal(ebm_server *srv, ebm_refusal why);
/* Counts one finished HTTP exchange for /metrics (the first 128 distinct
 * route/status pairs get a counter each; the total counts every one). */
void ebm_metrics_http(ebm_server *srv, ebm_route route, int status);
/* Open TCP connections (glue adds +1/-1). */
void ebm_metrics_conn(ebm_server *srv, int delta);

#endif
