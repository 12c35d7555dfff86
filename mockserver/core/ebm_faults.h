/*
 * ebm_faults.h — admin side of the scripted faults (ebm_faults.c): state as
 * JSON, the strict POST parser with its actions, and the event-log lines
 * (the extras decoration is ebm_extras.h).
 * Internal to the ebmock core, like ebm_int.h.
 */
#ifndef EBM_FAULTS_H
#define EBM_FAULTS_H

#include <stddef.h>
#include "ebm_core.h"   /* ebm_server */

/* The whole fault state as a JSON object (docs/EBMOCK.md), malloc'd; NULL
 * when out of memory. Times are what is left of them. */
char *ebm_faults_state_json(const ebm_server *srv);

/* Applies a POST /admin/faults body: every field is checked before anything
 * changes; then the state is set and the actions run (dropStore,
 * storeVersion, dropWs "now", closeWs, revoke), each logged. Returns 200, or
 * 400/500 with a message in msg (nothing applied on 400). */
int ebm_faults_admin_post(ebm_server *srv, const char *body, size_t body_len,
			  char *msg, size_t msg_len);

/* Event-log lines: {"ev":"fault","faults":{state}}; and for DELETE an
 * "admin" line with action "clear" followed by the state. */
void ebm_faults_log_state(ebm_server *srv);
void ebm_faults_log_clear(ebm_server *srv);

#endif
