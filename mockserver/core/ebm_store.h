/*
 * ebm_store.h — the stores of ebmock (ebm_store.c): the in-memory copy every
 * backend serves from (an append-only log and a change-id index per store,
 * in a hash table of the server), and the local backends behind it (memory,
 * SQLite with --data). Loop thread only. A store is owned by the server: a
 * pointer from here stays valid until ebm_store_maybe_release,
 * ebm_store_drop or ebm_store_close_all frees it.
 */
#ifndef EBM_STORE_H
#define EBM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ebm_core.h"   /* ebm_server, eb_change, eb_rc, eb_err */

/* defined in ebm_int.h, which users of the fields include */
typedef struct ebm_store ebm_store;
typedef struct ebm_backend_ops ebm_backend_ops;

/* ---- lookup and lifetime of the memory copy ------------------------------ */

/* The store id in memory, NULL when there is none. Never creates one
 * (STORE-3: reading never creates a store). */
ebm_store *ebm_store_find(ebm_server *srv, const char *id);

/* The store id, created empty in memory (no database row) when missing;
 * NULL when out of memory. A store created for a request that then fails,
 * or only to hold subscribers, must be handed to ebm_store_maybe_release. */
ebm_store *ebm_store_get(ebm_server *srv, const char *id);

/* Frees st when nothing keeps it: no subscriber, no change, version 0 and no
 * row in the database. Then st must not be used again. NULL is a no-op. */
void ebm_store_maybe_release(ebm_server *srv, ebm_store *st);

/* Index in st->changes of the change with this id (the newest when a defect
 * stored one twice), or -1. Changes appended with index false
 * (ebm_store_append) are not found. */
long ebm_store_lookup(const ebm_store *st, const char *id);

/* First index in st->changes with version > v (st->n when none). */
size_t ebm_store_first_after(const ebm_store *st, uint64_t v);

/* ---- committing ----------------------------------------------------------- */

/* Local backends only: appends the n changes of batch with the versions in
 * batch[i].version, then sets the store version to new_version, durably
 * when a database is open (one transaction, made before the memory copy
 * changes). On EB_OK the members of batch are moved out (the array stays
 * the caller's) and changes_stored_total grows by n. Errors, message in
 * err: EB_ERR_ARG on a remote backend (commits go through ebm_pg_commit),
 * EB_ERR_IO (database; nothing written), EB_ERR_NOMEM (batch untouched;
 * when only the memory copy could not grow, the database has the batch and
 * the next start reads it). */
eb_rc ebm_store_commit(ebm_server *srv, ebm_store *st, eb_change *batch,
		       size_t n, uint64_t new_version, eb_err *err);

/* For a backend that holds the changes already (ebm_pg.c: loaded,
 * refreshed or committed by it): appends them in memory only and sets the
 * store version to new_version; batch[i].version must be set. EB_OK (the
 * members of batch moved out) or EB_ERR_NOMEM (nothing appended, batch
 * untouched). index false: the ids are not entered in the change-id index
 * (the cluster-idempotency-per-node defect). changes_stored_total is the
 * caller's to count. */
eb_rc ebm_store_append(ebm_store *st, eb_change *batch, size_t n,
		       uint64_t new_version, bool index);

/* ---- the JSON a backend keeps for a change -------------------------------- */

/* The JSON of change c without its version (a column of its own), malloc'd
 * (the caller frees it); NULL when out of memory. c is not changed. */
char *ebm_store_change_json(const eb_change *c);

/* A stored change back from that JSON (js, len bytes), with version set.
 * EB_OK (free *c with eb_change_clear), EB_ERR_SHAPE (not JSON or not a
 * change) or EB_ERR_NOMEM; on an error *c holds nothing. */
eb_rc ebm_store_change_from_json(const char *js, size_t len, uint64_t version,
				 eb_change *c);

/* ---- backends ----------------------------------------------------------- */

/* The backend of a server without --data or --backend (nothing durable).
 * Static, never NULL. */
const ebm_backend_ops *ebm_store_memory_ops(void);

/* Opens (creates) the SQLite file path in WAL mode with synchronous=FULL,
 * creates the tables when missing, makes SQLite the backend of srv and loads
 * every store into memory. Call once, before serving. EB_ERR_IO (the file
 * cannot be opened or read, or a row is corrupt) or EB_ERR_NOMEM, message in
 * err; srv is then only fit for ebm_server_free. */
eb_rc ebm_store_open_db(ebm_server *srv, const char *path, eb_err *err);

/* Frees every store, closes the backend (SQLite: the WAL folded into the
 * file; PostgreSQL: its threads stopped) and leaves srv on the memory
 * backend with no store. Sessions hold pointers into the stores: free them
 * first. */
void ebm_store_close_all(ebm_server *srv);

/* ---- admin (scripted faults) -------------------------------------------- */

/* Forgets store id, in the database first, then in memory (its changes
 * freed, version 0; the store itself freed unless subscribers hold it).
 * EB_OK also when there is no such store. Errors from the backend, message
 * in err: EB_ERR_IO (SQLite; nothing changed), EB_ERR_ARG (PostgreSQL: not
 * supported). Subscribers are not told: the caller calls
 * ebm_ws_store_reset (the store does not call into the sessions). */
eb_rc ebm_store_drop(ebm_server *srv, const char *id, eb_err *err);

/* Gives store id, which must have no change, the version v, durably with a
 * database; the store is created when missing (and freed again when
 * nothing keeps it, see ebm_store_maybe_release). EB_ERR_ARG (message in
 * err) when the store has changes, v is above 2^53-2, or the backend is
 * PostgreSQL; EB_ERR_IO for SQLite; EB_ERR_NOMEM. Subscribers are not told,
 * as for ebm_store_drop. */
eb_rc ebm_store_set_version(ebm_server *srv, const char *id, uint64_t v,
			    eb_err *err);

#endif
