/*
 * ebcl_db.h — the persistent offline queue of libebclient (CLIENT-QUEUE-8):
 * queued changes of every store in one SQLite file, in the order they were
 * made, so that a change queued before a restart is pushed after it with
 * its original id. Internal to libebclient.
 */
#ifndef EBCL_DB_H
#define EBCL_DB_H

#include <stddef.h>
#include "eb_msg.h"

typedef struct ebcl_db ebcl_db;

/* Opens (creating) the queue file at path. NULL with err on failure. */
ebcl_db *ebcl_db_open(const char *path, char *err, size_t errlen);

/* Closes db. NULL no-op. */
void ebcl_db_close(ebcl_db *db);

/* Appends change c of store to the file. 0 or -1. */
int ebcl_db_add(ebcl_db *db, const char *store, const eb_change *c);

/* Removes the change with id of store. 0 or -1. */
int ebcl_db_remove(ebcl_db *db, const char *store, const char *id);

/* Renames a queued change (the queue-new-ids defect). 0 or -1. */
int ebcl_db_rename(ebcl_db *db, const char *store, const char *old_id,
		   const char *new_id);

/* Loads the queued changes of store, oldest first, at most max: *out an
 * array of *n changes the caller clears (eb_change_clear) and frees. Rows
 * that no longer parse are skipped. 0 or -1. */
int ebcl_db_load(ebcl_db *db, const char *store, size_t max, eb_change **out,
		 size_t *n);

#endif
