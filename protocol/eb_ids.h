/*
 * eb_ids.h — store ids, paths, permission patterns, routes and query strings.
 */
#ifndef EB_IDS_H
#define EB_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eb_error.h"

#define EB_STORE_ID_MAX 128

/* STORE-1: 1..128 bytes of [A-Za-z0-9._:-]. s need not be NUL-terminated. */
bool eb_store_id_valid(const char *s, size_t len);

/* AUTH-9: pattern is an exact id, or a prefix ending in one '*' ("*" matches
 * everything). Returns true when store_id matches. */
bool eb_pattern_match(const char *pattern, const char *store_id);

/* Route of a request path (without query string). */
typedef enum eb_route_kind {
	EB_ROUTE_NONE = 0,     /* no such route: 404 */
	EB_ROUTE_SYNC,         /* /api/stores/{id}/sync */
	EB_ROUTE_CHANGES,      /* /api/stores/{id}/changes */
	EB_ROUTE_NOTIFICATIONS,/* /api/sync/notifications */
	EB_ROUTE_LIMITS        /* /api/limits */
} eb_route_kind;

typedef struct eb_route {
	eb_route_kind kind;
	char store_id[EB_STORE_ID_MAX + 1]; /* NUL-terminated; valid only if store_id_ok */
	bool store_id_ok;   /* false: the {id} segment breaks STORE-1 (400) */
} eb_route;

/* Splits path (len bytes, no query string) into a route. A store-route whose
 * id segment is invalid still returns its kind with store_id_ok false so the
 * caller can apply ERR-3's order. Percent-escapes are not decoded: a '%' in
 * an id makes it invalid. Always succeeds (kind NONE for unknown paths). */
void eb_route_parse(const char *path, size_t len, eb_route *out);

/* Parses the query string of the changes feed (without '?', may be empty or
 * NULL) per FEED-1, FEED-2, FEED-5. On EB_OK *since and *limit are set
 * (limit defaults to max_limit, the server's page maximum; 0 means 1000).
 * Returns EB_ERR_SHAPE, code INVALID_REQUEST, field "since"/"limit" and rule
 * FEED-5 (since or limit given twice; checked first), FEED-1 (since missing
 * or malformed), FEED-2 (limit malformed) or LIMIT-7 (limit outside
 * 1..max_limit). Unknown parameters, even repeated, are ignored. */
eb_rc eb_feed_query_parse(const char *query, size_t len, uint32_t max_limit,
			  uint64_t *since, uint32_t *limit, eb_err *err);

/* Parses a decimal integer per FEED-1 (digits only, no sign, no leading
 * zero except "0", <= 2^53-1). Returns false otherwise. */
bool eb_parse_uint53(const char *s, size_t len, uint64_t *out);

#endif
