/*
 * eb_startat.c — the synchronized start of ebload's shards (eb_startat.h).
 */
#include "eb_startat.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t eb_startat_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* Digits only, 1-19 of them, into *out; false otherwise. */
static bool parse_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* "+S" or "+S.FFF" (at most 3 decimals, i.e. ms) into ms. */
static bool parse_relative(const char *s, uint64_t *ms)
{
	const char *dot = strchr(s, '.');
	size_t n_int = dot ? (size_t)(dot - s) : strlen(s);
	uint64_t whole, frac = 0;
	if (!parse_digits(s, n_int, &whole) || n_int > 5)
		return false;
	if (dot != NULL) {
		size_t n_frac = strlen(dot + 1);
		if (n_frac == 0 || n_frac > 3 || !parse_digits(dot + 1, n_frac, &frac))
			return false;
		for (size_t i = n_frac; i < 3; i++)
			frac *= 10;
	}
	*ms = whole * 1000 + frac;
	return true;
}

int eb_startat_parse(const char *v, uint64_t now_ms, uint64_t *at_ms, char *err, size_t errlen)
{
	uint64_t t;
	if (v[0] == '+') {
		if (!parse_relative(v + 1, &t) || t == 0) {
			snprintf(err, errlen, "want +S (seconds from now, e.g. +20) or a Unix "
				 "time in seconds or milliseconds");
			return -1;
		}
		t += now_ms;
	} else {
		size_t n = strlen(v);
		if (!parse_digits(v, n, &t)) {
			snprintf(err, errlen, "want +S (seconds from now, e.g. +20) or a Unix "
				 "time in seconds or milliseconds (e.g. $(( $(date +%%s) + 20 )))");
			return -1;
		}
		if (n < 12)
			t *= 1000;
	}
	if (t <= now_ms) {
		snprintf(err, errlen, "%llu ms in the past (the clock says %llu ms): give a later "
			 "time, e.g. +20, leaving every shard time for its setup",
			 (unsigned long long)(now_ms - t), (unsigned long long)now_ms);
		return -1;
	}
	if (t - now_ms > EB_STARTAT_MAX_AHEAD_MS) {
		snprintf(err, errlen, "%llu s ahead, more than the %llu s allowed: seconds "
			 "and milliseconds mixed up?", (unsigned long long)((t - now_ms) / 1000),
			 (unsigned long long)(EB_STARTAT_MAX_AHEAD_MS / 1000));
		return -1;
	}
	*at_ms = t;
	return 0;
}

uint64_t eb_startat_wait(uint64_t at_ms, const volatile sig_atomic_t *stop)
{
	const uint64_t at_us = at_ms * 1000ULL;
	for (;;) {
		uint64_t now = eb_startat_now_us();
		if (now >= at_us || (stop != NULL && *stop))
			return now;
		struct timespec ts;
		if (at_us - now > 20000) {
			/* a slice, so that a stop is seen within 20 ms */
			ts.tv_sec = 0;
			ts.tv_nsec = 20000000L;
			nanosleep(&ts, NULL);
			continue;
		}
		/* the last slice to the instant itself, absolute on the wall
		 * clock (a step of the clock moves the wake-up with it) */
		ts.tv_sec = (time_t)(at_us / 1000000ULL);
		ts.tv_nsec = (long)(at_us % 1000000ULL) * 1000L;
		int rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
		if (rc != 0 && rc != EINTR)
			return eb_startat_now_us();
	}
}
