/*
 * eb_timeline.h — the timeline of a client case: what the server saw
 * (requests, socket opens and closes, faults) on a time axis, one lane per
 * client, against the windows the spec expects. The HTML report draws it as
 * an inline SVG picture; the JSON report stores it as data ("timeline",
 * docs/REPORT-SCHEMA.md) so a report read back draws the same picture.
 */
#ifndef EB_TIMELINE_H
#define EB_TIMELINE_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

typedef enum eb_tl_kind {
	EB_TL_READ = 0,     /* a read of a store (feed or sync without changes), 2xx */
	EB_TL_PUSH,         /* a sync that carried changes, 2xx */
	EB_TL_ERROR,        /* any request answered 4xx/5xx or a fault */
	EB_TL_WS_OPEN,      /* socket opened (upgrade accepted) */
	EB_TL_WS_CLOSE,     /* socket closed (label: the code) */
	EB_TL_WS_REFUSED,   /* upgrade refused */
	EB_TL_WS_MSG,       /* a message of interest (auth, ping, subscribe) */
	EB_TL_FAULT,        /* a fault set or cleared by the suite */
	EB_TL_NOTE,         /* a note (activity change, driver state) */
	EB_TL_EXPECT,       /* a window [t0, t1] in which something is expected */
	EB_TL_N_KINDS
} eb_tl_kind;

typedef struct eb_tl_item {
	double t0, t1;      /* ms from the case start; t1 == t0 for points */
	int lane;           /* index into lanes */
	eb_tl_kind kind;
	char *label;        /* owned, may be "" */
} eb_tl_item;

typedef struct eb_timeline {
	char **lanes;       /* owned lane names ("client a", "server") */
	size_t n_lanes;
	eb_tl_item *items;  /* owned */
	size_t n, cap;
	double span_ms;     /* length of the axis (0: from the items) */
} eb_timeline;

/* Items beyond this are counted, not kept (a polling client logs a lot). */
#define EB_TL_MAX_ITEMS 4000

/* New empty timeline; NULL on allocation failure. */
eb_timeline *eb_timeline_new(void);
/* Frees tl; NULL is a no-op. */
void eb_timeline_free(eb_timeline *tl);
/* Index of lane name, added when new. -1 on allocation failure. */
int eb_timeline_lane(eb_timeline *tl, const char *name);
/* Adds an item (label copied, may be NULL). 0, or -1 when full or out of
 * memory (the item is dropped). */
int eb_timeline_add(eb_timeline *tl, int lane, eb_tl_kind kind, double t0, double t1,
		    const char *label);
/* Deep copy; NULL on allocation failure or when src is NULL. */
eb_timeline *eb_timeline_copy(const eb_timeline *src);

/* "read", "push", "error", "ws_open", "ws_close", "ws_refused", "ws_msg",
 * "fault", "note", "expect"; and back (-1 when unknown). */
const char *eb_tl_kind_name(eb_tl_kind k);
int eb_tl_kind_parse(const char *s);

/* Writes the picture as one <svg> element (labels XML-escaped; width fixed,
 * height by lane count) with a legend. 0, or -1 on a write error. */
int eb_timeline_write_svg(const eb_timeline *tl, FILE *f);

/* JSON form {"spanMs":N,"lanes":[...],"items":[{"t0":..,"t1":..,"lane":..,
 * "kind":"..","label":".."}]}. NULL on allocation failure. */
cJSON *eb_timeline_to_json(const eb_timeline *tl);
/* Reads that form back; unknown kinds and malformed items are skipped.
 * NULL when v is not an object with lanes and items, or out of memory. */
eb_timeline *eb_timeline_from_json(const cJSON *v);

#endif
