/*
 * eb_error.c — the error record and the wire-code table of PROTOCOL.md
 * section 7.
 */
#include "eb_error.h"
#include "eb_utf8.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Copies src into dst[cap] with truncation; NULL becomes "". */
static void copy_trunc(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (!src)
		src = "";
	n = strlen(src);
	if (n >= cap)
		n = eb_utf8_cut(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Appends s to dst[0..cap-1) from *full on, keeping at most cap - 1
 * bytes; *full counts every byte, kept or not, as vsnprintf's return. */
static void append_trunc(char *dst, size_t cap, size_t *full, const char *s)
{
	size_t len = strlen(s), room = *full < cap - 1 ? cap - 1 - *full : 0;

	memcpy(dst + (*full < cap - 1 ? *full : cap - 1), s, len < room ? len : room);
	*full += len;
}

int eb_err_vformat(char *dst, size_t cap, const char *fmt, va_list ap)
{
	const char *a = NULL, *b = NULL;
	size_t full = 0;
	va_list cp;

	if (!strchr(fmt, '%')) {
		a = fmt;
	} else if (strcmp(fmt, "%s") == 0 || strcmp(fmt, "%s: %s") == 0) {
		va_copy(cp, ap);
		a = va_arg(cp, const char *);
		if (fmt[2])
			b = va_arg(cp, const char *);
		va_end(cp);
		if (!a || (fmt[2] && !b))
			return vsnprintf(dst, cap, fmt, ap); /* "(null)" */
	} else {
		return vsnprintf(dst, cap, fmt, ap);
	}
	append_trunc(dst, cap, &full, a);
	if (b) {
		append_trunc(dst, cap, &full, ": ");
		append_trunc(dst, cap, &full, b);
	}
	dst[full < cap ? full : cap - 1] = '\0';
	return full > (size_t)INT_MAX ? INT_MAX : (int)full;
}

eb_rc eb_err_set(eb_err *err, eb_rc rc, const char *rule, const char *field,
		 const char *code, long index, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return rc;
	copy_trunc(err->rule, sizeof(err->rule), rule);
	copy_trunc(err->field, sizeof(err->field), field);
	copy_trunc(err->code, sizeof(err->code), code);
	err->index = index;
	err->msg[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		n = eb_err_vformat(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		/* A negative return leaves msg as vsnprintf left it; a cut
		 * text ends on a whole UTF-8 sequence. */
		if (n < 0)
			err->msg[0] = '\0';
		else if ((size_t)n >= sizeof(err->msg))
			err->msg[eb_utf8_cut(err->msg, sizeof(err->msg) - 1)] = '\0';
	}
	return rc;
}

void eb_err_clear(eb_err *err)
{
	if (!err)
		return;
	err->rule[0] = '\0';
	err->field[0] = '\0';
	err->code[0] = '\0';
	err->msg[0] = '\0';
	err->index = -1;
}

const char *eb_rc_name(eb_rc rc)
{
	switch (rc) {
	case EB_OK: return "EB_OK";
	case EB_ERR_NOMEM: return "EB_ERR_NOMEM";
	case EB_ERR_ARG: return "EB_ERR_ARG";
	case EB_ERR_JSON: return "EB_ERR_JSON";
	case EB_ERR_SHAPE: return "EB_ERR_SHAPE";
	case EB_ERR_LIMIT: return "EB_ERR_LIMIT";
	case EB_ERR_TIMESTAMP: return "EB_ERR_TIMESTAMP";
	case EB_ERR_CONFLICT: return "EB_ERR_CONFLICT";
	case EB_ERR_AUTH: return "EB_ERR_AUTH";
	case EB_ERR_FORBIDDEN: return "EB_ERR_FORBIDDEN";
	case EB_ERR_NOT_FOUND: return "EB_ERR_NOT_FOUND";
	case EB_ERR_IO: return "EB_ERR_IO";
	case EB_ERR_INTERNAL: return "EB_ERR_INTERNAL";
	}
	return "EB_ERR_UNKNOWN";
}

struct code_status {
	const char *code;
	int status;
};

/* The table of section 7, in its order. */
static const struct code_status code_table[] = {
	{ EB_CODE_INVALID_JSON, 400 },
	{ EB_CODE_INVALID_REQUEST, 400 },
	{ EB_CODE_INVALID_FIELD, 400 },
	{ EB_CODE_INVALID_STORE_ID, 400 },
	{ EB_CODE_UNAUTHORIZED, 401 },
	{ EB_CODE_FORBIDDEN, 403 },
	{ EB_CODE_NOT_FOUND, 404 },
	{ EB_CODE_METHOD_NOT_ALLOWED, 405 },
	{ EB_CODE_RESYNC_REQUIRED, 409 },
	{ EB_CODE_CHANGE_ID_CONFLICT, 409 },
	{ EB_CODE_PAYLOAD_TOO_LARGE, 413 },
	{ EB_CODE_UNSUPPORTED_MEDIA, 415 },
	{ EB_CODE_LIMIT_EXCEEDED, 422 },
	{ EB_CODE_TIMESTAMP_IN_FUTURE, 422 },
	{ EB_CODE_RATE_LIMITED, 429 },
	{ EB_CODE_INTERNAL, 500 },
	{ EB_CODE_UNAVAILABLE, 503 },
};

int eb_code_http_status(const char *code)
{
	size_t i;

	if (!code)
		return 500;
	for (i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (strcmp(code_table[i].code, code) == 0)
			return code_table[i].status;
	return 500;
}
