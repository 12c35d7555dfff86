/*
 * eb_json.h — strict JSON parsing and canonical JSON (PROTOCOL.md 1.1).
 *
 * cJSON alone accepts duplicate member names, invalid UTF-8 and unbounded
 * nesting (up to its compile-time limit); this module checks all three before
 * and after cJSON_ParseWithLengthOpts so every program parses the same way.
 */
#ifndef EB_JSON_H
#define EB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "eb_buf.h"
#include "eb_error.h"

/* Nesting limit for whole messages: a change value may nest 32 levels
 * (CHG-7) inside a request that itself nests 4 levels. */
#define EB_JSON_MAX_DEPTH 40

/* Parses exactly len bytes (buf need not be NUL-terminated) as one JSON text.
 * Rejects: anything outside the RFC 8259 grammar (cJSON alone takes "01",
 * raw control characters, a BOM, \f as whitespace), bad UTF-8 and lone
 * surrogate escapes, nesting deeper than max_depth (capped at cJSON's 1000),
 * duplicate member names (GEN-6), trailing non-whitespace. Also refused,
 * because cJSON cannot hold them faithfully: the escape \u0000 (its strings
 * are NUL-terminated), number literals longer than 63 characters (it cuts
 * them) and numbers outside the double range. On EB_OK *out is a tree the
 * caller frees with cJSON_Delete. Returns EB_ERR_JSON (rule GEN-1/GEN-6,
 * code INVALID_JSON), EB_ERR_NOMEM or EB_ERR_ARG (max_depth < 0). */
eb_rc eb_json_parse(const char *buf, size_t len, int max_depth, cJSON **out,
		    eb_err *err);

/* eb_json_parse with the tree's nodes and strings in one allocation, for
 * callers that read a tree and drop it (cJSON allocates each node and each
 * string, most of a parse's time under the fuzz build). Same verdicts,
 * errors and tree as eb_json_parse; but nothing may be detached from,
 * added to or freed in the tree, and it must not go to cJSON_Delete:
 * eb_json_block_free(*out) frees it whole (NULL is a no-op), and
 * cJSON_Duplicate copies a part out as an ordinary tree. */
eb_rc eb_json_parse_block(const char *buf, size_t len, int max_depth,
			  cJSON **out, eb_err *err);
void eb_json_block_free(cJSON *root);

/* Nesting depth of v: scalars 0, [] and {} 1, [[1]] 2. */
int eb_json_depth(const cJSON *v);

/* Canonical serialization (members sorted bytewise by name, no whitespace,
 * numbers that are integers within +-2^53 printed as integers, others with
 * 17 significant digits). *out is malloc'd, NUL-terminated, caller frees;
 * *out_len (may be NULL) gets its length. EB_OK or EB_ERR_NOMEM. */
eb_rc eb_json_canonical(const cJSON *v, char **out, size_t *out_len);

/* The length eb_json_canonical's text of v has, counted without building
 * it (a limit check needs the size only). EB_OK, EB_ERR_NOMEM (objects of
 * more than 16 members are sorted in an allocation) or EB_ERR_ARG. */
eb_rc eb_json_canonical_size(const cJSON *v, size_t *out_len);

/* Compact serialization in member order with every number printed so that
 * it reads back as the same double. Use it instead of cJSON_Print*: cJSON
 * 1.7.15 prints 9007199254740991 as 9.00719925474099e+15 and
 * 0.30000000000000004 as 0.3. *out is malloc'd, NUL-terminated, caller
 * frees; *out_len (may be NULL) gets its length. EB_OK or EB_ERR_NOMEM. */
eb_rc eb_json_print(const cJSON *v, char **out, size_t *out_len);

/* eb_json_print's output appended to b, for encoders that write a message
 * straight into one buffer (building a cJSON tree of the message, copying
 * its values in, was most of an encode): v as eb_json_print prints it; s
 * as a JSON string (NULL as ""); d as eb_json_print prints a number node
 * holding d. A failed allocation sets b->oom (eb_buf.h). */
void eb_json_put_value(eb_buf *b, const cJSON *v);
void eb_json_put_string(eb_buf *b, const char *s);
void eb_json_put_number(eb_buf *b, double d);

/* true when a and b are canonically equal (same canonical serialization).
 * Two NULL pointers are equal; NULL and a value are not. */
bool eb_json_canon_equal(const cJSON *a, const cJSON *b);

/* Reads an integer field per GEN-5: a number with integral value in
 * [0, 2^53-1]. Returns false if v is not such a number. */
bool eb_json_get_uint53(const cJSON *v, uint64_t *out);

/* true when the len bytes at s are valid UTF-8 (no overlongs, no surrogates). */
bool eb_utf8_valid(const char *s, size_t len);

#endif
