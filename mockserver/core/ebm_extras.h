/*
 * ebm_extras.h — the "extras" scripted fault's decoration: every JSON object
 * ebmock sends gains a member a client must ignore (GEN-3, GEN-7). Used by
 * the HTTP handler and the WebSocket sessions; a leaf module (JSON in,
 * JSON out).
 */
#ifndef EBM_EXTRAS_H
#define EBM_EXTRAS_H

#include <stddef.h>

/* The unknown member the extras fault adds to every object (GEN-3). */
#define EBM_EXTRA_MEMBER "x-ext"

/* json (len bytes) with "x-ext":{"a":[1]} added to every object except
 * change values (members named "value", the application's data) and
 * objects that have it already. malloc'd (caller frees); NULL when json
 * does not parse or memory ran out (then send it unchanged). */
char *ebm_extras_decorate(const char *json, size_t len);

#endif
