/*
 * ebm_pg.h — the jobs of the PostgreSQL backend (ebm_pg.c), as the protocol
 * logic uses them; opening the backend and ebm_server_poll are the glue's,
 * in ebm_backend.h.
 *
 * A job is submitted from the loop thread, run by a database thread, and
 * applied to the memory copy by ebm_server_poll in the loop thread, which
 * then marks it done and wakes whoever waits (ebm_job_on_done, else the
 * request through http_wake). The submitter owns the job until it calls
 * ebm_job_release; every function here is for the loop thread only.
 */
#ifndef EBM_PG_H
#define EBM_PG_H

#include <stddef.h>
#include <stdint.h>
#include "ebm_core.h"   /* ebm_server, eb_change */

typedef struct ebm_job ebm_job;

typedef enum ebm_job_status {
	EBM_JOB_RUNNING = 0,
	EBM_JOB_OK,          /* refresh read / commit committed */
	EBM_JOB_CONFLICT,    /* commit: the store moved on (or the id is taken);
	                      * the newer changes were read and applied */
	EBM_JOB_FAILED       /* database unreachable or error: 503 */
} ebm_job_status;

/* Submits a read of the changes of store after version `after`; they reach
 * the memory copy (and its subscribers here are notified) when
 * ebm_server_poll applies the job. NULL without a PostgreSQL backend or
 * when out of memory (nothing submitted). */
ebm_job *ebm_pg_refresh(ebm_server *srv, const char *store, uint64_t after);

/* Submits the commit of batch (n changes, versions set; new_version the
 * store's version after it) if the store is still at expected. The members
 * of batch are moved into the job (the array stays the caller's, to clear
 * and free as usual); subject (the pusher, may be NULL) is copied. NULL
 * without a PostgreSQL backend or when out of memory: nothing submitted,
 * and the entries already moved are freed (zeroed in batch). */
ebm_job *ebm_pg_commit(ebm_server *srv, const char *store, uint64_t expected,
		       eb_change *batch, size_t n, uint64_t new_version,
		       const char *subject);

/* EBM_JOB_RUNNING until ebm_server_poll applied the job, then its outcome.
 * Once done, msg (cap bytes, may be NULL) gets the job's message ("database
 * error" when it has none; meaningful for EBM_JOB_FAILED). */
ebm_job_status ebm_job_status_of(const ebm_job *j, char *msg, size_t cap);

/* The glue's handle passed to http_wake when the job is done. NULL j is a
 * no-op. */
void ebm_job_set_user(ebm_job *j, void *user);

/* The submitter no longer needs j: freed now when done, else by
 * ebm_server_poll when it is (its result still applied to the memory copy,
 * nobody woken). j must not be used afterwards. NULL is a no-op. */
void ebm_job_release(ebm_job *j);

/* Who waits for the job besides a request: ebm_server_poll calls fn(arg)
 * when it is done, instead of http_wake. The storage side thereby never
 * names the sessions above it (a subscribe parked in ebm_ws.c waits so).
 * arg is borrowed: it must outlive the job or release it first. NULL j is
 * a no-op. */
typedef void (*ebm_job_done_fn)(void *arg);
void ebm_job_on_done(ebm_job *j, ebm_job_done_fn fn, void *arg);

#endif
