/*
 * ebcc_priv.h — shared internals of conformance/client (runner and driver
 * modules); cases use ebcc.h.
 */
#ifndef EBCC_PRIV_H
#define EBCC_PRIV_H

#include "ebcc.h"

/* The stderr tail of driver i (running or stopped) into buf. */
void ebcc_drv_tail(ebcc_ctx *cc, int i, char *buf, size_t len);
/* Driver i's marks so far into out (cap); the count. */
size_t ebcc_drv_marks(ebcc_ctx *cc, int i, ebcc_mark *out, size_t cap);
/* Keeps a mark for the case's timeline (bounded; extra marks are dropped). */
void ebcc_keep_mark(ebcc_ctx *cc, const ebcc_mark *m);

#endif
