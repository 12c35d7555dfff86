/*
 * ebcl_timing.c — the timers of PROTOCOL.md 12.2 as pure functions of the
 * caller's clock (see ebcl_timing.h).
 */
#include "ebcl_timing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t ebcl_scaled(uint64_t ms, double scale)
{
	if (!(scale > 0))
		scale = 1.0;
	double v = (double)ms * scale;
	if (v < 1.0)
		return 1;
	if (v > 1e15)
		return (uint64_t)1e15;
	return (uint64_t)llround(v);
}

uint64_t ebcl_round_trip_ms(uint64_t ms, double scale)
{
	uint64_t v = ebcl_scaled(ms, scale);
	uint64_t floor = ms < EBCL_ROUND_TRIP_FLOOR_MS ? ms : EBCL_ROUND_TRIP_FLOOR_MS;
	return v < floor ? floor : v;
}

uint64_t ebcl_poll_interval_ms(ebcl_activity a)
{
	switch (a) {
	case EBCL_IDLE:
		return EBCL_POLL_IDLE_MS;
	case EBCL_BACKGROUND:
		return EBCL_POLL_BACKGROUND_MS;
	case EBCL_ACTIVE:
	default:
		return EBCL_POLL_ACTIVE_MS;
	}
}

uint64_t ebcl_backoff_ms(unsigned failures, bool capped)
{
	if (failures == 0)
		return 0;
	unsigned shift = failures - 1;
	if (shift > 20)
		shift = 20;
	uint64_t v = (uint64_t)EBCL_BACKOFF_FIRST_MS << shift;
	if (capped && v > EBCL_BACKOFF_CAP_MS)
		v = EBCL_BACKOFF_CAP_MS;
	return v;
}

uint64_t ebcl_jitter(uint64_t ms, double frac, double u)
{
	if (u < 0)
		u = 0;
	if (u >= 1)
		u = 0.999999;
	double v = (double)ms * (1.0 - frac + 2.0 * frac * u);
	return v < 1.0 ? 1 : (uint64_t)llround(v);
}

unsigned ebcl_retry_after_parse(const char *value)
{
	if (value == NULL)
		return 0;
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value < '0' || *value > '9')
		return 0;
	uint64_t v = 0;
	const char *p = value;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > EBCL_RETRY_AFTER_CAP_S)
			v = EBCL_RETRY_AFTER_CAP_S + 1;
		p++;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '\0')
		return 0;   /* an HTTP-date: the server of this protocol sends seconds */
	return v > EBCL_RETRY_AFTER_CAP_S ? EBCL_RETRY_AFTER_CAP_S : (unsigned)v;
}

uint64_t ebcl_reauth_at(uint64_t iat_ms, uint64_t exp_ms)
{
	if (exp_ms <= iat_ms)
		return iat_ms;
	return iat_ms + (exp_ms - iat_ms) / 10 * 9;
}

void ebcl_sched_init(ebcl_sched *s, double scale, ebcl_activity a, unsigned flags)
{
	memset(s, 0, sizeof *s);
	s->scale = scale > 0 ? scale : 1.0;
	s->flags = flags;
	s->activity = a;
	s->round_interval = ebcl_sched_interval(s);
}

uint64_t ebcl_sched_interval(const ebcl_sched *s)
{
	ebcl_activity a = (s->flags & EBCL_SF_IGNORE_ACTIVITY) ? EBCL_ACTIVE
							       : s->activity;
	return ebcl_scaled(ebcl_poll_interval_ms(a), s->scale);
}

/* End of the hold after the last failure: the back-off (and, while
 * polling, the activity interval), and the Retry-After in any case. */
static uint64_t sched_hold_until(const ebcl_sched *s)
{
	uint64_t h = 0;
	if (s->failures > 0) {
		uint64_t w = s->fail_wait;
		if (s->polling && s->round_interval > w &&
		    !(s->flags & EBCL_SF_NO_BACKOFF))
			w = s->round_interval;
		h = s->fail_at + w;
	}
	if (s->ra_until > h)
		h = s->ra_until;
	return h;
}

void ebcl_sched_start_polling(ebcl_sched *s, uint64_t now)
{
	if (s->polling)
		return;
	s->polling = true;
	s->round_pending = true;
	s->round_start = now;
	s->round_interval = ebcl_sched_interval(s);
}

void ebcl_sched_stop_polling(ebcl_sched *s)
{
	s->polling = false;
	s->round_pending = false;
}

void ebcl_sched_round_started(ebcl_sched *s, uint64_t now)
{
	s->round_pending = false;
	s->round_start = now;
	s->round_interval = ebcl_sched_interval(s);
}

static uint64_t sched_next_round(const ebcl_sched *s)
{
	uint64_t due = s->round_pending ? s->round_start
					: s->round_start + s->round_interval;
	uint64_t hold = sched_hold_until(s);
	return hold > due ? hold : due;
}

bool ebcl_sched_round_due(const ebcl_sched *s, uint64_t now)
{
	return s->polling && now >= sched_next_round(s);
}

bool ebcl_sched_may_request(const ebcl_sched *s, uint64_t now)
{
	return now >= sched_hold_until(s);
}

void ebcl_sched_failure(ebcl_sched *s, uint64_t now, unsigned retry_after_s)
{
	if (s->failures < 1000)
		s->failures++;
	s->fail_at = now;
	if (s->flags & EBCL_SF_NO_BACKOFF) {
		/* Retries soon, whatever the interval: the hold is short and
		 * the next round is due when it ends. */
		s->fail_wait = ebcl_scaled(EBCL_DEFECT_RETRY_MS, s->scale);
		s->failures = 1;
		s->round_pending = true;
		s->round_start = now;
	} else {
		s->fail_wait = ebcl_scaled(
			ebcl_backoff_ms(s->failures,
					!(s->flags & EBCL_SF_BACKOFF_NO_CAP)),
			s->scale);
	}
	if (retry_after_s > 0 && !(s->flags & EBCL_SF_IGNORE_RETRY_AFTER)) {
		uint64_t ra = now + ebcl_scaled((uint64_t)retry_after_s * 1000u,
						s->scale);
		if (ra > s->ra_until)
			s->ra_until = ra;
	}
	if (s->polling && !(s->flags & EBCL_SF_NO_BACKOFF)) {
		/* The failed round is over; the next one starts when the hold
		 * ends (sched_next_round takes the later of both). */
		s->round_pending = false;
		s->round_start = now;
	}
}

void ebcl_sched_success(ebcl_sched *s)
{
	if (s->flags & EBCL_SF_BACKOFF_NO_RESET) {
		/* The hold ends, the count stays. */
		s->fail_wait = 0;
		return;
	}
	s->failures = 0;
	s->fail_wait = 0;
}

void ebcl_sched_set_activity(ebcl_sched *s, ebcl_activity a, uint64_t now)
{
	(void)now;
	s->activity = a;
	if (s->flags & EBCL_SF_ACTIVITY_LATE)
		return;   /* the pending round keeps the interval it started with */
	s->round_interval = ebcl_sched_interval(s);
}

uint64_t ebcl_sched_next_deadline(const ebcl_sched *s, uint64_t now)
{
	uint64_t d = UINT64_MAX;
	if (s->polling)
		d = sched_next_round(s);
	uint64_t h = sched_hold_until(s);
	if (h > now && h < d)
		d = h;
	return d;
}

uint64_t ebcl_reconnect_delay(double scale, double u, bool every5s)
{
	if (every5s)
		return ebcl_scaled(EBCL_DEFECT_RECONNECT_MS, scale);
	return ebcl_jitter(ebcl_scaled(EBCL_RECONNECT_MS, scale), 0.10, u);
}
