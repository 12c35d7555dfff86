/*
 * ebm_util.h — the small helpers every part of the ebmock core uses: the
 * monotonic clock of its deadlines and the exact JSON printer. A leaf
 * module: it depends on the protocol library only.
 */
#ifndef EBM_UTIL_H
#define EBM_UTIL_H

#include <stdint.h>
#include <cjson/cJSON.h>

/* Monotonic milliseconds (the clock of every deadline of the core). */
uint64_t ebm_mono_ms(void);

/* v printed by eb_json_print (exact numbers, unlike cJSON's printer),
 * malloc'd (caller frees); NULL when v is NULL or on failure. */
char *ebm_print(const cJSON *v);

#endif
