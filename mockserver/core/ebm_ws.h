/*
 * ebm_ws.h — what the rest of the core asks of the WebSocket sessions
 * (ebm_ws.c): the fan-out of a commit and the admin actions on the open
 * sockets. The glue's side of the sessions is in ebm_core.h. Every function
 * here only marks sessions (pending notification, close code, drop) and
 * calls the glue's wake for each; nothing is written before the glue asks
 * ebm_ws_next_out. Loop thread only.
 */
#ifndef EBM_WS_H
#define EBM_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ebm_core.h"   /* ebm_server */

/* defined in ebm_int.h */
typedef struct ebm_store ebm_store;

/* The version of st moved on from old_version (a commit, or changes read
 * from the shared database): every subscriber of st gets a pending
 * store_changed, built with the store's version when its socket is
 * writable (coalesced within limits.coalesce_ms). pusher_subject (may be
 * NULL) is the subject whose push it was (the no-notify-pusher defect
 * skips its sockets); only_duplicates: the push stored nothing new (the
 * notify-duplicate defect notifies anyway). A no-op for a NULL st or under
 * the noNotify fault. ebm_server_new installs it as srv->notify_commit, the
 * way the storage modules reach it. */
void ebm_ws_notify_commit(ebm_server *srv, ebm_store *st, uint64_t old_version,
		       const char *pusher_subject, bool only_duplicates);

/* The fault state changed: every session is woken to re-read its timers
 * and output; drop_now (admin dropWs "now") also marks each one not
 * closing already to be dropped without a close frame. */
void ebm_ws_faults_changed(ebm_server *srv, bool drop_now);

/* Admin closeWs: every socket not closing or dropped already is closed with
 * code. Returns how many. */
size_t ebm_ws_close_all(ebm_server *srv, int code);

/* Admin revoke: the sockets whose token's jti the revoke fault lists now are
 * closed with 4401. Returns how many. */
size_t ebm_ws_close_revoked(ebm_server *srv);

/* The store st was dropped or re-versioned: its subscribers forget what
 * they were told, so the next commit notifies them again. Nobody is woken
 * (nothing is pending because of it). */
void ebm_ws_store_reset(ebm_server *srv, ebm_store *st);

#endif
