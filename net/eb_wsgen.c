/*
 * eb_wsgen.c — see eb_wsgen.h.
 */
#include "eb_wsgen.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

size_t eb_wsgen_request(char *buf, size_t cap, const char *host, int port,
			const char *path, size_t *key_off)
{
	bool v6 = strchr(host, ':') != NULL;
	static const char key_hdr[] = "Sec-WebSocket-Key: ";
	int a = snprintf(buf, cap,
			 "GET %s HTTP/1.1\r\n"
			 "Host: %s%s%s:%d\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Version: 13\r\n"
			 "%s",
			 path, v6 ? "[" : "", host, v6 ? "]" : "", port, key_hdr);
	if (a < 0 || (size_t)a >= cap)
		return 0;
	size_t off = (size_t)a;
	int b = snprintf(buf + off, cap - off, "%.*s\r\n\r\n", EB_WSGEN_KEY_LEN,
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	if (b < 0 || (size_t)b >= cap - off)
		return 0;
	*key_off = off;
	return off + (size_t)b;
}

int eb_wsgen_key(const uint8_t r[16], char *key, char *accept)
{
	char k[EB_WSGEN_KEY_LEN + 1];
	EVP_EncodeBlock((unsigned char *)k, r, 16);
	memcpy(key, k, EB_WSGEN_KEY_LEN);
	/* Sec-WebSocket-Accept = base64(SHA-1(key + GUID)), RFC 6455 4.2.2 */
	unsigned char cat[EB_WSGEN_KEY_LEN + sizeof WS_GUID];
	memcpy(cat, k, EB_WSGEN_KEY_LEN);
	memcpy(cat + EB_WSGEN_KEY_LEN, WS_GUID, sizeof WS_GUID - 1);
	unsigned char dg[SHA_DIGEST_LENGTH];
	if (SHA1(cat, EB_WSGEN_KEY_LEN + sizeof WS_GUID - 1, dg) == NULL)
		return -1;
	EVP_EncodeBlock((unsigned char *)accept, dg, SHA_DIGEST_LENGTH);
	accept[EB_WSGEN_ACCEPT_LEN] = '\0';
	return 0;
}

/* true when the comma-separated value v[0, n) holds token tok (any case). */
static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);
	for (size_t i = 0; i + tl <= n; i++)
		if (strncasecmp(v + i, tok, tl) == 0)
			return true;
	return false;
}

static bool name_is(const char *line, size_t name_len, const char *name)
{
	return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

long eb_wsgen_response(const char *buf, size_t len, size_t max_head,
		       const char *accept, int *status, bool *accept_ok)
{
	const char *end = memmem(buf, len < max_head ? len : max_head, "\r\n\r\n", 4);
	if (end == NULL)
		return len >= max_head ? -1 : 0;
	size_t head = (size_t)(end - buf) + 4;
	/* status line: HTTP/1.x SP 3DIGIT */
	if (head < 14 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    buf[9] < '0' || buf[9] > '9' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9')
		return -1;
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	bool upgrade = false, connection = false, acc = false, extra = false;
	const char *p = memchr(buf, '\n', head);
	if (p == NULL)
		return -1;
	p++;
	while (p < buf + head - 2) {
		const char *eol = memchr(p, '\n', (size_t)(buf + head - p));
		if (eol == NULL || eol == p || eol[-1] != '\r')
			return -1;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p)
			return -1;
		const char *v = colon + 1, *ve = eol - 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
		if (name_is(p, nl, "upgrade"))
			upgrade = has_token(v, vl, "websocket");
		else if (name_is(p, nl, "connection"))
			connection = has_token(v, vl, "upgrade");
		else if (name_is(p, nl, "sec-websocket-accept"))
			acc = vl == EB_WSGEN_ACCEPT_LEN && memcmp(v, accept, vl) == 0;
		else if (name_is(p, nl, "sec-websocket-extensions") ||
			 name_is(p, nl, "sec-websocket-protocol"))
			extra = true;
		p = eol + 1;
	}
	*accept_ok = *status == 101 && upgrade && connection && acc && !extra;
	return (long)head;
}

void eb_wsgen_mask(uint8_t *p, size_t len, const uint8_t key[4], unsigned phase)
{
	uint8_t k8[8];
	for (unsigned i = 0; i < 8; i++)
		k8[i] = key[(phase + i) & 3];
	uint64_t k;
	memcpy(&k, k8, 8);
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		w ^= k;
		memcpy(p + i, &w, 8);
	}
	for (; i < len; i++)
		p[i] ^= k8[i & 7];
}

size_t eb_wsgen_frame(uint8_t *out, int opcode, const void *payload, size_t len,
		      uint32_t mask)
{
	size_t h = 0;
	out[h++] = (uint8_t)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[h++] = (uint8_t)(0x80 | len);
	} else if (len <= 0xffff) {
		out[h++] = 0x80 | 126;
		out[h++] = (uint8_t)(len >> 8);
		out[h++] = (uint8_t)len;
	} else {
		out[h++] = 0x80 | 127;
		for (int s = 56; s >= 0; s -= 8)
			out[h++] = (uint8_t)((uint64_t)len >> s);
	}
	uint8_t key[4] = { (uint8_t)(mask >> 24), (uint8_t)(mask >> 16),
			   (uint8_t)(mask >> 8), (uint8_t)mask };
	memcpy(out + h, key, 4);
	h += 4;
	if (len != 0)
		memcpy(out + h, payload, len);
	eb_wsgen_mask(out + h, len, key, 0);
	return h + len;
}

int eb_wsgen_head_parse(const uint8_t *buf, size_t n, eb_wsgen_head *h)
{
	if (n < 2)
		return 0;
	int op = buf[0] & 0x0f;
	h->fin = (buf[0] & 0x80) != 0;
	h->opcode = op;
	if ((buf[0] & 0x70) != 0 || (buf[1] & 0x80) != 0)
		return -1;    /* reserved bits (no extension agreed), masked */
	if (!(op <= 2 || (op >= 8 && op <= 10)))
		return -1;
	uint64_t len = buf[1] & 0x7f;
	size_t hl = 2;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (uint64_t)buf[2] << 8 | buf[3];
		hl = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | buf[i];
		if (len >> 63)
			return -1;
		hl = 10;
	}
	if (op >= 8 && (len > 125 || !h->fin))
		return -1;
	h->head_len = hl;
	h->len = len;
	return 1;
}

/* ---- the store_changed scan ------------------------------------------------ */

typedef struct scan {
	const char *p, *end;
} scan;

static void ws_skip(scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
				 *s->p == '\r'))
		s->p++;
}

/* A string of printable ASCII without escapes; false for anything else. */
static bool scan_string(scan *s, const char **v, size_t *vl)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	const char *b = ++s->p;
	while (s->p < s->end) {
		unsigned char ch = (unsigned char)*s->p;
		if (ch == '"') {
			*v = b;
			*vl = (size_t)(s->p - b);
			s->p++;
			return true;
		}
		if (ch < 0x20 || ch > 0x7e || ch == '\\')
			return false;
		s->p++;
	}
	return false;
}

/* A non-negative integer without leading zeros, at most 2^53-1. */
static bool scan_uint53(scan *s, uint64_t *out)
{
	const char *b = s->p;
	uint64_t v = 0;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - b < 17) {
		v = v * 10 + (uint64_t)(*s->p - '0');
		s->p++;
	}
	size_t n = (size_t)(s->p - b);
	if (n == 0 || n > 16 || (n > 1 && *b == '0') || v > (1ULL << 53) - 1)
		return false;
	/* a fraction, exponent or more digits is a number the scan leaves alone */
	if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E' ||
			      (*s->p >= '0' && *s->p <= '9')))
		return false;
	*out = v;
	return true;
}

static bool scan_literal(scan *s)
{
	static const char *const lits[] = { "true", "false", "null" };
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(lits[i]);
		if ((size_t)(s->end - s->p) >= l && memcmp(s->p, lits[i], l) == 0) {
			s->p += l;
			return true;
		}
	}
	return false;
}

#define SCAN_MAX_MEMBERS 8

static bool key_is(const char *k, size_t kl, const char *name)
{
	return strlen(name) == kl && memcmp(k, name, kl) == 0;
}

bool eb_wsgen_store_changed(const char *msg, size_t len, eb_wsgen_notif *n)
{
	scan s = { msg, msg + len };
	const char *keys[SCAN_MAX_MEMBERS];
	size_t klens[SCAN_MAX_MEMBERS];
	size_t nk = 0;
	bool type_ok = false, have_id = false, have_v = false, have_ts = false;
	ws_skip(&s);
	if (s.p >= s.end || *s.p != '{')
		return false;
	s.p++;
	ws_skip(&s);
	if (s.p < s.end && *s.p == '}')
		return false;
	for (;;) {
		const char *k, *v;
		size_t kl, vl;
		ws_skip(&s);
		if (nk == SCAN_MAX_MEMBERS || !scan_string(&s, &k, &kl))
			return false;
		for (size_t i = 0; i < nk; i++)
			if (klens[i] == kl && memcmp(keys[i], k, kl) == 0)
				return false;   /* duplicate: the parser's GEN-6 */
		keys[nk] = k;
		klens[nk++] = kl;
		ws_skip(&s);
		if (s.p >= s.end || *s.p != ':')
			return false;
		s.p++;
		ws_skip(&s);
		if (s.p >= s.end)
			return false;
		if (*s.p == '"') {
			if (!scan_string(&s, &v, &vl))
				return false;
			if (key_is(k, kl, "type")) {
				if (!key_is(v, vl, "store_changed"))
					return false;
				type_ok = true;
			} else if (key_is(k, kl, "storeId")) {
				n->store_id = v;
				n->store_id_len = vl;
				have_id = true;
			} else if (key_is(k, kl, "version") || key_is(k, kl, "timestamp")) {
				return false;
			}
		} else if (*s.p >= '0' && *s.p <= '9') {
			uint64_t u;
			if (!scan_uint53(&s, &u))
				return false;
			if (key_is(k, kl, "version")) {
				n->version = u;
				have_v = true;
			} else if (key_is(k, kl, "timestamp")) {
				n->timestamp = u;
				have_ts = true;
			} else if (key_is(k, kl, "type") || key_is(k, kl, "storeId")) {
				return false;
			}
		} else {
			if (key_is(k, kl, "type") || key_is(k, kl, "storeId") ||
			    key_is(k, kl, "version") || key_is(k, kl, "timestamp") ||
			    !scan_literal(&s))
				return false;
		}
		ws_skip(&s);
		if (s.p >= s.end)
			return false;
		if (*s.p == '}')
			break;
		if (*s.p != ',')
			return false;
		s.p++;
	}
	s.p++;
	ws_skip(&s);
	return s.p == s.end && type_ok && have_id && have_v && have_ts;
}
