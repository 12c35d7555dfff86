/*
 * ebcl_timing.h — the timers of PROTOCOL.md 12.2 as pure functions of an
 * injected clock: poll intervals per activity, the back-off sequence, the
 * Retry-After floor, jitter, the poll schedule across activity changes and
 * failures, the reconnect delay and the re-auth moment. Internal to
 * libebclient (and its unit test); every time is in milliseconds of one
 * monotonic clock the caller chooses.
 */
#ifndef EBCL_TIMING_H
#define EBCL_TIMING_H

#include <stdbool.h>
#include <stdint.h>
#include "ebclient.h"

/* Nominal intervals of 12.2, before the clock scale. */
#define EBCL_POLL_ACTIVE_MS      30000u
#define EBCL_POLL_IDLE_MS        300000u
#define EBCL_POLL_BACKGROUND_MS  900000u
#define EBCL_BACKOFF_FIRST_MS    30000u
#define EBCL_BACKOFF_CAP_MS      300000u
#define EBCL_RECONNECT_MS        120000u
#define EBCL_PING_MS             30000u
#define EBCL_PONG_MS             10000u
#define EBCL_ATTEMPT_MS          10000u
#define EBCL_RETRY_AFTER_CAP_S   3600u
/* A defect's "fast" retry (no-backoff) and reconnect (reconnect-every-5s). */
#define EBCL_DEFECT_RETRY_MS     2000u
#define EBCL_DEFECT_RECONNECT_MS 5000u

/* Behaviour switches the defects of ebclient.h turn on. */
enum ebcl_sched_flags {
	EBCL_SF_NO_BACKOFF = 1u << 0,       /* retry after EBCL_DEFECT_RETRY_MS */
	EBCL_SF_BACKOFF_NO_CAP = 1u << 1,   /* keeps doubling past 300 s */
	EBCL_SF_BACKOFF_NO_RESET = 1u << 2, /* success keeps the failure count */
	EBCL_SF_IGNORE_RETRY_AFTER = 1u << 3,
	EBCL_SF_IGNORE_ACTIVITY = 1u << 4,  /* always the active interval */
	EBCL_SF_ACTIVITY_LATE = 1u << 5     /* a change waits for the pending poll */
};

/* ms x scale, rounded, at least 1 (a wait is never 0 by scaling). */
uint64_t ebcl_scaled(uint64_t ms, double scale);
/* A deadline that waits for network round trips (pong, connection attempt):
 * scaled like the others but never below EBCL_ROUND_TRIP_FLOOR_MS, since a
 * clock scale does not make a loaded machine answer sooner (PROTOCOL 12.2). */
#define EBCL_ROUND_TRIP_FLOOR_MS 1000u
uint64_t ebcl_round_trip_ms(uint64_t ms, double scale);

/* Nominal poll interval of activity a (CLIENT-POLL-1). */
uint64_t ebcl_poll_interval_ms(ebcl_activity a);

/* Nominal back-off delay after `failures` consecutive failures (>= 1):
 * 30 s, 60 s, 120 s, 240 s, then 300 s (CLIENT-POLL-2); without the cap
 * the doubling goes on (bounded at 2^20 x 30 s). 0 for failures == 0. */
uint64_t ebcl_backoff_ms(unsigned failures, bool capped);

/* ms moved by a jitter fraction: ms x (1 - frac + 2 frac u), u in [0,1). */
uint64_t ebcl_jitter(uint64_t ms, double frac, double u);

/* Parses a Retry-After value of whole seconds (ERR-6); 0 when absent or not
 * delta-seconds. Capped at EBCL_RETRY_AFTER_CAP_S (CLIENT-POLL-7). */
unsigned ebcl_retry_after_parse(const char *value);

/* Re-auth moment (CLIENT-TOKEN-2): 90 % of the lifetime [iat, exp]. */
uint64_t ebcl_reauth_at(uint64_t iat_ms, uint64_t exp_ms);

/* The scheduler of requests and poll rounds of one client. */
typedef struct ebcl_sched {
	double scale;
	unsigned flags;           /* enum ebcl_sched_flags */
	ebcl_activity activity;
	unsigned failures;        /* consecutive failed requests */
	uint64_t fail_at;         /* time of the last failure */
	uint64_t fail_wait;       /* its scaled back-off delay */
	uint64_t ra_until;        /* end of the last Retry-After (0: none) */
	bool polling;             /* poll rounds run */
	bool round_pending;       /* polling began: the catch-up round is due */
	uint64_t round_start;     /* start of the last poll round */
	uint64_t round_interval;  /* scaled interval that round waits */
} ebcl_sched;

/* A scheduler at rest (not polling, no failure). */
void ebcl_sched_init(ebcl_sched *s, double scale, ebcl_activity a, unsigned flags);

/* Scaled interval of the current activity (the active one with
 * EBCL_SF_IGNORE_ACTIVITY). */
uint64_t ebcl_sched_interval(const ebcl_sched *s);

/* Polling begins (socket lost or attempt failed) at now: the catch-up round
 * is due at once (or when the hold ends). */
void ebcl_sched_start_polling(ebcl_sched *s, uint64_t now);

/* Live again: no more rounds. */
void ebcl_sched_stop_polling(ebcl_sched *s);

/* A poll round starts at now: the next is due one interval later (or when
 * a hold ends, whichever is later). */
void ebcl_sched_round_started(ebcl_sched *s, uint64_t now);

/* True when a poll round is due at now. */
bool ebcl_sched_round_due(const ebcl_sched *s, uint64_t now);

/* True when a request may start at now (no back-off hold). */
bool ebcl_sched_may_request(const ebcl_sched *s, uint64_t now);

/* A request failed at now (network error, timeout, 5xx, 429) with a
 * Retry-After of retry_after_s seconds (0: none): the next request waits
 * the longest of the back-off delay, the activity interval (while polling)
 * and the Retry-After (CLIENT-POLL-7); the next round is due then. */
void ebcl_sched_failure(ebcl_sched *s, uint64_t now, unsigned retry_after_s);

/* A request succeeded: the back-off is reset (CLIENT-POLL-8). */
void ebcl_sched_success(ebcl_sched *s);

/* The activity changes at now (CLIENT-POLL-6): the next round is due one
 * new interval after the last round started, at once if that passed (never
 * before a hold ends). */
void ebcl_sched_set_activity(ebcl_sched *s, ebcl_activity a, uint64_t now);

/* The next moment anything of the scheduler is due: the next round (may be
 * <= now: due), or the end of a hold still ahead of now; UINT64_MAX when
 * none. */
uint64_t ebcl_sched_next_deadline(const ebcl_sched *s, uint64_t now);

/* Delay of the reconnect timer (CLIENT-RECONNECT-2): 120 s x scale moved
 * uniformly within +-10 % by u in [0,1); 5 s x scale with `every5s`. */
uint64_t ebcl_reconnect_delay(double scale, double u, bool every5s);

#endif
