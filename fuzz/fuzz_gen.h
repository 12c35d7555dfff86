/*
 * fuzz_gen.h — builds well-formed protocol values from fuzz input for the
 * property targets: JSON values (every type, edge numbers, escapes and
 * multi-byte UTF-8 in strings and names), and changes that satisfy CHG-1 to
 * CHG-7 with the default limits. Everything returned is owned by the caller.
 */
#ifndef FUZZ_GEN_H
#define FUZZ_GEN_H

#include <math.h>

#include "fuzz_common.h"
#include "eb_msg.h"

/* Pieces strings are made of: ASCII, characters that need escaping, and
 * valid multi-byte UTF-8 (2, 3 and 4 bytes). */
static const char *const fg_pieces[] = {
	"a", "b", "z", "0", "9", "-", "_", ".", ":", " ", "/", "*",
	"\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f",
	"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf",
	"users", "name", "value", "id", "path",
};

/* A valid UTF-8 string of up to max_pieces pieces (may be empty unless
 * nonempty). No control characters when plain. Returns the length. */
static inline size_t fg_text(fz_in *in, char *buf, size_t cap, size_t max_pieces,
			     bool nonempty, bool plain)
{
	size_t n = fz_below(in, (uint32_t)max_pieces + 1), len = 0, i;
	const size_t np = sizeof(fg_pieces) / sizeof(fg_pieces[0]);

	if (nonempty && n == 0)
		n = 1;
	for (i = 0; i < n; i++) {
		const char *p = fg_pieces[fz_below(in, (uint32_t)np)];
		size_t pl = strlen(p);

		if (plain && (unsigned char)p[0] < 0x20)
			p = "x", pl = 1;
		if (plain && p[0] == 0x7f)
			p = "y", pl = 1;
		if (len + pl >= cap)
			break;
		memcpy(buf + len, p, pl);
		len += pl;
	}
	if (nonempty && len == 0 && cap > 1)
		buf[len++] = 'q';
	buf[len] = '\0';
	return len;
}

/* Numbers a JSON text can carry without loss: small and large integers, the
 * 2^53 edges, negative values, fractions, tiny and huge magnitudes. */
static inline double fg_number(fz_in *in)
{
	static const double edges[] = {
		0, 1, -1, 42, 1640995200000.0, 9007199254740991.0,
		-9007199254740991.0, 9007199254740992.0, 0.5, -0.25, 0.1,
		1e-7, 1e300, -1e300, 2.2250738585072014e-308, 4503599627370497.5,
		123456789012345680000.0, 777777777777777777.0, 1.7976931348623157e308,
	};
	uint8_t k = fz_u8(in);
	uint64_t bits;
	double d;

	if (k < 128)
		return edges[k % (sizeof(edges) / sizeof(edges[0]))];
	if (k < 192)
		return (double)(int32_t)fz_u32(in);
	bits = fz_u64(in);
	memcpy(&d, &bits, sizeof(d));
	/* JSON has no NaN or infinity. */
	return isfinite(d) ? d : 0.0;
}

/* A JSON value nested at most depth deep with at most width members per
 * level (small values keep the property targets fast). */
static inline cJSON *fg_value(fz_in *in, int depth, size_t width)
{
	char buf[160];
	uint8_t k = fz_u8(in) % (depth > 0 ? 8 : 6);
	cJSON *v = NULL, *c;
	size_t n, i;

	switch (k) {
	case 0: return cJSON_CreateNull();
	case 1: return cJSON_CreateTrue();
	case 2: return cJSON_CreateFalse();
	case 3: return cJSON_CreateNumber(fg_number(in));
	case 4:
	case 5:
		fg_text(in, buf, sizeof(buf), 12, false, false);
		return cJSON_CreateString(buf);
	case 6:
		v = cJSON_CreateArray();
		n = fz_below(in, (uint32_t)width + 1);
		for (i = 0; v && i < n; i++) {
			c = fg_value(in, depth - 1, width);
			if (!c || !cJSON_AddItemToArray(v, c)) {
				cJSON_Delete(c);
				break;
			}
		}
		return v;
	default:
		v = cJSON_CreateObject();
		n = fz_below(in, (uint32_t)width + 1);
		for (i = 0; v && i < n; i++) {
			fg_text(in, buf, sizeof(buf), 6, false, false);
			/* GEN-6: names are unique. */
			if (cJSON_GetObjectItemCaseSensitive(v, buf))
				continue;
			c = fg_value(in, depth - 1, width);
			if (!c || !cJSON_AddItemToObject(v, buf, c)) {
				cJSON_Delete(c);
				break;
			}
		}
		return v;
	}
}

/* Fills c with a change valid under the default limits; ids from a small
 * alphabet when few_ids (so duplicates and equal stamps happen), timestamps
 * from a small range when few_stamps. false on allocation failure. */
static inline bool fg_change(fz_in *in, eb_change *c, bool few_ids,
			     bool few_stamps, int depth, size_t width)
{
	char buf[160];
	size_t n, i;

	memset(c, 0, sizeof(*c));
	if (few_ids) {
		buf[0] = (char)('a' + fz_below(in, 4));
		buf[1] = '\0';
	} else {
		fg_text(in, buf, 129, 8, true, true);
	}
	c->id = strdup(buf);
	c->timestamp = few_stamps ? 1000 + fz_below(in, 4)
				  : (fz_u64(in) & 0x1FFFFFFFFFFFFFULL);
	c->op = fz_u8(in) & 1 ? EB_OP_DELETE : EB_OP_SET;
	n = 1 + fz_below(in, few_ids ? 3 : 6);
	c->path = calloc(n, sizeof(*c->path));
	if (!c->id || !c->path)
		goto fail;
	for (i = 0; i < n; i++) {
		if (few_ids) {
			buf[0] = (char)('p' + fz_below(in, 3));
			buf[1] = '\0';
		} else {
			fg_text(in, buf, 257, 6, true, false);
		}
		c->path[i] = strdup(buf);
		if (!c->path[i])
			goto fail;
		c->path_len = i + 1;
	}
	if (c->op == EB_OP_SET) {
		c->value = fg_value(in, depth, width);
		if (!c->value)
			goto fail;
	}
	return true;
fail:
	eb_change_clear(c);
	return false;
}

/* Canonical content and id equality of two changes (CHG-9). */
static inline bool fg_change_equal(const eb_change *a, const eb_change *b)
{
	return strcmp(a->id, b->id) == 0 && eb_change_same_content(a, b) &&
	       a->has_version == b->has_version &&
	       (!a->has_version || a->version == b->version);
}

#endif
