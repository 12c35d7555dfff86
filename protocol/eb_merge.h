/*
 * eb_merge.h — the last-writer-wins merge of PROTOCOL.md section 6: the
 * reference oracle every client's state must equal.
 */
#ifndef EB_MERGE_H
#define EB_MERGE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "eb_error.h"
#include "eb_msg.h"

/* Stamp order (MERGE-1, MERGE-5): timestamp, then id bytewise, then canonical
 * JSON of the change. <0, 0, >0 like strcmp. */
int eb_change_stamp_cmp(const eb_change *a, const eb_change *b);

/* Computes the state of a set of changes (any order; duplicates allowed):
 * applies them to {} in stamp order per MERGE-2/MERGE-3. On EB_OK *state is
 * a new object the caller frees with cJSON_Delete. EB_ERR_NOMEM, EB_ERR_ARG. */
eb_rc eb_merge_state(const eb_change *changes, size_t n, cJSON **state,
		     eb_err *err);

/* Applies one change to state in place (no ordering: the caller applies in
 * stamp order). Used by clients that fold changes incrementally. */
eb_rc eb_merge_apply(cJSON *state, const eb_change *c, eb_err *err);

#endif
