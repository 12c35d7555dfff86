/*
 * ebm_faultspec.c — the parser of one --fault SPEC (ebm_faultspec.h).
 */
#include "ebm_faultspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool ebm_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end = NULL;
	/* digits only: strtoull alone would take a sign or leading blanks */
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

eb_rc ebm_fault_parse(const char *spec, uint64_t now_ms, ebm_faults *f,
		      eb_err *err)
{
	const char *eq = strchr(spec, '=');
	size_t nlen = eq ? (size_t)(eq - spec) : strlen(spec);
	const char *arg = eq ? eq + 1 : NULL;
	uint32_t v = 0;

#define EBM_NAME_IS(lit) (nlen == sizeof(lit) - 1 && memcmp(spec, lit, nlen) == 0)
	if (EBM_NAME_IS("refuse-ws") && !arg) {
		f->refuse_ws = true;
	} else if (EBM_NAME_IS("stall") && !arg) {
		f->stall = true;
	} else if (EBM_NAME_IS("no-notify") && !arg) {
		f->no_notify = true;
	} else if (EBM_NAME_IS("drop-ws-after") && ebm_parse_u32(arg, 86400, &v)) {
		f->drop_ws_after_s = v;
		f->drop_set_ms = now_ms;
	} else if (EBM_NAME_IS("http-503") && ebm_parse_u32(arg, 86400, &v)) {
		f->http503_until_ms = v ? now_ms + (uint64_t)v * 1000u : 0;
	} else if (EBM_NAME_IS("http-429") && ebm_parse_u32(arg, 86400, &v)) {
		f->http429_until_ms = v ? now_ms + (uint64_t)v * 1000u : 0;
	} else if (EBM_NAME_IS("delay-ms") && ebm_parse_u32(arg, 600000, &v)) {
		f->delay_ms = v;
	} else if (EBM_NAME_IS("silent-ws") && !arg) {
		f->silent_ws = true;
	} else if (EBM_NAME_IS("extras") && !arg) {
		f->extras = true;
	} else if (EBM_NAME_IS("http-reset-ms") && ebm_parse_u32(arg, 86400000, &v)) {
		f->http_reset_until_ms = v ? now_ms + v : 0;
	} else if (EBM_NAME_IS("http-503-ms") && ebm_parse_u32(arg, 86400000, &v)) {
		f->http503_until_ms = v ? now_ms + v : 0;
	} else if (EBM_NAME_IS("http-429-ms") && ebm_parse_u32(arg, 86400000, &v)) {
		f->http429_until_ms = v ? now_ms + v : 0;
	} else if (EBM_NAME_IS("retry-after") && ebm_parse_u32(arg, 86400, &v)) {
		f->retry_after_s = v;
	} else if (EBM_NAME_IS("page-max") && ebm_parse_u32(arg, 1000000, &v)) {
		f->page_max = v;
	} else {
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "unknown or malformed fault '%s' (refuse-ws, stall, no-notify, drop-ws-after=N, http-503=S, http-429=S, delay-ms=N, silent-ws, extras, http-reset-ms=N, http-503-ms=N, http-429-ms=N, retry-after=S, page-max=N)",
				  spec);
	}
#undef EBM_NAME_IS
	return EB_OK;
}
