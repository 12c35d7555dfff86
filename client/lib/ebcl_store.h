/*
 * ebcl_store.h — one open store of libebclient: the changes read from the
 * server (deduplicated by id, IDEM-1), the queue of local changes not yet
 * acknowledged (in order), the last known version, and the merged state
 * (section 6 through eb_merge). Internal to libebclient and its unit test;
 * no network, no clock.
 */
#ifndef EBCL_STORE_H
#define EBCL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "eb_msg.h"

/* Caps on what the network and the application can make a store hold. */
#define EBCL_MAX_SEEN  2000000u   /* changes read from the server */
#define EBCL_MAX_QUEUE 100000u    /* queued local changes */

typedef struct ebcl_store {
	char *id;
	uint64_t known;           /* last known version (CLIENT-QUEUE-7) */
	eb_change *seen;          /* read from the server, arrival order */
	size_t n_seen, cap_seen;
	size_t *set;              /* open addressing: index + 1 into seen */
	size_t set_cap;
	eb_change *queue;         /* local changes, oldest first */
	size_t n_queue, cap_queue;
} ebcl_store;

/* A new empty store named id (copied). NULL on no memory. */
ebcl_store *ebcl_store_new(const char *id);

/* Frees st and its changes. NULL no-op. */
void ebcl_store_free(ebcl_store *st);

/* Forgets every change read (a read from version 0 follows): known 0. The
 * queue stays. */
void ebcl_store_reset(ebcl_store *st);

/* Adds a copy of c to the changes read unless one with its id is there.
 * 1 added, 0 duplicate, -1 no memory or over EBCL_MAX_SEEN. */
int ebcl_store_add_seen(ebcl_store *st, const eb_change *c);

/* True when a change with this id was read. */
bool ebcl_store_has_seen(const ebcl_store *st, const char *id);

/* Appends *c to the queue, taking ownership of its members (c is zeroed).
 * 0, or -1 when the queue is full or on no memory (c untouched). */
int ebcl_store_enqueue(ebcl_store *st, eb_change *c);

/* Removes queue entry i (its members freed), keeping the order. */
void ebcl_store_dequeue_at(ebcl_store *st, size_t i);

/* The first n queued changes were committed: they move to the changes
 * read (deduplicated), in order. */
void ebcl_store_acked(ebcl_store *st, size_t n);

/* The merged state of the changes read and the queue: in stamp order
 * (MERGE-1) or, with by_arrival (a defect), in the order they arrived.
 * *out a new object (cJSON_Delete). 0 or -1 (no memory). */
int ebcl_store_state(const ebcl_store *st, bool by_arrival, cJSON **out);

#endif
