/*
 * ebm_util.c — the clock and JSON printer of the ebmock core (ebm_util.h).
 */
#include "ebm_util.h"
#include "eb_json.h"

#include <stddef.h>
#include <time.h>

uint64_t ebm_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *ebm_print(const cJSON *v)
{
	char *out = NULL;
	if (!v || eb_json_print(v, &out, NULL) != EB_OK)
		return NULL;
	return out;
}
